"""Features of a binary *pair* (no composition), in a fixed orientation.

The learned part of the ΔH_mix model (:mod:`mixcalphad.model.regressor`) predicts the Redlich–Kister
coefficients of a whole curve, so its features describe the pair, not a composition. The pair is
first *oriented* by a fixed rule — the element with the lower Miedema work function φ* first
(ties: alphabetical) — so that a signed difference means the same thing for every pair.
For the oriented pair (P, Q):

* ``mean_<p>`` = (p_P + p_Q)/2 and ``diff_<p>`` = p_Q − p_P for every numeric element property
  (:data:`mixcalphad.chem.elements.PROPERTY_COLUMNS`, plus ``boiling_point_K`` and the valence
  electron count ``valence``: the group for groups 1–12, group − 10 for groups 13–18); a boiling point
  missing from the element table (phosphorus) stays NaN, which LightGBM treats as missing;
* ``n_s``, ``n_p``, ``n_d``, ``n_f``, ``n_transition``: how many of the two elements are in each block
  and how many are transition metals (Miedema's definition);
* Miedema's own terms: ``miedema_dphi2`` (Δφ*)² (V²), ``miedema_dn2`` (Δn_ws^⅓)², ``miedema_hybrid``
  a·R/P (transition/non-transition pairs only, else 0), ``miedema_4h05`` 4·ΔH_Miedema(x = 0.5) (J/mol),
  ``miedema_asym`` ΔH_Miedema(x_Q = 0.25) − ΔH_Miedema(x_Q = 0.75) (J/mol) and ``log_v23_ratio``
  ln(V_Q^⅔/V_P^⅔).

Example
-------
>>> orient_pairs(["NI"], ["AL"])[0].tolist(), orient_pairs(["NI"], ["AL"])[2].tolist()
(['AL'], [True])
>>> pair_features(["AL"], ["NI"]).shape[1] == len(PAIR_FEATURES)
True
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from mixcalphad.chem.binaries import normalize_symbol
from mixcalphad.chem.elements import PROPERTY_COLUMNS, element_table, property_matrix
from mixcalphad.chem.miedema import A_LIQUID, miedema_pairs
from mixcalphad.errors import CompositionError, MixcalphadError

#: Element properties averaged and differenced (the table's numeric properties plus two more).
PAIR_PROPERTIES = (*PROPERTY_COLUMNS, "boiling_point_K", "valence")
#: Properties that may be missing (NaN: LightGBM treats it as missing; the GP does not use them).
OPTIONAL_PROPERTIES = ("boiling_point_K",)
_COUNTS = ("n_s", "n_p", "n_d", "n_f", "n_transition")
_MIEDEMA_TERMS = ("miedema_dphi2", "miedema_dn2", "miedema_hybrid", "miedema_4h05", "miedema_asym",
                  "log_v23_ratio")
#: Every pair feature, in column order.
PAIR_FEATURES = (*(f"{kind}_{p}" for p in PAIR_PROPERTIES for kind in ("mean", "diff")), *_COUNTS,
                 *_MIEDEMA_TERMS)
#: The fifteen features of the Gaussian process (chosen by physics, not by search).
GP_FEATURES = ("miedema_4h05", "miedema_dphi2", "miedema_dn2", "miedema_hybrid", "miedema_asym",
               "log_v23_ratio", "mean_group", "diff_group", "mean_valence", "diff_valence", "mean_T_melt_K",
               "diff_T_melt_K", "mean_Cp_liq_J_K", "diff_ionization_energy_eV", "n_transition")


def _symbols(values) -> np.ndarray:
    return np.array([normalize_symbol(s) for s in np.atleast_1d(np.asarray(values, dtype=object))], dtype=object)


def orient_pairs(a, b) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Oriented pairs (P, Q): lower Miedema φ* first, ties broken alphabetically.

    Parameters
    ----------
    a, b : array_like of str
        Element symbols, any case and order.

    Returns
    -------
    P, Q : numpy.ndarray of str
        The oriented pairs.
    swapped : numpy.ndarray of bool
        True where P is ``b``. For a row with mole fraction x of ``b``, the mole fraction of Q is
        ``1 − x`` where swapped and ``x`` elsewhere; odd Redlich–Kister terms change sign.

    Raises
    ------
    CompositionError
        A pair of one element twice.
    UnknownElementError, MissingPropertyError
        An element without a φ* value.
    """
    a, b = _symbols(a), _symbols(b)
    if a.shape != b.shape:
        raise CompositionError(f"a and b differ in length: {a.size} vs {b.size}")
    same = a == b
    if np.any(same):
        raise CompositionError(f"a binary needs two different elements, got {a[same][0]} twice")
    unique, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
    phi = property_matrix(unique, ["miedema_phi_V"], needed_by="pair orientation")[:, 0][inverse]
    phi_a, phi_b = phi[: a.size], phi[a.size:]
    swapped = (phi_b < phi_a) | ((phi_b == phi_a) & (b < a))
    return np.where(swapped, b, a), np.where(swapped, a, b), swapped


