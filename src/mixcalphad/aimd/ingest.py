"""Finished run folders → status, the next volume stage, ΔH_mix, and the store.

* :func:`runs_status` — per run of a prepared runs folder: ``missing`` (no output yet),
  ``volume-search`` (stages running or a next stage to write), ``production-ready`` (POSCAR at the
  accepted volume, not started), ``production-running`` (fewer steps than NSW), ``production-done``,
  or ``failed`` — with the reason (unreadable output, INCAR edited away from the protocol, search
  not converging…).
* :func:`advance_runs` — writes the next volume stage (linear p(V) step, ±10 %) or, once a stage is
  accepted (|p̄| < 2 kbar, SEM < 1 kbar), the production POSCAR (its CONTCAR, velocities kept).
* :func:`hmix_from_folders` — ΔH_mix from three run folders (prepared layout or plain output folders).
* :func:`ingest_vasp_runs` — every finished binary of a runs folder into a :class:`~mixcalphad.data.store.Store`:
  idempotent (the reference records SHA-256 checksums of the files read), all-or-nothing per binary
  (everything is computed and checked against the store before anything is written), with the
  source (code, version, settings key, files). Binaries with blocking flags (pressure window, short,
  not liquid…) are reported and left out unless ``include_flagged``.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from mixcalphad.errors import MixcalphadError, StoreConflictError
from mixcalphad._io import write_text
from mixcalphad.aimd.analysis import (MixingResult, RunAnalysis, VolumeFit, analyze_run, fit_volume, mixing_enthalpy,
                       volume_point)
from mixcalphad.errors import AIMDParseError, MissingRunFilesError
from mixcalphad.aimd.protocol import PROTOCOL, RunSettings, RunSpec
from mixcalphad.aimd.vasp import check_incar, read_manifest, write_job_lists, write_stage
from mixcalphad.aimd.vasp_outputs import output_folders, read_incar, read_outputs, scan_steps

log = logging.getLogger(__name__)

STATES = ("missing", "volume-search", "production-ready", "production-running", "production-done", "failed")
COLLECTION = "aimd-runs"
RUNS_TABLE = "aimd_runs"


# ---------------------------------------------------------------------- status
@dataclass(frozen=True)
class StageInfo:
    """One volume-search stage: folder, whether finished, its steps, p̄ ± SEM (kbar), ⟨E⟩ (eV/atom)."""

    name: str
    volume_A3: float | None
    done: bool
    n_steps: int
    nsw: int | None
    p_kbar: float | None = None
    p_sem_kbar: float | None = None
    e_eV: float | None = None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class RunStatus:
    """Where one run stands (:data:`STATES`) and why."""

    run_id: str
    state: str
    reason: str
    stages: tuple[StageInfo, ...] = ()
    accepted_stage: str | None = None
    next_volume_A3: float | None = None
    production_steps: int = 0
    production_nsw: int | None = None
    steps_lost: int = 0

    def to_dict(self) -> dict:
        out = dict(self.__dict__)
        out["stages"] = [s.to_dict() for s in self.stages]
        return out


def _nsw(folder: Path) -> int | None:
    try:
        value = read_incar(folder / "INCAR").get("NSW")
        return int(float(value)) if value is not None else None
    except (MixcalphadError, ValueError):
        return None


def _stage_folders(run_dir: Path) -> list[Path]:
    vol = run_dir / "volume"
    return sorted(p for p in vol.iterdir() if p.is_dir() and not p.name.startswith(".")) if vol.is_dir() else []


def _incar_problems(folder: Path, settings: RunSettings, nsw: int | None) -> list[str]:
    if not (folder / "INCAR").is_file():
        return [f"{folder}: INCAR missing"]
    return [f"{folder / 'INCAR'}: {p}" for p in check_incar(folder / "INCAR", settings, nsw=nsw)]


@dataclass(frozen=True)
class _Summary:
    n_steps: int
    truncated: bool
    steps_lost: int
    volume_A3: float
    point: object  # VolumePoint or None without pressure


def _signature(folder: Path) -> tuple:
    sig = []
    for part in output_folders(folder):
        for name in ("vasprun.xml", "OUTCAR", "OSZICAR"):
            f = part / name
            if f.is_file():
                st = f.stat()
                sig.append((str(f), st.st_size, st.st_mtime_ns))
    return tuple(sig)


_SUMMARIES: dict[tuple, _Summary] = {}


def _summary(folder: Path) -> _Summary:
    """Steps, truncation and (p̄, ⟨E⟩) of a run's outputs; cached on the files' size and mtime."""
    key = (str(folder.resolve()), _signature(folder))
    if key not in _SUMMARIES:
        traj = read_outputs(folder, positions=False)
        point = volume_point(traj, folder.name) if traj.pressure_kbar is not None else None
        if len(_SUMMARIES) > 4096:
            _SUMMARIES.clear()
        _SUMMARIES[key] = _Summary(traj.n_steps, traj.truncated, traj.steps_lost, float(np.mean(traj.volume)),
                                   point)
    return _SUMMARIES[key]


def _stage_infos(run_dir: Path, protocol: Mapping) -> tuple[list[StageInfo], list, list[str]]:
    infos, points, errors = [], [], []
    for folder in _stage_folders(run_dir):
        nsw = _nsw(folder)
        if not output_folders(folder):
            infos.append(StageInfo(folder.name, None, False, 0, nsw))
            continue
        try:
            summ = _summary(folder)
        except (AIMDParseError, MissingRunFilesError) as exc:
            errors.append(str(exc))
            infos.append(StageInfo(folder.name, None, False, 0, nsw))
            continue
        done = nsw is None or summ.n_steps >= nsw
        if not done or summ.point is None:
            if summ.point is None:
                errors.append(f"{folder}: no pressure in the output (ISIF = 0?); the volume search needs ISIF = 2")
            infos.append(StageInfo(folder.name, summ.volume_A3, False, summ.n_steps, nsw))
            continue
        pt = summ.point
        points.append(pt)
        infos.append(StageInfo(folder.name, pt.volume_A3, True, summ.n_steps, nsw, pt.p_kbar, pt.p_sem_kbar,
                               pt.e_eV))
    return infos, points, errors


def volume_fit_of(run_dir: str | Path, protocol: Mapping | None = None, n_atoms: int | None = None) -> VolumeFit | None:
    """The volume-search fit over a run folder's finished stages (None without any)."""
    protocol = protocol or PROTOCOL
    _, points, _ = _stage_infos(Path(run_dir), protocol)
    if not points:
        return None
    if n_atoms is None:
        n_atoms = read_outputs(Path(run_dir) / "volume" / points[0].label).n_atoms
    return fit_volume(points, n_atoms=n_atoms, clip=protocol.get("volume_clip", 0.1),
                      p_window_kbar=protocol["p_window_kbar"], p_sem_max_kbar=protocol["p_sem_max_kbar"])


