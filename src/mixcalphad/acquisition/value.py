"""What a run would teach: expected reduction of the refitted model's integrated predictive variance.

The max σ of one binary (:mod:`mixcalphad.acquisition.gp`) saturates at the prior far from the data
and then ranks binaries by how exotic they are. The value used here instead is Cohn's criterion
(integrated variance reduction): how much one new equimolar ΔH_mix point of binary c lowers the
predictive variance summed over all binaries of interest. For a Gaussian process it needs no label:

``value(c) = Σ_j u_j · C_jc² / (C_cc + σ_n²)``

with C the GP's posterior covariance between equimolar points (j over the reference binaries,
c the candidate), σ_n² its noise variance and ``u_j = w_j σ_model,j² / C_jj``: the GP supplies
*which fraction* of the variance at j a run at c removes, the refitted regressor supplies *how much*
variance there is (its own σ at x = 0.5, ``predict_pairs(..., return_std=True)``), and w_j are user
weights (default 1; an element set of interest). The unit is (J/mol)² summed over the reference
binaries.

The GP (:class:`ResidualGP`) is fitted to the regressor's residuals (observed − predicted ΔH_mix,
J/mol) in the regressor's own feature space — the pair features of its Gaussian process
(``gp_features``) and the composition —, inputs and target standardized, with an anisotropic
RBF kernel plus white noise (scikit-learn); hyperparameters come from a random subsample
(``max_hyper`` points) and the posterior from up to ``max_train`` points.

After a pick the posterior covariance is updated by the rank-one formula (exact: the posterior
variance does not depend on the observed value), so greedy batches (:mod:`mixcalphad.acquisition.batch`)
are cheap; the objective is submodular, so greedy is near-optimal (Krause et al., JMLR 9 (2008) 235).
The same objective is BoTorch's ``qNegIntegratedPosteriorVariance`` and emukit's
``IntegratedVarianceReduction``.
"""
from __future__ import annotations

import logging
import time
import warnings
from typing import Sequence

import numpy as np
import pandas as pd
import scipy.linalg
import scipy.optimize
from sklearn.base import BaseEstimator

from mixcalphad.acquisition._util import one_blas_thread, split_systems
from mixcalphad.errors import AcquisitionError

log = logging.getLogger(__name__)


#: The GP's input besides the pair features: the mole fraction of Q, the second element of the
#: oriented pair (:func:`~mixcalphad.model.pair_features.orient_pairs`).
COMPOSITION_INPUT = "x_Q"


def check_pair_features(features: str | Sequence[str]) -> tuple[str, ...]:
    """Pair-feature names (:data:`~mixcalphad.model.pair_features.PAIR_FEATURES`) that are never missing.

    Raises
    ------
    AcquisitionError
        No name, an unknown name, or a feature that may be NaN (a missing boiling point).
    """
    from mixcalphad.model.pair_features import OPTIONAL_PROPERTIES, PAIR_FEATURES

    names = (features,) if isinstance(features, str) else tuple(features)
    unknown = [n for n in names if n not in PAIR_FEATURES]
    if not names or unknown:
        raise AcquisitionError(f"the residual GP needs pair features of mixcalphad.model.pair_features.PAIR_FEATURES; "
                               f"got {list(names) if not unknown else unknown}")
    optional = [n for n in names if n.endswith(OPTIONAL_PROPERTIES)]
    if optional:
        raise AcquisitionError(f"pair feature(s) {optional} may be missing (NaN), which a Gaussian process cannot take")
    return names


def model_feature_set(model) -> tuple[str, ...]:
    """The pair features of a predictor's own Gaussian process: its ``gp_features``
    (:class:`~mixcalphad.model.regressor.HMixRegressor` has them).

    Raises
    ------
    AcquisitionError
        The predictor declares no ``gp_features`` (pass ``ResidualGP(features=...)``), or bad ones.
    """
    features = getattr(model, "gp_features", None)
    if features is None:
        raise AcquisitionError(f"the predictor {type(model).__name__} declares no gp_features; give the residual "
                               "GP its pair features: a gp_features attribute of the predictor, or "
                               "ResidualGP(features=...) (e.g. mixcalphad.model.pair_features.GP_FEATURES)")
    return check_pair_features(features)


