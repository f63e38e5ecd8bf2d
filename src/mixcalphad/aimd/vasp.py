"""VASP inputs for the protocol: run folders, INCAR check, manifest, SLURM template, jobflow export.

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

Outputs are read by :mod:`mixcalphad.aimd.vasp_outputs` (re-exported here).
"""
from __future__ import annotations

import datetime as _dt
import gzip
import hashlib
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

from mixcalphad.errors import OutputExistsError
from mixcalphad._io import write_text
from mixcalphad.errors import OptionalDependencyError, ProtocolError, SettingsMismatchError
from mixcalphad.aimd.protocol import (MELTING_EXPANSION, PROTOCOL, RunPlan, RunSettings, RunSpec, plan_runs,
                       smearing_tags)
from mixcalphad.aimd.vasp_outputs import read_incar

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "mixcalphad-aimd-runs"
KPOINTS_GAMMA = "Gamma point only (use vasp_gam)\n0\nGamma\n1 1 1\n0 0 0\n"
#: Sub-folders of ``$VASP_PP_PATH`` searched for PBE potentials, in order.
PBE_FOLDERS = ("potpaw_PBE.54", "potpaw_PBE_54", "POT_GGA_PAW_PBE_54", "potpaw_PBE.64", "potpaw_PBE_64",
               "potpaw_PBE", "POT_GGA_PAW_PBE")
#: INCAR tags whose values :func:`check_incar` compares as numbers.
_NUMERIC = {"ENCUT", "EDIFF", "SIGMA", "POTIM", "TEBEG", "TEEND", "SMASS", "NSW", "ISIF", "ISYM", "IBRION",
            "MDALGO", "ISPIN", "ISMEAR", "NBLOCK", "NELMIN"}


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


# ---------------------------------------------------------------------- INCAR
def incar_tags(settings: RunSettings, nsw: int | None, *, system: str = "") -> dict[str, object]:
    """The INCAR of a protocol run (VASP 6; the paper's settings and aimd.md's traps).

    ISIF = 2 so that the stress (and so the pressure) is computed — IBRION = 0 alone defaults to
    ISIF = 0, no stress; MDALGO = 2 with SMASS = 0 is Nosé–Hoover; SIGMA = k_B·T with ISMEAR = −1
    (the ``fermi-kT`` rule).
    """
    if settings.thermostat != "nose-hoover":
        raise ProtocolError(f"VASP inputs support the nose-hoover thermostat (MDALGO = 2), not "
                            f"{settings.thermostat!r}")
    if settings.T_K <= 0:
        raise ProtocolError("run settings have no temperature (T_K = 0)")
    ismear, sigma = smearing_tags(settings.smearing, settings.T_K)
    gga = {"PBE": "PE", "PBESOL": "PS", "PW91": "91", "RPBE": "RP"}.get(settings.xc.upper())
    if gga is None:
        raise ProtocolError(f"unknown functional {settings.xc!r} for VASP (PBE, PBEsol, PW91, RPBE)")
    tags: dict[str, object] = {}
    if system:
        tags["SYSTEM"] = system
    tags.update({
        "PREC": settings.prec, "ENCUT": settings.encut_eV, "EDIFF": settings.ediff_eV, "ALGO": "Fast",
        "LREAL": "Auto", "GGA": gga, "ISPIN": settings.ispin, "ISMEAR": ismear, "SIGMA": sigma,
        "ISYM": 0, "IBRION": 0, "MDALGO": 2, "SMASS": settings.smass, "POTIM": settings.potim_fs,
        "TEBEG": settings.T_K, "TEEND": settings.T_K, "ISIF": 2, "NBLOCK": 1, "NELMIN": 4,
        "LWAVE": False, "LCHARG": False,
    })
    if nsw is not None:
        tags["NSW"] = int(nsw)
    return tags


def _fmt(value) -> str:
    if isinstance(value, bool):
        return ".TRUE." if value else ".FALSE."
    if isinstance(value, float):
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e6):
            return f"{value:.0E}".replace("E-0", "E-").replace("E+0", "E+")
        return f"{value:g}"
    return str(value)


