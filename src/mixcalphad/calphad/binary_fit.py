"""Fits of whole binary liquids: the best estimate of each binary, admissible by construction.

The estimate
------------
:func:`fit_binary` fits one binary from a predictor and the binary's own observations (a store's
``observations`` table: assessed, AIMD, user, MD/MLIP):

* with a predictor, the fitted curve is the **posterior** of :mod:`mixcalphad.model.posterior`: the
  predictor's curve (the prior, with its σ) updated by the binary's observations; a binary with no
  observations keeps the prior. It is sampled on :data:`PREDICTION_GRID` with its σ and fitted.
  :func:`fit_binaries` conditions the predictor on all observations once, so that ``fit``,
  ``write-tdb``, ``fill``, ``espei-datasets``, ``campaign refit`` and ``acquire`` all see the same
  posterior of a binary;
* without a predictor, the observations alone are fitted.

Observations weigh by the evidence rule of :mod:`mixcalphad.data.evidence` — a curve from one source
is one piece of evidence, not one per row: an observation's σ is its own ``sigma_J`` or
:data:`DEFAULT_SIGMA_J` of its kind (assessed 2000 J/mol, the spread of independent assessments of
one binary; AIMD 3600 J/mol, the AIMD-vs-experiment MAE over five systems in Bizot et al. 2026; user
2000 J/mol; MD/MLIP 5000 J/mol), and a curve of m compositions gives each point σ·√m. The
predictor's curve counts the same way (one curve). :attr:`BinaryFit.points` holds that evidence (what
the ESPEI datasets are written from); the coefficients fit the posterior.

Rows of kind ``prediction`` in a store are not used (the predictor supplies fresh ones). A
*predictor* is any object with ``predict(a, b, x_B, return_std=True) -> (mean_J, std_J)``
(numpy arrays, J/mol of atoms, ``x_B`` the mole fraction of ``b``) and optionally ``version_``
and ``describe()`` for provenance, ``predict_rk`` for the prior covariance of the posterior, and
``predict_pairs(a, b, x_B, return_std=True)`` over arrays of pairs, which :func:`fit_binaries` then
calls once for all binaries; :func:`load_default_predictor` gives mixcalphad's own model.

Admissible fits
---------------
Every fit :func:`fit_binary` returns has a convex liquid G_mix (no spinodal, so no spurious liquid
miscibility gap in pycalphad) at every temperature from ``T_low`` to :data:`T_HIGH_K` = 6000 K,
where ``T_low`` = :data:`LOWER_T_FRACTION` × the lower melting point of the two elements (half
the lower T_m: below the deepest eutectics of metallic binaries, e.g. Au–Si at 0.48 T_m(Au)).
A fit that would have a spinodal there is replaced by the convexity-constrained least-squares fit
of :func:`~mixcalphad.calphad.convexity.fit_convex`, and :attr:`BinaryFit.convexity` records that
and the RMS change (J/mol). Only when the data show a gap is the spinodal kept: a store flag
``immiscible`` for the binary (``gaps`` argument), or a positive excess so large that the regular
solution fitted to the same points has a gap (:func:`regular_solution_gap`); a fit whose ΔH_mix
is ≤ 0 everywhere is always made convex.

The liquid's temperature dependence
-----------------------------------
ΔH_mix fixes the enthalpy coefficients a_n; every fit also carries its
:attr:`BinaryFit.temperature_model`, so that the written liquid is ``L_n = a_n + b_n T`` with
``b_n = −κ a_n``. By default κ of the pair comes from the excess-entropy model learned on assessed
liquids (``temperature_model="learned"``, :mod:`mixcalphad.calphad.excess_entropy`), with its σ;
an AIMD binary gets its AIMD enthalpy with the model's entropy. The convexity rule below is
checked with that temperature model, after κ has been reduced where it alone would open a gap.

Assessments carried whole
-------------------------
ΔH_mix fixes only the enthalpy of an interaction; an assessment's ``L_n(T)`` also hold its excess
entropy (CR–FE at 1873 K: G_mix −11.5 kJ/mol assessed, −15.2 kJ/mol from an enthalpy-only refit of
the same ΔH_mix). When the store keeps the parameters of an assessed binary
(:class:`~mixcalphad.data.assessed_liquid.AssessedLiquid`) and its rows are among the observations,
:func:`fit_binary` (``assessed=``) carries that assessment whole: origin ``assessed-whole``, the
TDB gets its own ``L_n(T)`` with the file as reference, and other observations and the prediction
of that binary are not used (an assessment is fitted to phase equilibria as well as to
enthalpies). With several assessments of one binary the first by file name is carried and the
others are named in :attr:`BinaryFit.sources`. The RK coefficients of such a fit are the
enthalpy-only refit of the carried assessment's points, used only for :meth:`BinaryFit.evaluate`;
its convexity is checked on the assessment's own ``L_n(T)`` and never changed (a spinodal is
reported as the assessment's).
"""
from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from mixcalphad.calphad.convexity import T_HIGH_K, ConvexityCheck, fit_convex, min_curvature_ratio
from mixcalphad.calphad.excess_entropy import (DEFAULT_RULE, admissible_temperature_model, pair_temperature_model,
                                               temperature_rule)
