"""Run plans: the runs a set of binaries needs, pure-element references shared between pairs.

A :class:`RunSpec` is one composition under one :class:`~mixcalphad.aimd.settings.RunSettings`; a
:class:`BinaryJob` is one ΔH_mix point (an alloy run and its two pure references); :func:`plan_runs`
deduplicates the references by their full settings key, so pure Ir at 2750 K serves every Ir–X pair
at 2750 K and the same time step. Temperature, time step and starting volume come from
:mod:`.protocol`.

Example
-------
>>> plan = plan_runs(["IR-AL", "IR-TI", "OS-AL"])
>>> plan.n_runs, plan.n_runs_unshared
(8, 9)
"""
from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from mixcalphad.chem.binaries import normalize_symbol, parse_system, system_name
from mixcalphad.errors import MixcalphadError, ProtocolError
from mixcalphad.aimd.protocol import (DEFAULT_GRID_K, DEFAULT_MARGIN_K, MELTING_EXPANSION, PROTOCOL,
                                      TemperatureChoice, md_timestep_fs, run_temperature, timestep_note,
                                      vegard_volume_A3)
from mixcalphad.aimd.settings import RunSettings, check_fraction, check_positive

log = logging.getLogger(__name__)


def composition_label(composition: Iterable[tuple[str, int]]) -> str:
    """``"AL50IR50"`` from ((AL, 50), (IR, 50))."""
    return "".join(f"{el}{n}" for el, n in composition)


@dataclass(frozen=True)
class RunSpec:
    """One MD run: a composition (atom counts) under some settings.

    Attributes
    ----------
    composition : tuple of (ELEMENT, count)
        Sorted by element; counts sum to ``settings.n_atoms``.
    settings : RunSettings
    """

    composition: tuple[tuple[str, int], ...]
    settings: RunSettings

    def __post_init__(self):
        comp = tuple(sorted((normalize_symbol(el), int(n)) for el, n in
                            (self.composition.items() if isinstance(self.composition, Mapping)
                             else self.composition) if int(n) > 0))
        object.__setattr__(self, "composition", comp)
        if sum(n for _, n in comp) != self.settings.n_atoms:
            raise ProtocolError(f"composition {dict(comp)} has {sum(n for _, n in comp)} atoms, "
                                f"settings say {self.settings.n_atoms}")

    @property
    def elements(self) -> tuple[str, ...]:
        return tuple(el for el, _ in self.composition)

    @property
    def is_pure(self) -> bool:
        return len(self.composition) == 1

    @property
    def mole_fractions(self) -> dict[str, float]:
        n = self.settings.n_atoms
        return {el: c / n for el, c in self.composition}

    @property
    def run_id(self) -> str:
        """Folder name: composition label and temperature, ``"AL50IR50_2750K"``; a time step other than
        the paper's 3 fs is added (``"BE50CU50_1400K_dt1.5"``) so runs at two time steps never share a
        folder."""
        dt = self.settings.potim_fs
        suffix = "" if dt is None or dt == PROTOCOL["potim_fs"] else f"_dt{dt:g}"
        return f"{composition_label(self.composition)}_{self.settings.T_K:.0f}K{suffix}"

    def key(self) -> str:
        """Identity of the run: composition plus the settings key restricted to its elements."""
        return json.dumps({"composition": dict(self.composition),
                           "settings": json.loads(self.settings.key(self.elements))},
                          sort_keys=True, separators=(",", ":"))

    def start_volume_A3(self, expansion: float = MELTING_EXPANSION) -> float:
        """Vegard starting volume of the whole cell, Å³."""
        return vegard_volume_A3(self.composition, expansion)

    def to_dict(self) -> dict:
        return {"run_id": self.run_id, "composition": dict(self.composition),
                "settings": self.settings.to_dict(), "key": self.key()}


@dataclass(frozen=True)
class BinaryJob:
    """One ΔH_mix point: an alloy run and its two pure-element reference runs.

    Attributes
    ----------
    system : str
        Sorted pair ``"AL-IR"``.
    x_B : float
        Mole fraction of the second element of the sorted pair in the alloy run (from atom counts).
    T_K : float
    alloy, pure_a, pure_b : str
        Run ids (:attr:`RunSpec.run_id`).
    temperature : TemperatureChoice
    potim_fs : float
        Time step of the three runs, fs (:func:`md_timestep_fs` unless the settings fix it).
    timestep_note : str
        Why (the lightest element, its mass and T).
    """

    system: str
    x_B: float
    T_K: float
    alloy: str
    pure_a: str
    pure_b: str
    temperature: TemperatureChoice
    potim_fs: float = PROTOCOL["potim_fs"]
    timestep_note: str = ""

    @property
    def job_id(self) -> str:
        return f"{self.system}_x{self.x_B:.3f}_{self.T_K:.0f}K"

    def to_dict(self) -> dict:
        return {"job_id": self.job_id, "system": self.system, "x_B": self.x_B, "T_K": self.T_K,
                "potim_fs": self.potim_fs, "timestep": self.timestep_note,
                "alloy": self.alloy, "pure_a": self.pure_a, "pure_b": self.pure_b,
                "temperature": self.temperature.to_dict()}