def run_status(runs_dir: str | Path, run_id: str, manifest: Mapping | None = None) -> RunStatus:
    """Status of one run of a prepared runs folder (see the module docstring)."""
    runs_dir = Path(runs_dir)
    manifest = manifest or read_manifest(runs_dir)
    meta = manifest["runs"][run_id]
    protocol = manifest["protocol"]
    settings = RunSettings.from_dict(meta["settings"])
    run_dir = runs_dir / run_id
    if not run_dir.is_dir():
        return RunStatus(run_id, "failed", f"run folder {run_dir} is missing")
    problems = []
    for folder in _stage_folders(run_dir):
        problems += _incar_problems(folder, settings, protocol["nsw_stage"])
    prod = run_dir / "production"
    problems += _incar_problems(prod, settings, protocol["nsw_production"])
    if problems:
        return RunStatus(run_id, "failed", "INCAR differs from the protocol: " + "; ".join(problems))
    stages, points, errors = _stage_infos(run_dir, protocol)
    if errors:
        return RunStatus(run_id, "failed", "; ".join(errors), tuple(stages))
    fit = None
    if points:
        fit = fit_volume(points, n_atoms=settings.n_atoms, clip=protocol["volume_clip"],
                         p_window_kbar=protocol["p_window_kbar"], p_sem_max_kbar=protocol["p_sem_max_kbar"])
    accepted = fit.accepted if fit else None
    if (prod / "POSCAR").is_file():
        nsw = protocol["nsw_production"]
        if not output_folders(prod):
            return RunStatus(run_id, "production-ready", "production POSCAR written; submit the production run",
                             tuple(stages), accepted, production_nsw=nsw)
        scan = scan_steps(prod)
        if not scan["n_steps"]:
            return RunStatus(run_id, "failed", f"production output in {prod} has no complete MD step",
                             tuple(stages), accepted, production_nsw=nsw)
        if scan["n_steps"] < nsw:
            how = f"{scan['n_steps']} of {nsw} steps"
            if scan["truncated"]:
                how += f", output truncated ({scan['steps_lost']} partial step dropped): restart from CONTCAR"
            return RunStatus(run_id, "production-running", how, tuple(stages), accepted,
                             production_steps=scan["n_steps"], production_nsw=nsw, steps_lost=scan["steps_lost"])
        return RunStatus(run_id, "production-done", f"{scan['n_steps']} steps", tuple(stages), accepted,
                         production_steps=scan["n_steps"], production_nsw=nsw, steps_lost=scan["steps_lost"])
    if not any(s.n_steps for s in stages):
        return RunStatus(run_id, "missing", "no output yet; submit the volume stages", tuple(stages))
    pending = [s.name for s in stages if not s.done]
    if pending:
        return RunStatus(run_id, "volume-search", f"stages running or not started: {', '.join(pending)}",
                         tuple(stages))
    if accepted:
        return RunStatus(run_id, "volume-search", f"stage {accepted} accepted; run 'aimd status --advance' to "
                         "write the production POSCAR", tuple(stages), accepted)
    if len(stages) >= protocol["max_stages"]:
        return RunStatus(run_id, "failed", f"volume search did not converge in {len(stages)} stages "
                         f"(best p̄ = {min(abs(p.p_kbar) for p in points):.2f} kbar)", tuple(stages))
    return RunStatus(run_id, "volume-search", f"next stage at {fit.next_volume_A3:.1f} Å³ (p̄ = 0 by the linear "
                     f"fit{', clipped to ±10 %' if fit.clipped else ''}); run 'aimd status --advance'",
                     tuple(stages), None, fit.next_volume_A3)