from mixcalphad.calphad.redlich_kister import (ENTHALPY_ONLY, RKFit, TemperatureModel, fit_redlich_kister,
                                               from_json_float, json_float, supported_order)
from mixcalphad.chem.binaries import all_pairs, sorted_pair, system_name
from mixcalphad.data.assessed_liquid import AssessedLiquid
from mixcalphad.data.schema import DEFAULT_SIGMA_J, OBSERVED_KINDS, PREDICTED
from mixcalphad.errors import DatasetError, MixcalphadError, TDBError
from mixcalphad.data.evidence import evidence_points
from mixcalphad.model.posterior import ConditionedPredictor, conditioned
from mixcalphad.model.predictor import BatchPredictions, load_default_predictor, predictor_label

logger = logging.getLogger(__name__)

#: ``T_low`` of the convexity rule as a fraction of the lower melting point of the pair.
LOWER_T_FRACTION = 0.5
#: Mole fractions of B at which a predictor is sampled: 0.05, 0.10, …, 0.95.
PREDICTION_GRID = tuple(round(0.05 * i, 2) for i in range(1, 20))


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
        1σ of the binary's ΔH_mix at x_B = 0.5 (J/mol): the posterior's σ at the grid point nearest
        0.5 when fitted with a predictor (the model's σ where the binary has no data), else the
        median σ of the observations.
    stderr_J : float
        Standard error of the fitted ΔH_mix at x_B = 0.5 from the fit covariance, J/mol.
    sources : tuple of str
        Distinct sources (store ``source`` values, ``"model:<class> <version>"``).
    model : str
        ``"<class> <version>"`` of the predictor used, or ``""``.
    n_observed, n_predicted : int
        Observation rows of the binary behind the fit, and points of the predicted curve.
    points : pandas.DataFrame or None
        The evidence (:mod:`mixcalphad.data.evidence`): ``x_B``, ``T_K``, ``HM_MIX_J``, ``sigma_J``
        (σ as given or defaulted), ``fit_sigma_J`` (the evidence rule's σ), ``kind``, ``source``;
        what the ESPEI datasets are written from. Not compared, not in :meth:`to_dict`.
    convexity : ConvexityCheck or None
        The convexity check of the fit (see the module docstring); None for fits made elsewhere.
    assessed : AssessedLiquid or None
        The assessment carried whole (origin ``assessed-whole``): its ``L_n(T)`` go into TDBs
        instead of :attr:`fit`'s coefficients.
    temperature_model : TemperatureModel or None
        How this binary's coefficients depend on T (``L_n = a_n + b_n T``, ``b_n = −κ a_n``), as
        resolved and checked for convexity by :func:`fit_binary`; None for fits made elsewhere
        (writers then use the temperature model they are given).
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
    convexity: ConvexityCheck | None = None
    assessed: AssessedLiquid | None = None
    temperature_model: TemperatureModel | None = None

    @property
    def pair(self) -> tuple[str, str]:
        return tuple(self.system.split("-"))  # type: ignore[return-value]

    def evaluate(self, x_B) -> np.ndarray:
        """ΔH_mix (J/mol) at ``x_B`` (mole fraction of the second element of :attr:`pair`)."""
        return self.fit.evaluate(x_B)

    def excess_entropy(self, x_B, T_K: float = 1873.0) -> np.ndarray:
        """S_ex (J/(mol K)) at ``x_B`` and ``T_K`` of the liquid this fit writes."""
        if self.assessed is not None:
            step = 0.5
            return -(self.assessed.excess_gibbs(x_B, T_K + step) - self.assessed.excess_gibbs(x_B, T_K - step)) / (2 * step)
        tm = self.temperature_model or ENTHALPY_ONLY
        return tm.kappa * self.fit.evaluate(x_B)

    def excess_gibbs(self, x_B, T_K: float) -> np.ndarray:
        """G_ex (J/mol) at ``x_B`` and ``T_K`` of the liquid this fit writes."""
        if self.assessed is not None:
            return self.assessed.excess_gibbs(x_B, T_K)
        return self.fit.evaluate(x_B) - T_K * self.excess_entropy(x_B)

    def sigma_excess_gibbs(self, T_K: float) -> float:
        """1σ of G_ex at x_B = 0.5 and ``T_K`` (J/mol): σ_H (1 − κT) and T σ_S combined (NaN when
        either is unknown)."""
        tm = self.temperature_model or ENTHALPY_ONLY
        sigma_S = tm.sigma_S_J_K if tm.sigma_S_J_K is not None else (0.0 if tm.kind == "enthalpy" else float("nan"))
        return float(math.hypot(self.sigma_J * (1.0 - tm.kappa * T_K), T_K * sigma_S))

    def to_dict(self) -> dict:
        return {"system": self.system, "origin": self.origin, "sigma_J": json_float(self.sigma_J),
                "stderr_J": json_float(self.stderr_J), "sources": list(self.sources), "model": self.model,
                "n_observed": self.n_observed, "n_predicted": self.n_predicted, "fit": self.fit.to_dict(),
                "convexity": None if self.convexity is None else vars(self.convexity).copy(),
                "assessed": None if self.assessed is None else self.assessed.to_record(),
                "temperature_model": None if self.temperature_model is None else self.temperature_model.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping) -> "BinaryFit":
        return cls(system=system_name(*data["system"].split("-")), fit=RKFit.from_dict(data["fit"]),
                   origin=data["origin"], sigma_J=from_json_float(data["sigma_J"]),
                   stderr_J=from_json_float(data.get("stderr_J")), sources=tuple(data.get("sources", ())),
                   model=data.get("model", ""), n_observed=int(data.get("n_observed", 0)),
                   n_predicted=int(data.get("n_predicted", 0)),
                   convexity=ConvexityCheck(**data["convexity"]) if data.get("convexity") else None,
                   assessed=AssessedLiquid.from_record(data["assessed"]) if data.get("assessed") else None,
                   temperature_model=(TemperatureModel.from_dict(data["temperature_model"])
                                      if data.get("temperature_model") else None))


#: Ways the Redlich–Kister order is chosen (:func:`~mixcalphad.calphad.redlich_kister.fit_redlich_kister`).
CRITERIA = ("aicc", "bic", "fixed")


@dataclass(frozen=True)
class FitSettings:
    """How :func:`fit_binary` fits a binary (validated on construction).

    Attributes
    ----------
    max_order : int
        Highest Redlich–Kister order (≥ 0).
    criterion : {"aicc", "bic", "fixed"}
        How the order is chosen.
    x_grid : tuple of float
        Mole fractions of the sorted pair's B (0 < x < 1, increasing) at which a predictor is sampled.
    sigma_defaults : mapping or None
        σ (J/mol) by kind for observations without one (None: :data:`DEFAULT_SIGMA_J`).
    temperature_model : TemperatureModel, rule or str
        How the coefficients depend on T (a name is resolved by
        :func:`~mixcalphad.calphad.excess_entropy.temperature_rule`).
    T_low_K : float or None
        Lower end of the convexity interval, K (None: :func:`lower_temperature` of each pair).

    >>> FitSettings().replace(max_order=2).max_order
    2
    """

    max_order: int = 3
    criterion: str = "aicc"
    x_grid: tuple = PREDICTION_GRID
    sigma_defaults: Mapping[str, float] | None = None
    temperature_model: Any = DEFAULT_RULE
    T_low_K: float | None = None

    def __post_init__(self):
        if isinstance(self.max_order, bool) or not isinstance(self.max_order, (int, np.integer)) or self.max_order < 0:
            raise MixcalphadError(f"max_order must be an integer ≥ 0, got {self.max_order!r}")
        if self.criterion not in CRITERIA:
            raise MixcalphadError(f"criterion must be one of {CRITERIA}, got {self.criterion!r}")
        grid = tuple(float(x) for x in self.x_grid)
        if not grid or min(grid) <= 0 or max(grid) >= 1 or any(b <= a for a, b in zip(grid, grid[1:])):
            raise MixcalphadError(f"x_grid must be increasing mole fractions inside (0, 1), got {self.x_grid!r}")
        if self.T_low_K is not None and not (math.isfinite(self.T_low_K) and self.T_low_K > 0):
            raise MixcalphadError(f"T_low_K must be a positive temperature (K), got {self.T_low_K!r}")
        object.__setattr__(self, "x_grid", grid)
        if isinstance(self.temperature_model, str):
            object.__setattr__(self, "temperature_model", temperature_rule(self.temperature_model))

    def replace(self, **changes) -> "FitSettings":
        """A copy with ``changes`` (field names as keywords; an unknown name is an error)."""
        unknown = sorted(set(changes) - set(self.__dataclass_fields__))
        if unknown:
            raise MixcalphadError(f"unknown fit setting(s) {unknown}; known: {sorted(self.__dataclass_fields__)}")
        return replace(self, **changes)


_POINT_COLUMNS = ("x_B", "T_K", "HM_MIX_J", "sigma_J", "fit_sigma_J", "kind", "source")


def binary_points(a: str, b: str, *, predictor=None, observations=None,
                  x_grid: Sequence[float] = PREDICTION_GRID, sigma_defaults: Mapping[str, float] | None = None,
                  prediction_T_K: float = float("nan")):
    """The evidence about one binary: its observations and/or a predictor's curve, weighted by the
    evidence rule of :mod:`mixcalphad.data.evidence` (one curve weighs as one point).

    Parameters
    ----------
    a, b : str
        The two elements, any order and case.
    predictor : object, optional
        A predictor (see the module docstring) sampled on ``x_grid``; None for observations only.
    observations : pandas.DataFrame, optional
        Rows with the store's columns (``system``, ``x_B``, ``T_K``, ``HM_MIX_J``, ``sigma_J``,
        ``kind``, ``source``); rows of other systems and of kinds outside
        :data:`OBSERVED_KINDS` are ignored.
    x_grid : sequence of float
        Mole fractions of the second element of the sorted pair at which the predictor is
        sampled.
    sigma_defaults : mapping, optional
        σ (J/mol) by kind for observations without one; default :data:`DEFAULT_SIGMA_J`.
    prediction_T_K : float
        Temperature recorded for predicted points (the model has none), K; NaN by default.

    Returns
    -------
    pandas.DataFrame
        Columns ``x_B``, ``T_K``, ``HM_MIX_J``, ``sigma_J``, ``fit_sigma_J`` (the evidence rule's σ),
        ``kind``, ``source`` (J/mol, K), observed points first; repeated rows merged.

    Raises
    ------
    DatasetError
        The predictor returns non-finite values or σ ≤ 0, or an observation has σ ≤ 0.
    """
    import pandas as pd

    pair = sorted_pair(a, b)
    name = system_name(*pair)
    frames = []
    if observations is not None and len(observations):
        obs = observations[(observations["system"] == name) & observations["kind"].isin(OBSERVED_KINDS)]
        if len(obs):
            try:
                frames.append(evidence_points(obs, sigma_defaults))
            except DatasetError as exc:
                raise DatasetError(f"{name}: {exc}") from None
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
        frames.append(evidence_points(pd.DataFrame({
            "system": name, "x_B": x, "T_K": float(prediction_T_K), "HM_MIX_J": mean, "sigma_J": std,
            "kind": PREDICTED, "source": f"model:{predictor_label(predictor)}"})))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object if c in ("kind", "source") else float)
                             for c in _POINT_COLUMNS})
    return pd.concat(frames, ignore_index=True).loc[:, list(_POINT_COLUMNS)]


