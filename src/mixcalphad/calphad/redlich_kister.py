"""Redlich–Kister fits of ΔH_mix(x) of binary liquids, order selection and temperature models.

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

* ``"enthalpy"`` (default): ``L_n = a_n`` — the excess entropy is taken as zero (a regular
  solution). The excess enthalpy is exactly the fitted one at every temperature.
* ``"kaptay"``: ``L_n = a_n (1 − T/τ)`` — the linear form discussed by G. Kaptay, "On the tendency
  of solutions to tend toward ideal solutions at high temperatures", Metall. Mater. Trans. A 43
  (2012) 531–543. The excess enthalpy is still exactly ``a_n`` (the ``T`` term is pure excess
  entropy ``S_ex = a_n/τ`` per term), so the ΔH_mix round trip is unchanged; the excess Gibbs
  energy shrinks linearly toward zero at ``T = τ`` and *changes sign above τ* (Kaptay's criticism
  of this form: keep ``τ`` above every temperature of use). ``τ`` is configurable;
  :data:`KAPTAY_DEFAULT_TAU_K` = 3000 K is the single value commonly used with this model. That
  number was not re-checked against the paper's text when this module was written: treat it as
  a default to override, not as a result.

Combining sources
-----------------
:func:`fit_binary` fits one binary from observed points (a store's ``observations`` table:
assessed, AIMD, user, MD/MLIP) and a predictor's curve, each point weighted by ``1/σ²``:

* an observation's own ``sigma_J`` when known, else :data:`DEFAULT_SIGMA_J` for its kind —
  assessed 2000 J/mol (assessments of one binary disagree by 2–4 kJ/mol, the floor of what
  "assessed" means), AIMD 3600 J/mol (the AIMD-vs-experiment MAE over five systems in Bizot et al.
  2026), user 2000 J/mol, MD/MLIP 5000 J/mol;
* predictions on :data:`PREDICTION_GRID` with the model's σ, inflated by
  ``sqrt(n_grid / PREDICTION_EFFECTIVE_POINTS)``: a model's errors at neighbouring compositions
  are strongly correlated (mostly one error of level), so the whole predicted curve gets the
  weight of :data:`PREDICTION_EFFECTIVE_POINTS` (1) measurement of σ_model, not of 19 independent
  ones; its points keep their relative weights, so the curve's shape still comes through.
  Observations therefore take precedence where they exist (a single AIMD point at 3600 J/mol
  outweighs a 5000 J/mol prediction about 2 to 1), and the prediction still supplies the shape
  where they are few (one equimolar AIMD point).

Observations that by themselves support the full order (at least ``max_order + 3`` points at
``max_order + 1`` compositions, e.g. the nine points harvested from an assessment) are fitted
alone (``combine="auto"``, the default): mixing a prediction into them would only blur their
shape — the prediction's misfit would dominate the residuals and the order selection.
``combine="always"`` combines by weight whatever the number of observations.

Rows of kind ``prediction`` in a store are not used (the predictor supplies fresh ones). A
*predictor* is any object with ``predict(a, b, x_b, return_std=True) -> (mean_J, std_J)``
(numpy arrays, J/mol of atoms, ``x_b`` the mole fraction of ``b``) and optionally ``version_``
and ``describe()`` for provenance, and ``predict_pairs(a, b, x_b, return_std=True)`` over arrays
of pairs, which :func:`fit_binaries` then calls once for all binaries (25 s instead of 77 s for the
2415 binaries of 70 elements with mixcalphad's model); :func:`load_default_predictor` gives
mixcalphad's own model.

This module needs only numpy (pandas for observation tables).
"""
from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from mixcalphad.chem.binaries import normalize_symbol, sorted_pair, system_name
from mixcalphad.errors import DatasetError, MixcalphadError
from mixcalphad.model.predictor import BatchPredictions, describe_predictor, load_default_predictor, predictor_label  # noqa: F401

logger = logging.getLogger(__name__)

