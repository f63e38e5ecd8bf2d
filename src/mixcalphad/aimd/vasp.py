"""VASP inputs for the protocol: random packings, run folders, the manifest, ``prepare_vasp_runs``.

Layout written by :func:`prepare_vasp_runs` (``runs/`` is the output folder)::

    runs/manifest.json                 settings, protocol limits, runs, binaries, POTCAR identities
    runs/slurm_volume.sh               SLURM array over the lines of runs/volume_jobs.txt
    runs/slurm_production.sh           … over runs/production_jobs.txt (restarts in chunks)
    runs/<run_id>/volume/s00_v0.960/   volume-search stage at 0.96 × the Vegard volume
    runs/<run_id>/volume/s01_v1.000/   … 1.00 ×, and s02_v1.040/
    runs/<run_id>/production/          INCAR, KPOINTS, POTCAR.spec [POTCAR]; its POSCAR is written
                                       when the volume search accepts a stage (``aimd status --advance``)

Every stage and production folder has INCAR (the paper's settings with ISIF = 2, see
:func:`incar_tags`), KPOINTS (Γ only: run ``vasp_gam``), POSCAR (random periodic packing with a
minimum distance, species grouped so POTCAR order matches), ``POTCAR.spec`` (the potential labels,
always) and POTCAR when ``$VASP_PP_PATH`` holds every potential. A run folder is built in a
temporary folder and renamed into place, so a failure never leaves half a run.

Run lengths: a volume stage is ``stage_ps``; the production is ``production_ps`` *plus*
``equilibration_ps`` (default 20 % of it, 2 ps of the paper's 10), so that the protocol's 10 ps are
kept after the detected equilibration is discarded — the ingest checks it (``short``). NSW is per
run, ps / POTIM, because POTIM follows the lightest element (:func:`~mixcalphad.aimd.protocol.md_timestep_fs`).

The INCAR and POTCARs are :mod:`.incar`'s, the SLURM scripts :mod:`.scheduler`'s, outputs are read by :mod:`.vasp_outputs`, the jobflow export is :mod:`.workflows`.
"""
from __future__ import annotations

import datetime as _dt
import json
import logging
import math
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np

from mixcalphad._io import write_text
from mixcalphad.errors import OutputExistsError, ProtocolError, SettingsMismatchError
from mixcalphad.aimd.incar import DEFAULT_RANKS, read_potcar, electron_count, format_incar, incar_tags, potcar_info
from mixcalphad.aimd.plan import RunPlan, RunSpec, plan_runs
from mixcalphad.aimd.protocol import MELTING_EXPANSION, PROTOCOL
from mixcalphad.aimd.settings import RunSettings
from mixcalphad.aimd.scheduler import NSW_TOTAL_MARK, write_job_lists, write_scheduler_files
from mixcalphad.aimd.settings import check_positive

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "mixcalphad-aimd-runs"
KPOINTS_GAMMA = "Gamma point only (use vasp_gam)\n0\nGamma\n1 1 1\n0 0 0\n"