def fit_binary(a: str, b: str, *, predictor=None, observations=None, settings: FitSettings | None = None,
               gap: str = "", assessed: Sequence[AssessedLiquid] = (), **changes) -> BinaryFit:
    """Fit one binary liquid: the posterior of a predictor given the binary's observations, or the
    observations alone.

    Parameters
    ----------
    a, b : str
        The two elements, any order and case.
    predictor : object, optional
        A predictor (see the module docstring), or a
        :class:`~mixcalphad.model.posterior.ConditionedPredictor`. With one, the fitted curve is
        the posterior (:mod:`mixcalphad.model.posterior`) of this binary given ``observations``,
        sampled on ``x_grid`` with its σ; without, the observations' evidence points are fitted.
    observations
        As in :func:`binary_points`.
    settings : FitSettings, optional
        Order rule, prediction grid, default σ, temperature model and convexity interval (default
        :class:`FitSettings`). The temperature model (a rule resolved per pair; default
        ``"learned"``: κ of the pair from the shipped excess-entropy model) has κ reduced where it
        alone would make the liquid concave
        (:func:`~mixcalphad.calphad.excess_entropy.admissible_temperature_model`); the result is
        :attr:`BinaryFit.temperature_model`, and the convexity rule is checked with it.
    gap : str
        Non-empty (the reason) when the data show a liquid miscibility gap (an ``immiscible``
        flag): the fit may keep a spinodal. Without it :func:`regular_solution_gap` decides.
    assessed : sequence of AssessedLiquid
        Stored assessments of this binary; the first whose rows (same ``checksum``) are among
        ``observations`` is carried whole (see the module docstring). Empty: always refit.
    **changes
        Fields of :class:`FitSettings` to change (``max_order=2``, ``temperature_model="enthalpy"``…).

    Returns
    -------
    BinaryFit
        Its :attr:`~BinaryFit.points` are the evidence (observations and the prior's curve, with the
        evidence rule's σ); its coefficients fit the posterior curve (with a predictor) or those points.

    Raises
    ------
    DatasetError
        No observation of this binary and no predictor, or bad values.

    Examples
    --------
    >>> fit_binary("CU", "AL", predictor=my_model).fit.coefficients   # doctest: +SKIP
    """
    settings = (settings or FitSettings()).replace(**changes) if changes else (settings or FitSettings())
    max_order, criterion, x_grid = settings.max_order, settings.criterion, settings.x_grid
    sigma_defaults, temperature_model = settings.sigma_defaults, settings.temperature_model
    name = system_name(a, b)
    pair = sorted_pair(a, b)
    T_low = lower_temperature(a, b) if settings.T_low_K is None else float(settings.T_low_K)
    carried = _carried_assessment(name, assessed, observations)
    if carried is not None:
        return _whole_assessment(carried, [x.source for x in assessed if x is not carried],
                                 observations[observations["checksum"] == carried.checksum],
                                 max_order=max_order, criterion=criterion, sigma_defaults=sigma_defaults,
                                 T_low_K=T_low)
    own = None
    if observations is not None and len(observations):
        own = observations[(observations["system"] == name) & observations["kind"].isin(OBSERVED_KINDS)]
    posterior = None if predictor is None else conditioned(predictor, own, sigma_defaults)
    points = binary_points(a, b, predictor=None if posterior is None else posterior.prior, observations=own,
                           x_grid=x_grid, sigma_defaults=sigma_defaults)
    if not len(points):
        raise DatasetError(f"{name}: no observations of this binary and no predictor to fill it")
    observed = points[points["kind"] != PREDICTED]
    if posterior is not None:
        x = np.asarray(x_grid, dtype=float)
        h, s = (np.asarray(v, dtype=float).reshape(-1) for v in posterior.predict(pair[0], pair[1], x, return_std=True))
        sigma = float(s[int(np.argmin(np.abs(x - 0.5)))])
        s = s * math.sqrt(x.size)  # the posterior curve is one curve: one measurement (data.evidence)
        estimate = posterior.estimate(*pair)
        model = predictor_label(posterior if estimate == "posterior" else posterior.prior)
    else:
        x, h, s = (observed[c].to_numpy(dtype=float) for c in ("x_B", "HM_MIX_J", "fit_sigma_J"))
        sigma, model = float(np.median(observed["sigma_J"])), ""
    tm = pair_temperature_model(temperature_model, a, b)
    if not gap:
        gap = regular_solution_gap(x, h, s, T_low, tm)
    if not gap:
        unconstrained = fit_redlich_kister(x, h, s, max_order=max_order, criterion=criterion)
        tm = admissible_temperature_model(unconstrained.coefficients, tm, T_low)
    fit, convexity = fit_convex(x, h, s, max_order=max_order, criterion=criterion, T_low_K=T_low,
                                temperature_model=tm, allow_gap=gap)
    if callable(getattr(temperature_model, "sigma_S", None)):
        tm = replace(tm, sigma_S_J_K=temperature_model.sigma_S(a, b, float(fit.evaluate([0.5])[0])))
    if convexity.constrained:
        logger.info("%s: convexity constraint changed the fit by %.0f J/mol RMS", name, convexity.rms_change_J)
    kinds = [k for k in (*OBSERVED_KINDS, PREDICTED) if k in set(points["kind"])]
    return BinaryFit(system=name, fit=fit, origin="+".join(kinds), sigma_J=sigma,
                     stderr_J=float(fit.std([0.5])[0]),
                     sources=tuple(dict.fromkeys(points["source"])), model=model,
                     n_observed=0 if own is None else len(own), n_predicted=int(len(points) - len(observed)),
                     points=points, convexity=convexity, temperature_model=tm)