def residual_inputs(features: Sequence[str], a, b, x_B) -> np.ndarray:
    """Inputs of the residual GP, unscaled: the pair features ``features`` of each oriented pair
    (P, Q) and :data:`COMPOSITION_INPUT`, the mole fraction of Q (``x_B`` is that of ``b``)."""
    from mixcalphad.model.pair_features import feature_columns, orient_pairs, pair_features

    _, _, swapped = orient_pairs(a, b)
    x = np.asarray(x_B, dtype=float).reshape(-1)
    return np.column_stack([pair_features(a, b)[:, feature_columns(features)], np.where(swapped, 1.0 - x, x)])


#: Compositions kept per system for the posterior (an assessed curve is smooth: three points carry it).
THIN_X = (0.2, 0.5, 0.8)


def _thin(rows: pd.DataFrame, max_points: int) -> np.ndarray:
    """Row positions of at most one point per system near each x of :data:`THIN_X` (every system
    and its equimolar point stay), then the first ``max_points`` of them in system order."""
    x = rows["x_B"].to_numpy(float)
    keep = set()
    for _, idx in rows.groupby("system").indices.items():
        for target in THIN_X:
            keep.add(int(idx[np.argmin(np.abs(x[idx] - target))]))
    return np.array(sorted(keep)[:max_points], dtype=int)


