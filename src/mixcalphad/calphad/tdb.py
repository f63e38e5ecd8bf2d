"""TDB databases from Redlich–Kister fits: build, write (with provenance), and fill a user's file.

Three entry points:

* :func:`to_database` builds a self-contained pycalphad :class:`~pycalphad.Database` for any
  element set: ``ELEMENT`` lines, SGTE unary data (``GHSERxx`` FUNCTIONs, the LIQUID and the
  solid stable just below the melting point of each element, so pycalphad can compute a
  liquidus), and the LIQUID phase whose binary interactions ``L(LIQUID,A,B;n)`` are FUNCTIONs
  ``VV0000``, ``VV0001``… (the names ESPEI's MCMC refines).
* :func:`write_tdb` writes it atomically with a provenance header (``$`` comment lines before
  pycalphad's own output: mixcalphad and model versions, temperature model, data sources, per-
  binary origin and σ) and checks the file by re-reading it: the header must parse back to what
  was meant, and every parameter must evaluate to the same value.
* :func:`merge_into_tdb` adds LIQUID interactions to a user's TDB for the binaries it lacks,
  by inserting text (the user's comments and layout are kept; nothing is re-serialised), never
  touching an existing parameter or function, and checks that by re-reading both files.

Modelling choices (documented, not hidden)
------------------------------------------
* Unary data are SGTE 1991 (Dinsdale, Calphad 15 (1991) 317) as shipped in ``espei.refdata``:
  that copy has **no magnetic terms** (Fe melts at 1801 K instead of 1811 K). Its Eu liquid has
  overlapping temperature ranges (lower bounds 299.15/300.15 K instead of 400/1095 K); such ranges
  are made contiguous here, which gives a continuous G.
* Solid phases (``solids="sgte"``, the default) carry their SGTE names (``FCC_A1``, ``BCC_A2``…),
  one sublattice, no vacancy sublattice; elements sharing a structure form an **ideal** solid
  solution, elements of different structures do not dissolve in each other's solid.
  ``solids="pure"`` gives each element its own solid phase (no solid solubility at all, the usual
  assumption when only the liquid is described), ``solids="none"`` only the LIQUID. Only the solid
  stable just below the melting point is included (element table ``solid_phase``), not
  lower-temperature allotropes. The choice is written into the provenance notes.
* Interaction parameters and the liquid's unaries are valid from 298.15 K to 6000 K
  (:data:`T_MIN`, :data:`T_MAX`); pycalphad evaluates a parameter as 0 outside its range.
* An RK coefficient that is exactly zero is not written (ESPEI's MCMC cannot start a chain from 0).
* The written file has no ``ELEMENT /-`` line (ESPEI's ``generate_parameters`` crashes on it).

Example
-------
>>> from mixcalphad.calphad.redlich_kister import fit_binaries
>>> fits = fit_binaries(["AL", "CU", "NI"], predictor="default")        # doctest: +SKIP
>>> write_tdb(fits, "alcuni-liquid.tdb")                                 # doctest: +SKIP
>>> read_provenance("alcuni-liquid.tdb").binaries[0].origin            # doctest: +SKIP
'predicted'
"""
from __future__ import annotations

import datetime as _dt
import logging
import math
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence


from mixcalphad.chem.binaries import normalize_symbol, system_name
from mixcalphad.errors import OutputExistsError, TDBError, UnknownElementError
from mixcalphad._io import atomic_path
from mixcalphad.calphad.redlich_kister import (DEFAULT_SIGMA_J, ENTHALPY_ONLY, PREDICTION_EFFECTIVE_POINTS, PREDICTION_GRID,
                             BinaryFit, RKFit, TemperatureModel)

logger = logging.getLogger(__name__)

#: Lower and upper temperature limits written for interaction parameters, K.
T_MIN, T_MAX = 298.15, 6000.0
#: Phase every fit goes into.
LIQUID = "LIQUID"
#: Largest number of ``VV####`` symbols a file can hold (four digits).
MAX_SYMBOLS = 10000
_VV = re.compile(r"^VV(\d{4})$")
_BEGIN = "$ === mixcalphad provenance v1 ==="
_END = "$ === end of mixcalphad provenance ==="
_WIDTH = 78


# =========================================================================== unary data
def ghser_name(element: str) -> str:
    """Name of the SER Gibbs-energy FUNCTION of an element: ``'GHSER' + (el*2)[:2]`` (≤ 8 chars).

    >>> ghser_name("cu"), ghser_name("W")
    ('GHSERCU', 'GHSERWW')
    """
    el = normalize_symbol(element)
    return "GHSER" + (el * 2)[:2]


def _refdata():
    from espei.refdata import SGTE91, SGTE91SER, SGTE91Stable

    return SGTE91, SGTE91Stable, SGTE91SER


def _ghser_elements() -> dict[str, str]:
    """``{"GHSERCU": "CU", …}`` for every element with SGTE SER data."""
    _, stable, _ = _refdata()
    return {ghser_name(el): el for el in stable}


def _contiguous(expr, label: str):
    """A Piecewise in T with overlapping ranges made contiguous (each lower bound = previous upper)."""
    import symengine as se
    from pycalphad import variables as v

    if not isinstance(expr, se.Piecewise):
        return expr
    args = expr.args
    pieces, fallback = [], None
    for value, cond in zip(args[::2], args[1::2]):
        if cond == se.true:
            fallback = value
            continue
        bounds = _bounds(cond)
        if bounds is None:
            return expr  # not a plain T range: leave it to pycalphad
        pieces.append([value, *bounds])
    pieces.sort(key=lambda p: p[2])
    changed = False
    for prev, cur in zip(pieces, pieces[1:]):
        if cur[1] < prev[2]:
            cur[1] = prev[2]
            changed = True
    if not changed:
        return expr
    logger.info("%s: overlapping temperature ranges in the SGTE data made contiguous", label)
    new = [(value, se.And(v.T >= lo, v.T < hi)) for value, lo, hi in pieces]
    return se.Piecewise(*new, (fallback if fallback is not None else se.Integer(0), se.true))


