"""The founding paper's AIMD protocol as data: run temperature, starting volume, run settings, and a
run plan for many binaries in which pure-element reference runs are shared.

Units: K and eV inside this subpackage (eV/atom for energies, Å³ for volumes, kbar for pressures);
J/mol of atoms at the public boundary (see :mod:`mixcalphad.aimd.analysis`).

Rules
-----
* **Temperature** (:func:`run_temperature`): the higher melting point of the pair (SGTE ``T_melt_K``
  of the element table) plus a margin, snapped *up* to a grid (default 50 K) so that one pure-element
  run serves every pair at that temperature; the result is always strictly above both melting points.
  With the defaults this reproduces the paper's Ir 2750 K, Re 3500 K and W 3700 K; for Os it gives
  3350 K, because the paper's 3300 K lies 6 K *below* SGTE's melting point of Os (3306 K) — pass
  ``T_K`` in the plan to reproduce the paper exactly (a warning then says the run is below T_melt).
  Warnings: a partner above its boiling point (Mg, Ca, As… at refractory temperatures), and a known
  liquidus above both melting points (a congruent compound such as B2 AlNi at 1911 K), which the
  caller passes as ``liquidus_K`` — T is then raised above it.
* **Starting volume** (:func:`vegard_volume_A3`): Vegard's law over elemental *liquid* molar volumes,
  each estimated as the element table's solid molar volume (room-temperature density) times
  ``1 + MELTING_EXPANSION`` with ``MELTING_EXPANSION = 0.12``: the ratio of the liquid volume at the
  melting point to the room-temperature solid volume is 1.12 for Cu and Fe and 1.13–1.14 for Al and
  Ni (liquid densities of Iida & Guthrie). It is only a start: the volume search sets the volume.
  Elements that contract on melting (Si, Ge, Bi, Ga) start a little too large.
* **Settings** (:class:`RunSettings`): every non-composition setting that changes the energy, with a
  canonical :meth:`RunSettings.key`; two runs may be combined into a ΔH_mix only when their keys,
  restricted to the elements they share, are equal.

Example
-------
>>> run_temperature("IR", "AL").T_K
2750.0
>>> plan = plan_runs(["IR-AL", "IR-TI", "OS-AL"])
>>> plan.n_runs, plan.n_runs_unshared
(8, 9)
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from mixcalphad.chem.binaries import normalize_symbol, parse_system, sorted_pair, system_name
from mixcalphad.chem.elements import element_property, get_element
from mixcalphad.errors import MixcalphadError
from mixcalphad.errors import ProtocolError

log = logging.getLogger(__name__)

#: Boltzmann constant, eV/K.
K_B_EV = 8.617333262e-5
#: 1 eV/atom in J/mol of atoms.
EV_TO_J_PER_MOL = 96485.33212
#: 1 eV/Å³ in kbar.
KBAR_PER_EV_A3 = 1602.1766208
#: Avogadro constant, 1/mol.
AVOGADRO = 6.02214076e23
#: 1 cm³/mol per atom in Å³.
A3_PER_CM3_MOL = 1e24 / AVOGADRO

DEFAULT_GRID_K = 50.0
DEFAULT_MARGIN_K = 0.0
#: Liquid volume at T_melt over room-temperature solid volume, minus one (see the module docstring).
MELTING_EXPANSION = 0.12
#: The paper's run temperatures (K) of the four refractory elements.
PAPER_TEMPERATURES_K = {"IR": 2750.0, "OS": 3300.0, "RE": 3500.0, "W": 3700.0}
#: The paper's protocol numbers that the inputs must follow.
PROTOCOL = {"n_atoms": 100, "x_B": 0.5, "potim_fs": 3.0, "encut_eV": 400.0, "production_ps": 10.0,
            "volume_stage_ps": 3.0, "volume_scales": (0.96, 1.0, 1.04), "volume_clip": 0.10,
            "p_window_kbar": 2.0, "p_sem_max_kbar": 1.0, "min_n_eff": 50}

#: VASP's recommended PAW-PBE (PBE.54) potential per element; the paper does not name its POTCARs,
#: so these are the pinned default — override them with ``RunSettings(potcars=...)``.
RECOMMENDED_POTCARS = {
    "H": "H", "HE": "He", "LI": "Li_sv", "BE": "Be", "B": "B", "C": "C", "N": "N", "O": "O",
    "F": "F", "NE": "Ne", "NA": "Na_pv", "MG": "Mg", "AL": "Al", "SI": "Si", "P": "P", "S": "S",
    "CL": "Cl", "AR": "Ar", "K": "K_sv", "CA": "Ca_sv", "SC": "Sc_sv", "TI": "Ti_sv", "V": "V_sv",
    "CR": "Cr_pv", "MN": "Mn_pv", "FE": "Fe", "CO": "Co", "NI": "Ni", "CU": "Cu", "ZN": "Zn",
    "GA": "Ga_d", "GE": "Ge_d", "AS": "As", "SE": "Se", "BR": "Br", "KR": "Kr", "RB": "Rb_sv",
    "SR": "Sr_sv", "Y": "Y_sv", "ZR": "Zr_sv", "NB": "Nb_sv", "MO": "Mo_sv", "TC": "Tc_pv",
    "RU": "Ru_pv", "RH": "Rh_pv", "PD": "Pd", "AG": "Ag", "CD": "Cd", "IN": "In_d", "SN": "Sn_d",
    "SB": "Sb", "TE": "Te", "I": "I", "XE": "Xe", "CS": "Cs_sv", "BA": "Ba_sv", "LA": "La",
    "CE": "Ce", "PR": "Pr_3", "ND": "Nd_3", "PM": "Pm_3", "SM": "Sm_3", "EU": "Eu_2", "GD": "Gd_3",
    "TB": "Tb_3", "DY": "Dy_3", "HO": "Ho_3", "ER": "Er_3", "TM": "Tm_3", "YB": "Yb_2", "LU": "Lu_3",
    "HF": "Hf_pv", "TA": "Ta_pv", "W": "W_sv", "RE": "Re", "OS": "Os", "IR": "Ir", "PT": "Pt",
    "AU": "Au", "HG": "Hg", "TL": "Tl_d", "PB": "Pb_d", "BI": "Bi_d", "PO": "Po_d", "AT": "At",
    "RN": "Rn", "FR": "Fr_sv", "RA": "Ra_sv", "AC": "Ac", "TH": "Th", "PA": "Pa", "U": "U",
    "NP": "Np", "PU": "Pu",
}

#: Smearing rules: ``fermi-kT`` (ISMEAR = −1, SIGMA = k_B·T, the electronic temperature equals the
#: ionic one), ``fermi-<eV>`` and ``gauss-<eV>`` with a fixed SIGMA.
SMEARING_RULES = ("fermi-kT", "fermi-<sigma eV>", "gauss-<sigma eV>")


def smearing_tags(rule: str, T_K: float) -> tuple[int, float]:
    """ISMEAR and SIGMA (eV) of a smearing rule at temperature ``T_K``.

    >>> smearing_tags("fermi-kT", 2750.0)
    (-1, 0.237)
    """
    kind, _, value = rule.partition("-")
    if kind not in ("fermi", "gauss") or not value:
        raise ProtocolError(f"unknown smearing rule {rule!r}; use one of {SMEARING_RULES}")
    ismear = -1 if kind == "fermi" else 0
    if value == "kT":
        return ismear, round(K_B_EV * T_K, 4)
    try:
        return ismear, float(value)
    except ValueError:
        raise ProtocolError(f"unknown smearing rule {rule!r}; use one of {SMEARING_RULES}") from None


def smearing_rule(ismear: int | None, sigma: float | None, T_K: float | None) -> str:
    """The rule that ISMEAR/SIGMA of a finished run correspond to (inverse of :func:`smearing_tags`)."""
    if ismear is None or sigma is None:
        return "unknown"
    kind = {-1: "fermi", 0: "gauss"}.get(int(ismear), f"ismear{int(ismear)}")
    # OUTCAR prints SIGMA with two decimals: k_B·T = 0.2370 eV reads 0.24 there
    if kind == "fermi" and T_K and abs(sigma - K_B_EV * T_K) <= 0.0051:
        return "fermi-kT"
    return f"{kind}-{float(sigma):g}"


@dataclass(frozen=True)
class RunSettings:
    """Every non-composition setting of an MD run that changes its energy.

    Parameters
    ----------
    T_K : float
        Thermostat temperature, K (0 in a template that a plan fills in).
    n_atoms : int
        Atoms in the cell; ΔH_mix needs the same N in all three runs (the kinetic energy then cancels).
    code, xc : str
        Program and exchange–correlation functional.
    potcar_set : str
        The PAW library release the labels refer to (``"PBE.54"``).
    potcars : tuple of (ELEMENT, label)
        Per-element potential labels that differ from :data:`RECOMMENDED_POTCARS`; for settings
        read from finished runs, the full POTCAR titles (``"PAW_PBE Ir 06Sep2000"``).
    encut_eV : float
        Plane-wave cutoff, eV.
    prec : str
        VASP ``PREC``.
    smearing : str
        A smearing rule (:data:`SMEARING_RULES`); ``fermi-kT`` by default.
    ispin : int
        1: no spin polarisation.
    ediff_eV : float
        Electronic convergence, eV.
    potim_fs : float
        Time step, fs.
    thermostat : str
        ``nose-hoover`` (VASP MDALGO = 2), ``andersen``, ``langevin``…
    smass : float
        Nosé mass parameter (SMASS = 0: a period of about 40 time steps).
    energy : str
        Which per-step energy ΔH_mix uses: ``e_wo_entrp+ekin`` (energy without electronic entropy
        plus ionic kinetic energy; right for ISMEAR = −1, SIGMA = k_B·T).
    """

    T_K: float = 0.0
    n_atoms: int = 100
    code: str = "vasp"
    xc: str = "PBE"
    potcar_set: str = "PBE.54"
    potcars: tuple[tuple[str, str], ...] = ()
    encut_eV: float = 400.0
    prec: str = "Normal"
    smearing: str = "fermi-kT"
    ispin: int = 1
    ediff_eV: float = 1e-5
    potim_fs: float = 3.0
    thermostat: str = "nose-hoover"
    smass: float = 0.0
    energy: str = "e_wo_entrp+ekin"

    def __post_init__(self):
        pots = tuple(sorted((normalize_symbol(el), str(label)) for el, label in
                            (self.potcars.items() if isinstance(self.potcars, Mapping) else self.potcars)))
        object.__setattr__(self, "potcars", pots)
        for name in ("T_K", "encut_eV", "ediff_eV", "potim_fs", "smass"):
            object.__setattr__(self, name, float(getattr(self, name)))
        object.__setattr__(self, "n_atoms", int(self.n_atoms))
        object.__setattr__(self, "ispin", int(self.ispin))
        if self.n_atoms < 1:
            raise ProtocolError(f"n_atoms must be positive, got {self.n_atoms}")

    # ------------------------------------------------------------------ potentials
    def potcar_label(self, element: str) -> str:
        """The potential label of one element (override, else VASP's recommendation)."""
        element = normalize_symbol(element)
        overrides = dict(self.potcars)
        if element in overrides:
            return overrides[element]
        if element in RECOMMENDED_POTCARS:
            return RECOMMENDED_POTCARS[element]
        return element.capitalize()

    @property
    def sigma_eV(self) -> float:
        """SIGMA of the smearing rule at ``T_K``, eV."""
        return smearing_tags(self.smearing, self.T_K)[1]

    # ------------------------------------------------------------------ identity
    def key_fields(self, elements: Iterable[str] | None = None) -> dict:
        """The fields :meth:`key` covers, as a plain dict (POTCARs restricted to ``elements``)."""
        out = dataclasses.asdict(self)
        if elements is None:
            out["potcars"] = dict(self.potcars)
        else:
            out["potcars"] = {el: self.potcar_label(el) for el in sorted({normalize_symbol(e) for e in elements})}
        return out

    def key(self, elements: Iterable[str] | None = None) -> str:
        """Canonical identity of these settings (a JSON string).

        Covers every field (code, xc, POTCAR set and labels, ENCUT, PREC, smearing rule, ISPIN,
        EDIFF, POTIM, thermostat, SMASS, N, T, energy definition). With ``elements`` the POTCAR part
        holds only those elements, so a pure Ir run has the same key in every Ir–X binary.
        """
        return json.dumps(self.key_fields(elements), sort_keys=True, separators=(",", ":"))

    def key_hash(self, elements: Iterable[str] | None = None) -> str:
        """First 12 hex digits of the SHA-256 of :meth:`key`."""
        return hashlib.sha256(self.key(elements).encode()).hexdigest()[:12]

    def replace(self, **changes) -> "RunSettings":
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["potcars"] = [list(p) for p in self.potcars]
        return out

    @classmethod
    def from_dict(cls, data: Mapping) -> "RunSettings":
        data = dict(data)
        data["potcars"] = tuple(tuple(p) for p in data.get("potcars", ()))
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ProtocolError(f"unknown run setting(s) {unknown}; known: {sorted(known)}")
        return cls(**data)


def settings_diff(a: Mapping, b: Mapping) -> dict:
    """Fields whose values differ between two :meth:`RunSettings.key_fields` dicts: {field: (a, b)}."""
    return {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}


# ---------------------------------------------------------------------- temperature
@dataclass(frozen=True)
class TemperatureChoice:
    """The run temperature of a binary and why.

    Attributes
    ----------
    system : str
        Sorted pair, ``"AL-IR"``.
    T_K : float
        Run temperature, K.
    T_melt_K : tuple of (ELEMENT, K)
        SGTE melting points used.
    rule : str
        How T was chosen.
    warnings : tuple of str
    """

    system: str
    T_K: float
    T_melt_K: tuple[tuple[str, float], ...]
    rule: str
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"system": self.system, "T_K": self.T_K, "T_melt_K": dict(self.T_melt_K),
                "rule": self.rule, "warnings": list(self.warnings)}


