"""The volume search: NVT stages at a few volumes, local linear p̄(V) and ⟨E⟩(V) fits, the next volume
(p = 0 by a Murnaghan step from the stage with the smallest |p̄|, clipped to ±10 % of it) and the
acceptance test.

Fits are local (:func:`local_lines`): stages weighted by 1/SEM² and a Gaussian of relative width 8 %
around the volume where the derivatives are needed (the stage with the smallest |p̄| for the next
volume, the production volume for H(p = 0)), the slope bias of unevenly weighted points of a convex
p(V) removed with K′, and K_T and (∂E/∂V)_T carried from the fit's mean volume to the wanted one
(dK/dp = K′; (∂E/∂V)_T = T(∂p/∂T)_V − p with a constant thermal pressure). One line through the Vegard
start and the zero-pressure volume, 10 % apart, misplaces p = 0 and misjudges both by tens of per cent.

Pressures are totals *including* the kinetic term, kbar; volumes are whole-cell Å³ (``VolumePoint``)
and the fitted (∂E/∂V)_T is per atom, eV/Å³; K_T in GPa.

Acceptance: what the H(p = 0) estimator needs
----------------------------------------------
ΔH_mix is made from ``H0 = ⟨E⟩ + c·p̄`` of each production run, with ``c = (∂E/∂V)_T·v/K_T`` from
the fit below (:mod:`.analysis`). The production measures its own p̄, and the per-step series
``E_t + c·p_t`` carries that pressure noise into σ(H0): the statistical part is counted already.
What the volume search must bound is the *systematic* error of that first-order correction at the
accepted volume, where the true mean pressure is at most ``P = |p̄| + 2·SEM(p̄)`` (95 %):

* ``δc·P`` — the standard error of ``c``: the local fit's (weighted least squares, inflated by the
  Birge ratio √χ²_red when the stages scatter more than their SEMs) and that of carrying K_T and
  (∂E/∂V)_T from the fit's mean volume (K′ = 5 ± 2, a thermal pressure varying as V^±3), and
* ``½·(P/K_T)²·v·(K_T + (K′ − 1)·|∂E/∂V|)`` — the second-order remainder of the expansion of E(V) to
  p = 0 (the elastic energy p²V/2K_T plus the change of V(p) with K′ = dK/dp ≈ 5 for liquid metals,
  :data:`K_PRIME`).

A stage is accepted when |p̄| is inside the paper's ±2 kbar window *and* that bound is at most
``h0_bias_max_J`` (:data:`~mixcalphad.aimd.protocol.PROTOCOL`: 100 J/mol of atoms, a quarter of the
≈ 0.45 kJ/mol σ(ΔH_mix) of a 100-atom, 10 ps run — even three runs biased the same way stay below
½σ). Equivalently, ``|p̄| + 2·SEM ≤ P_max`` (:meth:`VolumeFit.p_bound_kbar`).

This replaces a fixed SEM(p̄) < 1 kbar, which the estimator does not need and which small cells do not
reach in a useful time: the pressure of a 64-atom EMT Cu–Ni liquid at 1900 K fluctuates by
σ_p ≈ 9 kbar and decorrelates over τ_p ≈ 0.03–0.07 ps (``benchmarks/aimd_local.py``), so
SEM = σ_p·√(2τ_p/t) < 1 kbar takes t ≈ 6–30 ps per stage — as long as the production — whereas what
the estimator needs depends on how well c is known. The stage length follows from the same numbers: a stage whose p̄ may still be
accepted is extended to the length its measured variance and statistical inefficiency need for
``SEM ≤ (P_max − |p̄|)/2`` (:func:`stage_ps_needed`, :func:`mixcalphad.aimd.statistics.samples_needed`).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from mixcalphad.aimd.protocol import PROTOCOL
from mixcalphad.aimd.settings import EV_TO_J_PER_MOL, KBAR_PER_EV_A3

#: Pressure derivative of the bulk modulus, dK/dp, of liquid metals near melting (≈ 4–6), for the
#: second-order remainder of the H(p = 0) correction.
K_PRIME = 5.0
#: Its uncertainty in the error of c = ∂H0/∂p̄.
K_PRIME_SE = 2.0
#: Bound on |d ln(T(∂p/∂T)_V)/d ln V| (the thermal pressure, held constant when (∂E/∂V)_T is carried
#: from the stages' mean volume): the Anderson–Grüneisen-type exponent, |δ_T − K′| ≲ 3.
THERMAL_PRESSURE_EXPONENT = 3.0
#: Relative width of the local fits' Gaussian weights: two of the protocol's 4 % stage spacings, so that
#: the pressure slope has a lever arm (≈ 100 kbar) far above the stages' SEM (2–4 kbar for 64–100 atoms).
LOCAL_BANDWIDTH = 0.08


@dataclass(frozen=True)
class VolumePoint:
    """One volume-search stage: cell volume (Å³), p̄ ± SEM (kbar), ⟨E⟩ ± SEM (eV/atom), N_eff, and where
    known its simulated length (ps) and the integrated autocorrelation time of its pressure, τ = g·Δt/2 (ps)."""

    label: str
    volume_A3: float
    p_kbar: float
    p_sem_kbar: float
    e_eV: float
    e_sem_eV: float
    n_eff: float
    length_ps: float | None = None
    p_tau_ps: float | None = None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class VolumeFit:
    """Linear p(V) and E(V) over the volume-search stages, the next volume to try and the acceptance.

    Attributes
    ----------
    points : tuple of VolumePoint
    n_atoms : int
    dp_dV_kbar_A3 : float
        Slope of p̄ against the cell volume, kbar/Å³.
    K_T_GPa : float
        Isothermal bulk modulus −V·dp/dV at the best stage (smallest |p̄|), GPa.
    dE_dV_eV_A3 : float or None
        (∂E/∂V)_T of the per-atom energy against the per-atom volume, eV/Å³ (None with one volume).
    V_zero_A3 : float
        Cell volume where p = 0: a Murnaghan step (K′) from the best stage with its local K_T, Å³.
    next_volume_A3 : float
        The next stage's cell volume: V_zero, clipped to ±``clip`` around the best stage.
    clipped : bool
    accepted : str or None
        Label of the accepted stage (see :meth:`accepts`; smallest |p̄| of those accepted), if any.
    from_guess : bool
        True when K_T is the guess, not a fit (one volume, or a non-negative slope): nothing is accepted.
    dp_dV_se_kbar_A3, dE_dV_se_eV_A3 : float
        Standard errors of the two slopes (Birge-ratio inflated when χ²_red > 1).
    p_window_kbar, h0_bias_max_J : float
        The acceptance limits used (see the module docstring).
    bandwidth : float
        Relative width of the Gaussian weights of the local fits (:func:`local_lines`).

    The slopes, K_T, V_zero and the next volume are those of the fit around the stage with the smallest
    |p̄|; K_T, (∂E/∂V)_T and c at another volume come from a fit around that volume (``*_at``).
    """

    points: tuple[VolumePoint, ...]
    n_atoms: int
    dp_dV_kbar_A3: float
    K_T_GPa: float
    dE_dV_eV_A3: float | None
    V_zero_A3: float
    next_volume_A3: float
    clipped: bool
    accepted: str | None
    from_guess: bool = False
    dp_dV_se_kbar_A3: float = float("nan")
    dE_dV_se_eV_A3: float = float("nan")
    p_window_kbar: float = PROTOCOL["p_window_kbar"]
    h0_bias_max_J: float = PROTOCOL["h0_bias_max_J"]
    bandwidth: float = LOCAL_BANDWIDTH

    @property
    def accepted_point(self) -> VolumePoint | None:
        for p in self.points:
            if p.label == self.accepted:
                return p
        return None

    def lines_at(self, volume_A3: float) -> "LocalLines":
        """The p(V) and E(V) lines fitted around ``volume_A3`` (:func:`local_lines`)."""
        return local_lines(self.points, self.n_atoms, volume_A3, self.bandwidth)

    def K_T_kbar_at(self, volume_A3: float) -> float:
        """K_T at a cell volume, kbar: −V̄·dp/dV of the local fit at its mean volume V̄, carried to
        ``volume_A3`` with dK/dp = K′ (:data:`K_PRIME`)."""
        L = self.lines_at(volume_A3)
        return float(-L.V_mean_p_A3 * L.dp_dV + K_PRIME * L.dp_dV * (volume_A3 - L.V_mean_p_A3))

    def dE_dV_at(self, volume_A3: float) -> float:
        """(∂E/∂V)_T at a cell volume, eV/Å³: the local E(V) slope (the derivative at its mean volume V̄)
        carried to ``volume_A3`` by (∂E/∂V)_T = T(∂p/∂T)_V − p with the thermal pressure held constant."""
        L = self.lines_at(volume_A3)
        return float(L.dE_dV - L.dp_dV * (volume_A3 - L.V_mean_e_A3) / KBAR_PER_EV_A3)

    def correction_eV_kbar(self, volume_A3: float) -> tuple[float, float]:
        """c = ∂H0/∂p̄ = (∂E/∂V)_T·v/K_T at a cell volume and its standard error, eV/atom per kbar.

        The error combines the local fit's (slopes, Birge-inflated) and those of carrying K_T and
        (∂E/∂V)_T from the fit's mean volumes: K′ = 5 ± 2 (:data:`K_PRIME_SE`) and a thermal pressure
        T(∂p/∂T)_V that may change as V^±3 (:data:`THERMAL_PRESSURE_EXPONENT`).
        """
        if self.from_guess or self.dE_dV_eV_A3 is None:
            return float("nan"), float("inf")
        L = self.lines_at(volume_A3)
        if not L.dp_dV < 0:
            return float("nan"), float("inf")
        v = volume_A3 / self.n_atoms
        K = self.K_T_kbar_at(volume_A3)
        if not K > 0:
            return float("nan"), float("inf")
        c = self.dE_dV_at(volume_A3) * v / K
        rel_K = np.hypot(L.dp_dV_se / L.dp_dV, K_PRIME_SE * L.dp_dV * (volume_A3 - L.V_mean_p_A3) / K)
        rel_thermal = THERMAL_PRESSURE_EXPONENT * abs(volume_A3 - L.V_mean_e_A3) / L.V_mean_e_A3
        se = float(np.sqrt((v * L.dE_dV_se / K) ** 2 + (c * rel_K) ** 2 + (c * rel_thermal) ** 2))
        return float(c), se

    def h0_bias_J(self, p_abs_kbar: float, volume_A3: float) -> float:
        """Bound on the error of H0 = ⟨E⟩ + c·p̄ at a volume whose true |p| is ``p_abs_kbar``, J/mol of atoms.

        ``δc·P + ½·(P/K_T)²·v·(K_T + (K′ − 1)·|∂E/∂V|)`` (module docstring); infinite without a fit.
        """
        c, dc = self.correction_eV_kbar(volume_A3)
        if not np.isfinite(dc):
            return float("inf")
        P = abs(float(p_abs_kbar))
        K = self.K_T_kbar_at(volume_A3)
        v = volume_A3 / self.n_atoms
        second = 0.5 * (P / K) ** 2 * v * (K / KBAR_PER_EV_A3 + (K_PRIME - 1.0) * abs(self.dE_dV_at(volume_A3)))
        return float((dc * P + second) * EV_TO_J_PER_MOL)

    def p_bound_kbar(self, volume_A3: float) -> float:
        """P_max: the largest |p̄| + 2·SEM whose :meth:`h0_bias_J` stays within ``h0_bias_max_J``, kbar."""
        c, dc = self.correction_eV_kbar(volume_A3)
        if not np.isfinite(dc):
            return 0.0
        a = self.h0_bias_J(1.0, volume_A3) / EV_TO_J_PER_MOL - dc   # the P² coefficient, eV/kbar²
        b = self.h0_bias_max_J / EV_TO_J_PER_MOL
        if a <= 0:
            return float(b / dc) if dc > 0 else float("inf")
        return float((-dc + np.sqrt(dc * dc + 4.0 * a * b)) / (2.0 * a))

    def accepts(self, point: VolumePoint) -> bool:
        """|p̄| < window and |p̄| + 2·SEM(p̄) ≤ :meth:`p_bound_kbar` at the point's volume."""
        if not (np.isfinite(point.p_kbar) and np.isfinite(point.p_sem_kbar)):
            return False
        return bool(abs(point.p_kbar) < self.p_window_kbar
                    and abs(point.p_kbar) + 2.0 * point.p_sem_kbar <= self.p_bound_kbar(point.volume_A3))

    def sem_needed_kbar(self, point: VolumePoint) -> float:
        """SEM(p̄) at which the point would be accepted if p̄ stayed as it is, kbar (0: it cannot be)."""
        if not abs(point.p_kbar) < self.p_window_kbar:
            return 0.0
        return max(0.5 * (self.p_bound_kbar(point.volume_A3) - abs(point.p_kbar)), 0.0)

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["points"] = [p.to_dict() for p in self.points]
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


