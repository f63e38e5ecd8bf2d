"""Write a TDB file from fits or a Database: provenance header, atomic write, checked by re-reading.

:func:`write_tdb` builds the Database with :func:`~mixcalphad.calphad.database.to_database` (or
takes one), writes pycalphad's text after our provenance block
(:mod:`mixcalphad.calphad.provenance`), and before the file replaces anything re-reads it: the
header must parse back to what was meant, and every parameter must evaluate to the same value
(J/mol) at 1000 K and 2500 K.

Example
-------
>>> from mixcalphad.calphad.binary_fit import fit_binaries
>>> fits = fit_binaries(["AL", "CU", "NI"], predictor="default")        # doctest: +SKIP
>>> write_tdb(fits, "alcuni-liquid.tdb")                                 # doctest: +SKIP
>>> read_provenance("alcuni-liquid.tdb").binaries[0].origin            # doctest: +SKIP
'predicted'
"""
from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from mixcalphad._io import atomic_path
from mixcalphad.calphad.binary_fit import as_fits
from mixcalphad.calphad.database import solids_description, to_database
from mixcalphad.calphad.provenance import Provenance, read_provenance, with_references
from mixcalphad.data.store import utc_timestamp
from mixcalphad.data.tdb_read import read_database
from mixcalphad.errors import OutputExistsError, TDBError

logger = logging.getLogger(__name__)


def database_text(db) -> str:
    """pycalphad's TDB text of ``db`` (raises on names longer than 8 characters)."""
    from pycalphad.io.database import DatabaseExportError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            return db.to_string(fmt="tdb", if_incompatible="raise", groupby="phase")
    except (DatabaseExportError, UserWarning, ValueError) as exc:
        raise TDBError(f"pycalphad cannot write this database: {exc}") from None


def write_tdb(db_or_fits, path, *, force: bool = False, provenance: Provenance | None = None,
              elements: Iterable[str] = (), temperature_model=None,
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

            provenance = Provenance(mixcalphad_version=__version__, created=utc_timestamp(), model="unknown",
                                    temperature_model="unknown", fit="unknown", notes=tuple(notes))
    else:
        fits = as_fits(db_or_fits)
        db = to_database(fits, elements=elements, temperature_model=temperature_model, solids=solids)
        if provenance is None:
            provenance = Provenance.from_fits(fits, temperature_model=temperature_model,
                                              notes=(*notes, solids_description(solids)))
    info = (f"mixcalphad {provenance.mixcalphad_version}: LIQUID from enthalpies of mixing "
            f"({len(provenance.binaries)} binaries, Redlich-Kister, {provenance.temperature_model.split(':')[0]}); "
            "solids, where present, are IDEAL (no excess, no compounds); see the provenance comment block")
    text = provenance.text() + with_references(database_text(db), provenance, info=info)
    with atomic_path(path, overwrite=force) as tmp:
        tmp.write_text(text, encoding="ascii", errors="replace")
        if verify:
            _verify_written(tmp, db, provenance, label=str(path))
    logger.info("wrote %s (%d binaries)", path, len(provenance.binaries))
    return path


def _verify_written(tmp: Path, db, provenance: Provenance, label: str) -> None:
    text = tmp.read_text(encoding="ascii")
    back = read_provenance(text)
    if back != provenance:
        raise TDBError(f"{label}: the provenance header does not read back as written; nothing was written")
    db2 = read_database(text, label=label)
    temps = (1000.0, 2500.0)
    want, got = _parameter_values(db, temps), _parameter_values(db2, temps)
    if set(want) != set(got):
        missing = sorted(map(str, set(want) ^ set(got)))[:3]
        raise TDBError(f"{label}: parameters differ after re-reading (e.g. {missing}); nothing was written")
    for key, values in want.items():
        for i, T in enumerate(temps):
            a, b = sorted(v[i] for v in values), sorted(v[i] for v in got[key])
            if not _close(a, b):
                raise TDBError(f"{label}: {parameter_label(key)} = {a} J/mol at {T:g} K reads back as {b}; "
                               "nothing was written")


def _close(a: Sequence[float], b: Sequence[float]) -> bool:
    return len(a) == len(b) and all(abs(x - y) <= 1e-6 * max(1.0, abs(x)) for x, y in zip(a, b))


def parameter_key(p: Mapping) -> tuple:
    """Identity of a pycalphad parameter: (phase, type, sorted constituents per sublattice, order,
    diffusing species)."""
    return (p["phase_name"].upper(), p["parameter_type"].upper(),
            tuple(tuple(sorted(s.name for s in sub)) for sub in p["constituent_array"]),
            int(p["parameter_order"]), getattr(p["diffusing_species"], "name", None))


def parameter_label(key: tuple) -> str:
    """A :func:`parameter_key` as TDB writes it: ``L(LIQUID,AL,CU;0)``."""
    phase, ptype, array, order, _ = key
    return f"{ptype}({phase},{':'.join(','.join(sub) for sub in array)};{order})"


def all_parameters(db) -> list:
    """Every parameter record of ``db`` (pycalphad's public ``Database.search``)."""
    from tinydb import where

    return db.search(where("phase_name").exists())


def _parameter_values(db, temps: Sequence[float]) -> dict[tuple, list[tuple[float, ...]]]:
    """``{parameter key: [(value at each T, J/mol), …]}`` for every parameter, FUNCTIONs resolved.

    Each FUNCTION is evaluated once per temperature and cached: pycalphad's
    ``Model.symbol_replace`` re-expands every FUNCTION in every parameter and takes minutes on a
    file with thousands of them (192 s vs a few s for the 7431 parameters of the shipped TDB).
    """
    from pycalphad import variables as v

    out: dict[tuple, list[tuple[float, ...]]] = {}
    caches: list[dict] = [{} for _ in temps]
    for p in all_parameters(db):
        values = tuple(_evaluate(p["parameter"], db.symbols, T, cache, v.T) for T, cache in zip(temps, caches))
        out.setdefault(parameter_key(p), []).append(values)
    return out


def _evaluate(expr, symbols, T: float, cache: dict, Tsym) -> float:
    """Value of ``expr`` at ``T`` with FUNCTIONs substituted recursively (NaN when one is undefined)."""
    subs = {Tsym: T}
    for sym in expr.free_symbols:
        name = str(sym)
        if sym == Tsym or name == "P":
            continue
        if name not in cache:
            cache[name] = _evaluate(symbols[name], symbols, T, cache, Tsym) if name in symbols else float("nan")
        subs[sym] = cache[name]
    try:
        return float(expr.subs(subs))
    except (TypeError, RuntimeError, ValueError):
        return float("nan")
