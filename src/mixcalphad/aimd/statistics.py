"""Statistics of correlated MD time series: equilibration, statistical inefficiency, N_eff, SEM.

* Equilibration (:func:`detect_equilibration`): Chodera's rule — discard the first t0 samples with
  t0 = argmax (N − t0)/g(t0), g the statistical inefficiency of the rest (J. Chem. Theory Comput.
  12 (2016) 1799; as pymbar's ``detect_equilibration``, own implementation). Candidates t0 lie in
  the first half of the run.
* Statistical inefficiency g = 1 + 2 Σ (1 − t/N) C(t), summed until the autocorrelation C(t) first
  drops to ≤ 0; N_eff = N/g; SEM = sqrt(var/N_eff) = sqrt(var·g/N). The integrated autocorrelation
  time is τ = g·Δt/2, and a target SEM needs N = g·var/SEM² samples (:func:`samples_needed`).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class SeriesStats:
    """Mean of a correlated time series after equilibration.

    Attributes
    ----------
    mean, sem, std : float
        In the series' unit.
    g : float
        Statistical inefficiency (≥ 1).
    t0 : int
        Samples discarded as equilibration.
    n : int
        Samples used (after t0).
    n_eff : float
        Effectively independent samples, n/g.
    """

    mean: float
    sem: float
    std: float
    g: float
    t0: int
    n: int
    n_eff: float

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _autocorrelation(x: np.ndarray) -> np.ndarray:
    """Normalised autocorrelation C(t), t = 0…N−1 (unbiased per-lag normalisation), via FFT."""
    n = len(x)
    dx = x - x.mean()
    size = 1 << (2 * n - 1).bit_length()
    f = np.fft.rfft(dx, size)
    acov = np.fft.irfft(f * np.conj(f), size)[:n] / np.arange(n, 0, -1)
    return acov / acov[0]


def statistical_inefficiency(x: Sequence[float], *, mintime: int = 3) -> float:
    """Statistical inefficiency g of a time series (1 for uncorrelated samples).

    Parameters
    ----------
    x : array_like
    mintime : int
        The sum runs at least to this lag even if C(t) dips below zero earlier.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> round(statistical_inefficiency(rng.normal(size=20000)), 1)
    1.0
    """
    x = np.asarray(x, dtype=float)
    n = len(x)
    if n < 3 or np.var(x) == 0:
        return 1.0
    c = _autocorrelation(x)
    g = 1.0
    for t in range(1, n - 1):
        if c[t] <= 0 and t > mintime:
            break
        g += 2.0 * c[t] * (1.0 - t / n)
    return float(max(g, 1.0))


def detect_equilibration(x: Sequence[float], *, n_candidates: int = 100) -> tuple[int, float, float]:
    """Chodera's equilibration detection: the t0 that maximises N_eff of ``x[t0:]``.

    Returns
    -------
    t0 : int
        Samples to discard.
    g : float
        Statistical inefficiency of ``x[t0:]``.
    n_eff : float
        (N − t0)/g.
    """
    x = np.asarray(x, dtype=float)
    n = len(x)
    if n < 4:
        return 0, 1.0, float(n)
    candidates = np.unique(np.linspace(0, n // 2, min(n_candidates, n // 2 + 1)).astype(int))
    best = (0, 1.0, -1.0)
    for t0 in candidates:
        g = statistical_inefficiency(x[t0:])
        n_eff = (n - t0) / g
        if n_eff > best[2]:
            best = (int(t0), g, n_eff)
    return best


def series_stats(x: Sequence[float], *, t0: int | None = None) -> SeriesStats:
    """Mean, SEM, g and N_eff of ``x`` after equilibration (detected unless ``t0`` is given)."""
    x = np.asarray(x, dtype=float)
    if len(x) == 0:
        return SeriesStats(float("nan"), float("nan"), float("nan"), float("nan"), 0, 0, 0.0)
    if t0 is None:
        t0, g, _ = detect_equilibration(x)
    else:
        g = statistical_inefficiency(x[t0:])
    y = x[t0:]
    n = len(y)
    n_eff = n / g
    std = float(np.std(y, ddof=1)) if n > 1 else float("nan")
    sem = math.sqrt(float(np.var(y)) / n_eff) if n > 1 else float("nan")
    return SeriesStats(float(np.mean(y)), sem, std, float(g), int(t0), n, float(n_eff))


def samples_needed(x: Sequence[float], sem: float, *, t0: int | None = None) -> float:
    """Samples a series like ``x`` needs for its mean to reach a standard error ``sem``: g·var/sem².

    The variance and statistical inefficiency are those of ``x`` after equilibration (detected unless
    ``t0`` is given). For an AR(1) series with coefficient φ and unit variance, g = (1 + φ)/(1 − φ).

    Examples
    --------
    >>> x = np.random.default_rng(1).normal(size=5000)     # uncorrelated, var 1
    >>> round(samples_needed(x, 0.1, t0=0), -1)
    100.0
    """
    if not sem > 0:
        raise ValueError(f"target SEM must be positive, not {sem}")
    st = series_stats(x, t0=t0)
    return float(st.std ** 2 * st.g / sem ** 2)