def _wls(x: np.ndarray, y: np.ndarray, w: np.ndarray, k: np.ndarray) -> tuple[float, float, float]:
    """Weighted least-squares line y = a + b·x, weights ``w·k`` (1/σ² times a kernel ≤ 1); (a, b, se(b)).

    se(b) = 1/√(Σwk(x − x̄)²) (conservative for k ≤ 1), inflated by the Birge ratio √χ²_red when the
    points scatter more than their σ (χ²_red = Σwk·r²/(Σk − 2), with Σk > 2).
    """
    wk = w * k
    W = wk.sum()
    xm, ym = (wk * x).sum() / W, (wk * y).sum() / W
    sxx = (wk * (x - xm) ** 2).sum()
    b = (wk * (x - xm) * (y - ym)).sum() / sxx
    a = ym - b * xm
    se = 1.0 / np.sqrt(sxx)
    if k.sum() > 2.0:
        chi2_red = float((wk * (y - a - b * x) ** 2).sum()) / (k.sum() - 2.0)
        se *= np.sqrt(max(chi2_red, 1.0))
    return float(a), float(b), float(se)


@dataclass(frozen=True)
class LocalLines:
    """p(V) (kbar, cell Å³) and per-atom E(v) lines fitted around one volume, their standard errors,
    the kernel-weighted mean cell volumes at which the slopes are the derivatives (the slope bias
    ½f″·m₃/m₂ of unevenly weighted points of a convex p(V) and E(V) removed)."""

    p_at_zero: float
    dp_dV: float
    dp_dV_se: float
    V_mean_p_A3: float
    dE_dV: float
    dE_dV_se: float
    V_mean_e_A3: float


