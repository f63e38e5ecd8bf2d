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
(:mod:`mixcalphad.elements`, derived from matminer's ``Miedema.csv``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np
import pandas as pd

from .binaries import normalize_symbol, parse_system
from .elements import MIEDEMA_COLUMNS, element_property, element_table
from .errors import CompositionError

P_TRANSITION = 14.2
P_NON_TRANSITION = 10.7
P_MIXED = 12.35
Q_OVER_P = 9.4
A_LIQUID = 0.73
ALKALINE_EARTHS = ("CA", "SR", "BA")

#: Miedema classes of a binary: both transition metals, one of each, both non-transition.
CLASSES = ("transition-transition", "mixed", "non-transition")


@dataclass(frozen=True)
class MiedemaElement:
    """Miedema parameters of one element: φ* (V), n_ws^{1/3}, V^{2/3} (cm²), R/P, a, H_trans (J/mol)."""

    symbol: str
    phi: float
    nws13: float
    v23: float
    rp: float
    a: float
    h_trans: float
    transition: bool

    @classmethod
    def of(cls, symbol: str, *, alkaline_earth_transition: bool = False) -> "MiedemaElement":
        """Parameters of ``symbol`` from the element table (raises if any is missing)."""
        symbol = normalize_symbol(symbol)
        values = [float(element_property([symbol], c, needed_by="Miedema's model")[0])
                  for c in MIEDEMA_COLUMNS]
        transition = bool(element_table().loc[symbol, "transition_metal"])
        if alkaline_earth_transition and symbol in ALKALINE_EARTHS:
            transition = True
        return cls(symbol, *values, transition=transition)


def miedema_class(a: str, b: str, *, alkaline_earth_transition: bool = False) -> str:
    """The Miedema class of a binary: one of :data:`CLASSES`."""
    ea = MiedemaElement.of(a, alkaline_earth_transition=alkaline_earth_transition)
    eb = MiedemaElement.of(b, alkaline_earth_transition=alkaline_earth_transition)
    return CLASSES[2 - int(ea.transition) - int(eb.transition)]


def _surface_fractions(x_a, v_a, v_b):
    return x_a * v_a / (x_a * v_a + (1.0 - x_a) * v_b)


def hmix_from_parameters(ea: MiedemaElement, eb: MiedemaElement, x_b, *, volume_correction: bool = False,
                         transformation: Iterable[str] = ()) -> np.ndarray:
    """Miedema's liquid ΔH_mix (J/mol of atoms) of A–B at mole fractions ``x_b`` of B.

    Pure numpy; :func:`miedema_hmix` looks the parameters up by symbol.
    """
    x_b = np.asarray(x_b, dtype=float)
    x_a = 1.0 - x_b
    if ea.transition and eb.transition:
        p, rp = P_TRANSITION, 0.0
    elif ea.transition or eb.transition:
        p, rp = P_MIXED, ea.rp * eb.rp
    else:
        p, rp = P_NON_TRANSITION, 0.0
    d_phi, d_n = ea.phi - eb.phi, ea.nws13 - eb.nws13
    interface = 2.0 * p * (-d_phi**2 + Q_OVER_P * d_n**2 - A_LIQUID * rp) / (1.0 / ea.nws13 + 1.0 / eb.nws13)
    v_a = np.full_like(x_b, ea.v23)
    v_b = np.full_like(x_b, eb.v23)
    if volume_correction:
        for _ in range(50):
            cs_a = _surface_fractions(x_a, v_a, v_b)
            new_a = ea.v23 * (1.0 + ea.a * (1.0 - cs_a) * d_phi)
            new_b = eb.v23 * (1.0 - eb.a * cs_a * d_phi)
            converged = np.allclose(new_a, v_a, atol=1e-12) and np.allclose(new_b, v_b, atol=1e-12)
            v_a, v_b = new_a, new_b
            if converged:
                break
    with np.errstate(invalid="ignore", divide="ignore"):
        h = x_a * x_b * v_a * v_b / (x_a * v_a + x_b * v_b) * interface
    h = np.where((x_b == 0.0) | (x_b == 1.0), 0.0, h)
    trans = {normalize_symbol(s) for s in transformation}
    h = h - (x_a * ea.h_trans / 1000.0 if ea.symbol in trans else 0.0) \
          - (x_b * eb.h_trans / 1000.0 if eb.symbol in trans else 0.0)
    return 1000.0 * h


def miedema_hmix(a: str, b: str, x_b, *, volume_correction: bool = False,
                 alkaline_earth_transition: bool = False, transformation: Iterable[str] = ()) -> np.ndarray:
    """Miedema's ΔH_mix of the liquid A–B in J/mol of atoms.

    Parameters
    ----------
    a, b : str
        Element symbols in any case and order; ``x_b`` is the mole fraction of ``b``.
    x_b : float or array_like
        Mole fraction(s) of ``b``, each in [0, 1].
    volume_correction, alkaline_earth_transition, transformation
        The documented model options (module docstring); defaults give the textbook liquid model.

    Returns
    -------
    numpy.ndarray
        ΔH_mix in J/mol of atoms, same shape as ``x_b``.

    Examples
    --------
    >>> round(float(miedema_hmix("AL", "NI", 0.5)) / 1000, 1)
    -22.7
    """
    x = np.asarray(x_b, dtype=float)
    if np.any(~np.isfinite(x)) or np.any((x < 0.0) | (x > 1.0)):
        raise CompositionError(f"mole fractions must lie in [0, 1], got {x_b!r}")
    ea = MiedemaElement.of(a, alkaline_earth_transition=alkaline_earth_transition)
    eb = MiedemaElement.of(b, alkaline_earth_transition=alkaline_earth_transition)
    if ea.symbol == eb.symbol:
        raise CompositionError(f"a binary needs two different elements, got {ea.symbol} twice")
    return hmix_from_parameters(ea, eb, x, volume_correction=volume_correction, transformation=transformation)


def miedema_for_observations(observations: pd.DataFrame, **options) -> pd.DataFrame:
    """Miedema's ΔH_mix and class for every row of an observations table.

    Parameters
    ----------
    observations : DataFrame
        With columns ``system`` (sorted pair ``"AL-CU"``) and ``x_B``.
    **options
        Passed to :func:`miedema_hmix`.

    Returns
    -------
    DataFrame
        Indexed like ``observations``, columns ``miedema_J`` (J/mol of atoms) and ``miedema_class``.
    """
    out = pd.DataFrame(index=observations.index, columns=["miedema_J", "miedema_class"])
    ae = options.get("alkaline_earth_transition", False)
    for system, rows in observations.groupby("system"):
        a, b = parse_system(system)
        out.loc[rows.index, "miedema_J"] = miedema_hmix(a, b, rows["x_B"].to_numpy(), **options)
        out.loc[rows.index, "miedema_class"] = miedema_class(a, b, alkaline_earth_transition=ae)
    return out.astype({"miedema_J": float})
