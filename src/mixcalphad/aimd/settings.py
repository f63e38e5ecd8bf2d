"""Run settings of the AIMD protocol: one base class for VASP runs and local ASE runs, the unit
constants, the pinned POTCARs and the smearing rules.

* :class:`MDSettings` — the base: every non-composition setting that changes a run's energy, checked
  on construction (a bad number raises :class:`~mixcalphad.errors.ProtocolError` naming the option,
  whether it came from the command line or from Python), with a canonical :meth:`MDSettings.key`
  that decides which runs may be combined into a ΔH_mix.
* :class:`RunSettings` (VASP) and :class:`LocalSettings` (ASE calculators) derive from it.
* :func:`check_positive`, :func:`check_fraction` — the same checks for plain options
  (``production_ps``, ``x_B``…) of the functions that take them.

Units: K, eV, fs, Å.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass
from typing import ClassVar, Iterable, Mapping

from mixcalphad.chem.binaries import normalize_symbol
from mixcalphad.errors import ProtocolError

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

#: Valence electrons (ZVAL) of the recommended PBE.54 potentials (:data:`RECOMMENDED_POTCARS`), from
#: the VASP wiki page "Available PAW potentials"; semicore states (``_sv``, ``_pv``, ``_d``) count.
#: A POTCAR's own ``ZVAL`` wins where the file is at hand (:func:`mixcalphad.aimd.incar.electron_count`).
ZVAL_RECOMMENDED = {
    "H": 1, "LI": 3, "BE": 2, "B": 3, "C": 4, "N": 5, "O": 6, "NA": 7, "MG": 2, "AL": 3, "SI": 4, "P": 5,
    "S": 6, "K": 9, "CA": 10, "SC": 11, "TI": 12, "V": 13, "CR": 12, "MN": 13, "FE": 8, "CO": 9, "NI": 10,
    "CU": 11, "ZN": 12, "GA": 13, "GE": 14, "AS": 5, "SE": 6, "RB": 9, "SR": 10, "Y": 11, "ZR": 12,
    "NB": 13, "MO": 14, "TC": 13, "RU": 14, "RH": 15, "PD": 10, "AG": 11, "CD": 12, "IN": 13, "SN": 14,
    "SB": 5, "TE": 6, "CS": 9, "BA": 10, "LA": 11, "CE": 12, "PR": 11, "ND": 11, "PM": 11, "SM": 11,
    "EU": 8, "GD": 9, "TB": 9, "DY": 9, "HO": 9, "ER": 9, "TM": 9, "YB": 8, "LU": 9, "HF": 10, "TA": 11,
    "W": 14, "RE": 7, "OS": 8, "IR": 9, "PT": 10, "AU": 11, "HG": 12, "TL": 13, "PB": 14, "BI": 15,
    "TH": 12, "PA": 13, "U": 14, "NP": 15, "PU": 16,
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


# ---------------------------------------------------------------------- option checks
def check_positive(value, option: str, *, allow_zero: bool = False, integer: bool = False):
    """``value`` as a float (int with ``integer``) if it is a finite number > 0 (≥ 0 with ``allow_zero``).

    Raises
    ------
    ProtocolError
        Naming ``option`` and the value: ``"production_ps must be > 0, got -1.0"``.

    >>> check_positive(10, "production_ps")
    10.0
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ProtocolError(f"{option} must be a number, got {value!r}") from None
    bound = ">= 0" if allow_zero else "> 0"
    if not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        raise ProtocolError(f"{option} must be {bound}, got {value!r}")
    if integer:
        if number != int(number):
            raise ProtocolError(f"{option} must be a whole number, got {value!r}")
        return int(number)
    return number


