"""The liquid's excess entropy: S_ex = κ(pair)·H_ex, κ learned robustly from assessed liquids, with σ.

ΔH_mix alone is not a Calphad liquid: a phase diagram needs ``G_ex = H_ex − T·S_ex``. Assessed
liquids carry an excess entropy (the ``b`` of ``L = a + b·T``), noisy but informative: across the
default corpus its sign follows H_ex in most binaries (Kaptay's observation, S_ex = H_ex/τ) and
about one binary in five has the opposite sign. This module learns

.. math::

    S_{ex}(x) = κ(A, B)\\, H_{ex}(x), \\qquad κ = β · z(A, B) \\;/\\; 1000 \\quad [1/K],

with ``z`` a few pair features chosen by the ``form``:

* ``"zero"``: κ = 0 (enthalpy-only liquid, no excess entropy);
* ``"constant"``: z = 1 (Kaptay's S_ex = H_ex/τ with one τ = 1/κ for every binary);
* ``"class"``: one κ per Miedema class (:data:`mixcalphad.chem.miedema.CLASSES` order);
* ``"melting"``: z = 1000 K / mean T_m (Kaptay with τ = k·T_m,mean, k fitted);
* ``"learned"``: z = (1, 1000 K/mean T_m, 1000 K/max T_m, \\|ln V_B^⅔/V_A^⅔\\|, 4ΔH_Miedema(½)/10⁵ J,
  number of transition metals/2).

β is fitted by a Huber loss (scikit-learn's ``HuberRegressor``, no intercept) on every assessed
point with an excess entropy (``SE_J``, J/(mol K)) and 0 < x_B < 1, the points of one binary
weighted to count together as one piece of evidence (weights 1/n_points of that system): the
assessed excess entropies are noisy — many assessments have none, some the "wrong" sign — so a
robust loss and one vote per binary keep a few large T-dependent fits from deciding κ.

σ: the residuals ``r = S_ex − κ H_ex`` of grouped out-of-fold predictions are modelled as
``σ_S(x)² = (c₀ x_A x_B)² + (c₁ H_ex/1 kJ)²`` (J/(mol K)) by non-negative least squares on r²;
:meth:`ExcessEntropyModel.predict` returns it. Validation against the physical baselines on the same
grouped folds is ``benchmarks/excess_entropy.py`` (results in ``benchmarks/README.md``).

Example
-------
>>> import pandas as pd
>>> rows = pd.DataFrame({"system": ["CU-NI"] * 3, "x_B": [0.25, 0.5, 0.75], "T_K": 1873.0,
...                      "HM_MIX_J": [3000.0, 4000.0, 3000.0], "SE_J": [1.0, 4 / 3, 1.0], "kind": "assessed"})
>>> model = ExcessEntropyModel(form="constant", calibrate=False).fit(rows)
>>> round(1.0 / model.kappa("CU", "NI"))       # tau = H/S = 3000 K
3000
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from mixcalphad.chem.binaries import sorted_pair, system_name
from mixcalphad.chem.elements import element_property, supported_elements
from mixcalphad.chem.miedema import CLASSES, miedema_class
from mixcalphad.errors import DatasetError, MixcalphadError

#: The forms of κ(pair) this module fits (see the module docstring).
FORMS = ("zero", "constant", "class", "melting", "learned")
#: Huber's ε (in units of the residual scale) and the L2 penalty on β.
HUBER_EPSILON, HUBER_ALPHA = 1.35, 1e-3


def pair_z(form: str, a, b) -> np.ndarray:
    """The features ``z`` of sorted pairs ``(a[i], b[i])`` for ``form``, shape ``(n, k)``.

    Raises
    ------
    MixcalphadError
        Unknown form.
    UnknownElementError
        An element without a melting point in the element table.
    """
    if form not in FORMS:
        raise MixcalphadError(f"unknown excess-entropy form {form!r}; choose one of {list(FORMS)}")
    a = [str(s) for s in np.atleast_1d(a)]
    b = [str(s) for s in np.atleast_1d(b)]
    n = len(a)
    if form == "zero":
        return np.zeros((n, 0))
    if form == "constant":
        return np.ones((n, 1))
    if form == "class":
        classes = [miedema_class(x, y) for x, y in zip(a, b)]
        return np.array([[c == k for k in CLASSES] for c in classes], dtype=float)
    tm = np.column_stack([element_property(a, "T_melt_K", needed_by="the excess-entropy model"),
                          element_property(b, "T_melt_K", needed_by="the excess-entropy model")])
    if form == "melting":
        return (1000.0 / tm.mean(axis=1))[:, None]
    from mixcalphad.model.pair_features import PAIR_FEATURES, pair_features

    f = pair_features(a, b)
    col = {name: i for i, name in enumerate(PAIR_FEATURES)}
    return np.column_stack([np.ones(n), 1000.0 / tm.mean(axis=1), 1000.0 / tm.max(axis=1),
                            np.abs(f[:, col["log_v23_ratio"]]), f[:, col["miedema_4h05"]] / 1e5,
                            f[:, col["n_transition"]] / 2.0])


def entropy_targets(observations: pd.DataFrame) -> pd.DataFrame:
    """The rows an excess-entropy model learns from: assessed, ``SE_J`` known, 0 < x_B < 1, both
    elements supported. Adds ``a``, ``b`` and ``weight`` (1/points of the system: one vote per binary).

    Raises
    ------
    DatasetError
        No such row (the store predates excess entropies: run ``mixcalphad data build``).
    """
    if "SE_J" not in observations:
        raise DatasetError("the observations have no SE_J column (excess entropy); a store made before "
                           "2026-12-07 lacks it: run `mixcalphad data build` to complete it")
    rows = observations[(observations["kind"] == "assessed") & observations["SE_J"].notna()
                        & (observations["x_B"] > 0) & (observations["x_B"] < 1)]
    supported = set(supported_elements())
    pairs = rows["system"].str.split("-", expand=True) if len(rows) else pd.DataFrame(columns=[0, 1])
    keep = pairs[0].isin(supported) & pairs[1].isin(supported) if len(rows) else pd.Series(dtype=bool)
    rows = rows[keep.to_numpy(dtype=bool)]
    if not len(rows):
        raise DatasetError("no assessed observation with an excess entropy (SE_J) between supported elements")
    rows = rows.assign(a=pairs.loc[rows.index, 0].to_numpy(), b=pairs.loc[rows.index, 1].to_numpy())
    counts = rows.groupby("system")["x_B"].transform("size").to_numpy(dtype=float)
    return rows.assign(weight=1.0 / counts).reset_index(drop=True)


@dataclass(frozen=True)
class EntropyPrediction:
    """κ of one sorted pair and the σ model of S_ex (see :meth:`ExcessEntropyModel.for_pair`).

    Attributes
    ----------
    system : str
        ``"AL-NI"``.
    kappa_per_K : float
        κ = S_ex/H_ex, 1/K.
    sigma_c0_J_K, sigma_c1_J_K : float
        σ_S(x)² = (c₀ x_A x_B)² + (c₁ H_ex/1 kJ)², J/(mol K).
    form : str
        The model's form.
    """

    system: str
    kappa_per_K: float
    sigma_c0_J_K: float
    sigma_c1_J_K: float
    form: str

    def sigma(self, x_B, H_J) -> np.ndarray:
        """σ of S_ex (J/(mol K)) at ``x_B`` where the excess enthalpy is ``H_J`` (J/mol)."""
        x = np.asarray(x_B, dtype=float)
        return np.hypot(self.sigma_c0_J_K * x * (1.0 - x), self.sigma_c1_J_K * np.asarray(H_J, dtype=float) / 1000.0)


class ExcessEntropyModel:
    """S_ex = κ(pair)·H_ex with κ fitted robustly on assessed liquids (see the module docstring).

    Parameters
    ----------
    form : {"zero", "constant", "class", "melting", "learned"}
        The features κ depends on (default ``"class"``).
    calibrate : bool
        Fit the σ model on grouped out-of-fold residuals (``n_folds``); False: σ from the in-sample
        residuals (faster, optimistic).
    n_folds : int
        Grouped folds of the σ calibration.
    random_state : int
        Unused by the deterministic fit; kept for the scikit-learn convention.

    Attributes
    ----------
    coef_ : numpy.ndarray
        β (J/K per kJ of H_ex per unit of z).
    sigma_c0_J_K_, sigma_c1_J_K_ : float
        The σ model.
    n_systems_, n_points_ : int
        Binaries and points fitted.
    """

    def __init__(self, form: str = "class", *, calibrate: bool = True, n_folds: int = 5, random_state: int = 0):
        self.form = form
        self.calibrate = calibrate
        self.n_folds = n_folds
        self.random_state = random_state

    # ---------------------------------------------------------------- fitting
    def _z(self, rows: pd.DataFrame) -> np.ndarray:
        """``z`` of every row, computed once per system."""
        first = rows.drop_duplicates("system")
        z = pair_z(self.form, first["a"].to_numpy(), first["b"].to_numpy())
        position = pd.Series(np.arange(len(first)), index=first["system"].to_numpy())
        return z[position[rows["system"].to_numpy()].to_numpy()]

    def _beta(self, rows: pd.DataFrame) -> np.ndarray:
        z = self._z(rows)
        if z.shape[1] == 0:
            return np.zeros(0)
        from sklearn.linear_model import HuberRegressor

        X = z * (rows["HM_MIX_J"].to_numpy(dtype=float) / 1000.0)[:, None]
        y, w = rows["SE_J"].to_numpy(dtype=float), rows["weight"].to_numpy()
        sw = np.sqrt(w)
        exact = np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)[0]
        if np.sqrt(np.average((y - X @ exact) ** 2, weights=w)) <= 1e-9 * (np.abs(y).max() + 1e-12):
            return exact  # the data are exactly of this form: no outlier to be robust against
        reg = HuberRegressor(epsilon=HUBER_EPSILON, alpha=HUBER_ALPHA, fit_intercept=False, max_iter=2000)
        reg.fit(X, y, sample_weight=w)
        return np.asarray(reg.coef_, dtype=float)

    def _kappa_rows(self, beta: np.ndarray, rows: pd.DataFrame) -> np.ndarray:
        if beta.size == 0:
            return np.zeros(len(rows))
        return self._z(rows) @ beta / 1000.0

    def fit(self, observations: pd.DataFrame) -> "ExcessEntropyModel":
        """Fit κ and the σ model on the assessed excess entropies of ``observations``.

        Raises
        ------
        DatasetError
            No usable row (see :func:`entropy_targets`).
        """
        rows = entropy_targets(observations)
        self.coef_ = self._beta(rows)
        residual = rows["SE_J"].to_numpy() - self._kappa_rows(self.coef_, rows) * rows["HM_MIX_J"].to_numpy()
        systems = rows["system"].unique()
        if self.calibrate and len(systems) >= max(2, self.n_folds):
            from sklearn.model_selection import GroupKFold

            residual = np.empty(len(rows))
            for train, test in GroupKFold(n_splits=self.n_folds).split(rows, groups=rows["system"]):
                beta = self._beta(rows.iloc[train])
                part = rows.iloc[test]
                residual[test] = part["SE_J"].to_numpy() - self._kappa_rows(beta, part) * part["HM_MIX_J"].to_numpy()
        self.sigma_c0_J_K_, self.sigma_c1_J_K_ = _sigma_model(rows, residual)
        self.n_systems_, self.n_points_ = int(len(systems)), int(len(rows))
        return self

    # ---------------------------------------------------------------- prediction
    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise MixcalphadError("this ExcessEntropyModel is not fitted yet: call fit(observations) first")

    def kappa(self, a: str, b: str) -> float:
        """κ = S_ex/H_ex of the pair, 1/K (τ = 1/κ is Kaptay's temperature)."""
        self._check_fitted()
        pa, pb = sorted_pair(a, b)
        if self.coef_.size == 0:
            return 0.0
        return float(pair_z(self.form, [pa], [pb])[0] @ self.coef_ / 1000.0)

    def for_pair(self, a: str, b: str) -> EntropyPrediction:
        """κ and the σ model of one pair."""
        return EntropyPrediction(system=system_name(a, b), kappa_per_K=self.kappa(a, b),
                                 sigma_c0_J_K=self.sigma_c0_J_K_, sigma_c1_J_K=self.sigma_c1_J_K_, form=self.form)

    def predict(self, a: str, b: str, x_B, H_J, *, return_std: bool = False):
        """S_ex (J/(mol K)) at ``x_B`` (mole fraction of the sorted pair's second element) for the
        excess enthalpy ``H_J`` (J/mol) there; with ``return_std`` also its σ."""
        pred = self.for_pair(a, b)
        S = pred.kappa_per_K * np.asarray(H_J, dtype=float)
        return (S, pred.sigma(x_B, H_J)) if return_std else S

    def describe(self) -> str:
        """One ASCII line for provenance headers."""
        self._check_fitted()
        beta = ", ".join(f"{v:.4g}" for v in self.coef_) or "-"
        return (f"ExcessEntropyModel form={self.form}: S_ex = kappa*H_ex, kappa = beta.z/1000 1/K, beta = [{beta}], "
                f"Huber fit on {self.n_systems_} assessed binaries; sigma_S^2 = ({self.sigma_c0_J_K_:.3g} xA xB)^2 "
                f"+ ({self.sigma_c1_J_K_:.3g} H/kJ)^2 J/mol/K")

    def to_dict(self) -> dict:
        self._check_fitted()
        return {"form": self.form, "coef": [float(v) for v in self.coef_], "sigma_c0_J_K": self.sigma_c0_J_K_,
                "sigma_c1_J_K": self.sigma_c1_J_K_, "n_systems": self.n_systems_, "n_points": self.n_points_,
                "calibrate": self.calibrate, "n_folds": self.n_folds}

    @classmethod
    def from_dict(cls, data: Mapping) -> "ExcessEntropyModel":
        model = cls(form=data["form"], calibrate=bool(data.get("calibrate", True)), n_folds=int(data.get("n_folds", 5)))
        model.coef_ = np.asarray(data["coef"], dtype=float)
        model.sigma_c0_J_K_, model.sigma_c1_J_K_ = float(data["sigma_c0_J_K"]), float(data["sigma_c1_J_K"])
        model.n_systems_, model.n_points_ = int(data["n_systems"]), int(data["n_points"])
        return model


def _sigma_model(rows: pd.DataFrame, residual: np.ndarray) -> tuple[float, float]:
    """``(c0, c1)`` of σ_S² = (c0 x_A x_B)² + (c1 H/kJ)², by non-negative least squares on r² (one
    vote per binary)."""
    from scipy.optimize import nnls

    x = rows["x_B"].to_numpy(dtype=float)
    A = np.column_stack([(x * (1 - x)) ** 2, (rows["HM_MIX_J"].to_numpy(dtype=float) / 1000.0) ** 2])
    sw = np.sqrt(rows["weight"].to_numpy())
    coef, _ = nnls(A * sw[:, None], residual**2 * sw)
    return float(math.sqrt(coef[0])), float(math.sqrt(coef[1]))


#: Package file of the shipped excess-entropy model (``scripts/build_default_model.py`` writes it).
DEFAULT_ENTROPY_MODEL = "default_entropy_model.json"
#: The form the shipped model uses (chosen by ``benchmarks/excess_entropy.py`` and the liquidus
#: benchmark; see ``benchmarks/README.md``).
DEFAULT_FORM = "class"


def load_default_entropy_model() -> ExcessEntropyModel:
    """The shipped :class:`ExcessEntropyModel`, fitted on the default corpus (a fresh object each call).

    Raises
    ------
    MixcalphadError
        The package file is missing or unreadable.
    """
    import json
    from importlib import resources

    try:
        with resources.files("mixcalphad.data").joinpath(DEFAULT_ENTROPY_MODEL).open("r", encoding="utf-8") as fh:
            return ExcessEntropyModel.from_dict(json.load(fh))
    except (OSError, ValueError, KeyError) as exc:
        raise MixcalphadError(f"cannot load the shipped excess-entropy model {DEFAULT_ENTROPY_MODEL}: {exc}; "
                              "rebuild it with scripts/build_default_model.py") from None