def _bounds(cond) -> tuple[float, float] | None:
    """(lo, hi) of ``And(lo <= T, T < hi)``, or None."""
    import symengine as se
    from pycalphad import variables as v

    lo = hi = None
    parts = cond.args if isinstance(cond, se.And) else (cond,)
    for rel in parts:
        lhs, rhs = rel.args
        if isinstance(rel, se.StrictLessThan) and lhs == v.T and rhs.is_Number:
            hi = float(rhs)
        elif isinstance(rel, se.LessThan) and rhs == v.T and lhs.is_Number:
            lo = float(lhs)
        else:
            return None
    return (lo, hi) if lo is not None and hi is not None else None


@dataclass(frozen=True)
class Unary:
    """SGTE unary data of one element (expressions in pycalphad's symengine form).

    Attributes
    ----------
    element : str
    ser : dict
        ``ELEMENT``-line data: ``phase``, ``mass`` (g/mol), ``H298`` (J/mol), ``S298`` (J/mol/K).
    ghser : object
        G of the SER phase relative to SER (the ``GHSERxx`` FUNCTION), J/mol.
    liquid : object
        G of the pure liquid, J/mol (refers to ``GHSERxx``).
    solid_phase : str
        The solid stable just below the melting point.
    solid : object
        G of that solid, J/mol.
    """

    element: str
    ser: dict
    ghser: object
    liquid: object
    solid_phase: str
    solid: object


def unary(element: str) -> Unary:
    """SGTE unary data of ``element``.

    Raises
    ------
    UnknownElementError
        No SGTE liquid data for the element.
    """
    sgte, stable, ser = _refdata()
    el = normalize_symbol(element)
    if el not in stable or (el, LIQUID) not in sgte:
        raise UnknownElementError(el)
    from mixcalphad.chem.elements import element_table

    table = element_table()
    solid_phase = str(table.loc[el, "solid_phase"]) if el in table.index else ser[el]["phase"]
    if (el, solid_phase) not in sgte:
        solid_phase = ser[el]["phase"]
    solid = sgte.get((el, solid_phase))
    if solid is None:
        solid = stable[el]
    return Unary(element=el, ser=dict(ser[el]), ghser=_contiguous(stable[el], f"GHSER {el}"),
                 liquid=_contiguous(sgte[(el, LIQUID)], f"{el} LIQUID"), solid_phase=solid_phase,
                 solid=_contiguous(solid, f"{el} {solid_phase}"))


# =========================================================================== building
def _as_fits(fits) -> dict[str, BinaryFit]:
    """``{"AL-CU": BinaryFit}`` from a mapping (BinaryFit or RKFit values) or an iterable of BinaryFit."""
    if fits is None:
        return {}
    items = fits.items() if isinstance(fits, Mapping) else ((getattr(f, "system", None), f) for f in fits)
    out: dict[str, BinaryFit] = {}
    for key, value in items:
        if isinstance(value, RKFit):
            if key is None:
                raise TDBError("an RKFit needs its system: pass a mapping {'AL-CU': fit}")
            name = system_name(*re.split(r"[-_]", str(key)))
            value = BinaryFit(system=name, fit=value, origin="given", sigma_J=float("nan"))
        elif isinstance(value, BinaryFit):
            name = value.system
            if key is not None and system_name(*re.split(r"[-_]", str(key))) != name:
                raise TDBError(f"fit for {value.system} is stored under the key {key!r}")
        else:
            raise TDBError(f"expected BinaryFit or RKFit for {key!r}, got {type(value).__name__}")
        if name in out:
            raise TDBError(f"two fits for {name}")
        out[name] = value
    return dict(sorted(out.items()))


def _parameter_expr(symbol: str, temperature_model: TemperatureModel):
    import symengine as se
    from pycalphad import variables as v

    value = se.Symbol(symbol)
    if temperature_model.kind == "kaptay":
        value = value * (1 - v.T / se.RealDouble(temperature_model.tau_K))
    return se.Piecewise((value, se.And(v.T >= T_MIN, v.T < T_MAX)), (se.Integer(0), se.true))


def _interaction_terms(fits: Mapping[str, BinaryFit], first: int, taken: set[str] = frozenset()):
    """``[(system, n, symbol, value)]`` for every non-zero coefficient, symbols numbered from ``first``."""
    terms, k = [], first
    for name, fit in fits.items():
        for n, value in enumerate(fit.fit.coefficients):
            if value == 0.0 or not math.isfinite(value):
                if not math.isfinite(value):
                    raise TDBError(f"{name}: L{n} is not finite ({value})")
                continue
            while f"VV{k:04d}" in taken:
                k += 1
            if k >= MAX_SYMBOLS:
                raise TDBError(f"more than {MAX_SYMBOLS} VV#### symbols needed (at {name}); "
                               "split the element set into several files")
            terms.append((name, n, f"VV{k:04d}", float(value)))
            k += 1
    return terms


def interaction_symbols(fits, *, first_symbol: int = 0) -> dict[str, tuple[str, ...]]:
    """``{"AL-CU": ("VV0000", "VV0001", …)}``: the FUNCTIONs :func:`to_database` gives each binary."""
    out: dict[str, tuple[str, ...]] = {}
    for name, _, symbol, _ in _interaction_terms(_as_fits(fits), first_symbol):
        out[name] = out.get(name, ()) + (symbol,)
    return out