def _carried_assessment(name: str, assessed: Sequence[AssessedLiquid], observations) -> AssessedLiquid | None:
    """The first stored assessment of ``name`` whose rows are among ``observations`` (or None)."""
    if not assessed or observations is None or not len(observations) or "checksum" not in observations:
        return None
    present = set(observations.loc[observations["system"] == name, "checksum"].dropna())
    return next((x for x in assessed if x.system == name and x.checksum in present), None)


def _whole_assessment(carried: AssessedLiquid, others: Sequence[str], rows, *, max_order: int, criterion: str,
                      sigma_defaults, T_low_K: float) -> BinaryFit:
    """A :class:`BinaryFit` that carries ``carried`` whole (its points refitted only for ``evaluate``)."""
    a, b = carried.pair
    points = binary_points(a, b, observations=rows, sigma_defaults=sigma_defaults)
    x, h, s = (points[c].to_numpy(dtype=float) for c in ("x_B", "HM_MIX_J", "fit_sigma_J"))
    fit = fit_redlich_kister(x, h, s, max_order=max_order, criterion=criterion)
    temps = np.geomspace(T_low_K, T_HIGH_K, 24)
    ratio = min(min_curvature_ratio(carried.coefficients(T), T, T) for T in temps)
    convexity = ConvexityCheck(T_low_K=T_low_K, T_high_K=T_HIGH_K, min_ratio=ratio, min_ratio_unconstrained=ratio,
                               gap_allowed="" if ratio >= 0.0 else f"assessed ({carried.source}) has a liquid spinodal")
    also = [f"not carried: {s}" for s in dict.fromkeys(others) if s != carried.source]
    return BinaryFit(system=carried.system, fit=fit, origin="assessed-whole", sigma_J=float(np.median(points["sigma_J"])),
                     stderr_J=float(fit.std([0.5])[0]), sources=(carried.source, *also), n_observed=len(points),
                     points=points, convexity=convexity, assessed=carried)


