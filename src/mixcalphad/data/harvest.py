"""Harvest assessed ΔH_mix, excess Gibbs energy and excess entropy of binary liquids from TDB files.

Every binary LIQUID interaction between two pure elements in a TDB file is turned into
pycalphad's ``HM_MIX`` (J/mol of atoms, relative to the pure liquids) on a composition grid, by
default ``x_B = 0.1 … 0.9`` at 1873 K: the grid of ``shared/data/assessed_hmix_extra.csv``, so
that both corpora compare point by point. Beside it, the excess Gibbs energy ``GE_J`` and the
excess entropy ``SE_J`` of the same liquid (see *Values*).

Rules
-----
* **Reading.** Through :func:`mixcalphad.data.tdb_read.read_database`, the one TDB reader.
* **Which phase.** :func:`~mixcalphad.data.tdb_read.liquid_phases`: the phase named ``LIQUID``,
  else the phases whose name contains ``LIQ`` (``LIQUID_RENB`` in ``nbre_liu.tdb``); each is
  examined by the rules below and, where not harvested, skipped with a reason. A file with no
  such phase is skipped ("no liquid phase"). A phase other than ``LIQUID`` is named in the
  ``reference`` string (``… phase:LIQUID_RENB``).
* **Which liquids.** :func:`~mixcalphad.data.tdb_read.liquid_problem`, the one rule: one
  sublattice of pure elements, not ionic. Any other liquid is skipped *whole*: ``HM_MIX`` of a
  binary of pure elements in an associate liquid is not the ΔH_mix of that liquid.
* **Which binaries.** A pair of elements with at least one interaction parameter ``L`` or
  old-style ``G`` (any order) with exactly these two constituents. Ternary and higher
  interactions are ignored; a pair without an interaction is ideal by omission and not data.
  A pair is skipped with a reason when an element is not a constituent of the liquid, its unary
  ``G(LIQUID,A;0)`` is missing, a temperature lies outside the range of one of its parameters
  (pycalphad would silently evaluate that parameter as 0) or its ``HM_MIX`` refers to a symbol the
  file does not define.
* **Constituent order.** pycalphad sorts the constituents of a parameter when it reads it and
  does not flip the sign of odd-order terms: ``L(LIQUID,ZN,AL;1) = V`` is read, and harvested, as
  ``V·x_AL·x_ZN·(x_AL − x_ZN)``.
* **Values.** ``HM_MIX`` and ``GM_MIX`` of ``pycalphad.Model(db, [A, B], phase)`` evaluated with
  symengine; ``GE_J = GM_MIX − R·T·(x_A ln x_A + x_B ln x_B)`` (J/mol of atoms, ``x ln x`` := 0 at
  x = 0 or 1, R of pycalphad) and ``SE_J = (HM_MIX − GE_J)/T`` (J/(mol·K)). So
  ``L = a + bT + cT ln T`` contributes ``a − cT`` to ΔH_mix, ``a + bT + cT ln T`` to G_ex and
  ``−b − c(1 + ln T)`` to S_ex (each times its Redlich–Kister composition factor). Assessments
  carry no σ: ``sigma_J`` is NaN.
* **Identity.** Every row carries the file's SHA-256 (``checksum``); the store keys TDB rows by
  it, so two different files with one name are two sources. ``source`` is the file name, for
  display.
* **Corpus.** Folders contribute every ``*.tdb`` / ``*.TDB`` inside them and inside their
  subfolders (recursively); all files are read in sorted path order. A file that cannot be parsed
  is reported in ``failed`` and the harvest goes on. The same assessment in several files (ΔH_mix
  and G_ex curves both equal within :data:`DUPLICATE_TOLERANCE_J` at every grid point) counts
  once: the first file keeps it, the others are listed in ``duplicates``. Copies of one published
  assessment differ only by the rounding of their coefficients (up to 5.5 J/mol in ΔH_mix: Cu–Mg
  in COST507 and cumg.tdb; 4.7 J/mol in G_ex: Co–Cr in alcocrni.tdb and mc_fecocrnbti.tdb),
  different assessments by kJ/mol; different curves of one binary are all kept, as separate
  sources — also two with one ΔH_mix and different excess entropies.

The default corpus is the TDB files installed with pycalphad (``pycalphad/tests/databases``).
Its test fixtures need no exclusion list: ``parameter_filter_test.tdb`` and ``issue43.tdb`` have no
liquid; ``alnifcc4sl.tdb``, ``alni_tough_chempot.tdb`` and ``cumg_parameters.tdb`` hold
machine-fitted (rotis/ESPEI) liquids whose ΔH_mix is close to the published assessments, and are
kept as separate sources.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pycalphad
import symengine
from pycalphad import Database, Model
from pycalphad import variables as v
from tqdm.auto import tqdm

from mixcalphad.chem.binaries import system_name
from mixcalphad.data.assessed_liquid import AssessedLiquid, extract_assessed_liquid
from mixcalphad.data.tdb_read import (checksum, interaction_pairs, liquid_phases, liquid_problem, phase_parameters,
                                      read_bytes, read_database)
from mixcalphad.errors import TDBError

logger = logging.getLogger(__name__)

#: Two curves of one binary closer than this in ΔH_mix and in G_ex at every grid point (J/mol) are one
#: assessment.
DUPLICATE_TOLERANCE_J = 10.0
DEFAULT_T = 1873.0
"""Default temperature of the harvest grid, K (that of ``assessed_hmix_extra.csv``)."""

DEFAULT_X = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
"""Default mole fractions of the second element of the sorted pair."""

COLUMNS = ("system", "x_B", "T_K", "HM_MIX_J", "GE_J", "SE_J", "sigma_J", "kind", "source", "reference",
           "checksum")
"""Columns of every observation table returned here (``GE_J``: excess Gibbs energy, J/mol of atoms;
``SE_J``: excess entropy, J/(mol·K); ``checksum``: ``sha256:<hex>`` of the file)."""


@dataclass(frozen=True)
class HarvestResult:
    """ΔH_mix, G_ex and S_ex harvested from one TDB file.

    Attributes
    ----------
    path : Path
        The file read.
    observations : pandas.DataFrame
        One row per binary, temperature and composition, columns :data:`COLUMNS`;
        ``HM_MIX_J`` and ``GE_J`` in J/mol of atoms, ``SE_J`` in J/(mol·K), ``T_K`` in K.
    skipped : list of (str, str)
        ``(what, reason)`` for every liquid phase or binary not harvested.
    liquids : list of AssessedLiquid
        The interaction parameters of every harvested binary that can be carried whole (see
        :mod:`mixcalphad.data.assessed_liquid`; a pressure-dependent one cannot, and is logged).
    """

    path: Path
    observations: pd.DataFrame
    skipped: list[tuple[str, str]]
    liquids: list[AssessedLiquid] = field(default_factory=list)

    @property
    def systems(self) -> list[str]:
        """Sorted names (``"AL-CU"``) of the binaries harvested."""
        return sorted(self.observations["system"].unique())


@dataclass(frozen=True)
class Duplicate:
    """A binary whose curve in ``dropped`` equals the one already harvested from ``kept``."""

    system: str
    dropped: Path
    kept: Path


@dataclass(frozen=True)
class CorpusHarvest:
    """ΔH_mix harvested from several TDB files.

    Attributes
    ----------
    observations : pandas.DataFrame
        All files' observations (columns :data:`COLUMNS`) without duplicate assessments.
    files_read : list of Path
        Files parsed successfully, in the order read.
    failed : list of (Path, str)
        Files that could not be parsed, with the parser's message.
    skipped : list of (str, str)
        ``("<file name>: <what>", reason)`` for every liquid phase or binary not harvested.
    duplicates : list of Duplicate
        Binaries dropped because an earlier file holds the same curve.
    liquids : list of AssessedLiquid
        The parameters of the harvested (not duplicate) binaries that can be carried whole.
    """

    observations: pd.DataFrame
    files_read: list[Path]
    failed: list[tuple[Path, str]]
    skipped: list[tuple[str, str]]
    duplicates: list[Duplicate]
    liquids: list[AssessedLiquid] = field(default_factory=list)

    @property
    def systems(self) -> list[str]:
        """Sorted names of the distinct binaries harvested."""
        return sorted(self.observations["system"].unique())


def harvest_tdb(path, *, T=DEFAULT_T, x=DEFAULT_X) -> HarvestResult:
    """ΔH_mix, G_ex and S_ex of every binary liquid interaction between pure elements in one TDB file.

    Parameters
    ----------
    path : str or os.PathLike
        TDB file.
    T : float or sequence of float, optional
        Temperature(s), K. Default 1873 K.
    x : sequence of float, optional
        Mole fractions of the second element of the sorted pair, within [0, 1].
        Default 0.1, 0.2, …, 0.9.

    Returns
    -------
    HarvestResult

    Raises
    ------
    TDBError
        The file does not exist or pycalphad cannot parse it (the message names the file).
    """
    temps, xs = _check_grid(T, x)
    path = Path(path)
    data = read_bytes(path)
    db = read_database(data, label=str(path))
    digest = checksum(data)
    reference = _reference(path, digest)
    frames, skipped, done, liquids = [], [], set(), []
    phases = liquid_phases(db)
    if not phases:
        _skip(skipped, path, "LIQUID", "no liquid phase")
    for phase in phases:
        reason = liquid_problem(db, phase)
        if reason:
            _skip(skipped, path, phase, reason)
            continue
        phase_ref = reference if phase == "LIQUID" else f"{reference} phase:{phase}"
        pairs = interaction_pairs(db, phase)
        if not pairs:
            _skip(skipped, path, phase, "no binary interaction parameter")
        for pair in pairs:
            name = system_name(*pair)
            if name in done:
                _skip(skipped, path, f"{phase} {name}", "already harvested from another liquid phase")
                continue
            try:
                hm, ge = _mixing(db, phase, pair, temps, xs)
            except _Unusable as exc:
                _skip(skipped, path, f"{phase} {name}", str(exc))
                continue
            frames.append(_frame(name, temps, xs, hm, ge, path.name, phase_ref, digest))
            done.add(name)
            try:
                liquids.append(extract_assessed_liquid(db, phase, pair, source=path.name, reference=phase_ref,
                                                       checksum=digest))
            except TDBError as exc:
                logger.info("%s: %s harvested, its parameters cannot be carried whole: %s", path.name, name, exc)
    observations = pd.concat(frames, ignore_index=True) if frames else _empty()
    return HarvestResult(path=path, observations=observations, skipped=skipped, liquids=liquids)


def harvest_corpus(paths, *, T=DEFAULT_T, x=DEFAULT_X, progress=None) -> CorpusHarvest:
    """ΔH_mix of every binary liquid in a set of TDB files, each assessment counted once.

    Parameters
    ----------
    paths : str, os.PathLike or iterable of them
        TDB files and/or folders (each contributes the ``*.tdb`` / ``*.TDB`` files in it and in
        its subfolders). Files are read once each, in sorted path order.
    T : float or sequence of float, optional
        Temperature(s), K. Default 1873 K.
    x : sequence of float, optional
        Mole fractions of the second element of the sorted pair. Default 0.1 … 0.9.
    progress : bool or None, optional
        Show a tqdm bar over files: ``None`` (default) only on a terminal.

    Returns
    -------
    CorpusHarvest

    Raises
    ------
    TDBError
        A path does not exist, or no path yields any TDB file.
    """
    _check_grid(T, x)
    files = _collect_files(paths)
    frames, read, failed, skipped, duplicates, liquids = [], [], [], [], [], []
    kept: dict[str, list[tuple[Path, np.ndarray]]] = {}
    for path in tqdm(files, desc="harvest", unit="file", disable=None if progress is None else not progress):
        try:
            result = harvest_tdb(path, T=T, x=x)
        except TDBError as exc:
            logger.warning("%s", exc)
            failed.append((path, str(exc)))
            continue
        read.append(path)
        skipped += [(f"{path.name}: {what}", why) for what, why in result.skipped]
        for name, rows in result.observations.groupby("system", sort=False):
            curve = rows[["HM_MIX_J", "GE_J"]].to_numpy()
            same = next((p for p, c in kept.get(name, []) if np.allclose(curve, c, rtol=0.0, atol=DUPLICATE_TOLERANCE_J)), None)
            if same is not None:
                logger.info("%s: %s duplicates %s", path.name, name, same.name)
                duplicates.append(Duplicate(system=name, dropped=path, kept=same))
                continue
            kept.setdefault(name, []).append((path, curve))
            frames.append(rows)
            liquids += [liquid for liquid in result.liquids if liquid.system == name]
    observations = pd.concat(frames, ignore_index=True) if frames else _empty()
    return CorpusHarvest(observations=observations, files_read=read, failed=failed, skipped=skipped,
                         duplicates=duplicates, liquids=liquids)


def default_corpus_paths() -> list[Path]:
    """The ``*.tdb`` files installed with pycalphad (``pycalphad/tests/databases``), sorted.

    Raises
    ------
    TDBError
        pycalphad was installed without its test databases.
    """
    folder = _pycalphad_dir() / "tests" / "databases"
    files = sorted(folder.glob("*.tdb"))
    if not files:
        raise TDBError(f"{folder}: no TDB files installed with pycalphad")
    return files


class _Unusable(Exception):
    """A binary that cannot be harvested; the message is the reason."""


def _check_grid(T, x) -> tuple[np.ndarray, np.ndarray]:
    """Validated 1-D arrays of temperatures (K, > 0) and mole fractions (within [0, 1])."""
    temps = np.atleast_1d(np.asarray(T, dtype=float))
    xs = np.atleast_1d(np.asarray(x, dtype=float))
    if temps.ndim != 1 or not temps.size or not np.all(np.isfinite(temps) & (temps > 0)):
        raise ValueError(f"T must be one or more positive temperatures in K, got {T!r}")
    if xs.ndim != 1 or not xs.size or not np.all((xs >= 0) & (xs <= 1)):
        raise ValueError(f"x must be one or more mole fractions within [0, 1], got {x!r}")
    return temps, xs


def _collect_files(paths) -> list[Path]:
    """Sorted, distinct TDB files named by ``paths`` (files and folders)."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = [Path(p) for p in paths]
    files = set()
    for p in paths:
        if p.is_dir():
            files.update(f.resolve() for f in p.rglob("*") if f.is_file() and f.suffix in (".tdb", ".TDB"))
        elif p.is_file():
            files.add(p.resolve())
        else:
            raise TDBError(f"{p}: no such file or folder")
    if not files:
        raise TDBError(f"no TDB files in {', '.join(map(str, paths)) or 'an empty list of paths'}")
    return sorted(files)