def snap_up(T_K: float, grid_K: float) -> float:
    """The smallest multiple of ``grid_K`` that is ≥ ``T_K`` (``grid_K <= 0``: no snapping)."""
    if grid_K <= 0:
        return float(T_K)
    return float(math.ceil(round(T_K / grid_K, 9)) * grid_K)


def run_temperature(a: str, b: str, *, margin_K: float = DEFAULT_MARGIN_K, grid_K: float = DEFAULT_GRID_K,
                    liquidus_K: float | None = None, T_K: float | None = None) -> TemperatureChoice:
    """Run temperature of the binary A–B (K) by the protocol's rule.

    Parameters
    ----------
    a, b : str
        Element symbols, any order and case.
    margin_K : float
        Added to the higher melting point before snapping, K.
    grid_K : float
        Snap grid, K (the result is a multiple of it, strictly above both melting points).
    liquidus_K : float, optional
        A known liquidus of the binary above both melting points (congruent compound), K; T is then
        chosen above it, with a warning that its pure references are not shared with other pairs.
    T_K : float, optional
        Use this temperature instead of the rule (warnings still apply).

    Returns
    -------
    TemperatureChoice

    Examples
    --------
    >>> [run_temperature(el, "AL").T_K for el in ("IR", "OS", "RE", "W")]
    [2750.0, 3350.0, 3500.0, 3700.0]
    """
    a, b = sorted_pair(a, b)
    tm = {el: float(t) for el, t in
          zip((a, b), element_property([a, b], "T_melt_K", needed_by="the AIMD temperature rule"))}
    hot = max(tm, key=tm.get)
    warnings: list[str] = []
    base = tm[hot]
    rule = f"max T_melt ({hot} {tm[hot]:.0f} K) + {margin_K:g} K, snapped up to {grid_K:g} K"
    if liquidus_K is not None and liquidus_K > base:
        base = float(liquidus_K)
        rule = f"known liquidus {liquidus_K:.0f} K + {margin_K:g} K, snapped up to {grid_K:g} K"
        warnings.append(f"{a}-{b}: the known liquidus {liquidus_K:.0f} K lies above both melting points "
                        f"({tm[a]:.0f}, {tm[b]:.0f} K); T is raised above it, so its pure references are "
                        "not shared with pairs at the usual temperature")
    if T_K is None:
        T = snap_up(base + margin_K, grid_K)
        if T <= base:
            T += grid_K if grid_K > 0 else 1.0
    else:
        T = float(T_K)
        rule = "given"
        if T <= 0:
            raise ProtocolError(f"{a}-{b}: run temperature must be positive, got {T_K}")
        for el, t in tm.items():
            if T <= t:
                warnings.append(f"{a}-{b}: T = {T:.0f} K is not above the melting point of {el} "
                                f"({t:.0f} K, SGTE); the pure {el} run may crystallise")
        if liquidus_K is not None and T <= liquidus_K:
            warnings.append(f"{a}-{b}: T = {T:.0f} K is not above the known liquidus {liquidus_K:.0f} K")
    for el in (a, b):
        try:
            tb = float(get_element(el)["boiling_point_K"])
        except (MixcalphadError, KeyError):
            continue
        if np.isfinite(tb) and T >= tb:
            warnings.append(f"{a}-{b}: T = {T:.0f} K is above the boiling point of {el} ({tb:.0f} K); the "
                            "liquid is metastable against vaporisation and its pressure window is doubtful")
    return TemperatureChoice(f"{a}-{b}", float(T), tuple(sorted(tm.items())), rule, tuple(warnings))


