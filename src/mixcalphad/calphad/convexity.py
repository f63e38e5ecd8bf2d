"""Admissible Redlich–Kister liquids: convexity of G_mix and the convexity-constrained fit.

A binary liquid has a spinodal (pycalphad then draws a liquid miscibility gap) wherever

.. math::

    \\frac{∂^2 G_{mix}}{∂x_B^2} = \\frac{R T}{x_A x_B} + φ(T)\\,H''(x_B) < 0,

with ``H`` the Redlich–Kister excess enthalpy (J/mol of atoms) and ``φ(T)`` the temperature
factor of the :class:`~mixcalphad.calphad.redlich_kister.TemperatureModel`, ``φ = 1 − κT`` (1 for
enthalpy-only, ``1 − T/τ`` for Kaptay's linear model, κ of the pair for the learned excess entropy). With ``t = x_A − x_B`` the second derivative of one term
``x_A x_B t^n`` is ``n(n−1) t^(n−2) − (n+1)(n+2) t^n``.

The *curvature ratio* ``c(x, T) = 1 + φ(T) x_A x_B H''(x) / (R T)`` is the curvature in units of
the ideal term: the liquid is convex where ``c ≥ 0``. For every temperature model ``φ(T)/T = 1/T − κ``
is monotonic in ``T``, so over a temperature interval ``c`` is smallest at one of its ends: checking
``T_low`` and ``T_high`` checks every temperature between them.

:func:`fit_convex` fits ``ΔH_mix(x_B)`` as :func:`~mixcalphad.calphad.redlich_kister.fit_redlich_kister`
does; when the best fit has a spinodal somewhere in ``[T_low, T_high]`` it solves the same weighted
least-squares problem under the linear constraints ``c ≥ margin`` on a composition grid (a convex
quadratic programme), for every order up to the unconstrained one, and keeps the order the same
criterion prefers. The terms shrink only as much as convexity needs; the returned
:class:`ConvexityCheck` says whether a constraint changed the fit and by how much (RMS change of
ΔH_mix over the fitted compositions, J/mol).

Mathematics only (numpy, scipy): never imports the ML layer.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from mixcalphad.calphad.redlich_kister import (ENTHALPY_ONLY, RKFit, TemperatureModel, check_fit_input, fit_covariance,
                                               fit_redlich_kister, rk_basis)
from mixcalphad.errors import DatasetError

#: Gas constant, J/(mol K).
R_J = 8.314462618
#: Upper end of the temperature interval every written liquid must be convex on, K.
T_HIGH_K = 6000.0
#: Smallest curvature ratio a constrained fit is held to (a small margin above 0, so that the
#: curve stays convex between the grid points as well).
MARGIN = 0.02
#: Compositions the curvature is checked at: dense near both ends, where a large even term first
#: makes G_mix concave.
X_GRID = np.unique(np.concatenate([np.geomspace(1e-4, 0.05, 40), np.linspace(0.05, 0.95, 181),
                                   1.0 - np.geomspace(1e-4, 0.05, 40)]))
#: Compositions at which a positive excess makes a gap plausible (ΔH_mix > 0 only beyond 1 % of
#: either end is not evidence of demixing).
_X_POSITIVE = np.linspace(0.01, 0.99, 99)


def rk_excess_d2(x_B, coefficients: Sequence[float]) -> np.ndarray:
    """Second derivative ``d²H/dx_B²`` of the Redlich–Kister excess, J/mol.

    >>> float(rk_excess_d2(0.5, [-40000.0])[0])   # -2 L0
    80000.0
    """
    t = 1.0 - 2.0 * np.atleast_1d(np.asarray(x_B, dtype=float))
    return _d2_basis(t, len(coefficients) - 1) @ np.asarray(coefficients, dtype=float)


def _d2_basis(t: np.ndarray, order: int) -> np.ndarray:
    cols = []
    for n in range(order + 1):
        low = n * (n - 1) * t ** (n - 2) if n >= 2 else np.zeros_like(t)
        cols.append(low - (n + 1) * (n + 2) * t**n)
    return np.stack(cols, axis=1) if cols else np.zeros((t.size, 0))


def curvature_ratio(x_B, T_K, coefficients: Sequence[float],
                    temperature_model: TemperatureModel = ENTHALPY_ONLY) -> np.ndarray:
    """``c = 1 + φ(T) x_A x_B H''(x_B)/(R T)``, shape ``(len(T_K), len(x_B))`` (dimensionless).

    The liquid is convex (no spinodal) where ``c ≥ 0``.
    """
    x = np.atleast_1d(np.asarray(x_B, dtype=float))
    T = np.atleast_1d(np.asarray(T_K, dtype=float))
    h2 = rk_excess_d2(x, coefficients) if len(coefficients) else np.zeros_like(x)
    phi = np.atleast_1d(temperature_model.factor(T))
    return 1.0 + (phi / (R_J * T))[:, None] * (x * (1.0 - x) * h2)[None, :]


@dataclass(frozen=True)
class ConvexityCheck:
    """Whether a fit is convex on ``[T_low_K, T_high_K]`` and what the constraint changed.

    Attributes
    ----------
    T_low_K, T_high_K : float
        The temperature interval checked, K.
    min_ratio : float
        Smallest curvature ratio of the returned fit (≥ 0: no spinodal).
    min_ratio_unconstrained : float
        The same for the unconstrained fit.
    constrained : bool
        Whether the constraint changed the fit.
    rms_change_J : float
        RMS difference of ΔH_mix between the constrained and the unconstrained fit at the fitted
        compositions, J/mol (0 when unchanged).
    gap_allowed : str
        Non-empty when the fit was left with its spinodal because the data show a gap (the reason).
    """

    T_low_K: float
    T_high_K: float
    min_ratio: float
    min_ratio_unconstrained: float
    constrained: bool = False
    rms_change_J: float = 0.0
    gap_allowed: str = ""

    @property
    def convex(self) -> bool:
        return self.min_ratio >= 0.0

    def describe(self) -> str:
        """One ASCII word for provenance: ``convex``, ``constrained`` or ``gap``."""
        if self.gap_allowed:
            return "gap"
        return "constrained" if self.constrained else "convex"


def min_curvature_ratio(coefficients: Sequence[float], T_low_K: float, T_high_K: float = T_HIGH_K,
                        temperature_model: TemperatureModel = ENTHALPY_ONLY) -> float:
    """Smallest curvature ratio over :data:`X_GRID` and ``[T_low_K, T_high_K]`` (see the module docstring)."""
    return float(curvature_ratio(X_GRID, [T_low_K, T_high_K], coefficients, temperature_model).min())


def fit_convex(x_B, H, sigma=None, *, T_low_K: float, T_high_K: float = T_HIGH_K,
               temperature_model: TemperatureModel = ENTHALPY_ONLY, max_order: int = 3,
               criterion: str = "aicc", allow_gap: str = "", margin: float = MARGIN) -> tuple[RKFit, ConvexityCheck]:
    """A Redlich–Kister fit whose liquid has no spinodal between ``T_low_K`` and ``T_high_K``.

    Parameters
    ----------
    x_B, H, sigma, max_order, criterion
        As in :func:`~mixcalphad.calphad.redlich_kister.fit_redlich_kister` (J/mol).
    T_low_K, T_high_K : float
        Temperature interval on which G_mix must be convex, K.
    temperature_model : TemperatureModel
        How the coefficients depend on T in the written file.
    allow_gap : str
        Non-empty (the reason, e.g. ``"immiscible flag"``) to keep the unconstrained fit even
        with a spinodal: the data show a miscibility gap. Honoured only where the fitted ΔH_mix
        is positive somewhere (a curve negative everywhere is constrained regardless).
    margin : float
        Smallest curvature ratio accepted for a constrained fit.

    Returns
    -------
    (RKFit, ConvexityCheck)

    Examples
    --------
    >>> x = [0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9]
    >>> fit, check = fit_convex(x, [2e4 * v * (1 - v) for v in x], T_low_K=1000.0)
    >>> check.constrained, check.min_ratio >= 0
    (True, True)
    """
    if not (0 < T_low_K <= T_high_K and math.isfinite(T_high_K)):
        raise DatasetError(f"need 0 < T_low_K <= T_high_K, got {T_low_K} and {T_high_K}")
    free = fit_redlich_kister(x_B, H, sigma, max_order=max_order, criterion=criterion)
    ratio = min_curvature_ratio(free.coefficients, T_low_K, T_high_K, temperature_model)
    check = ConvexityCheck(T_low_K=float(T_low_K), T_high_K=float(T_high_K), min_ratio=ratio,
                           min_ratio_unconstrained=ratio)
    if ratio >= 0.0:
        return free, check
    if allow_gap and float(np.max(free.evaluate(_X_POSITIVE))) > 0.0:  # a gap needs a positive excess
        return free, replace(check, gap_allowed=str(allow_gap))
    x, h, s = check_fit_input(x_B, H, sigma, max_order, criterion)
    w = np.ones(x.size) if s is None else 1.0 / s**2
    best = None
    for order in range(free.order + 1):
        coef = _constrained_wls(x, h, w, order, T_low_K, T_high_K, temperature_model, margin)
        rss = max(float(np.sum(w * (h - rk_basis(x, order) @ coef) ** 2)), 1e-12 * float(np.sum(w * h**2) or 1.0))
        k, n = order + 1, x.size
        if criterion == "bic":
            penalty = k * math.log(n)
        elif criterion == "aicc":
            penalty = 2 * k + (2 * k * (k + 1) / (n - k - 1) if n - k - 1 > 0 else 0.0)
        else:
            penalty = -float(order)  # "fixed": the highest order
        score = n * math.log(rss / n) + penalty
        if best is None or score < best[0]:
            best = (score, order, coef)
    _, order, coef = best
    X = rk_basis(x, order)
    resid = h - X @ coef
    fit = RKFit(coefficients=tuple(float(c) for c in coef),
                covariance=tuple(tuple(float(v) for v in row)
                                 for row in fit_covariance(X, w, resid, weighted=s is not None)),
                rms_J=float(np.sqrt(np.mean(resid**2))), max_abs_residual_J=float(np.max(np.abs(resid))),
                order=order, n_points=x.size, criterion=free.criterion, scores=free.scores, weighted=free.weighted)
    change = float(np.sqrt(np.mean((fit.evaluate(x) - free.evaluate(x)) ** 2)))
    return fit, replace(check, min_ratio=min_curvature_ratio(fit.coefficients, T_low_K, T_high_K, temperature_model),
                        constrained=True, rms_change_J=change)


def _constrained_wls(x, h, w, order, T_low, T_high, temperature_model, margin) -> np.ndarray:
    """Weighted least squares under ``curvature ratio ≥ margin`` on the grid (SLSQP, scaled)."""
    from scipy.optimize import minimize

    scale = 1e4  # coefficients in units of 10 kJ/mol keep the problem well conditioned
    X = rk_basis(x, order) * scale
    sw = np.sqrt(w / np.max(w))
    norm = float(np.linalg.norm(h * sw)) or 1.0  # an objective of order 1 (SLSQP fails on 1e7)
    A_fit, b_fit = X * sw[:, None] / norm, h * sw / norm
    T = np.array([T_low, T_high], dtype=float)
    phi = np.atleast_1d(temperature_model.factor(T))
    d2 = _d2_basis(1.0 - 2.0 * X_GRID, order) * (X_GRID * (1.0 - X_GRID))[:, None] * scale
    A = np.concatenate([d2 * (p / (R_J * t)) for p, t in zip(phi, T)])
    b = np.full(A.shape[0], 1.0 - margin)

    def objective(z):
        r = A_fit @ z - b_fit
        return 0.5 * float(r @ r), A_fit.T @ r

    result = minimize(objective, np.zeros(order + 1), jac=True, method="SLSQP",
                      constraints=[{"type": "ineq", "fun": lambda z: A @ z + b, "jac": lambda z: A}],
                      options={"maxiter": 500, "ftol": 1e-12})
    z = result.x
    if np.min(A @ z + b) < -1e-6:  # not feasible: shrink toward 0 (always feasible) until it is
        z = z * max(0.0, float(np.min((b[A @ z < 0]) / -(A @ z)[A @ z < 0])))
    return z * scale


def spinodal_report(coefficients: Sequence[float], T_K: float,
                    temperature_model: TemperatureModel = ENTHALPY_ONLY) -> tuple[float, float] | None:
    """``(x_first, x_last)`` bounding the compositions with a spinodal at ``T_K``, or None."""
    c = curvature_ratio(X_GRID, [T_K], coefficients, temperature_model)[0]
    bad = X_GRID[c < 0]
    return None if bad.size == 0 else (float(bad.min()), float(bad.max()))