#: How :func:`to_database` describes the solids (see :func:`solids_description`).
SOLIDS = ("sgte", "pure", "none")


def _solids(solids) -> str:
    if solids is True:
        return "sgte"
    if solids is False or solids is None:
        return "none"
    if solids not in SOLIDS:
        raise TDBError(f"solids must be one of {list(SOLIDS)}, got {solids!r}")
    return solids


def solids_description(solids) -> str:
    """One ASCII line saying how the solids of a written TDB are modelled."""
    return {"sgte": "solids: SGTE solid stable below Tm of each element, phases shared by structure "
                    "(ideal solid solutions within a structure, no solubility across structures)",
            "pure": "solids: SGTE solid stable below Tm of each element as its own one-element phase "
                    "(no solid solubility)",
            "none": "solids: none (LIQUID only)"}[_solids(solids)]


def to_database(fits, *, elements: Iterable[str] = (), temperature_model: TemperatureModel = ENTHALPY_ONLY,
                solids="sgte", first_symbol: int = 0):
    """A self-contained pycalphad Database with the LIQUID described by ``fits``.

    Parameters
    ----------
    fits : mapping or iterable
        ``{"AL-CU": BinaryFit or RKFit}`` or an iterable of :class:`BinaryFit`; coefficients in
        J/mol for the sorted pair.
    elements : iterable of str, optional
        Elements to include beyond those of the fits (their binaries without a fit are ideal).
    temperature_model : TemperatureModel, optional
        How coefficients depend on T (default enthalpy-only, ``L_n = a_n``).
    solids : {"sgte", "pure", "none"} or bool, optional
        The solid stable just below each element's melting point (SGTE unary data), as
        ``"sgte"`` (default, True): phases named by structure (``FCC_A1``…) shared by the
        elements of that structure, which then form an *ideal* solid solution; ``"pure"``: one
        phase per element named ``<structure>_<element>`` (``FCC_A1_CU``), no solid solubility —
        the usual assumption when only the liquid is described; ``"none"`` (False): LIQUID only.
    first_symbol : int, optional
        Number of the first ``VV####`` symbol (default 0).

    Returns
    -------
    pycalphad.Database

    Raises
    ------
    UnknownElementError
        An element without SGTE unary data.
    TDBError
        Inconsistent fits, or more than 10000 coefficients.
    """
    import symengine as se
    from pycalphad import Database
    from pycalphad.variables import Species

    fits = _as_fits(fits)
    solids = _solids(solids)
    els = sorted({normalize_symbol(e) for e in elements} | {e for name in fits for e in name.split("-")})
    if not els:
        raise TDBError("no elements: give fits or elements")
    unaries = [unary(el) for el in els]
    db = Database()
    db.elements = set(els)
    db.species = {Species(el) for el in els}
    for u in unaries:
        db.refstates[u.element] = dict(u.ser)
        db.symbols[ghser_name(u.element)] = u.ghser
    _add_missing_ghser(db, [u.liquid for u in unaries] + ([u.solid for u in unaries] if solids != "none" else []))
    db.add_phase(LIQUID, {}, [1.0])
    db.add_phase_constituents(LIQUID, [els])
    for u in unaries:
        db.add_parameter("G", LIQUID, [[u.element]], 0, u.liquid, force_insert=False)
    if solids != "none":
        by_phase: dict[str, list[Unary]] = {}
        for u in unaries:
            name = u.solid_phase if solids == "sgte" else f"{u.solid_phase}_{u.element}"
            by_phase.setdefault(name, []).append(u)
        for phase, members in sorted(by_phase.items()):
            if phase.split("_")[0] == LIQUID:
                continue  # an element whose SER is its liquid and has no solid data
            db.add_phase(phase, {}, [1.0])
            db.add_phase_constituents(phase, [[u.element for u in members]])
            for u in members:
                db.add_parameter("G", phase, [[u.element]], 0, u.solid, force_insert=False)
    for name, n, symbol, value in _interaction_terms(fits, first_symbol):
        db.symbols[symbol] = se.RealDouble(value)
        db.add_parameter("L", LIQUID, [name.split("-")], n, _parameter_expr(symbol, temperature_model),
                         force_insert=False)
    db.process_parameter_queue()
    return db


def _add_missing_ghser(db, exprs) -> None:
    """Define every ``GHSERxx`` an expression refers to (SGTE data of other phases may)."""
    known = _ghser_elements()
    for expr in exprs:
        for sym in expr.free_symbols:
            name = str(sym)
            if name.startswith("GHSER") and name not in db.symbols:
                if name not in known:
                    raise TDBError(f"SGTE data refer to {name}, which espei.refdata does not define")
                db.symbols[name] = unary(known[name]).ghser


# =========================================================================== provenance
def _ascii(text: str) -> str:
    text = str(text).replace("Δ", "d").replace("σ", "sigma").replace("τ", "tau")
    return "".join(c if 32 <= ord(c) < 127 else "?" for c in text)


