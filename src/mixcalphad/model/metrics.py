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