def local_lines(points: Sequence[VolumePoint], n_atoms: int, center_A3: float, bandwidth: float) -> LocalLines:
    """Lines p̄(V) and ⟨E⟩(V) over the stages, weighted by 1/SEM² and a Gaussian in V around ``center_A3``.

    p(V) of a liquid is convex, so a line through stages 10 % apart (the Vegard start and the
    zero-pressure volume) misplaces p = 0 and misjudges K_T and (∂E/∂V)_T where they are needed; the
    kernel exp(−½((V − V_c)/(h·V_c))²), h = ``bandwidth`` (:data:`LOCAL_BANDWIDTH`), keeps the fit
    local.
    """
    V = np.array([p.volume_A3 for p in points], float)
    P = np.array([p.p_kbar for p in points], float)
    E = np.array([p.e_eV for p in points], float)
    wp = 1.0 / np.maximum([p.p_sem_kbar if np.isfinite(p.p_sem_kbar) else 10.0 for p in points], 0.1) ** 2
    we = 1.0 / np.maximum([p.e_sem_eV if np.isfinite(p.e_sem_eV) else 1.0 for p in points], 1e-5) ** 2
    k = np.exp(-0.5 * ((V - center_A3) / (bandwidth * center_A3)) ** 2) if bandwidth > 0 else np.ones_like(V)
    k = np.maximum(k / k.max(), 1e-12)
    a, slope, slope_se = _wls(V, P, wp, k)
    _, de, de_se = _wls(V / n_atoms, E, we, k)
    Vp, Ve = _mean(V, wp * k), _mean(V, we * k)
    # a line through unevenly weighted points of a curved function has the slope f′(V̄) + ½f″·m₃/m₂:
    # remove that with the curvatures of a liquid, p″ = K(1 + K′)/V² and E″ = −dp/dv
    if slope < 0:
        K = -Vp * slope
        slope -= 0.5 * K * (1.0 + K_PRIME) / Vp ** 2 * _skew(V, wp * k)
        a = _mean(P, wp * k) - slope * Vp
        de -= 0.5 * (-slope * n_atoms / KBAR_PER_EV_A3) * _skew(V / n_atoms, we * k)
    return LocalLines(a, slope, slope_se, Vp, de, de_se, Ve)


