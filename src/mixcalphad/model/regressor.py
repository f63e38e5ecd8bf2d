"""The ΔH_mix predictor: Miedema's liquid model plus a LightGBM model of its error, with σ.

Model
-----
For a binary A–B at x_B, with x_A x_B = ``xx``::

    ΔH = ΔH_Miedema + xx · g(features),     σ = s · xx · sqrt(σ_ens² + e(features)²)

``g`` is the mean of an ensemble of LightGBM regressors (bagging with different seeds) trained on
the *scaled residual* (ΔH_obs − ΔH_Miedema)/xx with sample weights xx², which is exactly least
squares on the residual itself. Because the features (:mod:`mixcalphad.model.features`) are symmetric
under (A, x_B) ↔ (B, 1 − x_B) and the residual is multiplied by xx, the prediction is exactly
symmetric and exactly 0 at x_B = 0 and 1.

Uncertainty: σ_ens is the ensemble spread of g; e is the error the spread does not explain — a
small, strongly regularised LightGBM model of the grouped out-of-fold absolute error of g
(``adaptive=True``, so systems unlike the training data get wider intervals), or a constant τ
(``adaptive=False``); s is a conformal factor so that, on the grouped out-of-fold residuals, the
nominal ``coverage`` interval ±z·σ covers that fraction of points. All of it is estimated on inner
folds grouped by binary system, never on the data a caller evaluates on.

Selection
---------
Hyperparameters (a small fixed grid) and features (recursive elimination by LightGBM gain
importance) are chosen by grouped inner cross-validation on the training data only.

Example
-------
>>> model = HMixRegressor(random_state=0).fit(observations)          # doctest: +SKIP
>>> mean, std = model.predict("AL", "NI", [0.25, 0.5], return_std=True)  # J/mol  # doctest: +SKIP
"""
from __future__ import annotations

import gzip
import hashlib
import json
import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Sequence

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.base import BaseEstimator
from sklearn.model_selection import GroupKFold
from tqdm.auto import tqdm

from mixcalphad.chem.binaries import normalize_symbol, sorted_pair
from mixcalphad.chem.elements import supported_elements
from mixcalphad.errors import CompositionError, MixcalphadError
from mixcalphad.model.features import BinaryFeaturizer, pairs_of, resolve_feature_set
from mixcalphad.chem.miedema import miedema_pairs

log = logging.getLogger(__name__)

MODEL_FORMAT = "mixcalphad-hmix-model"
MODEL_FORMAT_VERSION = 1
DEFAULT_MODEL_FILE = "default_model.json.gz"

#: Hyperparameter candidates compared in the inner loop (LightGBM names).
PARAM_GRID = (
    {"num_leaves": 7, "min_child_samples": 20, "learning_rate": 0.05, "n_estimators": 300},
    {"num_leaves": 15, "min_child_samples": 10, "learning_rate": 0.05, "n_estimators": 300},
    {"num_leaves": 31, "min_child_samples": 20, "learning_rate": 0.05, "n_estimators": 300},
)
#: The regularised model of the out-of-fold absolute error that makes σ differ between systems.
ERROR_MODEL_PARAMS = {"num_leaves": 7, "min_child_samples": 40, "learning_rate": 0.05, "n_estimators": 150}
#: Settings shared by every LightGBM model: bagging for the ensemble spread, one thread, deterministic.
BASE_PARAMS = {"subsample": 0.8, "subsample_freq": 1, "colsample_bytree": 0.8, "reg_lambda": 1.0,
               "max_bin": 63, "n_jobs": 1, "verbose": -1, "deterministic": True, "force_row_wise": True}


class ModelError(MixcalphadError):
    """A model file that cannot be used, or a model used before it is fitted."""


@dataclass(frozen=True)
class Design:
    """Training or prediction rows in model form: features, xx = x_A x_B, Miedema ΔH (J/mol)."""

    X: np.ndarray
    xx: np.ndarray
    miedema: np.ndarray
    groups: np.ndarray


