"""Each observed ΔH_mix curve as Redlich–Kister coefficients of its excess over Miedema's model.

For a curve — one (system, source, T_K) of a binary oriented as (P, Q) by
:func:`~mixcalphad.model.pair_features.orient_pairs` — with t = x_P − x_Q::

    ΔH(x) = ΔH_Miedema(x) + x_P x_Q (c0 + c1 t + c2 t²)      (J/mol of atoms)

The c_i are fitted by least squares on ΔH itself (equivalently, on the scaled residual
(ΔH − ΔH_Miedema)/(x_P x_Q) with weights (x_P x_Q)²). A curve fixes only as many coefficients as it has
distinct compositions, at most three; an AIMD point (one equimolar value) fixes c0 alone.

Example
-------
>>> import pandas as pd
>>> rows = pd.DataFrame({"system": ["AL-NI"], "x_B": [0.5], "T_K": [1873.0], "HM_MIX_J": [-10000.0],
...                      "kind": ["assessed"], "source": ["s"]})
>>> int(curve_coefficients(rows)["order"].iloc[0])
0
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from mixcalphad.chem.binaries import parse_system
from mixcalphad.chem.miedema import miedema_pairs
from mixcalphad.model.pair_features import orient_pairs

#: Highest power of t learned (c0, c1, c2).
MAX_ORDER = 2
#: Columns that identify one curve.
CURVE_KEYS = ("system", "source", "T_K")
COEFFICIENTS = tuple(f"c{n}" for n in range(MAX_ORDER + 1))


def rk_powers(t) -> np.ndarray:
    """Powers t⁰, t¹, t² of ``t`` = x_P − x_Q as columns, shape (n, 3): the Redlich–Kister polynomial
    without its x_P x_Q factor (the full design matrix is
    :func:`mixcalphad.calphad.redlich_kister.rk_basis`)."""
    t = np.asarray(t, dtype=float).reshape(-1)
    return np.column_stack([t**n for n in range(MAX_ORDER + 1)])


def oriented_points(frame: pd.DataFrame) -> pd.DataFrame:
    """Orientation of each row of a frame with ``system`` (sorted pair) and ``x_B``.

    Returns
    -------
    DataFrame
        Indexed like ``frame``: ``P``, ``Q`` (oriented pair), ``swapped`` (P is the sorted pair's B),
        ``t`` = x_P − x_Q, ``xx`` = x_P x_Q and ``miedema_J`` (J/mol of atoms).
    """
    pairs = [parse_system(s) for s in frame["system"]]
    a = np.array([p[0] for p in pairs], dtype=object)
    b = np.array([p[1] for p in pairs], dtype=object)
    x_b = frame["x_B"].to_numpy(dtype=float)
    p, q, swapped = orient_pairs(a, b)
    x_q = np.where(swapped, 1.0 - x_b, x_b)
    return pd.DataFrame({"P": p, "Q": q, "swapped": swapped, "t": 1.0 - 2.0 * x_q, "xx": x_q * (1.0 - x_q),
                         "miedema_J": miedema_pairs(a, b, x_b)}, index=frame.index)


def fit_curve(t: np.ndarray, xx: np.ndarray, excess: np.ndarray, max_order: int = MAX_ORDER) -> np.ndarray:
    """Least-squares coefficients (c0, c1, c2) of one curve; those the data cannot fix are NaN.

    Parameters
    ----------
    t, xx : numpy.ndarray
        x_P − x_Q and x_P x_Q of each point.
    excess : numpy.ndarray
        ΔH − ΔH_Miedema of each point, J/mol of atoms.
    max_order : int
        Highest power fitted; lowered to (distinct compositions − 1).

    Returns
    -------
    numpy.ndarray
        Three values in J/mol of atoms; NaN above the fitted order.
    """
    order = min(max_order, MAX_ORDER, len(np.unique(np.round(t, 9))) - 1)
    out = np.full(MAX_ORDER + 1, np.nan)
    design = xx[:, None] * rk_powers(t)[:, : order + 1]
    out[: order + 1] = np.linalg.lstsq(design, excess, rcond=None)[0]
    return out


def curve_coefficients(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per curve (system, source, T_K) with its coefficients c0–c2 (J/mol of atoms).

    Parameters
    ----------
    rows : DataFrame
        Observations with ``system``, ``x_B`` (0 < x_B < 1), ``HM_MIX_J``, ``kind``, ``source``, ``T_K``.

    Returns
    -------
    DataFrame
        ``system, source, T_K, kind, P, Q, swapped, n_points, order, c0, c1, c2, weight``: coefficients
        in the orientation (P, Q) (NaN above ``order``; AIMD curves have order 0) and the curve
        weight 1/(curves of its system).
    """
    orient = oriented_points(rows)
    frame = rows.join(orient)
    frame["excess_J"] = frame["HM_MIX_J"].to_numpy(float) - frame["miedema_J"].to_numpy(float)
    out = []
    for (system, source, T_K), curve in frame.groupby(list(CURVE_KEYS), sort=True, dropna=False):
        kind = str(curve["kind"].iloc[0])
        max_order = 0 if (curve["kind"] == "aimd").all() else MAX_ORDER
        coef = fit_curve(curve["t"].to_numpy(), curve["xx"].to_numpy(), curve["excess_J"].to_numpy(), max_order)
        out.append({"system": system, "source": source, "T_K": T_K, "kind": kind, "P": curve["P"].iloc[0],
                    "Q": curve["Q"].iloc[0], "swapped": bool(curve["swapped"].iloc[0]), "n_points": len(curve),
                    "order": int(np.sum(np.isfinite(coef)) - 1), **dict(zip(COEFFICIENTS, coef))})
    curves = pd.DataFrame(out)
    curves["weight"] = 1.0 / curves.groupby("system")["system"].transform("size")
    return curves


def curve_index(rows: pd.DataFrame) -> np.ndarray:
    """For each row of ``rows``, the position of its curve in :func:`curve_coefficients` of ``rows``."""
    return rows.groupby(list(CURVE_KEYS), sort=True, dropna=False).ngroup().to_numpy()
