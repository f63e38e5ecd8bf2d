"""Error tables: RMSE and MAE of predictions against observations, overall and per group.

Values are in the unit of the inputs; mixcalphad tables report kJ/mol.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def regression_errors(truth, prediction) -> dict:
    """RMSE, MAE, mean signed error (prediction − truth) and count of two equal-length arrays."""
    truth, prediction = np.asarray(truth, dtype=float), np.asarray(prediction, dtype=float)
    if truth.shape != prediction.shape:
        raise ValueError(f"truth and prediction differ in shape: {truth.shape} vs {prediction.shape}")
    err = prediction - truth
    if err.size == 0:
        return {"n": 0, "rmse": float("nan"), "mae": float("nan"), "bias": float("nan")}
    return {"n": int(err.size), "rmse": float(np.sqrt(np.mean(err**2))),
            "mae": float(np.mean(np.abs(err))), "bias": float(np.mean(err))}


def error_table(frame: pd.DataFrame, truth: str, predictions: dict[str, str], by: str | None = None,
                *, systems: str = "system") -> pd.DataFrame:
    """Errors of several prediction columns against ``truth``, overall and per value of ``by``.

    Parameters
    ----------
    frame : DataFrame
        One row per observation.
    truth : str
        Column of observed values.
    predictions : dict
        Label → column of predicted values.
    by : str, optional
        Column to group on (e.g. the Miedema class); an ``all`` row is always first.
    systems : str
        Column naming the binary system, to count systems per group.

    Returns
    -------
    DataFrame
        Columns ``group, systems, points`` and ``<label> RMSE``, ``<label> MAE`` per prediction.
    """
    groups = [("all", frame)]
    if by is not None:
        groups += [(str(name), sub) for name, sub in frame.groupby(by, sort=True)]
    rows = []
    for name, sub in groups:
        row = {"group": name, "systems": int(sub[systems].nunique()), "points": int(len(sub))}
        for label, column in predictions.items():
            errs = regression_errors(sub[truth], sub[column])
            row[f"{label} RMSE"], row[f"{label} MAE"] = errs["rmse"], errs["mae"]
        rows.append(row)
    return pd.DataFrame(rows)


def _weighted_median(sorted_values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Median of ``sorted_values`` under each row of ``weights`` (n_rows, n_values)."""
    cum = np.cumsum(weights, axis=1)
    half = cum[:, -1:] / 2.0
    return sorted_values[np.argmax(cum >= half, axis=1)]


def bootstrap_errors(frame: pd.DataFrame, truth: str, predictions: dict[str, str], *, reference: str | None = None,
                     systems: str = "system", n_boot: int = 1000, level: float = 0.95,
                     random_state: int = 0) -> dict:
    """RMSE and median absolute error with bootstrap-over-systems intervals.

    Systems (not points) are resampled with replacement, so the points of one binary — which are
    correlated — move together.

    Parameters
    ----------
    frame : DataFrame
        One row per observation, with ``truth``, the prediction columns and ``systems``.
    truth : str
        Column of observed values.
    predictions : dict
        Label → column of predicted values.
    reference : str, optional
        A label of ``predictions``; every other label also gets ``<label>/<reference>`` RMSE ratios.
    n_boot : int
        Bootstrap resamples.
    level : float
        Interval level (0.95 → the 2.5 and 97.5 percentiles).
    random_state : int
        Seed of the resampling.

    Returns
    -------
    dict
        ``"<label> RMSE"``, ``"<label> MedAE"`` and (with a reference) ``"<label> ratio"``, each a tuple
        (estimate, low, high) in the unit of the inputs; ``systems`` and ``points``.
    """
    codes, names = pd.factorize(frame[systems])
    n_sys = len(names)
    out: dict = {"systems": n_sys, "points": int(len(frame))}
    if n_sys == 0:
        return out
    rng = np.random.default_rng(random_state)
    draws = rng.integers(0, n_sys, size=(n_boot, n_sys))
    counts = np.stack([np.bincount(row, minlength=n_sys) for row in draws]).astype(float)
    n_per = np.bincount(codes, minlength=n_sys).astype(float)
    q = [(1 - level) / 2 * 100, (1 + level) / 2 * 100]
    rmse_boot = {}
    for label, column in predictions.items():
        err = frame[column].to_numpy(float) - frame[truth].to_numpy(float)
        sse = np.bincount(codes, weights=err**2, minlength=n_sys)
        rmse_boot[label] = np.sqrt(counts @ sse / (counts @ n_per))
        rmse = float(np.sqrt(sse.sum() / n_per.sum()))
        out[f"{label} RMSE"] = (rmse, *np.percentile(rmse_boot[label], q))
        order = np.argsort(np.abs(err), kind="stable")
        med = _weighted_median(np.abs(err)[order], counts[:, codes[order]])
        out[f"{label} MedAE"] = (float(np.median(np.abs(err))), *np.percentile(med, q))
    if reference is not None:
        ref = out[f"{reference} RMSE"][0]
        for label in predictions:
            if label != reference:
                ratio = rmse_boot[label] / rmse_boot[reference]
                out[f"{label} ratio"] = (out[f"{label} RMSE"][0] / ref, *np.percentile(ratio, q))
    return out


def format_interval(value: tuple, digits: int = 2) -> str:
    """``"9.62 [8.91, 10.40]"`` from (estimate, low, high)."""
    return f"{value[0]:.{digits}f} [{value[1]:.{digits}f}, {value[2]:.{digits}f}]"