# ---------------------------------------------------------------------- volume
def liquid_molar_volume_cm3(symbol: str, expansion: float = MELTING_EXPANSION) -> float:
    """Estimated liquid molar volume of an element near its melting point, cm³/mol.

    The element table's solid molar volume (atomic mass / room-temperature density) times
    ``1 + expansion`` (see the module docstring).
    """
    (v,) = element_property(symbol, "molar_volume_cm3", needed_by="the AIMD starting volume")
    return float(v) * (1.0 + expansion)


def vegard_volume_A3(composition: Mapping[str, int] | Iterable[tuple[str, int]],
                     expansion: float = MELTING_EXPANSION) -> float:
    """Starting cell volume of a composition by Vegard's law over liquid volumes, Å³ (whole cell).

    >>> round(vegard_volume_A3({"CU": 50, "NI": 50}), 1)
    1272.8
    """
    items = composition.items() if isinstance(composition, Mapping) else composition
    return float(sum(int(n) * liquid_molar_volume_cm3(el, expansion) * A3_PER_CM3_MOL for el, n in items))


# ---------------------------------------------------------------------- runs and plans
def composition_label(composition: Iterable[tuple[str, int]]) -> str:
    """``"AL50IR50"`` from ((AL, 50), (IR, 50))."""
    return "".join(f"{el}{n}" for el, n in composition)