def check_fraction(value, option: str = "x_B") -> float:
    """A mole fraction strictly between 0 and 1, else :class:`ProtocolError` naming ``option``."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ProtocolError(f"{option} must be a number, got {value!r}") from None
    if not (0.0 < x < 1.0):
        raise ProtocolError(f"{option} must lie strictly between 0 and 1, got {value!r}")
    return x


# ---------------------------------------------------------------------- the base class
@dataclass(frozen=True)
class MDSettings:
    """Every non-composition setting of an MD run that changes its energy (base class).

    Subclasses (:class:`RunSettings` for VASP, :class:`LocalSettings` for ASE calculators) add their
    fields and name in class attributes which must be positive, non-negative or whole numbers; the
    checks run on construction, so a bad option fails the same way from the CLI and from Python.

    Parameters
    ----------
    T_K : float
        Thermostat temperature, K (0 in a template that a plan fills in).
    n_atoms : int
        Atoms in the cell; ΔH_mix needs the same N in all three runs (the kinetic energy cancels).
    """

    T_K: float = 0.0
    n_atoms: int = 100

    #: Fields that must be finite and > 0 (NaN allowed: a value not known in a run read back).
    POSITIVE: ClassVar[tuple[str, ...]] = ()
    #: Fields that must be finite and ≥ 0.
    NON_NEGATIVE: ClassVar[tuple[str, ...]] = ("T_K",)
    #: Fields that are whole numbers ≥ 1.
    COUNTS: ClassVar[tuple[str, ...]] = ("n_atoms",)
    #: Fields that are plain floats (converted, no sign rule).
    FLOATS: ClassVar[tuple[str, ...]] = ()
    #: Fields that may be None (decided later, e.g. the time step by the plan).
    OPTIONAL: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self):
        for name in self.COUNTS:
            value = getattr(self, name)
            try:
                count = int(value)
            except (TypeError, ValueError):
                raise ProtocolError(f"{name} must be a whole number, got {value!r}") from None
            if count != float(value) or count < 1:
                raise ProtocolError(f"{name} must be a whole number >= 1, got {value!r}")
            object.__setattr__(self, name, count)
        for group, zero_ok in ((self.POSITIVE, False), (self.NON_NEGATIVE, True), (self.FLOATS, None)):
            for name in group:
                value = getattr(self, name)
                if value is None and name in self.OPTIONAL:
                    continue
                try:
                    number = float(value)
                except (TypeError, ValueError):
                    raise ProtocolError(f"{name} must be a number, got {value!r}") from None
                if zero_ok is not None and not math.isnan(number):
                    check_positive(number, name, allow_zero=zero_ok)
                object.__setattr__(self, name, number)

    # ------------------------------------------------------------------ identity
    def key_fields(self, elements: Iterable[str] | None = None) -> dict:
        """The fields :meth:`key` covers, as a plain dict."""
        return dataclasses.asdict(self)

    def key(self, elements: Iterable[str] | None = None) -> str:
        """Canonical identity of these settings (a JSON string); equal keys may be combined."""
        return json.dumps(self.key_fields(elements), sort_keys=True, separators=(",", ":"))

    def key_hash(self, elements: Iterable[str] | None = None) -> str:
        """First 12 hex digits of the SHA-256 of :meth:`key`."""
        return hashlib.sha256(self.key(elements).encode()).hexdigest()[:12]

    def replace(self, **changes):
        """A copy with some fields changed (checked again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping):
        """Settings from :meth:`to_dict`; unknown fields raise :class:`ProtocolError`."""
        data = dict(data)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ProtocolError(f"unknown {cls.__name__} field(s) {unknown}; known: {sorted(known)}")
        return cls(**data)


# ---------------------------------------------------------------------- VASP
@dataclass(frozen=True)
class RunSettings(MDSettings):
    """Every non-composition setting of a VASP MD run that changes its energy.

    Parameters
    ----------
    T_K : float
        Thermostat temperature, K (0 in a template that a plan fills in).
    n_atoms : int
        Atoms in the cell.
    code, xc : str
        Program and exchange–correlation functional.
    potcar_set : str
        The PAW library release the labels refer to (``"PBE.54"``).
    potcars : tuple of (ELEMENT, label)
        Per-element potential labels that differ from :data:`RECOMMENDED_POTCARS`; for settings
        read from finished runs, the full POTCAR titles (``"PAW_PBE Ir 06Sep2000"``).
    encut_eV : float
        Plane-wave cutoff, eV (> 0).
    prec : str
        VASP ``PREC``.
    smearing : str
        A smearing rule (:data:`SMEARING_RULES`); ``fermi-kT`` by default.
    ispin : int
        1: no spin polarisation (1 or 2).
    ediff_eV : float
        Electronic convergence, eV (> 0).
    potim_fs : float or None
        Time step, fs (> 0); None in a template: the plan chooses it from the lightest mass and T
        (:func:`mixcalphad.aimd.protocol.md_timestep_fs`).
    thermostat : str
        ``nose-hoover`` (VASP MDALGO = 2), ``andersen``, ``langevin``…
    smass : float
        Nosé mass parameter (SMASS = 0: a period of about 40 time steps).
    energy : str
        Which per-step energy ΔH_mix uses: ``e_wo_entrp+ekin`` (energy without electronic entropy
        plus ionic kinetic energy; right for ISMEAR = −1, SIGMA = k_B·T).

    Raises
    ------
    ProtocolError
        A non-positive ENCUT, EDIFF or POTIM, a negative T, n_atoms < 1, ISPIN not 1 or 2 (the
        message names the field).
    """

    code: str = "vasp"
    xc: str = "PBE"
    potcar_set: str = "PBE.54"
    potcars: tuple[tuple[str, str], ...] = ()
    encut_eV: float = 400.0
    prec: str = "Normal"
    smearing: str = "fermi-kT"
    ispin: int = 1
    ediff_eV: float = 1e-5
    potim_fs: float | None = None
    thermostat: str = "nose-hoover"
    smass: float = 0.0
    energy: str = "e_wo_entrp+ekin"

    POSITIVE: ClassVar[tuple[str, ...]] = ("encut_eV", "ediff_eV", "potim_fs")
    COUNTS: ClassVar[tuple[str, ...]] = ("n_atoms", "ispin")
    FLOATS: ClassVar[tuple[str, ...]] = ("smass",)
    OPTIONAL: ClassVar[tuple[str, ...]] = ("potim_fs",)

    def __post_init__(self):
        pots = tuple(sorted((normalize_symbol(el), str(label)) for el, label in
                            (self.potcars.items() if isinstance(self.potcars, Mapping) else self.potcars)))
        object.__setattr__(self, "potcars", pots)
        super().__post_init__()
        if self.ispin not in (1, 2):
            raise ProtocolError(f"ispin must be 1 or 2, got {self.ispin}")

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
        """The fields :meth:`key` covers (POTCARs restricted to ``elements``).

        Covers every field (code, xc, POTCAR set and labels, ENCUT, PREC, smearing rule, ISPIN,
        EDIFF, POTIM, thermostat, SMASS, N, T, energy definition). With ``elements`` the POTCAR part
        holds only those elements, so a pure Ir run has the same key in every Ir–X binary.
        """
        out = dataclasses.asdict(self)
        if elements is None:
            out["potcars"] = dict(self.potcars)
        else:
            out["potcars"] = {el: self.potcar_label(el) for el in sorted({normalize_symbol(e) for e in elements})}
        return out

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["potcars"] = [list(p) for p in self.potcars]
        return out

    @classmethod
    def from_dict(cls, data: Mapping) -> "RunSettings":
        data = dict(data)
        data["potcars"] = tuple(tuple(p) for p in data.get("potcars", ()))
        return super().from_dict(data)


