"""Provenance of the TDB files mixcalphad writes: a ``$`` comment block, written and read back.

pycalphad's reader discards comments and references, so what a file was made from is kept in
our own block of ``$`` lines (:meth:`Provenance.lines`) before pycalphad's output (or at the end
of a filled user file): mixcalphad and model versions, temperature model, fit rule, data sources,
and per binary its origin (assessed / aimd / predicted…), σ (J/mol), order, RMS residual, the
convexity check (``convex``, ``constrained`` with the RMS change in J/mol, or ``gap``) and sources.
:func:`read_provenance` reads it back (None for a file without one).
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from mixcalphad.calphad.binary_fit import DEFAULT_SIGMA_J, LOWER_T_FRACTION, PREDICTION_GRID, as_fits
from mixcalphad.data.store import utc_timestamp
from mixcalphad.errors import TDBError

_BEGIN = "$ === mixcalphad provenance v1 ==="
_END = "$ === end of mixcalphad provenance ==="
_WIDTH = 78


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
    convexity: str = ""          # "convex", "constrained", "gap" or "" (not checked)
    constraint_rms_J: float = 0.0  # RMS change of ΔH_mix made by the convexity constraint, J/mol
    symbols: tuple[str, ...] = ()  # the VV#### FUNCTIONs holding this binary's coefficients
    kappa_per_K: float | None = None   # S_ex = kappa*H_ex (b_n = -kappa*a_n), 1/K; None: assessed whole
    sigma_S_J_K: float | None = None   # 1 sigma of S_ex at x_B = 0.5, J/(mol K); None when unknown

    def __post_init__(self):
        sigma = None if self.sigma_J is None or math.isnan(float(self.sigma_J)) else _round(self.sigma_J)
        object.__setattr__(self, "sigma_J", sigma)
        object.__setattr__(self, "rms_J", _round(self.rms_J))
        object.__setattr__(self, "constraint_rms_J", _round(self.constraint_rms_J))
        if self.kappa_per_K is not None:  # as written: 6 significant digits
            object.__setattr__(self, "kappa_per_K", float(f"{float(self.kappa_per_K):.6g}"))
        if self.sigma_S_J_K is not None:
            object.__setattr__(self, "sigma_S_J_K", float(f"{float(self.sigma_S_J_K):.3g}"))
        object.__setattr__(self, "origin", _ascii(self.origin).replace(" ", "_"))
        object.__setattr__(self, "sources", tuple(_ascii(s).replace(";", ",").strip() for s in self.sources))

    def line(self) -> str:
        sigma = "nan" if self.sigma_J is None else f"{self.sigma_J:.1f}"
        return (f"$ binary: {self.system} origin={self.origin} sigma_J={sigma} order={self.order} "
                f"rms_J={self.rms_J:.1f} n={self.n_points}"
                + (f" convex={self.convexity} drms_J={self.constraint_rms_J:.1f}" if self.convexity else "")
                + (f" kappa_per_K={self.kappa_per_K:.6g}" if self.kappa_per_K is not None else "")
                + (f" sigmaS_J_K={self.sigma_S_J_K:.3g}" if self.sigma_S_J_K is not None else "")
                + (f" symbols={','.join(self.symbols)}" if self.symbols else "")
                + f" sources={'; '.join(self.sources)}")

    def to_dict(self) -> dict:
        return {"system": self.system, "origin": self.origin, "sigma_J": self.sigma_J, "order": self.order,
                "rms_J": self.rms_J, "n_points": self.n_points, "sources": list(self.sources),
                "convexity": self.convexity, "constraint_rms_J": self.constraint_rms_J,
                "symbols": list(self.symbols), "kappa_per_K": self.kappa_per_K, "sigma_S_J_K": self.sigma_S_J_K}

    @classmethod
    def from_dict(cls, data: Mapping) -> "BinaryRecord":
        return cls(system=data["system"], origin=data["origin"], sigma_J=data.get("sigma_J"),
                   order=int(data["order"]), rms_J=float(data["rms_J"]), n_points=int(data["n_points"]),
                   sources=tuple(data.get("sources", ())), convexity=data.get("convexity", ""),
                   constraint_rms_J=float(data.get("constraint_rms_J", 0.0)),
                   symbols=tuple(data.get("symbols", ())), kappa_per_K=data.get("kappa_per_K"),
                   sigma_S_J_K=data.get("sigma_S_J_K"))


def _round(value) -> float:
    value = float(value)
    return value if math.isnan(value) else round(value, 1) + 0.0


def default_fit_description() -> str:
    """How :func:`~mixcalphad.calphad.binary_fit.fit_binary` fits, in one ASCII line."""
    sigmas = ", ".join(f"{k} {v:g}" for k, v in DEFAULT_SIGMA_J.items())
    return (f"Redlich-Kister on the sorted pair, order by AICc up to 3, fitted to each binary's posterior: "
            f"the model's prediction (prior) updated by the binary's own observations (Gaussian update, "
            f"mixcalphad.model.posterior), sampled on x_B = {PREDICTION_GRID[0]}..{PREDICTION_GRID[-1]} "
            f"({len(PREDICTION_GRID)} points); each curve (system, kind, source) weighs as one measurement "
            f"(sigma*sqrt(points)), sigma defaults (J/mol): {sigmas}; convex G_mix (no liquid spinodal) "
            f"enforced from {LOWER_T_FRACTION:g}*min(Tm) to 6000 K unless the data show a gap")


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
    def from_fits(cls, fits, *, temperature_model=None, fit: str | None = None,
                  data_sources: Sequence[str] | None = None, notes: Sequence[str] = (),
                  model: str | None = None, symbols: Mapping[str, Sequence[str]] | None = None) -> "Provenance":
        """Provenance of a set of :class:`BinaryFit` (sources counted over the binaries).

        ``symbols`` maps a binary to its ``VV####`` FUNCTIONs (default: numbered from VV0000 as
        :func:`~mixcalphad.calphad.database.to_database` numbers them)."""
        from mixcalphad.calphad.database import describe_temperature_models, fit_temperature_model, interaction_symbols

        from mixcalphad import __version__

        fits = as_fits(fits)
        symbols = interaction_symbols(fits, temperature_model=temperature_model) if symbols is None else symbols
        records = tuple(BinaryRecord(system=name, origin=f.origin, sigma_J=f.sigma_J,
                                     order=f.fit.order if f.assessed is None else f.assessed.order,
                                     rms_J=f.fit.rms_J if f.assessed is None else 0.0, n_points=f.fit.n_points,
                                     sources=f.sources if f.assessed is None else (f.assessed.reference, *f.sources[1:]),
                                     convexity=f.convexity.describe() if f.convexity is not None else "",
                                     constraint_rms_J=f.convexity.rms_change_J if f.convexity is not None else 0.0,
                                     symbols=tuple(symbols.get(name, ())),
                                     kappa_per_K=None if f.assessed is not None else
                                     fit_temperature_model(f, temperature_model).kappa,
                                     sigma_S_J_K=None if f.assessed is not None else
                                     fit_temperature_model(f, temperature_model).sigma_S_J_K)
                        for name, f in fits.items())
        if data_sources is None:
            counts = Counter(s for f in fits.values() for s in f.sources)
            data_sources = tuple(f"{s} ({n} binar{'y' if n == 1 else 'ies'})" for s, n in sorted(counts.items()))
        if model is None:
            models = sorted({f.model for f in fits.values() if f.model})
            model = "; ".join(models) if models else "none"
        return cls(mixcalphad_version=__version__, created=utc_timestamp(), model=model,
                   temperature_model=describe_temperature_models(fits, temperature_model),
                   fit=fit or default_fit_description(),
                   data_sources=tuple(data_sources), binaries=records, notes=tuple(notes))

    def lines(self) -> list[str]:
        """The header as ``$`` lines of at most 78 characters (long values continue on ``$ +`` lines)."""
        raw = [_BEGIN,
               "$ Enthalpy-of-mixing LIQUID description written by mixcalphad; read this block",
               "$ back with mixcalphad.read_provenance(path).",
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
        """One row per binary: ``system``, ``symbols`` (space-separated VV#### FUNCTIONs),
        ``origin``, ``sigma_J``, ``order``, ``rms_J``, ``n_points``, ``convexity``,
        ``constraint_rms_J``, ``sources`` — the map from a binary to what ESPEI refines."""
        import pandas as pd

        rows = [{**b.to_dict(), "sources": "; ".join(b.sources), "symbols": " ".join(b.symbols)}
                for b in self.binaries]
        return pd.DataFrame(rows, columns=["system", "symbols", "origin", "sigma_J", "order", "rms_J", "n_points",
                                           "convexity", "constraint_rms_J", "sources"])

    def symbols_of(self, binaries) -> tuple[str, ...]:
        """The ``VV####`` FUNCTIONs of the given binaries (``"AL-CU"`` or pairs), in file order.

        Raises
        ------
        TDBError
            A binary is not in this provenance.
        """
        from mixcalphad.chem.binaries import parse_system, system_name

        records = {b.system: b for b in self.binaries}
        out = []
        for item in binaries:
            name = system_name(*(parse_system(item) if isinstance(item, str) else item))
            if name not in records:
                raise TDBError(f"binary {name} is not described by this file (it has {len(records)} binaries)")
            out += records[name].symbols
        return tuple(out)


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
                            sources=tuple(s for s in sources.split("; ") if s) if sep else (),
                            convexity=kv.get("convex", ""), constraint_rms_J=float(kv.get("drms_J", 0.0)),
                            symbols=tuple(v for v in kv.get("symbols", "").split(",") if v),
                            kappa_per_K=float(kv["kappa_per_K"]) if "kappa_per_K" in kv else None,
                            sigma_S_J_K=float(kv["sigmaS_J_K"]) if "sigmaS_J_K" in kv else None)
    except (KeyError, ValueError, IndexError):
        raise TDBError(f"{label}:{number}: malformed binary line in the mixcalphad provenance block: {value!r}") from None



# =========================================================================== TDB references
#: Reference key of the SGTE unary data.
SGTE_REFERENCE = ("SGTE91", "A.T. Dinsdale, SGTE data for pure elements, Calphad 15 (1991) 317; "
                  "G as in espei.refdata, magnetic TC and BMAGN as in pycalphad COST507.tdb and alcocrni.tdb; "
                  "valid to 6000 K, last range written to 10000 K")
_GIVEN = ("MC0000", "parameter of a Database written as given; origin not recorded by mixcalphad")
_PARAMETER = re.compile(r"(PARAMETER\s+(\w+)\((\w+),([^;]+);(\d+)\)[^!]*?)\bN\s*!", re.IGNORECASE)


def reference_keys(provenance: "Provenance", *, prefix: str = "MC") -> dict[str, str]:
    """``{"AL-CU": "MC0001", …}``: the TDB reference key of every binary of ``provenance``."""
    return {b.system: f"{prefix}{i:04d}" for i, b in enumerate(provenance.binaries, 1)}


def _reference_text(b: BinaryRecord) -> str:
    sigma = "unknown" if b.sigma_J is None else f"{b.sigma_J:.0f} J/mol"
    convex = f", {b.convexity}" + (f" (dRMS {b.constraint_rms_J:.0f} J/mol)" if b.convexity == "constrained" else "")
    text = (f"mixcalphad {b.system} LIQUID: {b.origin}, sigma {sigma}, RK order {b.order}{convex}; "
            f"{', '.join(b.sources)}")
    # ' ends the quoted text, ! and $ end a TDB statement (an archive member is "file.tar.gz!path")
    return text.replace("'", "").replace("!", "/").replace("$", "")[:230]


def with_references(text: str, provenance: "Provenance", *, info: str | None = None,
                    keys: Mapping[str, str] | None = None) -> str:
    """TDB text with a reference key on every PARAMETER and a ``LIST_OF_REFERENCES`` at the end.

    ``L(LIQUID,A,B;n)`` gets its binary's key (:func:`reference_keys`: origin, σ, order, convexity
    and sources in the reference text), the unary ``G``, ``TC`` and ``BMAGN`` parameters
    :data:`SGTE_REFERENCE`, any other parameter a "written as given" key.
    ``info`` adds a ``DATABASE_INFO`` statement before the first ``ELEMENT``.
    """
    keys = reference_keys(provenance) if keys is None else dict(keys)
    used: set[str] = set()

    def add_key(match) -> str:
        ptype, constituents = match.group(2), match.group(4)
        names = sorted(c.strip().upper() for c in constituents.split(","))
        key = SGTE_REFERENCE[0]
        if ptype.upper() not in ("G", "TC", "BMAGN") or len(names) != 1:
            key = keys.get(f"{names[0]}-{names[1]}", _GIVEN[0]) if len(names) == 2 else _GIVEN[0]
        used.add(key)
        return f"{match.group(1)}N {key} !"

    body = _PARAMETER.sub(add_key, text)
    if info:
        at = body.find("ELEMENT")
        at = body.rfind("\n", 0, at) + 1 if at >= 0 else 0
        clean = _ascii(info).replace(chr(39), '').replace('$', '').replace('!', '.')  # both end a TDB statement
        body = body[:at] + f" DATABASE_INFO '{clean}' !\n" + body[at:]
    texts = {SGTE_REFERENCE[0]: SGTE_REFERENCE[1], _GIVEN[0]: _GIVEN[1]}
    texts.update({keys[b.system]: _reference_text(b) for b in provenance.binaries if b.system in keys})
    listed = [f"   {key}  '{texts[key]}'" for key in sorted(used) if key in texts]
    return body + "\n LIST_OF_REFERENCES\n NUMBER  SOURCE\n" + "\n".join(listed) + "\n !\n"