# ---------------------------------------------------------------------- structures
def random_packing(composition: Mapping[str, int] | Iterable[tuple[str, int]], volume_A3: float, *,
                   min_distance_A: float | None = None, seed: int | np.random.Generator | None = 0,
                   max_tries_per_atom: int = 2000):
    """Random periodic packing of atoms in a cube, no two closer than a minimum distance.

    Parameters
    ----------
    composition : mapping or pairs
        Element → atom count.
    volume_A3 : float
        Cell volume, Å³.
    min_distance_A : float, optional
        Default 0.8·(V/N)^(1/3) (≈ 0.7 of the nearest-neighbour distance: a packing fraction of
        about 0.27, far below random sequential adsorption's jamming limit).
    seed : int or Generator

    Returns
    -------
    ase.Atoms
        Cubic, periodic, atoms grouped by species in the order of ``composition`` (as POTCAR).
    """
    from ase import Atoms

    items = list(composition.items() if isinstance(composition, Mapping) else composition)
    n = sum(int(c) for _, c in items)
    if n < 1 or volume_A3 <= 0:
        raise ProtocolError(f"cannot pack {n} atoms into {volume_A3} Å³")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    L = float(volume_A3) ** (1.0 / 3.0)
    d = float(min_distance_A) if min_distance_A else 0.8 * (volume_A3 / n) ** (1.0 / 3.0)
    pos = np.empty((n, 3))
    placed, tries = 0, 0
    while placed < n:
        if tries > max_tries_per_atom * n:
            raise ProtocolError(f"could not place {n} atoms {d:.2f} Å apart in a {L:.2f} Å cube; "
                                "lower min_distance_A or raise the volume")
        batch = rng.random((256, 3)) * L
        tries += len(batch)
        if placed:  # drop candidates too close to atoms already placed (vectorised)
            delta = batch[:, None, :] - pos[None, :placed, :]
            delta -= L * np.round(delta / L)
            batch = batch[np.min(np.einsum("ijk,ijk->ij", delta, delta), axis=1) >= d * d]
        for cand in batch:  # the survivors: check against each other, in order
            if placed == n:
                break
            if placed:
                delta = pos[:placed] - cand
                delta -= L * np.round(delta / L)
                if np.min(np.einsum("ij,ij->i", delta, delta)) < d * d:
                    continue
            pos[placed] = cand
            placed += 1
    symbols = [el.capitalize() for el, c in items for _ in range(int(c))]
    return Atoms(symbols=symbols, positions=pos, cell=[L, L, L], pbc=True)


def write_poscar(path: str | Path, atoms, comment: str = "") -> Path:
    """Write a POSCAR (VASP 5, direct coordinates, species in the atoms' order) atomically."""
    import io

    from ase.io import write

    buf = io.StringIO()
    write(buf, atoms, format="vasp", direct=True, sort=False)
    lines = buf.getvalue().splitlines()
    if comment:
        lines[0] = comment
    return write_text(path, "\n".join(lines) + "\n")


def rescale_poscar_text(text: str, volume_A3: float, comment: str | None = None) -> str:
    """A POSCAR/CONTCAR text with its scaling line set to ``-volume`` (VASP: target cell volume).

    Direct coordinates and velocities stay as they are, so a CONTCAR rescaled this way restarts
    with its velocities at the new volume.
    """
    lines = text.splitlines()
    if len(lines) < 8:
        raise ProtocolError("POSCAR text too short to rescale")
    lines[1] = f"  {-abs(volume_A3):.6f}"
    if comment:
        lines[0] = comment
    return "\n".join(lines) + "\n"



# ---------------------------------------------------------------------- run folders
def _write_inputs(folder: Path, settings: RunSettings, elements: list[str], nsw: int, system: str,
                  potcars: Mapping[str, dict], *, nelect: float | None = None, ranks: int = DEFAULT_RANKS,
                  restartable: bool = False) -> None:
    text = format_incar(incar_tags(settings, nsw, system=system, nelect=nelect, ranks=ranks))
    if restartable:  # the SLURM restart reads the total from here and sets NSW to what is left
        text = f"{NSW_TOTAL_MARK} {int(nsw)}\n" + text
    write_text(folder / "INCAR", text)
    write_text(folder / "KPOINTS", KPOINTS_GAMMA)
    write_text(folder / "POTCAR.spec", "".join(f"{potcars[el]['label']}\n" for el in elements))
    if all(potcars[el]["path"] for el in elements):
        write_text(folder / "POTCAR", "".join(read_potcar(Path(potcars[el]["path"])) for el in elements))


def stage_name(index: int, scale: float) -> str:
    """``s00_v0.960``: stage index and volume relative to the Vegard start."""
    return f"s{index:02d}_v{scale:.3f}"