def runs_status(runs_dir: str | Path) -> list[RunStatus]:
    """Status of every run of a prepared runs folder."""
    manifest = read_manifest(runs_dir)
    return [run_status(runs_dir, rid, manifest) for rid in manifest["runs"]]


def _poscar_source(folder: Path) -> str:
    for name in ("CONTCAR", "POSCAR"):
        path = folder / name
        if path.is_file() and path.stat().st_size > 0:
            return path.read_text(encoding="utf-8", errors="replace")
    raise MissingRunFilesError(f"{folder} has neither CONTCAR nor POSCAR")


def advance_runs(runs_dir: str | Path) -> list[str]:
    """Write the next volume stage or the production POSCAR wherever the search allows.

    Returns
    -------
    list of str
        One line per action; the job lists (``volume_jobs.txt``, ``production_jobs.txt``) are
        rewritten with the folders still to run.
    """
    runs_dir = Path(runs_dir)
    manifest = read_manifest(runs_dir)
    protocol = manifest["protocol"]
    actions = []
    statuses = runs_status(runs_dir)
    changed = set()
    for status in statuses:
        if status.state != "volume-search":
            continue
        meta = manifest["runs"][status.run_id]
        run_dir = runs_dir / status.run_id
        if status.accepted_stage:
            src = _poscar_source(run_dir / "volume" / status.accepted_stage)
            write_text(run_dir / "production" / "POSCAR", src)
            actions.append(f"{status.run_id}: production POSCAR from stage {status.accepted_stage}")
            changed.add(status.run_id)
        elif status.next_volume_A3:
            best = min((s for s in status.stages if s.done), key=lambda s: abs(s.p_kbar))
            spec = RunSpec(tuple(meta["composition"].items()), RunSettings.from_dict(meta["settings"]))
            folder = write_stage(run_dir, spec, len(status.stages), status.next_volume_A3, meta["start_volume_A3"],
                                 nsw=protocol["nsw_stage"], potcars=_potcar_paths(meta, spec),
                                 poscar_text=_poscar_source(run_dir / "volume" / best.name))
            actions.append(f"{status.run_id}: new stage {folder.name} at {status.next_volume_A3:.1f} Å³")
            changed.add(status.run_id)
    manifest = read_manifest(runs_dir)
    refresh_job_lists(runs_dir, [run_status(runs_dir, s.run_id, manifest) if s.run_id in changed else s
                                 for s in statuses])
    return actions


