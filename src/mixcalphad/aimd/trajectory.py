"""The trajectory of a finished VASP MD run, and the helpers its readers share.

Readers: :mod:`.vasprun` (vasprun.xml), :mod:`.outcar` (OUTCAR, OSZICAR); folders and restart
chunks: :mod:`.vasp_outputs`.

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
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np

from mixcalphad.errors import AIMDParseError, MissingRunFilesError
from mixcalphad.aimd.settings import K_B_EV, KBAR_PER_EV_A3, RunSettings, smearing_rule

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
        T = parse_number(inc.get("TEBEG"))
        gga = str(inc.get("GGA", "--")).strip().upper()
        if gga and gga != "--":
            xc = _XC_FROM_GGA.get(gga, gga)
        elif self.potcars and all(t.startswith("PAW_PBE") for _, t in self.potcars):
            xc = "PBE"
        else:
            xc = "unknown"
        mdalgo = int(parse_number(inc.get("MDALGO"), 0))
        smass = parse_number(inc.get("SMASS"), -3.0)
        thermostat = {1: "andersen", 2: "nose-hoover", 3: "langevin", 4: "nose-hoover-chain",
                      5: "csvr"}.get(mdalgo)
        if thermostat is None:
            thermostat = "nose-hoover" if smass >= 0 else {-1: "scaling", -2: "fixed-velocity"}.get(
                int(smass), "nve")
        return RunSettings(
            T_K=T or 0.0, n_atoms=self.n_atoms, code="vasp", xc=xc, potcar_set="",
            potcars=self.potcars, encut_eV=parse_number(inc.get("ENCUT"), float("nan")),
            prec=str(inc.get("PREC", "unknown")).strip().capitalize(),
            smearing=smearing_rule(_int_or_none(inc.get("ISMEAR")), parse_number(inc.get("SIGMA")), T),
            ispin=int(parse_number(inc.get("ISPIN"), 1)), ediff_eV=parse_number(inc.get("EDIFF"), float("nan")),
            potim_fs=parse_number(inc.get("POTIM"), float("nan")), thermostat=thermostat, smass=smass,
            energy=ENERGY_DEFINITION)


def parse_number(value, default=None):
    """An INCAR value as a float (a trailing ``;`` allowed), ``default`` when absent or not a number."""
    if value is None:
        return default
    try:
        return float(str(value).strip().rstrip(";"))
    except ValueError:
        return default


def _int_or_none(value):
    v = parse_number(value)
    return None if v is None else int(v)


def parse_float(text: str, path: Path, what: str, *, line: int | None = None, step: int | None = None) -> float:
    """A number of an output file; :class:`AIMDParseError` naming the file, ``what``, line and step otherwise."""
    try:
        return float(text)
    except (TypeError, ValueError):
        raise AIMDParseError(path, f"unreadable number {text!r} in {what}", line=line, step=step) from None


def _vector(text: str, path: Path, what: str, step: int | None = None) -> list[float]:
    return [parse_float(t, path, what, step=step) for t in (text or "").split()]


def parse_matrix(varray, path: Path, what: str, step: int | None = None) -> np.ndarray:
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


def check_etotal(path: Path, e_free, ekin, es, eps, etotal, tolerance: float = ETOTAL_TOLERANCE_EV) -> list[str]:
    """Warnings (logged and returned) where F + EKIN + ES + EPS differs from ETOTAL by more than
    ``tolerance`` (eV); none when ETOTAL or EKIN is unknown."""
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

