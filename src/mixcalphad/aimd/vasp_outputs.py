"""Reading finished VASP MD runs: vasprun.xml (streaming, truncation-safe), OUTCAR and OSZICAR.

Every reader returns an :class:`MDTrajectory` of complete ionic steps with, per step, the
energies (eV per cell: ``e_wo_entrp``, free energy F, E(σ→0), kinetic EKIN, Nosé terms, ETOTAL where
the file has it), the volume (Å³), the pressure (kbar) split into the external (virial) part and
the kinetic part, and the positions where the file has them.

Energy bookkeeping (see ``shared/reference/aimd.md``):

* the per-step energy of the ΔH_mix protocol is ``e_wo_entrp + EKIN`` (:data:`ENERGY_DEFINITION`);
  OSZICAR has no ``e_wo_entrp`` but VASP prints E0 = (F + e_wo_entrp)/2, so it is ``2·E0 − F``;
* where the file also has ETOTAL, ``F + EKIN + ES + EPS`` must equal it (checked; a mismatch
  becomes a warning in :attr:`MDTrajectory.warnings` — it catches a sign error in the bookkeeping);
* pressure **includes the kinetic term**: vasprun's ``stress`` is the virial part only, so
  ``p = trace(stress)/3 + 2·EKIN/(3V)``; OUTCAR's ``total pressure`` line is used when present.

A file cut off by a wall-time kill keeps its complete steps: :attr:`MDTrajectory.steps_lost` says
how many partial steps were dropped and :attr:`MDTrajectory.truncated` that the file was cut.
"""
from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np

from mixcalphad.errors import AIMDParseError, MissingRunFilesError
from mixcalphad.aimd.protocol import K_B_EV, KBAR_PER_EV_A3, RunSettings, smearing_rule

log = logging.getLogger(__name__)

#: The per-step energy ΔH_mix uses.
ENERGY_DEFINITION = "e_wo_entrp+ekin"
#: Output files in order of preference.
OUTPUT_FILES = ("vasprun.xml", "OUTCAR", "OSZICAR")
#: Tolerance of the ETOTAL bookkeeping check, eV per cell (vasprun/OUTCAR print 6–8 decimals).
ETOTAL_TOLERANCE_EV = 2e-3
#: OSZICAR prints EK with 5 and SP/SK with 2 significant digits: a looser check (a sign error on
#: EKIN is tens of eV).
OSZICAR_ETOTAL_TOLERANCE_EV = 0.05

_XC_FROM_GGA = {"PE": "PBE", "PS": "PBEsol", "91": "PW91", "RP": "RPBE", "AM": "AM05", "CA": "LDA"}