@dataclass(frozen=True)
class RunSpec:
    """One MD run: a composition (atom counts) under some settings.

    Attributes
    ----------
    composition : tuple of (ELEMENT, count)
        Sorted by element; counts sum to ``settings.n_atoms``.
    settings : RunSettings
    """

    composition: tuple[tuple[str, int], ...]
    settings: RunSettings

    def __post_init__(self):
        comp = tuple(sorted((normalize_symbol(el), int(n)) for el, n in
                            (self.composition.items() if isinstance(self.composition, Mapping)
                             else self.composition) if int(n) > 0))
        object.__setattr__(self, "composition", comp)
        if sum(n for _, n in comp) != self.settings.n_atoms:
            raise ProtocolError(f"composition {dict(comp)} has {sum(n for _, n in comp)} atoms, "
                                f"settings say {self.settings.n_atoms}")

    @property
    def elements(self) -> tuple[str, ...]:
        return tuple(el for el, _ in self.composition)

    @property
    def is_pure(self) -> bool:
        return len(self.composition) == 1

    @property
    def mole_fractions(self) -> dict[str, float]:
        n = self.settings.n_atoms
        return {el: c / n for el, c in self.composition}

    @property
    def run_id(self) -> str:
        """Folder name: composition label and temperature, ``"AL50IR50_2750K"``."""
        return f"{composition_label(self.composition)}_{self.settings.T_K:.0f}K"

    def key(self) -> str:
        """Identity of the run: composition plus the settings key restricted to its elements."""
        return json.dumps({"composition": dict(self.composition),
                           "settings": json.loads(self.settings.key(self.elements))},
                          sort_keys=True, separators=(",", ":"))

    def start_volume_A3(self, expansion: float = MELTING_EXPANSION) -> float:
        """Vegard starting volume of the whole cell, Å³."""
        return vegard_volume_A3(self.composition, expansion)

    def to_dict(self) -> dict:
        return {"run_id": self.run_id, "composition": dict(self.composition),
                "settings": self.settings.to_dict(), "key": self.key()}