def _mean(x: np.ndarray, w: np.ndarray) -> float:
    return float((w * x).sum() / w.sum())


def _skew(x: np.ndarray, w: np.ndarray) -> float:
    """m₃/m₂ of weighted points (0 for a symmetric design)."""
    d = x - _mean(x, w)
    m2 = float((w * d * d).sum())
    return float((w * d ** 3).sum()) / m2 if m2 > 0 else 0.0


def fit_volume(points: Sequence[VolumePoint], *, n_atoms: int, clip: float = PROTOCOL["volume_clip"],
               p_window_kbar: float = PROTOCOL["p_window_kbar"],
               h0_bias_max_J: float = PROTOCOL["h0_bias_max_J"], k_guess_GPa: float = 100.0,
               bandwidth: float = LOCAL_BANDWIDTH) -> VolumeFit:
    """Fit p̄(V) and ⟨E⟩(V) around the best stage, propose the next volume and test acceptance.

    Parameters
    ----------
    points : sequence of VolumePoint
        Finished stages (cell volumes in Å³, pressures in kbar including the kinetic term).
    n_atoms : int
    clip : float
        Largest relative step from the best stage (0.10: ±10 %).
    p_window_kbar : float
        Acceptance window on |p̄|, kbar (the paper's ±2 kbar).
    h0_bias_max_J : float
        Largest error of H(p = 0) that the accepted volume may cause, J/mol of atoms (module docstring).
    k_guess_GPa : float
        Bulk modulus used when the stages do not determine the slope.
    bandwidth : float
        Relative width of the local fits' Gaussian weights (:func:`local_lines`; 0: one global line).

    Examples
    --------
    >>> pts = [VolumePoint(str(v), v, -0.5 * (v - 1000.0), 0.5, -5 + 1e-3 * v / 100, 1e-3, 100)
    ...        for v in (960.0, 1000.0, 1040.0)]
    >>> fit = fit_volume(pts, n_atoms=100)
    >>> round(fit.V_zero_A3, 1), round(fit.K_T_GPa, 1), fit.accepted
    (1000.0, 50.0, '1000.0')
    """
    if not points:
        raise ValueError("no volume-search stage to fit")
    pts = tuple(points)
    V = np.array([p.volume_A3 for p in pts])
    best = min(pts, key=lambda p: abs(p.p_kbar))
    from_guess = False
    dE_dV = None
    slope_se = de_se = float("nan")
    if len(np.unique(np.round(V, 6))) >= 2:
        L = local_lines(pts, n_atoms, best.volume_A3, bandwidth)
        slope, slope_se, dE_dV, de_se = L.dp_dV, L.dp_dV_se, L.dE_dV, L.dE_dV_se
        # K_T at the best stage, and from there to p = 0 along Murnaghan's p(V) with K′ (a Newton step
        # from the stage itself: a line through stages on both sides of a convex p(V) misses p = 0)
        K_kbar = -L.V_mean_p_A3 * slope + K_PRIME * slope * (best.volume_A3 - L.V_mean_p_A3)
        if slope < 0 and K_kbar > 0:
            ratio = 1.0 - K_PRIME * best.p_kbar / K_kbar
            V_zero = (best.volume_A3 * ratio ** (-1.0 / K_PRIME) if ratio > 0
                      else best.volume_A3 * (1.0 + best.p_kbar / K_kbar))
        else:
            from_guess = True
    else:
        from_guess = True
    if from_guess:
        K_kbar = 10.0 * k_guess_GPa
        V_zero = best.volume_A3 * (1.0 + best.p_kbar / K_kbar)
        slope = -K_kbar / best.volume_A3
    lo, hi = best.volume_A3 * (1 - clip), best.volume_A3 * (1 + clip)
    nxt = float(min(max(V_zero, lo), hi))
    fit = VolumeFit(pts, int(n_atoms), float(slope), float(K_kbar / 10.0), dE_dV, float(V_zero), nxt,
                    bool(nxt != V_zero), None, from_guess, float(slope_se), float(de_se), float(p_window_kbar),
                    float(h0_bias_max_J), float(bandwidth))
    ok = [p for p in pts if fit.accepts(p)]
    if not ok:
        return fit
    return dataclasses.replace(fit, accepted=min(ok, key=lambda p: abs(p.p_kbar)).label)