def write_stage(run_dir: Path, spec: RunSpec, index: int, volume_A3: float, start_volume_A3: float, *,
                nsw: int, potcars: Mapping[str, dict], poscar_text: str | None = None, seed: int = 0,
                min_distance_A: float | None = None, nelect: float | None = None,
                ranks: int = DEFAULT_RANKS) -> Path:
    """Write one volume-search stage folder (atomically) and return it.

    ``poscar_text`` (a previous stage's CONTCAR/POSCAR) is rescaled to ``volume_A3``; without it a
    fresh random packing is made.
    """
    scale = volume_A3 / start_volume_A3
    final = run_dir / "volume" / stage_name(index, scale)
    if final.exists():
        raise OutputExistsError(f"{final} exists")
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        if poscar_text is None:
            atoms = random_packing(spec.composition, volume_A3, seed=seed, min_distance_A=min_distance_A)
            write_poscar(tmp / "POSCAR", atoms, comment=f"{spec.run_id} stage {index}")
        else:
            write_text(tmp / "POSCAR", rescale_poscar_text(poscar_text, volume_A3,
                                                           comment=f"{spec.run_id} stage {index}"))
        _write_inputs(tmp, spec.settings, list(spec.elements), nsw, f"{spec.run_id} volume stage {index}",
                      potcars, nelect=nelect, ranks=ranks)
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def _write_run(out: Path, spec: RunSpec, protocol: Mapping, potcars: Mapping[str, dict], seed: int,
               expansion: float) -> dict:
    final = out / spec.run_id
    v0 = spec.start_volume_A3(expansion)
    scales = protocol["volume_scales"]
    potim = spec.settings.potim_fs
    nsw_stage = int(math.ceil(protocol["stage_ps"] * 1000 / potim - 1e-9))
    nsw_production = int(math.ceil((protocol["production_ps"] + protocol["equilibration_ps"]) * 1000 / potim - 1e-9))
    nelect = electron_count(dict(spec.composition), potcars)
    ranks = protocol.get("ranks", DEFAULT_RANKS)
    tmp = Path(tempfile.mkdtemp(prefix=f".{spec.run_id}.", dir=out))
    try:
        # one packing at the smallest stage volume, rescaled (same fractional positions) for the others
        atoms = random_packing(spec.composition, v0 * min(scales), seed=seed)
        write_poscar(tmp / "POSCAR.start", atoms, comment=f"{spec.run_id} packing")
        text = (tmp / "POSCAR.start").read_text()
        (tmp / "POSCAR.start").unlink()
        for i, scale in enumerate(scales):
            write_stage(tmp, spec, i, v0 * scale, v0, nsw=nsw_stage, potcars=potcars, poscar_text=text,
                        nelect=nelect, ranks=ranks)
        prod = tmp / "production"
        prod.mkdir()
        _write_inputs(prod, spec.settings, list(spec.elements), nsw_production, f"{spec.run_id} production",
                      potcars, nelect=nelect, ranks=ranks, restartable=True)
        write_text(prod / "README", "POSCAR is written here when the volume search accepts a stage:\n"
                                    "  mixcalphad aimd status <runs> --advance\n")
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return {**spec.to_dict(), "start_volume_A3": v0, "seed": seed, "potim_fs": potim, "nsw_stage": nsw_stage,
            "nsw_production": nsw_production, "nelect": nelect,
            "potcars": {el: {k: v for k, v in potcars[el].items() if k != "path"} for el in spec.elements},
            "potcar_written": all(potcars[el]["path"] for el in spec.elements)}


def run_nsw(meta: Mapping, protocol: Mapping, stage: str) -> int:
    """NSW of a run's volume stages (``stage="stage"``) or production (``"production"``)."""
    key = f"nsw_{stage}"
    return int(meta[key] if key in meta else protocol[key])