@dataclass(frozen=True)
class BinaryJob:
    """One ΔH_mix point: an alloy run and its two pure-element reference runs.

    Attributes
    ----------
    system : str
        Sorted pair ``"AL-IR"``.
    x_B : float
        Mole fraction of the second element of the sorted pair in the alloy run (from atom counts).
    T_K : float
    alloy, pure_a, pure_b : str
        Run ids (:attr:`RunSpec.run_id`).
    temperature : TemperatureChoice
    """

    system: str
    x_B: float
    T_K: float
    alloy: str
    pure_a: str
    pure_b: str
    temperature: TemperatureChoice

    @property
    def job_id(self) -> str:
        return f"{self.system}_x{self.x_B:.3f}_{self.T_K:.0f}K"

    def to_dict(self) -> dict:
        return {"job_id": self.job_id, "system": self.system, "x_B": self.x_B, "T_K": self.T_K,
                "alloy": self.alloy, "pure_a": self.pure_a, "pure_b": self.pure_b,
                "temperature": self.temperature.to_dict()}


@dataclass(frozen=True)
class RunPlan:
    """Runs needed for a set of binaries, pure references deduplicated by their full settings key.

    Attributes
    ----------
    runs : tuple of RunSpec
        Unique runs (alloys and pure references).
    binaries : tuple of BinaryJob
    warnings : tuple of str
    """

    runs: tuple[RunSpec, ...]
    binaries: tuple[BinaryJob, ...]
    warnings: tuple[str, ...] = field(default=())

    @property
    def n_runs(self) -> int:
        return len(self.runs)

    @property
    def n_runs_unshared(self) -> int:
        """Runs without sharing pure references: three per ΔH_mix point."""
        return 3 * len(self.binaries)

    @property
    def runs_saved(self) -> int:
        return self.n_runs_unshared - self.n_runs

    def run(self, run_id: str) -> RunSpec:
        for spec in self.runs:
            if spec.run_id == run_id:
                return spec
        raise KeyError(run_id)

    def to_dict(self) -> dict:
        return {"n_runs": self.n_runs, "n_runs_unshared": self.n_runs_unshared,
                "runs_saved": self.runs_saved, "runs": [r.to_dict() for r in self.runs],
                "binaries": [b.to_dict() for b in self.binaries], "warnings": list(self.warnings)}

    def to_dataframe(self) -> pd.DataFrame:
        """One row per binary point: system, x_B, T_K and its three run ids."""
        return pd.DataFrame([{k: v for k, v in b.to_dict().items() if k != "temperature"}
                             for b in self.binaries])