def regular_solution_gap(x_B, H, sigma, T_low_K: float, temperature_model: TemperatureModel = ENTHALPY_ONLY) -> str:
    """The reason the data show a liquid miscibility gap, or ``""``.

    The data show a gap when the regular solution fitted to them (order 0, ``L0`` in J/mol) has
    one somewhere in ``[T_low_K, 6000 K]``, i.e. ``L0 φ(T) > 2 R T`` (the critical temperature of
    a regular solution is ``L0/2R``): the excess is positive and large enough that demixing is
    what the data say, not a wiggle of a higher-order fit.
    """
    L0 = fit_redlich_kister(x_B, H, sigma, max_order=0).coefficients[0]
    if min_curvature_ratio([L0], T_low_K, T_HIGH_K, temperature_model) >= 0.0:
        return ""
    return f"positive excess: regular solution L0 = {L0 / 1000:.1f} kJ/mol > 2RT at T_low = {T_low_K:.0f} K"


def lower_temperature(a: str, b: str) -> float:
    """``T_low`` of the convexity rule: :data:`LOWER_T_FRACTION` × the lower melting point, K."""
    from mixcalphad.chem.elements import element_property

    return LOWER_T_FRACTION * float(np.min(element_property([a, b], "T_melt_K", needed_by="the convexity rule")))


