"""Replace the binary LIQUID interactions of an assessed pycalphad Database by our fits.

:func:`replace_liquid` returns a copy of a Database in which, for every binary of ``fits``, the
LIQUID's binary interaction parameters — ``L(LIQUID,A,B;n)`` and old-style ``G(LIQUID,A,B;n)``
whose constituents are exactly those two elements, every order — are removed and the fit's
Redlich–Kister coefficients written in their place under a
:class:`~mixcalphad.calphad.redlich_kister.TemperatureModel`. Everything else is kept as
assessed: the unaries (``G(LIQUID,A;0)``…), the solid phases, the interactions of other binaries,
ternary terms and FUNCTIONs. The input Database is never modified.

Uses: the liquidus benchmark (assessed solids + our liquid against the full assessment) and
``fill --replace`` (our liquid in a user's file).

The liquid is ``LIQUID``, else the database's one liquid-like phase (``LIQUID_RENB``), or the phase
named by ``liquid=``. Only a one-sublattice substitutional liquid of pure elements can be edited this way (the rule
of :func:`mixcalphad.data.tdb_read.liquid_problem`); anything else (ionic two-sublattice liquids,
associates) raises :class:`~mixcalphad.errors.TDBError`, as does an element of a fit that the
Database or its LIQUID lacks.

Example: a fit with L0 = −40000 J/mol for CU–NI put into a database gives HM_MIX = −10000 J/mol at
x_NI = 0.5 in pycalphad (``Model(db, ["CU", "NI"], "LIQUID").HM_MIX``).
"""
from __future__ import annotations

import copy
import math

from mixcalphad.calphad.binary_fit import as_fits
from mixcalphad.calphad.database import interaction_expr, interaction_values
from mixcalphad.data.tdb_read import LIQUID, resolve_liquid
from mixcalphad.errors import TDBError

#: Parameter types removed for a replaced binary (interaction ``L`` and old-style ``G``).
REPLACED_TYPES = ("L", "G")


def binary_liquid_parameters(db, a: str, b: str, liquid: str = LIQUID) -> list[dict]:
    """Parameters of the phase ``liquid`` (types :data:`REPLACED_TYPES`) whose constituents are exactly
    ``a`` and ``b``.

    One sublattice holding the two elements, any order and any ``parameter_order``; parameters
    that also involve a third species (ternary terms, ``VA``) are not included.
    """
    from tinydb import where

    wanted = {a, b}

    def exactly_pair(constituents) -> bool:
        return (len(constituents) == 1 and len(constituents[0]) == 2
                and {str(getattr(s, "name", s)).upper() for s in constituents[0]} == wanted)

    query = ((where("phase_name") == liquid) & where("parameter_type").one_of(list(REPLACED_TYPES))
             & where("constituent_array").test(exactly_pair))
    return db._parameters.search(query)


def replace_liquid(db, fits, *, temperature_model=None, liquid: str | None = None):
    """A copy of ``db`` whose LIQUID interactions of the fitted binaries are the fits'.

    Parameters
    ----------
    db : pycalphad.Database
        An assessed database with a one-sublattice substitutional ``LIQUID``; not modified.
    fits : mapping or iterable
        ``{"AL-CU": BinaryFit or RKFit}`` or an iterable of
        :class:`~mixcalphad.calphad.binary_fit.BinaryFit`; Redlich–Kister coefficients ``a_n``
        in J/mol of atoms for the alphabetically sorted pair.
    temperature_model : TemperatureModel or rule, optional
        How the coefficients depend on T, ``L_n = a_n + b_n T``: None (default): each fit's own :attr:`BinaryFit.temperature_model`
        (enthalpy-only where it has none); a TemperatureModel or rule overrides every fit.
        Parameters are valid from 298.15 K to 6000 K.
    liquid : str, optional
        The liquid phase to edit (default ``LIQUID``, else the database's one liquid-like phase, e.g.
        ``LIQUID_RENB``; :func:`~mixcalphad.data.tdb_read.resolve_liquid`).

    Returns
    -------
    pycalphad.Database
        A deep copy with, for each fitted binary, every ``L``/``G`` parameter of the liquid of exactly
        that pair removed and ``L(<liquid>,A,B;n)`` written for each non-zero ``a_n``.

    Raises
    ------
    TDBError
        No usable liquid (missing, several liquid-like phases and none named, or not a one-sublattice
        substitutional liquid of pure elements); an
        element of a fit is not in the database or not a constituent of its LIQUID; a
        coefficient is not finite.

    Examples
    --------
    >>> from mixcalphad.calphad.redlich_kister import RKFit
    >>> new = replace_liquid(db, {"CU-NI": RKFit(...)})        # doctest: +SKIP
    """
    try:
        phase = resolve_liquid(db, liquid)
    except TDBError as exc:
        raise TDBError(f"cannot replace liquid interactions: {exc}") from None
    chosen = as_fits(fits)
    constituents = {s.name for s in db.phases[phase].constituents[0]}
    for name, fit in chosen.items():
        for element in fit.pair:
            if element not in db.elements:
                raise TDBError(f"{name}: the database has no element {element}")
            if element not in constituents:
                raise TDBError(f"{name}: {element} is not a constituent of the database's {phase} "
                               f"(constituents: {', '.join(sorted(constituents))})")
        bad = [n for n, value in enumerate(fit.fit.coefficients) if not math.isfinite(float(value))]
        if bad:
            raise TDBError(f"{name}: L{bad[0]} is not finite ({fit.fit.coefficients[bad[0]]})")
    new = copy.deepcopy(db)
    for name, fit in chosen.items():
        a, b = fit.pair
        doc_ids = [p.doc_id for p in binary_liquid_parameters(new, a, b, phase)]
        if doc_ids:
            new._parameters.remove(doc_ids=doc_ids)
        for n, a_n, b_n in interaction_values(fit, temperature_model):
            new.add_parameter("L", phase, [[a, b]], n, interaction_expr(a_n, b_n))
    return new
