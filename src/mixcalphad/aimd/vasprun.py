"""Reading an MD vasprun.xml by streaming: constant memory per step, complete steps kept when the
file is cut off (see :mod:`.trajectory` for the energy and pressure bookkeeping)."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from mixcalphad.errors import AIMDParseError, MissingRunFilesError
from mixcalphad.aimd.trajectory import (MDTrajectory, check_etotal, parse_float, parse_matrix, kinetic_pressure_kbar,
                                        temperature_from_ekin)


def _xml_value(elem) -> object:
    text = (elem.text or "").strip()
    kind = elem.get("type")
    if kind == "string":
        return text
    if kind == "logical":
        return text.upper().startswith(("T", ".T"))
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            return text
    try:
        return float(text)
    except ValueError:
        return text


def parse_vasprun(path: str | Path, *, positions: bool = True) -> MDTrajectory:
    """Read an MD vasprun.xml by streaming (constant memory per step), keeping complete steps.

    Parameters
    ----------
    path : str or Path
    positions : bool
        Keep the positions of every step (False: faster, for runs that need only energies and
        pressures).

    Returns
    -------
    MDTrajectory
        ``truncated`` is True when the file ends before ``</modeling>``; ``steps_lost`` counts
        the partial ``<calculation>`` dropped (0 or 1).

    Raises
    ------
    AIMDParseError
        Not XML, cut off before the atom list, or an unreadable number (names the file and step).
    """
    path = Path(path)
    if not path.is_file():
        raise MissingRunFilesError(f"{path} does not exist")
    incar: dict = {}
    params: dict = {}
    symbols: list[str] = []
    potcars: list[tuple[str, str]] = []
    version = ""
    cols: dict[str, list] = {k: [] for k in ("e_fr_energy", "e_wo_entrp", "e_0_energy", "kinetic",
                                              "nosepot", "nosekinetic", "total", "volume", "p_ext")}
    keep_positions = positions
    positions: list[np.ndarray] = []
    cell = None
    top_occ = None
    truncated, lost = False, 0
    header_done = False
    for kind, block in _vasprun_blocks(path):
        if kind == "header":
            try:
                root = ET.fromstring(block + "</modeling>")
            except ET.ParseError as exc:
                raise AIMDParseError(path, f"not a readable vasprun.xml header ({exc}); cut off before "
                                           "the first MD step?") from None
            for elem in root:
                if elem.tag == "generator":
                    for i in elem.iter("i"):
                        if i.get("name") == "version":
                            version = (i.text or "").strip()
                elif elem.tag == "incar":
                    incar = {i.get("name"): _xml_value(i) for i in elem.iter("i")}
                elif elem.tag == "parameters":
                    for i in elem.iter("i"):
                        params.setdefault(i.get("name"), _xml_value(i))
                elif elem.tag == "atominfo":
                    symbols, potcars = _atominfo(elem, path)
            if not symbols:
                raise AIMDParseError(path, "no <atominfo> before the first MD step")
            header_done = True
        elif kind == "calculation":
            step = len(cols["total"]) + 1
            try:
                elem = ET.fromstring(block)
            except ET.ParseError as exc:
                raise AIMDParseError(path, f"malformed <calculation> ({exc})", step=step) from None
            pos, cell_now, occ = _calculation(elem, path, step, cols, keep_positions)
            if pos is not None:
                if pos.shape != (len(symbols), 3):
                    raise AIMDParseError(path, f"{pos.shape[0]} positions for {len(symbols)} atoms", step=step)
                positions.append(pos)
            if cell_now is not None:
                cell = cell_now
            if occ is not None:
                top_occ = occ
        else:  # the tail after the last complete step
            truncated = "</modeling>" not in block
            lost = int("<calculation>" in block)
    if not header_done:
        raise AIMDParseError(path, "not a vasprun.xml with MD steps (no <calculation> found); cut off in "
                                   "its header?")
    n = len(cols["total"])
    if positions and len(positions) != n:
        positions = []
    eff = {**params, **incar}
    ekin = np.array(cols["kinetic"]) if len(cols["kinetic"]) == n and n else None
    volume = np.array(cols["volume"])
    p_ext = np.array(cols["p_ext"]) if len(cols["p_ext"]) == n and n else None
    p_kin = kinetic_pressure_kbar(ekin, volume) if ekin is not None and p_ext is not None else None
    arr = {k: np.array(v, float) for k, v in cols.items()}
    e_free = arr["e_fr_energy"]
    nose = (arr["nosepot"] if len(cols["nosepot"]) == n and n else None,
            arr["nosekinetic"] if len(cols["nosekinetic"]) == n and n else None)
    etotal = arr["total"] if n and len(cols["total"]) == n and not np.all(np.isnan(arr["total"])) else None
    warns = check_etotal(path, e_free, ekin, *nose, etotal)
    if truncated:
        warns.append(f"{path} is truncated: kept {n} complete step(s), dropped {lost} partial step(s)")
    return MDTrajectory(
        path=path, files=(str(path),), source="vasprun.xml", symbols=tuple(symbols),
        e_wo_entrp=arr["e_wo_entrp"], e_free=e_free, e_0=arr["e_0_energy"], ekin=ekin, volume=volume,
        p_ext_kbar=p_ext, p_kin_kbar=p_kin, nose_pot=nose[0], nose_kin=nose[1], etotal=etotal,
        temperature_K=temperature_from_ekin(ekin, len(symbols)) if ekin is not None else None,
        positions=np.array(positions) if positions else None, cell=cell, incar=eff,
        potcars=tuple(potcars), version=version, steps_lost=lost, truncated=truncated,
        top_band_occupation=top_occ, warnings=tuple(warns))


def _vasprun_blocks(path: Path, chunk_size: int = 1 << 20):
    """Yield ("header", text), then ("calculation", text) per complete step, then ("tail", text).

    The file is read in chunks, so memory stays at one step however long the run; a file cut off
    anywhere yields the complete steps before the cut and the partial rest as the tail.
    """
    start_tag, end_tag = "<calculation>", "</calculation>"
    buf = ""
    header_sent = False
    with open(path, encoding="latin-1") as fh:
        while True:
            chunk = fh.read(chunk_size)
            buf += chunk
            if not header_sent:
                i = buf.find(start_tag)
                if i < 0:
                    if not chunk:
                        return
                    continue
                yield "header", buf[:i]
                buf = buf[i:]
                header_sent = True
            pos = 0
            while True:
                i = buf.find(start_tag, pos)
                j = buf.find(end_tag, i + 1) if i >= 0 else -1
                if i < 0 or j < 0:
                    break
                yield "calculation", buf[i:j + len(end_tag)]
                pos = j + len(end_tag)
            buf = buf[pos:]
            if not chunk:
                yield "tail", buf
                return


def _atominfo(elem, path: Path) -> tuple[list[str], list[tuple[str, str]]]:
    symbols, potcars = [], []
    for array in elem.iter("array"):
        rows = [[(c.text or "").strip() for c in rc.iter("c")] for rc in array.iter("rc")]
        if array.get("name") == "atoms":
            symbols = [r[0].upper() for r in rows if r]
        elif array.get("name") == "atomtypes":
            fields = [(f.text or "").strip() for f in array.iter("field")]
            try:
                i_el, i_pp = fields.index("element"), fields.index("pseudopotential")
            except ValueError:
                i_el, i_pp = 1, 4
            potcars = [(r[i_el].upper(), " ".join(r[i_pp].split())) for r in rows if len(r) > i_pp]
    if not symbols:
        raise AIMDParseError(path, "<atominfo> has no atom list")
    return symbols, potcars


def _calculation(elem, path: Path, step: int, cols: dict, keep_positions: bool = True):
    energy = elem.find("energy")
    if energy is None:
        raise AIMDParseError(path, "<calculation> without <energy>", step=step)
    values = {i.get("name"): i.text for i in energy.findall("i")}
    for name in ("e_fr_energy", "e_wo_entrp", "e_0_energy"):
        if name not in values:
            raise AIMDParseError(path, f"<energy> lacks {name}", step=step)
    for name in ("e_fr_energy", "e_wo_entrp", "e_0_energy", "kinetic", "nosepot", "nosekinetic", "total"):
        if name in values:
            cols[name].append(parse_float((values[name] or "").strip(), path, f"<i name={name!r}>", step=step))
        elif name == "total":
            cols[name].append(float("nan"))
    structure = elem.find("structure")
    pos = cell = None
    if structure is not None:
        crystal = structure.find("crystal")
        if crystal is not None:
            for va in crystal.findall("varray"):
                if va.get("name") == "basis":
                    cell = parse_matrix(va, path, "basis", step)
            for i in crystal.findall("i"):
                if i.get("name") == "volume":
                    cols["volume"].append(parse_float((i.text or "").strip(), path, "volume", step=step))
        for va in structure.findall("varray"):
            if va.get("name") == "positions" and keep_positions:
                pos = parse_matrix(va, path, "positions", step)
    if len(cols["volume"]) < step:
        if cell is None:
            raise AIMDParseError(path, "<calculation> without cell volume", step=step)
        cols["volume"].append(abs(float(np.linalg.det(cell))))
    for va in elem.findall("varray"):
        if va.get("name") == "stress":
            s = parse_matrix(va, path, "stress", step)
            cols["p_ext"].append(float(np.trace(s)) / 3.0)
    occ = None
    eig = elem.find("eigenvalues")
    if eig is not None:
        tops = []
        for kset in eig.iter("set"):
            rs = kset.findall("r")
            if rs:
                parts = (rs[-1].text or "").split()
                if len(parts) >= 2:
                    tops.append(parse_float(parts[1], path, "eigenvalue occupation", step=step))
        occ = max(tops) if tops else None
    return pos, cell, occ