@dataclass(frozen=True)
class RunPlan:
    """Runs needed for a set of binaries, pure references deduplicated by their full settings key.

    Attributes
    ----------
    runs : tuple of RunSpec
        Unique runs (alloys and pure references).
    binaries : tuple of BinaryJob
    warnings : tuple of str
    """

    runs: tuple[RunSpec, ...]
    binaries: tuple[BinaryJob, ...]
    warnings: tuple[str, ...] = field(default=())

    @property
    def n_runs(self) -> int:
        return len(self.runs)

    @property
    def n_runs_unshared(self) -> int:
        """Runs without sharing pure references: three per ΔH_mix point."""
        return 3 * len(self.binaries)

    @property
    def runs_saved(self) -> int:
        return self.n_runs_unshared - self.n_runs

    def run(self, run_id: str) -> RunSpec:
        for spec in self.runs:
            if spec.run_id == run_id:
                return spec
        raise KeyError(run_id)

    def to_dict(self) -> dict:
        return {"n_runs": self.n_runs, "n_runs_unshared": self.n_runs_unshared,
                "runs_saved": self.runs_saved, "runs": [r.to_dict() for r in self.runs],
                "binaries": [b.to_dict() for b in self.binaries], "warnings": list(self.warnings)}

    def to_dataframe(self) -> pd.DataFrame:
        """One row per binary point: system, x_B, T_K and its three run ids."""
        return pd.DataFrame([{k: v for k, v in b.to_dict().items() if k != "temperature"}
                             for b in self.binaries])


def _optional_float(value, what: str, where: str) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == "":
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ProtocolError(f"{where}: {what} {value!r} is not a number") from None
    if not math.isfinite(out) or out <= 0:
        raise ProtocolError(f"{where}: {what} must be positive, got {value!r}")
    return out


def read_plan(path: str | Path) -> pd.DataFrame:
    """Read a plan CSV: a ``system`` column (``IR-AL``, ``AL-IR``…), optional ``T_K``, ``x_B`` (mole
    fraction of the second element of the *sorted* pair) and ``liquidus_K``; other columns (the
    acquisition plan's scores…) are kept and ignored.

    Raises
    ------
    ProtocolError
        No ``system`` column, or a line whose system or numbers cannot be read (names file and line).
    """
    path = Path(path)
    if not path.is_file():
        raise ProtocolError(f"plan file {path} does not exist")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise ProtocolError(f"plan file {path} is not a readable CSV: {exc}") from None
    if "system" not in frame.columns:
        raise ProtocolError(f"plan file {path} has no 'system' column (columns: {list(frame.columns)})")
    for i, row in frame.iterrows():
        where = f"{path}, line {i + 2}"
        try:
            frame.loc[i, "system"] = system_name(*parse_system(row["system"]))
        except MixcalphadError as exc:
            raise ProtocolError(f"{where}: {exc}") from None
        for col in ("T_K", "x_B", "liquidus_K"):
            if col in frame.columns:
                _optional_float(row[col], col, where)
    return frame


def _as_rows(systems) -> list[dict]:
    if isinstance(systems, (str, Path)) and Path(str(systems)).suffix.lower() == ".csv":
        systems = read_plan(systems)
    if isinstance(systems, pd.DataFrame):
        if "system" not in systems.columns:
            raise ProtocolError(f"plan has no 'system' column (columns: {list(systems.columns)})")
        return systems.to_dict("records")
    if isinstance(systems, str):
        systems = [systems]
    rows = []
    for item in systems:
        if isinstance(item, Mapping):
            rows.append(dict(item))
        elif isinstance(item, str):
            rows.append({"system": item})
        else:
            rows.append({"system": "-".join(item)})
    return rows


