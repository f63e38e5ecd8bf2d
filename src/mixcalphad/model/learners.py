"""The two learners of the curve coefficients c0–c2 (J/mol of atoms) from pair features.

* :class:`CoefficientBoosters` — LightGBM with a Huber loss, one model per coefficient, sample
  weights 1/(curves of the system);
* :class:`CoefficientGP` — a Gaussian process per coefficient (c0 and c1) with zero mean (Miedema's
  model is the prior), a constant × Matérn-3/2 kernel with one length scale per feature (ARD) plus
  white noise, on standardized features, one row per system (the mean of its curves); the c0 targets
  can be winsorized (``clip``) because a Gaussian likelihood is not robust to their heavy tails.

Both are plain containers with ``fit``, ``predict``, ``to_dict`` and ``from_dict``; the estimator
that combines them is :class:`mixcalphad.model.regressor.HMixRegressor`.
"""
from __future__ import annotations

import warnings

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
from threadpoolctl import threadpool_limits

#: LightGBM settings of every coefficient model (the Huber objective is added by the learner).
DEFAULT_LGBM_PARAMS = {"n_estimators": 300, "learning_rate": 0.03, "num_leaves": 7, "min_child_samples": 8,
                       "subsample": 0.8, "subsample_freq": 1, "colsample_bytree": 0.5, "reg_lambda": 1.0,
                       "max_bin": 63}
#: Settings that make every LightGBM fit single-threaded, quiet and reproducible.
FIXED_LGBM_PARAMS = {"n_jobs": 1, "verbose": -1, "deterministic": True, "force_row_wise": True}
#: Fewest curves a coefficient needs before a model is fitted for it (otherwise it is predicted as 0).
MIN_CURVES = 5


def robust_scale(values: np.ndarray) -> float:
    """1.4826 × median absolute deviation of ``values`` (a normal σ estimate), at least 1 J/mol."""
    values = np.asarray(values, dtype=float)
    return float(max(1.4826 * np.median(np.abs(values - np.median(values))), 1.0))