def _optional_float(value, what: str, where: str) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == "":
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ProtocolError(f"{where}: {what} {value!r} is not a number") from None
    if not math.isfinite(out) or out <= 0:
        raise ProtocolError(f"{where}: {what} must be positive, got {value!r}")
    return out


def read_plan(path: str | Path) -> pd.DataFrame:
    """Read a plan CSV: a ``system`` column (``IR-AL``, ``AL-IR``…), optional ``T_K``, ``x_B`` (mole
    fraction of the second element of the *sorted* pair) and ``liquidus_K``; other columns (the
    acquisition plan's scores…) are kept and ignored.

    Raises
    ------
    ProtocolError
        No ``system`` column, or a line whose system or numbers cannot be read (names file and line).
    """
    path = Path(path)
    if not path.is_file():
        raise ProtocolError(f"plan file {path} does not exist")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise ProtocolError(f"plan file {path} is not a readable CSV: {exc}") from None
    if "system" not in frame.columns:
        raise ProtocolError(f"plan file {path} has no 'system' column (columns: {list(frame.columns)})")
    for i, row in frame.iterrows():
        where = f"{path}, line {i + 2}"
        try:
            frame.loc[i, "system"] = system_name(*parse_system(row["system"]))
        except MixcalphadError as exc:
            raise ProtocolError(f"{where}: {exc}") from None
        for col in ("T_K", "x_B", "liquidus_K"):
            if col in frame.columns:
                _optional_float(row[col], col, where)
    return frame


