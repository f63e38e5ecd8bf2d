"""The ΔH_mix predictor: Miedema's liquid model plus learned Redlich–Kister coefficients, with σ.

Model
-----
A binary is oriented as (P, Q), lower Miedema φ* first (:func:`~mixcalphad.model.pair_features.orient_pairs`);
with t = x_P − x_Q::

    ΔH(x) = ΔH_Miedema(x) + x_P x_Q (c0 + c1 t + c2 t²)                         (J/mol of atoms)

Every observed curve is reduced to its coefficients (:mod:`mixcalphad.model.curves`; an AIMD point
fixes c0 only) and the coefficients are learned from pair features (:mod:`mixcalphad.model.pair_features`)
by two learners (:mod:`mixcalphad.model.learners`): LightGBM with a Huber loss, one model per
coefficient, and a zero-mean Gaussian process on c0 and c1. The coefficients are their ``blend``
(c2 from LightGBM alone); curve weights are 1/(curves of the system), values flagged with a
``caution`` included at full weight (the Huber loss is their robust treatment; down-weighting them
was measured worse, see ``benchmarks/predictor_variants.py``). The prediction is exactly a
Redlich–Kister polynomial: smooth, symmetric under (A, x_B) ↔ (B, 1 − x_B) and 0 at x = 0 and 1.

Uncertainty
-----------
Each coefficient has a raw σ: the GP's predictive standard deviation for c0 and c1 (wide for pairs
unlike the training data, narrow where data are dense), the out-of-fold RMS error for c2. At x,
``σ_raw = x_P x_Q · sqrt(Σ (σ_n tⁿ)²)``. A conformal factor per Miedema class (split-conformal
quantile of |ΔH − ΔĤ|/σ_raw on grouped out-of-fold points, ``inner_folds`` folds by system) scales
σ_raw so that the ±z·σ interval covers ``coverage`` of the held-out points. The same factors scale
the coefficient σ returned by :meth:`HMixRegressor.predict_rk`.

Example
-------
>>> model = HMixRegressor(random_state=0).fit(observations)              # doctest: +SKIP
>>> mean, std = model.predict("AL", "NI", [0.25, 0.5], return_std=True)  # J/mol  # doctest: +SKIP
>>> L, sigma_L = model.predict_rk("AL", "NI")                            # doctest: +SKIP
"""
from __future__ import annotations

import hashlib
import logging

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GroupKFold
from sklearn.utils.validation import check_is_fitted
from tqdm.auto import tqdm

from mixcalphad.chem.binaries import normalize_symbol
from mixcalphad.chem.elements import supported_elements
from mixcalphad.chem.miedema import CLASSES, miedema_pairs
from mixcalphad.errors import CompositionError, MixcalphadError
from mixcalphad.model.curves import COEFFICIENTS, curve_coefficients, curve_index, oriented_points, rk_powers
from mixcalphad.model.features import pairs_of
from mixcalphad.model.learners import CoefficientBoosters, CoefficientGP
from mixcalphad.model.pair_features import GP_FEATURES, PAIR_FEATURES, feature_columns, orient_pairs, pair_features

log = logging.getLogger(__name__)

DEFAULT_MODEL_FILE = "default_model.json.gz"
#: Fewest out-of-fold points a Miedema class needs for its own conformal factor (else the global one).
MIN_CLASS_POINTS = 30


class ModelError(MixcalphadError):
    """A model file that cannot be used."""


class ModelNotFittedError(ModelError, NotFittedError):
    """A model used before :meth:`HMixRegressor.fit` (scikit-learn's ``NotFittedError`` too)."""


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


def miedema_class_of(X: np.ndarray) -> np.ndarray:
    """Miedema class of each row of a pair-feature matrix (from its transition-metal count)."""
    n = X[:, PAIR_FEATURES.index("n_transition")].astype(int)
    return np.array(CLASSES)[2 - n]