#: Criteria :func:`fit_redlich_kister` can choose the order by.
CRITERIA = ("aicc", "bic", "fixed")
#: Highest order :func:`fit_redlich_kister` accepts as ``max_order``.
MAX_ORDER_LIMIT = 9
#: τ of Kaptay's linear model when none is given, K (see the module docstring).
KAPTAY_DEFAULT_TAU_K = 3000.0
#: σ (J/mol) of an observation without one, by source kind (see the module docstring).
DEFAULT_SIGMA_J = {"assessed": 2000.0, "aimd": 3600.0, "user": 2000.0, "md": 5000.0, "mlip": 5000.0}
#: Source kinds of a store used as observations (``prediction`` rows are not).
OBSERVED_KINDS = ("assessed", "aimd", "user", "md", "mlip")
#: Mole fractions of B at which a predictor is sampled: 0.05, 0.10, …, 0.95.
PREDICTION_GRID = tuple(round(0.05 * i, 2) for i in range(1, 20))
#: Number of independent points a predicted curve counts as (see the module docstring).
PREDICTION_EFFECTIVE_POINTS = 1.0
#: ``kind`` of predicted points in :attr:`BinaryFit.points`.
PREDICTED = "predicted"


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
            "covariance_J2": [[_json_float(v) for v in row] for row in self.covariance],
            "rms_J": self.rms_J, "max_abs_residual_J": self.max_abs_residual_J,
            "order": self.order, "n_points": self.n_points, "criterion": self.criterion,
            "scores": [_json_float(v) for v in self.scores], "weighted": self.weighted,
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> "RKFit":
        """Inverse of :meth:`to_dict`."""
        return cls(
            coefficients=tuple(float(v) for v in data["coefficients_J"]),
            covariance=tuple(tuple(_from_json_float(v) for v in row) for row in data["covariance_J2"]),
            rms_J=float(data["rms_J"]), max_abs_residual_J=float(data["max_abs_residual_J"]),
            order=int(data["order"]), n_points=int(data["n_points"]), criterion=str(data["criterion"]),
            scores=tuple(_from_json_float(v) for v in data.get("scores", ())),
            weighted=bool(data.get("weighted", False)),
        )


def _json_float(value: float):
    value = float(value)
    if math.isnan(value):
        return None
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def _from_json_float(value) -> float:
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
    x, h, s = _check_fit_input(x_B, H, sigma, max_order, criterion)
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
    cov = _covariance(X, w, resid, weighted=s is not None)
    return RKFit(
        coefficients=tuple(float(c) for c in coef),
        covariance=tuple(tuple(float(v) for v in row) for row in cov),
        rms_J=float(np.sqrt(np.mean(resid**2))),
        max_abs_residual_J=float(np.max(np.abs(resid))),
        order=chosen, n_points=n, criterion=criterion, scores=tuple(float(v) for v in scores),
        weighted=s is not None,
    )


def _check_fit_input(x_B, H, sigma, max_order, criterion):
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


def _covariance(X, w, resid, *, weighted: bool) -> np.ndarray:
    n, k = X.shape
    inv = np.linalg.pinv(X.T @ (w[:, None] * X))
    if weighted:
        return inv
    if n > k:
        return inv * float(np.sum(resid**2)) / (n - k)
    return np.full((k, k), np.nan)


# ---------------------------------------------------------------------------------- temperature
@dataclass(frozen=True)
class TemperatureModel:
    """How fitted enthalpy coefficients ``a_n`` become temperature-dependent ``L_n(T)``.

    Parameters
    ----------
    kind : {"enthalpy", "kaptay"}
        ``"enthalpy"``: ``L_n = a_n``; ``"kaptay"``: ``L_n = a_n (1 − T/τ)`` (see the module
        docstring for the reference and the caveat above τ).
    tau_K : float, optional
        τ in K for ``"kaptay"`` (default :data:`KAPTAY_DEFAULT_TAU_K`); must be None for
        ``"enthalpy"``.
    """

    kind: str = "enthalpy"
    tau_K: float | None = None

    def __post_init__(self):
        if self.kind not in ("enthalpy", "kaptay"):
            raise MixcalphadError(f"unknown temperature model {self.kind!r}; choose 'enthalpy' or 'kaptay'")
        if self.kind == "enthalpy" and self.tau_K is not None:
            raise MixcalphadError("tau_K applies only to the 'kaptay' temperature model")
        if self.kind == "kaptay":
            tau = KAPTAY_DEFAULT_TAU_K if self.tau_K is None else float(self.tau_K)
            if not (math.isfinite(tau) and tau > 0):
                raise MixcalphadError(f"tau_K must be a positive temperature in K, got {self.tau_K!r}")
            object.__setattr__(self, "tau_K", tau)

    def factor(self, T) -> np.ndarray:
        """``L_n(T) / a_n``: 1, or ``1 − T/τ`` (dimensionless)."""
        T = np.asarray(T, dtype=float)
        return np.ones_like(T) if self.kind == "enthalpy" else 1.0 - T / self.tau_K

    def excess_gibbs(self, x_B, T, coefficients: Sequence[float]) -> np.ndarray:
        """G_ex (J/mol) at ``x_B`` and one temperature ``T`` (K) for enthalpy coefficients (J/mol)."""
        return rk_excess(x_B, coefficients) * float(self.factor(T))

    def describe(self) -> str:
        """One ASCII line for provenance headers."""
        if self.kind == "enthalpy":
            return "enthalpy-only: L_n = a_n (no excess entropy)"
        return (f"kaptay-linear: L_n = a_n*(1-T/tau), tau = {self.tau_K:g} K "
                "(Kaptay, Metall. Mater. Trans. A 43 (2012) 531)")

    def to_dict(self) -> dict:
        return {"kind": self.kind, "tau_K": self.tau_K}

    @classmethod
    def from_dict(cls, data: Mapping) -> "TemperatureModel":
        return cls(kind=data.get("kind", "enthalpy"), tau_K=data.get("tau_K"))