def _as_rows(systems) -> list[dict]:
    if isinstance(systems, (str, Path)) and Path(str(systems)).suffix.lower() == ".csv":
        systems = read_plan(systems)
    if isinstance(systems, pd.DataFrame):
        if "system" not in systems.columns:
            raise ProtocolError(f"plan has no 'system' column (columns: {list(systems.columns)})")
        return systems.to_dict("records")
    if isinstance(systems, str):
        systems = [systems]
    rows = []
    for item in systems:
        if isinstance(item, Mapping):
            rows.append(dict(item))
        elif isinstance(item, str):
            rows.append({"system": item})
        else:
            rows.append({"system": "-".join(item)})
    return rows


def plan_runs(systems, *, x_B: float | Sequence[float] = 0.5, n_atoms: int = 100,
              settings: RunSettings | None = None, margin_K: float = DEFAULT_MARGIN_K,
              grid_K: float = DEFAULT_GRID_K, T_K: float | None = None) -> RunPlan:
    """The runs a set of binaries needs, with shared pure-element references.

    Parameters
    ----------
    systems : list of str, DataFrame or path to a plan CSV
        Binaries such as ``["IR-AL", "OS-TI"]`` in any order and case, or a table with a ``system``
        column and optional ``T_K``, ``x_B``, ``liquidus_K`` (see :func:`read_plan`).
    x_B : float or sequence of float
        Mole fraction(s) of the second element of each sorted pair (default 0.5), rounded to whole
        atoms; a table's ``x_B`` column wins.
    n_atoms : int
        Atoms per run (100 in the paper).
    settings : RunSettings, optional
        A template for everything but T and N (the paper's protocol by default).
    margin_K, grid_K : float
        Temperature rule (:func:`run_temperature`).
    T_K : float, optional
        One temperature for all binaries (a table's ``T_K`` column wins).

    Returns
    -------
    RunPlan
        ``n_runs`` unique runs for ``len(binaries)`` points, ``runs_saved`` of the ``3 × points``.
    """
    template = settings or RunSettings()
    runs: dict[str, RunSpec] = {}
    jobs: dict[str, BinaryJob] = {}
    warnings: list[str] = []
    fractions = [x_B] if np.isscalar(x_B) else list(x_B)
    for row in _as_rows(systems):
        try:
            a, b = parse_system(row["system"])
        except MixcalphadError as exc:
            raise ProtocolError(str(exc)) from None
        where = f"system {a}-{b}"
        t_row = _optional_float(row.get("T_K"), "T_K", where) or T_K
        liq = _optional_float(row.get("liquidus_K"), "liquidus_K", where)
        choice = run_temperature(a, b, margin_K=margin_K, grid_K=grid_K, liquidus_K=liq, T_K=t_row)
        xs = [_optional_float(row.get("x_B"), "x_B", where)] if row.get("x_B") not in (None, "") else fractions
        run_settings = template.replace(T_K=choice.T_K, n_atoms=n_atoms)
        for x in xs:
            if x is None or not 0 < float(x) < 1:
                raise ProtocolError(f"{where}: x_B must lie strictly between 0 and 1, got {x}")
            n_b = int(round(float(x) * n_atoms))
            if n_b in (0, n_atoms):
                raise ProtocolError(f"{where}: x_B = {x} rounds to a pure element with {n_atoms} atoms")
            alloy = RunSpec(((a, n_atoms - n_b), (b, n_b)), run_settings)
            pure_a = RunSpec(((a, n_atoms),), run_settings)
            pure_b = RunSpec(((b, n_atoms),), run_settings)
            for spec in (alloy, pure_a, pure_b):
                old = runs.setdefault(spec.key(), spec)
                if old.run_id != spec.run_id:  # pragma: no cover - same key implies same id
                    raise ProtocolError(f"run id clash {old.run_id} / {spec.run_id}")
            ids = {s.run_id for s in runs.values()}
            if len(ids) != len(runs):
                raise ProtocolError(f"{where}: two runs with different settings share the folder name "
                                    f"{alloy.run_id}; use one settings template per plan")
            job = BinaryJob(f"{a}-{b}", n_b / n_atoms, choice.T_K, alloy.run_id, pure_a.run_id,
                            pure_b.run_id, choice)
            if job.job_id in jobs:
                warnings.append(f"{where}: listed twice at x_B = {job.x_B:.3f}, T = {job.T_K:.0f} K; kept once")
                continue
            jobs[job.job_id] = job
            if abs(job.x_B - float(x)) > 1e-9:
                warnings.append(f"{where}: x_B = {x} rounded to {n_b}/{n_atoms} = {job.x_B:.3f}")
        for w in choice.warnings:
            if w not in warnings:
                warnings.append(w)
    for w in warnings:
        log.warning(w)
    return RunPlan(tuple(runs.values()), tuple(jobs.values()), tuple(warnings))


def paper_systems() -> list[str]:
    """The 29 binaries with an AIMD value in the founding paper's Table 1 (sorted pairs)."""
    from importlib import resources

    path = resources.files("mixcalphad") / "data" / "aimd_bizot2026.csv"
    with path.open("r", encoding="utf-8") as fh:
        table = pd.read_csv(fh, keep_default_na=False)
    rows = table[table["status"] == "value"]
    return [system_name(*parse_system(s)) for s in rows["pair"]]


def paper_plan(**kwargs) -> pd.DataFrame:
    """The paper's 29 binaries as a plan table with the paper's temperatures (``T_K``)."""
    from importlib import resources

    path = resources.files("mixcalphad") / "data" / "aimd_bizot2026.csv"
    with path.open("r", encoding="utf-8") as fh:
        table = pd.read_csv(fh, keep_default_na=False)
    rows = table[table["status"] == "value"]
    return pd.DataFrame({"system": [system_name(*parse_system(s)) for s in rows["pair"]],
                         "T_K": rows["T_K"].astype(float).to_numpy()})
