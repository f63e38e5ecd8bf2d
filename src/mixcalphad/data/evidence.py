"""How much evidence observations are: a curve counts once, however many rows it has.

A *curve* is the rows of one ``(system, kind, source)``: one assessment harvested at several
compositions and temperatures, one AIMD calculation, one user's measurement series, one model's
predicted curve. Its points share their errors (the assessment's parameters, the calculation's
functional and cell, the model's error of level), so they are not independent measurements, and a
source must not gain weight by being sampled more finely. The rule, applied by every consumer —
:func:`~mixcalphad.calphad.binary_fit.fit_binary`'s weights, the ESPEI dataset weights of
:mod:`mixcalphad.calphad.espei_io` and the per-binary posterior of :mod:`mixcalphad.model.posterior`:

0. rows at x_B = 0 or 1 (a pure element) say nothing about mixing and are not evidence;
1. rows of one curve at the same composition are **one point**: their mean ΔH_mix, mean σ and mean T
   (a repeated row, or a temperature-independent ΔH_mix harvested at several temperatures, adds no
   evidence);
2. a curve of m distinct compositions weighs as **one point**: each of its points gets the effective
   σ ``σ·√m``, so that Σ 1/σ_eff² over the curve is the 1/σ² of one measurement (the effective-sample-
   size treatment of fully correlated errors). Its points keep their relative weights, so the curve's
   shape still comes through.

So a nine-point assessment, a one-point AIMD value and a 19-point predicted curve each weigh as one
measurement of their own σ; duplicating every row of a curve changes nothing.

>>> import pandas as pd
>>> rows = pd.DataFrame({"system": ["AL-NI"] * 4, "kind": ["assessed"] * 4, "source": ["a.tdb"] * 4,
...                      "x_B": [0.25, 0.5, 0.5, 0.75], "T_K": 1873.0, "HM_MIX_J": [-1e4, -2e4, -2e4, -1e4],
...                      "sigma_J": 2000.0})
>>> points = evidence_points(rows)
>>> len(points), float(points["fit_sigma_J"].iloc[0]) == 2000.0 * 3 ** 0.5
(3, True)
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from mixcalphad.data.schema import DEFAULT_SIGMA_J
from mixcalphad.errors import DatasetError

#: Columns that identify one curve (one piece of evidence).
EVIDENCE_KEYS = ("system", "kind", "source")
#: Decimals to which x_B is rounded when rows are matched to one composition.
X_DECIMALS = 9
#: Columns of :func:`evidence_points`.
EVIDENCE_COLUMNS = ("system", "kind", "source", "x_B", "T_K", "HM_MIX_J", "sigma_J", "fit_sigma_J", "n_rows",
                    "n_points")


def row_sigma(rows: pd.DataFrame, sigma_defaults: Mapping[str, float] | None = None) -> np.ndarray:
    """σ of each row, J/mol: its own ``sigma_J``, else the default of its ``kind``.

    Raises
    ------
    DatasetError
        A σ that is not finite and > 0 (after defaults), naming the sources.
    """
    defaults = {**DEFAULT_SIGMA_J, **(sigma_defaults or {})}
    given = (rows["sigma_J"].astype(float).to_numpy() if "sigma_J" in rows
             else np.full(len(rows), np.nan))
    default = rows["kind"].map(defaults).astype(float).to_numpy()
    sigma = np.where(np.isnan(given), default, given)
    bad = ~(np.isfinite(sigma) & (sigma > 0))
    if bad.any():
        raise DatasetError(f"observation(s) with sigma_J not finite and > 0 (and no default for their kind) "
                           f"from {sorted(set(rows['source'].astype(str)[bad]))}")
    return sigma


def evidence_points(rows: pd.DataFrame, sigma_defaults: Mapping[str, float] | None = None) -> pd.DataFrame:
    """The points observations weigh as: one per (curve, composition), each curve one measurement.

    Parameters
    ----------
    rows : pandas.DataFrame
        Columns ``system``, ``kind``, ``source``, ``x_B``, ``T_K``, ``HM_MIX_J`` and optionally
        ``sigma_J`` (NaN: the kind's default). Rows at x_B = 0 or 1 are left out.
    sigma_defaults : mapping, optional
        σ (J/mol) by kind for rows without one; default :data:`~mixcalphad.data.schema.DEFAULT_SIGMA_J`.

    Returns
    -------
    pandas.DataFrame
        :data:`EVIDENCE_COLUMNS`: the mean ``x_B``, ``T_K`` (K), ``HM_MIX_J`` and ``sigma_J`` (J/mol) of
        the rows at one composition of one curve, ``fit_sigma_J`` = σ·√m (J/mol, the weight's σ),
        ``n_rows`` (rows merged) and ``n_points`` (m, distinct compositions of the curve). Sorted
        by curve and x_B, so the result does not depend on row order.
    """
    if len(rows):
        rows = rows[(rows["x_B"].astype(float) > 0) & (rows["x_B"].astype(float) < 1)]
    if not len(rows):
        return pd.DataFrame({c: pd.Series(dtype=object if c in EVIDENCE_KEYS else float) for c in EVIDENCE_COLUMNS})
    frame = pd.DataFrame({"system": rows["system"].astype(str).to_numpy(), "kind": rows["kind"].astype(str).to_numpy(),
                          "source": rows["source"].astype(str).to_numpy(),
                          "x_key": np.round(rows["x_B"].astype(float).to_numpy(), X_DECIMALS),
                          "x_B": rows["x_B"].astype(float).to_numpy(), "T_K": rows["T_K"].astype(float).to_numpy(),
                          "HM_MIX_J": rows["HM_MIX_J"].astype(float).to_numpy(),
                          "sigma_J": row_sigma(rows, sigma_defaults)})
    points = (frame.groupby([*EVIDENCE_KEYS, "x_key"], sort=True)
              .agg(x_B=("x_B", "mean"), T_K=("T_K", "mean"), HM_MIX_J=("HM_MIX_J", "mean"),
                   sigma_J=("sigma_J", "mean"), n_rows=("x_B", "size"))
              .reset_index().drop(columns="x_key"))
    points["n_points"] = points.groupby(list(EVIDENCE_KEYS))["x_B"].transform("size").astype(int)
    points["fit_sigma_J"] = points["sigma_J"] * np.sqrt(points["n_points"])
    return points.loc[:, list(EVIDENCE_COLUMNS)]