# ---------------------------------------------------------------------- prepare
@dataclass(frozen=True)
class PreparedRuns:
    """What :func:`prepare_vasp_runs` wrote.

    Attributes
    ----------
    out : Path
    plan : RunPlan
    written, kept : tuple of str
        Run ids written now, and run ids already present (never overwritten).
    potcar_written : bool
        True when every run got a POTCAR (``$VASP_PP_PATH`` held all potentials).
    missing_potcars : tuple of str
        Labels not found under ``$VASP_PP_PATH``.
    """

    out: Path
    plan: RunPlan
    written: tuple[str, ...]
    kept: tuple[str, ...]
    potcar_written: bool
    missing_potcars: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"out": str(self.out), "n_binaries": len(self.plan.binaries), "n_runs": self.plan.n_runs,
                "n_runs_unshared": self.plan.n_runs_unshared, "runs_saved": self.plan.runs_saved,
                "written": list(self.written), "kept": list(self.kept),
                "potcar_written": self.potcar_written, "missing_potcars": list(self.missing_potcars),
                "warnings": list(self.plan.warnings)}


def read_manifest(out: str | Path) -> dict:
    """The manifest of a runs folder."""
    from mixcalphad.errors import IngestError

    path = Path(out) / MANIFEST
    if not path.is_file():
        raise IngestError(f"{out} has no {MANIFEST}; it was not made by 'mixcalphad aimd prepare' "
                          "(for loose run folders use 'mixcalphad aimd hmix')")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise IngestError(f"{path} is not valid JSON ({exc})") from None
    if data.get("format") != MANIFEST_FORMAT:
        raise IngestError(f"{path} is not a mixcalphad runs manifest")
    return data


def write_manifest(out: str | Path, manifest: Mapping) -> Path:
    return write_text(Path(out) / MANIFEST, json.dumps(manifest, indent=1, sort_keys=False) + "\n")


