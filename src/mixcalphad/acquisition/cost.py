"""What an AIMD ΔH_mix point costs: core-hours per run, and the pure references a batch shares.

One ΔH_mix point needs three runs at the same T and N: the alloy A₅₀B₅₀ and the pure A and pure B
references (:mod:`mixcalphad.aimd.protocol`). A pure reference at a given T serves every pair of
the batch at that T, so the marginal cost of a binary is its alloy run plus the references the
batch does not have yet (:class:`SharedReferences`).

The cost model (:class:`CostModel`, every constant in one place)
----------------------------------------------------------------
For a plane-wave code at ~100 atoms with Γ-point sampling the time of one SCF iteration is
dominated by orthogonalisation and subspace rotation, ∝ N_bands² · N_pw, with N_bands ≈ 0.6 N_e +
N_atoms / 2 (VASP's default, N_e the valence electrons of the POTCARs) and N_pw ∝ V at a fixed
ENCUT (V the cell volume, here the protocol's Vegard volume of the liquid). The number of MD steps is
the simulated time (the volume search plus production, :data:`PROTOCOL_PS`) over the time step,
and the time step shrinks for light atoms at high T so that an atom moves a similar distance per
step: ``dt = min(dt_max, dt_max · sqrt((m/T) / (m/T)_ref))`` with the reference Al at 2750 K at
3 fs (the paper's Al–Ir runs). Hence, relative to a reference run,

``core_hours = reference_core_hours · (N_b/N_b,ref)² · (V/V_ref) · (steps/steps_ref)``.

``reference_core_hours`` — the cost of the paper's Al₅₀Ir₅₀ run at 2750 K over 19 ps (3 × 3 ps volume
stages and 10 ps production) — is an order-of-magnitude assumption (~6300 steps at ~0.15 core-hour
per step: about 5 SCF iterations of ~2 s on 48 cores), not a measurement: set it to what your
machine gives. Rankings by value per core-hour depend only on the ratios.

Example
-------
>>> model = CostModel()
>>> round(run_core_hours({"AL": 50, "IR": 50}, 2750.0, model))   # the reference, by construction
1000
>>> run_core_hours({"CS": 50, "IR": 50}, 2750.0) > 2 * run_core_hours({"AL": 50, "IR": 50}, 2750.0)
True
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from mixcalphad.aimd.protocol import md_timestep_fs
from mixcalphad.aimd.settings import ZVAL_RECOMMENDED  # valence electrons of the recommended POTCARs
from mixcalphad.chem.binaries import normalize_symbol, parse_system
from mixcalphad.errors import AcquisitionError

#: Simulated time of one run, ps: three 3 ps volume-search stages and 10 ps production.
PROTOCOL_PS = 3 * 3.0 + 10.0


@dataclass(frozen=True)
class CostModel:
    """Core-hours of an AIMD run relative to a reference run (see the module docstring).

    Parameters
    ----------
    reference_core_hours : float
        Core-hours of the reference run (``reference`` at ``reference_T_K``, ``simulated_ps``).
    reference : tuple of (ELEMENT, count)
        The reference composition (the paper's Al₅₀Ir₅₀).
    reference_T_K : float
        Its temperature, K.
    simulated_ps : float
        Simulated time of every run (volume search + production), ps.
    dt_max_fs : float
        Largest time step, fs (the paper's 3 fs); the step of a run is the AIMD protocol's own
        (:func:`mixcalphad.aimd.protocol.md_timestep_fs`), so cost and prepared runs agree.
    bands_per_electron, bands_per_atom : float
        N_bands = bands_per_electron · N_e + bands_per_atom · N_atoms.
    zval : tuple of (ELEMENT, int)
        Valence electrons that differ from :data:`mixcalphad.aimd.settings.ZVAL_RECOMMENDED` (the
        recommended PBE.54 potentials, VASP wiki "Available PAW potentials"), for other POTCARs.
    """

    reference_core_hours: float = 1000.0
    reference: tuple[tuple[str, int], ...] = (("AL", 50), ("IR", 50))
    reference_T_K: float = 2750.0
    simulated_ps: float = PROTOCOL_PS
    dt_max_fs: float = 3.0
    bands_per_electron: float = 0.6
    bands_per_atom: float = 0.5
    zval: tuple[tuple[str, int], ...] = field(default=())

    def __post_init__(self):
        for name in ("reference_core_hours", "reference_T_K", "simulated_ps", "dt_max_fs"):
            value = float(getattr(self, name))
            if not np.isfinite(value) or value <= 0:
                raise AcquisitionError(f"CostModel.{name} must be positive, got {getattr(self, name)!r}")
            object.__setattr__(self, name, value)
        items = self.zval.items() if isinstance(self.zval, Mapping) else self.zval
        object.__setattr__(self, "zval", tuple(sorted((normalize_symbol(e), int(z)) for e, z in items)))

    def valence(self, element: str) -> int:
        """Valence electrons of one element's potential."""
        el = normalize_symbol(element)
        own = dict(self.zval)
        if el in own:
            return own[el]
        if el not in ZVAL_RECOMMENDED:
            raise AcquisitionError(f"no valence-electron count for {el}; give it in CostModel(zval={{'{el}': n}})")
        return ZVAL_RECOMMENDED[el]

    def time_step_fs(self, elements: Iterable[str], T_K: float) -> float:
        """Time step for a run with these elements at ``T_K``, fs: the protocol's POTIM rule."""
        return md_timestep_fs(list(elements), T_K, dt_max_fs=self.dt_max_fs)

    def _raw(self, composition: Mapping[str, int], T_K: float) -> float:
        n_atoms = sum(composition.values())
        n_e = sum(self.valence(el) * n for el, n in composition.items())
        bands = self.bands_per_electron * n_e + self.bands_per_atom * n_atoms
        volume = sum(n * _element_data(el)[1] for el, n in composition.items())  # Vegard's law, Å³
        steps = self.simulated_ps * 1000.0 / self.time_step_fs(composition, T_K)
        return bands**2 * volume * steps


@functools.lru_cache(maxsize=None)
def _element_data(element: str) -> tuple[float, float]:
    """Atomic mass (g/mol) and the protocol's liquid volume per atom (Å³) of one element."""
    from mixcalphad.aimd.protocol import vegard_volume_A3
    from mixcalphad.chem.elements import element_property

    (mass,) = element_property(element, "atomic_mass", needed_by="the AIMD cost model")
    return float(mass), float(vegard_volume_A3({element: 1}))


def run_core_hours(composition: Mapping[str, int], T_K: float, model: CostModel | None = None) -> float:
    """Estimated core-hours of one AIMD run (``{"AL": 50, "IR": 50}`` at ``T_K`` K).

    Raises
    ------
    AcquisitionError
        A non-positive temperature or atom count, or an element without a valence count.
    """
    model = model or DEFAULT_COST_MODEL
    composition = {normalize_symbol(el): int(n) for el, n in composition.items() if int(n) != 0}
    if not composition or any(n < 0 for n in composition.values()):
        raise AcquisitionError(f"a run needs positive atom counts, got {composition}")
    if not np.isfinite(T_K) or T_K <= 0:
        raise AcquisitionError(f"run temperature must be positive (K), got {T_K}")
    ref = _reference_raw(model)
    return float(model.reference_core_hours * model._raw(composition, float(T_K)) / ref)


def _reference_raw(model: CostModel) -> float:
    return model._raw(dict(model.reference), model.reference_T_K)


def binary_costs(systems: Iterable[str], T_K: Iterable[float], model: CostModel | None = None,
                 n_atoms: int = 100) -> pd.DataFrame:
    """Core-hours of the three runs of each equimolar binary point.

    Returns
    -------
    DataFrame
        ``system``, ``T_K``, ``alloy_core_h``, ``pure_A_core_h``, ``pure_B_core_h`` (pure runs of the
        first and second element of the sorted pair) and ``unshared_core_h`` (their sum).
    """
    model = model or DEFAULT_COST_MODEL
    half = n_atoms // 2
    rows = []
    for s, T in zip(systems, T_K):
        a, b = parse_system(s)
        T = float(T)
        rows.append({"system": f"{a}-{b}", "T_K": T,
                     "alloy_core_h": run_core_hours({a: n_atoms - half, b: half}, T, model),
                     "pure_A_core_h": run_core_hours({a: n_atoms}, T, model),
                     "pure_B_core_h": run_core_hours({b: n_atoms}, T, model)})
    frame = pd.DataFrame(rows, columns=["system", "T_K", "alloy_core_h", "pure_A_core_h", "pure_B_core_h"])
    frame["unshared_core_h"] = frame[["alloy_core_h", "pure_A_core_h", "pure_B_core_h"]].sum(axis=1)
    return frame


class SharedReferences:
    """Pure-element references a batch already has, keyed by (element, T): marginal costs.

    >>> costs = binary_costs(["AL-IR", "IR-W", "IR-NI"], [2750.0, 3700.0, 2750.0])
    >>> shared = SharedReferences()
    >>> bool(np.allclose(shared.marginal_costs(costs), costs["unshared_core_h"]))
    True
    >>> shared.add(costs.iloc[0])   # AL-IR at 2750 K: Al and Ir references at 2750 K
    >>> saved = costs["unshared_core_h"] - shared.marginal_costs(costs)
    >>> [round(float(v)) for v in saved]   # IR-NI shares the Ir run; IR-W runs at 3700 K
    [2246, 0, 1906]
    """

    def __init__(self, have: Iterable[tuple[str, float]] = ()):
        self.have = {(normalize_symbol(el), float(T)) for el, T in have}

    def marginal_costs(self, costs: pd.DataFrame) -> np.ndarray:
        """Core-hours of each binary's runs not yet in the batch (``costs`` from :func:`binary_costs`)."""
        out = costs["alloy_core_h"].to_numpy(float).copy()
        for column, pick in (("pure_A_core_h", 0), ("pure_B_core_h", 1)):
            missing = np.array([(parse_system(s)[pick], float(T)) not in self.have
                                for s, T in zip(costs["system"], costs["T_K"])], dtype=bool)
            out += np.where(missing, costs[column].to_numpy(float), 0.0)
        return out

    def add(self, row) -> None:
        """Record a picked binary's two pure references (``row`` of :func:`binary_costs`)."""
        a, b = parse_system(row["system"])
        self.have |= {(a, float(row["T_K"])), (b, float(row["T_K"]))}


DEFAULT_COST_MODEL = CostModel()
