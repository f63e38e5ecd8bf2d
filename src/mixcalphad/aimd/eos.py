"""Equation of state of a liquid isotherm from NVT stages: one weighted fit of p̄(v) and ⟨E⟩(v) over
all stages, and the σ of everything derived from it (v0, H(p = 0), K_T, (∂E/∂V)_T, c = ∂H0/∂p̄).

Model, per atom (v Å³/atom, p kbar, E eV/atom)::

    p(v) = 3·K0·(1 − x)/x² · exp(η·(1 − x)),  x = (v/v0)^⅓,  η = 3/2·(K′ − 1)      (Vinet)
    E(v) = E0 + ∫_{v0}^{v} (A(u) − p(u)) du,   A(u) = A0·(1 + a1·(u − v0)/v0)

The second line is the identity (∂E/∂V)_T = T(∂p/∂T)_V − p for the *internal* energy of an NVT run
(the Helmholtz energy, whose derivative is −p, is not what MD measures), with the thermal pressure
A = T(∂p/∂T)_V linear in v. At p = 0 the enthalpy is the energy: **H(p = 0) = E0 = E(v0)**.

Parameters θ = (v0, K0, K′, E0, A0, a1). Two priors enter as pseudo-observations: K′ = 5 ± 2 (liquid
metals near melting, 4–6) and a1 = 0 ± 3 (|d ln A/d ln V| ≲ 3, an Anderson–Grüneisen-type bound).
Stages spread over ±10 % fix v0, K0, E0 and A0; the priors keep K′ and a1 from following the noise,
and their widths enter every σ below. Weights are 1/SEM² with each stage's SEM from its statistical
inefficiency (:mod:`.statistics`); the covariance is (JᵀJ)⁻¹, scaled by the Birge ratio χ²_red when the
stages scatter more than their SEMs. Derived quantities get their σ by the delta method.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from mixcalphad.aimd.settings import KBAR_PER_EV_A3

#: Prior on the pressure derivative of the bulk modulus, dK/dp, of liquid metals near melting.
K_PRIME = 5.0
K_PRIME_SE = 2.0
#: Prior width of a1 = d ln A/d ln V at v0, the change of the thermal pressure over the stages.
THERMAL_PRESSURE_EXPONENT = 3.0
#: Names of θ, in order.
PARAMETERS = ("v0_A3", "K0_kbar", "K_prime", "E0_eV", "A0_kbar", "a1")


def vinet_pressure_kbar(v: np.ndarray, v0: float, K0: float, Kp: float) -> np.ndarray:
    """Vinet p(v), kbar (K0 in kbar, volumes per atom in Å³)."""
    x = np.cbrt(np.asarray(v, float) / v0)
    return 3.0 * K0 * (1.0 - x) / x ** 2 * np.exp(1.5 * (Kp - 1.0) * (1.0 - x))


def vinet_work_eV(v: np.ndarray, v0: float, K0: float, Kp: float) -> np.ndarray:
    """∫_{v0}^{v} p(u) du of the Vinet p(v), eV/atom (minus the Vinet energy relative to v0)."""
    x = np.cbrt(np.asarray(v, float) / v0)
    eta = 1.5 * (Kp - 1.0)
    f = 2.0 * K0 * v0 / (Kp - 1.0) ** 2 * (2.0 - (5.0 + 3.0 * Kp * (x - 1.0) - 3.0 * x) * np.exp(-eta * (x - 1.0)))
    return -f / KBAR_PER_EV_A3


def isotherm_pressure_kbar(v, theta: Sequence[float]) -> np.ndarray:
    """p(v), kbar, of parameters θ (:data:`PARAMETERS`)."""
    v0, K0, Kp = theta[:3]
    return vinet_pressure_kbar(v, v0, K0, Kp)


def energy_eV(v, theta: Sequence[float]) -> np.ndarray:
    """E(v), eV/atom, of parameters θ: E0 + ∫(A − p) dv (module docstring)."""
    v0, K0, Kp, E0, A0, a1 = theta
    dv = np.asarray(v, float) - v0
    return E0 + A0 * (dv + 0.5 * a1 * dv * dv / v0) / KBAR_PER_EV_A3 - vinet_work_eV(v, v0, K0, Kp)


def bulk_modulus_kbar(v, theta: Sequence[float]) -> np.ndarray:
    """K_T = −v·dp/dv of the Vinet p(v), kbar."""
    v0, K0, Kp = theta[:3]
    x = np.cbrt(np.asarray(v, float) / v0)
    eta = 1.5 * (Kp - 1.0)
    return K0 / x ** 2 * (1.0 + (eta * x + 1.0) * (1.0 - x)) * np.exp(eta * (1.0 - x))


def dE_dV_eV_A3(v, theta: Sequence[float]) -> np.ndarray:
    """(∂E/∂V)_T = A(v) − p(v), eV/Å³."""
    v0, K0, Kp, E0, A0, a1 = theta
    A = A0 * (1.0 + a1 * (np.asarray(v, float) - v0) / v0)
    return (A - isotherm_pressure_kbar(v, theta)) / KBAR_PER_EV_A3


def correction_eV_kbar(v, theta: Sequence[float]) -> np.ndarray:
    """c = ∂H0/∂p̄ = (∂E/∂V)_T·v/K_T, eV/atom per kbar: H(p = 0) ≈ ⟨E⟩ + c·p̄ near v0."""
    return dE_dV_eV_A3(v, theta) * np.asarray(v, float) / bulk_modulus_kbar(v, theta)


@dataclass(frozen=True)
class IsothermFit:
    """The fitted isotherm: θ (:data:`PARAMETERS`), its covariance and the fit's χ².

    Attributes
    ----------
    theta : tuple of float
        v0 (Å³/atom), K0 (kbar), K′, E0 = H(p = 0) (eV/atom), A0 (thermal pressure at v0, kbar), a1.
    cov : tuple of tuple of float
        Covariance of θ, Birge-inflated when χ²_red > 1.
    chi2_red : float
        χ² of data and priors over the degrees of freedom (nan with none).
    dof : int
    """

    theta: tuple[float, ...]
    cov: tuple[tuple[float, ...], ...]
    chi2_red: float
    dof: int

    def gradient(self, func: Callable[[np.ndarray], float]) -> np.ndarray:
        """∂f/∂θ at the fitted θ by central differences (steps of 10⁻³ σ of each parameter)."""
        theta = np.asarray(self.theta, float)
        sd = np.sqrt(np.clip(np.diag(np.asarray(self.cov, float)), 0.0, None))
        grad = np.zeros_like(theta)
        for i in range(len(theta)):
            h = 1e-3 * sd[i] if sd[i] > 0 else 1e-7 * max(abs(theta[i]), 1.0)
            up, down = theta.copy(), theta.copy()
            up[i] += h
            down[i] -= h
            grad[i] = (float(func(up)) - float(func(down))) / (2.0 * h)
        return grad

    def value_and_se(self, func: Callable[[np.ndarray], float], cov: np.ndarray | None = None) -> tuple[float, float]:
        """f(θ) and its standard error by the delta method (``cov``: another covariance of θ)."""
        grad = self.gradient(func)
        cov = np.asarray(self.cov if cov is None else cov, float)
        return float(func(np.asarray(self.theta, float))), float(np.sqrt(max(grad @ cov @ grad, 0.0)))

    def covariance_with(self, v_A3: float, p_se_kbar: float, e_se_eV: float) -> np.ndarray:
        """The covariance θ would have with one more stage at ``v_A3`` (SEMs as given): the linearised
        update (Σ⁻¹ + jᵀj/b)⁻¹, b the Birge factor of this fit, for choosing where the next stage goes."""
        jp = self.gradient(lambda th: isotherm_pressure_kbar(v_A3, th)) / p_se_kbar
        je = self.gradient(lambda th: energy_eV(v_A3, th)) / e_se_eV
        birge = self.chi2_red if self.chi2_red > 1.0 else 1.0
        precision = np.linalg.pinv(np.asarray(self.cov, float)) + (np.outer(jp, jp) + np.outer(je, je)) / birge
        return np.linalg.pinv(precision)

    @property
    def v0_A3(self) -> float:
        return float(self.theta[0])

    @property
    def H0_eV(self) -> float:
        """H(p = 0) = E(v0), eV/atom."""
        return float(self.theta[3])

    def se(self, name: str) -> float:
        """Standard error of one parameter (:data:`PARAMETERS`)."""
        i = PARAMETERS.index(name)
        return float(np.sqrt(max(self.cov[i][i], 0.0)))

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["parameters"] = list(PARAMETERS)
        return out


def _start(v: np.ndarray, p: np.ndarray, e: np.ndarray, wp: np.ndarray) -> np.ndarray:
    """Starting θ from a weighted line through p̄(v) and the E slope (needs a falling p̄(v))."""
    vm = float((wp * v).sum() / wp.sum())
    slope = float((wp * (v - vm) * (p - (wp * p).sum() / wp.sum())).sum() / (wp * (v - vm) ** 2).sum())
    pm = float((wp * p).sum() / wp.sum())
    v0 = float(np.clip(vm - pm / slope, 0.8 * v.min(), 1.2 * v.max()))
    K0 = -v0 * slope
    de = float(np.polyfit(v, e, 1)[0])
    A0 = de * KBAR_PER_EV_A3 + pm
    E0 = float(np.interp(v0, np.sort(v), e[np.argsort(v)]))
    return np.array([v0, K0, K_PRIME, E0, A0, 0.0])


def fit_isotherm(v_A3: Sequence[float], p_kbar: Sequence[float], p_se_kbar: Sequence[float],
                 e_eV: Sequence[float], e_se_eV: Sequence[float]) -> IsothermFit | None:
    """Weighted least-squares fit of the isotherm (module docstring) to stages, per atom.

    Parameters
    ----------
    v_A3 : sequence of float
        Volume of each stage, Å³/atom (at least two different ones).
    p_kbar, p_se_kbar : sequence of float
        Mean pressure (including the kinetic term) and its SEM, kbar.
    e_eV, e_se_eV : sequence of float
        Mean energy and its SEM, eV/atom.

    Returns
    -------
    IsothermFit or None
        None when the stages cannot fix a falling p(v) (one volume, or p̄ rising with v).

    Examples
    --------
    >>> th = (13.0, 1000.0, 5.0, -4.0, 150.0, 0.0)
    >>> v = np.array([12.5, 13.0, 13.5, 14.0])
    >>> fit = fit_isotherm(v, isotherm_pressure_kbar(v, th), [0.5] * 4, energy_eV(v, th), [1e-4] * 4)
    >>> round(fit.v0_A3, 3), round(fit.H0_eV, 4)
    (13.0, -4.0)
    """
    from scipy.optimize import least_squares

    v, p, e = (np.asarray(a, float) for a in (v_A3, p_kbar, e_eV))
    sp = np.maximum(np.where(np.isfinite(p_se_kbar), p_se_kbar, 10.0), 0.1)
    se = np.maximum(np.where(np.isfinite(e_se_eV), e_se_eV, 1.0), 1e-5)
    if len(np.unique(np.round(v, 9))) < 2:
        return None
    start = _start(v, p, e, 1.0 / sp ** 2)
    if not start[1] > 0:
        return None

    def residuals(th: np.ndarray) -> np.ndarray:
        return np.concatenate([(p - isotherm_pressure_kbar(v, th)) / sp, (e - energy_eV(v, th)) / se,
                               [(th[2] - K_PRIME) / K_PRIME_SE, th[5] / THERMAL_PRESSURE_EXPONENT]])

    lower = [0.5 * v.min(), 1e-3 * start[1], 1.05, -np.inf, -np.inf, -np.inf]
    upper = [2.0 * v.max(), np.inf, 20.0, np.inf, np.inf, np.inf]
    start = np.clip(start, np.array(lower) + 1e-9, np.array(upper) - 1e-9)
    res = least_squares(residuals, start, bounds=(lower, upper), x_scale="jac", method="trf",
                        xtol=1e-12, ftol=1e-12, gtol=1e-12, max_nfev=2000)
    J = res.jac
    dof = len(res.fun) - len(start)
    chi2 = float(res.fun @ res.fun)
    chi2_red = chi2 / dof if dof > 0 else float("nan")
    cov = np.linalg.pinv(J.T @ J)
    if dof > 0 and chi2_red > 1.0:
        cov = cov * chi2_red
    return IsothermFit(tuple(float(t) for t in res.x), tuple(tuple(float(c) for c in row) for row in cov),
                       float(chi2_red), int(dof))