def _potcar_paths(meta: Mapping, spec: RunSpec) -> dict:
    from mixcalphad.aimd.vasp import potcar_info

    info = potcar_info(spec.settings, spec.elements)
    if not meta.get("potcar_written"):
        for entry in info.values():
            entry["path"] = None
    return info


def refresh_job_lists(runs_dir: str | Path, statuses: list[RunStatus] | None = None) -> None:
    """Rewrite ``volume_jobs.txt`` and ``production_jobs.txt`` with the folders still to run."""
    runs_dir = Path(runs_dir)
    statuses = statuses if statuses is not None else runs_status(runs_dir)
    volume, production = [], []
    for status in statuses:
        rid = status.run_id
        for folder in _stage_folders(runs_dir / rid):
            if not output_folders(folder):
                volume.append(f"{rid}/volume/{folder.name}")
        if status.state in ("production-ready", "production-running"):
            production.append(f"{rid}/production")
    write_job_lists(runs_dir, volume, production)


# ---------------------------------------------------------------------- one run folder → analysis
def analyze_run_folder(folder: str | Path, *, label: str | None = None, protocol: Mapping | None = None,
                       **limits) -> RunAnalysis:
    """Analyse one run folder: a prepared run (``volume/`` stages + ``production/``) or a plain folder
    with vasprun.xml and/or OUTCAR/OSZICAR (then without a volume fit, flagged ``no_volume_fit``).

    Raises
    ------
    MissingRunFilesError
        No output files.
    AIMDParseError
        Unreadable output.
    """
    folder = Path(folder)
    protocol = dict(PROTOCOL, **(protocol or {}))
    if not folder.is_dir():
        raise MissingRunFilesError(f"run folder {folder} does not exist")
    prod = folder / "production" if (folder / "production").is_dir() else folder
    limits = {"p_window_kbar": protocol["p_window_kbar"], "p_sem_max_kbar": protocol["p_sem_max_kbar"],
              "min_n_eff": protocol["min_n_eff"], **limits}
    # cached on the files' sizes and modification times: a re-ingest re-reads only what changed
    key = (str(folder.resolve()), _signature(prod), tuple(_signature(s) for s in _stage_folders(folder)),
           label, json.dumps(limits, sort_keys=True, default=str), json.dumps(protocol, sort_keys=True, default=str))
    if key not in _ANALYSES:
        traj = read_outputs(prod)
        fit = volume_fit_of(folder, protocol, traj.n_atoms) if (folder / "volume").is_dir() else None
        if len(_ANALYSES) > 1024:
            _ANALYSES.clear()
        _ANALYSES[key] = analyze_run(traj, volume_fit=fit, label=label or folder.name, **limits)
    return _ANALYSES[key]


_ANALYSES: dict[tuple, RunAnalysis] = {}


def hmix_from_folders(pure_a: str | Path, pure_b: str | Path, alloy: str | Path, **limits) -> MixingResult:
    """ΔH_mix (J/mol of atoms) with σ from three finished run folders (see :func:`analyze_run_folder`).

    Raises
    ------
    SettingsMismatchError
        The runs differ in a non-composition setting.
    MissingRunFilesError, AIMDParseError
        A folder lacks outputs or has unreadable ones.
    """
    runs = [analyze_run_folder(p, **limits) for p in (pure_a, pure_b, alloy)]
    return mixing_enthalpy(*runs)


# ---------------------------------------------------------------------- ingest
def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _files_used(run_dir: Path) -> list[Path]:
    files = []
    for folder in [*_stage_folders(run_dir), run_dir / "production"]:
        for part in output_folders(folder):
            for name in ("vasprun.xml", "OUTCAR", "OSZICAR"):
                if (part / name).is_file():
                    files.append(part / name)
                    break
    return files


@dataclass(frozen=True)
class IngestReport:
    """What :func:`ingest_vasp_runs` did, per binary point (job id)."""

    store: str
    added: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    replaced: tuple[str, ...] = ()
    pending: tuple[tuple[str, str], ...] = ()
    flagged: tuple[tuple[str, str], ...] = ()
    failed: tuple[tuple[str, str], ...] = ()
    results: Mapping[str, Mapping] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"store": self.store, "added": list(self.added), "unchanged": list(self.unchanged),
                "replaced": list(self.replaced),
                "pending": [{"job": j, "reason": r} for j, r in self.pending],
                "flagged": [{"job": j, "reason": r} for j, r in self.flagged],
                "failed": [{"job": j, "reason": r} for j, r in self.failed],
                "results": dict(self.results)}