class CoefficientBoosters:
    """One LightGBM Huber regressor per coefficient.

    Parameters
    ----------
    params : dict
        LightGBM parameters (:data:`DEFAULT_LGBM_PARAMS` when None).
    huber_delta : float
        Huber transition point as a multiple of the robust scale of each coefficient's targets.
    random_state : int
    """

    def __init__(self, params: dict | None = None, huber_delta: float = 1.0, random_state: int = 0):
        self.params = dict(DEFAULT_LGBM_PARAMS if params is None else params)
        self.huber_delta = huber_delta
        self.random_state = random_state
        self.boosters: list[lgb.Booster | None] = []

    def fit(self, X: np.ndarray, C: np.ndarray, weight: np.ndarray) -> "CoefficientBoosters":
        """Fit on features ``X`` (n, d), coefficients ``C`` (n, k; NaN where a curve does not fix one)."""
        self.boosters = []
        for k in range(C.shape[1]):
            known = np.isfinite(C[:, k])
            if known.sum() < MIN_CURVES:
                self.boosters.append(None)
                continue
            delta = self.huber_delta * robust_scale(C[known, k])
            model = lgb.LGBMRegressor(objective="huber", alpha=delta, **self.params, **FIXED_LGBM_PARAMS,
                                      random_state=self.random_state + k)
            model.fit(X[known], C[known, k], sample_weight=weight[known])
            self.boosters.append(model.booster_)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Coefficients (n, k) in J/mol of atoms."""
        return np.column_stack([np.zeros(len(X)) if b is None else b.predict(X) for b in self.boosters])

    def to_dict(self) -> dict:
        return {"params": self.params, "huber_delta": self.huber_delta, "random_state": self.random_state,
                "boosters": [None if b is None else b.model_to_string() for b in self.boosters]}

    @classmethod
    def from_dict(cls, data: dict) -> "CoefficientBoosters":
        out = cls(data["params"], data["huber_delta"], data["random_state"])
        out.boosters = [None if text is None else lgb.Booster(model_str=text) for text in data["boosters"]]
        return out


def _kernel(n_features: int):
    """Constant × Matérn-3/2 with one length scale per feature (ARD) + white noise (standardized units)."""
    return (ConstantKernel(1.0, (1e-3, 1e2)) * Matern(np.full(n_features, 3.0), (1e-1, 1e3), nu=1.5)
            + WhiteKernel(0.3, (1e-3, 1e1)))


class CoefficientGP:
    """Zero-mean Gaussian processes of the first coefficients, one row per system.

    Parameters
    ----------
    columns : list of int
        Columns of the feature matrix the GP uses.
    n_coefficients : int
        How many coefficients (c0, c1, …) it models.
    clip : float or None
        Winsorize the c0 targets at median ± clip × robust scale.
    random_state : int
    """

    def __init__(self, columns, n_coefficients: int = 2, clip: float | None = None, random_state: int = 0):
        self.columns = [int(c) for c in columns]
        self.clip = clip
        self.n_coefficients = n_coefficients
        self.random_state = random_state
        self.x_mean = self.x_scale = None
        self.models: list[dict | None] = []
        self._gps: list[GaussianProcessRegressor | None] = []

    def _standardize(self, X: np.ndarray) -> np.ndarray:
        return (X[:, self.columns] - self.x_mean) / self.x_scale

    def fit(self, X: np.ndarray, C: np.ndarray, groups: np.ndarray) -> "CoefficientGP":
        """Fit on features ``X`` (n, d), coefficients ``C`` (n, ≥ n_coefficients), system names ``groups``."""
        frame = pd.DataFrame(C[:, : self.n_coefficients]).assign(_g=np.asarray(groups))
        first = pd.Series(np.arange(len(frame))).groupby(frame["_g"].to_numpy(), sort=True).first().to_numpy()
        means = frame.groupby("_g", sort=True).mean().to_numpy()
        Xs = X[first][:, self.columns]
        self.x_mean, self.x_scale = Xs.mean(axis=0), Xs.std(axis=0)
        self.x_scale[self.x_scale == 0] = 1.0
        Z = self._standardize(X[first])
        self.models, self._gps = [], []
        for k in range(self.n_coefficients):
            known = np.isfinite(means[:, k])
            if known.sum() < MIN_CURVES:
                self.models.append(None)
                self._gps.append(None)
                continue
            y = means[known, k]
            if self.clip is not None and k == 0:  # winsorize c0: a Gaussian likelihood is not robust to the heavy tails
                centre, spread = np.median(y), self.clip * robust_scale(y)
                y = np.clip(y, centre - spread, centre + spread)
            y_scale = float(max(np.sqrt(np.mean(y**2)), 1.0))
            gp = GaussianProcessRegressor(_kernel(len(self.columns)), normalize_y=False, n_restarts_optimizer=0,
                                          random_state=self.random_state)
            # one BLAS thread: the optimiser's path, hence the saved model, must not depend on the machine
            with warnings.catch_warnings(), threadpool_limits(limits=1):
                warnings.simplefilter("ignore", ConvergenceWarning)
                gp.fit(Z[known], y / y_scale)
            self._gps.append(gp)
            self.models.append({"y_scale": y_scale, "theta": gp.kernel_.theta.tolist(),
                                "Z": Z[known].tolist(), "y": (y / y_scale).tolist()})
        return self

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation (n, n_coefficients) of the coefficients, J/mol of atoms.

        The standard deviation includes the fitted white noise: it is the spread expected for a new
        system's coefficient, not only the uncertainty of the latent mean.
        """
        Z = self._standardize(X)
        mean, std = np.zeros((len(X), self.n_coefficients)), np.zeros((len(X), self.n_coefficients))
        for k, (gp, info) in enumerate(zip(self._gps, self.models)):
            if gp is None:
                continue
            m, s = gp.predict(Z, return_std=True)
            mean[:, k], std[:, k] = m * info["y_scale"], s * info["y_scale"]
        return mean, std

    def kernels(self) -> list[str]:
        """The fitted kernels as text (hyperparameters in standardized units)."""
        return [str(gp.kernel_) if gp is not None else "none" for gp in self._gps]

    def to_dict(self) -> dict:
        return {"columns": self.columns, "n_coefficients": self.n_coefficients, "clip": self.clip,
                "random_state": self.random_state,
                "x_mean": self.x_mean.tolist(), "x_scale": self.x_scale.tolist(), "models": self.models}

    @classmethod
    def from_dict(cls, data: dict) -> "CoefficientGP":
        """Rebuild from :meth:`to_dict` (the kernel hyperparameters are fixed; no optimisation)."""
        out = cls(data["columns"], data["n_coefficients"], data["clip"], data["random_state"])
        out.x_mean, out.x_scale = np.asarray(data["x_mean"]), np.asarray(data["x_scale"])
        out.models = data["models"]
        out._gps = []
        for info in out.models:
            if info is None:
                out._gps.append(None)
                continue
            kernel = _kernel(len(out.columns)).clone_with_theta(np.asarray(info["theta"]))
            gp = GaussianProcessRegressor(kernel, optimizer=None, normalize_y=False)
            out._gps.append(gp.fit(np.asarray(info["Z"]), np.asarray(info["y"])))
        return out