def prepare_vasp_runs(systems, out: str | Path, *, x_B=0.5, n_atoms: int = PROTOCOL["n_atoms"],
                      settings: RunSettings | None = None, margin_K: float = 0.0, grid_K: float = 50.0,
                      T_K: float | None = None, production_ps: float = PROTOCOL["production_ps"],
                      stage_ps: float = PROTOCOL["volume_stage_ps"],
                      volume_scales=PROTOCOL["volume_scales"], expansion: float = MELTING_EXPANSION,
                      seed: int = 0, pp_path: str | Path | None = None, equilibration_ps: float | None = None,
                      ranks: int = DEFAULT_RANKS) -> PreparedRuns:
    """Write VASP-ready run folders for a set of binaries (the paper's protocol).

    Parameters
    ----------
    systems : list of str, DataFrame, path to a plan CSV, or RunPlan
        Binaries (``["IR-AL", …]``) or a plan (see :func:`~mixcalphad.aimd.plan.plan_runs`).
    out : path
        The runs folder. An existing one is extended: runs already there are kept untouched, new
        runs and binaries are added; its settings must match.
    x_B, n_atoms, settings, margin_K, grid_K, T_K
        Passed to :func:`~mixcalphad.aimd.plan.plan_runs`.
    production_ps, stage_ps : float
        Production to keep after equilibration and volume-stage length, ps (> 0).
    equilibration_ps : float, optional
        Added to the production's NSW for the equilibration the analysis discards (default
        0.2 × ``production_ps``).
    ranks : int
        MPI ranks of the SLURM job (NCORE, KPAR, NBANDS rounding, ``--ntasks-per-node``).
    volume_scales : sequence of float
        Initial stages relative to the Vegard volume (0.96, 1.00, 1.04).
    expansion : float
        Melting expansion of the Vegard estimate.
    seed : int
        Packing seed (each run and stage gets its own, derived from it).
    pp_path : path, optional
        Potential library (default ``$VASP_PP_PATH``); POTCAR is written only when every potential
        of a run is found, POTCAR.spec always.

    Returns
    -------
    PreparedRuns

    Raises
    ------
    SettingsMismatchError
        ``out`` holds runs prepared with other settings.
    ProtocolError
        A non-positive length, volume scale, expansion below −1, or bad ranks (names the option).
    """
    production_ps = check_positive(production_ps, "production_ps")
    stage_ps = check_positive(stage_ps, "stage_ps")
    equilibration_ps = (0.2 * production_ps if equilibration_ps is None
                        else check_positive(equilibration_ps, "equilibration_ps", allow_zero=True))
    ranks = check_positive(ranks, "ranks", integer=True)
    volume_scales = [check_positive(v, "volume_scales") for v in volume_scales]
    if not volume_scales:
        raise ProtocolError("volume_scales must hold at least one volume")
    if not (math.isfinite(float(expansion)) and float(expansion) > -1):
        raise ProtocolError(f"expansion must be a number > -1, got {expansion!r}")
    out = Path(out)
    plan = systems if isinstance(systems, RunPlan) else plan_runs(
        systems, x_B=x_B, n_atoms=n_atoms, settings=settings, margin_K=margin_K, grid_K=grid_K, T_K=T_K)
    template = (settings or RunSettings()).replace(T_K=0.0, n_atoms=n_atoms)
    protocol = {"production_ps": production_ps, "stage_ps": stage_ps, "equilibration_ps": equilibration_ps,
                "volume_scales": volume_scales, "volume_clip": PROTOCOL["volume_clip"],
                "p_window_kbar": PROTOCOL["p_window_kbar"], "h0_bias_max_J": PROTOCOL["h0_bias_max_J"],
                "min_n_eff": PROTOCOL["min_n_eff"], "max_stages": 8, "expansion": float(expansion),
                "ranks": ranks}
    out.mkdir(parents=True, exist_ok=True)
    old = None
    if (out / MANIFEST).is_file():
        old = read_manifest(out)
        if old["settings_template"] != template.to_dict():
            diff = {k: (old["settings_template"].get(k), v) for k, v in template.to_dict().items()
                    if old["settings_template"].get(k) != v}
            raise SettingsMismatchError(f"{out} holds runs prepared with other settings {diff} "
                                        "(stored → new); prepare into a new folder")
        protocol = old["protocol"]
    runs_meta = dict(old["runs"]) if old else {}
    written, kept, missing = [], [], set()
    for i, spec in enumerate(plan.runs):
        pot = potcar_info(spec.settings, spec.elements, pp_path=pp_path)
        missing |= {p["label"] for p in pot.values() if not p["path"]}
        if spec.run_id in runs_meta or (out / spec.run_id).exists():
            if spec.run_id in runs_meta and runs_meta[spec.run_id]["key"] != spec.key():
                raise SettingsMismatchError(f"{out / spec.run_id} was prepared with other settings")
            kept.append(spec.run_id)
            continue
        run_seed = int(np.random.default_rng([seed, i]).integers(2**31))
        runs_meta[spec.run_id] = _write_run(out, spec, protocol, pot, run_seed, expansion)
        written.append(spec.run_id)
    binaries = {b["job_id"]: b for b in (old["binaries"] if old else [])}
    for b in plan.binaries:
        binaries.setdefault(b.job_id, b.to_dict())
    warnings = list(dict.fromkeys([*(old["warnings"] if old else []), *plan.warnings]))
    manifest = {
        "format": MANIFEST_FORMAT, "version": 1,
        "created": old["created"] if old else _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "settings_template": template.to_dict(), "protocol": protocol, "runs": runs_meta,
        "binaries": list(binaries.values()), "warnings": warnings,
        "n_runs": len(runs_meta), "n_runs_unshared": 3 * len(binaries),
        "runs_saved": 3 * len(binaries) - len(runs_meta),
    }
    write_scheduler_files(out, ranks=protocol.get("ranks", DEFAULT_RANKS))
    volume_jobs = [f"{rid}/volume/{d.name}" for rid in runs_meta
                   for d in sorted((out / rid / "volume").iterdir()) if d.is_dir() and not d.name.startswith(".")
                   and not (d / "vasprun.xml").exists() and not (d / "OUTCAR").exists()]
    write_job_lists(out, volume_jobs, [])
    write_manifest(out, manifest)
    if missing:
        log.info("POTCAR not written (not found under VASP_PP_PATH): %s; POTCAR.spec lists the labels",
                 ", ".join(sorted(missing)))
    return PreparedRuns(out, plan, tuple(written), tuple(kept),
                        all(m["potcar_written"] for m in runs_meta.values()), tuple(sorted(missing)))