def _run_record(run_id: str, analysis: RunAnalysis, files: Mapping[str, str], runs_dir: Path) -> dict:
    ident = {"runs_dir": str(runs_dir.resolve()), "run_id": run_id, "composition": dict(analysis.composition),
             "keys": dict(analysis.element_keys)}
    return {"run_key": hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:16],
            "run_id": run_id, "runs_dir": str(runs_dir.resolve()), "composition": dict(analysis.composition),
            "T_K": analysis.T_K, "n_atoms": analysis.n_atoms, "code": "vasp", "version": analysis.code_version,
            "settings": json.dumps(analysis.settings, sort_keys=True), "H0_eV": analysis.H0_eV,
            "H0_sem_eV": analysis.H0_sem_eV, "E_eV": analysis.E_eV, "H_pV_eV": analysis.H_pV_eV,
            "p_kbar": analysis.p_kbar, "p_sem_kbar": analysis.p_sem_kbar, "volume_A3": analysis.volume_A3,
            "K_T_GPa": analysis.K_T_GPa, "dE_dV_eV_A3": analysis.dE_dV_eV_A3, "n_eff": analysis.n_eff,
            "n_steps": analysis.n_steps, "msd_A2": analysis.msd_A2, "flags": list(analysis.flags),
            "files": dict(files)}


def _reference(result: MixingResult, version: str, settings_key: str, files: Mapping[str, Mapping]) -> str:
    runs = {role: {"run": r.label, "H0_eV": r.H0_eV, "H0_sem_eV": r.H0_sem_eV, "p_kbar": r.p_kbar,
                   "n_eff": r.n_eff, "files": dict(files[role])} for role, r in result.runs.items()}
    return json.dumps({"code": "vasp", "version": version, "settings_key": json.loads(settings_key),
                       "estimator": "H(p=0) = <E> + (dE/dV)_T V p/K_T, E = e_wo_entrp + EKIN",
                       "HM_MIX_raw_J": result.HM_MIX_raw_J, "HM_MIX_pV_J": result.HM_MIX_pV_J,
                       "flags": list(result.flags), "runs": runs}, sort_keys=True)