def format_incar(tags: Mapping[str, object]) -> str:
    """INCAR text, one ``TAG = value`` per line."""
    width = max(len(k) for k in tags)
    return "".join(f"{k:<{width}} = {_fmt(v)}\n" for k, v in tags.items())


def _same(expected, found: str, tag: str) -> bool:
    if isinstance(expected, bool):
        return found.strip().upper().strip(".").startswith("T" if expected else "F")
    if tag in _NUMERIC:
        try:
            return math.isclose(float(expected), float(found.replace("d", "e").replace("D", "E")),
                                rel_tol=1e-6, abs_tol=1e-12)
        except ValueError:
            return False
    return str(expected).strip().lower() == found.strip().lower()


def check_incar(incar: str | Path | Mapping[str, str], settings: RunSettings, *,
                nsw: int | None = None) -> list[str]:
    """Problems of an INCAR against the protocol (an empty list when it matches).

    Parameters
    ----------
    incar : path or mapping
        An INCAR file, or its tags (upper-case names to raw strings).
    settings : RunSettings
    nsw : int, optional
        Expected NSW (not checked when None).

    Returns
    -------
    list of str
        One line per missing or differing tag, ``"ISIF: expected 2, found 0"``.
    """
    tags = read_incar(incar) if isinstance(incar, (str, Path)) else {k.upper(): str(v) for k, v in incar.items()}
    problems = []
    for tag, expected in incar_tags(settings, nsw).items():
        if tag not in tags:
            problems.append(f"{tag}: missing (expected {_fmt(expected)})")
        elif not _same(expected, tags[tag], tag):
            problems.append(f"{tag}: expected {_fmt(expected)}, found {tags[tag]}")
    return problems


def verify_incar(path: str | Path, settings: RunSettings, *, nsw: int | None = None) -> None:
    """Raise :class:`SettingsMismatchError` naming the file if its INCAR breaks the protocol."""
    problems = check_incar(path, settings, nsw=nsw)
    if problems:
        raise SettingsMismatchError(f"{path}: INCAR does not match the protocol: " + "; ".join(problems))


# ---------------------------------------------------------------------- POTCAR
def find_potcar(label: str, *, xc: str = "PBE", pp_path: str | Path | None = None) -> Path | None:
    """The POTCAR of a potential label under ``$VASP_PP_PATH`` (or ``pp_path``), or None."""
    root = pp_path or os.environ.get("VASP_PP_PATH")
    if not root:
        return None
    if xc.upper() != "PBE":
        return None
    for sub in PBE_FOLDERS:
        for name in ("POTCAR", "POTCAR.gz"):
            candidate = Path(root) / sub / label / name
            if candidate.is_file():
                return candidate
    return None


def _read_potcar(path: Path) -> str:
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as fh:
            return fh.read()
    return path.read_text(encoding="utf-8", errors="replace")


def potcar_info(settings: RunSettings, elements: Iterable[str], *,
                pp_path: str | Path | None = None) -> dict[str, dict]:
    """Per element: label, and where found, the file, its TITEL and SHA-256."""
    info = {}
    for el in elements:
        label = settings.potcar_label(el)
        path = find_potcar(label, xc=settings.xc, pp_path=pp_path)
        entry = {"label": label, "path": None, "titel": None, "sha256": None}
        if path is not None:
            text = _read_potcar(path)
            titel = next((ln.split("=", 1)[1].strip() for ln in text.splitlines() if "TITEL" in ln), None)
            entry.update(path=str(path), titel=titel, sha256=hashlib.sha256(text.encode()).hexdigest())
        info[el] = entry
    return info


