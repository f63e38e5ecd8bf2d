"""The paper's Gaussian process (PHYSBO) and its max-σ score of a binary over composition.

Recipe (Bizot, Tamura, Deffrennes 2026): a Gaussian process with Gaussian likelihood, constant mean
and Gaussian kernel on the ten active-learning features (:data:`mixcalphad.model.features.PAPER10`),
features and target standardized, trained on the current observations (:class:`VarianceGP`); the
score of a binary is the largest predictive σ of the latent function over a composition grid
(:meth:`VarianceGP.max_std`, J/mol). This is the ``strategy="max-sigma"`` option of
:func:`mixcalphad.acquisition.plan.rank_binaries`; its default ranks by expected integrated variance
reduction instead (:mod:`mixcalphad.acquisition.value`), because the max σ saturates at the prior
far from the data and then ranks by exoticness, not by what a run teaches.

Speed: PHYSBO's defaults (500 Adam epochs, 20 random restarts) are slow; :class:`VarianceGP` uses
100 epochs and 5 restarts and runs the training with BLAS limited to one thread (the 64-point
mini-batch matrices are so small that multi-threaded OpenBLAS spends most of its time
synchronising: 112 s → 15 s for 1991 points on 2 cores).
"""
from __future__ import annotations

import logging
import time
from typing import Sequence

import numpy as np
import pandas as pd
import scipy.linalg
from sklearn.base import BaseEstimator
from tqdm.auto import tqdm

from mixcalphad.acquisition._util import (DEFAULT_GRID, check_grid, numpy_global_seed, one_blas_thread,
                                          split_systems)
from mixcalphad.errors import AcquisitionError

log = logging.getLogger(__name__)

#: Candidate grid points scored per chunk (bounds memory: chunk × training points doubles).
_CHUNK = 4000