@dataclass(frozen=True)
class BinaryRecord:
    """Provenance of one binary in a written TDB (floats rounded to 0.1 J/mol)."""

    system: str
    origin: str
    sigma_J: float | None   # None when unknown
    order: int
    rms_J: float
    n_points: int
    sources: tuple[str, ...] = ()

    def __post_init__(self):
        sigma = None if self.sigma_J is None or math.isnan(float(self.sigma_J)) else _round(self.sigma_J)
        object.__setattr__(self, "sigma_J", sigma)
        object.__setattr__(self, "rms_J", _round(self.rms_J))
        object.__setattr__(self, "origin", _ascii(self.origin).replace(" ", "_"))
        object.__setattr__(self, "sources", tuple(_ascii(s).replace(";", ",").strip() for s in self.sources))

    def line(self) -> str:
        sigma = "nan" if self.sigma_J is None else f"{self.sigma_J:.1f}"
        return (f"$ binary: {self.system} origin={self.origin} sigma_J={sigma} order={self.order} "
                f"rms_J={self.rms_J:.1f} n={self.n_points} sources={'; '.join(self.sources)}")

    def to_dict(self) -> dict:
        return {"system": self.system, "origin": self.origin, "sigma_J": self.sigma_J, "order": self.order,
                "rms_J": self.rms_J, "n_points": self.n_points, "sources": list(self.sources)}

    @classmethod
    def from_dict(cls, data: Mapping) -> "BinaryRecord":
        return cls(system=data["system"], origin=data["origin"], sigma_J=data.get("sigma_J"),
                   order=int(data["order"]), rms_J=float(data["rms_J"]), n_points=int(data["n_points"]),
                   sources=tuple(data.get("sources", ())))


def _round(value) -> float:
    value = float(value)
    return value if math.isnan(value) else round(value, 1) + 0.0


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def default_fit_description() -> str:
    """How :func:`~mixcalphad.calphad.redlich_kister.fit_binary` fits, in one ASCII line."""
    sigmas = ", ".join(f"{k} {v:g}" for k, v in DEFAULT_SIGMA_J.items())
    return (f"Redlich-Kister on the sorted pair, order by AICc up to 3; points weighted 1/sigma^2, "
            f"sigma defaults (J/mol): {sigmas}; predictions on x_B = {PREDICTION_GRID[0]}..{PREDICTION_GRID[-1]} "
            f"({len(PREDICTION_GRID)} points) weighted together as {PREDICTION_EFFECTIVE_POINTS:g} "
            "independent measurement(s) of the model sigma; observations that alone support order 3 "
            "are fitted without predictions")


@dataclass(frozen=True)
class Provenance:
    """What a mixcalphad TDB (or a block added to a user's TDB) was made from.

    Written as ``$`` comment lines (:meth:`lines`) and read back by :func:`read_provenance`.

    Attributes
    ----------
    mixcalphad_version, created : str
        Package version and UTC time of writing.
    model : str
        ``"<class> <version>"`` of the predictor(s) used, ``"none"`` without one.
    temperature_model : str
        :meth:`TemperatureModel.describe` of the choice made.
    fit : str
        How the coefficients were fitted.
    data_sources : tuple of str
        One entry per source with the number of binaries it enters.
    binaries : tuple of BinaryRecord
        Per-binary origin (assessed / aimd / predicted…), σ, order, RMS residual, points, sources.
    notes : tuple of str
        Free text (commands used, skipped binaries…).
    """

    mixcalphad_version: str
    created: str
    model: str
    temperature_model: str
    fit: str
    data_sources: tuple[str, ...] = ()
    binaries: tuple[BinaryRecord, ...] = ()
    notes: tuple[str, ...] = ()

    def __post_init__(self):
        for name in ("mixcalphad_version", "created", "model", "temperature_model", "fit"):
            object.__setattr__(self, name, _ascii(getattr(self, name)).strip())
        for name in ("data_sources", "notes"):
            object.__setattr__(self, name, tuple(_ascii(s).strip() for s in getattr(self, name)))

    @classmethod
    def from_fits(cls, fits, *, temperature_model: TemperatureModel = ENTHALPY_ONLY, fit: str | None = None,
                  data_sources: Sequence[str] | None = None, notes: Sequence[str] = (),
                  model: str | None = None) -> "Provenance":
        """Provenance of a set of :class:`BinaryFit` (sources counted over the binaries)."""
        from mixcalphad import __version__

        fits = _as_fits(fits)
        records = tuple(BinaryRecord(system=name, origin=f.origin, sigma_J=f.sigma_J, order=f.fit.order,
                                     rms_J=f.fit.rms_J, n_points=f.fit.n_points, sources=f.sources)
                        for name, f in fits.items())
        if data_sources is None:
            counts = Counter(s for f in fits.values() for s in f.sources)
            data_sources = tuple(f"{s} ({n} binar{'y' if n == 1 else 'ies'})" for s, n in sorted(counts.items()))
        if model is None:
            models = sorted({f.model for f in fits.values() if f.model})
            model = "; ".join(models) if models else "none"
        return cls(mixcalphad_version=__version__, created=_now(), model=model,
                   temperature_model=temperature_model.describe(), fit=fit or default_fit_description(),
                   data_sources=tuple(data_sources), binaries=records, notes=tuple(notes))

    def lines(self) -> list[str]:
        """The header as ``$`` lines of at most 78 characters (long values continue on ``$ +`` lines)."""
        raw = [_BEGIN,
               "$ Enthalpy-of-mixing LIQUID description written by mixcalphad; read this block",
               "$ back with mixcalphad.calphad.tdb.read_provenance(path).",
               f"$ mixcalphad-version: {self.mixcalphad_version}",
               f"$ created: {self.created}",
               f"$ model: {self.model}",
               f"$ temperature-model: {self.temperature_model}",
               f"$ fit: {self.fit}"]
        raw += [f"$ source: {s}" for s in self.data_sources]
        raw += [f"$ note: {n}" for n in self.notes]
        raw += [b.line() for b in self.binaries]
        raw.append(_END)
        return [piece for line in raw for piece in _wrap(line)]

    def text(self, newline: str = "\n") -> str:
        return newline.join(self.lines()) + newline

    def to_dict(self) -> dict:
        return {"mixcalphad_version": self.mixcalphad_version, "created": self.created, "model": self.model,
                "temperature_model": self.temperature_model, "fit": self.fit,
                "data_sources": list(self.data_sources), "notes": list(self.notes),
                "binaries": [b.to_dict() for b in self.binaries]}

    @classmethod
    def from_dict(cls, data: Mapping) -> "Provenance":
        return cls(mixcalphad_version=data["mixcalphad_version"], created=data["created"], model=data["model"],
                   temperature_model=data["temperature_model"], fit=data["fit"],
                   data_sources=tuple(data.get("data_sources", ())), notes=tuple(data.get("notes", ())),
                   binaries=tuple(BinaryRecord.from_dict(b) for b in data.get("binaries", ())))

    def to_dataframe(self):
        """One row per binary (``system``, ``origin``, ``sigma_J``, ``order``, ``rms_J``, ``n_points``, ``sources``)."""
        import pandas as pd

        rows = [{**b.to_dict(), "sources": "; ".join(b.sources)} for b in self.binaries]
        return pd.DataFrame(rows, columns=["system", "origin", "sigma_J", "order", "rms_J", "n_points", "sources"])


