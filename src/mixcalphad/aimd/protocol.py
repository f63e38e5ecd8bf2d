"""The founding paper's AIMD protocol as data: run temperature, time step, starting volume and the
protocol's numbers (run settings: :mod:`.settings`; run plans: :mod:`.plan`).

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
* **Time step** (:func:`md_timestep_fs`): from the lightest mass and T (3 fs, halved for light atoms
  at high T).
* **Settings** (:class:`~mixcalphad.aimd.settings.RunSettings`): every non-composition setting that
  changes the energy, with a canonical key; two runs may be combined into a ΔH_mix only when their
  keys, restricted to the elements they share, are equal.

Example
-------
>>> run_temperature("IR", "AL").T_K
2750.0

Run plans (shared pure references) are :mod:`.plan`'s.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np

from mixcalphad.chem.binaries import normalize_symbol, sorted_pair
from mixcalphad.chem.elements import element_property, get_element
from mixcalphad.errors import MixcalphadError, ProtocolError
from mixcalphad.aimd.settings import A3_PER_CM3_MOL, check_positive

log = logging.getLogger(__name__)


DEFAULT_GRID_K = 50.0
DEFAULT_MARGIN_K = 0.0
#: Liquid volume at T_melt over room-temperature solid volume, minus one (see the module docstring).
MELTING_EXPANSION = 0.12
#: The paper's run temperatures (K) of the four refractory elements.
PAPER_TEMPERATURES_K = {"IR": 2750.0, "OS": 3300.0, "RE": 3500.0, "W": 3700.0}
#: The paper's protocol numbers that the inputs must follow.
PROTOCOL = {"n_atoms": 100, "x_B": 0.5, "potim_fs": 3.0, "encut_eV": 400.0, "production_ps": 10.0,
            "volume_stage_ps": 3.0, "volume_scales": (0.96, 1.0, 1.04), "volume_clip": 0.10,
            "p_window_kbar": 2.0, "h0_bias_max_J": 100.0, "min_n_eff": 50}


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
    margin_K = check_positive(margin_K, "margin_K", allow_zero=True)
    grid_K = check_positive(grid_K, "grid_K", allow_zero=True)
    if T_K is not None:
        T_K = check_positive(T_K, "T_K")
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


# ---------------------------------------------------------------------- time step
#: The lightest element and highest temperature at which the paper's 3 fs is kept: Al at 3700 K
#: (its W–Al runs), i.e. m/T ≥ 26.98/3700 amu/K.
TIMESTEP_REFERENCE = ("AL", 3700.0)


def md_timestep_fs(elements: Iterable[str], T_K: float, *, dt_max_fs: float = PROTOCOL["potim_fs"]) -> float:
    """POTIM (fs) for a run of these elements at ``T_K``: from the lightest mass and T.

    The fastest atoms move ∝ sqrt(T/m) per step, so the stable step scales as sqrt(m/T): the paper's
    3 fs is kept while m_light/T is at least that of :data:`TIMESTEP_REFERENCE` (Al at 3700 K), and
    the step is halved (1.5, 0.75 fs…) as often as sqrt(m/T) falls below it — halvings rather than a
    continuous value, so pure references are shared by every pair that needs the same step. Be at
    1600 K gets 1.5 fs, Li and B at their melting points 1.5 fs, Si, P and every heavier element 3 fs.

    >>> md_timestep_fs(["BE", "CU"], 1600.0), md_timestep_fs(["AL", "W"], 3700.0)
    (1.5, 3.0)
    """
    T_K = check_positive(T_K, "T_K")
    masses = {normalize_symbol(el): float(m) for el, m in
              zip(elements, element_property(list(elements), "atomic_mass", needed_by="the MD time step"))}
    (m_ref,) = element_property(TIMESTEP_REFERENCE[0], "atomic_mass", needed_by="the MD time step")
    ratio = math.sqrt((min(masses.values()) / T_K) / (float(m_ref) / TIMESTEP_REFERENCE[1]))
    if ratio >= 1.0 - 1e-9:
        return float(dt_max_fs)
    halvings = math.ceil(math.log2(1.0 / ratio) - 1e-9)
    return float(dt_max_fs) / 2 ** halvings


def timestep_note(elements: Iterable[str], T_K: float, potim_fs: float) -> str:
    """Why a run plan uses ``potim_fs``: the lightest element, its mass and T."""
    masses = {normalize_symbol(el): float(m) for el, m in
              zip(elements, element_property(list(elements), "atomic_mass", needed_by="the MD time step"))}
    light = min(masses, key=masses.get)
    return (f"POTIM = {potim_fs:g} fs: lightest element {light} ({masses[light]:.2f} amu) at {T_K:.0f} K; 3 fs "
            f"needs m/T >= that of {TIMESTEP_REFERENCE[0]} at {TIMESTEP_REFERENCE[1]:.0f} K")

