"""Where the runs of a prepared runs folder stand, and the next step of their volume search.

* :func:`runs_status` — per run: ``missing`` (no output yet, or the run folder not synchronised back
  from the cluster yet), ``volume-search`` (stages running or a next stage to write),
  ``production-ready`` (POSCAR at the accepted volume, not started), ``production-running`` (fewer
  steps than NSW), ``production-done``, or ``failed`` — with the reason (truncated or unreadable
  output, INCAR edited away from the protocol, search not converging…).
* :func:`advance_runs` — writes the next volume stage (at the zero-pressure volume of one equation-of-state
  fit over all stages, ±10 %) or, once a stage is accepted (fitted |p| < 2 kbar and a small enough H(p = 0)
  error, :mod:`.volume`), the production POSCAR (its CONTCAR, velocities kept).

A campaign folder synchronised back from a cluster may be partial: run folders not copied yet are
``missing``, files still being copied (rsync's hidden ``.name.XXXX`` temporaries) are ignored, an
output cut off mid-copy counts its complete steps (``production-running``), and an OUTCAR that is
empty or shorter than its OSZICAR is reported as truncated, never read past.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np

from mixcalphad._io import write_text
from mixcalphad.errors import AIMDParseError, MissingRunFilesError, MixcalphadError
from mixcalphad.aimd.analysis import volume_point
from mixcalphad.aimd.incar import DEFAULT_RANKS, check_incar
from mixcalphad.aimd.plan import RunSpec
from mixcalphad.aimd.protocol import PROTOCOL
from mixcalphad.aimd.settings import RunSettings
from mixcalphad.aimd.scheduler import write_job_lists
from mixcalphad.aimd.trajectory import read_incar
from mixcalphad.aimd.vasp import read_manifest, run_nsw, write_stage
from mixcalphad.aimd.vasp_outputs import output_folders, read_outputs, scan_steps
from mixcalphad.aimd.volume import VolumeFit, acceptance_limits, fit_volume

log = logging.getLogger(__name__)

STATES = ("missing", "volume-search", "production-ready", "production-running", "production-done", "failed")


@dataclass(frozen=True)
class StageInfo:
    """One volume-search stage: folder, whether finished, its steps, p̄ ± SEM (kbar), ⟨E⟩ (eV/atom) and
    whether it stayed liquid (None: not judged; a stage that crystallised is not fitted)."""

    name: str
    volume_A3: float | None
    done: bool
    n_steps: int
    nsw: int | None
    p_kbar: float | None = None
    p_sem_kbar: float | None = None
    e_eV: float | None = None
    liquid: bool | None = None

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


def stage_folders(run_dir: Path) -> list[Path]:
    """A run's volume-stage folders (``volume/*``, hidden ones left out), sorted; none without ``volume``."""
    vol = run_dir / "volume"
    return sorted(p for p in vol.iterdir() if p.is_dir() and not p.name.startswith(".")) if vol.is_dir() else []


def _incar_problems(folder: Path, settings: RunSettings, nsw: int | None, meta: Mapping,
                    protocol: Mapping) -> list[str]:
    if not (folder / "INCAR").is_file():
        return [f"{folder}: INCAR missing"]
    problems = check_incar(folder / "INCAR", settings, nsw=nsw, nelect=meta.get("nelect"),
                           ranks=protocol.get("ranks", DEFAULT_RANKS))
    return [f"{folder / 'INCAR'}: {p}" for p in problems]


def _chunk_steps(folder: Path) -> int:
    """Complete steps in a production folder's restart chunks (``chunk_*``)."""
    return sum(scan_steps(part)["n_steps"] for part in output_folders(folder) if part != folder)


@dataclass(frozen=True)
class _Summary:
    n_steps: int
    truncated: bool
    steps_lost: int
    volume_A3: float
    point: object  # VolumePoint or None without pressure


def output_signature(folder: Path) -> tuple:
    """(path, size in bytes, mtime in ns) of each VASP output of a folder and its restart chunks: a
    key that changes whenever an output does."""
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
    key = (str(folder.resolve()), output_signature(folder))
    if key not in _SUMMARIES:
        traj = read_outputs(folder, positions=True)
        point = volume_point(traj, folder.name) if traj.pressure_kbar is not None else None
        if len(_SUMMARIES) > 4096:
            _SUMMARIES.clear()
        _SUMMARIES[key] = _Summary(traj.n_steps, traj.truncated, traj.steps_lost, float(np.mean(traj.volume)),
                                   point)
    return _SUMMARIES[key]


def _stage_infos(run_dir: Path, protocol: Mapping) -> tuple[list[StageInfo], list, list[str]]:
    infos, points, errors = [], [], []
    for folder in stage_folders(run_dir):
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
                               pt.e_eV, pt.liquid))
    return infos, points, errors


def volume_fit_of(run_dir: str | Path, protocol: Mapping | None = None, n_atoms: int | None = None) -> VolumeFit | None:
    """The volume-search fit over a run folder's finished stages (None without any)."""
    protocol = protocol or PROTOCOL
    _, points, _ = _stage_infos(Path(run_dir), protocol)
    if not points:
        return None
    if n_atoms is None:
        n_atoms = read_outputs(Path(run_dir) / "volume" / points[0].label).n_atoms
    return fit_volume(points, n_atoms=n_atoms, clip=protocol.get("volume_clip", 0.1), **acceptance_limits(protocol))