# ---------------------------------------------------------------------- local (ASE)
#: Calculators of local runs: EMT (a pipeline stand-in; ``asap3`` is the same EMT in ASAP, ~100× faster)
#: and universal potentials.
CALCULATORS = ("emt", "asap3", "chgnet", "sevennet")
#: The EMT calculators (store kind ``md``; the rest are universal MLIPs, kind ``mlip``).
EMT_CALCULATORS = ("emt", "asap3")
#: Thermostats of local runs.
THERMOSTATS = ("langevin", "nose-hoover", "bussi")


@dataclass(frozen=True)
class LocalSettings(MDSettings):
    """Every non-composition setting of a local MD run with an ASE calculator.

    Parameters
    ----------
    T_K : float
        Temperature, K.
    n_atoms : int
    calculator : str
        ``emt`` (ASE's), ``asap3`` (the same EMT in ASAP), ``chgnet`` or ``sevennet``.
    calculator_version : str
        Package version and model name (filled in by
        :func:`mixcalphad.aimd.calculators.make_calculator`).
    timestep_fs : float
        Time step, fs (> 0).
    thermostat : str
        ``langevin`` (default), ``nose-hoover`` (ASE's Nosé–Hoover chain) or ``bussi``.
    damping_fs : float
        Thermostat time constant, fs (> 0; Langevin: 1/friction).
    energy : str
        ``epot+ekin``: potential plus kinetic energy per step.

    Raises
    ------
    ProtocolError
        An unknown calculator or thermostat, a non-positive time step or damping, a negative T.
    """

    n_atoms: int = 64
    calculator: str = "emt"
    calculator_version: str = ""
    timestep_fs: float = 3.0
    thermostat: str = "langevin"
    damping_fs: float = 100.0
    energy: str = "epot+ekin"

    POSITIVE: ClassVar[tuple[str, ...]] = ("timestep_fs", "damping_fs")

    def __post_init__(self):
        if self.calculator not in CALCULATORS:
            raise ProtocolError(f"unknown calculator {self.calculator!r}; use one of {CALCULATORS}")
        if self.thermostat not in THERMOSTATS:
            raise ProtocolError(f"unknown thermostat {self.thermostat!r}; use one of {THERMOSTATS}")
        super().__post_init__()

    @property
    def kind(self) -> str:
        """Store kind: ``md`` for EMT, ``mlip`` for the universal potentials."""
        return "md" if self.calculator in EMT_CALCULATORS else "mlip"

    @property
    def source_label(self) -> str:
        """``ase-emt/<hash>``: the calculator and the settings hash (version inside the hash)."""
        return f"ase-{self.calculator}/{self.key_hash()[:8]}"


def settings_diff(a: Mapping, b: Mapping) -> dict:
    """Fields whose values differ between two :meth:`MDSettings.key_fields` dicts: {field: (a, b)}."""
    return {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}