def fit_binaries(pairs_or_elements: Iterable, *, predictor=None, observations=None, progress=None,
                 gaps: Mapping[str, str] | Iterable[str] = (),
                 assessed_liquids: Mapping[str, Sequence[AssessedLiquid]] | None = None,
                 settings: FitSettings | None = None, **changes) -> dict[str, BinaryFit]:
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
    gaps : mapping or iterable of str
        Binaries whose data show a liquid miscibility gap (``{"CU-PB": "immiscible flag"}`` or
        names; see :func:`gap_reasons`): their fits may keep a spinodal.
    assessed_liquids : mapping, optional
        ``{"AL-CU": [AssessedLiquid, …]}`` (:meth:`Store.assessed_liquids`): assessments to carry
        whole (see the module docstring); None or empty refits every binary.
    settings : FitSettings, optional
        How every binary is fitted (default :class:`FitSettings`).
    **changes
        Fields of :class:`FitSettings` to change (``max_order``, ``criterion``, ``x_grid``…).

    Raises
    ------
    DatasetError
        A binary has neither observations nor a predictor.
    """
    from tqdm.auto import tqdm

    if not isinstance(gaps, Mapping):
        gaps = {system_name(*re.split(r"[-_]", str(g))): "immiscible flag" for g in gaps}
    items = list(pairs_or_elements)
    if items and all(isinstance(i, str) and "-" not in i for i in items):
        pairs = all_pairs(items)
    else:
        from mixcalphad.chem.binaries import parse_system

        pairs = sorted({parse_system(i) if isinstance(i, str) else sorted_pair(*i) for i in items})
    settings = (settings or FitSettings()).replace(**changes) if changes else (settings or FitSettings())
    if isinstance(predictor, str):
        if predictor != "default":
            raise MixcalphadError(f"predictor must be an object, 'default' or None, got {predictor!r}")
        predictor = load_default_predictor()
    groups = {}
    if observations is not None and len(observations):
        observations = observations[observations["kind"].isin(OBSERVED_KINDS)]
        groups = {name: rows for name, rows in observations.groupby("system")}
    if predictor is not None and not isinstance(predictor, ConditionedPredictor):
        if callable(getattr(predictor, "predict_pairs", None)) and len(pairs) > 1:
            # one vectorised call instead of one per binary (mixcalphad's model has predict_pairs)
            predictor = BatchPredictions(predictor, pairs, settings.x_grid)
        # every binary's posterior given its own observations (the prior where it has none)
        predictor = ConditionedPredictor(predictor, observations, settings.sigma_defaults)
    fits = {}
    for a, b in tqdm(pairs, desc="fit", unit="binary", disable=None if progress is None else not progress):
        name = system_name(a, b)
        fit = fit_binary(a, b, predictor=predictor, observations=groups.get(name), gap=gaps.get(name, ""),
                         assessed=(assessed_liquids or {}).get(name, ()), settings=settings)
        fits[fit.system] = fit
    return fits



def gap_reasons(flags) -> dict[str, str]:
    """``{"CU-PB": "immiscible flag (source)"}`` from a store's flags table (column ``flag``)."""
    if flags is None or not len(flags):
        return {}
    rows = flags[flags["flag"].astype(str).str.lower() == "immiscible"]
    return {system: f"immiscible flag ({'; '.join(sorted(set(map(str, group['source']))))})"
            for system, group in rows.groupby("system")}


def as_fits(fits) -> dict[str, BinaryFit]:
    """``{"AL-CU": BinaryFit}`` from a mapping (BinaryFit or RKFit values) or an iterable of BinaryFit."""
    if fits is None:
        return {}
    items = fits.items() if isinstance(fits, Mapping) else ((getattr(f, "system", None), f) for f in fits)
    out: dict[str, BinaryFit] = {}
    for key, value in items:
        if isinstance(value, RKFit):
            if key is None:
                raise TDBError("an RKFit needs its system: pass a mapping {'AL-CU': fit}")
            name = system_name(*re.split(r"[-_]", str(key)))
            value = BinaryFit(system=name, fit=value, origin="given", sigma_J=float("nan"))
        elif isinstance(value, BinaryFit):
            name = value.system
            if key is not None and system_name(*re.split(r"[-_]", str(key))) != name:
                raise TDBError(f"fit for {value.system} is stored under the key {key!r}")
        else:
            raise TDBError(f"expected BinaryFit or RKFit for {key!r}, got {type(value).__name__}")
        if name in out:
            raise TDBError(f"two fits for {name}")
        out[name] = value
    return dict(sorted(out.items()))

