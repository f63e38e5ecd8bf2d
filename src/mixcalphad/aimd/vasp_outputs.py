"""Reading finished VASP MD runs from their folders: vasprun.xml, else OUTCAR, else OSZICAR, restart
chunks concatenated, and a fast step count for the status.

The readers live in :mod:`.vasprun` and :mod:`.outcar`, the trajectory and its bookkeeping in
:mod:`.trajectory`; their public names are re-exported here.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np

from mixcalphad.errors import AIMDParseError, MissingRunFilesError
from mixcalphad.aimd.outcar import parse_oszicar, parse_outcar, potcar_titles
from mixcalphad.aimd.trajectory import OUTPUT_FILES, MDTrajectory, read_incar
from mixcalphad.aimd.vasprun import parse_vasprun


def _oszicar_context(folder: Path) -> dict:
    """Atoms, volume, INCAR and POTCAR identity of a folder, for an OSZICAR-only run."""
    from ase.io import read

    poscar = folder / "POSCAR"
    if not poscar.is_file():
        raise MissingRunFilesError(f"{folder}: OSZICAR alone needs the POSCAR beside it (atoms, volume)")
    try:
        atoms = read(poscar, format="vasp")
    except Exception as exc:  # noqa: BLE001 - ase raises many types on bad files
        raise AIMDParseError(poscar, f"cannot read POSCAR ({exc})") from None
    incar = read_incar(folder / "INCAR") if (folder / "INCAR").is_file() else {}
    elements = []
    for s in atoms.get_chemical_symbols():
        if s.upper() not in elements:
            elements.append(s.upper())
    potcars: list[tuple[str, str]] = []
    if (folder / "POTCAR").is_file():
        potcars = list(zip(elements, potcar_titles(folder / "POTCAR")))
    elif (folder / "POTCAR.spec").is_file():
        labels = (folder / "POTCAR.spec").read_text().split()
        potcars = [(el, f"label {lab}") for el, lab in zip(elements, labels)]
    return {"symbols": atoms.get_chemical_symbols(), "volume_A3": atoms.get_volume(), "incar": incar,
            "potcars": potcars}


def _has_outputs(folder: Path) -> bool:
    return any((folder / name).is_file() for name in OUTPUT_FILES)


def output_folders(folder: str | Path) -> list[Path]:
    """The folders holding outputs of one run, in order: restart chunks ``chunk_*`` then the folder."""
    folder = Path(folder)
    chunks = sorted(p for p in folder.glob("chunk_*") if p.is_dir() and _has_outputs(p))
    return chunks + ([folder] if _has_outputs(folder) else [])


def read_outputs(folder: str | Path, *, prefer: Iterable[str] = OUTPUT_FILES,
                 positions: bool = True) -> MDTrajectory:
    """Read one run from a folder: vasprun.xml, else OUTCAR, else OSZICAR (first with complete steps).

    Restart chunks (sub-folders ``chunk_01``, ``chunk_02``… each with its outputs, then the folder's
    own outputs) are concatenated in order.

    Raises
    ------
    MissingRunFilesError
        The folder does not exist or has none of the output files.
    AIMDParseError
        The files cannot be read, or have no complete MD step.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise MissingRunFilesError(f"run folder {folder} does not exist")
    parts = output_folders(folder)
    if not parts:
        raise MissingRunFilesError(f"{folder} has none of {', '.join(OUTPUT_FILES)}")
    trajs = [_read_one(p, tuple(prefer), positions) for p in parts]
    return trajs[0] if len(trajs) == 1 else concatenate(trajs, folder)


def _read_one(folder: Path, prefer: tuple[str, ...], positions: bool = True) -> MDTrajectory:
    errors = []
    for name in prefer:
        path = folder / name
        if not path.is_file():
            continue
        if name == "OSZICAR" and errors:
            # OUTCAR/vasprun.xml are there but broken: OSZICAR alone has no pressure and no POTCAR
            # identity, so reading it would hide the real problem behind a settings mismatch
            raise AIMDParseError(folder, "the output is truncated: " + "; ".join(errors) + " — copy the "
                                 "complete files again (an interrupted sync?) or rerun; OSZICAR alone has "
                                 "no pressure and no POTCAR identity")
        if path.stat().st_size == 0:
            errors.append(f"{name} is empty (0 bytes)")
            continue
        try:
            if name == "vasprun.xml":
                traj = parse_vasprun(path, positions=positions)
            elif name == "OUTCAR":
                traj = parse_outcar(path)
            elif name == "OSZICAR":
                traj = parse_oszicar(path, **_oszicar_context(folder))
            else:
                raise ValueError(f"unknown output file {name}")
        except AIMDParseError as exc:
            errors.append(f"{name} cut off or unreadable ({exc})")
            continue
        if traj.n_steps:
            return traj
        errors.append(f"{name} has no complete MD step")
    raise AIMDParseError(folder, "no readable MD steps: " + "; ".join(errors))