def acceptance_limits(protocol: Mapping | None = None) -> dict:
    """``p_window_kbar`` and ``h0_bias_max_J`` of a protocol mapping (a runs manifest's), defaults filled in.

    A manifest written before the H(p = 0) acceptance (it has ``p_sem_max_kbar``) gets the default bound.
    """
    protocol = protocol or {}
    return {"p_window_kbar": float(protocol.get("p_window_kbar", PROTOCOL["p_window_kbar"])),
            "h0_bias_max_J": float(protocol.get("h0_bias_max_J", PROTOCOL["h0_bias_max_J"]))}


def volume_step(volumes_A3, pressures_kbar, sems_kbar=None, *, n_atoms: int = 100,
                clip: float = PROTOCOL["volume_clip"], k_guess_GPa: float = 100.0) -> float:
    """Next cell volume (Å³) from stage volumes and mean pressures: linear p(V) → p = 0, ±``clip``."""
    sems = sems_kbar if sems_kbar is not None else [1.0] * len(volumes_A3)
    pts = [VolumePoint(str(i), float(v), float(p), float(s), 0.0, 1.0, 100.0)
           for i, (v, p, s) in enumerate(zip(volumes_A3, pressures_kbar, sems))]
    return fit_volume(pts, n_atoms=n_atoms, clip=clip, k_guess_GPa=k_guess_GPa).next_volume_A3