def _element_values(unique: np.ndarray) -> dict[str, np.ndarray]:
    """Per-element property columns of ``unique`` symbols (valence derived from the group)."""
    table = element_table()
    base = [p for p in PAIR_PROPERTIES if p not in ("valence", *OPTIONAL_PROPERTIES)]
    values = property_matrix(unique, [*base, "transition_metal"], needed_by="pair features")
    out = {p: values[:, i] for i, p in enumerate(base)}
    out["transition_metal"] = values[:, -1]
    for prop in OPTIONAL_PROPERTIES:
        out[prop] = table.loc[list(unique), prop].to_numpy(dtype=float)
    group = out["group"]
    out["valence"] = np.where(group <= 12, group, group - 10)
    block = table.loc[list(unique), "block"].astype(str).str.lower().to_numpy()
    for letter in "spdf":
        out[f"block_{letter}"] = (block == letter).astype(float)
    return out


def pair_features(a: Iterable[str], b: Iterable[str]) -> np.ndarray:
    """Feature matrix (n_pairs, len(PAIR_FEATURES)) of pairs, each taken in its fixed orientation.

    The same two elements give the same row in either order.

    Parameters
    ----------
    a, b : array_like of str
        Element symbols.

    Returns
    -------
    numpy.ndarray
        Columns in the order of :data:`PAIR_FEATURES`; units as in the module docstring.
    """
    p, q, _ = orient_pairs(a, b)
    unique, inverse = np.unique(np.concatenate([p, q]), return_inverse=True)
    values = _element_values(unique)
    ip, iq = inverse[: p.size], inverse[p.size:]
    cols: dict[str, np.ndarray] = {}
    for prop in PAIR_PROPERTIES:
        vp, vq = values[prop][ip], values[prop][iq]
        cols[f"mean_{prop}"], cols[f"diff_{prop}"] = (vp + vq) / 2.0, vq - vp
    for letter in "spdf":
        cols[f"n_{letter}"] = values[f"block_{letter}"][ip] + values[f"block_{letter}"][iq]
    tp, tq = values["transition_metal"][ip], values["transition_metal"][iq]
    cols["n_transition"] = tp + tq
    cols["miedema_dphi2"] = (values["miedema_phi_V"][iq] - values["miedema_phi_V"][ip])**2
    cols["miedema_dn2"] = (values["miedema_nws13"][iq] - values["miedema_nws13"][ip])**2
    mixed = (tp + tq) == 1
    cols["miedema_hybrid"] = np.where(mixed, A_LIQUID * values["miedema_RP"][ip] * values["miedema_RP"][iq], 0.0)
    h = miedema_pairs(np.concatenate([p, p, p]), np.concatenate([q, q, q]),
                      np.repeat([0.5, 0.25, 0.75], p.size))
    h05, h25, h75 = h[: p.size], h[p.size: 2 * p.size], h[2 * p.size:]
    cols["miedema_4h05"] = 4.0 * h05
    cols["miedema_asym"] = h25 - h75
    cols["log_v23_ratio"] = np.log(values["miedema_V23_cm2"][iq] / values["miedema_V23_cm2"][ip])
    return np.column_stack([cols[name] for name in PAIR_FEATURES])


def feature_columns(names: Iterable[str]) -> list[int]:
    """Column indices of ``names`` in :data:`PAIR_FEATURES`; an unknown name raises ``MixcalphadError``."""
    index = {name: i for i, name in enumerate(PAIR_FEATURES)}
    missing = [n for n in names if n not in index]
    if missing:
        raise MixcalphadError(f"unknown pair feature(s) {missing}; see PAIR_FEATURES")
    return [index[n] for n in names]