def concatenate(trajs: list[MDTrajectory], path: Path) -> MDTrajectory:
    """Join restart chunks of one run (same atoms and settings) into one trajectory."""
    first = trajs[0]
    for t in trajs[1:]:
        if t.symbols != first.symbols:
            raise AIMDParseError(t.path, f"restart chunk has other atoms than {first.path}")
        if t.settings().key() != first.settings().key():
            raise AIMDParseError(t.path, f"restart chunk has other settings than {first.path}")

    def cat(name):
        values = [getattr(t, name) for t in trajs]
        return None if any(v is None for v in values) else np.concatenate(values)

    # wrapped fractional positions: the analysis unwraps by the smallest jump, so a restart from
    # CONTCAR (the last positions of the previous chunk) joins without an artificial jump
    pos = None
    if all(t.positions is not None for t in trajs):
        pos = np.concatenate([t.positions for t in trajs])
    occ = trajs[-1].top_band_occupation
    return MDTrajectory(
        path=path, files=tuple(f for t in trajs for f in t.files),
        source="+".join(t.source for t in trajs), symbols=first.symbols,
        e_wo_entrp=cat("e_wo_entrp"), e_free=cat("e_free"), e_0=cat("e_0"), ekin=cat("ekin"),
        volume=cat("volume"), p_ext_kbar=cat("p_ext_kbar"), p_kin_kbar=cat("p_kin_kbar"),
        p_total_kbar=cat("p_total_kbar"), nose_pot=cat("nose_pot"), nose_kin=cat("nose_kin"),
        etotal=cat("etotal"), temperature_K=cat("temperature_K"), positions=pos, cell=trajs[-1].cell,
        incar=first.incar, potcars=first.potcars, version=first.version,
        steps_lost=sum(t.steps_lost for t in trajs), truncated=any(t.truncated for t in trajs),
        top_band_occupation=occ, warnings=tuple(w for t in trajs for w in t.warnings))


# ---------------------------------------------------------------------- quick step count
def _count(path: Path, needles: tuple[bytes, ...], chunk_size: int = 1 << 22) -> tuple[list[int], bytes]:
    """Occurrences of each needle in a file read in chunks, and the file's last bytes."""
    counts = [0] * len(needles)
    keep = max(len(n) for n in needles) - 1
    tail, last = b"", b""
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            buf = tail + chunk
            # count only matches that end in the new chunk, so none is counted twice
            for i, n in enumerate(needles):
                counts[i] += buf.count(n) - tail.count(n)
            tail = buf[-keep:] if keep else b""
            last = buf[-256:]
    return counts, last


def _steps_in(path: Path) -> tuple[int, bool, int]:
    """(complete steps, truncated, partial steps) of one output file, by counting markers."""
    if path.stat().st_size == 0:
        return 0, True, 0
    if path.name == "vasprun.xml":
        (done, started, closed), _ = _count(path, (b"</calculation>", b"<calculation>", b"</modeling>"))
        return done, closed == 0, max(started - done, 0)
    if path.name == "OUTCAR":
        (done, started), _ = _count(path, (b"total energy   ETOTAL", b"FREE ENERGIE OF THE ION-ELECTRON"))
        return done, started > done, max(started - done, 0)
    (done,), last = _count(path, (b" T= ",))
    partial = not last.endswith(b"\n")
    return done - int(partial and b" T= " in last.rsplit(b"\n", 1)[-1]), partial, int(partial)


def scan_steps(folder: str | Path) -> dict:
    """Complete MD steps in a run folder's outputs without parsing them (fast, for status).

    The first of vasprun.xml, OUTCAR, OSZICAR that exists is the one counted — as
    :func:`read_outputs` reads it. An OUTCAR or vasprun.xml that is empty, or has fewer complete
    steps than the OSZICAR beside it by more than the one step a kill can cut, is *truncated*: an
    interrupted copy, a full disk, a job killed while writing.

    Returns
    -------
    dict
        ``n_steps``, ``truncated`` (bool), ``steps_lost`` (partial steps), ``source`` (file name),
        ``problem`` (a message naming the truncated file, else None); restart chunks are summed.
        ``n_steps`` is 0 when no output has a complete step.
    """
    total = {"n_steps": 0, "truncated": False, "steps_lost": 0, "source": "", "problem": None}
    for part in output_folders(folder):
        present = [part / name for name in OUTPUT_FILES if (part / name).is_file()]
        counts = {p.name: _steps_in(p) for p in present}
        main = [p for p in present if p.name != "OSZICAR"]
        best = next((p for p in main if counts[p.name][0] > 0), None)
        osz = counts["OSZICAR"][0] if "OSZICAR" in counts else 0
        lagging = best is not None and best.name == "OUTCAR" and counts["OUTCAR"][0] < osz - 1
        if main and (best is None and osz > 0 or lagging):
            bad = best or main[-1]
            what = ("is empty (0 bytes)" if bad.stat().st_size == 0
                    else f"has {counts[bad.name][0]} complete MD step(s)")
            total["problem"] = (f"{bad} {what} but {part / 'OSZICAR'} has {osz}: the output is truncated (an "
                                "interrupted copy, a full disk, or a job killed while writing); copy it again "
                                "or rerun")
            total["truncated"] = True
        chosen = best or (part / "OSZICAR" if not main and osz else None)
        if chosen is not None:
            done, truncated, lost = counts[chosen.name]
            total["n_steps"] += done
            total["truncated"] |= truncated
            total["steps_lost"] += lost
            total["source"] = chosen.name
    return total