def _wrap(line: str, width: int = _WIDTH) -> list[str]:
    out = []
    while len(line) > width:
        cut = line.rfind(" ", 4, width)
        if cut <= 4:
            cut = width
        out.append(line[:cut])
        line = "$ +" + line[cut:]
    out.append(line)
    return out


def read_provenance(source) -> Provenance | None:
    """The provenance block of a TDB written by mixcalphad (the first one), or None.

    Parameters
    ----------
    source : str or os.PathLike
        A path, or the TDB text itself (a string containing a newline).

    Raises
    ------
    TDBError
        The file cannot be read, or the block is malformed (the message names the line).
    """
    if isinstance(source, str) and "\n" in source:
        text, label = source, "TDB text"
    else:
        label = str(source)
        try:
            text = Path(source).read_bytes().decode("utf-8", errors="replace")
        except OSError as exc:
            raise TDBError(f"{source}: cannot read: {exc.strerror or exc}") from None
    return _blocks(text, label, first_only=True)


def read_provenance_blocks(source) -> list[Provenance]:
    """Every mixcalphad provenance block of a TDB (a filled file may hold several), in file order."""
    if isinstance(source, str) and "\n" in source:
        return _blocks(source, "TDB text", first_only=False)
    return _blocks(Path(source).read_bytes().decode("utf-8", errors="replace"), str(source), first_only=False)


def _blocks(text: str, label: str, first_only: bool):
    blocks, current, start = [], None, 0
    for number, line in enumerate(text.splitlines(), 1):
        line = line.rstrip("\r")
        if line.strip() == _BEGIN:
            current, start = [], number
        elif current is not None and line.strip() == _END:
            blocks.append(_parse_block(current, label, start))
            current = None
            if first_only:
                return blocks[0]
        elif current is not None:
            if line.startswith("$ +") and current:
                current[-1] = (current[-1][0], current[-1][1] + line[3:])
            elif line.startswith("$"):
                current.append((number, line))
            else:
                raise TDBError(f"{label}:{number}: non-comment line inside the mixcalphad provenance block")
    if current is not None:
        raise TDBError(f"{label}:{start}: mixcalphad provenance block is not closed")
    return None if first_only else blocks


def _parse_block(lines, label: str, start: int) -> Provenance:
    fields: dict[str, list[str]] = {}
    binaries = []
    for number, line in lines:
        body = line[1:].strip()
        key, sep, value = body.partition(": ")
        if not sep or " " in key:
            continue  # free text
        if key == "binary":
            binaries.append(_parse_binary(value, label, number))
        else:
            fields.setdefault(key, []).append(value)
    try:
        return Provenance(mixcalphad_version=fields["mixcalphad-version"][0], created=fields["created"][0],
                          model=fields["model"][0], temperature_model=fields["temperature-model"][0],
                          fit=fields["fit"][0], data_sources=tuple(fields.get("source", ())),
                          notes=tuple(fields.get("note", ())), binaries=tuple(binaries))
    except KeyError as exc:
        raise TDBError(f"{label}:{start}: mixcalphad provenance block lacks the field {exc.args[0]!r}") from None


def _parse_binary(value: str, label: str, number: int) -> BinaryRecord:
    head, sep, sources = value.partition(" sources=")
    parts = head.split()
    try:
        kv = dict(p.split("=", 1) for p in parts[1:])
        sigma = None if kv["sigma_J"] == "nan" else float(kv["sigma_J"])
        return BinaryRecord(system=parts[0], origin=kv["origin"], sigma_J=sigma,
                            order=int(kv["order"]), rms_J=float(kv["rms_J"]), n_points=int(kv["n"]),
                            sources=tuple(s for s in sources.split("; ") if s) if sep else ())
    except (KeyError, ValueError, IndexError):
        raise TDBError(f"{label}:{number}: malformed binary line in the mixcalphad provenance block: {value!r}") from None


# =========================================================================== writing
def _db_text(db) -> str:
    """pycalphad's TDB text of ``db`` (raises on names longer than 8 characters)."""
    from pycalphad.io.database import DatabaseExportError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            return db.to_string(fmt="tdb", if_incompatible="raise", groupby="phase")
    except (DatabaseExportError, UserWarning, ValueError) as exc:
        raise TDBError(f"pycalphad cannot write this database: {exc}") from None


