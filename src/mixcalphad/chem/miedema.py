"""Miedema's model of the enthalpy of mixing of binary *liquid* alloys.

With φ* (V), n_ws^{1/3} (d.u.^{1/3}) and V^{2/3} (cm²) of the two elements (Miedema, de Châtel,
de Boer, Physica B+C 100 (1980) 1; de Boer et al., *Cohesion in Metals*, 1988):

.. math::

    ΔH = x_A x_B \\frac{V_A^{2/3} V_B^{2/3}}{x_A V_A^{2/3} + x_B V_B^{2/3}}
         \\frac{2P\\,[-(Δφ^*)^2 + (Q/P)(Δn_{ws}^{1/3})^2 - a\\,R/P]}{(n_A^{-1/3} + n_B^{-1/3})}

in kJ/mol of atoms, with P = 14.2 (two transition metals), 10.7 (two non-transition metals), 12.35
(one of each), Q/P = 9.4, R/P the product of the two elements' R/P factors applied only to
transition/non-transition pairs, a = 0.73 for liquids, and no surface-ordering term (γ = 0).

Defaults and options (all explicit keyword arguments of :func:`miedema_hmix`):

* ``volume_correction=False`` — Miedema's charge-transfer correction of the cell volumes,
  ``V_A^{2/3}(alloy) = V_A^{2/3} [1 + a_A c_B^s (φ_A − φ_B)]``, solved self-consistently.
* ``alkaline_earth_transition=False`` — Ca, Sr, Ba are non-transition metals by default (s-block);
  ``True`` puts them with the transition metals, as some tables do.
* ``transformation=()`` — elements whose "transformation enthalpy" H_trans (kJ/mol, Si 34, Ge 25) is
  subtracted as ``−x_i H_trans,i``. Liquid–liquid mixing has none; the Takeuchi–Inoue table
  (Mater. Trans. 46 (2005) 2817) nevertheless subtracts it for Si and Ge: pass ``("SI", "GE")`` to
  reproduce that table.

All public functions return J/mol of atoms. Element parameters come from the package element table
(:mod:`mixcalphad.chem.elements`, derived from matminer's ``Miedema.csv``).
"""
from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from mixcalphad.chem.binaries import check_elements, normalize_symbol, parse_system
from mixcalphad.chem.elements import MIEDEMA_COLUMNS, element_table, property_matrix
from mixcalphad.errors import CompositionError, MixcalphadError

P_TRANSITION = 14.2
P_NON_TRANSITION = 10.7
P_MIXED = 12.35
Q_OVER_P = 9.4
A_LIQUID = 0.73
ALKALINE_EARTHS = ("CA", "SR", "BA")

#: Miedema classes of a binary: both transition metals, one of each, both non-transition.
CLASSES = ("transition-transition", "mixed", "non-transition")


def _parameters(symbols, alkaline_earth_transition: bool) -> dict[str, np.ndarray]:
    """Miedema parameters of each symbol as arrays (φ*, n_ws^1/3, V^2/3, R/P, a, H_trans, transition)."""
    values = property_matrix(symbols, (*MIEDEMA_COLUMNS, "transition_metal"), needed_by="Miedema's model")
    phi, nws13, v23, rp, a, h_trans, transition = values.T
    transition = transition.astype(bool)
    if alkaline_earth_transition:
        transition = transition | np.isin(symbols, ALKALINE_EARTHS)
    return {"symbol": np.array(symbols), "phi": phi, "nws13": nws13, "v23": v23, "rp": rp, "a": a,
            "h_trans": h_trans, "transition": transition}


def transformation_elements(symbols: Iterable[str]) -> list[str]:
    """Checked elements for the ``transformation`` option: known, and with a H_trans.

    Raises
    ------
    UnknownElementError
        A symbol the element table does not know.
    MixcalphadError
        An element without a transformation enthalpy (it would be ignored silently).
    """
    symbols = [symbols] if isinstance(symbols, str) else list(symbols)
    if not symbols:
        return []
    out = check_elements(symbols)
    h_trans = element_table()["miedema_Htrans_J"].fillna(0.0)
    having = sorted(h_trans.index[h_trans != 0.0])
    without = [el for el in out if h_trans[el] == 0.0]
    if without:
        raise MixcalphadError(f"element(s) {', '.join(without)} have no Miedema transformation enthalpy; "
                              f"transformation applies to {', '.join(having)}")
    return out


def miedema_class(a: str, b: str, *, alkaline_earth_transition: bool = False) -> str:
    """The Miedema class of a binary: one of :data:`CLASSES`."""
    transition = _parameters([a, b], alkaline_earth_transition)["transition"]
    return CLASSES[2 - int(transition.sum())]