class HMixRegressor(BaseEstimator):
    """Miedema + learned Redlich–Kister residual of liquid ΔH_mix, with calibrated σ (J/mol of atoms).

    Parameters
    ----------
    lgbm_params : dict, optional
        LightGBM parameters of the coefficient models (default
        :data:`~mixcalphad.model.learners.DEFAULT_LGBM_PARAMS`).
    huber_delta : float
        Huber transition point as a multiple of each coefficient's robust scale.
    blend : float
        Weight of LightGBM in the c0, c1 blend (the GP gets 1 − blend); 1 turns the GP off (σ of c0, c1
        then constant out-of-fold RMS errors, not adaptive).
    gp_features : sequence of str
        Pair features of the Gaussian process.
    gp_clip : float or None
        The GP's c0 targets are winsorized at median ± gp_clip × robust scale (None: not at all), since
        its Gaussian likelihood is not robust to the heavy-tailed coefficients.
    inner_folds : int
        Folds, grouped by system, of the out-of-fold residuals that calibrate σ.
    coverage : float
        Nominal coverage of the ±z·σ interval (0.95 → z = 1.96).
    random_state : int
        Seed of every random choice.
    progress : bool or None
        Progress bar; None shows it only on a terminal.

    Attributes
    ----------
    boosters_ : CoefficientBoosters
    gp_ : CoefficientGP or None
    tau_ : numpy.ndarray
        Out-of-fold RMS error of c0, c1, c2 (J/mol of atoms), weighted by curve.
    scale_ : dict
        Conformal factor per Miedema class (and ``"all"``).
    inner_rmse_ : float
        Grouped out-of-fold RMSE of ΔH on the training points (J/mol of atoms).
    training_hash_ : str
    n_systems_, n_points_, n_curves_ : int
    version_ : str
    """

    def __init__(self, lgbm_params: dict | None = None, huber_delta: float = 1.0, blend: float = 0.5,
                 gp_features=GP_FEATURES, gp_clip: float | None = 3.0, inner_folds: int = 5, coverage: float = 0.95, random_state: int = 0,
                 progress: bool | None = None):
        self.lgbm_params = lgbm_params
        self.huber_delta = huber_delta
        self.blend = blend
        self.gp_features = gp_features
        self.gp_clip = gp_clip
        self.inner_folds = inner_folds
        self.coverage = coverage
        self.random_state = random_state
        self.progress = progress

    # ------------------------------------------------------------------ fitting
    def _check_options(self) -> None:
        if not 0.5 < self.coverage < 1:
            raise MixcalphadError(f"coverage must lie in (0.5, 1), got {self.coverage}")
        if not 0.0 <= self.blend <= 1.0:
            raise MixcalphadError(f"blend must lie in [0, 1], got {self.blend}")
        if not self.huber_delta > 0:
            raise MixcalphadError(f"huber_delta must be positive, got {self.huber_delta}")
        if int(self.inner_folds) < 2:
            raise MixcalphadError(f"inner_folds must be at least 2, got {self.inner_folds}")
        feature_columns(self.gp_features)

    def _fit_learners(self, X, curves):
        C = curves[list(COEFFICIENTS)].to_numpy(float)
        boosters = CoefficientBoosters(self.lgbm_params, self.huber_delta, self.random_state).fit(
            X, C, curves["weight"].to_numpy(float))
        gp = None
        if self.blend < 1.0:
            gp = CoefficientGP(feature_columns(self.gp_features), 2, self.gp_clip, self.random_state).fit(
                X, C, curves["system"].to_numpy())
        return boosters, gp

    def _raw(self, boosters, gp, X, tau):
        """Blended coefficients and their raw σ (n, 3), J/mol of atoms, in the (P, Q) orientation."""
        mean = boosters.predict(X)
        sd = np.tile(np.asarray(tau, dtype=float), (len(X), 1))
        if gp is not None:
            g_mean, g_std = gp.predict(X)
            mean[:, :2] = self.blend * mean[:, :2] + (1.0 - self.blend) * g_mean
            fitted = np.array([m is not None for m in gp.models])  # a GP needs MIN_CURVES systems
            sd[:, :2] = np.where(fitted, g_std, sd[:, :2])
        return mean, sd

    def fit(self, observations: pd.DataFrame, y=None) -> "HMixRegressor":
        """Fit on observations (columns ``system``, ``x_B``, ``HM_MIX_J``, ``kind``, ``source``, ``T_K``).

        Raises
        ------
        MixcalphadError
            An invalid option, or fewer usable systems than ``inner_folds``.
        """
        self._check_options()
        rows = training_rows(observations)
        n_systems = rows["system"].nunique()
        if n_systems < self.inner_folds:
            raise MixcalphadError(f"need at least {self.inner_folds} binary systems to fit, got {n_systems}")
        curves = curve_coefficients(rows)
        X = pair_features(curves["P"], curves["Q"])
        C = curves[list(COEFFICIENTS)].to_numpy(float)
        folds = list(GroupKFold(n_splits=int(self.inner_folds)).split(X, groups=curves["system"]))
        oof_mean, oof_sd = np.zeros_like(C), np.zeros_like(C)
        bar = tqdm(folds, desc="fit", unit="fold", leave=False,
                   disable=None if self.progress is None else not self.progress)
        for train, test in bar:
            boosters, gp = self._fit_learners(X[train], curves.iloc[train])
            oof_mean[test], oof_sd[test] = self._raw(boosters, gp, X[test], np.full(3, np.nan))
        weight = curves["weight"].to_numpy(float)
        tau = []
        for k in range(C.shape[1]):
            known = np.isfinite(C[:, k])
            err = (oof_mean[known, k] - C[known, k])**2
            tau.append(float(np.sqrt(np.average(err, weights=weight[known]))) if known.any() else 0.0)
        self.tau_ = np.asarray(tau)
        oof_sd = np.where(np.isnan(oof_sd), self.tau_, oof_sd)  # no GP for a coefficient: its OOF RMS error
        # point-level out-of-fold residuals and raw σ
        points = oriented_points(rows)
        which = curve_index(rows)
        basis = rk_powers(points["t"].to_numpy())
        xx = points["xx"].to_numpy()
        pred = points["miedema_J"].to_numpy() + xx * np.sum(oof_mean[which] * basis, axis=1)
        sigma_raw = xx * np.sqrt(np.sum((oof_sd[which] * basis)**2, axis=1))
        residual = np.abs(rows["HM_MIX_J"].to_numpy(float) - pred)
        classes = miedema_class_of(X)[which]
        self.scale_ = self._conformal_scales(residual / np.maximum(sigma_raw, 1e-9), classes)
        self.inner_rmse_ = float(np.sqrt(np.mean(residual**2)))
        self.boosters_, self.gp_ = self._fit_learners(X, curves)
        self.training_hash_ = dataset_hash(rows)
        self.n_systems_, self.n_points_, self.n_curves_ = int(n_systems), int(len(rows)), int(len(curves))
        from mixcalphad import __version__

        self.version_ = f"{__version__}+{self.training_hash_[:8]}"
        return self

    def _conformal_scales(self, scores: np.ndarray, classes: np.ndarray) -> dict:
        """Factor s per class so that |r| ≤ s·z·σ_raw on ``coverage`` of its out-of-fold points."""
        z = norm.ppf(0.5 + self.coverage / 2)

        def factor(values):
            n = len(values)
            level = min(1.0, np.ceil((n + 1) * self.coverage) / n)  # split-conformal quantile
            return float(np.quantile(values, level, method="higher") / z)

        out = {"all": factor(scores)}
        for name in CLASSES:
            inside = classes == name
            out[name] = factor(scores[inside]) if inside.sum() >= MIN_CLASS_POINTS else out["all"]
        return out

    # ------------------------------------------------------------------ prediction
    def _check_fitted(self) -> None:
        try:
            check_is_fitted(self, ["boosters_", "scale_"])
        except NotFittedError:
            raise ModelNotFittedError("this HMixRegressor is not fitted yet: call fit() or load a model") from None

    def predict_rk(self, a, b, return_std: bool = True):
        """Redlich–Kister coefficients L0, L1, L2 of the learned excess over Miedema, sorted pair.

        For the alphabetically sorted pair (A, B) of each row::

            ΔH(x) = ΔH_Miedema(x) + x_A x_B (L0 + L1 (x_A − x_B) + L2 (x_A − x_B)²)

        (J/mol of atoms; enthalpy only, no temperature dependence). ``sigma`` is the calibrated
        standard deviation of each coefficient, taken independent: the σ of ΔH at x that
        :meth:`predict` returns is ``x_A x_B sqrt(Σ (σ_n (x_A − x_B)ⁿ)²)``.

        Parameters
        ----------
        a, b : str or array_like of str
            Element symbols in any order.
        return_std : bool
            Also return σ.

        Returns
        -------
        L or (L, sigma) : numpy.ndarray
            Shape (3,) for two symbols, (n, 3) for arrays; J/mol of atoms.
        """
        self._check_fitted()
        scalar = isinstance(a, str) and isinstance(b, str)
        p, q, swapped = orient_pairs(a, b)
        X = pair_features(p, q)
        mean, sd = self._raw(self.boosters_, self.gp_, X, self.tau_)
        factor = np.array([self.scale_[c] for c in miedema_class_of(X)])
        sd = sd * factor[:, None]
        # the sorted pair's A is Q where P > Q alphabetically: t_sorted = −t flips the odd term
        flip = np.where(p > q, -1.0, 1.0)
        mean[:, 1] *= flip
        if scalar:
            mean, sd = mean[0], sd[0]
        return (mean, sd) if return_std else mean

    def predict_pairs(self, a, b, x_B, return_std: bool = False):
        """ΔH_mix (J/mol of atoms) for arrays of pairs: row i is a[i]–b[i] at mole fraction x_B[i] of b[i]."""
        self._check_fitted()
        a = np.array([normalize_symbol(s) for s in np.atleast_1d(np.asarray(a, dtype=object))], dtype=object)
        b = np.array([normalize_symbol(s) for s in np.atleast_1d(np.asarray(b, dtype=object))], dtype=object)
        x = np.broadcast_to(np.asarray(x_B, dtype=float), a.shape).astype(float)
        if np.any(~np.isfinite(x)) or np.any((x < 0) | (x > 1)):
            raise CompositionError(f"mole fractions must lie in [0, 1], got {x[~((x >= 0) & (x <= 1))][:5]}")
        if a.size == 0:
            return (np.zeros(0), np.zeros(0)) if return_std else np.zeros(0)
        swap = a > b  # canonical orientation, so (A, B, x) and (B, A, 1 − x) give identical numbers
        first, second = np.where(swap, b, a), np.where(swap, a, b)
        x_b = np.round(np.where(swap, 1.0 - x, x), 12)
        names = np.char.add(np.char.add(first.astype(str), "-"), second.astype(str))
        unique, first_row, inverse = np.unique(names, return_index=True, return_inverse=True)
        L, sd = self.predict_rk(first[first_row], second[first_row], return_std=True)
        basis = rk_powers(1.0 - 2.0 * x_b)
        xx = x_b * (1.0 - x_b)
        mean = miedema_pairs(first, second, x_b) + xx * np.sum(L[inverse] * basis, axis=1)
        if not return_std:
            return mean
        return mean, xx * np.sqrt(np.sum((sd[inverse] * basis)**2, axis=1))

    def predict(self, a, b=None, x_B=None, return_std: bool = False):
        """ΔH_mix of the liquid in J/mol of atoms, with σ if ``return_std``.

        Parameters
        ----------
        a : str or DataFrame
            First element — or a frame with ``system`` and ``x_B`` columns (then ``b``, ``x_B`` unused).
        b : str
            Second element.
        x_B : float or array_like
            Mole fraction(s) of ``b`` in [0, 1].

        Returns
        -------
        mean or (mean, std) : numpy.ndarray
            Same shape as ``x_B`` (or one value per row of the frame).
        """
        if isinstance(a, pd.DataFrame):
            return self.predict_pairs(*pairs_of(a), return_std=return_std)
        if b is None or x_B is None:
            raise MixcalphadError("predict needs (a, b, x_B) or a DataFrame with system and x_B")
        xs = np.asarray(x_B, dtype=float)
        flat = xs.reshape(-1)
        out = self.predict_pairs(np.full(flat.shape, a, dtype=object), np.full(flat.shape, b, dtype=object),
                                 flat, return_std=return_std)
        if return_std:
            return out[0].reshape(xs.shape), out[1].reshape(xs.shape)
        return out.reshape(xs.shape)

    def describe(self) -> dict:
        """Provenance of the fitted model (JSON-ready)."""
        import lightgbm
        import sklearn

        self._check_fitted()
        return {"model": "Miedema + RK residual (LightGBM Huber + GP blend)", "version": self.version_,
                "features": list(PAIR_FEATURES), "gp_features": list(self.gp_features), "blend": self.blend,
                "coverage": self.coverage, "conformal_scale": dict(self.scale_), "tau_J": self.tau_.tolist(),
                "inner_rmse_J": self.inner_rmse_, "training_hash": self.training_hash_,
                "n_systems": self.n_systems_, "n_points": self.n_points_, "n_curves": self.n_curves_,
                "gp_kernels": self.gp_.kernels() if self.gp_ is not None else [],
                "lightgbm": lightgbm.__version__, "scikit-learn": sklearn.__version__}

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict:
        """Everything needed to predict, as plain JSON types (see :mod:`mixcalphad.model.persistence`)."""
        from mixcalphad.model.persistence import model_to_dict

        self._check_fitted()
        return model_to_dict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "HMixRegressor":
        from mixcalphad.model.persistence import model_from_dict

        return model_from_dict(cls, data)

    def save(self, path, *, force: bool = False):
        """Write the model as gzipped JSON, atomically; refuses to overwrite unless ``force``."""
        from mixcalphad.model.persistence import save_model

        return save_model(self, path, force=force)

    @classmethod
    def load(cls, path) -> "HMixRegressor":
        """Read a model written by :meth:`save`."""
        from mixcalphad.model.persistence import load_model

        return load_model(cls, path)