def write_tdb(db_or_fits, path, *, force: bool = False, provenance: Provenance | None = None,
              elements: Iterable[str] = (), temperature_model: TemperatureModel = ENTHALPY_ONLY,
              solids="sgte", notes: Sequence[str] = (), verify: bool = True) -> Path:
    """Write a TDB file with a provenance header, atomically, checked by re-reading.

    Parameters
    ----------
    db_or_fits : pycalphad.Database, mapping or iterable of BinaryFit
        A Database (written as is) or fits (built with :func:`to_database`).
    path : str or os.PathLike
        Output file.
    force : bool
        Replace an existing file (default: refuse with :class:`OutputExistsError`).
    provenance : Provenance, optional
        Header to write; default :meth:`Provenance.from_fits` of the fits (required context for a
        Database: without it the header says only the versions).
    elements, temperature_model, solids
        Passed to :func:`to_database` when fits are given.
    notes : sequence of str
        Extra header notes (e.g. the command used); :func:`solids_description` is added when
        the header is made here.
    verify : bool
        Re-read the written file with pycalphad and :func:`read_provenance` before it replaces
        ``path`` (default True; about 20 s for all 2415 binaries of 70 elements).

    Returns
    -------
    Path

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``force`` is False (nothing is computed or written).
    TDBError
        pycalphad cannot write the database, or the re-read file differs (nothing is written).
    """
    from pycalphad import Database

    path = Path(path)
    if not force and path.exists():
        raise OutputExistsError(f"{path} exists; pass --force (force=True) to replace it")
    if isinstance(db_or_fits, Database):
        db = db_or_fits
        if provenance is None:
            from mixcalphad import __version__

            provenance = Provenance(mixcalphad_version=__version__, created=_now(), model="unknown",
                                    temperature_model="unknown", fit="unknown", notes=tuple(notes))
    else:
        fits = _as_fits(db_or_fits)
        db = to_database(fits, elements=elements, temperature_model=temperature_model, solids=solids)
        if provenance is None:
            provenance = Provenance.from_fits(fits, temperature_model=temperature_model,
                                              notes=(*notes, solids_description(solids)))
    text = provenance.text() + _db_text(db)
    with atomic_path(path, overwrite=force) as tmp:
        tmp.write_text(text, encoding="ascii", errors="replace")
        if verify:
            _verify_written(tmp, db, provenance, label=str(path))
    logger.info("wrote %s (%d binaries)", path, len(provenance.binaries))
    return path


def _parse_tdb_text(text: str, label: str):
    from pycalphad import Database

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:  # as Database(path) reads a file (universal newlines): pycalphad chokes on '\r'
            return Database.from_string(text.replace("\r\n", "\n").replace("\r", "\n"), fmt="tdb")
        except Exception as exc:  # pycalphad raises ParseException, ValueError, KeyError…
            message = " ".join(str(exc).split())
            raise TDBError(f"{label}: pycalphad cannot read it: {type(exc).__name__}: {message}") from None


def _verify_written(tmp: Path, db, provenance: Provenance, label: str) -> None:
    text = tmp.read_text(encoding="ascii")
    back = read_provenance(text)
    if back != provenance:
        raise TDBError(f"{label}: the provenance header does not read back as written; nothing was written")
    db2 = _parse_tdb_text(text, label)
    for T in (1000.0, 2500.0):
        want, got = _parameter_values(db, T), _parameter_values(db2, T)
        if set(want) != set(got):
            missing = sorted(map(str, set(want) ^ set(got)))[:3]
            raise TDBError(f"{label}: parameters differ after re-reading (e.g. {missing}); nothing was written")
        for key, value in want.items():
            if not _close(sorted(value), sorted(got[key])):
                raise TDBError(f"{label}: {_key_label(key)} = {value} J/mol at {T:g} K reads back as "
                               f"{got[key]}; nothing was written")


def _close(a: Sequence[float], b: Sequence[float]) -> bool:
    return len(a) == len(b) and all(abs(x - y) <= 1e-6 * max(1.0, abs(x)) for x, y in zip(a, b))


def _param_key(p: Mapping) -> tuple:
    return (p["phase_name"].upper(), p["parameter_type"].upper(),
            tuple(tuple(sorted(s.name for s in sub)) for sub in p["constituent_array"]),
            int(p["parameter_order"]), getattr(p["diffusing_species"], "name", None))


def _key_label(key: tuple) -> str:
    phase, ptype, array, order, _ = key
    return f"{ptype}({phase},{':'.join(','.join(sub) for sub in array)};{order})"


def _parameter_values(db, T: float) -> dict[tuple, list[float]]:
    """``{parameter key: [values at T (J/mol)]}`` for every parameter, symbols resolved."""
    from pycalphad import variables as v

    cache: dict[str, float] = {}
    out: dict[tuple, list[float]] = {}
    for p in db._parameters.all():
        out.setdefault(_param_key(p), []).append(_evaluate(p["parameter"], db.symbols, T, cache, v.T))
    return out


def _evaluate(expr, symbols, T: float, cache: dict, Tsym) -> float:
    subs = {Tsym: T}
    for sym in expr.free_symbols:
        name = str(sym)
        if sym == Tsym or name in ("P",):
            continue
        if name not in cache:
            if name not in symbols:
                cache[name] = float("nan")
            else:
                cache[name] = _evaluate(symbols[name], symbols, T, cache, Tsym)
        subs[sym] = cache[name]
    try:
        return float(expr.subs(subs))
    except (TypeError, RuntimeError, ValueError):
        return float("nan")