@dataclass(frozen=True)
class MDTrajectory:
    """Complete ionic steps of one VASP MD run (or of its restart chunks, concatenated).

    Energies are eV per cell, volumes Å³, pressures kbar, positions fractional (wrapped, as VASP
    writes them). Arrays have one entry per step; optional quantities are ``None`` when the file
    does not have them.
    """

    path: Path
    files: tuple[str, ...]
    source: str
    symbols: tuple[str, ...]
    e_wo_entrp: np.ndarray
    e_free: np.ndarray
    e_0: np.ndarray
    ekin: np.ndarray | None
    volume: np.ndarray
    p_ext_kbar: np.ndarray | None = None
    p_kin_kbar: np.ndarray | None = None
    p_total_kbar: np.ndarray | None = None
    nose_pot: np.ndarray | None = None
    nose_kin: np.ndarray | None = None
    etotal: np.ndarray | None = None
    temperature_K: np.ndarray | None = None
    positions: np.ndarray | None = None
    cell: np.ndarray | None = None
    incar: Mapping = field(default_factory=dict)
    potcars: tuple[tuple[str, str], ...] = ()
    version: str = ""
    steps_lost: int = 0
    truncated: bool = False
    top_band_occupation: float | None = None
    warnings: tuple[str, ...] = ()

    # ------------------------------------------------------------------ basics
    @property
    def n_atoms(self) -> int:
        return len(self.symbols)

    @property
    def n_steps(self) -> int:
        return int(len(self.e_wo_entrp))

    @property
    def composition(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self.symbols:
            out[s] = out.get(s, 0) + 1
        return dict(sorted(out.items()))

    @property
    def nsw(self) -> int | None:
        value = self.incar.get("NSW")
        return int(value) if value is not None else None

    @property
    def timestep_fs(self) -> float | None:
        value = self.incar.get("POTIM")
        return float(value) if value is not None else None

    def energy(self, definition: str = ENERGY_DEFINITION) -> np.ndarray:
        """Per-step energy of the cell, eV, by definition (``e_wo_entrp+ekin``, ``e_wo_entrp``,
        ``e_0``, ``e_free``, ``e_free+ekin``)."""
        parts = definition.split("+")
        base = {"e_wo_entrp": self.e_wo_entrp, "e_0": self.e_0, "e_free": self.e_free}.get(parts[0])
        if base is None or any(p != "ekin" for p in parts[1:]):
            raise ValueError(f"unknown energy definition {definition!r}")
        if parts[1:]:
            if self.ekin is None:
                raise AIMDParseError(self.path, "no kinetic energy per step (EKIN) in the files read")
            return base + self.ekin
        return base.copy()

    @property
    def pressure_kbar(self) -> np.ndarray | None:
        """Total pressure per step (virial + kinetic), kbar; ``None`` without stress (ISIF = 0)."""
        if self.p_total_kbar is not None:
            return self.p_total_kbar
        if self.p_ext_kbar is None or self.p_kin_kbar is None:
            return None
        return self.p_ext_kbar + self.p_kin_kbar

    def settings(self) -> RunSettings:
        """The run's settings as VASP ran them (from the output's INCAR/parameters and POTCARs)."""
        inc = self.incar
        T = _num(inc.get("TEBEG"))
        gga = str(inc.get("GGA", "--")).strip().upper()
        if gga and gga != "--":
            xc = _XC_FROM_GGA.get(gga, gga)
        elif self.potcars and all(t.startswith("PAW_PBE") for _, t in self.potcars):
            xc = "PBE"
        else:
            xc = "unknown"
        mdalgo = int(_num(inc.get("MDALGO"), 0))
        smass = _num(inc.get("SMASS"), -3.0)
        thermostat = {1: "andersen", 2: "nose-hoover", 3: "langevin", 4: "nose-hoover-chain",
                      5: "csvr"}.get(mdalgo)
        if thermostat is None:
            thermostat = "nose-hoover" if smass >= 0 else {-1: "scaling", -2: "fixed-velocity"}.get(
                int(smass), "nve")
        return RunSettings(
            T_K=T or 0.0, n_atoms=self.n_atoms, code="vasp", xc=xc, potcar_set="",
            potcars=self.potcars, encut_eV=_num(inc.get("ENCUT"), float("nan")),
            prec=str(inc.get("PREC", "unknown")).strip().capitalize(),
            smearing=smearing_rule(_int_or_none(inc.get("ISMEAR")), _num(inc.get("SIGMA")), T),
            ispin=int(_num(inc.get("ISPIN"), 1)), ediff_eV=_num(inc.get("EDIFF"), float("nan")),
            potim_fs=_num(inc.get("POTIM"), float("nan")), thermostat=thermostat, smass=smass,
            energy=ENERGY_DEFINITION)


def _num(value, default=None):
    if value is None:
        return default
    try:
        return float(str(value).strip().rstrip(";"))
    except ValueError:
        return default


def _int_or_none(value):
    v = _num(value)
    return None if v is None else int(v)


def _float(text: str, path: Path, what: str, *, line: int | None = None, step: int | None = None) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        raise AIMDParseError(path, f"unreadable number {text!r} in {what}", line=line, step=step) from None


def _vector(text: str, path: Path, what: str, step: int | None = None) -> list[float]:
    return [_float(t, path, what, step=step) for t in (text or "").split()]


def _matrix(varray, path: Path, what: str, step: int | None = None) -> np.ndarray:
    """The rows of a ``<varray>`` as a float array (one conversion for the whole block)."""
    texts = [v.text or "" for v in varray.findall("v")]
    try:
        return np.array(" ".join(texts).split(), dtype=float).reshape(len(texts), -1)
    except ValueError:
        return np.array([_vector(t, path, what, step) for t in texts])


def kinetic_pressure_kbar(ekin_eV, volume_A3) -> np.ndarray:
    """Ideal-gas (kinetic) pressure 2·EKIN/(3V), kbar."""
    return 2.0 * np.asarray(ekin_eV, float) / (3.0 * np.asarray(volume_A3, float)) * KBAR_PER_EV_A3


def temperature_from_ekin(ekin_eV, n_atoms: int) -> np.ndarray:
    """Instantaneous temperature 2·EKIN/(k_B·(3N − 3)), K (VASP removes the centre-of-mass motion)."""
    return 2.0 * np.asarray(ekin_eV, float) / (K_B_EV * max(3 * n_atoms - 3, 1))


def _check_etotal(path: Path, e_free, ekin, es, eps, etotal, tolerance: float = ETOTAL_TOLERANCE_EV) -> list[str]:
    if etotal is None or ekin is None:
        return []
    es = np.zeros_like(e_free) if es is None else es
    eps = np.zeros_like(e_free) if eps is None else eps
    diff = np.abs(e_free + ekin + es + eps - etotal)
    bad = np.flatnonzero(diff > tolerance)
    if len(bad):
        msg = (f"{path}: F + EKIN + ES + EPS differs from ETOTAL at {len(bad)} step(s), first at step "
               f"{bad[0] + 1} by {diff[bad[0]]:.4g} eV — the energy bookkeeping of this file is not understood")
        log.warning(msg)
        return [msg]
    return []


# ---------------------------------------------------------------------- vasprun.xml
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
    warns = _check_etotal(path, e_free, ekin, *nose, etotal)
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
            cols[name].append(_float((values[name] or "").strip(), path, f"<i name={name!r}>", step=step))
        elif name == "total":
            cols[name].append(float("nan"))
    structure = elem.find("structure")
    pos = cell = None
    if structure is not None:
        crystal = structure.find("crystal")
        if crystal is not None:
            for va in crystal.findall("varray"):
                if va.get("name") == "basis":
                    cell = _matrix(va, path, "basis", step)
            for i in crystal.findall("i"):
                if i.get("name") == "volume":
                    cols["volume"].append(_float((i.text or "").strip(), path, "volume", step=step))
        for va in structure.findall("varray"):
            if va.get("name") == "positions" and keep_positions:
                pos = _matrix(va, path, "positions", step)
    if len(cols["volume"]) < step:
        if cell is None:
            raise AIMDParseError(path, "<calculation> without cell volume", step=step)
        cols["volume"].append(abs(float(np.linalg.det(cell))))
    for va in elem.findall("varray"):
        if va.get("name") == "stress":
            s = _matrix(va, path, "stress", step)
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
                    tops.append(_float(parts[1], path, "eigenvalue occupation", step=step))
        occ = max(tops) if tops else None
    return pos, cell, occ


# ---------------------------------------------------------------------- OUTCAR
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
                lattice_rows.append([_float(v, path, "lattice vectors", line=lineno) for v in line.split()[:3]])
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
                pos_rows.append([_float(v, path, "POSITION block", line=lineno) for v in line.split()[:3]])
                continue
            if line.lstrip().startswith("POSITION") and "TOTAL-FORCE" in line:
                header = False
                pending_pos, pos_rows = 0, []
                continue
            if m := _RE["volume"].search(line):
                volume = _float(m.group(1), path, "volume of cell", line=lineno)
                continue
            if "FORCE on cell" in line:
                header = False
            if m := _RE["p_ext"].search(line):
                cur["p_ext"] = _float(m.group(1), path, "external pressure", line=lineno)
            elif m := _RE["p_kin"].search(line):
                cur["p_kin"] = _float(m.group(1), path, "kinetic pressure", line=lineno)
            elif m := _RE["p_total"].search(line):
                cur["p_total"] = _float(m.group(1), path, "total pressure", line=lineno)
            elif "FREE ENERGIE OF THE ION-ELECTRON SYSTEM" in line:
                header, in_free = False, True
            elif in_free and (m := _RE["toten"].search(line)):
                cur["F"] = _float(m.group(1), path, "TOTEN", line=lineno)
            elif in_free and (m := _RE["wo"].search(line)):
                cur["wo"] = _float(m.group(1), path, "energy without entropy", line=lineno)
                cur["e0"] = _float(m.group(2), path, "energy(sigma->0)", line=lineno)
            elif m := _RE["ekin"].search(line):
                cur["ekin"] = _float(m.group(1), path, "EKIN", line=lineno)
            elif m := _RE["es"].search(line):
                cur["es"] = _float(m.group(1), path, "nose potential ES", line=lineno)
            elif m := _RE["eps"].search(line):
                cur["eps"] = _float(m.group(1), path, "nose kinetic EPS", line=lineno)
            elif m := _RE["etotal"].search(line):
                cur["etotal"] = _float(m.group(1), path, "ETOTAL", line=lineno)
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
        n = int(_num(incar.get("NIONS"), 0))
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
    warns = _check_etotal(path, e_free, ekin, col("es"), col("eps"), col("etotal"))
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
        rows.append([_float(v, path, "MD line", line=lineno) if v is not None else np.nan
                     for v in m.groups()])
    symbols = tuple(s.upper() for s in symbols)
    arr = np.array(rows, float).reshape(-1, 8)
    e_free, e0 = arr[:, 3], arr[:, 4]
    ekin = arr[:, 5]
    sp, sk = arr[:, 6], arr[:, 7]
    has_nose = len(arr) and not np.any(np.isnan(sp))
    warns = _check_etotal(path, e_free, ekin, sp if has_nose else None, sk if has_nose else None,
                          arr[:, 2] if has_nose else None, tolerance=OSZICAR_ETOTAL_TOLERANCE_EV)
    if lost:
        warns.append(f"{path} is truncated: kept {len(arr)} complete step(s), dropped 1 partial line")
    return MDTrajectory(
        path=path, files=(str(path),), source="OSZICAR", symbols=symbols, e_wo_entrp=2 * e0 - e_free,
        e_free=e_free, e_0=e0, ekin=ekin, volume=np.full(len(arr), float(volume_A3)),
        nose_pot=sp if has_nose else None, nose_kin=sk if has_nose else None,
        etotal=arr[:, 2] if has_nose else None, temperature_K=arr[:, 1], incar=dict(incar or {}),
        potcars=tuple(potcars), steps_lost=lost, truncated=bool(lost), warnings=tuple(warns))


# ---------------------------------------------------------------------- input files
def read_incar(path: str | Path) -> dict[str, str]:
    """INCAR tags as upper-case names to raw string values (comments after ``#``/``!`` dropped,
    several ``TAG = value`` per line allowed with ``;``)."""
    path = Path(path)
    if not path.is_file():
        raise MissingRunFilesError(f"{path} does not exist")
    tags: dict[str, str] = {}
    for lineno, raw in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        line = re.split(r"[#!]", raw, maxsplit=1)[0]
        for part in line.split(";"):
            if not part.strip():
                continue
            if "=" not in part:
                raise AIMDParseError(path, f"cannot read {part.strip()!r} as TAG = value", line=lineno)
            name, value = part.split("=", 1)
            tags[name.strip().upper()] = value.strip()
    return tags


def potcar_titles(path: str | Path) -> list[str]:
    """The TITEL of every dataset in a POTCAR file, in order."""
    titles = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if m := _RE["titel"].search(line):
                titles.append(" ".join(m.group(1).split()))
    return titles


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
            errors.append(str(exc))
            continue
        if traj.n_steps:
            return traj
        errors.append(f"{path}: no complete MD step")
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


def scan_steps(folder: str | Path) -> dict:
    """Complete MD steps in a run folder's outputs without parsing them (fast, for status).

    Returns
    -------
    dict
        ``n_steps``, ``truncated`` (bool), ``steps_lost`` (partial steps), ``source`` (file name);
        restart chunks are summed. ``n_steps`` is 0 when no output has a complete step.
    """
    total = {"n_steps": 0, "truncated": False, "steps_lost": 0, "source": ""}
    for part in output_folders(folder):
        for name in OUTPUT_FILES:
            path = part / name
            if not path.is_file() or path.stat().st_size == 0:
                continue
            if name == "vasprun.xml":
                (done, started, closed), last = _count(path, (b"</calculation>", b"<calculation>", b"</modeling>"))
                info = (done, closed == 0, max(started - done, 0))
            elif name == "OUTCAR":
                (done, started), last = _count(path, (b"total energy   ETOTAL", b"FREE ENERGIE OF THE ION-ELECTRON"))
                info = (done, started > done, max(started - done, 0))
            else:
                (done,), last = _count(path, (b" T= ",))
                partial = not last.endswith(b"\n")
                info = (done - int(partial and b" T= " in last.rsplit(b"\n", 1)[-1]), partial, int(partial))
            if info[0] > 0:
                total["n_steps"] += info[0]
                total["truncated"] |= info[1]
                total["steps_lost"] += info[2]
                total["source"] = name
                break
    return total