#: The default temperature model.
ENTHALPY_ONLY = TemperatureModel("enthalpy")


def kaptay(tau_K: float = KAPTAY_DEFAULT_TAU_K) -> TemperatureModel:
    """Kaptay's linear temperature model ``L_n = a_n (1 − T/τ)`` with ``τ`` in K."""
    return TemperatureModel("kaptay", tau_K)


# ---------------------------------------------------------------------------------- binaries
@dataclass(frozen=True)
class BinaryFit:
    """The Redlich–Kister description of one binary liquid and where it came from.

    Attributes
    ----------
    system : str
        ``"AL-CU"`` (sorted pair).
    fit : RKFit
        Coefficients for the sorted pair, J/mol.
    origin : str
        Kinds of data behind the fit, ``+``-joined in the order assessed, aimd, user, md, mlip,
        predicted: ``"predicted"``, ``"assessed"``, ``"aimd+predicted"``…
    sigma_J : float
        Representative 1σ of the data (J/mol): the median σ of the observed points when there
        are any, else the model's σ at the grid point nearest x_B = 0.5.
    stderr_J : float
        Standard error of the fitted ΔH_mix at x_B = 0.5 from the fit covariance, J/mol.
    sources : tuple of str
        Distinct sources (store ``source`` values, ``"model:<class> <version>"``).
    model : str
        ``"<class> <version>"`` of the predictor used, or ``""``.
    n_observed, n_predicted : int
        Numbers of observed and predicted points fitted.
    points : pandas.DataFrame or None
        The points fitted: ``x_B``, ``T_K``, ``HM_MIX_J``, ``sigma_J`` (σ as given or defaulted),
        ``fit_sigma_J`` (σ used as weight), ``kind``, ``source``. Not compared, not in
        :meth:`to_dict`.
    """

    system: str
    fit: RKFit
    origin: str
    sigma_J: float
    stderr_J: float = float("nan")
    sources: tuple[str, ...] = ()
    model: str = ""
    n_observed: int = 0
    n_predicted: int = 0
    points: Any = field(default=None, compare=False, repr=False)

    @property
    def pair(self) -> tuple[str, str]:
        return tuple(self.system.split("-"))  # type: ignore[return-value]

    def evaluate(self, x_B) -> np.ndarray:
        """ΔH_mix (J/mol) at ``x_B`` (mole fraction of the second element of :attr:`pair`)."""
        return self.fit.evaluate(x_B)

    def to_dict(self) -> dict:
        return {"system": self.system, "origin": self.origin, "sigma_J": _json_float(self.sigma_J),
                "stderr_J": _json_float(self.stderr_J), "sources": list(self.sources), "model": self.model,
                "n_observed": self.n_observed, "n_predicted": self.n_predicted, "fit": self.fit.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping) -> "BinaryFit":
        return cls(system=system_name(*data["system"].split("-")), fit=RKFit.from_dict(data["fit"]),
                   origin=data["origin"], sigma_J=_from_json_float(data["sigma_J"]),
                   stderr_J=_from_json_float(data.get("stderr_J")), sources=tuple(data.get("sources", ())),
                   model=data.get("model", ""), n_observed=int(data.get("n_observed", 0)),
                   n_predicted=int(data.get("n_predicted", 0)))


_POINT_COLUMNS = ("x_B", "T_K", "HM_MIX_J", "sigma_J", "fit_sigma_J", "kind", "source")