# =========================================================================== user TDB text
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
    """Pure-element constituents of the LIQUID, or TDBError if mixcalphad cannot extend it."""
    if LIQUID not in db.phases:
        others = sorted(p for p in db.phases if "LIQ" in p.upper())
        hint = f" (liquid-like phases: {', '.join(others)})" if others else ""
        raise TDBError(f"{path}: no phase named LIQUID{hint}; mixcalphad extends only a substitutional LIQUID")
    phase = db.phases[LIQUID]
    if len(phase.sublattices) != 1:
        raise TDBError(f"{path}: LIQUID has {len(phase.sublattices)} sublattices (ionic or sublattice liquid); "
                       "mixcalphad can only extend a one-sublattice substitutional liquid")
    if any(k.startswith("ionic_liquid") for k in phase.model_hints):
        raise TDBError(f"{path}: LIQUID is an ionic liquid model; mixcalphad cannot extend it")
    species = [s for s in phase.constituents[0] if s.name != "VA"]
    charged = sorted(s.name for s in species if s.charge != 0)
    if charged:
        raise TDBError(f"{path}: LIQUID holds charged species ({', '.join(charged)}); "
                       "mixcalphad cannot extend an ionic liquid")
    molecular = sorted(s.name for s in species if list(s.constituents.values()) != [1] or len(s.constituents) != 1)
    if molecular:
        raise TDBError(f"{path}: LIQUID holds associates or molecular species ({', '.join(molecular)}); "
                       "mixcalphad cannot extend an associate liquid")
    return sorted(s.name for s in species)


def _existing_binaries(db) -> set[str]:
    pairs = set()
    for p in db._parameters.all():
        if p["phase_name"].upper() != LIQUID or p["parameter_type"] not in ("L", "G"):
            continue
        array = p["constituent_array"]
        names = {s.name for s in array[0]} if len(array) == 1 else set()
        if len(array) == 1 and len(array[0]) == 2 and len(names) == 2 and "VA" not in names:
            pairs.add(system_name(*names))
    return pairs


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
    """
    from mixcalphad.chem.elements import supported_elements

    path = Path(user_path)
    text, _, _ = _read_user(path)
    db = _parse_tdb_text(text, str(path))
    liquid = _check_liquid(db, path)
    requested = sorted({normalize_symbol(e) for e in elements})
    for el in requested:
        unary(el)  # raises UnknownElementError without SGTE data
    new = tuple(el for el in requested if el not in liquid)
    supported = set(supported_elements() if supported is None else (normalize_symbol(e) for e in supported))
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
    """

    user_path: Path
    out_path: Path
    added: tuple[BinaryRecord, ...]
    symbols: dict = field(default_factory=dict)
    skipped: tuple[tuple[str, str], ...] = ()
    new_elements: tuple[str, ...] = ()
    first_symbol: str = ""

    def to_dict(self) -> dict:
        return {"user_tdb": str(self.user_path), "out": str(self.out_path),
                "added": [{**b.to_dict(), "symbols": list(self.symbols.get(b.system, ()))} for b in self.added],
                "skipped": [{"system": s, "reason": r} for s, r in self.skipped],
                "new_elements": list(self.new_elements), "first_symbol": self.first_symbol}

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