class ResidualGP(BaseEstimator):
    """Gaussian process of a regressor's residuals (J/mol) in its feature space.

    Its inputs are the pair features of the regressor's own Gaussian process and the composition
    (:func:`residual_inputs`).

    Parameters
    ----------
    features : str or sequence of str, optional
        Pair features (:data:`~mixcalphad.model.pair_features.PAIR_FEATURES`); default: the
        regressor's own ``gp_features`` (:func:`model_feature_set`).
    max_hyper : int
        Largest number of points for the hyperparameter fit (random subsample above it).
    max_iter : int
        Largest number of L-BFGS iterations of the hyperparameter fit.
    max_train : int
        Largest number of points conditioning the posterior (per system, the points nearest
        x = 0.2, 0.5 and 0.8: :data:`THIN_X`).
    random_state : int

    Attributes
    ----------
    features_ : list of str
        The pair features used (the composition :data:`COMPOSITION_INPUT` comes after them).
    kernel_ : sklearn kernel
        The fitted kernel (standardized units), without the noise term.
    noise_ : float
        Noise variance, standardized units.
    y_std_ : float
        Standard deviation of the residuals, J/mol.
    n_train_ : int
    fit_time_s_ : float
    """

    def __init__(self, features: str | Sequence[str] | None = None, max_hyper: int = 300,
                 max_train: int = 1200, max_iter: int = 60, random_state: int = 0):
        self.features = features
        self.max_hyper = max_hyper
        self.max_train = max_train
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, observations: pd.DataFrame, model) -> "ResidualGP":
        """Fit on the residuals of ``model`` (a fitted predictor) on ``observations``.

        Raises
        ------
        AcquisitionError
            Fewer than 10 usable observations of 2 systems, bad sizes, or no usable pair features
            (:func:`model_feature_set`).
        """
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

        from mixcalphad.model.features import pairs_of
        from mixcalphad.model.regressor import training_rows

        if self.max_hyper < 10 or self.max_train < 10:
            raise AcquisitionError(f"max_hyper and max_train must be at least 10, got {self.max_hyper}, "
                                   f"{self.max_train}")
        rows = training_rows(observations)
        if len(rows) < 10 or rows["system"].nunique() < 2:
            raise AcquisitionError(f"the residual GP needs at least 10 usable observations of 2 systems, got "
                                   f"{len(rows)} of {rows['system'].nunique()}")
        start = time.perf_counter()
        self.features_ = list(model_feature_set(model) if self.features is None else check_pair_features(self.features))
        a, b, x = pairs_of(rows)
        X = residual_inputs(self.features_, a, b, x)
        residual = rows["HM_MIX_J"].to_numpy(float) - np.asarray(model.predict_pairs(a, b, x), float)
        self.x_mean_ = X.mean(axis=0)
        scale = X.std(axis=0)
        self.x_scale_ = np.where(scale > 0, scale, 1.0)
        self.y_std_ = float(residual.std()) or 1.0
        Xs = (X - self.x_mean_) / self.x_scale_
        t = (residual - residual.mean()) / self.y_std_
        rng = np.random.default_rng(self.random_state)
        hyper = rng.choice(len(t), min(len(t), self.max_hyper), replace=False)
        kernel = (ConstantKernel(1.0, (1e-3, 1e2)) * RBF(np.full(Xs.shape[1], 3.0), (1e-1, 1e3))
                  + WhiteKernel(0.3, (1e-4, 1e1)))
        with one_blas_thread(), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # irrelevant features hit the length bound
            gpr = GaussianProcessRegressor(kernel, normalize_y=False, random_state=self.random_state,
                                           optimizer=self._optimizer, n_restarts_optimizer=0).fit(Xs[hyper], t[hyper])
        self.kernel_ = gpr.kernel_.k1
        self.noise_ = float(gpr.kernel_.k2.noise_level)
        keep = _thin(rows, self.max_train)
        self.X_train_ = Xs[keep]
        K = self.kernel_(self.X_train_) + (self.noise_ + 1e-8) * np.eye(len(keep))
        with one_blas_thread():
            self.chol_ = scipy.linalg.cholesky(K, lower=True, check_finite=False)
        self.n_train_ = int(len(keep))
        self.fit_time_s_ = time.perf_counter() - start
        log.info("residual GP: %d points (%d for hyperparameters), %.1f s, kernel %s, noise %.3g",
                 self.n_train_, len(hyper), self.fit_time_s_, self.kernel_, self.noise_)
        return self

    def _optimizer(self, objective, theta, bounds):
        """L-BFGS-B on the log marginal likelihood, at most ``max_iter`` iterations (bounds the time)."""
        result = scipy.optimize.minimize(objective, theta, jac=True, method="L-BFGS-B", bounds=bounds,
                                         options={"maxiter": int(self.max_iter)})
        return result.x, result.fun

    def _check_fitted(self):
        if not hasattr(self, "chol_"):
            raise AcquisitionError("this ResidualGP is not fitted yet: call fit(observations, model)")

    def design(self, systems: Sequence[str], x_B: float = 0.5) -> np.ndarray:
        """Standardized inputs of binaries at one composition (``x_B`` of the sorted pair's second element)."""
        self._check_fitted()
        a, b = split_systems(systems)
        X = residual_inputs(self.features_, a, b, np.full(len(a), float(x_B)))
        return (X - self.x_mean_) / self.x_scale_

    def condition(self, observations: pd.DataFrame) -> "ResidualGP":
        """Condition on the inputs of other observations, keeping the hyperparameters (values are
        not needed for variances); at most ``max_train`` points, the same random subsample rule."""
        from mixcalphad.model.features import pairs_of
        from mixcalphad.model.regressor import training_rows

        self._check_fitted()
        rows = training_rows(observations)
        rows = rows.iloc[_thin(rows, self.max_train)]
        a, b, x = pairs_of(rows)
        X = (residual_inputs(self.features_, a, b, x) - self.x_mean_) / self.x_scale_
        K = self.kernel_(X) + (self.noise_ + 1e-8) * np.eye(len(X))
        with one_blas_thread():
            self.chol_ = scipy.linalg.cholesky(K, lower=True, check_finite=False)
        self.X_train_, self.n_train_ = X, len(X)
        return self

    def posterior_cov(self, Z_ref: np.ndarray, Z_cand: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Posterior covariances (standardized units): diag(C_ref), C(ref, cand), diag(C_cand)."""
        self._check_fitted()
        with one_blas_thread():
            V_ref = scipy.linalg.solve_triangular(self.chol_, self.kernel_(self.X_train_, Z_ref), lower=True,
                                                  check_finite=False)
            V_cand = scipy.linalg.solve_triangular(self.chol_, self.kernel_(self.X_train_, Z_cand), lower=True,
                                                   check_finite=False)
            cross = self.kernel_(Z_ref, Z_cand) - V_ref.T @ V_cand
        diag_ref = self.kernel_.diag(Z_ref) - np.einsum("ij,ij->j", V_ref, V_ref)
        diag_cand = self.kernel_.diag(Z_cand) - np.einsum("ij,ij->j", V_cand, V_cand)
        return np.clip(diag_ref, 1e-12, None), cross, np.clip(diag_cand, 1e-12, None)

    def describe(self) -> dict:
        """Kernel, noise, training size and time (JSON-ready)."""
        self._check_fitted()
        return {"model": "scikit-learn GP (constant × anisotropic RBF + white noise) on the regressor's residuals",
                "features": self.features_, "inputs": [*self.features_, COMPOSITION_INPUT],
                "n_train": self.n_train_, "noise": self.noise_,
                "kernel": str(self.kernel_), "residual_std_J": self.y_std_,
                "fit_time_s": round(self.fit_time_s_, 3)}


class VarianceReduction:
    """Greedy state of the integrated-variance objective over reference and candidate binaries.

    Parameters
    ----------
    gp : ResidualGP
        Fitted.
    reference : sequence of str
        Binaries over which the variance is integrated (their equimolar points).
    candidates : sequence of str
        Binaries that may be picked; each must be one of ``reference``.
    model_sigma_J : array
        The regressor's σ at x = 0.5 for each reference binary, J/mol.
    weights : array, optional
        Weight of each reference binary (default 1).

    Attributes
    ----------
    value_J2 : ndarray
        Current value of each candidate: expected reduction of the weighted sum over the reference
        binaries of the regressor's predictive variance, (J/mol)².

    Examples
    --------
    >>> state = VarianceReduction(gp, reference, candidates, sigma)   # doctest: +SKIP
    >>> best = int(np.argmax(state.value_J2)); state.pick(best)       # doctest: +SKIP
    """

    def __init__(self, gp: ResidualGP, reference: Sequence[str], candidates: Sequence[str],
                 model_sigma_J: np.ndarray, weights: np.ndarray | None = None):
        reference, self.candidates = list(reference), list(candidates)
        model_sigma_J = np.asarray(model_sigma_J, float)
        if len(model_sigma_J) != len(reference):
            raise AcquisitionError(f"{len(model_sigma_J)} model σ for {len(reference)} reference binaries")
        w = np.ones(len(reference)) if weights is None else np.asarray(weights, float)
        if len(w) != len(reference) or np.any(~np.isfinite(w)) or np.any(w < 0):
            raise AcquisitionError("weights need one finite, non-negative value per reference binary")
        where = {s: j for j, s in enumerate(reference)}
        missing = [s for s in self.candidates if s not in where]
        if missing:
            raise AcquisitionError(f"candidates must be among the reference binaries; not there: {missing[:5]}")
        self.ref_index = np.array([where[s] for s in self.candidates], dtype=int)
        self.noise = float(gp.noise_)
        diag_ref, self.cross, self.diag_cand = gp.posterior_cov(gp.design(reference), gp.design(self.candidates))
        self.u = w * np.nan_to_num(model_sigma_J) ** 2 / diag_ref
        self.value_J2 = self._values()

    def _values(self) -> np.ndarray:
        return np.einsum("j,jc->c", self.u, self.cross ** 2) / (self.diag_cand + self.noise)

    def pick(self, i: int) -> float:
        """Condition on a run of candidate ``i`` (exact rank-one update); returns its value before.

        The posterior variance does not depend on the observed value, so no label is needed.
        """
        value = float(self.value_J2[i])
        col = self.cross[:, i].copy()                  # C(reference, c)
        row = self.cross[self.ref_index[i], :].copy()  # C(c, candidates)
        denom = self.diag_cand[i] + self.noise
        self.cross -= np.outer(col, row) / denom
        self.diag_cand = np.clip(self.diag_cand - row ** 2 / denom, 1e-12, None)
        self.value_J2 = self._values()
        return value