def miedema_pairs(a, b, x_B, *, volume_correction: bool = False, alkaline_earth_transition: bool = False,
                  transformation: Iterable[str] = ()) -> np.ndarray:
    """Miedema's liquid ΔH_mix (J/mol of atoms) for arrays of pairs: row i is ``a[i]``–``b[i]`` at ``x_B[i]``.

    The vectorized form of :func:`miedema_hmix` (same options), for many binaries at once.
    """
    a, b = np.atleast_1d(np.asarray(a, dtype=object)), np.atleast_1d(np.asarray(b, dtype=object))
    x_B = np.broadcast_to(np.asarray(x_B, dtype=float), a.shape).astype(float)
    if np.any(~np.isfinite(x_B)) or np.any((x_B < 0.0) | (x_B > 1.0)):
        raise CompositionError(f"mole fractions must lie in [0, 1], got {x_B[(x_B < 0) | (x_B > 1) | ~np.isfinite(x_B)][:5]}")
    symbols = np.array([normalize_symbol(s) for s in np.concatenate([a, b])])
    unique, inverse = np.unique(symbols, return_inverse=True)
    ia, ib = inverse[: a.size], inverse[a.size:]
    if np.any(ia == ib):
        raise CompositionError(f"a binary needs two different elements, got {unique[ia[ia == ib][0]]} twice")
    par = _parameters(unique, alkaline_earth_transition)
    pa = {k: v[ia] for k, v in par.items()}
    pb = {k: v[ib] for k, v in par.items()}
    n_transition = pa["transition"].astype(int) + pb["transition"].astype(int)
    p = np.select([n_transition == 2, n_transition == 1], [P_TRANSITION, P_MIXED], P_NON_TRANSITION)
    rp = np.where(n_transition == 1, pa["rp"] * pb["rp"], 0.0)
    d_phi, d_n = pa["phi"] - pb["phi"], pa["nws13"] - pb["nws13"]
    interface = 2.0 * p * (-d_phi**2 + Q_OVER_P * d_n**2 - A_LIQUID * rp) / (1.0 / pa["nws13"] + 1.0 / pb["nws13"])
    x_a = 1.0 - x_B
    v_a, v_b = pa["v23"].copy(), pb["v23"].copy()
    if volume_correction:
        for _ in range(50):
            cs_a = x_a * v_a / (x_a * v_a + x_B * v_b)
            new_a = pa["v23"] * (1.0 + pa["a"] * (1.0 - cs_a) * d_phi)
            new_b = pb["v23"] * (1.0 - pb["a"] * cs_a * d_phi)
            converged = np.allclose(new_a, v_a, atol=1e-12) and np.allclose(new_b, v_b, atol=1e-12)
            v_a, v_b = new_a, new_b
            if converged:
                break
    h = x_a * x_B * v_a * v_b / (x_a * v_a + x_B * v_b) * interface
    trans = np.array(transformation_elements(transformation), dtype=object)
    h = h - x_a * np.where(np.isin(pa["symbol"], trans), pa["h_trans"] / 1000.0, 0.0) \
          - x_B * np.where(np.isin(pb["symbol"], trans), pb["h_trans"] / 1000.0, 0.0)
    return 1000.0 * h


def miedema_hmix(a: str, b: str, x_B, *, volume_correction: bool = False,
                 alkaline_earth_transition: bool = False, transformation: Iterable[str] = ()) -> np.ndarray:
    """Miedema's ΔH_mix of the liquid A–B in J/mol of atoms.

    Parameters
    ----------
    a, b : str
        Element symbols in any case and order; ``x_B`` is the mole fraction of ``b``.
    x_B : float or array_like
        Mole fraction(s) of ``b``, each in [0, 1].
    volume_correction, alkaline_earth_transition, transformation
        The documented model options (module docstring); defaults give the textbook liquid model.

    Returns
    -------
    numpy.ndarray
        ΔH_mix in J/mol of atoms, same shape as ``x_B``.

    Examples
    --------
    >>> round(float(miedema_hmix("AL", "NI", 0.5)) / 1000, 1)
    -22.7
    """
    x = np.asarray(x_B, dtype=float)
    flat = x.reshape(-1)
    h = miedema_pairs(np.full(flat.shape, a, dtype=object), np.full(flat.shape, b, dtype=object), flat,
                      volume_correction=volume_correction, alkaline_earth_transition=alkaline_earth_transition,
                      transformation=transformation)
    return h.reshape(x.shape)


def miedema_for_observations(observations: pd.DataFrame, **options) -> pd.DataFrame:
    """Miedema's ΔH_mix and class for every row of an observations table.

    Parameters
    ----------
    observations : DataFrame
        With columns ``system`` (sorted pair ``"AL-CU"``) and ``x_B``.
    **options
        Passed to :func:`miedema_pairs`.

    Returns
    -------
    DataFrame
        Indexed like ``observations``, columns ``miedema_J`` (J/mol of atoms) and ``miedema_class``.
    """
    pairs = [parse_system(s) for s in observations["system"]]
    a = np.array([p[0] for p in pairs], dtype=object)
    b = np.array([p[1] for p in pairs], dtype=object)
    h = miedema_pairs(a, b, observations["x_B"].to_numpy(float), **options)
    ae = options.get("alkaline_earth_transition", False)
    classes = {s: miedema_class(*parse_system(s), alkaline_earth_transition=ae) for s in set(observations["system"])}
    return pd.DataFrame({"miedema_J": h, "miedema_class": observations["system"].map(classes).to_numpy()},
                        index=observations.index)
