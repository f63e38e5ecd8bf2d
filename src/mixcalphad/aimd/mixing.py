"""ΔH_mix of one binary point from three analysed runs (alloy and two pure references), with σ.

ΔH_mix = H_AB − x_A·H_A − x_B·H_B (J/mol of atoms), valid only when the three runs share every
non-composition setting (:func:`check_compatible`).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Mapping

from mixcalphad.chem.binaries import sorted_pair
from mixcalphad.errors import SettingsMismatchError
from mixcalphad.aimd.analysis import BLOCKING_FLAGS, RunAnalysis
from mixcalphad.aimd.settings import EV_TO_J_PER_MOL, settings_diff


@dataclass(frozen=True)
class MixingResult:
    """ΔH_mix of one binary point from an alloy run and its two pure references.

    Attributes
    ----------
    system : str
        Sorted pair, ``"AL-IR"``.
    x_B : float
        Mole fraction of the second element of the sorted pair.
    T_K : float
    HM_MIX_J, sigma_J : float
        ΔH_mix from H(p = 0) and its standard error, J/mol of atoms.
    HM_MIX_raw_J : float
        From ⟨E⟩ without the pressure correction, J/mol (raw).
    HM_MIX_pV_J : float or None
        From ⟨E⟩ + p̄V, J/mol (raw; H at each run's p̄, not at 0).
    runs : dict
        ``pure_a``, ``pure_b``, ``alloy`` → :class:`RunAnalysis`.
    flags : tuple of str
        ``<role>:<flag>`` per run, and ``indistinguishable_from_zero`` when |ΔH| < 2σ.
    """

    system: str
    x_B: float
    T_K: float
    HM_MIX_J: float
    sigma_J: float
    HM_MIX_raw_J: float
    HM_MIX_pV_J: float | None
    runs: Mapping[str, RunAnalysis]
    flags: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def blocking_flags(self) -> tuple[str, ...]:
        return tuple(f for f in self.flags if f.split(":")[-1] in BLOCKING_FLAGS)

    @property
    def settings_key(self) -> str:
        """Settings key of the alloy run (all its elements)."""
        alloy = self.runs["alloy"]
        keys = [json.loads(k) for k in alloy.element_keys.values()]
        merged = dict(keys[0])
        if "potcars" in merged:
            merged["potcars"] = {k: v for d in keys for k, v in d.get("potcars", {}).items()}
        return json.dumps(merged, sort_keys=True, separators=(",", ":"))

    def to_dict(self) -> dict:
        return {"system": self.system, "x_B": self.x_B, "T_K": self.T_K, "HM_MIX_J": self.HM_MIX_J,
                "sigma_J": self.sigma_J, "HM_MIX_raw_J": self.HM_MIX_raw_J, "HM_MIX_pV_J": self.HM_MIX_pV_J,
                "flags": list(self.flags), "notes": list(self.notes),
                "runs": {role: r.to_dict() for role, r in self.runs.items()}}

    def summary(self) -> dict:
        """A short JSON-ready dict: value, σ, T, and p̄ ± SEM, N_eff, flags per run."""
        return {"system": self.system, "x_B": round(self.x_B, 6), "T_K": self.T_K,
                "HM_MIX_J": self.HM_MIX_J, "sigma_J": self.sigma_J, "flags": list(self.flags),
                "runs": {role: {"path": r.path, "composition": dict(r.composition), "T_K": r.T_K,
                                "T_mean_K": r.T_mean_K, "p_kbar": r.p_kbar, "p_sem_kbar": r.p_sem_kbar,
                                "n_eff": r.n_eff, "n_steps": r.n_steps, "msd_A2": r.msd_A2,
                                "H0_eV_atom": r.H0_eV, "flags": list(r.flags)}
                         for role, r in self.runs.items()}}


def check_compatible(pure_a: RunAnalysis, pure_b: RunAnalysis, alloy: RunAnalysis) -> tuple[str, str]:
    """Check that three runs can be combined; returns the sorted pair (A, B).

    Raises
    ------
    SettingsMismatchError
        Wrong compositions, or settings that differ in any non-composition field (T, N, code,
        functional, POTCAR, ENCUT, smearing, time step, thermostat, energy definition…).
    """
    if len(alloy.composition) != 2:
        raise SettingsMismatchError(f"alloy run {alloy.label} has {len(alloy.composition)} element(s) "
                                    f"{sorted(alloy.composition)}; a binary alloy needs two")
    a, b = sorted_pair(*alloy.composition)
    pures = {}
    for run in (pure_a, pure_b):
        if len(run.composition) != 1:
            raise SettingsMismatchError(f"pure reference run {run.label} contains {sorted(run.composition)}")
        pures[next(iter(run.composition))] = run
    if set(pures) != {a, b}:
        raise SettingsMismatchError(f"pure runs are {sorted(pures)} but the alloy {alloy.label} is {a}-{b}")
    for el in (a, b):
        ka, kp = alloy.element_keys[el], pures[el].element_keys[el]
        if ka != kp:
            diff = settings_diff(json.loads(ka), json.loads(kp))
            shown = ", ".join(f"{k}: {v[0]!r} vs {v[1]!r}" for k, v in diff.items())
            raise SettingsMismatchError(
                f"alloy run {alloy.label} and pure {el} run {pures[el].label} differ in {shown}; ΔH_mix "
                "needs identical T, N, code, functional, POTCARs, ENCUT, smearing, time step, thermostat "
                "and energy definition")
    return a, b


def mixing_enthalpy(pure_a: RunAnalysis, pure_b: RunAnalysis, alloy: RunAnalysis) -> MixingResult:
    """ΔH_mix = H_AB − x_A·H_A − x_B·H_B with σ, from three analysed runs (any order of the pures).

    Returns
    -------
    MixingResult
        In J/mol of atoms; σ = sqrt(σ_AB² + x_A²σ_A² + x_B²σ_B²) (independent runs).

    Raises
    ------
    SettingsMismatchError
        See :func:`check_compatible`.
    """
    a, b = check_compatible(pure_a, pure_b, alloy)
    pures = {next(iter(r.composition)): r for r in (pure_a, pure_b)}
    ra, rb = pures[a], pures[b]
    xb = alloy.composition[b] / alloy.n_atoms
    xa = 1.0 - xb

    def combine(attr):
        vals = [getattr(r, attr) for r in (alloy, ra, rb)]
        if any(v is None for v in vals):
            return None
        return (vals[0] - xa * vals[1] - xb * vals[2]) * EV_TO_J_PER_MOL

    dh = combine("H0_eV")
    sigma = math.sqrt(alloy.H0_sem_eV ** 2 + (xa * ra.H0_sem_eV) ** 2 + (xb * rb.H0_sem_eV) ** 2) * EV_TO_J_PER_MOL
    flags, notes = [], []
    for role, run in (("pure_a", ra), ("pure_b", rb), ("alloy", alloy)):
        flags += [f"{role}:{f}" for f in run.flags]
        notes += list(run.notes)
    if abs(dh) < 2 * sigma:
        flags.append("indistinguishable_from_zero")
        notes.append(f"|ΔH_mix| = {abs(dh):.0f} J/mol < 2σ = {2 * sigma:.0f} J/mol: compatible with 0")
    return MixingResult(f"{a}-{b}", float(xb), float(alloy.T_K), float(dh), float(sigma),
                        float(combine("E_eV")), combine("H_pV_eV"),
                        {"pure_a": ra, "pure_b": rb, "alloy": alloy}, tuple(flags), tuple(notes))
