"""SGTE unary data of the pure elements, valid from 298.15 K to 6000 K inclusive, with their
magnetic terms.

Sources
-------
* Gibbs energies: SGTE 1991 (A. T. Dinsdale, Calphad 15 (1991) 317) as shipped in
  ``espei.refdata`` (``SGTE91`` Gibbs energies by element and phase, ``SGTE91Stable`` the GHSER
  functions, ``SGTE91SER`` the ELEMENT-line data). That copy has **no magnetic terms**.
* Magnetic terms: the Inden–Hillert–Jarl (IHJ) model with Dinsdale's Curie/Néel temperatures
  ``TC`` (K) and mean magnetic moments ``BMAGN`` (Bohr magnetons) of Co, Cr, Fe, Mn and Ni, one
  table, ``data/sgte_magnetic.csv`` (:func:`magnetic_parameters`), copied from the assessed TDBs
  that pycalphad 0.11.2 ships: ``pycalphad/tests/databases/COST507.tdb`` (COST 507 light-alloy
  database, whose header says "the unary data are the SGTE values as reported by A. Dinsdale in
  the Calphad Journal") for Cr, Fe, Mn and Ni, and ``alcocrni.tdb`` (references 90DIN/91DIN:
  Dinsdale, SGTE Data for Pure Elements, NPL Report DMA(A)195 and Calphad 15 (1991) 317) for Co;
  ``tests/test_unary.py`` checks every value against those files. The IHJ model hints
  (:func:`ihj_hints`) are those of the same files: antiferromagnetic factor −1 and structure
  factor p = 0.4 for BCC_A2, −3 and 0.28 for the other structures. Without the magnetic terms Fe
  melts at 1801 K instead of 1811 K (Co, Ni, Cr and Mn are off too). The same table feeds the
  element table (``scripts/build_elements.py``: ``T_melt_K`` and the fusion data), so the melting
  point pycalphad computes from a written TDB equals the table's.

Made valid for every temperature a user computes at:

* **Up to 6000 K, inclusive.** SGTE 1991 ends some elements early (Cd 1600 K, Nd 1800, Cs 2000,
  K/Na/Pb/Rb/Sm 2100–2300, Rh 2500, Li/P/Sc 3000–3200 K) and the others at 6000 K. pycalphad reads
  a range ``lo … hi`` as ``lo <= T < hi`` and evaluates a FUNCTION outside its ranges as 0, so a
  ``GHSERxx`` that ends at 1600 K makes G(LIQUID) jump by hundreds of kJ/mol above 1600 K, and
  one that ends at 6000 K drops G(LIQUID) of 22 elements to a few tens of kJ/mol at exactly
  6000 K (Cs: −1.32 MJ/mol at 5999.9 K, −0.04 MJ/mol at 6000 K). The last interval of every
  expression is therefore carried to :data:`T_UPPER_K` = 10000 K (the upper bound pycalphad
  itself writes for an expression without ranges), which puts :data:`T_MAX_K` = 6000 K inside it.
  The data are assessed to 6000 K; above it they are an extrapolation of the last interval.
* **Contiguous ranges.** The Eu liquid has overlapping ranges (lower bounds 299.15/300.15 K instead
  of 400/1095 K); they are made contiguous, which gives a continuous G.
* **ELEMENT lines.** SGTE91SER gives H298−H0 = S298 = 0 for 29 elements. For eight of them the
  values are taken from :data:`SER_EXTRA` (the ELEMENT lines of the assessed TDBs shipped with
  pycalphad 0.11.2, which cite Dinsdale 1991). For the others ``S298`` is ``−dGHSER/dT`` at
  298.15 K (GHSER = G − H_SER of the SER phase, so its slope is −S298 by construction; for
  non-magnetic elements with a tabulated value the two agree within 0.4 J/mol/K, see the tests)
  and ``H298−H0`` stays 0 (it enters no pycalphad calculation). The reference phase is the SER
  phase, which :mod:`mixcalphad.calphad.database` always defines.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from mixcalphad.chem.binaries import normalize_symbol
from mixcalphad.errors import DatasetError, MixcalphadError, UnknownElementError

logger = logging.getLogger(__name__)

#: Temperature range (K) every unary expression is valid for, both ends included.
T_MIN_K, T_MAX_K = 298.15, 6000.0
#: Upper bound (K) written on the last temperature range of every expression: pycalphad's range
#: condition is ``T < upper``, so it must exceed :data:`T_MAX_K`; 10000 K is the bound pycalphad
#: writes for an expression without ranges.
T_UPPER_K = 10000.0
LIQUID = "LIQUID"
#: ``(H298−H0 in J/mol, S298 in J/mol/K)`` for elements SGTE91SER gives as 0, from the ELEMENT
#: lines of pycalphad 0.11.2's assessed TDBs (values of Dinsdale 1991).
SER_EXTRA = {"CE": (7280.1, 69.454), "CO": (4765.567, 30.04), "HF": (5845.0, 43.56), "LA": (6665.1, 56.902),
             "ND": (7133.7, 71.086), "P": (5360.0, 41.09), "S": (4412.0, 32.054), "Y": (5966.4, 44.434)}
#: The table of SGTE magnetic parameters (package data; sources in the module docstring).
MAGNETIC_FILE = "sgte_magnetic.csv"
#: Inden–Hillert–Jarl model: (antiferromagnetic factor, structure factor p) of BCC_A2 and of the
#: other structures.
IHJ_BCC, IHJ_OTHER = (-1.0, 0.40), (-3.0, 0.28)


def ihj_hints(structure: str) -> dict:
    """pycalphad model hints of the IHJ magnetic model for an SGTE structure (``"BCC_A2"``…).

    >>> ihj_hints("BCC_A2")
    {'ihj_magnetic_afm_factor': -1.0, 'ihj_magnetic_structure_factor': 0.4}
    """
    afm, p = IHJ_BCC if structure.upper() == "BCC_A2" else IHJ_OTHER
    return {"ihj_magnetic_afm_factor": afm, "ihj_magnetic_structure_factor": p}


@lru_cache(maxsize=1)
def magnetic_parameters() -> dict[tuple[str, str], tuple[float, float]]:
    """SGTE magnetic parameters: ``{(element, phase): (TC in K, BMAGN in Bohr magnetons)}``, read
    from ``data/sgte_magnetic.csv`` (:func:`read_magnetic_table`). Negative values are a Néel
    temperature and an antiferromagnetic moment (IHJ convention)."""
    with (resources.files("mixcalphad") / "data" / MAGNETIC_FILE).open("r", encoding="utf-8") as fh:
        return read_magnetic_table(fh, label=f"mixcalphad/data/{MAGNETIC_FILE}")


def read_magnetic_table(fh, label: str) -> dict[tuple[str, str], tuple[float, float]]:
    """``{(element, phase): (TC, BMAGN)}`` of a CSV (columns ``element``, ``phase``, ``TC_K``,
    ``BMAGN``) open as ``fh``.

    Raises
    ------
    DatasetError
        A malformed row: a missing or non-numeric value, TC = 0, TC and BMAGN of different signs,
        a pair listed twice (names ``label`` and the line).
    """
    import csv

    out: dict[tuple[str, str], tuple[float, float]] = {}
    for line, row in enumerate(csv.DictReader(fh), start=2):
        try:
            key = (normalize_symbol(row["element"]), row["phase"].strip().upper())
            tc, bmagn = float(row["TC_K"]), float(row["BMAGN"])
        except (KeyError, TypeError, ValueError, AttributeError, MixcalphadError) as exc:
            raise DatasetError(f"{label} line {line}: cannot read {dict(row)} ({exc})") from None
        if not (math.isfinite(tc) and math.isfinite(bmagn)) or tc == 0.0 or (tc > 0) != (bmagn > 0):
            raise DatasetError(f"{label} line {line}: TC = {tc:g} K and BMAGN = {bmagn:g} must be finite, "
                               "non-zero and of the same sign")
        if key in out:
            raise DatasetError(f"{label} line {line}: {key[0]} {key[1]} is listed twice")
        out[key] = (tc, bmagn)
    return out


def over_unary_range(expr):
    """``expr`` as a Piecewise valid from :data:`T_MIN_K` to :data:`T_UPPER_K` (0 outside)."""
    import symengine as se
    from pycalphad import variables as v

    return se.Piecewise((expr, se.And(v.T >= T_MIN_K, v.T < T_UPPER_K)), (se.Integer(0), se.true))


def ghser_name(element: str) -> str:
    """Name of the SER Gibbs-energy FUNCTION of an element: ``'GHSER' + (el*2)[:2]`` (≤ 8 chars).

    >>> ghser_name("cu"), ghser_name("W")
    ('GHSERCU', 'GHSERWW')
    """
    el = normalize_symbol(element)
    return "GHSER" + (el * 2)[:2]


def _refdata():
    from espei.refdata import SGTE91, SGTE91SER, SGTE91Stable

    return SGTE91, SGTE91Stable, SGTE91SER


def ghser_elements() -> dict[str, str]:
    """``{"GHSERCU": "CU", …}`` for every element with SGTE SER data."""
    _, stable, _ = _refdata()
    return {ghser_name(el): el for el in stable}


def _extended(expr, label: str):
    """A Piecewise in T with contiguous ranges whose last range reaches :data:`T_UPPER_K`."""
    import symengine as se
    from pycalphad import variables as v

    if not isinstance(expr, se.Piecewise):
        return expr
    args = expr.args
    pieces, fallback = [], None
    for value, cond in zip(args[::2], args[1::2]):
        if cond == se.true:
            fallback = value
            continue
        bounds = _bounds(cond)
        if bounds is None:
            return expr  # not a plain T range: leave it to pycalphad
        pieces.append([value, *bounds])
    if not pieces:
        return expr
    pieces.sort(key=lambda p: p[2])
    changed = False
    for prev, cur in zip(pieces, pieces[1:]):
        if cur[1] < prev[2]:
            cur[1] = prev[2]
            changed = True
    if changed:
        logger.info("%s: overlapping temperature ranges in the SGTE data made contiguous", label)
    if pieces[-1][2] < T_UPPER_K:
        logger.debug("%s: last range %g-%g K carried to %g K", label, pieces[-1][1], pieces[-1][2], T_UPPER_K)
        pieces[-1][2] = T_UPPER_K
        changed = True
    if not changed:
        return expr
    new = [(value, se.And(v.T >= lo, v.T < hi)) for value, lo, hi in pieces]
    return se.Piecewise(*new, (fallback if fallback is not None else se.Integer(0), se.true))


def _bounds(cond) -> tuple[float, float] | None:
    """(lo, hi) of ``And(lo <= T, T < hi)``, or None."""
    import symengine as se
    from pycalphad import variables as v

    lo = hi = None
    parts = cond.args if isinstance(cond, se.And) else (cond,)
    for rel in parts:
        lhs, rhs = rel.args
        if isinstance(rel, se.StrictLessThan) and lhs == v.T and rhs.is_Number:
            hi = float(rhs)
        elif isinstance(rel, se.LessThan) and rhs == v.T and lhs.is_Number:
            lo = float(lhs)
        else:
            return None
    return (lo, hi) if lo is not None and hi is not None else None


@dataclass(frozen=True)
class Unary:
    """SGTE unary data of one element (expressions in pycalphad's symengine form, valid from
    :data:`T_MIN_K` to :data:`T_MAX_K` inclusive).

    Attributes
    ----------
    element : str
    ser : dict
        ``ELEMENT``-line data: ``phase`` (the SER phase), ``mass`` (g/mol), ``H298`` (H298−H0,
        J/mol), ``S298`` (J/mol/K).
    ghser : object
        G of the SER phase relative to SER (the ``GHSERxx`` FUNCTION), J/mol.
    liquid : object
        G of the pure liquid, J/mol (refers to ``GHSERxx``).
    solid_phase : str
        The solid stable just below the melting point.
    solid : object
        G of that solid, J/mol.
    magnetic : dict
        ``{phase: (TC in K, BMAGN in Bohr magnetons)}`` of the element's SGTE phases with a
        magnetic contribution (IHJ model, :func:`ihj_hints`); empty for most elements.
    """

    element: str
    ser: dict
    ghser: object
    liquid: object
    solid_phase: str
    solid: object
    magnetic: dict = field(default_factory=dict)

    @property
    def ser_phase(self) -> str:
        """The reference (SER) phase of the ELEMENT line."""
        return self.ser["phase"]

    def solids(self) -> dict:
        """``{phase: G}`` of the SER phase (G = GHSERxx) and the solid stable below T_m (one entry
        when they are the same phase; none for an element whose SER phase is its liquid). A solid
        with a magnetic contribution also needs its ``TC`` and ``BMAGN`` (:attr:`magnetic`)."""
        import symengine as se

        out = {}
        if not self.ser_phase.upper().startswith(LIQUID):
            out[self.ser_phase] = over_unary_range(se.Symbol(ghser_name(self.element)))
        if not self.solid_phase.upper().startswith(LIQUID) and self.solid_phase not in out:
            out[self.solid_phase] = self.solid
        return out


def _s298(ghser) -> float:
    """−dGHSER/dT at 298.15 K (J/mol/K), by a central difference on the first range."""
    from pycalphad import variables as v

    h = 1e-3
    g = [float(ghser.subs({v.T: 298.15 + d})) for d in (h, 2 * h)]
    g0 = float(ghser.subs({v.T: 298.15}))
    return -(4 * g[0] - 3 * g0 - g[1]) / (2 * h)  # one-sided (the range starts at 298.15 K)


def _is_ghser(expr, element: str, ghser) -> bool:
    """Whether an SGTE91 Gibbs energy is the element's GHSER: the function itself, or ``GHSERxx``
    over a single range."""
    import symengine as se

    if str(expr) == str(ghser):
        return True
    return isinstance(expr, se.Piecewise) and len(expr.args) == 4 and expr.args[0] == se.Symbol(ghser_name(element))


def unary(element: str) -> Unary:
    """SGTE unary data of ``element``.

    Raises
    ------
    UnknownElementError
        No SGTE liquid data for the element.
    """
    sgte, stable, ser = _refdata()
    el = normalize_symbol(element)
    if el not in stable or (el, LIQUID) not in sgte:
        raise UnknownElementError(el)
    from mixcalphad.chem.elements import element_table

    table = element_table()
    solid_phase = str(table.loc[el, "solid_phase"]) if el in table.index else ser[el]["phase"]
    if (el, solid_phase) not in sgte:
        solid_phase = ser[el]["phase"]
    solid = sgte.get((el, solid_phase))
    if solid is None:
        solid = stable[el]
    ghser = _extended(stable[el], f"GHSER {el}")
    ser_data = dict(ser[el])
    if (el, ser_data["phase"]) not in sgte and solid_phase != ser_data["phase"]:
        # SGTE91SER names a phase SGTE91 lists under another name (SM: RHOMBOHEDRAL_SM is RHOMB,
        # NP: ORTHORHOMBIC_AC is ORTHO_AC): use the SGTE91 phase whose G is GHSERxx
        stable_phases = [ph for (e, ph) in sgte if e == el and _is_ghser(sgte[(e, ph)], el, stable[el])]
        ser_data["phase"] = stable_phases[0] if stable_phases else solid_phase
    if el in SER_EXTRA and float(ser_data.get("S298", 0.0)) == 0.0:
        ser_data["H298"], ser_data["S298"] = SER_EXTRA[el]
    elif float(ser_data.get("S298", 0.0)) == 0.0:
        ser_data["S298"] = round(_s298(ghser), 3)
    magnetic = {ph: value for (e, ph), value in magnetic_parameters().items() if e == el}
    return Unary(element=el, ser=ser_data, ghser=ghser,
                 liquid=_extended(sgte[(el, LIQUID)], f"{el} LIQUID"), solid_phase=solid_phase,
                 solid=_extended(solid, f"{el} {solid_phase}"), magnetic=magnetic)

