"""Fill a user's TDB: add the LIQUID binaries it lacks, keeping the user's text byte for byte.

New elements also get solid phases (:mod:`mixcalphad.calphad.fill_solids`), never the LIQUID alone.

:func:`fill_plan` says which binaries a file lacks (and which it cannot get, with a reason);
:func:`merge_into_tdb` adds them by inserting text — ELEMENT lines of new elements, the new
elements in the LIQUID's CONSTITUENT statement, and one block at the end (provenance, FUNCTIONs,
PARAMETERs) printed by pycalphad from :func:`~mixcalphad.calphad.database.to_database`, the same
builder :func:`~mixcalphad.calphad.tdb_write.write_tdb` uses. An existing parameter or function is
never touched, and both files are re-read to check that.
"""
from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from mixcalphad._io import atomic_path
from mixcalphad.calphad.binary_fit import BinaryFit, as_fits
from mixcalphad.calphad.database import LIQUID, add_missing_ghser, interaction_symbols, to_database
from mixcalphad.calphad.fill_solids import SolidAddition, add_solids, extended_constituents, plan_solids
from mixcalphad.calphad.provenance import BinaryRecord, Provenance, with_references
from mixcalphad.calphad.tdb_write import database_text, parameter_label, parameter_key, all_parameters
from mixcalphad.calphad.unary import unary
from mixcalphad.chem.binaries import normalize_symbol, system_name
from mixcalphad.data.tdb_read import interaction_pairs, liquid_problem, read_database
from mixcalphad.errors import OutputExistsError, TDBError, UnsupportedElementError

logger = logging.getLogger(__name__)
_VV = re.compile(r"^VV(\d{4,5})$")


@dataclass(frozen=True)
class _Statement:
    """One ``!``-terminated TDB statement as pycalphad reads it (after ``$`` comments are cut)."""

    keyword: str
    text: str        # cleaned text without the '!'
    offsets: tuple   # original offset of every character of ``text``
    start: int       # offset of the first character
    end: int         # offset just after the '!'


def _statements(text: str) -> list[_Statement]:
    """Statements of a TDB text with their positions (pycalphad's rules: ``$`` starts a comment
    anywhere on a line, and anything after the first ``!`` of a line is ignored)."""
    out = []
    chars: list[str] = []
    offs: list[int] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        effective = body.split("$", 1)[0]
        bang = effective.find("!")
        piece = effective if bang < 0 else effective[:bang]
        if chars:
            chars.append(" ")
            offs.append(pos)
        chars.extend(piece)
        offs.extend(range(pos, pos + len(piece)))
        if bang >= 0:
            stmt = "".join(chars)
            stripped = stmt.strip()
            if stripped:
                lead = len(stmt) - len(stmt.lstrip())
                trail = len(stmt.rstrip())
                out.append(_Statement(keyword=stripped.split()[0].upper(), text=stmt[lead:trail],
                                      offsets=tuple(offs[lead:trail]), start=offs[lead], end=pos + bang + 1))
            chars, offs = [], []
        pos += len(line)
    return out


def _is(keyword: str, full: str, minimum: int) -> bool:
    return len(keyword) >= minimum and full.startswith(keyword)


@dataclass(frozen=True)
class FillPlan:
    """What :func:`merge_into_tdb` would add to a user's TDB.

    Attributes
    ----------
    path : Path
    liquid_elements : tuple of str
        Pure-element constituents of the file's LIQUID.
    new_elements : tuple of str
        Elements brought in (not yet LIQUID constituents).
    existing : tuple of str
        Binaries the LIQUID already describes (never altered).
    to_add : tuple of str
        Binaries to add (both elements supported, no interaction in the file).
    skipped : tuple of (str, str)
        ``(binary, reason)`` for binaries that will not be added.
    """

    path: Path
    liquid_elements: tuple[str, ...]
    new_elements: tuple[str, ...]
    existing: tuple[str, ...]
    to_add: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...] = ()