def merge_into_tdb(user_path, fits, out_path, *, elements: Iterable[str] = (), force: bool = False,
                   temperature_model: TemperatureModel = ENTHALPY_ONLY,
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
    user_path : str or os.PathLike
        The user's TDB (not modified).
    fits : mapping or iterable
        ``{"AG-CU": BinaryFit, …}`` (see :func:`fill_plan` for which binaries are wanted; fits of
        binaries the file already has are reported as skipped).
    out_path : str or os.PathLike
        Output TDB (may equal ``user_path`` with ``force``).
    elements : iterable of str
        Elements to bring into the LIQUID with their SGTE unary data.
    force : bool
        Replace an existing ``out_path``.
    temperature_model : TemperatureModel
        How the added coefficients depend on T.
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
    import symengine as se
    from pycalphad import Database
    from pycalphad.variables import Species

    user_path, out_path = Path(user_path), Path(out_path)
    if not force and out_path.exists():
        raise OutputExistsError(f"{out_path} exists; pass --force (force=True) to replace it")
    plan = fill_plan(user_path, elements, supported=supported)
    text, encoding, nl = _read_user(user_path)
    user_db = _parse_tdb_text(text, str(user_path))
    fits = _as_fits(fits)
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
    terms = _interaction_terms(chosen, first, taken=user_symbols)

    # the statements to add, printed by pycalphad from a small database
    mini = Database()
    all_liquid = sorted(set(plan.liquid_elements) | set(plan.new_elements))
    mini.elements = set(all_liquid)
    mini.species = {Species(el) for el in all_liquid}
    new_unaries = [unary(el) for el in plan.new_elements]
    for u in new_unaries:
        mini.refstates[u.element] = dict(u.ser)
        if ghser_name(u.element) not in user_symbols:
            mini.symbols[ghser_name(u.element)] = u.ghser
    for u in new_unaries:
        for sym in u.liquid.free_symbols:
            name = str(sym)
            if name.startswith("GHSER") and name not in user_symbols and name not in mini.symbols:
                mini.symbols[name] = unary(_ghser_elements()[name]).ghser
    mini.add_phase(LIQUID, {}, [1.0])
    mini.add_phase_constituents(LIQUID, [all_liquid])
    for u in new_unaries:
        mini.add_parameter("G", LIQUID, [[u.element]], 0, u.liquid, force_insert=False)
    for name, n, symbol, value in terms:
        mini.symbols[symbol] = se.RealDouble(value)
        mini.add_parameter("L", LIQUID, [name.split("-")], n, _parameter_expr(symbol, temperature_model),
                           force_insert=False)
    mini.process_parameter_queue()
    clash = sorted(set(mini.symbols) & user_symbols)
    if clash:
        raise TDBError(f"{user_path}: internal error: new FUNCTION names {clash} collide with the file's")
    mini_text = _db_text(mini)
    mini_statements = _statements(mini_text)
    pick = lambda kw, minimum: [mini_text[s.start:s.end] for s in mini_statements if _is(s.keyword, kw, minimum)]
    element_lines = [line for line in pick("ELEMENT", 4)
                     if line.split()[1] in plan.new_elements and line.split()[1] not in user_db.elements]

    notes = list(notes) + [f"added to {user_path.name}: {len(chosen)} LIQUID binaries"
                           + (f", new elements {' '.join(plan.new_elements)}" if plan.new_elements else "")]
    provenance = Provenance.from_fits(chosen, temperature_model=temperature_model, notes=notes) if chosen else \
        Provenance.from_fits({}, temperature_model=temperature_model, notes=notes)
    block = [""] + provenance.lines() + [""] + pick("FUNCTION", 4) + [""] + pick("PARAMETER", 4) + [""]

    merged = _insert(text, nl, user_path, element_lines, plan.new_elements, block)
    with atomic_path(out_path, overwrite=force) as tmp:
        tmp.write_bytes(merged.encode(encoding))
        _verify_merge(user_db, _parse_tdb_text(merged, str(out_path)), chosen, plan, str(out_path))
    symbols: dict[str, tuple[str, ...]] = {}
    for name, _, symbol, _ in terms:
        symbols.setdefault(name, ())
        symbols[name] += (symbol,)
    logger.info("%s: added %d binaries, %d skipped", out_path, len(chosen), len(skipped))
    return MergeReport(user_path=user_path, out_path=out_path, added=provenance.binaries, symbols=symbols,
                       skipped=tuple(sorted(set(skipped))), new_elements=plan.new_elements,
                       first_symbol=f"VV{first:04d}")


def _insert(text: str, nl: str, path: Path, element_lines: list[str], new_elements: Sequence[str],
            block: list[str]) -> str:
    """The user's text with the new ELEMENT lines, constituents and end block inserted."""
    statements = _statements(text)
    constituent = [s for s in statements if _is(s.keyword, "CONSTITUENT", 5)
                   and len(s.text.split()) > 1 and s.text.split()[1].split(":")[0].upper() == LIQUID]
    if not constituent:
        raise TDBError(f"{path}: cannot find the CONSTITUENT statement of LIQUID in the text")
    edits: list[tuple[int, str]] = []
    if new_elements:
        stmt = constituent[-1]
        body = stmt.text
        name = re.match(r"\S+\s+LIQUID(:[A-Za-z]+(?=\s))?", body, re.IGNORECASE)
        if name is None:
            raise TDBError(f"{path}: cannot read the LIQUID constituent list in {body!r}")
        after_name = name.end()
        open_colon = body.find(":", after_name)
        close_colon = body.find(":", open_colon + 1) if open_colon >= 0 else -1
        if open_colon < 0 or close_colon < 0:
            raise TDBError(f"{path}: cannot read the LIQUID constituent list in {body!r}")
        listed = body[open_colon + 1:close_colon]
        last = len(listed.rstrip())
        sep = "," if "," in listed or not listed.strip() else " "
        addition = (sep if listed.strip() else "") + sep.join(new_elements)
        position = stmt.offsets[open_colon + last] + 1 if last else stmt.offsets[open_colon] + 1
        edits.append((position, addition))
    if element_lines:
        elems = [s for s in statements if _is(s.keyword, "ELEMENT", 4)]
        limit = _line_start(text, constituent[-1].start)
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


def _line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def _line_end(text: str, offset: int) -> int:
    newline = text.find("\n", offset)
    return len(text) if newline < 0 else newline + 1


def _verify_merge(user_db, merged_db, chosen: Mapping[str, BinaryFit], plan: FillPlan, label: str) -> None:
    """Raise TDBError unless the merge only added: every user parameter, function and phase intact."""
    def grouped(db):
        out: dict[tuple, list] = {}
        for p in db._parameters.all():
            out.setdefault(_param_key(p), []).append(p["parameter"])
        return out

    before, after = grouped(user_db), grouped(merged_db)
    for key, exprs in before.items():
        if Counter(map(str, exprs)) != Counter(map(str, after.get(key, []))):
            raise TDBError(f"{label}: {_key_label(key)} of the user's file changed in the merge; nothing was written")
    for name, expr in user_db.symbols.items():
        if name not in merged_db.symbols or str(merged_db.symbols[name]) != str(expr):
            raise TDBError(f"{label}: FUNCTION {name} of the user's file changed in the merge; nothing was written")
    for name, phase in user_db.phases.items():
        new = merged_db.phases.get(name)
        if new is None or tuple(new.sublattices) != tuple(phase.sublattices):
            raise TDBError(f"{label}: phase {name} changed in the merge; nothing was written")
        grew = [set(n) - set(o) for o, n in zip(phase.constituents, new.constituents)]
        if any(not set(o) <= set(n) for o, n in zip(phase.constituents, new.constituents)) or \
                (name != LIQUID and any(grew)):
            raise TDBError(f"{label}: constituents of {name} changed in the merge; nothing was written")
    allowed_pairs = set(chosen)
    new_elements = set(plan.new_elements)
    for key in set(after) - set(before):
        phase, ptype, array, order, _ = key
        names = set(array[0]) if len(array) == 1 else set()
        ok = phase == LIQUID and len(array) == 1 and (
            (len(names) == 1 and names <= new_elements)
            or (len(names) == 2 and system_name(*names) in allowed_pairs))
        if not ok:
            raise TDBError(f"{label}: unexpected new parameter {_key_label(key)}; nothing was written")
    for name in allowed_pairs:
        a, b = name.split("-")
        clash = [k for k in before if k[0] == LIQUID and len(k[2]) == 1 and set(k[2][0]) == {a, b}]
        if clash:
            raise TDBError(f"{label}: {name} already has {_key_label(clash[0])}; nothing was written")
