"""Accuracy of ΔH_mix predictors against the stored observations (kJ/mol in every table).

:func:`miedema_baseline` compares Miedema's model with the data; :func:`nested_cross_validation`
measures the regressor on binary systems it has never seen (outer folds grouped by system, the same
folds for the model and for Miedema), with bootstrap-over-systems 95 % intervals.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.base import clone
from sklearn.model_selection import GroupKFold

from mixcalphad.chem.binaries import parse_system
from mixcalphad.chem.elements import MIEDEMA_COLUMNS, supported_elements
from mixcalphad.model.metrics import bootstrap_errors, error_table, format_interval
from mixcalphad.chem.miedema import miedema_for_observations
from mixcalphad.errors import EvaluationError


@dataclass(frozen=True)
class BaselineReport:
    """Miedema's errors against observations.

    Attributes
    ----------
    assessed : DataFrame
        RMSE/MAE (kJ/mol) against assessed data, overall and per Miedema class.
    aimd : DataFrame
        RMSE/MAE (kJ/mol) against AIMD data, overall and per refractory element.
    points : DataFrame
        Every compared point with ``HM_MIX_kJ``, ``miedema_kJ`` and ``miedema_class``.
    left_out : list of str
        Systems without Miedema parameters for one of their elements.
    """

    assessed: pd.DataFrame
    aimd: pd.DataFrame
    points: pd.DataFrame
    left_out: list

    def to_dict(self) -> dict:
        return {"assessed": self.assessed.to_dict("records"), "aimd": self.aimd.to_dict("records"),
                "left_out": self.left_out}


def _refractory(system: str) -> str:
    a, b = parse_system(system)
    for element in ("IR", "OS", "RE", "W"):
        if element in (a, b):
            return element
    return "other"


def miedema_baseline(observations: pd.DataFrame, **options) -> BaselineReport:
    """Compare Miedema's liquid model (options as in :func:`~mixcalphad.chem.miedema.miedema_hmix`)
    with assessed and AIMD observations; systems lacking Miedema parameters are listed, not filled.
    """
    known = set(supported_elements(MIEDEMA_COLUMNS))
    usable = observations["system"].map(lambda s: set(parse_system(s)) <= known)
    left_out = sorted(set(observations.loc[~usable, "system"]))
    points = observations[usable].copy()
    points = points.join(miedema_for_observations(points, **options))
    points["HM_MIX_kJ"] = points["HM_MIX_J"] / 1000.0
    points["miedema_kJ"] = points["miedema_J"] / 1000.0
    assessed = error_table(points[points["kind"] == "assessed"], "HM_MIX_kJ", {"Miedema": "miedema_kJ"},
                           by="miedema_class")
    aimd_points = points[points["kind"] == "aimd"].assign(refractory=lambda f: f["system"].map(_refractory))
    aimd = error_table(aimd_points, "HM_MIX_kJ", {"Miedema": "miedema_kJ"}, by="refractory")
    return BaselineReport(assessed=assessed, aimd=aimd, points=points, left_out=left_out)


@dataclass(frozen=True)
class CVResult:
    """Held-out predictions of a nested, system-grouped cross-validation and the AIMD test.

    Attributes
    ----------
    points : DataFrame
        One row per held-out observation: ``system``, ``x_B``, ``kind``, ``source``, ``fold``,
        ``miedema_class``, ``data`` (``"caution"`` where the source table flags the value, else
        ``"unflagged"``), ``HM_MIX_kJ`` (observed), ``pred_kJ``, ``sigma_kJ``, ``miedema_kJ``.
    aimd_without : DataFrame
        The AIMD points predicted by a model trained with no AIMD data and no data of any AIMD system.
    folds : DataFrame
        Per outer fold: test systems and the model's inner out-of-fold RMSE (kJ/mol).
    coverage : float
        Nominal coverage of the ±z·σ interval.
    n_boot : int
        Bootstrap resamples (over systems) of every interval.
    """

    points: pd.DataFrame
    aimd_without: pd.DataFrame
    folds: pd.DataFrame
    coverage: float
    n_boot: int = 1000

    def _interval_rows(self, frame: pd.DataFrame, predictions: dict, by: str | None, reference: str | None):
        groups = [("all", frame)]
        if by is not None:
            groups += [(str(name), sub) for name, sub in frame.groupby(by, sort=True)]
        return [{"group": name, **bootstrap_errors(sub, "HM_MIX_kJ", predictions, reference=reference,
                                                   n_boot=self.n_boot)} for name, sub in groups]

    def interval_table(self, by: str = "miedema_class") -> pd.DataFrame:
        """RMSE, median absolute error (kJ/mol) and model/Miedema RMSE ratio, each with its 95 %
        bootstrap-over-systems interval, overall and per ``by`` group (``"est [low, high]"`` text):
        per Miedema class by default, or ``by="data"`` for values the source tables flag with a
        caution (extrapolated nitrogen liquids, phase-diagram-only T terms, …) against the rest."""
        rows = self._interval_rows(self.points, {"model": "pred_kJ", "Miedema": "miedema_kJ"}, by, "Miedema")
        return pd.DataFrame([{k: format_interval(v) if isinstance(v, tuple) else v for k, v in row.items()}
                             for row in rows])

    def concentration_table(self, top: int = 5) -> pd.DataFrame:
        """The ``top`` systems with the largest share of the model's squared error (and their share of
        Miedema's): how heavy-tailed the held-out errors are."""
        sq = self.points.assign(model=(self.points["pred_kJ"] - self.points["HM_MIX_kJ"])**2,
                                Miedema=(self.points["miedema_kJ"] - self.points["HM_MIX_kJ"])**2)
        per_system = sq.groupby("system")[["model", "Miedema"]].sum()
        share = (per_system / per_system.sum()).sort_values("model", ascending=False).head(top)
        classes = self.points.groupby("system")["miedema_class"].first()
        flagged = self.points.groupby("system")["data"].first()
        return pd.DataFrame({"system": share.index, "miedema_class": classes[share.index].to_numpy(),
                             "data": flagged[share.index].to_numpy(),
                             "model share": share["model"].to_numpy(), "Miedema share": share["Miedema"].to_numpy()})

    def accuracy_table(self) -> pd.DataFrame:
        """RMSE/MAE (kJ/mol) of the model and of Miedema, all held-out points and per Miedema class."""
        return error_table(self.points, "HM_MIX_kJ", {"model": "pred_kJ", "Miedema": "miedema_kJ"},
                           by="miedema_class")

    def extremum_table(self) -> pd.DataFrame:
        """Errors (kJ/mol) at each held-out curve's extremum (largest |ΔH_obs|), per Miedema class."""
        curves = self.points.groupby(["system", "source"], sort=False)
        rows = self.points.loc[curves["HM_MIX_kJ"].apply(lambda v: v.abs().idxmax()).to_numpy()]
        return error_table(rows, "HM_MIX_kJ", {"model": "pred_kJ", "Miedema": "miedema_kJ"}, by="miedema_class")

    def coverage_table(self) -> pd.DataFrame:
        """Measured coverage of the nominal interval and mean σ (kJ/mol): overall, per class, AIMD."""
        z = norm.ppf(0.5 + self.coverage / 2)

        def row(name, frame):
            inside = (frame["HM_MIX_kJ"] - frame["pred_kJ"]).abs() <= z * frame["sigma_kJ"]
            return {"group": name, "points": len(frame), "nominal": self.coverage,
                    "covered": float(inside.mean()) if len(frame) else float("nan"),
                    "mean sigma kJ": float(frame["sigma_kJ"].mean()) if len(frame) else float("nan")}

        rows = [row("all", self.points), *(row(n, f) for n, f in self.points.groupby("miedema_class"))]
        rows.append(row("AIMD (other AIMD in training)", self.points[self.points["kind"] == "aimd"]))
        rows.append(row("AIMD (trained without AIMD)", self.aimd_without))
        return pd.DataFrame(rows)

    def aimd_frame(self) -> pd.DataFrame:
        """The AIMD points with Miedema, the model without AIMD and the model with the other AIMD systems."""
        with_aimd = self.points[self.points["kind"] == "aimd"].set_index("system")
        without = self.aimd_without.set_index("system")
        return with_aimd[["HM_MIX_kJ", "miedema_kJ"]].assign(
            pred_with_kJ=with_aimd["pred_kJ"], pred_without_kJ=without["pred_kJ"].reindex(with_aimd.index),
            refractory=[_refractory(s) for s in with_aimd.index]).reset_index()

    def aimd_table(self) -> pd.DataFrame:
        """RMSE (kJ/mol) on the AIMD points per refractory element: Miedema, model trained without
        AIMD, model in grouped CV with the other AIMD systems in training (the paper's 12.8 → 9.5)."""
        return error_table(self.aimd_frame(), "HM_MIX_kJ", {"Miedema": "miedema_kJ", "without AIMD": "pred_without_kJ",
                                                            "with other AIMD": "pred_with_kJ"}, by="refractory")

    def aimd_interval_table(self) -> pd.DataFrame:
        """AIMD RMSE and median absolute error (kJ/mol) with 95 % bootstrap intervals."""
        rows = self._interval_rows(self.aimd_frame(), {"Miedema": "miedema_kJ", "without AIMD": "pred_without_kJ",
                                                       "with other AIMD": "pred_with_kJ"}, None, "Miedema")
        return pd.DataFrame([{k: format_interval(v) if isinstance(v, tuple) else v for k, v in row.items()}
                             for row in rows])

    def report(self) -> str:
        """All tables as plain text (kJ/mol)."""
        fmt = "{:.2f}".format
        n_sys = self.points["system"].nunique()
        parts = [
            (f"held-out accuracy, {len(self.folds)} outer folds grouped by system ({n_sys} systems, "
             f"{len(self.points)} points), kJ/mol, 95 % bootstrap-over-systems intervals",
             self.interval_table().T.reset_index()),
            ("RMSE/MAE, kJ/mol", self.accuracy_table()),
            ("held-out accuracy by data caution (flagged in the source table or not), kJ/mol",
             self.interval_table("data").T.reset_index()),
            ("systems holding the largest shares of the squared error", self.concentration_table()),
            ("extremum of each held-out curve (largest |ΔH_obs|), kJ/mol", self.extremum_table()),
            (f"coverage of the nominal {self.coverage:.0%} interval on held-out points", self.coverage_table()),
            ("AIMD points (Bizot 2026), RMSE/MAE kJ/mol", self.aimd_table()),
            ("AIMD points, 95 % bootstrap intervals", self.aimd_interval_table().T.reset_index()),
        ]
        return "\n\n".join(f"{title}\n{table.to_string(index=False, float_format=fmt)}" for title, table in parts)

    def to_dict(self) -> dict:
        return {"intervals": self._interval_rows(self.points, {"model": "pred_kJ", "Miedema": "miedema_kJ"},
                                                 "miedema_class", "Miedema"),
                "accuracy": self.accuracy_table().to_dict("records"),
                "caution": self._interval_rows(self.points, {"model": "pred_kJ", "Miedema": "miedema_kJ"}, "data",
                                               "Miedema"),
                "concentration": self.concentration_table().to_dict("records"),
                "extremum": self.extremum_table().to_dict("records"),
                "coverage": self.coverage_table().to_dict("records"),
                "aimd": self.aimd_table().to_dict("records"),
                "folds": self.folds.to_dict("records")}