# ---------------------------------------------------------------------- run folders
def _write_inputs(folder: Path, settings: RunSettings, elements: list[str], nsw: int, system: str,
                  potcars: Mapping[str, dict]) -> None:
    write_text(folder / "INCAR", format_incar(incar_tags(settings, nsw, system=system)))
    write_text(folder / "KPOINTS", KPOINTS_GAMMA)
    write_text(folder / "POTCAR.spec", "".join(f"{potcars[el]['label']}\n" for el in elements))
    if all(potcars[el]["path"] for el in elements):
        write_text(folder / "POTCAR", "".join(_read_potcar(Path(potcars[el]["path"])) for el in elements))


def stage_name(index: int, scale: float) -> str:
    """``s00_v0.960``: stage index and volume relative to the Vegard start."""
    return f"s{index:02d}_v{scale:.3f}"


def write_stage(run_dir: Path, spec: RunSpec, index: int, volume_A3: float, start_volume_A3: float, *,
                nsw: int, potcars: Mapping[str, dict], poscar_text: str | None = None, seed: int = 0,
                min_distance_A: float | None = None) -> Path:
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
                      potcars)
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def _write_run(out: Path, spec: RunSpec, protocol: Mapping, potcars: Mapping[str, dict], seed: int,
               expansion: float) -> dict:
    final = out / spec.run_id
    tmp = Path(tempfile.mkdtemp(prefix=f".{spec.run_id}.", dir=out))
    v0 = spec.start_volume_A3(expansion)
    scales = protocol["volume_scales"]
    try:
        # one packing at the smallest stage volume, rescaled (same fractional positions) for the others
        atoms = random_packing(spec.composition, v0 * min(scales), seed=seed)
        write_poscar(tmp / "POSCAR.start", atoms, comment=f"{spec.run_id} packing")
        text = (tmp / "POSCAR.start").read_text()
        (tmp / "POSCAR.start").unlink()
        for i, scale in enumerate(scales):
            write_stage(tmp, spec, i, v0 * scale, v0, nsw=protocol["nsw_stage"], potcars=potcars,
                        poscar_text=text)
        prod = tmp / "production"
        prod.mkdir()
        _write_inputs(prod, spec.settings, list(spec.elements), protocol["nsw_production"],
                      f"{spec.run_id} production", potcars)
        write_text(prod / "README", "POSCAR is written here when the volume search accepts a stage:\n"
                                    "  mixcalphad aimd status <runs> --advance\n")
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return {**spec.to_dict(), "start_volume_A3": v0, "seed": seed,
            "potcars": {el: {k: v for k, v in potcars[el].items() if k != "path"} for el in spec.elements},
            "potcar_written": all(potcars[el]["path"] for el in spec.elements)}


# ---------------------------------------------------------------------- scheduler
_SLURM = """#!/bin/bash
# SLURM array over the folders listed in {jobs} (one per line), written by mixcalphad.
# Submit with:  sbatch --array=1-$(wc -l < {jobs}) {script}
# Edit the #SBATCH lines for your cluster; VASP_CMD defaults to the Gamma-only build.
#SBATCH --job-name=mixcalphad-{stage}
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=32
#SBATCH --time={time}
#SBATCH --output=slurm-%A_%a.out
set -euo pipefail
cd "${{SLURM_SUBMIT_DIR:-.}}"
dir=$(sed -n "${{SLURM_ARRAY_TASK_ID}}p" {jobs})
cd "$dir"
{restart}${{VASP_CMD:-srun vasp_gam}} > vasp.out 2>&1
"""
_RESTART = """# restart in chunks: a previous (wall-time killed) part moves to chunk_NN, CONTCAR keeps velocities
if [ -s vasprun.xml ] || [ -s OSZICAR ]; then
  n=$(ls -d chunk_* 2>/dev/null | wc -l); c=$(printf 'chunk_%02d' $((n + 1))); mkdir "$c"
  for f in vasprun.xml OUTCAR OSZICAR XDATCAR CONTCAR vasp.out; do [ -e "$f" ] && mv "$f" "$c/"; done
  cp "$c/CONTCAR" POSCAR
fi
"""