def plan_runs(systems, *, x_B: float | Sequence[float] = 0.5, n_atoms: int = 100,
              settings: RunSettings | None = None, margin_K: float = DEFAULT_MARGIN_K,
              grid_K: float = DEFAULT_GRID_K, T_K: float | None = None) -> RunPlan:
    """The runs a set of binaries needs, with shared pure-element references.

    Parameters
    ----------
    systems : list of str, DataFrame or path to a plan CSV
        Binaries such as ``["IR-AL", "OS-TI"]`` in any order and case, or a table with a ``system``
        column and optional ``T_K``, ``x_B``, ``liquidus_K`` (see :func:`read_plan`).
    x_B : float or sequence of float
        Mole fraction(s) of the second element of each sorted pair (default 0.5), rounded to whole
        atoms; a table's ``x_B`` column wins.
    n_atoms : int
        Atoms per run (100 in the paper).
    settings : RunSettings, optional
        A template for everything but T and N (the paper's protocol by default).
    margin_K, grid_K : float
        Temperature rule (:func:`run_temperature`).
    T_K : float, optional
        One temperature for all binaries (a table's ``T_K`` column wins).

    Returns
    -------
    RunPlan
        ``n_runs`` unique runs for ``len(binaries)`` points, ``runs_saved`` of the ``3 × points``.
    """
    template = settings or RunSettings()
    n_atoms = check_positive(n_atoms, "n_atoms", integer=True)
    if n_atoms < 2:
        raise ProtocolError(f"n_atoms must be at least 2 for an alloy run, got {n_atoms}")
    runs: dict[str, RunSpec] = {}
    jobs: dict[str, BinaryJob] = {}
    warnings: list[str] = []
    fractions = [x_B] if np.isscalar(x_B) else list(x_B)
    for row in _as_rows(systems):
        try:
            a, b = parse_system(row["system"])
        except MixcalphadError as exc:
            raise ProtocolError(str(exc)) from None
        where = f"system {a}-{b}"
        t_row = _optional_float(row.get("T_K"), "T_K", where) or T_K
        liq = _optional_float(row.get("liquidus_K"), "liquidus_K", where)
        choice = run_temperature(a, b, margin_K=margin_K, grid_K=grid_K, liquidus_K=liq, T_K=t_row)
        xs = [_optional_float(row.get("x_B"), "x_B", where)] if row.get("x_B") not in (None, "") else fractions
        potim = template.potim_fs or md_timestep_fs((a, b), choice.T_K)
        note = timestep_note((a, b), choice.T_K, potim)
        if potim < PROTOCOL["potim_fs"] and note not in warnings:
            warnings.append(f"{where}: {note}")
        run_settings = template.replace(T_K=choice.T_K, n_atoms=n_atoms, potim_fs=potim)
        for x in xs:
            if x is None:
                raise ProtocolError(f"{where}: x_B must lie strictly between 0 and 1, got {x}")
            check_fraction(x, f"{where}: x_B")
            n_b = int(round(float(x) * n_atoms))
            if n_b in (0, n_atoms):
                raise ProtocolError(f"{where}: x_B = {x} rounds to a pure element with {n_atoms} atoms")
            alloy = RunSpec(((a, n_atoms - n_b), (b, n_b)), run_settings)
            pure_a = RunSpec(((a, n_atoms),), run_settings)
            pure_b = RunSpec(((b, n_atoms),), run_settings)
            for spec in (alloy, pure_a, pure_b):
                old = runs.setdefault(spec.key(), spec)
                if old.run_id != spec.run_id:  # pragma: no cover - same key implies same id
                    raise ProtocolError(f"run id clash {old.run_id} / {spec.run_id}")
            ids = {s.run_id for s in runs.values()}
            if len(ids) != len(runs):
                raise ProtocolError(f"{where}: two runs with different settings share the folder name "
                                    f"{alloy.run_id}; use one settings template per plan")
            job = BinaryJob(f"{a}-{b}", n_b / n_atoms, choice.T_K, alloy.run_id, pure_a.run_id,
                            pure_b.run_id, choice, potim, note)
            if job.job_id in jobs:
                warnings.append(f"{where}: listed twice at x_B = {job.x_B:.3f}, T = {job.T_K:.0f} K; kept once")
                continue
            jobs[job.job_id] = job
            if abs(job.x_B - float(x)) > 1e-9:
                warnings.append(f"{where}: x_B = {x} rounded to {n_b}/{n_atoms} = {job.x_B:.3f}")
        for w in choice.warnings:
            if w not in warnings:
                warnings.append(w)
    for w in warnings:
        log.warning(w)
    return RunPlan(tuple(runs.values()), tuple(jobs.values()), tuple(warnings))


def paper_systems() -> list[str]:
    """The 29 binaries with an AIMD value in the founding paper's Table 1 (sorted pairs)."""
    from importlib import resources

    path = resources.files("mixcalphad") / "data" / "aimd_bizot2026.csv"
    with path.open("r", encoding="utf-8") as fh:
        table = pd.read_csv(fh, keep_default_na=False)
    rows = table[table["status"] == "value"]
    return [system_name(*parse_system(s)) for s in rows["pair"]]


def paper_plan(**kwargs) -> pd.DataFrame:
    """The paper's 29 binaries as a plan table with the paper's temperatures (``T_K``)."""
    from importlib import resources

    path = resources.files("mixcalphad") / "data" / "aimd_bizot2026.csv"
    with path.open("r", encoding="utf-8") as fh:
        table = pd.read_csv(fh, keep_default_na=False)
    rows = table[table["status"] == "value"]
    return pd.DataFrame({"system": [system_name(*parse_system(s)) for s in rows["pair"]],
                         "T_K": rows["T_K"].astype(float).to_numpy()})
