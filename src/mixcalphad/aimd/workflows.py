"""A prepared VASP campaign as a jobflow workflow — the path a FireWorks or jobflow-remote cluster
takes — and, with atomate2, as atomate2 ``MDMaker`` jobs.

:func:`campaign_flow` (needs only ``jobflow``, ``pip install jobflow``) turns a runs folder written by
:func:`~mixcalphad.aimd.vasp.prepare_vasp_runs` into a dynamic ``Flow``:

* per run: one :func:`run_vasp` job per volume stage still to run, then :func:`advance_run`, which
  reads the run's status and replaces itself (``Response(replace=…)``) by the next stage or the
  production and another :func:`advance_run`, until the production is done — the volume search of
  ``aimd status --advance`` driven by the workflow engine;
* pure references shared between binaries are single runs, so both binaries wait for the same jobs;
* a final :func:`ingest_campaign` job waits for every run and puts ΔH_mix into the store.

``vasp_cmd`` is the shell command that runs VASP in a folder (``srun vasp_gam``; a test passes a
fake VASP that writes designed outputs). Run it with ``jobflow.managers.local.run_locally`` on one
machine, or submit it to FireWorks/jobflow-remote. :func:`to_jobflow_flow` (atomate2 and pymatgen,
heavy and optional: ``pip install atomate2``) exports the folders' inputs as atomate2 ``MDMaker`` jobs
instead, with exactly our INCAR (atomate2's own MD defaults such as ``LASPH`` or ``NELM`` are removed),
Γ-only k-points and the pinned POTCARs.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

from mixcalphad.errors import AIMDError, OptionalDependencyError
from mixcalphad.aimd.settings import RunSettings
from mixcalphad.aimd.status import run_status, write_next_stage
from mixcalphad.aimd.vasp import read_manifest
from mixcalphad.aimd.trajectory import read_incar
from mixcalphad.aimd.vasp_outputs import output_folders, scan_steps

try:  # jobflow is optional: the functions below are jobs only where it is installed
    from jobflow import Flow, Response, job
except ImportError:  # pragma: no cover - without the workflows extra
    Flow = Response = None

    def job(function):
        return function

#: Rounds of :func:`advance_run` one run may take before the flow gives up.
MAX_ROUNDS = 12


def _need_jobflow() -> None:
    if Flow is None:
        raise OptionalDependencyError("the campaign workflow needs jobflow ('pip install jobflow')")


@job
def run_vasp(runs_dir: str, folder: str, vasp_cmd: str) -> dict:
    """Run ``vasp_cmd`` in ``runs_dir/folder``; returns the folder's step count (:func:`scan_steps`).

    Raises
    ------
    AIMDError
        The command exits with an error (its output is in ``vasp.out``).
    """
    path = Path(runs_dir) / folder
    with open(path / "vasp.out", "w", encoding="utf-8") as out:
        code = subprocess.call(vasp_cmd, shell=True, cwd=path, stdout=out, stderr=subprocess.STDOUT)
    if code:
        raise AIMDError(f"{vasp_cmd!r} failed in {path} (exit {code}); see {path / 'vasp.out'}")
    return {"folder": folder, **scan_steps(path)}


@job
def advance_run(runs_dir: str, run_id: str, vasp_cmd: str, after=None, rounds: int = 0) -> dict:
    """Advance one run: run its next stage or its production, until the production is done.

    ``after`` only orders the job after the ones it depends on. Returns the run's status (a dict)
    once it is ``production-done``.

    Raises
    ------
    AIMDError
        The run failed (with the reason) or did not finish in :data:`MAX_ROUNDS` rounds.
    """
    status = run_status(runs_dir, run_id)
    if status.state == "production-done":
        return status.to_dict()
    if rounds >= MAX_ROUNDS:
        raise AIMDError(f"{run_id}: not finished after {MAX_ROUNDS} rounds ({status.state}: {status.reason})")
    if status.state == "production-ready":
        folder = f"{run_id}/production"
    elif status.state == "volume-search":
        step = write_next_stage(runs_dir, status)
        if step is None:
            raise AIMDError(f"{run_id}: the volume search cannot go on ({status.reason})")
        folder = step[1]
    else:
        raise AIMDError(f"{run_id} is {status.state}: {status.reason}")
    run = run_vasp(runs_dir, folder, vasp_cmd)
    nxt = advance_run(runs_dir, run_id, vasp_cmd, after=run.output, rounds=rounds + 1)
    return Response(replace=Flow([run, nxt], output=nxt.output))


@job
def ingest_campaign(runs_dir: str, store: str | None, statuses=None) -> dict:
    """Ingest every finished binary of the runs folder into the store (:func:`ingest_vasp_runs`)."""
    from mixcalphad.aimd.ingest import ingest_vasp_runs

    return ingest_vasp_runs(runs_dir, store).to_dict()


def campaign_flow(runs_dir: str | Path, vasp_cmd: str, *, store: str | Path | None = None, name: str = ""):
    """A prepared runs folder as a jobflow ``Flow``: every run to its production, then the ingest.

    Parameters
    ----------
    runs_dir : path
        Written by :func:`~mixcalphad.aimd.vasp.prepare_vasp_runs`.
    vasp_cmd : str
        Shell command that runs VASP in the current folder.
    store : path, optional
        The store the final job ingests into (default store when None).

    Returns
    -------
    jobflow.Flow

    Raises
    ------
    OptionalDependencyError
        jobflow is not installed.
    """
    _need_jobflow()
    runs_dir = str(Path(runs_dir).resolve())
    manifest = read_manifest(runs_dir)
    jobs, finals = [], []
    for run_id in manifest["runs"]:
        stages = []
        vol = Path(runs_dir) / run_id / "volume"
        for folder in sorted(p for p in vol.iterdir() if p.is_dir() and not p.name.startswith(".")):
            if not output_folders(folder):
                stages.append(run_vasp(runs_dir, f"{run_id}/volume/{folder.name}", vasp_cmd))
        adv = advance_run(runs_dir, run_id, vasp_cmd, after=[s.output for s in stages])
        jobs += [*stages, adv]
        finals.append(adv.output)
    ingest = ingest_campaign(runs_dir, None if store is None else str(store), statuses=finals)
    return Flow([*jobs, ingest], output=ingest.output, name=name or f"mixcalphad AIMD {Path(runs_dir).name}")


# ---------------------------------------------------------------------- atomate2
def to_jobflow_flow(out: str | Path, *, stage: str = "volume"):
    """The prepared runs as a jobflow ``Flow`` of atomate2 ``MDMaker`` jobs with our INCAR.

    Needs the optional packages atomate2 and jobflow (``pip install atomate2``); each job gets the
    POSCAR and the INCAR tags of a stage folder (``stage="volume"``) or of the production folders
    that have a POSCAR (``stage="production"``), Γ-only k-points, and the pinned POTCAR labels and
    set. The INCAR is ours tag for tag: the tags atomate2's MD input set would add (``LASPH``,
    ``NELM``, ``LAECHG``…; some change the energies) are removed, so the exported runs follow the
    same protocol as the folders.

    Raises
    ------
    OptionalDependencyError
        atomate2, jobflow or pymatgen is not installed.
    """
    import dataclasses

    try:
        from atomate2.vasp.jobs.md import MDMaker
        from atomate2.vasp.sets.core import MDSetGenerator
        from jobflow import Flow
        from pymatgen.core import Structure
        from pymatgen.io.vasp import Kpoints
    except ImportError as exc:
        raise OptionalDependencyError(f"exporting a jobflow Flow needs atomate2 and jobflow ({exc}); "
                                      "install them with 'pip install atomate2'") from None
    out = Path(out)
    manifest = read_manifest(out)
    jobs = []
    for rid, meta in manifest["runs"].items():
        folders = (sorted(p for p in (out / rid / "volume").iterdir() if p.is_dir()) if stage == "volume"
                   else [out / rid / "production"])
        for folder in folders:
            if not (folder / "POSCAR").is_file():
                continue
            incar = {k: v for k, v in read_incar(folder / "INCAR").items() if k != "SYSTEM"}
            settings = RunSettings.from_dict(meta["settings"])
            ours = {k: _typed(v) for k, v in incar.items()}
            generator = MDSetGenerator(
                ensemble="nvt", start_temp=settings.T_K, end_temp=settings.T_K,
                nsteps=int(incar["NSW"]), time_step=settings.potim_fs, user_incar_settings=ours,
                user_kpoints_settings=Kpoints.gamma_automatic((1, 1, 1)),
                user_potcar_settings={el.capitalize(): settings.potcar_label(el) for el in meta["composition"]},
                user_potcar_functional=settings.potcar_set.replace(".", "_"))
            structure = Structure.from_file(folder / "POSCAR")
            added = set(generator.get_input_set(structure, potcar_spec=True).incar) - set(ours)
            generator = dataclasses.replace(generator, user_incar_settings={**ours, **dict.fromkeys(added)})
            maker = MDMaker(name=f"{rid} {folder.name}", input_set_generator=generator)
            jobs.append(maker.make(structure))
    return Flow(jobs, name=f"mixcalphad AIMD {out.name} ({stage})")


def _typed(value: str):
    v = value.strip()
    if v.upper() in (".TRUE.", "T", ".FALSE.", "F"):
        return v.upper().strip(".").startswith("T")
    for cast in (int, float):
        try:
            return cast(v)
        except ValueError:
            pass
    return v
