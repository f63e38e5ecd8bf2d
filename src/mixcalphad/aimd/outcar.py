"""Reading the MD steps of an OUTCAR (line by line) and of an OSZICAR (see :mod:`.trajectory` for the
energy and pressure bookkeeping)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np

from mixcalphad.errors import AIMDParseError, MissingRunFilesError
from mixcalphad.aimd.trajectory import (OSZICAR_ETOTAL_TOLERANCE_EV, MDTrajectory, check_etotal, kinetic_pressure_kbar,
                                        parse_float, parse_number, temperature_from_ekin)


_TAG_RE = re.compile(r"\b(ENCUT|PREC|ISPIN|NSW|IBRION|ISIF|POTIM|TEBEG|TEEND|SMASS|EDIFF|ISMEAR|SIGMA|"
                     r"MDALGO|ISYM|GGA|LREAL|NBLOCK|NIONS)\s*=\s*([^\s;]+)")
_RE = {
    "version": re.compile(r"vasp\.(\S+)"),
    "titel": re.compile(r"TITEL\s*=\s*(.+?)\s*$"),
    "ions_per_type": re.compile(r"ions per type\s*=\s*(.+)$"),
    "volume": re.compile(r"volume of cell\s*:\s*(\S+)"),
    "p_ext": re.compile(r"external pressure\s*=\s*(\S+)\s*kB"),
    "p_kin": re.compile(r"kinetic pressure.*=\s*(\S+)\s*kB"),
    "p_total": re.compile(r"total pressure\s*=\s*(\S+)\s*kB"),
    "toten": re.compile(r"free\s+energy\s+TOTEN\s*=\s*(\S+)"),
    "wo": re.compile(r"energy\s+without\s+entropy\s*=\s*(\S+)\s+energy\(sigma->0\)\s*=\s*(\S+)"),
    "ekin": re.compile(r"kinetic energy EKIN\s*=\s*(\S+)"),
    "es": re.compile(r"nose potential ES\s*=\s*(\S+)"),
    "eps": re.compile(r"nose kinetic\s+EPS\s*=\s*(\S+)"),
    "etotal": re.compile(r"total energy\s+ETOTAL\s*=\s*(\S+)"),
}


def parse_outcar(path: str | Path) -> MDTrajectory:
    """Read the MD steps of an OUTCAR line by line (complete steps end at ``total energy ETOTAL``).

    Raises
    ------
    AIMDParseError
        No ion list or POTCAR titles, or an unreadable number (names the file and line).
    """
    path = Path(path)
    if not path.is_file():
        raise MissingRunFilesError(f"{path} does not exist")
    incar: dict = {}
    titels: list[str] = []
    counts: list[int] = []
    version = ""
    header = True
    cell = None
    volume = None
    steps: list[dict] = []
    cur: dict = {}
    in_free = False
    pending_pos = -1
    positions: list[list[list[float]]] = []
    pos_rows: list[list[float]] = []
    lattice_pending = 0
    lattice_rows: list[list[float]] = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, 1):
            if header:
                if not version and (m := _RE["version"].search(line)):
                    version = m.group(1)
                if m := _RE["titel"].search(line):
                    titels.append(" ".join(m.group(1).split()))
                if m := _RE["ions_per_type"].search(line):
                    counts = [int(v) for v in m.group(1).split()]
                for m in _TAG_RE.finditer(line):
                    incar.setdefault(m.group(1), m.group(2))
            if lattice_pending:
                lattice_rows.append([parse_float(v, path, "lattice vectors", line=lineno) for v in line.split()[:3]])
                lattice_pending -= 1
                if not lattice_pending and cell is None:
                    cell = np.array(lattice_rows)
                continue
            if "direct lattice vectors" in line:
                lattice_pending, lattice_rows = 3, []
                continue
            if pending_pos >= 0:
                if line.strip().startswith("---"):
                    if pending_pos == 0:
                        pending_pos = 1
                        continue
                    cur["positions"] = pos_rows
                    pending_pos = -1
                    continue
                pos_rows.append([parse_float(v, path, "POSITION block", line=lineno) for v in line.split()[:3]])
                continue
            if line.lstrip().startswith("POSITION") and "TOTAL-FORCE" in line:
                header = False
                pending_pos, pos_rows = 0, []
                continue
            if m := _RE["volume"].search(line):
                volume = parse_float(m.group(1), path, "volume of cell", line=lineno)
                continue
            if "FORCE on cell" in line:
                header = False
            if m := _RE["p_ext"].search(line):
                cur["p_ext"] = parse_float(m.group(1), path, "external pressure", line=lineno)
            elif m := _RE["p_kin"].search(line):
                cur["p_kin"] = parse_float(m.group(1), path, "kinetic pressure", line=lineno)
            elif m := _RE["p_total"].search(line):
                cur["p_total"] = parse_float(m.group(1), path, "total pressure", line=lineno)
            elif "FREE ENERGIE OF THE ION-ELECTRON SYSTEM" in line:
                header, in_free = False, True
            elif in_free and (m := _RE["toten"].search(line)):
                cur["F"] = parse_float(m.group(1), path, "TOTEN", line=lineno)
            elif in_free and (m := _RE["wo"].search(line)):
                cur["wo"] = parse_float(m.group(1), path, "energy without entropy", line=lineno)
                cur["e0"] = parse_float(m.group(2), path, "energy(sigma->0)", line=lineno)
            elif m := _RE["ekin"].search(line):
                cur["ekin"] = parse_float(m.group(1), path, "EKIN", line=lineno)
            elif m := _RE["es"].search(line):
                cur["es"] = parse_float(m.group(1), path, "nose potential ES", line=lineno)
            elif m := _RE["eps"].search(line):
                cur["eps"] = parse_float(m.group(1), path, "nose kinetic EPS", line=lineno)
            elif m := _RE["etotal"].search(line):
                cur["etotal"] = parse_float(m.group(1), path, "ETOTAL", line=lineno)
                missing = [k for k in ("F", "wo", "e0", "ekin") if k not in cur]
                if missing:
                    raise AIMDParseError(path, f"MD step without {missing} before ETOTAL", line=lineno)
                if volume is None:
                    raise AIMDParseError(path, "no 'volume of cell' before the first MD step", line=lineno)
                cur["volume"] = volume
                steps.append(cur)
                if "positions" in cur:
                    positions.append(cur["positions"])
                cur, in_free = {}, False
    if not titels:
        raise AIMDParseError(path, "no POTCAR titles (TITEL lines): not an OUTCAR, or cut off in its header")
    if not counts:
        n = int(parse_number(incar.get("NIONS"), 0))
        if len(titels) != 1 or not n:
            raise AIMDParseError(path, "no 'ions per type' line: cannot tell the composition")
        counts = [n]
    elements = [t.split()[1].split("_")[0].upper() if len(t.split()) > 1 else t.upper() for t in titels]
    symbols = tuple(el for el, c in zip(elements, counts) for _ in range(c))
    lost = int(bool(cur) or in_free)
    n = len(steps)

    def col(key):
        if n and all(key in s for s in steps):
            return np.array([s[key] for s in steps], float)
        return None

    ekin, vol = col("ekin"), col("volume")
    p_ext, p_kin, p_total = col("p_ext"), col("p_kin"), col("p_total")
    if p_ext is not None and p_kin is None and ekin is not None:
        p_kin = kinetic_pressure_kbar(ekin, vol)
    if p_total is None and p_ext is not None and p_kin is not None:
        p_total = p_ext + p_kin
    pos = None
    if positions and len(positions) == n and cell is not None:
        cart = np.array(positions, float)
        if cart.shape[1] == len(symbols):
            pos = np.mod(cart @ np.linalg.inv(cell), 1.0)
    e_free = col("F") if n else np.array([])
    warns = check_etotal(path, e_free, ekin, col("es"), col("eps"), col("etotal"))
    if lost:
        warns.append(f"{path} is truncated: kept {n} complete step(s), dropped {lost} partial step(s)")
    return MDTrajectory(
        path=path, files=(str(path),), source="OUTCAR", symbols=symbols,
        e_wo_entrp=col("wo") if n else np.array([]), e_free=e_free, e_0=col("e0") if n else np.array([]),
        ekin=ekin, volume=vol if n else np.array([]), p_ext_kbar=p_ext, p_kin_kbar=p_kin,
        p_total_kbar=p_total, nose_pot=col("es"), nose_kin=col("eps"), etotal=col("etotal"),
        temperature_K=temperature_from_ekin(ekin, len(symbols)) if ekin is not None else None,
        positions=pos, cell=cell, incar=incar, potcars=tuple(zip(elements, titels)), version=version,
        steps_lost=lost, truncated=bool(lost), warnings=tuple(warns))


# ---------------------------------------------------------------------- OSZICAR
_OSZ_RE = re.compile(r"^\s*(\d+)\s+T=\s*(\S+)\s+E=\s*(\S+)\s+F=\s*(\S+)\s+E0=\s*(\S+)\s+EK=\s*(\S+)"
                     r"(?:\s+SP=\s*(\S+)\s+SK=\s*(\S+))?")


def parse_oszicar(path: str | Path, *, symbols: Iterable[str], volume_A3: float,
                  incar: Mapping | None = None, potcars: Iterable[tuple[str, str]] = ()) -> MDTrajectory:
    """Read the MD lines of an OSZICAR (``N T= E= F= E0= EK= SP= SK=``).

    OSZICAR has no composition, volume, pressure or ``e_wo_entrp``; the caller passes the atoms
    and the (NVT) volume from POSCAR, and ``e_wo_entrp`` is ``2·E0 − F`` (VASP's E0 = (F + E)/2).
    A last line that is cut off is dropped and counted in ``steps_lost``.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingRunFilesError(f"{path} does not exist")
    rows, lost = [], 0
    with open(path, encoding="utf-8", errors="replace") as fh:
        lines = fh.read().split("\n")
    complete = lines[:-1]  # the text after the last newline is an unfinished line
    if lines[-1].strip():
        lost = 1
    for lineno, line in enumerate(complete, 1):
        m = _OSZ_RE.match(line)
        if not m:
            if re.match(r"^\s*\d+\s+T=", line):
                raise AIMDParseError(path, f"unreadable MD line {line.strip()!r}", line=lineno)
            continue
        rows.append([parse_float(v, path, "MD line", line=lineno) if v is not None else np.nan
                     for v in m.groups()])
    symbols = tuple(s.upper() for s in symbols)
    arr = np.array(rows, float).reshape(-1, 8)
    e_free, e0 = arr[:, 3], arr[:, 4]
    ekin = arr[:, 5]
    sp, sk = arr[:, 6], arr[:, 7]
    has_nose = len(arr) and not np.any(np.isnan(sp))
    warns = check_etotal(path, e_free, ekin, sp if has_nose else None, sk if has_nose else None,
                          arr[:, 2] if has_nose else None, tolerance=OSZICAR_ETOTAL_TOLERANCE_EV)
    if lost:
        warns.append(f"{path} is truncated: kept {len(arr)} complete step(s), dropped 1 partial line")
    return MDTrajectory(
        path=path, files=(str(path),), source="OSZICAR", symbols=symbols, e_wo_entrp=2 * e0 - e_free,
        e_free=e_free, e_0=e0, ekin=ekin, volume=np.full(len(arr), float(volume_A3)),
        nose_pot=sp if has_nose else None, nose_kin=sk if has_nose else None,
        etotal=arr[:, 2] if has_nose else None, temperature_K=arr[:, 1], incar=dict(incar or {}),
        potcars=tuple(potcars), steps_lost=lost, truncated=bool(lost), warnings=tuple(warns))


def potcar_titles(path: str | Path) -> list[str]:
    """The TITEL of every dataset in a POTCAR file, in order."""
    titles = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if m := _RE["titel"].search(line):
                titles.append(" ".join(m.group(1).split()))
    return titles