def design_matrix(a, b, x_b, features: Sequence[str]) -> Design:
    """Features, x_A x_B and Miedema's ΔH_mix (J/mol) for arrays of pairs (row i: a[i]–b[i] at x_b[i]).

    Rows are put in the sorted orientation first; ``groups`` holds the system names.
    """
    a = np.array([normalize_symbol(s) for s in np.atleast_1d(np.asarray(a, dtype=object))])
    b = np.array([normalize_symbol(s) for s in np.atleast_1d(np.asarray(b, dtype=object))])
    x_b = np.broadcast_to(np.asarray(x_b, dtype=float), a.shape).astype(float)
    # canonical orientation (sorted pair, x of its second element rounded to 1e-12) so that
    # (A, B, x) and (B, A, 1 − x) give bit-identical inputs and hence identical predictions
    swap = a > b
    a, b = np.where(swap, b, a), np.where(swap, a, b)
    x_b = np.round(np.where(swap, 1.0 - x_b, x_b), 12)
    X = BinaryFeaturizer(list(features)).transform_pairs(a, b, x_b)
    groups = np.char.add(np.char.add(a.astype(str), "-"), b.astype(str))
    return Design(X=X, xx=x_b * (1.0 - x_b), miedema=miedema_pairs(a, b, x_b), groups=groups)


def training_rows(observations: pd.DataFrame) -> pd.DataFrame:
    """Observations usable for training — both elements supported, 0 < x_B < 1, finite value — in a
    canonical order (system, source, T, x_B), so that fits and folds do not depend on row order."""
    known = set(supported_elements())
    pairs = pairs_of(observations)
    usable = (np.isin(pairs[0], list(known)) & np.isin(pairs[1], list(known))
              & (observations["x_B"] > 0) & (observations["x_B"] < 1) & np.isfinite(observations["HM_MIX_J"]))
    dropped = sorted(set(observations.loc[~usable, "system"]))
    if dropped:
        log.info("training: %d system(s) left out (unsupported element or endpoint only): %s",
                 len(dropped), ", ".join(dropped))
    order = [c for c in ("system", "kind", "source", "T_K", "x_B", "HM_MIX_J") if c in observations.columns]
    return observations[usable].sort_values(order, kind="stable")


def dataset_hash(observations: pd.DataFrame) -> str:
    """SHA-256 of the (system, x_B, T_K, HM_MIX_J) content of observations, order-independent."""
    cols = ["system", "x_B", "T_K", "HM_MIX_J"]
    frame = observations[cols].sort_values(cols).round({"x_B": 6, "T_K": 3, "HM_MIX_J": 3})
    return hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()


def _fit_booster(X, target, weight, params, seed):
    model = lgb.LGBMRegressor(**BASE_PARAMS, **params, random_state=seed)
    model.fit(X, target, sample_weight=weight)
    return model.booster_