def _read_user(path) -> tuple[str, str, str]:
    """(text, encoding, newline) of a user's TDB file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TDBError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        text, encoding = data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = data.decode("latin-1"), "latin-1"
    return text, encoding, ("\r\n" if "\r\n" in text else "\n")


def _check_liquid(db, path) -> list[str]:
    """Pure-element constituents of the LIQUID, or TDBError if mixcalphad cannot extend it
    (the one rule: :func:`mixcalphad.data.tdb_read.liquid_problem`)."""
    problem = liquid_problem(db, LIQUID)
    if problem:
        raise TDBError(f"{path}: {problem}; mixcalphad can only extend a one-sublattice substitutional LIQUID")
    return sorted(s.name for s in db.phases[LIQUID].constituents[0] if s.name != "VA")


def _existing_binaries(db) -> set[str]:
    return {system_name(*pair) for pair in interaction_pairs(db, LIQUID)}


def fill_plan(user_path, elements: Iterable[str] = (), *, supported: Iterable[str] | None = None) -> FillPlan:
    """Which binaries :func:`merge_into_tdb` would add to ``user_path``.

    Parameters
    ----------
    user_path : str or os.PathLike
        The user's TDB.
    elements : iterable of str
        Elements to bring in beyond the LIQUID's own (with their SGTE unary data).
    supported : iterable of str, optional
        Elements mixcalphad can describe (default :func:`mixcalphad.chem.elements.supported_elements`);
        binaries with another element are skipped with a reason.

    Raises
    ------
    TDBError
        The file cannot be read or parsed, or its LIQUID cannot be extended.
    UnknownElementError
        A requested element has no SGTE unary data.
    UnsupportedElementError
        A requested element is outside mixcalphad's supported set (its binaries cannot be
        described; it is never added as an ideal liquid constituent).
    """
    from mixcalphad.chem.elements import supported_elements

    path = Path(user_path)
    text, _, _ = _read_user(path)
    db = read_database(text, label=str(path))
    liquid = _check_liquid(db, path)
    requested = sorted({normalize_symbol(e) for e in elements})
    supported = set(supported_elements() if supported is None else (normalize_symbol(e) for e in supported))
    for el in requested:
        unary(el)  # raises UnknownElementError without SGTE data
        if el not in supported and el not in liquid:
            # an element brought in without interactions would be an ideal liquid with every other one
            raise UnsupportedElementError(el, needed_by=f"fill {path.name} --elements {el}: mixcalphad "
                                          "cannot describe its binaries, so it is not added")
    new = tuple(el for el in requested if el not in liquid)
    existing = _existing_binaries(db)
    to_add, skipped = [], []
    everything = sorted(set(liquid) | set(new))
    for i, a in enumerate(everything):
        for b in everything[i + 1:]:
            name = system_name(a, b)
            if name in existing:
                continue
            outside = [el for el in (a, b) if el not in supported]
            if outside:
                skipped.append((name, f"{', '.join(outside)} not in mixcalphad's supported element set"))
            else:
                to_add.append(name)
    return FillPlan(path=path, liquid_elements=tuple(liquid), new_elements=new, existing=tuple(sorted(existing)),
                    to_add=tuple(to_add), skipped=tuple(skipped))


@dataclass(frozen=True)
class MergeReport:
    """What :func:`merge_into_tdb` did.

    Attributes
    ----------
    user_path, out_path : Path
    added : tuple of BinaryRecord
        Binaries added, with origin, σ, order, residual and sources.
    symbols : dict
        ``{"AG-CU": ("VV0012", "VV0013"), …}`` FUNCTIONs holding each added binary's coefficients.
    skipped : tuple of (str, str)
        ``(binary, reason)``: already in the file, unsupported element, no fit given.
    new_elements : tuple of str
        Elements brought into the LIQUID (with ELEMENT lines / GHSER functions where missing).
    first_symbol : str
        First ``VV####`` name used (after the user's own).
    solids : tuple of str
        The solid phase each new element was given (see :mod:`mixcalphad.calphad.fill_solids`).
    """

    user_path: Path
    out_path: Path
    added: tuple[BinaryRecord, ...]
    symbols: dict = field(default_factory=dict)
    skipped: tuple[tuple[str, str], ...] = ()
    new_elements: tuple[str, ...] = ()
    first_symbol: str = ""
    solids: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"user_tdb": str(self.user_path), "out": str(self.out_path),
                "added": [{**b.to_dict(), "symbols": list(self.symbols.get(b.system, ()))} for b in self.added],
                "skipped": [{"system": s, "reason": r} for s, r in self.skipped],
                "new_elements": list(self.new_elements), "first_symbol": self.first_symbol,
                "solids": list(self.solids)}

    def to_dataframe(self):
        """One row per binary: ``system``, ``status`` (added/skipped), ``origin``, ``sigma_J``,
        ``order``, ``rms_J``, ``n_points``, ``sources``, ``symbols``, ``reason``."""
        import pandas as pd

        rows = [{**b.to_dict(), "status": "added", "sources": "; ".join(b.sources),
                 "symbols": " ".join(self.symbols.get(b.system, ())), "reason": ""} for b in self.added]
        rows += [{"system": s, "status": "skipped", "reason": r} for s, r in self.skipped]
        columns = ["system", "status", "origin", "sigma_J", "order", "rms_J", "n_points", "sources", "symbols",
                   "reason"]
        return pd.DataFrame(rows, columns=columns)

    def to_csv(self, path, *, force: bool = False) -> Path:
        """Write :meth:`to_dataframe` as CSV atomically (refuses to overwrite unless ``force``)."""
        with atomic_path(path, overwrite=force) as tmp:
            self.to_dataframe().to_csv(tmp, index=False)
        return Path(path)


def merge_into_tdb(fits, user_path, out_path, *, elements: Iterable[str] = (), force: bool = False,
                   temperature_model=None,
                   supported: Iterable[str] | None = None, notes: Sequence[str] = ()) -> MergeReport:
    """Add LIQUID interactions for the binaries a user's TDB lacks; write the result to ``out_path``.

    The user's text is kept byte for byte except for three insertions: ``ELEMENT`` lines of new
    elements (after the last ``ELEMENT``), the new elements in the LIQUID's ``CONSTITUENT``
    statement, and one block at the end of the file (a provenance comment, FUNCTIONs ``VV####``
    numbered after the file's own, ``GHSERxx`` of new elements where missing, the new elements'
    ``G(LIQUID,X;0)`` and the added ``L(LIQUID,A,B;n)``). A binary that already has any LIQUID
    interaction (``L`` or old-style ``G``) is never touched. Before the output replaces anything
    it is re-read with pycalphad: every parameter and function of the user's file must be present
    unchanged and nothing new may touch a pre-existing binary.

    Parameters
    ----------
    fits : mapping or iterable
        ``{"AG-CU": BinaryFit, …}`` (see :func:`fill_plan` for which binaries are wanted; fits of
        binaries the file already has are reported as skipped). First, as in
        :func:`~mixcalphad.calphad.tdb_write.write_tdb` (what to write, then where).
    user_path : str or os.PathLike
        The user's TDB (not modified).
    out_path : str or os.PathLike
        Output TDB (may equal ``user_path`` with ``force``).
    elements : iterable of str
        Elements to bring into the LIQUID with their SGTE unary data.
    force : bool
        Replace an existing ``out_path``.
    temperature_model : TemperatureModel or rule, optional
        How the added coefficients depend on T: None (default): each fit's own :attr:`BinaryFit.temperature_model`
        (enthalpy-only where it has none); a TemperatureModel or rule overrides every fit.
    supported : iterable of str, optional
        See :func:`fill_plan`.
    notes : sequence of str
        Extra notes for the provenance block.

    Returns
    -------
    MergeReport

    Raises
    ------
    TDBError
        The file cannot be parsed, its LIQUID is multi-sublattice/ionic/associate, or the check
        after merging fails (nothing is written).
    OutputExistsError
        ``out_path`` exists and ``force`` is False.
    """
    if isinstance(fits, (str, Path)):
        raise TypeError("merge_into_tdb(fits, user_path, out_path): the fits come first, as in write_tdb")
    user_path, out_path = Path(user_path), Path(out_path)
    if not force and out_path.exists():
        raise OutputExistsError(f"{out_path} exists; pass --force (force=True) to replace it")
    plan = fill_plan(user_path, elements, supported=supported)
    text, encoding, nl = _read_user(user_path)
    user_db = read_database(text, label=str(user_path))
    fits = as_fits(fits)
    skipped = list(plan.skipped)
    skipped += [(name, "already in the file (never altered)") for name in fits if name in plan.existing]
    skipped += [(name, "not a binary of the file's LIQUID or the requested elements")
                for name in fits if name not in plan.existing and name not in plan.to_add
                and name not in dict(plan.skipped)]
    chosen = {name: fits[name] for name in plan.to_add if name in fits}
    skipped += [(name, "no fit given") for name in plan.to_add if name not in fits]

    user_symbols = {name.upper() for name in user_db.symbols}
    vv = [int(m.group(1)) for m in (_VV.match(n) for n in user_symbols) if m]
    first = max(vv) + 1 if vv else 0

    # the statements to add, printed by pycalphad from the one Database builder
    all_liquid = sorted(set(plan.liquid_elements) | set(plan.new_elements))
    mini = to_database(chosen, elements=all_liquid, temperature_model=temperature_model, solids="none",
                       first_symbol=first, unary_elements=plan.new_elements, defined_symbols=user_symbols)
    clash = sorted(set(mini.symbols) & user_symbols)
    if clash:
        raise TDBError(f"{user_path}: internal error: new FUNCTION names {clash} collide with the file's")
    symbols = interaction_symbols(chosen, first_symbol=first, taken=user_symbols, temperature_model=temperature_model)
    solids = plan_solids(user_db, plan.new_elements)
    add_missing_ghser(mini, add_solids(mini, user_db, solids), defined=user_symbols)
    notes = list(notes) + [f"added to {user_path.name}: {len(chosen)} LIQUID binaries"
                           + (f", new elements {' '.join(plan.new_elements)}" if plan.new_elements else "")]
    notes += [f"solid: {s.describe()}" for s in solids]
    provenance = Provenance.from_fits(chosen, temperature_model=temperature_model, notes=notes, symbols=symbols)
    mini_text = database_text(mini)
    references = "LIST_OF_REFERENCES" not in text.upper()  # never a second list in the user's file
    if references:
        mini_text = with_references(mini_text, provenance)
    mini_statements = _statements(mini_text)
    pick = lambda kw, minimum: [mini_text[s.start:s.end] for s in mini_statements if _is(s.keyword, kw, minimum)]
    element_lines = [line for line in pick("ELEMENT", 4)
                     if line.split()[1] in plan.new_elements and line.split()[1] not in user_db.elements]
    new_phases = {s.phase for s in solids if s.action == "new"}
    phase_lines = _new_phase_lines(mini_text, new_phases, taken=_type_chars(_statements(text)))
    block = ([""] + provenance.lines() + [""] + pick("FUNCTION", 4) + [""] + phase_lines + [""]
             + pick("PARAMETER", 4) + [""])
    if references:
        block += [mini_text[mini_text.index(" LIST_OF_REFERENCES"):].rstrip("\n")]

    grow = {LIQUID: list(plan.new_elements), **extended_constituents(solids)}
    merged = _insert(text, nl, user_path, element_lines, {k: v for k, v in grow.items() if v}, block)
    with atomic_path(out_path, overwrite=force) as tmp:
        tmp.write_bytes(merged.encode(encoding))
        _verify_merge(user_db, read_database(merged, label=str(out_path)), chosen, plan, solids, str(out_path))
    logger.info("%s: added %d binaries, %d skipped", out_path, len(chosen), len(skipped))
    return MergeReport(user_path=user_path, out_path=out_path, added=provenance.binaries, symbols=symbols,
                       skipped=tuple(sorted(set(skipped))), new_elements=plan.new_elements,
                       solids=tuple(s.describe() for s in solids), first_symbol=f"VV{first:04d}")


#: Type-definition characters, in the order pycalphad hands them out.
_TYPE_CHARS = "^&*()'ABCDEFGHIJKLMNOPQSRTUVWXYZ"


def _type_chars(statements: Sequence[_Statement]) -> set[str]:
    """Type-definition characters a TDB text defines or gives its phases (``%`` included)."""
    used = {"%"}
    for s in statements:
        tokens = s.text.split()
        if _is(s.keyword, "TYPE_DEFINITION", 4) and len(tokens) > 1:
            used.add(tokens[1])
        elif _is(s.keyword, "PHASE", 5) and len(tokens) > 2:
            used.update(tokens[2])
    return used


def _new_phase_lines(text: str, phases: set[str], taken: set[str]) -> list[str]:
    """The ``TYPE_DEFINITION``, ``PHASE`` and ``CONSTITUENT`` statements of ``phases`` in ``text``
    (printed by pycalphad), each type character renamed to one not in ``taken`` (the user's file's)."""
    free = [c for c in _TYPE_CHARS if c not in taken]
    rename: dict[str, str] = {}
    typedefs, lines = [], []
    for s in _statements(text):
        tokens = s.text.split()
        statement = text[s.start:s.end]
        if _is(s.keyword, "TYPE_DEFINITION", 4) and len(tokens) > 4 and tokens[4].upper() in phases:
            if not free:
                raise TDBError("the file uses every type-definition character mixcalphad can give a new "
                               f"phase ({_TYPE_CHARS})")
            rename[tokens[1]] = free.pop(0)
            typedefs.append(statement.replace(f" {tokens[1]} ", f" {rename[tokens[1]]} ", 1))
        elif (_is(s.keyword, "PHASE", 5) or _is(s.keyword, "CONSTITUENT", 5)) and len(tokens) > 2 \
                and tokens[1].split(":")[0].upper() in phases:
            lines.append((s.keyword, tokens, statement))
    out = []
    for keyword, tokens, statement in lines:
        if _is(keyword, "PHASE", 5):
            code = "".join(rename.get(c, c) for c in tokens[2])
            statement = statement.replace(f" {tokens[2]} ", f" {code} ", 1)
        out.append(statement)
    return typedefs + out


def _insert(text: str, nl: str, path: Path, element_lines: list[str], grow: Mapping[str, Sequence[str]],
            block: list[str]) -> str:
    """The user's text with the new ELEMENT lines, the first-sublattice constituents ``grow``
    (``{phase: [elements]}``, LIQUID included) and the end block inserted."""
    statements = _statements(text)
    edits: list[tuple[int, str]] = []
    liquid_constituent = None
    for phase in sorted(set(grow) | {LIQUID}):
        found = [s for s in statements if _is(s.keyword, "CONSTITUENT", 5)
                 and len(s.text.split()) > 1 and s.text.split()[1].split(":")[0].upper() == phase]
        if not found:
            raise TDBError(f"{path}: cannot find the CONSTITUENT statement of {phase} in the text")
        if phase == LIQUID:
            liquid_constituent = found[-1]
        if grow.get(phase):
            edits.append(_constituent_edit(found[-1], phase, grow[phase], path))
    if element_lines:
        elems = [s for s in statements if _is(s.keyword, "ELEMENT", 4)]
        limit = _line_start(text, liquid_constituent.start)
        phase = [s for s in statements if _is(s.keyword, "PHASE", 5) and len(s.text.split()) > 1
                 and s.text.split()[1].split(":")[0].upper() == LIQUID]
        if phase:
            limit = min(limit, _line_start(text, phase[0].start))
        position = _line_end(text, elems[-1].end) if elems else 0
        position = min(position, limit)
        chunk = nl.join(" " + line for line in element_lines) + nl
        if position > 0 and text[position - 1] not in "\r\n":
            chunk = nl + chunk
        edits.append((position, chunk))
    tail = nl.join(line.replace("\n", nl) for line in block) + nl
    edits.append((len(text), ("" if text.endswith(("\n", "\r")) else nl) + tail))
    for position, addition in sorted(edits, key=lambda e: e[0], reverse=True):
        text = text[:position] + addition + text[position:]
    return text


def _constituent_edit(stmt: _Statement, phase: str, elements: Sequence[str], path: Path) -> tuple[int, str]:
    """``(offset, text)`` that appends ``elements`` to the first sublattice of a CONSTITUENT statement."""
    body = stmt.text
    name = re.match(r"\S+\s+" + re.escape(phase) + r"(:[A-Za-z]+(?=\s))?", body, re.IGNORECASE)
    if name is None:
        raise TDBError(f"{path}: cannot read the {phase} constituent list in {body!r}")
    open_colon = body.find(":", name.end())
    close_colon = body.find(":", open_colon + 1) if open_colon >= 0 else -1
    if open_colon < 0 or close_colon < 0:
        raise TDBError(f"{path}: cannot read the {phase} constituent list in {body!r}")
    listed = body[open_colon + 1:close_colon]
    last = len(listed.rstrip())
    sep = "," if "," in listed or not listed.strip() else " "
    addition = (sep if listed.strip() else "") + sep.join(elements)
    position = stmt.offsets[open_colon + last] + 1 if last else stmt.offsets[open_colon] + 1
    return position, addition


def _line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def _line_end(text: str, offset: int) -> int:
    newline = text.find("\n", offset)
    return len(text) if newline < 0 else newline + 1


def _verify_merge(user_db, merged_db, chosen: Mapping[str, BinaryFit], plan: FillPlan,
                  solids: Sequence[SolidAddition], label: str) -> None:
    """Raise TDBError unless the merge only added: every user parameter, function and phase intact;
    constituents grown and parameters added only as planned (LIQUID binaries, new elements' solids)."""
    def grouped(db):
        out: dict[tuple, list] = {}
        for p in all_parameters(db):
            out.setdefault(parameter_key(p), []).append(p["parameter"])
        return out

    before, after = grouped(user_db), grouped(merged_db)
    for key, exprs in before.items():
        if Counter(map(str, exprs)) != Counter(map(str, after.get(key, []))):
            raise TDBError(f"{label}: {parameter_label(key)} of the user's file changed in the merge; "
                           "nothing was written")
    for name, expr in user_db.symbols.items():
        if name not in merged_db.symbols or str(merged_db.symbols[name]) != str(expr):
            raise TDBError(f"{label}: FUNCTION {name} of the user's file changed in the merge; nothing was written")
    new_elements = set(plan.new_elements)
    grow = {LIQUID: new_elements, **{k: set(v) for k, v in extended_constituents(solids).items()}}
    for name, phase in user_db.phases.items():
        new = merged_db.phases.get(name)
        if new is None or tuple(new.sublattices) != tuple(phase.sublattices):
            raise TDBError(f"{label}: phase {name} changed in the merge; nothing was written")
        grew = [{s.name for s in n} - {s.name for s in o} for o, n in zip(phase.constituents, new.constituents)]
        if any(not set(o) <= set(n) for o, n in zip(phase.constituents, new.constituents)) or \
                any(grew[1:]) or not grew[0] <= grow.get(name, set()):
            raise TDBError(f"{label}: constituents of {name} changed in the merge; nothing was written")
    solid_keys = {(s.phase, s.element) for s in solids}
    for key in set(after) - set(before):
        phase, ptype, array, order, _ = key
        names = set(array[0])
        liquid_ok = phase == LIQUID and len(array) == 1 and (
            (len(names) == 1 and names <= new_elements)
            or (len(names) == 2 and system_name(*names) in chosen))
        solid_ok = (ptype in ("G", "TC", "BMAGN") and len(names) == 1 and (phase, next(iter(names))) in solid_keys
                    and all(set(sub) == {"VA"} for sub in array[1:]))
        if not (liquid_ok or solid_ok):
            raise TDBError(f"{label}: unexpected new parameter {parameter_label(key)}; nothing was written")
    for name in chosen:
        a, b = name.split("-")
        clash = [k for k in before if k[0] == LIQUID and len(k[2]) == 1 and set(k[2][0]) == {a, b}]
        if clash:
            raise TDBError(f"{label}: {name} already has {parameter_label(clash[0])}; nothing was written")
