"""The volume search: NVT stages at a few volumes, linear p̄(V) and ⟨E⟩(V) fits, the next volume
(p̄ = 0, clipped to ±10 % of the best stage) and the acceptance test (|p̄| < 2 kbar, SEM < 1 kbar).

Pressures are totals *including* the kinetic term, kbar; volumes are whole-cell Å³ (``VolumePoint``)
and the fitted (∂E/∂V)_T is per atom, eV/Å³; K_T in GPa.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from mixcalphad.aimd.protocol import PROTOCOL


@dataclass(frozen=True)
class VolumePoint:
    """One volume-search stage: cell volume (Å³), p̄ ± SEM (kbar), ⟨E⟩ ± SEM (eV/atom), and its simulated
    length (ps) where known."""

    label: str
    volume_A3: float
    p_kbar: float
    p_sem_kbar: float
    e_eV: float
    e_sem_eV: float
    n_eff: float
    length_ps: float | None = None

    def accepted(self, p_window_kbar: float = PROTOCOL["p_window_kbar"],
                 p_sem_max_kbar: float = PROTOCOL["p_sem_max_kbar"]) -> bool:
        """|p̄| < window and SEM(p̄) < limit."""
        return bool(abs(self.p_kbar) < p_window_kbar and self.p_sem_kbar < p_sem_max_kbar)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class VolumeFit:
    """Linear p(V) and E(V) over the volume-search stages, and the next volume to try.

    Attributes
    ----------
    points : tuple of VolumePoint
    n_atoms : int
    dp_dV_kbar_A3 : float
        Slope of p̄ against the cell volume, kbar/Å³.
    K_T_GPa : float
        Isothermal bulk modulus −V·dp/dV at the zero-pressure volume, GPa.
    dE_dV_eV_A3 : float or None
        (∂E/∂V)_T of the per-atom energy against the per-atom volume, eV/Å³ (None with one volume).
    V_zero_A3 : float
        Cell volume where the fitted p̄ is 0, Å³.
    next_volume_A3 : float
        The next stage's cell volume: V_zero, clipped to ±``clip`` around the best stage.
    clipped : bool
    accepted : str or None
        Label of the accepted stage (|p̄| < window, SEM < limit, smallest |p̄|), if any.
    from_guess : bool
        True when K_T is the guess, not a fit (one volume, or a non-negative slope).
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

    @property
    def accepted_point(self) -> VolumePoint | None:
        for p in self.points:
            if p.label == self.accepted:
                return p
        return None

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["points"] = [p.to_dict() for p in self.points]
        return out


def _wls(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Weighted least-squares line y = a + b·x; returns (a, b)."""
    W = w.sum()
    xm, ym = (w * x).sum() / W, (w * y).sum() / W
    sxx = (w * (x - xm) ** 2).sum()
    b = (w * (x - xm) * (y - ym)).sum() / sxx
    return ym - b * xm, b


def fit_volume(points: Sequence[VolumePoint], *, n_atoms: int, clip: float = PROTOCOL["volume_clip"],
               p_window_kbar: float = PROTOCOL["p_window_kbar"],
               p_sem_max_kbar: float = PROTOCOL["p_sem_max_kbar"], k_guess_GPa: float = 100.0) -> VolumeFit:
    """Fit p̄(V) and ⟨E⟩(V) linearly over the stages and propose the next volume.

    Parameters
    ----------
    points : sequence of VolumePoint
        Finished stages (cell volumes in Å³, pressures in kbar including the kinetic term).
    n_atoms : int
    clip : float
        Largest relative step from the best stage (0.10: ±10 %).
    p_window_kbar, p_sem_max_kbar : float
        Acceptance: |p̄| < window and SEM(p̄) < limit.
    k_guess_GPa : float
        Bulk modulus used when the stages do not determine the slope.

    Examples
    --------
    >>> pts = [VolumePoint(str(v), v, -0.5 * (v - 1000.0), 0.5, -5 + 1e-3 * v / 100, 1e-3, 100)
    ...        for v in (960.0, 1000.0, 1040.0)]
    >>> fit = fit_volume(pts, n_atoms=100)
    >>> round(fit.V_zero_A3, 1), round(fit.K_T_GPa, 1)
    (1000.0, 50.0)
    """
    if not points:
        raise ValueError("no volume-search stage to fit")
    pts = tuple(points)
    V = np.array([p.volume_A3 for p in pts])
    P = np.array([p.p_kbar for p in pts])
    E = np.array([p.e_eV for p in pts])
    wp = 1.0 / np.maximum([p.p_sem_kbar if np.isfinite(p.p_sem_kbar) else 10.0 for p in pts], 0.1) ** 2
    we = 1.0 / np.maximum([p.e_sem_eV if np.isfinite(p.e_sem_eV) else 1.0 for p in pts], 1e-5) ** 2
    best = min(pts, key=lambda p: abs(p.p_kbar))
    from_guess = False
    dE_dV = None
    if len(np.unique(np.round(V, 6))) >= 2:
        a, slope = _wls(V, P, wp)
        _, de = _wls(V / n_atoms, E, we)
        dE_dV = float(de)
        if slope < 0:
            V_zero = -a / slope
            K_kbar = -V_zero * slope
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
    ok = [p for p in pts if p.accepted(p_window_kbar, p_sem_max_kbar)]
    accepted = min(ok, key=lambda p: abs(p.p_kbar)).label if ok else None
    return VolumeFit(pts, int(n_atoms), float(slope), float(K_kbar / 10.0), dE_dV, float(V_zero), nxt,
                     bool(nxt != V_zero), accepted, from_guess)


def volume_step(volumes_A3, pressures_kbar, sems_kbar=None, *, n_atoms: int = 100,
                clip: float = PROTOCOL["volume_clip"], k_guess_GPa: float = 100.0) -> float:
    """Next cell volume (Å³) from stage volumes and mean pressures: linear p(V) → p = 0, ±``clip``."""
    sems = sems_kbar if sems_kbar is not None else [1.0] * len(volumes_A3)
    pts = [VolumePoint(str(i), float(v), float(p), float(s), 0.0, 1.0, 100.0)
           for i, (v, p, s) in enumerate(zip(volumes_A3, pressures_kbar, sems))]
    return fit_volume(pts, n_atoms=n_atoms, clip=clip, k_guess_GPa=k_guess_GPa).next_volume_A3