def binary_points(a: str, b: str, *, predictor=None, observations=None,
                  x_grid: Sequence[float] = PREDICTION_GRID, sigma_defaults: Mapping[str, float] | None = None,
                  prediction_effective_points: float = PREDICTION_EFFECTIVE_POINTS,
                  prediction_T_K: float = float("nan")):
    """The weighted points a binary is fitted to (observations and/or predictions).

    Parameters
    ----------
    a, b : str
        The two elements, any order and case.
    predictor : object, optional
        A predictor (see the module docstring); None for observations only.
    observations : pandas.DataFrame, optional
        Rows with the store's columns (``system``, ``x_B``, ``T_K``, ``HM_MIX_J``, ``sigma_J``,
        ``kind``, ``source``); rows of other systems and of kinds outside
        :data:`OBSERVED_KINDS` are ignored.
    x_grid : sequence of float
        Mole fractions of the second element of the sorted pair at which the predictor is
        sampled.
    sigma_defaults : mapping, optional
        σ (J/mol) by kind for observations without one; default :data:`DEFAULT_SIGMA_J`.
    prediction_effective_points : float
        Independent points a predicted curve counts as (σ inflated by
        ``sqrt(len(x_grid)/prediction_effective_points)``).
    prediction_T_K : float
        Temperature recorded for predicted points (the model has none), K; NaN by default.

    Returns
    -------
    pandas.DataFrame
        Columns ``x_B``, ``T_K``, ``HM_MIX_J``, ``sigma_J``, ``fit_sigma_J``, ``kind``,
        ``source`` (J/mol, K), observed rows first.

    Raises
    ------
    DatasetError
        The predictor returns non-finite values or σ ≤ 0, or an observation has σ ≤ 0.
    """
    import pandas as pd

    pair = sorted_pair(a, b)
    name = system_name(*pair)
    defaults = {**DEFAULT_SIGMA_J, **(sigma_defaults or {})}
    frames = []
    if observations is not None and len(observations):
        obs = observations[(observations["system"] == name) & observations["kind"].isin(OBSERVED_KINDS)]
        if len(obs):
            given = obs["sigma_J"].astype(float).to_numpy()
            default = obs["kind"].map(defaults).astype(float).to_numpy()
            sigma = np.where(np.isnan(given), default, given)
            if np.any(~(sigma > 0)):
                raise DatasetError(f"{name}: observation(s) with sigma_J <= 0 from "
                                   f"{sorted(set(obs['source'][~(sigma > 0)]))}")
            frames.append(pd.DataFrame({
                "x_B": obs["x_B"].astype(float).to_numpy(), "T_K": obs["T_K"].astype(float).to_numpy(),
                "HM_MIX_J": obs["HM_MIX_J"].astype(float).to_numpy(), "sigma_J": sigma,
                "fit_sigma_J": sigma, "kind": obs["kind"].to_numpy(), "source": obs["source"].astype(str).to_numpy(),
            }))
    if predictor is not None:
        x = np.asarray(x_grid, dtype=float)
        mean, std = predictor.predict(pair[0], pair[1], x, return_std=True)
        mean = np.asarray(mean, dtype=float).reshape(-1)
        std = np.broadcast_to(np.asarray(std, dtype=float), mean.shape).astype(float)
        if mean.shape != x.shape or not np.all(np.isfinite(mean)):
            raise DatasetError(f"{name}: the predictor returned {mean.shape} values with non-finite entries "
                               f"or a wrong shape for {x.size} compositions")
        if not np.all(np.isfinite(std) & (std > 0)):
            raise DatasetError(f"{name}: the predictor returned σ that is not finite and > 0")
        inflate = math.sqrt(max(x.size / float(prediction_effective_points), 1.0))
        frames.append(pd.DataFrame({
            "x_B": x, "T_K": float(prediction_T_K), "HM_MIX_J": mean, "sigma_J": std,
            "fit_sigma_J": std * inflate, "kind": PREDICTED, "source": f"model:{predictor_label(predictor)}",
        }))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object if c in ("kind", "source") else float)
                             for c in _POINT_COLUMNS})
    return pd.concat(frames, ignore_index=True).loc[:, list(_POINT_COLUMNS)]