class VarianceGP(BaseEstimator):
    """PHYSBO Gaussian process of ΔH_mix on composition features, for its predictive σ (J/mol).

    Parameters
    ----------
    features : str or sequence of str
        Feature set (default ``"paper10"``, the paper's ten active-learning features).
    target : {"HM_MIX_J", "residual"}
        What the GP models: ΔH_mix itself (the paper) or its difference from Miedema's model, which
        is what :class:`~mixcalphad.model.HMixRegressor` learns. Only the hyperparameters depend on it.
    max_train : int
        Largest number of training points; a seeded random subsample above it bounds the time.
    max_epoch, num_init_params_search, max_epoch_init_params_search, batch_size : int
        PHYSBO's Adam settings (its defaults are 500, 20, 50, 64).
    random_state : int
        Seed of the subsample and of PHYSBO's random restarts (numpy's global generator is seeded
        for the fit and restored afterwards).

    Attributes
    ----------
    gp_ : physbo.gp.Model
        The trained, prepared PHYSBO model (standardized units).
    hyperparameters_ : dict
        ``noise_std``, ``width``, ``scale`` (standardized units) and ``mean``.
    fit_time_s_ : float
        Wall time of the hyperparameter training, s.
    n_train_, n_systems_ : int
        Training points (after subsampling) and their binary systems.
    y_mean_, y_std_ : float
        Standardization of the target, J/mol.
    training_hash_ : str
        :func:`mixcalphad.model.dataset_hash` of the usable observations.

    Examples
    --------
    >>> gp = VarianceGP(random_state=0).fit(observations)              # doctest: +SKIP
    >>> mean, std = gp.predict_pairs(["AL"], ["W"], [0.5], return_std=True)  # J/mol  # doctest: +SKIP
    """

    def __init__(self, features: str | Sequence[str] = "paper10", target: str = "HM_MIX_J",
                 max_train: int = 2000, max_epoch: int = 100, num_init_params_search: int = 5,
                 max_epoch_init_params_search: int = 50, batch_size: int = 64, random_state: int = 0):
        self.features = features
        self.target = target
        self.max_train = max_train
        self.max_epoch = max_epoch
        self.num_init_params_search = num_init_params_search
        self.max_epoch_init_params_search = max_epoch_init_params_search
        self.batch_size = batch_size
        self.random_state = random_state

    # ------------------------------------------------------------------ fitting
    def fit(self, observations: pd.DataFrame, y=None) -> "VarianceGP":
        """Train on observations (``system``, ``x_B``, ``HM_MIX_J`` in J/mol of atoms)."""
        import physbo

        from mixcalphad.model.features import BinaryFeaturizer, pairs_of, resolve_feature_set
        from mixcalphad.chem.miedema import miedema_pairs
        from mixcalphad.model.regressor import dataset_hash, training_rows

        if self.target not in ("HM_MIX_J", "residual"):
            raise AcquisitionError(f"target must be 'HM_MIX_J' or 'residual', got {self.target!r}")
        if self.max_train < 10:
            raise AcquisitionError(f"max_train must be at least 10, got {self.max_train}")
        rows = training_rows(observations)
        if len(rows) < 10 or rows["system"].nunique() < 2:
            raise AcquisitionError(f"the GP needs at least 10 usable observations of 2 systems, got "
                                   f"{len(rows)} of {rows['system'].nunique()}")
        self.features_ = list(resolve_feature_set(self.features))
        a, b, x = pairs_of(rows)
        X = BinaryFeaturizer(self.features_).transform_pairs(a, b, x)
        y = rows["HM_MIX_J"].to_numpy(float)
        if self.target == "residual":
            y = y - miedema_pairs(a, b, x)
        rng = np.random.default_rng(self.random_state)
        if len(y) > self.max_train:
            keep = np.sort(rng.choice(len(y), self.max_train, replace=False))
            log.info("GP: training on a random %d of %d points", self.max_train, len(y))
            X, y, systems = X[keep], y[keep], rows["system"].to_numpy()[keep]
        else:
            systems = rows["system"].to_numpy()
        self.x_mean_ = X.mean(axis=0)
        scale = X.std(axis=0)
        self.x_scale_ = np.where(scale > 0, scale, 1.0)
        self.y_mean_ = float(y.mean())
        self.y_std_ = float(y.std()) or 1.0
        Xs = (X - self.x_mean_) / self.x_scale_
        t = (y - self.y_mean_) / self.y_std_

        config = physbo.misc.SetConfig()
        config.learning.is_disp = False
        config.learning.max_epoch = int(self.max_epoch)
        config.learning.num_init_params_search = int(self.num_init_params_search)
        config.learning.max_epoch_init_params_search = int(self.max_epoch_init_params_search)
        config.learning.batch_size = int(self.batch_size)
        gp = physbo.gp.Model(lik=physbo.gp.lik.Gauss(), mean=physbo.gp.mean.Const(),
                             cov=physbo.gp.cov.Gauss(Xs.shape[1]))
        start = time.perf_counter()
        with numpy_global_seed(self.random_state), one_blas_thread():
            try:
                gp.fit(Xs, t, config)
                gp.prepare(Xs, t)
            except np.linalg.LinAlgError as exc:
                raise AcquisitionError(f"GP training failed ({exc}); try other settings or more data") from None
        self.fit_time_s_ = time.perf_counter() - start
        if not np.all(np.isfinite(gp.params)):
            raise AcquisitionError("GP training diverged (non-finite hyperparameters)")
        self.gp_, self.X_train_ = gp, Xs
        self.n_train_, self.n_systems_ = int(len(t)), int(len(set(systems)))
        self.training_hash_ = dataset_hash(rows)
        self.hyperparameters_ = {
            "noise_std": float(np.ravel(gp.lik.std)[0]),
            "width": float(np.exp(np.ravel(gp.prior.cov.params)[0])),
            "scale": float(np.exp(np.ravel(gp.prior.cov.params)[1])),
            "mean": float(np.ravel(gp.prior.mean.params)[0]) if np.size(gp.prior.mean.params) else 0.0,
        }
        log.info("GP trained on %d points of %d systems in %.1f s: %s", self.n_train_, self.n_systems_,
                 self.fit_time_s_, self.hyperparameters_)
        return self

    def condition(self, observations: pd.DataFrame) -> "VarianceGP":
        """Condition the fitted GP on other observations, keeping its hyperparameters and scaling.

        Cheap (one Cholesky factorisation): for retrospective loops that add a few points per step.
        """
        from mixcalphad.chem.miedema import miedema_pairs
        from mixcalphad.model.features import pairs_of
        from mixcalphad.model.regressor import dataset_hash, training_rows

        self._check_fitted()
        rows = training_rows(observations)
        a, b, x = pairs_of(rows)
        y = rows["HM_MIX_J"].to_numpy(float)
        if self.target == "residual":
            y = y - miedema_pairs(a, b, x)
        Xs = self._design(a, b, x)
        t = (y - self.y_mean_) / self.y_std_
        with one_blas_thread():
            self.gp_.prepare(Xs, t)
        self.X_train_, self.n_train_ = Xs, int(len(t))
        self.n_systems_ = int(rows["system"].nunique())
        self.training_hash_ = dataset_hash(rows)
        return self

    def _check_fitted(self):
        if not hasattr(self, "gp_"):
            raise AcquisitionError("this VarianceGP is not fitted yet: call fit()")

    def describe(self) -> dict:
        """Settings, hyperparameters, training size, time and data hash (JSON-ready)."""
        self._check_fitted()
        import physbo

        return {"model": "PHYSBO GP (Gauss likelihood, constant mean, Gauss kernel)",
                "physbo": getattr(physbo, "__version__", "?"), "features": self.features_,
                "target": self.target, "n_train": self.n_train_, "n_systems": self.n_systems_,
                "fit_time_s": round(self.fit_time_s_, 3), "y_std_J": self.y_std_,
                "hyperparameters": self.hyperparameters_, "training_hash": self.training_hash_,
                "settings": {k: v for k, v in self.get_params().items() if k != "features"}}

    # ------------------------------------------------------------------ prediction
    def _design(self, a, b, x_B) -> np.ndarray:
        from mixcalphad.model.features import BinaryFeaturizer

        X = BinaryFeaturizer(self.features_).transform_pairs(a, b, x_B)
        return (X - self.x_mean_) / self.x_scale_

    def _v(self, Z: np.ndarray) -> np.ndarray:
        """U⁻ᵀ k(X, Z): the training-data part of the posterior covariance."""
        G = self.gp_.prior.get_cov(self.X_train_, Z)
        return scipy.linalg.solve_triangular(self.gp_.stats[0].T, G, lower=True, check_finite=False)

    def _prior_cov(self, Z1: np.ndarray, Z2: np.ndarray | None = None) -> np.ndarray:
        return self.gp_.prior.get_cov(Z1, Z2)

    def predict_pairs(self, a, b, x_B, return_std: bool = False):
        """Posterior mean of the target (J/mol) for pairs (row i: a[i]–b[i] at x_B[i]), σ if asked.

        σ is the standard deviation of the latent function (no observation noise), J/mol.
        """
        self._check_fitted()
        Z = self._design(a, b, x_B)
        mean = np.empty(len(Z))
        var = np.empty(len(Z))
        with one_blas_thread():
            for start in range(0, len(Z), _CHUNK):
                part = Z[start:start + _CHUNK]
                mean[start:start + len(part)] = self.gp_.get_post_fmean(self.X_train_, part)
                var[start:start + len(part)] = self.gp_.get_post_fcov(self.X_train_, part)
        mean = self.y_mean_ + self.y_std_ * mean
        if not return_std:
            return mean
        return mean, self.y_std_ * np.sqrt(np.clip(var, 0.0, None))

    def max_std(self, systems: Sequence[str], grid: Sequence[float] = DEFAULT_GRID,
                progress: bool | None = None, bar=None) -> pd.DataFrame:
        """Largest predictive σ (J/mol) of each binary over the composition grid.

        Returns
        -------
        DataFrame
            ``system``, ``score_J`` (max σ over the grid, J/mol) and ``x_at_max`` (x_B where it is).
        """
        self._check_fitted()
        grid = check_grid(grid)
        systems = list(systems)
        a, b = split_systems(systems)
        g = len(grid)
        per_chunk = max(1, _CHUNK // g)
        score = np.empty(len(systems))
        where = np.empty(len(systems))
        starts = range(0, len(systems), per_chunk)
        own_bar = bar is None
        if own_bar:
            bar = tqdm(total=len(starts), desc="GP σ", unit="chunk", leave=False,
                       disable=None if progress is None else not progress)
        try:
            with one_blas_thread():
                for start in starts:
                    stop = min(start + per_chunk, len(systems))
                    m = stop - start
                    Z = self._design(np.repeat(a[start:stop], g), np.repeat(b[start:stop], g), np.tile(grid, m))
                    var = self.gp_.get_post_fcov(self.X_train_, Z).reshape(m, g)
                    k = np.argmax(var, axis=1)
                    score[start:stop] = self.y_std_ * np.sqrt(np.clip(var[np.arange(m), k], 0.0, None))
                    where[start:stop] = grid[k]
                    bar.update(1)
        finally:
            if own_bar:
                bar.close()
        return pd.DataFrame({"system": systems, "score_J": score, "x_at_max": where})
