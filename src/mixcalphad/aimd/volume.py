"""The volume search: NVT stages at a few volumes, one equation-of-state fit over all of them, the
next volume (the fitted zero-pressure volume, or a stage beside it where that shrinks the error more)
and the acceptance test. The same code serves local runs (:mod:`.local`) and VASP campaigns
(``aimd status --advance``, :mod:`.status`).

The fit (:mod:`.eos`): a Vinet p̄(v) and the internal energy ⟨E⟩(v) that goes with it ((∂E/∂V)_T =
T(∂p/∂T)_V − p, a linear thermal pressure), weighted by each stage's SEMs (statistical inefficiency),
K′ = 5 ± 2 and the thermal pressure's change as priors. It gives V(p = 0) and H(p = 0) = E(V0) with
their σ, the pressure at any volume with its σ pooled over all stages, and c = ∂H0/∂p̄ = (∂E/∂V)_T·v/K_T
with its σ — the first-order correction H0 = ⟨E⟩ + c·p̄ that :mod:`.analysis` applies to a production.
Local lines through the Vegard start and the zero-pressure volume, 10 % apart, left c uncertain by
30–45 % (K′ and the thermal pressure carried across the gap); one fit over all stages does not.

Only stages that stayed liquid enter the fit (``VolumePoint.liquid``, judged on stages long enough to
tell, :func:`~mixcalphad.aimd.structure.stage_is_liquid`): a cell that crystallised in a liquid-sized box
is under tension and lower in energy (EMT Ni64 at 1900 K: −20 to −33 kbar where the liquid isotherm
gives ≈ 0), and one such stage pulls V0, K_T and H(p = 0) towards a solid. The next stage after it
starts from a fresh packing.

Pressures are totals *including* the kinetic term, kbar; volumes are whole-cell Å³ (``VolumePoint``)
and the fitted (∂E/∂V)_T is per atom, eV/Å³; K_T in GPa.

Acceptance: the σ that the volume leaves in H(p = 0)
----------------------------------------------------
ΔH_mix is made from ``H0 = ⟨E⟩ + c·p̄`` of each production run. The production measures its own p̄, and
the per-step series ``E_t + c·p_t`` carries that pressure noise into σ(H0): the statistical part is
counted already. What the volume search must bound is the error of the correction at the accepted
volume, where the true pressure is at most ``P = |p(V)| + 2σ_p(V)`` (95 %, the fit's pressure at the
stage's volume, which pools every stage and is never less precise than the stage alone):

* ``δc·P`` — the σ of c propagated from the fit's covariance, and
* ``½·P²·|d²E/dp²|`` — the second-order remainder of the expansion of E(p) to p = 0 along the fitted
  isotherm (d²E/dp² = −dc/dp = v/K_T + (1 + K′)·(∂E/∂V)_T·v/K_T² + v²·(dA/dv)/K_T² in consistent units).

A stage is accepted when the fitted |p(V)| is inside the paper's ±2 kbar window *and* that bound is at
most ``h0_bias_max_J`` (:data:`~mixcalphad.aimd.protocol.PROTOCOL`: 100 J/mol of atoms, a quarter of the
≈ 0.45 kJ/mol σ(ΔH_mix) of a 100-atom, 10 ps run). Equivalently ``P ≤ P_max``
(:meth:`VolumeFit.p_bound_kbar`). A stage's own p̄ is noisy (σ_p ≈ 9 kbar, τ_p ≈ 0.03–0.07 ps for 64
EMT atoms: SEM 2–3 kbar in 1.5 ps); the fit's pressure at that volume uses its neighbours too.

The next stage
--------------
At the fitted V0 (clipped to ±10 % of the stage with the smallest |p̄|) — unless a stage beside it,
V0·(1 ± 4 %), would shrink the predicted bound at V0, ``δc·2σ_p(V0)`` with the covariance the fit would
have with that stage (:meth:`~mixcalphad.aimd.eos.IsothermFit.covariance_with`), more: once V0 is
sampled, c is known better from a stage on the far side of V0 than from another one at it. A stage
that may still be accepted is extended to the SEM(p̄) acceptance needs (:func:`stage_ps_needed`).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from mixcalphad.aimd import eos
from mixcalphad.aimd.eos import IsothermFit, fit_isotherm
from mixcalphad.aimd.protocol import PROTOCOL
from mixcalphad.aimd.settings import EV_TO_J_PER_MOL, KBAR_PER_EV_A3

#: Relative offset of a stage placed beside the fitted V0 (the protocol's stage spacing).
BESIDE = 0.04


@dataclass(frozen=True)
class VolumePoint:
    """One volume-search stage: cell volume (Å³), p̄ ± SEM (kbar), ⟨E⟩ ± SEM (eV/atom), N_eff, and where
    known its simulated length (ps), the integrated autocorrelation time of its pressure, τ = g·Δt/2 (ps),
    and whether it stayed liquid (:func:`~mixcalphad.aimd.structure.stage_is_liquid`; None: not judged).
    A stage that is not liquid is kept for the record but left out of the fit and never accepted."""

    label: str
    volume_A3: float
    p_kbar: float
    p_sem_kbar: float
    e_eV: float
    e_sem_eV: float
    n_eff: float
    length_ps: float | None = None
    p_tau_ps: float | None = None
    liquid: bool | None = None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class VolumeFit:
    """The equation-of-state fit over the volume-search stages, the next volume and the acceptance.

    Attributes
    ----------
    points : tuple of VolumePoint
    n_atoms : int
    isotherm : IsothermFit or None
        The fit (:mod:`.eos`, per-atom volumes); None when the stages do not fix a falling p(V).
    V_zero_A3, V_zero_se_A3 : float
        Cell volume where p = 0 and its σ, Å³.
    H_zero_eV, H_zero_se_eV : float
        H(p = 0) = E(V0) from the stages alone and its σ, eV/atom (nan without a fit).
    K_T_GPa : float
        Isothermal bulk modulus at V0, GPa (the guess without a fit).
    dE_dV_eV_A3 : float or None
        (∂E/∂V)_T at V0 per atom, eV/Å³ (None without a fit).
    next_volume_A3 : float
        The next stage's cell volume (module docstring).
    clipped : bool
        True when V0 lay beyond ±``clip`` of the stage with the smallest |p̄|.
    accepted : str or None
        Label of the accepted stage (see :meth:`accepts`; the smallest bound of those accepted), if any.
    from_guess : bool
        True without a fit (one volume, or p̄ not falling with V): the next volume is a step with the
        guessed K_T and nothing is accepted.
    p_window_kbar, h0_bias_max_J : float
        The acceptance limits used (module docstring).
    """

    points: tuple[VolumePoint, ...]
    n_atoms: int
    isotherm: IsothermFit | None
    V_zero_A3: float
    V_zero_se_A3: float
    H_zero_eV: float
    H_zero_se_eV: float
    K_T_GPa: float
    dE_dV_eV_A3: float | None
    next_volume_A3: float
    clipped: bool
    accepted: str | None
    from_guess: bool = False
    p_window_kbar: float = PROTOCOL["p_window_kbar"]
    h0_bias_max_J: float = PROTOCOL["h0_bias_max_J"]

    @property
    def fitted_points(self) -> tuple[VolumePoint, ...]:
        """The stages the fit uses: all but those that did not stay liquid."""
        return tuple(p for p in self.points if p.liquid is not False)

    @property
    def accepted_point(self) -> VolumePoint | None:
        for p in self.points:
            if p.label == self.accepted:
                return p
        return None

    def _v(self, volume_A3: float) -> float:
        return float(volume_A3) / self.n_atoms

    def pressure_kbar_at(self, volume_A3: float, cov: np.ndarray | None = None) -> tuple[float, float]:
        """Fitted p at a cell volume and its σ (kbar), pooled over every stage (nan, inf without a fit)."""
        if self.isotherm is None:
            return float("nan"), float("inf")
        v = self._v(volume_A3)
        return self.isotherm.value_and_se(lambda th: eos.isotherm_pressure_kbar(v, th), cov)

    def K_T_kbar_at(self, volume_A3: float) -> float:
        """K_T = −V·dp/dV of the fit at a cell volume, kbar (the guess without a fit)."""
        if self.isotherm is None:
            return 10.0 * self.K_T_GPa
        return float(eos.bulk_modulus_kbar(self._v(volume_A3), self.isotherm.theta))

    def dE_dV_at(self, volume_A3: float) -> float:
        """(∂E/∂V)_T of the fit at a cell volume, per atom, eV/Å³ (nan without a fit)."""
        if self.isotherm is None:
            return float("nan")
        return float(eos.dE_dV_eV_A3(self._v(volume_A3), self.isotherm.theta))

    def correction_eV_kbar(self, volume_A3: float, cov: np.ndarray | None = None) -> tuple[float, float]:
        """c = ∂H0/∂p̄ = (∂E/∂V)_T·v/K_T at a cell volume and its σ from the fit, eV/atom per kbar."""
        if self.isotherm is None:
            return float("nan"), float("inf")
        v = self._v(volume_A3)
        return self.isotherm.value_and_se(lambda th: eos.correction_eV_kbar(v, th), cov)

    def h0_bias_J(self, p_abs_kbar: float, volume_A3: float, cov: np.ndarray | None = None) -> float:
        """Bound on the error of H0 = ⟨E⟩ + c·p̄ at a volume whose true |p| is ``p_abs_kbar``, J/mol of atoms.

        ``δc·P + ½·P²·|d²E/dp²|`` (module docstring); infinite without a fit.
        """
        c, dc = self.correction_eV_kbar(volume_A3, cov)
        if not np.isfinite(dc):
            return float("inf")
        P = abs(float(p_abs_kbar))
        return float((dc * P + 0.5 * P * P * abs(self._d2E_dp2(volume_A3))) * EV_TO_J_PER_MOL)

    def _d2E_dp2(self, volume_A3: float) -> float:
        """d²E/dp² along the fitted isotherm = −dc/dp = (v/K_T)·dc/dv, eV/atom per kbar²."""
        v, th = self._v(volume_A3), self.isotherm.theta
        h = 1e-4 * v
        dc_dv = (eos.correction_eV_kbar(v + h, th) - eos.correction_eV_kbar(v - h, th)) / (2.0 * h)
        return float(v / eos.bulk_modulus_kbar(v, th) * dc_dv)

    def p_bound_kbar(self, volume_A3: float) -> float:
        """P_max: the largest true |p| whose :meth:`h0_bias_J` stays within ``h0_bias_max_J``, kbar."""
        c, dc = self.correction_eV_kbar(volume_A3)
        if not np.isfinite(dc):
            return 0.0
        a = self.h0_bias_J(1.0, volume_A3) / EV_TO_J_PER_MOL - dc   # the P² coefficient, eV/kbar²
        b = self.h0_bias_max_J / EV_TO_J_PER_MOL
        if a <= 0:
            return float(b / dc) if dc > 0 else float("inf")
        return float((-dc + np.sqrt(dc * dc + 4.0 * a * b)) / (2.0 * a))

    def pressure_bound_kbar(self, volume_A3: float) -> float:
        """P = |p(V)| + 2σ_p(V) of the fit: the 95 % bound on the true |p| at a cell volume, kbar."""
        p, sp = self.pressure_kbar_at(volume_A3)
        return float(abs(p) + 2.0 * sp)

    def accepts(self, point: VolumePoint) -> bool:
        """The stage stayed liquid, the fitted |p| at its volume is inside the window and P ≤
        :meth:`p_bound_kbar` there."""
        if self.isotherm is None or point.liquid is False:
            return False
        p, _ = self.pressure_kbar_at(point.volume_A3)
        return bool(abs(p) < self.p_window_kbar
                    and self.pressure_bound_kbar(point.volume_A3) <= self.p_bound_kbar(point.volume_A3))

    def sem_needed_kbar(self, point: VolumePoint) -> float:
        """SEM(p̄) of this stage at which it would be accepted if the fit stayed as it is, kbar (0: it cannot be).

        The fit's σ_p at the stage pools the stage (1/SEM²) with the rest (1/σ_rest² = 1/σ_p² − 1/SEM²);
        acceptance needs σ_p ≤ (P_max − |p|)/2. A stage that crystallised cannot be accepted.
        """
        if self.isotherm is None or point.liquid is False or not np.isfinite(point.p_sem_kbar):
            return 0.0
        p, sp = self.pressure_kbar_at(point.volume_A3)
        target = 0.5 * (self.p_bound_kbar(point.volume_A3) - abs(p))
        if not (abs(p) < self.p_window_kbar and target > 0):
            return 0.0
        rest = 1.0 / sp ** 2 - 1.0 / point.p_sem_kbar ** 2
        need = 1.0 / target ** 2 - max(rest, 0.0)
        return float(1.0 / np.sqrt(need)) if need > 0 else float("inf")

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["points"] = [p.to_dict() for p in self.points]
        out["isotherm"] = self.isotherm.to_dict() if self.isotherm is not None else None
        return out


def stage_ps_needed(point: VolumePoint, sem_kbar: float) -> float:
    """Simulated length a stage needs for SEM(p̄) ≤ ``sem_kbar``, ps, from its measured SEM and length.

    SEM² = σ_p²·g/N, so the length scales as (SEM/target)² at the measured variance and statistical
    inefficiency (see :func:`~mixcalphad.aimd.statistics.samples_needed` for a series). Infinite for a
    target of 0 or a stage without a length.

    >>> stage_ps_needed(VolumePoint("s", 1e3, 1.0, 2.0, -4.0, 1e-3, 30, length_ps=2.0), 1.0)
    8.0
    """
    if not point.length_ps or sem_kbar <= 0 or not np.isfinite(point.p_sem_kbar):
        return float("inf")
    return float(point.length_ps * (point.p_sem_kbar / sem_kbar) ** 2)


def _next_volume(fit: VolumeFit) -> float:
    """Cell volume of the next stage: of V0 and V0·(1 ± :data:`BESIDE`), the one after which some stage
    (those done, or the new one) would have the smallest predicted bound :meth:`VolumeFit.h0_bias_J` at
    ``P = |p| + 2σ_p`` — the covariance the fit would have with it (module docstring). The new stage is
    given the median SEMs of the stages done."""
    iso, n = fit.isotherm, fit.n_atoms
    pts = fit.fitted_points
    sp = float(np.median([p.p_sem_kbar for p in pts if np.isfinite(p.p_sem_kbar)] or [10.0]))
    se = float(np.median([p.e_sem_eV for p in pts if np.isfinite(p.e_sem_eV)] or [1.0]))
    best, best_bound = iso.v0_A3, float("inf")
    for v in (iso.v0_A3, iso.v0_A3 * (1 - BESIDE), iso.v0_A3 * (1 + BESIDE)):
        cov = iso.covariance_with(v, max(sp, 0.1), max(se, 1e-5))
        bounds = []
        for volume in [p.volume_A3 for p in pts] + [v * n]:
            p, dp = fit.pressure_kbar_at(volume, cov)
            if abs(p) < fit.p_window_kbar:
                bounds.append(fit.h0_bias_J(abs(p) + 2.0 * dp, volume, cov))
        if bounds and min(bounds) < best_bound * (1 - 1e-9):
            best, best_bound = v, min(bounds)
    return best * n


def fit_volume(points: Sequence[VolumePoint], *, n_atoms: int, clip: float = PROTOCOL["volume_clip"],
               p_window_kbar: float = PROTOCOL["p_window_kbar"],
               h0_bias_max_J: float = PROTOCOL["h0_bias_max_J"], k_guess_GPa: float = 100.0) -> VolumeFit:
    """Fit the isotherm to the stages, propose the next volume and test acceptance.

    Parameters
    ----------
    points : sequence of VolumePoint
        Finished stages (cell volumes in Å³, pressures in kbar including the kinetic term). Stages that
        did not stay liquid (``liquid=False``) are kept in the result but not fitted; when none is
        liquid, the next stage repeats the volume of the smallest |p̄| (from a fresh packing).
    n_atoms : int
    clip : float
        Largest relative step from the stage with the smallest |p̄| (0.10: ±10 %).
    p_window_kbar : float
        Acceptance window on the fitted |p| at a stage, kbar (the paper's ±2 kbar).
    h0_bias_max_J : float
        Largest error of H(p = 0) that the accepted volume may cause, J/mol of atoms (module docstring).
    k_guess_GPa : float
        Bulk modulus of the step when the stages do not fix p(V) (one volume).

    Examples
    --------
    >>> th = (10.0, 500.0, 5.0, -5.0, 100.0, 0.0)              # v0 Å³/atom, K0 kbar, K′, E0, A0, a1
    >>> pts = [VolumePoint(str(v), 100 * v, float(eos.isotherm_pressure_kbar(v, th)), 0.5,
    ...                    float(eos.energy_eV(v, th)), 1e-4, 100) for v in (9.6, 10.0, 10.4)]
    >>> fit = fit_volume(pts, n_atoms=100)
    >>> round(fit.V_zero_A3, 1), round(fit.K_T_GPa, 1), round(fit.H_zero_eV, 4), fit.accepted
    (1000.0, 50.0, -5.0, '10.0')
    """
    if not points:
        raise ValueError("no volume-search stage to fit")
    pts = tuple(points)
    liquid = [p for p in pts if p.liquid is not False]
    best = min(liquid or pts, key=lambda p: abs(p.p_kbar))
    iso = fit_isotherm([p.volume_A3 / n_atoms for p in liquid], [p.p_kbar for p in liquid],
                       [p.p_sem_kbar for p in liquid], [p.e_eV for p in liquid], [p.e_sem_eV for p in liquid])
    lo, hi = best.volume_A3 * (1 - clip), best.volume_A3 * (1 + clip)
    if iso is None:
        K_kbar = 10.0 * k_guess_GPa
        V_zero = best.volume_A3 * (1.0 + best.p_kbar / K_kbar) if liquid else best.volume_A3
        nxt = float(min(max(V_zero, lo), hi))
        return VolumeFit(pts, int(n_atoms), None, float(V_zero), float("inf"), float("nan"), float("inf"),
                         float(k_guess_GPa), None, nxt, bool(nxt != V_zero), None, True, float(p_window_kbar),
                         float(h0_bias_max_J))
    V_zero = iso.v0_A3 * n_atoms
    fit = VolumeFit(pts, int(n_atoms), iso, float(V_zero), iso.se("v0_A3") * n_atoms, iso.H0_eV, iso.se("E0_eV"),
                    iso.theta[1] / 10.0, float(iso.theta[4] / KBAR_PER_EV_A3), float(V_zero), False, None, False,
                    float(p_window_kbar), float(h0_bias_max_J))
    nxt = _next_volume(fit)
    fit = dataclasses.replace(fit, next_volume_A3=float(min(max(nxt, lo), hi)), clipped=not lo <= nxt <= hi)
    ok = [p for p in pts if fit.accepts(p)]
    if not ok:
        return fit
    return dataclasses.replace(fit, accepted=min(ok, key=lambda p: fit.pressure_bound_kbar(p.volume_A3)).label)


def acceptance_limits(protocol: Mapping | None = None) -> dict:
    """``p_window_kbar`` and ``h0_bias_max_J`` of a protocol mapping (a runs manifest's), defaults filled in.

    A manifest written before the H(p = 0) acceptance (it has ``p_sem_max_kbar``) gets the default bound.
    """
    protocol = protocol or {}
    return {"p_window_kbar": float(protocol.get("p_window_kbar", PROTOCOL["p_window_kbar"])),
            "h0_bias_max_J": float(protocol.get("h0_bias_max_J", PROTOCOL["h0_bias_max_J"]))}


def volume_step(volumes_A3, pressures_kbar, sems_kbar=None, *, n_atoms: int = 100,
                clip: float = PROTOCOL["volume_clip"], k_guess_GPa: float = 100.0) -> float:
    """Next cell volume (Å³) from stage volumes and mean pressures alone (:func:`fit_volume`), ±``clip``."""
    sems = sems_kbar if sems_kbar is not None else [1.0] * len(volumes_A3)
    pts = [VolumePoint(str(i), float(v), float(p), float(s), 0.0, 1.0, 100.0)
           for i, (v, p, s) in enumerate(zip(volumes_A3, pressures_kbar, sems))]
    return fit_volume(pts, n_atoms=n_atoms, clip=clip, k_guess_GPa=k_guess_GPa).next_volume_A3