def fit_binary(a: str, b: str, *, predictor=None, observations=None, max_order: int = 3,
               criterion: str = "aicc", x_grid: Sequence[float] = PREDICTION_GRID,
               sigma_defaults: Mapping[str, float] | None = None,
               prediction_effective_points: float = PREDICTION_EFFECTIVE_POINTS,
               combine: str = "auto") -> BinaryFit:
    """Fit one binary liquid from observations and/or a predictor (sources combined by weight).

    Parameters
    ----------
    a, b : str
        The two elements, any order and case.
    predictor, observations, x_grid, sigma_defaults, prediction_effective_points
        As in :func:`binary_points`.
    max_order, criterion
        As in :func:`fit_redlich_kister`.
    combine : {"auto", "always"}
        ``"auto"``: observations that alone support ``max_order`` are fitted without the
        prediction; ``"always"``: combine by weight in every case (see the module docstring).

    Returns
    -------
    BinaryFit

    Raises
    ------
    DatasetError
        No observation of this binary and no predictor, or bad values.

    Examples
    --------
    >>> fit_binary("CU", "AL", predictor=my_model).fit.coefficients   # doctest: +SKIP
    """
    if combine not in ("auto", "always"):
        raise MixcalphadError(f"combine must be 'auto' or 'always', got {combine!r}")
    name = system_name(a, b)
    points = binary_points(a, b, predictor=predictor, observations=observations, x_grid=x_grid,
                           sigma_defaults=sigma_defaults, prediction_effective_points=prediction_effective_points)
    if combine == "auto" and predictor is not None:
        observed = points[points["kind"] != PREDICTED]
        inner = observed["x_B"][(observed["x_B"] > 0) & (observed["x_B"] < 1)]
        if supported_order(len(observed), int(np.unique(np.round(inner, 9)).size), max_order) == max_order \
                and len(inner):
            points, predictor = observed.reset_index(drop=True), None
    if not len(points):
        raise DatasetError(f"{name}: no observations of this binary and no predictor to fill it")
    fit = fit_redlich_kister(points["x_B"].to_numpy(), points["HM_MIX_J"].to_numpy(),
                             points["fit_sigma_J"].to_numpy(), max_order=max_order, criterion=criterion)
    observed = points[points["kind"] != PREDICTED]
    predicted = points[points["kind"] == PREDICTED]
    kinds = [k for k in (*OBSERVED_KINDS, PREDICTED) if k in set(points["kind"])]
    if len(observed):
        sigma = float(np.median(observed["sigma_J"]))
    else:
        nearest = int(np.argmin(np.abs(predicted["x_B"].to_numpy() - 0.5)))
        sigma = float(predicted["sigma_J"].iloc[nearest])
    return BinaryFit(system=name, fit=fit, origin="+".join(kinds), sigma_J=sigma,
                     stderr_J=float(fit.std([0.5])[0]),
                     sources=tuple(dict.fromkeys(points["source"])),
                     model=predictor_label(predictor) if predictor is not None else "",
                     n_observed=len(observed), n_predicted=len(predicted), points=points)


def all_pairs(elements: Iterable[str]) -> list[tuple[str, str]]:
    """Every sorted pair of distinct elements, sorted (``[("AL", "CU"), …]``)."""
    els = sorted({normalize_symbol(e) for e in elements})
    return list(itertools.combinations(els, 2))


def fit_binaries(pairs_or_elements: Iterable, *, predictor=None, observations=None, progress=None,
                 **options) -> dict[str, BinaryFit]:
    """Fit many binaries; returns ``{"AL-CU": BinaryFit, …}`` in sorted order.

    Parameters
    ----------
    pairs_or_elements : iterable
        Element symbols (every pair among them is fitted) or ``(a, b)`` pairs / ``"A-B"`` names.
    predictor : object or ``"default"``, optional
        A predictor, ``"default"`` for :func:`load_default_predictor`, or None (observations only).
    observations : pandas.DataFrame, optional
        The store's observations (see :func:`binary_points`).
    progress : bool or None
        tqdm bar over binaries; ``None`` (default): only on a terminal.
    **options
        Passed to :func:`fit_binary` (``max_order``, ``criterion``, ``x_grid``…).

    Raises
    ------
    DatasetError
        A binary has neither observations nor a predictor.
    """
    from tqdm.auto import tqdm

    items = list(pairs_or_elements)
    if items and all(isinstance(i, str) and "-" not in i for i in items):
        pairs = all_pairs(items)
    else:
        from mixcalphad.chem.binaries import parse_system

        pairs = sorted({parse_system(i) if isinstance(i, str) else sorted_pair(*i) for i in items})
    if isinstance(predictor, str):
        if predictor != "default":
            raise MixcalphadError(f"predictor must be an object, 'default' or None, got {predictor!r}")
        predictor = load_default_predictor()
    if predictor is not None and callable(getattr(predictor, "predict_pairs", None)) and len(pairs) > 1:
        # one vectorised call instead of one per binary (mixcalphad's model has predict_pairs)
        predictor = BatchPredictions(predictor, pairs, options.get("x_grid", PREDICTION_GRID))
    groups = {}
    if observations is not None and len(observations):
        observations = observations[observations["kind"].isin(OBSERVED_KINDS)]
        groups = {name: rows for name, rows in observations.groupby("system")}
    fits = {}
    for a, b in tqdm(pairs, desc="fit", unit="binary", disable=None if progress is None else not progress):
        fit = fit_binary(a, b, predictor=predictor, observations=groups.get(system_name(a, b)), **options)
        fits[fit.system] = fit
    return fits