def run_status(runs_dir: str | Path, run_id: str, manifest: Mapping | None = None) -> RunStatus:
    """Status of one run of a prepared runs folder (see the module docstring)."""
    runs_dir = Path(runs_dir)
    manifest = manifest or read_manifest(runs_dir)
    meta = manifest["runs"][run_id]
    protocol = manifest["protocol"]
    settings = RunSettings.from_dict(meta["settings"])
    run_dir = runs_dir / run_id
    if not run_dir.is_dir():
        return RunStatus(run_id, "missing", f"run folder {run_dir} is not there (not synchronised back from "
                                            "the cluster yet, or deleted)")
    problems = []
    for folder in stage_folders(run_dir):
        problems += _incar_problems(folder, settings, run_nsw(meta, protocol, "stage"), meta, protocol)
    prod = run_dir / "production"
    nsw = run_nsw(meta, protocol, "production")
    # a restart sets NSW to the steps left after the chunks already run (scheduler.py)
    problems += _incar_problems(prod, settings, nsw - _chunk_steps(prod), meta, protocol)
    if problems:
        return RunStatus(run_id, "failed", "INCAR differs from the protocol: " + "; ".join(problems))
    stages, points, errors = _stage_infos(run_dir, protocol)
    if errors:
        return RunStatus(run_id, "failed", "; ".join(errors), tuple(stages))
    fit = None
    if points:
        fit = fit_volume(points, n_atoms=settings.n_atoms, clip=protocol["volume_clip"],
                         **acceptance_limits(protocol))
    accepted = fit.accepted if fit else None
    if (prod / "POSCAR").is_file():
        if not output_folders(prod):
            return RunStatus(run_id, "production-ready", "production POSCAR written; submit the production run",
                             tuple(stages), accepted, production_nsw=nsw)
        scan = scan_steps(prod)
        if scan["problem"]:
            return RunStatus(run_id, "failed", scan["problem"], tuple(stages), accepted,
                             production_steps=scan["n_steps"], production_nsw=nsw)
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
    solid = [s.name for s in stages if s.liquid is False]
    left_out = f"; not liquid, not fitted: {', '.join(solid)}" if solid else ""
    return RunStatus(run_id, "volume-search", f"next stage at {fit.next_volume_A3:.1f} Å³ (equation-of-state "
                     f"fit over all stages{', clipped to ±10 %' if fit.clipped else ''}{left_out}); "
                     "run 'aimd status --advance'", tuple(stages), None, fit.next_volume_A3)


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


def write_next_stage(runs_dir: str | Path, status: RunStatus,
                     manifest: Mapping | None = None) -> tuple[str, str] | None:
    """Write one run's next volume stage or its production POSCAR, if its search allows.

    Returns
    -------
    (action, folder) or None
        What was done, and the folder now to run (relative to ``runs_dir``).
    """
    runs_dir = Path(runs_dir)
    if status.state != "volume-search":
        return None
    manifest = manifest or read_manifest(runs_dir)
    protocol = manifest["protocol"]
    meta = manifest["runs"][status.run_id]
    run_dir = runs_dir / status.run_id
    if status.accepted_stage:
        write_text(run_dir / "production" / "POSCAR", _poscar_source(run_dir / "volume" / status.accepted_stage))
        return (f"{status.run_id}: production POSCAR from stage {status.accepted_stage}",
                f"{status.run_id}/production")
    if not status.next_volume_A3:
        return None
    # the next stage continues the liquid stage nearest p = 0; after stages that all crystallised, a fresh packing
    liquid = [s for s in status.stages if s.done and s.liquid is not False]
    best = min(liquid, key=lambda s: abs(s.p_kbar)) if liquid else None
    spec = RunSpec(tuple(meta["composition"].items()), RunSettings.from_dict(meta["settings"]))
    folder = write_stage(run_dir, spec, len(status.stages), status.next_volume_A3, meta["start_volume_A3"],
                         nsw=run_nsw(meta, protocol, "stage"), potcars=_potcar_paths(meta, spec),
                         nelect=meta.get("nelect"), ranks=protocol.get("ranks", DEFAULT_RANKS),
                         poscar_text=_poscar_source(run_dir / "volume" / best.name) if best else None,
                         seed=len(status.stages))
    how = "" if best else " (fresh packing: every stage so far crystallised)"
    return (f"{status.run_id}: new stage {folder.name} at {status.next_volume_A3:.1f} Å³{how}",
            f"{status.run_id}/volume/{folder.name}")


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
    statuses = runs_status(runs_dir)
    actions, changed = [], set()
    for status in statuses:
        done = write_next_stage(runs_dir, status, manifest)
        if done:
            actions.append(done[0])
            changed.add(status.run_id)
    refresh_job_lists(runs_dir, [run_status(runs_dir, s.run_id, manifest) if s.run_id in changed else s
                                 for s in statuses])
    return actions


def _potcar_paths(meta: Mapping, spec: RunSpec) -> dict:
    from mixcalphad.aimd.incar import potcar_info

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
        for folder in stage_folders(runs_dir / rid):
            if not output_folders(folder):
                volume.append(f"{rid}/volume/{folder.name}")
        if status.state in ("production-ready", "production-running"):
            production.append(f"{rid}/production")
    write_job_lists(runs_dir, volume, production)