def _held_out(estimator, test: pd.DataFrame) -> pd.DataFrame:
    mean, std = estimator.predict(test, return_std=True)
    miedema = miedema_for_observations(test)
    return pd.DataFrame({
        "system": test["system"].to_numpy(), "x_B": test["x_B"].to_numpy(), "kind": test["kind"].to_numpy(),
        "source": test["source"].to_numpy(), "miedema_class": miedema["miedema_class"].to_numpy(),
        "data": (test["caution"].notna().map({True: "caution", False: "unflagged"}).to_numpy()
                 if "caution" in test.columns else "unflagged"),
        "HM_MIX_kJ": test["HM_MIX_J"].to_numpy() / 1000, "pred_kJ": mean / 1000, "sigma_kJ": std / 1000,
        "miedema_kJ": miedema["miedema_J"].to_numpy() / 1000})


def _run_fold(estimator, rows, train_idx, test_idx, fold):
    model = clone(estimator).fit(rows.iloc[train_idx])
    held = _held_out(model, rows.iloc[test_idx]).assign(fold=fold)
    info = {"fold": fold, "test_systems": int(rows.iloc[test_idx]["system"].nunique()),
            "inner_rmse_kJ": getattr(model, "inner_rmse_", float("nan")) / 1000}
    return held, info


