"""Redlich–Kister mathematics: basis, weighted fits of ΔH_mix(x_B), order selection, temperature models.

For the alphabetically sorted pair (A, B), with ``x_B`` the mole fraction of B, the excess
enthalpy is

.. math::

    ΔH_{mix}(x_B) = x_A x_B \\sum_{n=0}^{N} L_n (x_A - x_B)^n, \\qquad x_A = 1 - x_B,

in J/mol of atoms. :func:`fit_redlich_kister` finds the ``L_n`` (J/mol) by weighted least squares
and picks the order ``N`` by a stated criterion (AICc by default); the result is a frozen
:class:`RKFit`. Closed form: one point ΔH = −10000 J/mol at x_B = 0.5 gives L0 = −40000 J/mol.

Temperature models
------------------
ΔH_mix fixes only the enthalpy part of an interaction: for ``L = a + b T + c T ln T`` the excess
enthalpy is ``a − c T``. What goes into a TDB is therefore a modelling choice, written into the
output's provenance (:class:`TemperatureModel`):

* ``"enthalpy"``: ``L_n = a_n`` — the excess entropy is taken as zero (a regular
  solution). The excess enthalpy is exactly the fitted one at every temperature.
* ``"kaptay"``: ``L_n = a_n (1 − T/τ)`` — the linear form discussed by G. Kaptay, "On the tendency
  of solutions to tend toward ideal solutions at high temperatures", Metall. Mater. Trans. A 43
  (2012) 531–543. The excess enthalpy is still exactly ``a_n`` (the ``T`` term is pure excess
  entropy ``S_ex = a_n/τ`` per term), so the ΔH_mix round trip is unchanged; the excess Gibbs
  energy shrinks linearly toward zero at ``T = τ`` and *changes sign above τ* — the behaviour
  Kaptay argues against (a solution should tend to ideal, not invert, as T rises); his own
  proposal is the exponential form ``G_ex = h exp(−T/τ)`` (G. Kaptay, Calphad 28 (2004) 115–124),
  which this module does not implement. Keep ``τ`` above every temperature of use.
  ``τ`` is configurable. :data:`KAPTAY_DEFAULT_TAU_K` = 3000 K is this project's choice, not a
  value taken from Kaptay: the texts of both papers could not be retrieved to check what τ they
  report (library search of 2026-12-01 found neither), so no published τ is claimed here. The
  liquidus benchmark (``benchmarks/liquidus.py``, results in ``benchmarks/README.md``) compares
  τ = 3000 K and τ = 3 × the mean melting point of the pair with the enthalpy-only model.
* ``"entropy"``: ``L_n = a_n + b_n T`` with ``b_n = −κ a_n`` and κ of the binary from a model of the
  liquid's excess entropy learned from assessed liquids (:mod:`mixcalphad.model.entropy`;
  resolved per binary by :mod:`mixcalphad.calphad.excess_entropy`).

This module is mathematics only: it needs numpy and never imports the ML layer (fits of
whole binaries from data and predictions are in :mod:`mixcalphad.calphad.binary_fit`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from mixcalphad.errors import DatasetError, MixcalphadError

#: Criteria :func:`fit_redlich_kister` can choose the order by.
CRITERIA = ("aicc", "bic", "fixed")
#: Highest order :func:`fit_redlich_kister` accepts as ``max_order``.
MAX_ORDER_LIMIT = 9
#: τ of Kaptay's linear model when none is given, K (see the module docstring).
KAPTAY_DEFAULT_TAU_K = 3000.0


# ---------------------------------------------------------------------------------- basis
def rk_basis(x_B, order: int) -> np.ndarray:
    """Design matrix of the Redlich–Kister excess: column n is ``x_A x_B (x_A − x_B)^n``.

    Parameters
    ----------
    x_B : array_like
        Mole fractions of the second element of the sorted pair.
    order : int
        Highest order N (N + 1 columns).

    Returns
    -------
    numpy.ndarray
        Shape ``(len(x_B), order + 1)``, dimensionless.
    """
    x = np.atleast_1d(np.asarray(x_B, dtype=float))
    xa = 1.0 - x
    return (xa * x)[:, None] * (xa - x)[:, None] ** np.arange(order + 1)[None, :]


def rk_excess(x_B, coefficients: Sequence[float]) -> np.ndarray:
    """``x_A x_B Σ L_n (x_A − x_B)^n`` in J/mol for coefficients ``L_n`` in J/mol.

    >>> float(rk_excess(0.5, [-40000.0])[0])
    -10000.0
    """
    coefficients = np.asarray(coefficients, dtype=float)
    if coefficients.size == 0:
        return np.zeros(np.atleast_1d(x_B).shape)
    return rk_basis(x_B, coefficients.size - 1) @ coefficients


# ---------------------------------------------------------------------------------- the fit
@dataclass(frozen=True)
class RKFit:
    """A Redlich–Kister fit of ΔH_mix(x_B) for a sorted pair.

    Attributes
    ----------
    coefficients : tuple of float
        ``L_0 … L_order``, J/mol of atoms.
    covariance : tuple of tuple of float
        Covariance of the coefficients, (J/mol)². With σ given it is ``(Xᵀ W X)⁻¹`` (σ taken as
        absolute); without σ it is scaled by the residual variance (NaN when the fit is exact
        with as many coefficients as points).
    rms_J : float
        Root-mean-square residual, unweighted, J/mol.
    max_abs_residual_J : float
        Largest absolute residual, J/mol.
    order : int
        The chosen order N (``len(coefficients) == order + 1``).
    n_points : int
        Number of points fitted.
    criterion : str
        How the order was chosen (one of :data:`CRITERIA`).
    scores : tuple of float
        Criterion value for orders 0, 1, … max_order (``inf`` where the points do not support
        that order; empty for ``"fixed"``).
    weighted : bool
        Whether σ was given.
    """

    coefficients: tuple[float, ...]
    covariance: tuple[tuple[float, ...], ...]
    rms_J: float
    max_abs_residual_J: float
    order: int
    n_points: int
    criterion: str = "aicc"
    scores: tuple[float, ...] = ()
    weighted: bool = False

    @property
    def L(self) -> np.ndarray:
        """The coefficients as an array, J/mol."""
        return np.asarray(self.coefficients, dtype=float)

    def evaluate(self, x_B) -> np.ndarray:
        """ΔH_mix (J/mol of atoms) at mole fractions ``x_B`` of the second element."""
        return rk_excess(x_B, self.coefficients)

    def std(self, x_B) -> np.ndarray:
        """Standard error (J/mol) of the fitted curve at ``x_B``, from :attr:`covariance`."""
        X = rk_basis(x_B, self.order)
        cov = np.asarray(self.covariance, dtype=float)
        return np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", X, cov, X), 0.0))

    def to_dict(self) -> dict:
        """JSON-ready dict (``inf``/NaN as strings are avoided: NaN → None)."""
        return {
            "coefficients_J": list(self.coefficients),
            "covariance_J2": [[json_float(v) for v in row] for row in self.covariance],
            "rms_J": self.rms_J, "max_abs_residual_J": self.max_abs_residual_J,
            "order": self.order, "n_points": self.n_points, "criterion": self.criterion,
            "scores": [json_float(v) for v in self.scores], "weighted": self.weighted,
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> "RKFit":
        """Inverse of :meth:`to_dict`."""
        return cls(
            coefficients=tuple(float(v) for v in data["coefficients_J"]),
            covariance=tuple(tuple(from_json_float(v) for v in row) for row in data["covariance_J2"]),
            rms_J=float(data["rms_J"]), max_abs_residual_J=float(data["max_abs_residual_J"]),
            order=int(data["order"]), n_points=int(data["n_points"]), criterion=str(data["criterion"]),
            scores=tuple(from_json_float(v) for v in data.get("scores", ())),
            weighted=bool(data.get("weighted", False)),
        )


def json_float(value: float):
    value = float(value)
    if math.isnan(value):
        return None
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def from_json_float(value) -> float:
    return float("nan") if value is None else float(value)


def supported_order(n_points: int, n_distinct_x: int, max_order: int) -> int:
    """Highest order the points can support.

    Order 0 needs one point. Order N > 0 needs ``N + 1`` distinct compositions and
    ``n_points ≥ N + 3`` (so that AICc, ``2k(k+1)/(n−k−1)`` with ``k = N + 1``, is finite and the
    fit is not an interpolation).
    """
    best = 0
    for order in range(1, max_order + 1):
        k = order + 1
        if n_distinct_x >= k and n_points >= k + 2:
            best = order
    return best


def fit_redlich_kister(x_B, H, sigma=None, max_order: int = 3, criterion: str = "aicc") -> RKFit:
    """Weighted least-squares Redlich–Kister fit of ΔH_mix, the order chosen by ``criterion``.

    Parameters
    ----------
    x_B : array_like
        Mole fractions of the second element of the sorted pair, within [0, 1].
    H : array_like
        ΔH_mix at those compositions, J/mol of atoms.
    sigma : array_like or float, optional
        1σ uncertainty of each H, J/mol (> 0); weights are ``1/σ²``. Default: unweighted.
    max_order : int, optional
        Highest order considered (default 3: L0…L3). The order never exceeds what the points
        support (:func:`supported_order`).
    criterion : {"aicc", "bic", "fixed"}, optional
        ``"aicc"`` (default): minimum of ``n ln(RSS_w/n) + 2k + 2k(k+1)/(n−k−1)``;
        ``"bic"``: minimum of ``n ln(RSS_w/n) + k ln n``; ``"fixed"``: the highest supported
        order up to ``max_order``. ``RSS_w`` is the weighted residual sum of squares (floored at
        a relative 1e-12 so that exact fits compare by their penalty alone).

    Returns
    -------
    RKFit

    Raises
    ------
    DatasetError
        Empty or mismatched arrays, x outside [0, 1], non-finite values, σ ≤ 0, no point
        strictly inside (0, 1), or an unknown criterion.

    Examples
    --------
    >>> fit = fit_redlich_kister([0.5], [-10000.0])
    >>> fit.coefficients
    (-40000.0,)
    """
    x, h, s = check_fit_input(x_B, H, sigma, max_order, criterion)
    n = x.size
    inner = x[(x > 0.0) & (x < 1.0)]
    if inner.size == 0:
        raise DatasetError("a Redlich-Kister fit needs at least one point with 0 < x_B < 1")
    top = supported_order(n, np.unique(np.round(inner, 9)).size, max_order)
    w = np.ones(n) if s is None else 1.0 / s**2
    scale = float(np.sum(w * h**2)) or 1.0
    solutions, scores = {}, []
    for order in range(max_order + 1):
        if order > top:
            scores.append(math.inf)
            continue
        coef, rss = _wls(x, h, w, order)
        solutions[order] = coef
        k = order + 1
        rss = max(rss, 1e-12 * scale)
        if criterion == "aicc":
            penalty = 2 * k + (2 * k * (k + 1) / (n - k - 1) if n - k - 1 > 0 else 0.0)
        elif criterion == "bic":
            penalty = k * math.log(n)
        else:
            penalty = 0.0
        scores.append(n * math.log(rss / n) + penalty)
    if criterion == "fixed":
        chosen, scores = top, []
    else:
        chosen = int(np.argmin(scores))
    coef = solutions[chosen]
    X = rk_basis(x, chosen)
    resid = h - X @ coef
    cov = fit_covariance(X, w, resid, weighted=s is not None)
    return RKFit(
        coefficients=tuple(float(c) for c in coef),
        covariance=tuple(tuple(float(v) for v in row) for row in cov),
        rms_J=float(np.sqrt(np.mean(resid**2))),
        max_abs_residual_J=float(np.max(np.abs(resid))),
        order=chosen, n_points=n, criterion=criterion, scores=tuple(float(v) for v in scores),
        weighted=s is not None,
    )


def check_fit_input(x_B, H, sigma, max_order, criterion):
    """Validated fit input as float arrays ``(x, H, sigma or None)``; :class:`DatasetError` otherwise."""
    if criterion not in CRITERIA:
        raise DatasetError(f"unknown order criterion {criterion!r}; choose one of {list(CRITERIA)}")
    if not isinstance(max_order, (int, np.integer)) or not 0 <= max_order <= MAX_ORDER_LIMIT:
        raise DatasetError(f"max_order must be an integer within 0…{MAX_ORDER_LIMIT}, got {max_order!r}")
    x = np.atleast_1d(np.asarray(x_B, dtype=float)).ravel()
    h = np.atleast_1d(np.asarray(H, dtype=float)).ravel()
    if x.size == 0 or x.size != h.size:
        raise DatasetError(f"x_B and H must be non-empty and of equal length, got {x.size} and {h.size}")
    if not np.all(np.isfinite(x)) or np.any((x < 0) | (x > 1)):
        raise DatasetError("x_B must be finite mole fractions within [0, 1]")
    if not np.all(np.isfinite(h)):
        raise DatasetError("H must be finite (J/mol)")
    s = None
    if sigma is not None:
        s = np.broadcast_to(np.asarray(sigma, dtype=float), x.shape).astype(float)
        if not np.all(np.isfinite(s) & (s > 0)):
            raise DatasetError("sigma must be finite and > 0 (J/mol)")
    return x, h, s


def _wls(x, h, w, order):
    """Coefficients and weighted RSS of the order-``order`` fit."""
    X = rk_basis(x, order)
    sw = np.sqrt(w)
    coef, *_ = np.linalg.lstsq(X * sw[:, None], h * sw, rcond=None)
    rss = float(np.sum(w * (h - X @ coef) ** 2))
    return coef, rss


def fit_covariance(X, w, resid, *, weighted: bool) -> np.ndarray:
    """Covariance of least-squares coefficients (J/mol)²: (XᵀWX)⁻¹ with known σ (``weighted``), else
    scaled by the residual variance (NaN without a degree of freedom)."""
    n, k = X.shape
    inv = np.linalg.pinv(X.T @ (w[:, None] * X))
    if weighted:
        return inv
    if n > k:
        return inv * float(np.sum(resid**2)) / (n - k)
    return np.full((k, k), np.nan)


# ---------------------------------------------------------------------------------- temperature
#: Kinds of :class:`TemperatureModel`.
TEMPERATURE_KINDS = ("enthalpy", "kaptay", "entropy")


@dataclass(frozen=True)
class TemperatureModel:
    """How fitted enthalpy coefficients ``a_n`` become ``L_n(T) = a_n + b_n·T`` (``b_n = −κ a_n``).

    Every kind makes the excess entropy proportional to the excess enthalpy, ``S_ex = κ H_ex``
    (J/(mol K)), so ``G_ex = H_ex (1 − κT)`` and the ΔH_mix round trip is exact at every T.

    Parameters
    ----------
    kind : {"enthalpy", "kaptay", "entropy"}
        ``"enthalpy"``: κ = 0 (``L_n = a_n``); ``"kaptay"``: κ = 1/τ (``L_n = a_n (1 − T/τ)``, see
        the module docstring); ``"entropy"``: κ of one binary from a model of the excess entropy
        (:mod:`mixcalphad.calphad.excess_entropy`), any sign.
    tau_K : float, optional
        τ in K for ``"kaptay"`` (default :data:`KAPTAY_DEFAULT_TAU_K`); None otherwise.
    kappa_per_K : float, optional
        κ in 1/K for ``"entropy"``; None otherwise.
    sigma_S_J_K : float, optional
        1σ of the excess entropy at x_B = 0.5, J/(mol K) (``"entropy"``: from the model), or None.
    label : str
        Where κ came from (a model's form, a rule such as ``"3*Tm"``, a note that κ was reduced).
    """

    kind: str = "enthalpy"
    tau_K: float | None = None
    kappa_per_K: float | None = None
    sigma_S_J_K: float | None = None
    label: str = ""

    def __post_init__(self):
        if self.kind not in TEMPERATURE_KINDS:
            raise MixcalphadError(f"unknown temperature model {self.kind!r}; choose one of {list(TEMPERATURE_KINDS)}")
        if self.kind != "kaptay" and self.tau_K is not None:
            raise MixcalphadError("tau_K applies only to the 'kaptay' temperature model")
        if self.kind != "entropy" and self.kappa_per_K is not None:
            raise MixcalphadError("kappa_per_K applies only to the 'entropy' temperature model")
        if self.kind == "kaptay":
            tau = KAPTAY_DEFAULT_TAU_K if self.tau_K is None else float(self.tau_K)
            if not (math.isfinite(tau) and tau > 0):
                raise MixcalphadError(f"tau_K must be a positive temperature in K, got {self.tau_K!r}")
            object.__setattr__(self, "tau_K", tau)
        if self.kind == "entropy":
            kappa = float("nan") if self.kappa_per_K is None else float(self.kappa_per_K)
            if not math.isfinite(kappa):
                raise MixcalphadError(f"kappa_per_K must be a finite number in 1/K, got {self.kappa_per_K!r}")
            object.__setattr__(self, "kappa_per_K", kappa)

    @property
    def kappa(self) -> float:
        """κ = S_ex/H_ex, 1/K."""
        return {"enthalpy": 0.0, "kaptay": 1.0 / self.tau_K if self.tau_K else 0.0,
                "entropy": self.kappa_per_K}[self.kind]

    def factor(self, T) -> np.ndarray:
        """``L_n(T) / a_n = 1 − κT`` (dimensionless)."""
        T = np.asarray(T, dtype=float)
        return 1.0 - self.kappa * T

    def b_coefficients(self, coefficients: Sequence[float]) -> np.ndarray:
        """``b_n = −κ a_n`` (J/(mol K)) of enthalpy coefficients ``a_n`` (J/mol)."""
        return -self.kappa * np.asarray(coefficients, dtype=float)

    def excess_gibbs(self, x_B, T, coefficients: Sequence[float]) -> np.ndarray:
        """G_ex (J/mol) at ``x_B`` and one temperature ``T`` (K) for enthalpy coefficients (J/mol)."""
        return rk_excess(x_B, coefficients) * float(self.factor(T))

    def describe(self) -> str:
        """One ASCII line for provenance headers."""
        if self.kind == "enthalpy":
            return "enthalpy-only: L_n = a_n (no excess entropy)"
        if self.kind == "kaptay":
            return (f"kaptay-linear: L_n = a_n*(1-T/tau), tau = {self.tau_K:g} K"
                    + (f" ({self.label})" if self.label else "")
                    + " (Kaptay, Metall. Mater. Trans. A 43 (2012) 531)")
        sigma = "" if self.sigma_S_J_K is None else f", sigma S_ex(x=0.5) = {self.sigma_S_J_K:.2f} J/mol/K"
        return (f"excess entropy S_ex = kappa*H_ex: L_n = a_n + b_n*T, b_n = -kappa*a_n, "
                f"kappa = {self.kappa_per_K:.4g} 1/K{sigma}" + (f" ({self.label})" if self.label else ""))

    def to_dict(self) -> dict:
        return {"kind": self.kind, "tau_K": self.tau_K, "kappa_per_K": self.kappa_per_K,
                "sigma_S_J_K": self.sigma_S_J_K, "label": self.label}

    @classmethod
    def from_dict(cls, data: Mapping) -> "TemperatureModel":
        return cls(kind=data.get("kind", "enthalpy"), tau_K=data.get("tau_K"), kappa_per_K=data.get("kappa_per_K"),
                   sigma_S_J_K=data.get("sigma_S_J_K"), label=data.get("label", ""))


#: The enthalpy-only temperature model (no excess entropy).
ENTHALPY_ONLY = TemperatureModel("enthalpy")


def kaptay(tau_K: float = KAPTAY_DEFAULT_TAU_K, label: str = "") -> TemperatureModel:
    """Kaptay's linear temperature model ``L_n = a_n (1 − T/τ)`` with ``τ`` in K."""
    return TemperatureModel("kaptay", tau_K, label=label)