def ingest_vasp_runs(runs_dir: str | Path, store=None, *, replace: bool = False, include_flagged: bool = False,
                     collection: str = COLLECTION, progress: bool | None = None) -> IngestReport:
    """Put every finished binary of a prepared runs folder into the store.

    Parameters
    ----------
    runs_dir : path
        A folder written by :func:`~mixcalphad.aimd.vasp.prepare_vasp_runs`.
    store : Store or path, optional
        Default :func:`~mixcalphad.data.store.default_store_path`.
    replace : bool
        Overwrite a stored value that changed (e.g. after extending a run).
    include_flagged : bool
        Also ingest points with blocking flags (their flags are kept in the reference).
    collection : str
        Collection name of the observations.
    progress : bool, optional
        Progress bar over the binaries (default: on a terminal only).

    Returns
    -------
    IngestReport
        Per binary: added / unchanged / replaced / pending (runs not finished) / flagged / failed
        (with reasons). A failed or flagged binary writes nothing.
    """
    from tqdm.auto import tqdm

    from mixcalphad.data.store import Store

    runs_dir = Path(runs_dir)
    store = store if isinstance(store, Store) else Store(store)
    manifest = read_manifest(runs_dir)
    statuses = {s.run_id: s for s in runs_status(runs_dir)}
    analyses: dict[str, RunAnalysis | Exception] = {}
    out: dict[str, list] = {k: [] for k in ("added", "unchanged", "replaced", "pending", "flagged", "failed")}
    results = {}
    binaries = manifest["binaries"]
    # progress=None: a bar on a terminal only (tqdm's own rule)
    for job in tqdm(binaries, desc="ingest", disable=None if progress is None else not progress, leave=False):
        jid = job["job_id"]
        roles = {"pure_a": job["pure_a"], "pure_b": job["pure_b"], "alloy": job["alloy"]}
        states = {rid: statuses[rid] for rid in roles.values()}
        failed = [f"{rid}: {s.reason}" for rid, s in states.items() if s.state == "failed"]
        if failed:
            out["failed"].append((jid, "; ".join(failed)))
            continue
        waiting = [f"{rid} ({s.state})" for rid, s in states.items() if s.state != "production-done"]
        if waiting:
            out["pending"].append((jid, "not finished: " + ", ".join(waiting)))
            continue
        try:
            for rid in roles.values():
                if rid not in analyses:
                    try:
                        analyses[rid] = analyze_run_folder(runs_dir / rid, label=rid, protocol=manifest["protocol"])
                    except MixcalphadError as exc:
                        analyses[rid] = exc
                if isinstance(analyses[rid], Exception):
                    raise analyses[rid]
            result = mixing_enthalpy(analyses[roles["pure_a"]], analyses[roles["pure_b"]], analyses[roles["alloy"]])
        except MixcalphadError as exc:
            out["failed"].append((jid, str(exc)))
            continue
        results[jid] = result.summary()
        if result.blocking_flags and not include_flagged:
            out["flagged"].append((jid, ", ".join(result.blocking_flags)))
            continue
        files = {role: {str(p.relative_to(runs_dir)): _sha256(p) for p in _files_used(runs_dir / rid)}
                 for role, rid in roles.items()}
        skey = result.settings_key
        shash = hashlib.sha256(skey.encode()).hexdigest()[:12]
        version = result.runs["alloy"].code_version
        obs = pd.DataFrame([{
            "system": result.system, "x_B": result.x_B, "T_K": result.T_K, "HM_MIX_J": result.HM_MIX_J,
            "sigma_J": result.sigma_J, "kind": "aimd", "source": f"aimd-vasp/{shash}",
            "reference": _reference(result, version, skey, files), "collection": collection}])
        records = [_run_record(rid, analyses[rid], files[role], runs_dir) for role, rid in roles.items()]
        try:
            _precheck(store, obs, records, replace)
            rep = store.add_observations(obs, replace=replace)
            store.add_records(RUNS_TABLE, records, key_fields=("run_key",), replace=replace)
        except StoreConflictError as exc:
            out["failed"].append((jid, f"store conflict, nothing written: {exc}"))
            continue
        out["added" if rep.added else "replaced" if rep.replaced else "unchanged"].append(jid)
    return IngestReport(str(store.path), *(tuple(out[k]) for k in ("added", "unchanged", "replaced")),
                        *(tuple(out[k]) for k in ("pending", "flagged", "failed")), results)


def _equal(a, b) -> bool:
    """Store-like equality: floats to 1e-9 relative, NaN and None alike."""
    missing = (lambda v: v is None or (isinstance(v, float) and np.isnan(v)))
    if missing(a) or missing(b):
        return missing(a) and missing(b)
    if isinstance(a, (float, int, np.floating, np.integer)) and isinstance(b, (float, int, np.floating, np.integer)) \
            and not isinstance(a, bool) and not isinstance(b, bool):
        return bool(np.isclose(float(a), float(b), rtol=1e-9, atol=1e-9))
    return a == b


def _precheck(store, obs: pd.DataFrame, records: list[dict], replace: bool) -> None:
    """Raise StoreConflictError before anything is written if either insert would conflict."""
    if replace or not store.path.exists():
        return
    from mixcalphad.data.store import observation_key

    row = obs.iloc[0].to_dict()
    stored = store.observations(kind="aimd", system=row["system"], source=row["source"])
    for _, old in stored.iterrows():
        if observation_key(old) == observation_key(row) and not all(
                _equal(old[c], row[c]) for c in ("HM_MIX_J", "sigma_J", "reference", "collection")):
            raise StoreConflictError(f"{row['system']} x_B={row['x_B']:.3f} T={row['T_K']:.0f} K is stored "
                                     f"from {row['source']} with another value or other files; use replace")
    table = store.records(RUNS_TABLE)
    if table.empty:
        return
    by_key = {r["run_key"]: r for r in table.to_dict("records")}
    for rec in records:
        old = by_key.get(rec["run_key"])
        if old is not None and not all(_equal(old.get(k), v) for k, v in rec.items()):
            raise StoreConflictError(f"run {rec['run_id']} is stored with other results or files; use replace")