class HMixRegressor(BaseEstimator):
    """Miedema + LightGBM residual regressor of liquid ΔH_mix with calibrated σ (J/mol of atoms).

    Parameters
    ----------
    features : str or sequence of str
        Candidate features: ``"full"`` (default), ``"paper10"`` or explicit labels.
    n_members : int
        Ensemble size (bagged LightGBM models with different seeds).
    inner_folds : int
        Grouped folds of the inner loop (selection and calibration).
    tune : bool
        Choose hyperparameters from :data:`PARAM_GRID` and features by recursive elimination in the
        inner loop; otherwise use ``params`` (or the grid's first entry) and all features.
    params : dict, optional
        LightGBM parameters when ``tune`` is False.
    min_features : int
        Smallest feature count the elimination tries.
    adaptive : bool
        Model the unexplained error per point (True) or take it constant (False).
    coverage : float
        Nominal coverage of the ±z·σ interval that the calibration targets (0.95 → z = 1.96).
    random_state : int
        Seed of every random choice.
    progress : bool or None
        Progress bar; None shows it only on a terminal.

    Attributes
    ----------
    features_ : list of str
        Selected features.
    params_ : dict
        Selected LightGBM parameters.
    tau_, scale_ : float
        Calibration of σ: the constant unexplained error τ of g (J/mol; used when not adaptive) and
        the conformal factor s.
    error_booster_ : lightgbm.Booster or None
        The model of the unexplained absolute error of g (when adaptive).
    inner_rmse_ : float
        Grouped inner-CV RMSE (J/mol) of the selected configuration.
    training_hash_ : str
        :func:`dataset_hash` of the training observations.
    n_systems_, n_points_ : int
    version_ : str
    """

    def __init__(self, features: str | Sequence[str] = "full", n_members: int = 5, inner_folds: int = 5,
                 tune: bool = True, params: dict | None = None, min_features: int = 8,
                 adaptive: bool = True, coverage: float = 0.95, random_state: int = 0,
                 progress: bool | None = None):
        self.features = features
        self.n_members = n_members
        self.inner_folds = inner_folds
        self.tune = tune
        self.params = params
        self.min_features = min_features
        self.adaptive = adaptive
        self.coverage = coverage
        self.random_state = random_state
        self.progress = progress

    # ------------------------------------------------------------------ fitting
    def fit(self, observations: pd.DataFrame, y=None) -> "HMixRegressor":
        """Fit on observations (columns ``system``, ``x_B``, ``HM_MIX_J``; J/mol of atoms)."""
        if not 0.5 < self.coverage < 1:
            raise MixcalphadError(f"coverage must lie in (0.5, 1), got {self.coverage}")
        rows = training_rows(observations)
        n_systems = rows["system"].nunique()
        if n_systems < max(self.inner_folds, 2):
            raise MixcalphadError(f"need at least {max(self.inner_folds, 2)} binary systems to fit, got {n_systems}")
        candidates = list(resolve_feature_set(self.features))
        d = design_matrix(*pairs_of(rows), candidates)
        target = (rows["HM_MIX_J"].to_numpy(float) - d.miedema) / d.xx
        weight = d.xx**2
        folds = list(GroupKFold(n_splits=self.inner_folds).split(d.X, groups=d.groups))
        steps = (len(PARAM_GRID) if self.tune else 0) + 1
        with tqdm(total=steps, desc="fit", unit="step", disable=None if self.progress is None else not self.progress,
                  leave=False) as bar:
            if self.tune:
                params = min(PARAM_GRID, key=lambda p: self._cv_rmse(d, target, weight, folds, p, None, bar))
                columns, rmse = self._eliminate(d, target, weight, folds, params, candidates)
            else:
                params = dict(self.params or PARAM_GRID[0])
                columns, rmse = list(range(len(candidates))), None
            mean_oof, spread_oof = self._oof(d, target, weight, folds, params, columns)
            bar.update(1)
        self.features_ = [candidates[i] for i in columns]
        residual = np.abs(target - mean_oof)
        self.tau_ = float(np.sqrt(max(np.mean(residual**2) - np.mean(spread_oof**2), 0.0)))
        X = d.X[:, columns]
        unexplained = np.empty_like(residual)
        for train, test in folds:  # cross-fitted, so the conformal factor sees errors the error model did not
            self.error_booster_ = self._error_model(X[train], residual[train], weight[train])
            unexplained[test] = self._unexplained(X[test])
        self.error_booster_ = self._error_model(X, residual, weight)
        self.scale_ = self._conformal_scale(residual / np.sqrt(spread_oof**2 + unexplained**2))
        self.inner_rmse_ = rmse if rmse is not None else float(np.sqrt(np.mean((d.xx * residual)**2)))
        self.params_ = dict(params)
        self.boosters_ = [_fit_booster(d.X[:, columns], target, weight, params, self.random_state + k)
                          for k in range(self.n_members)]
        self.training_hash_ = dataset_hash(rows)
        self.n_systems_, self.n_points_ = int(n_systems), int(len(rows))
        from mixcalphad import __version__

        self.version_ = f"{__version__}+{self.training_hash_[:8]}"
        return self

    def _cv_rmse(self, d, target, weight, folds, params, columns, bar=None) -> float:
        cols = slice(None) if columns is None else columns
        sq = 0.0
        for train, test in folds:
            booster = _fit_booster(d.X[train][:, cols], target[train], weight[train], params, self.random_state)
            sq += np.sum((d.xx[test] * (booster.predict(d.X[test][:, cols]) - target[test]))**2)
        if bar is not None:
            bar.update(1)
        return float(np.sqrt(sq / len(target)))

    def _eliminate(self, d, target, weight, folds, params, candidates):
        """Recursive feature elimination by gain importance, scored by grouped inner CV (J/mol)."""
        columns = list(range(len(candidates)))
        best_cols, best_rmse = list(columns), self._cv_rmse(d, target, weight, folds, params, columns)
        while len(columns) > self.min_features:
            booster = _fit_booster(d.X[:, columns], target, weight, params, self.random_state)
            gain = booster.feature_importance(importance_type="gain")
            keep = max(self.min_features, int(round(2 * len(columns) / 3)))
            order = np.argsort(-gain, kind="stable")[:keep]
            columns = [columns[i] for i in sorted(order)]
            rmse = self._cv_rmse(d, target, weight, folds, params, columns)
            log.debug("elimination: %d features, inner RMSE %.0f J/mol", len(columns), rmse)
            if rmse < best_rmse:
                best_cols, best_rmse = list(columns), rmse
        return best_cols, best_rmse

    def _oof(self, d, target, weight, folds, params, columns):
        """Grouped out-of-fold ensemble mean and spread of g."""
        mean, spread = np.empty_like(target), np.empty_like(target)
        for train, test in folds:
            preds = np.array([_fit_booster(d.X[train][:, columns], target[train], weight[train], params,
                                           self.random_state + k).predict(d.X[test][:, columns])
                              for k in range(self.n_members)])
            mean[test], spread[test] = preds.mean(axis=0), preds.std(axis=0)
        return mean, spread

    def _error_model(self, X, residual, weight):
        if not self.adaptive:
            return None
        return _fit_booster(X, residual, weight, ERROR_MODEL_PARAMS, self.random_state)

    def _unexplained(self, X) -> np.ndarray:
        """The error of g that the ensemble spread does not explain (J/mol per unit xx), > 0."""
        if self.error_booster_ is None:
            return np.full(len(X), max(self.tau_, 1e-9))
        # E|r| = σ·sqrt(2/π) for a normal error
        return np.sqrt(np.pi / 2) * np.maximum(self.error_booster_.predict(X), 1e-3 * max(self.tau_, 1.0))

    def _conformal_scale(self, z: np.ndarray) -> float:
        """Factor s so that |r| ≤ s·z_q·σ on the requested fraction of out-of-fold points."""
        n = len(z)
        level = min(1.0, np.ceil((n + 1) * self.coverage) / n)  # split-conformal quantile
        return float(np.quantile(z, level, method="higher") / norm.ppf(0.5 + self.coverage / 2))

    # ------------------------------------------------------------------ prediction
    def _check_fitted(self):
        if not hasattr(self, "boosters_"):
            raise ModelError("this HMixRegressor is not fitted yet: call fit() or load a model")

    def predict_pairs(self, a, b, x_b, return_std: bool = False):
        """ΔH_mix (J/mol of atoms) for arrays of pairs: row i is a[i]–b[i] at mole fraction x_b[i] of b[i]."""
        self._check_fitted()
        d = design_matrix(a, b, x_b, self.features_)
        preds = np.array([booster.predict(d.X) for booster in self.boosters_])
        mean = d.miedema + d.xx * preds.mean(axis=0)
        if not return_std:
            return mean
        std = self.scale_ * d.xx * np.sqrt(preds.std(axis=0)**2 + self._unexplained(d.X)**2)
        return mean, std

    def predict(self, a, b=None, x=None, return_std: bool = False):
        """ΔH_mix of the liquid in J/mol of atoms, with σ if ``return_std``.

        Parameters
        ----------
        a : str or DataFrame
            First element — or a frame with ``system`` and ``x_B`` columns (then ``b``, ``x`` unused).
        b : str
            Second element.
        x : float or array_like
            Mole fraction(s) of ``b`` in [0, 1].

        Returns
        -------
        mean or (mean, std) : numpy.ndarray
            Same shape as ``x`` (or one value per row of the frame).
        """
        if isinstance(a, pd.DataFrame):
            return self.predict_pairs(*pairs_of(a), return_std=return_std)
        if b is None or x is None:
            raise MixcalphadError("predict needs (a, b, x) or a DataFrame with system and x_B")
        xs = np.asarray(x, dtype=float)
        if np.any(~np.isfinite(xs)) or np.any((xs < 0) | (xs > 1)):
            raise CompositionError(f"mole fractions must lie in [0, 1], got {x!r}")
        sorted_pair(a, b)  # two distinct, valid symbols
        flat = xs.reshape(-1)
        out = self.predict_pairs(np.full(flat.shape, a, dtype=object), np.full(flat.shape, b, dtype=object),
                                 flat, return_std=return_std)
        if return_std:
            return out[0].reshape(xs.shape), out[1].reshape(xs.shape)
        return out.reshape(xs.shape)

    def describe(self) -> dict:
        """Provenance of the fitted model (JSON-ready)."""
        self._check_fitted()
        return {"model": "Miedema + LightGBM residual", "version": self.version_, "features": self.features_,
                "params": self.params_, "n_members": self.n_members, "tau_J": self.tau_, "scale": self.scale_,
                "coverage": self.coverage, "inner_rmse_J": self.inner_rmse_, "training_hash": self.training_hash_,
                "n_systems": self.n_systems_, "n_points": self.n_points_, "lightgbm": lgb.__version__}

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict:
        """Everything needed to predict, as plain JSON types (boosters as LightGBM model text)."""
        self._check_fitted()
        return {"format": MODEL_FORMAT, "format_version": MODEL_FORMAT_VERSION,
                "init": self.get_params(), "describe": self.describe(),
                "boosters": [b.model_to_string() for b in self.boosters_],
                "error_booster": None if self.error_booster_ is None else self.error_booster_.model_to_string()}

    @classmethod
    def from_dict(cls, data: dict) -> "HMixRegressor":
        if data.get("format") != MODEL_FORMAT or data.get("format_version") != MODEL_FORMAT_VERSION:
            raise ModelError(f"not a {MODEL_FORMAT} version {MODEL_FORMAT_VERSION} document")
        model = cls(**data["init"])
        info = data["describe"]
        model.features_, model.params_ = list(info["features"]), dict(info["params"])
        model.tau_, model.scale_, model.inner_rmse_ = info["tau_J"], info["scale"], info["inner_rmse_J"]
        model.training_hash_, model.version_ = info["training_hash"], info["version"]
        model.n_systems_, model.n_points_ = info["n_systems"], info["n_points"]
        model.boosters_ = [lgb.Booster(model_str=text) for text in data["boosters"]]
        error = data.get("error_booster")
        model.error_booster_ = None if error is None else lgb.Booster(model_str=error)
        return model

    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write the model as gzipped JSON, atomically; refuses to overwrite unless asked."""
        from mixcalphad._io import atomic_path

        path = Path(path)
        with atomic_path(path, overwrite=overwrite) as tmp:
            with gzip.GzipFile(tmp, "wb", mtime=0) as fh:
                fh.write(json.dumps(self.to_dict(), sort_keys=True).encode())
        return path

    @classmethod
    def load(cls, path: str | Path) -> "HMixRegressor":
        """Read a model written by :meth:`save`."""
        path = Path(path)
        try:
            with gzip.open(path, "rb") as fh:
                data = json.loads(fh.read())
        except FileNotFoundError:
            raise ModelError(f"no model file at {path}") from None
        except (OSError, EOFError, json.JSONDecodeError) as exc:
            raise ModelError(f"model file {path} is unreadable or corrupted: {exc}") from None
        try:
            return cls.from_dict(data)
        except ModelError as exc:
            raise ModelError(f"{path}: {exc}") from None