def check_folds(outer_folds: int, n_systems: int, n_jobs: int = 1) -> None:
    """Refuse fold and job counts that grouped cross-validation over ``n_systems`` systems cannot use.

    >>> check_folds(1, 30)
    Traceback (most recent call last):
    ...
    mixcalphad.errors.EvaluationError: outer_folds must be an integer from 2 to the number of usable binary systems (30), got 1
    """
    if isinstance(outer_folds, bool) or not isinstance(outer_folds, (int, np.integer)) or not 2 <= outer_folds <= n_systems:
        raise EvaluationError(f"outer_folds must be an integer from 2 to the number of usable binary systems "
                              f"({n_systems}), got {outer_folds!r}")
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0:
        raise EvaluationError(f"n_jobs must be a non-zero integer (negative: all cores but |n_jobs| − 1), got {n_jobs!r}")


def nested_cross_validation(observations: pd.DataFrame, estimator=None, *, outer_folds: int = 12,
                            n_jobs: int = 1, progress: bool | None = None, n_boot: int = 1000) -> CVResult:
    """Nested cross-validation grouped by binary system, plus the AIMD test.

    Every point of a system is in exactly one outer test fold; the estimator's own inner loop (σ
    calibration) sees only the outer training folds. Miedema is scored on the same held-out points.

    Parameters
    ----------
    observations : DataFrame
        Store observations (``system``, ``x_B``, ``HM_MIX_J``, ``kind``, ``source``, ``T_K``).
    estimator : HMixRegressor, optional
        Unfitted estimator to evaluate (default: ``HMixRegressor()``).
    outer_folds : int
        Outer grouped folds (12, as in the founding paper).
    n_jobs : int
        Outer folds fitted in parallel (joblib processes).
    n_boot : int
        Bootstrap resamples of the intervals.

    Raises
    ------
    EvaluationError
        ``outer_folds`` below 2 or above the number of usable binary systems, ``n_jobs`` 0.
    """
    from joblib import Parallel, delayed
    from tqdm.auto import tqdm

    from mixcalphad.model.regressor import HMixRegressor, training_rows

    estimator = HMixRegressor() if estimator is None else estimator
    rows = training_rows(observations).reset_index(drop=True)
    check_folds(outer_folds, rows["system"].nunique(), n_jobs)
    splits = list(GroupKFold(n_splits=outer_folds).split(rows, groups=rows["system"]))
    jobs = [delayed(_run_fold)(estimator, rows, train, test, k) for k, (train, test) in enumerate(splits)]
    results = Parallel(n_jobs=n_jobs)(tqdm(jobs, desc="outer folds", unit="fold",
                                           disable=None if progress is None else not progress))
    points = pd.concat([held for held, _ in results], ignore_index=True)
    folds = pd.DataFrame([info for _, info in results])
    aimd = rows[rows["kind"] == "aimd"]
    aimd_without = pd.DataFrame(columns=points.columns)
    if len(aimd):
        blind = rows[(rows["kind"] != "aimd") & ~rows["system"].isin(set(aimd["system"]))]
        aimd_without = _held_out(clone(estimator).fit(blind), aimd)
    return CVResult(points=points, aimd_without=aimd_without, folds=folds, coverage=estimator.coverage,
                    n_boot=n_boot)