def write_scheduler_files(out: Path) -> dict[str, Path]:
    """Write the SLURM array templates (volume stages and production) into ``out``."""
    files = {}
    for stage, time, restart in (("volume", "12:00:00", ""), ("production", "48:00:00", _RESTART)):
        jobs, script = f"{stage}_jobs.txt", f"slurm_{stage}.sh"
        files[stage] = write_text(out / script, _SLURM.format(jobs=jobs, script=script, stage=stage, time=time,
                                                              restart=restart))
        os.chmod(files[stage], 0o755)
    return files


def write_job_lists(out: Path, volume: list[str], production: list[str]) -> None:
    """Folders still to run, relative to ``out``, one per line."""
    write_text(out / "volume_jobs.txt", "".join(f"{p}\n" for p in volume))
    write_text(out / "production_jobs.txt", "".join(f"{p}\n" for p in production))


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
                      seed: int = 0, pp_path: str | Path | None = None) -> PreparedRuns:
    """Write VASP-ready run folders for a set of binaries (the paper's protocol).

    Parameters
    ----------
    systems : list of str, DataFrame, path to a plan CSV, or RunPlan
        Binaries (``["IR-AL", …]``) or a plan (see :func:`~mixcalphad.aimd.protocol.plan_runs`).
    out : path
        The runs folder. An existing one is extended: runs already there are kept untouched, new
        runs and binaries are added; its settings must match.
    x_B, n_atoms, settings, margin_K, grid_K, T_K
        Passed to :func:`~mixcalphad.aimd.protocol.plan_runs`.
    production_ps, stage_ps : float
        Production and volume-stage lengths, ps (NSW = ps / POTIM).
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
    """
    out = Path(out)
    plan = systems if isinstance(systems, RunPlan) else plan_runs(
        systems, x_B=x_B, n_atoms=n_atoms, settings=settings, margin_K=margin_K, grid_K=grid_K, T_K=T_K)
    template = (settings or RunSettings()).replace(T_K=0.0, n_atoms=n_atoms)
    potim = template.potim_fs
    protocol = {"production_ps": production_ps, "stage_ps": stage_ps,
                "nsw_production": int(math.ceil(production_ps * 1000 / potim)),
                "nsw_stage": int(math.ceil(stage_ps * 1000 / potim)),
                "volume_scales": [float(s) for s in volume_scales], "volume_clip": PROTOCOL["volume_clip"],
                "p_window_kbar": PROTOCOL["p_window_kbar"], "p_sem_max_kbar": PROTOCOL["p_sem_max_kbar"],
                "min_n_eff": PROTOCOL["min_n_eff"], "max_stages": 8, "expansion": expansion}
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
    write_scheduler_files(out)
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


# ---------------------------------------------------------------------- jobflow / atomate2
def to_jobflow_flow(out: str | Path, *, stage: str = "volume"):
    """The prepared runs as a jobflow ``Flow`` of atomate2 ``MDMaker`` jobs with our INCAR.

    Needs the optional packages atomate2 and jobflow (``pip install atomate2``); each job gets the
    POSCAR and the INCAR tags of a stage folder (``stage="volume"``) or of the production folders
    that have a POSCAR (``stage="production"``), Γ-only k-points, and the pinned POTCAR labels.

    Raises
    ------
    OptionalDependencyError
        atomate2, jobflow or pymatgen is not installed.
    """
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
            generator = MDSetGenerator(
                ensemble="nvt", start_temp=settings.T_K, end_temp=settings.T_K,
                nsteps=int(incar["NSW"]), time_step=settings.potim_fs,
                user_incar_settings={k: _typed(v) for k, v in incar.items()},
                user_kpoints_settings=Kpoints.gamma_automatic((1, 1, 1)),
                user_potcar_settings={el.capitalize(): settings.potcar_label(el) for el in meta["composition"]})
            maker = MDMaker(name=f"{rid} {folder.name}", input_set_generator=generator)
            jobs.append(maker.make(Structure.from_file(folder / "POSCAR")))
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