def _pycalphad_dir() -> Path:
    return Path(pycalphad.__file__).resolve().parent


def _reference(path: Path, digest: str) -> str:
    """``"pycalphad <version>: tests/databases/<name>"`` or the absolute path, plus a short sha256."""
    full = path.resolve()
    try:
        where_ = f"pycalphad {pycalphad.__version__}: {full.relative_to(_pycalphad_dir()).as_posix()}"
    except ValueError:
        where_ = str(full)
    return f"{where_} {digest[:len('sha256:') + 12]}"


def _skip(skipped: list, path: Path, what: str, reason: str) -> None:
    logger.info("%s: skipped %s: %s", path.name, what, reason)
    skipped.append((what, reason))


def _mixing(db: Database, phase: str, pair: tuple[str, str], temps: np.ndarray,
            xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """HM_MIX and excess Gibbs energy of the binary liquid, J/mol of atoms, each of shape
    (len(temps) * len(xs),), T-major.

    Raises
    ------
    _Unusable
        The binary cannot be harvested (the message is the reason).
    """
    a, b = pair
    constituents = {s.name for s in db.phases[phase].constituents[0]}
    for el in pair:
        if el not in constituents:
            raise _Unusable(f"{el} is not a constituent of {phase}")
        if not any(r["parameter_type"] == "G" and r["parameter_order"] == 0
                   for r in phase_parameters(db, phase, (el,))):
            raise _Unusable(f"unary G({phase},{el};0) is missing")
    for r in phase_parameters(db, phase, pair):
        outside = [t for t in temps if not _covers(r["parameter"], t, db.symbols)]
        if outside:
            label = f"{r['parameter_type']}({phase},{a},{b};{r['parameter_order']})"
            raise _Unusable(f"T = {outside[0]:g} K is outside the temperature range of {label}")
    ya, yb = v.Y(phase, 0, a), v.Y(phase, 0, b)
    try:
        model = Model(db, [a, b], phase)
        exprs = {"HM_MIX": model.HM_MIX, "GM_MIX": model.GM_MIX}
    except Exception as exc:  # an unusual model pycalphad cannot build
        raise _Unusable(f"pycalphad cannot build the model: {type(exc).__name__}: {exc}") from None
    for prop, expr in exprs.items():
        unknown = sorted(str(s) for s in expr.free_symbols - {v.T, v.P, ya, yb})
        if unknown:
            raise _Unusable(f"undefined symbols in {prop}: {', '.join(unknown)}")
    tt, xx = np.meshgrid(temps, xs, indexing="ij")
    T, x_b = tt.ravel(), xx.ravel()
    points = np.column_stack([T, np.full(T.size, 101325.0), 1.0 - x_b, x_b])
    values = symengine.Lambdify([v.T, v.P, ya, yb], list(exprs.values()), real=True)(points)
    hm, gm = np.asarray(values, dtype=float).reshape(-1, 2).T
    return hm, gm - float(v.R) * T * (_x_ln_x(1.0 - x_b) + _x_ln_x(x_b))


def _x_ln_x(x: np.ndarray) -> np.ndarray:
    """x ln x, 0 at x = 0 (its limit)."""
    return np.where(x > 0.0, x * np.log(np.where(x > 0.0, x, 1.0)), 0.0)


def _covers(expr, T: float, symbols: dict) -> bool:
    """Whether the temperature ranges of ``expr`` and the FUNCTIONs it uses include ``T`` (K)."""
    if isinstance(expr, symengine.Piecewise):
        args = expr.args
        active = [(value, cond) for value, cond in zip(args[::2], args[1::2])
                  if cond.subs({v.T: T}) == symengine.true]
        if not active or (active[0][1] == symengine.true and len(args) > 2):
            return False  # no piece, or pycalphad's (0, True) fallback beyond the declared ranges
        expr = active[0][0]
    return all(_covers(symbols[s.name], T, symbols) for s in expr.free_symbols if s.name in symbols)


def _frame(name: str, temps, xs, hm, ge, source: str, reference: str, digest: str) -> pd.DataFrame:
    tt, xx = np.meshgrid(temps, xs, indexing="ij")
    return pd.DataFrame({
        "system": name, "x_B": xx.ravel(), "T_K": tt.ravel(), "HM_MIX_J": hm, "GE_J": ge,
        "SE_J": (hm - ge) / tt.ravel(), "sigma_J": np.nan,
        "kind": "assessed", "source": source, "reference": reference, "checksum": digest,
    }, columns=list(COLUMNS))


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=float if c in ("x_B", "T_K", "HM_MIX_J", "GE_J", "SE_J", "sigma_J") else object)
                         for c in COLUMNS})
