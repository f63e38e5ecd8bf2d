"""The one builder of pycalphad Databases from Redlich–Kister fits (used by write and by merge).

:func:`to_database` builds, for any element set: ``ELEMENT`` lines (SER phase, mass, H298−H0,
S298), the SGTE unary data of :mod:`mixcalphad.calphad.unary` (``GHSERxx`` FUNCTIONs, valid to
6000 K inclusive), the LIQUID whose binary interactions ``L(LIQUID,A,B;n) = VVa + VVb*T`` are FUNCTIONs ``VV0000``,
``VV0001``… (the names ESPEI's MCMC refines: ``a_n`` in J/mol and, where the binary has an excess
entropy, ``b_n = −κ a_n`` in J/(mol K)), and the solids. :func:`~mixcalphad.calphad.tdb_write.write_tdb`
writes it whole; :func:`~mixcalphad.calphad.tdb_merge.merge_into_tdb` builds the statements it adds to a
user's file with the same function (``unary_elements``/``defined_symbols`` restrict it to what the
user's file lacks).

Modelling choices (documented, not hidden)
------------------------------------------
* Solids (``solids="sgte"``, the default) carry their SGTE names (``FCC_A1``, ``BCC_A2``…), one
  sublattice, no vacancy sublattice; every element gets its SER (reference) phase and the solid
  stable just below its melting point (element table ``solid_phase``), not other allotropes.
  Elements sharing a structure form an **ideal** solid solution (no excess), elements of
  different structures do not dissolve in each other's solid, and there are no compounds. A
  liquidus computed from such a file is a liquid-model result against ideal solids, not a phase
  diagram. ``solids="pure"`` gives each element its own phases (no solid solubility at all),
  ``solids="none"`` only the LIQUID. The choice is written into the provenance notes.
* Interaction parameters and the unaries are valid from 298.15 K to 6000 K inclusive; their last
  range is written to 10000 K (:data:`~mixcalphad.calphad.unary.T_UPPER_K`), since pycalphad reads
  a range as ``lo <= T < hi`` and evaluates a FUNCTION as 0 outside its ranges.
* Solids with an SGTE magnetic contribution (Co, Cr, Fe, Mn, Ni) carry it: the phase gets the
  Inden–Hillert–Jarl model (``TYPE_DEFINITION … MAGNETIC -1 0.4`` for BCC_A2, ``-3 0.28`` for the
  others) and ``TC``/``BMAGN`` parameters, so that pycalphad melts every element at SGTE's T_m.
* A binary carried whole from an assessment (:attr:`BinaryFit.assessed`) gets that assessment's own
  ``L(LIQUID,A,B;n)`` expressions (FUNCTIONs inlined, range carried to 298.15–10000 K), not ``VV####``
  symbols: ESPEI does not refine it.
* An RK coefficient that is exactly zero is not written (ESPEI's MCMC cannot start a chain from 0).
* No ``ELEMENT /-`` line (ESPEI's ``generate_parameters`` crashes on it).
"""
from __future__ import annotations

import math
from typing import Iterable, Mapping

from mixcalphad.calphad.binary_fit import BinaryFit, as_fits
from mixcalphad.calphad.excess_entropy import pair_temperature_model
from mixcalphad.calphad.redlich_kister import ENTHALPY_ONLY, TemperatureModel
from mixcalphad.calphad.unary import (T_MIN_K, T_UPPER_K, Unary, ghser_elements, ghser_name, ihj_hints,
                                      over_unary_range, unary)
from mixcalphad.chem.binaries import normalize_symbol
from mixcalphad.errors import TDBError

#: Phase every fit goes into.
LIQUID = "LIQUID"
#: Largest number of ``VV####`` symbols a file can hold: ``VV0000`` … ``VV99999`` (at most 7
#: characters, within the TDB limit of 8; 70 elements need ~15000 with a_n and b_n).
MAX_SYMBOLS = 100000


def interaction_expr(a_value, b_value=None):
    """``L_n(T) = a + b·T`` as a Piecewise over the unary range (:func:`~mixcalphad.calphad.unary.over_unary_range`).

    ``a_value`` (J/mol) and ``b_value`` (J/(mol K), None for no T term) are numbers or FUNCTION names.
    """
    import symengine as se
    from pycalphad import variables as v

    def term(value):
        return se.Symbol(value) if isinstance(value, str) else se.RealDouble(float(value))

    value = term(a_value) if b_value is None else term(a_value) + term(b_value) * v.T
    return over_unary_range(value)


def fit_temperature_model(fit: BinaryFit, override=None) -> TemperatureModel:
    """The temperature model a fit is written with: ``override`` when given (a TemperatureModel, or a
    rule resolved for the fit's pair), else the fit's own (:attr:`BinaryFit.temperature_model`, as
    :func:`~mixcalphad.calphad.binary_fit.fit_binary` resolved and checked it), else enthalpy-only."""
    if override is not None:
        return pair_temperature_model(override, *fit.pair)
    return fit.temperature_model if fit.temperature_model is not None else ENTHALPY_ONLY


def describe_temperature_models(fits, override=None) -> str:
    """One ASCII line for provenance headers: ``override``'s description, or a summary of the fits'
    own temperature models (their κ is on each binary's provenance line)."""
    if override is not None:
        return override.describe()
    fits = as_fits(fits)
    models = {fit_temperature_model(f) for f in fits.values() if f.assessed is None}
    if len(models) == 1 and all(f.assessed is None for f in fits.values()):
        return models.pop().describe()
    counts: dict[str, int] = {}
    for fit in fits.values():
        if fit.assessed is not None:
            key = "assessed whole (own L_n(T))"
        else:
            tm = fit_temperature_model(fit)
            key = {"enthalpy": "enthalpy-only", "kaptay": "kaptay-linear"}.get(tm.kind, "excess entropy")
            key += f" ({tm.label.split(';')[0]})" if tm.label else ""
        counts[key] = counts.get(key, 0) + 1
    parts = "; ".join(f"{k}: {n}" for k, n in sorted(counts.items()))
    return ("per binary: L_n = a_n + b_n*T, b_n = -kappa*a_n (kappa_per_K on each binary line)"
            + (f"; {parts}" if parts else ""))


def interaction_values(fit: BinaryFit, override=None) -> list[tuple[int, float, float | None]]:
    """``[(n, a_n, b_n)]`` of every non-zero coefficient (J/mol, J/(mol K); b None for κ = 0).

    Raises
    ------
    TDBError
        A coefficient that is not finite.
    """
    tm = fit_temperature_model(fit, override)
    out = []
    for n, value in enumerate(fit.fit.coefficients):
        if not math.isfinite(value):
            raise TDBError(f"{fit.system}: L{n} is not finite ({value})")
        if value == 0.0:
            continue
        b = -tm.kappa * float(value)
        out.append((n, float(value), b if b != 0.0 else None))
    return out


def _interaction_terms(fits: Mapping[str, BinaryFit], first: int, taken: set[str] = frozenset(), override=None):
    """``[(system, n, (symbol_a, a), (symbol_b, b) or None)]`` for every non-zero coefficient, symbols
    numbered from ``first`` (a then b)."""
    terms, k = [], first

    def next_symbol(name):
        nonlocal k
        while f"VV{k:04d}" in taken:
            k += 1
        if k >= MAX_SYMBOLS:
            raise TDBError(f"more than {MAX_SYMBOLS} VV#### symbols needed (at {name}); "
                           "split the element set into several files")
        k += 1
        return f"VV{k - 1:04d}"

    for name, fit in fits.items():
        if fit.assessed is not None:  # carried whole: its own L_n(T), no VV#### symbols
            continue
        for n, a, b in interaction_values(fit, override):
            a_term = (next_symbol(name), a)
            b_term = None if b is None else (next_symbol(name), b)
            terms.append((name, n, a_term, b_term))
    return terms


def interaction_symbols(fits, *, first_symbol: int = 0, taken: Iterable[str] = (),
                        temperature_model=None) -> dict[str, tuple[str, ...]]:
    """``{"AL-CU": ("VV0000", "VV0001", …)}``: the FUNCTIONs :func:`to_database` gives each binary
    (a_0, b_0, a_1, b_1…: b only where the binary has an excess entropy; names in ``taken`` skipped)."""
    out: dict[str, tuple[str, ...]] = {}
    for name, _, a_term, b_term in _interaction_terms(as_fits(fits), first_symbol, taken=set(taken),
                                                      override=temperature_model):
        out[name] = out.get(name, ()) + (a_term[0],) + (() if b_term is None else (b_term[0],))
    return out


#: How :func:`to_database` describes the solids (see :func:`solids_description`).
SOLIDS = ("sgte", "pure", "none")


def _solids(solids) -> str:
    if solids is True:
        return "sgte"
    if solids is False or solids is None:
        return "none"
    if solids not in SOLIDS:
        raise TDBError(f"solids must be one of {list(SOLIDS)}, got {solids!r}")
    return solids


def solids_description(solids) -> str:
    """One ASCII line saying how the solids of a written TDB are modelled."""
    return {"sgte": "solids: IDEAL. SGTE SER phase and solid stable below Tm of each "
                    "element, phases shared by structure: ideal solid solutions within a structure, no "
                    "solubility across structures, no compounds. A liquidus from this file is the liquid "
                    "model against ideal solids, not an assessed phase diagram",
            "pure": "solids: SGTE SER phase and solid stable below Tm of each element as one-element "
                    "phases (no solid solubility, no compounds)",
            "none": "solids: none (LIQUID only)"}[_solids(solids)]


def to_database(fits, *, elements: Iterable[str] = (), temperature_model=None,
                solids="sgte", first_symbol: int = 0, unary_elements: Iterable[str] | None = None,
                defined_symbols: Iterable[str] = ()):
    """A pycalphad Database with the LIQUID described by ``fits`` (self-contained by default).

    Parameters
    ----------
    fits : mapping or iterable
        ``{"AL-CU": BinaryFit or RKFit}`` or an iterable of :class:`BinaryFit`; coefficients in
        J/mol for the sorted pair.
    elements : iterable of str, optional
        Elements to include beyond those of the fits (their binaries without a fit are ideal).
    temperature_model : TemperatureModel or rule, optional
        How coefficients depend on T (:func:`fit_temperature_model`): None (default) writes each
        fit with its own :attr:`BinaryFit.temperature_model` (enthalpy-only where it has none);
        given, it overrides every fit.
    solids : {"sgte", "pure", "none"} or bool, optional
        ``"sgte"`` (default, True): each element's SER phase and the solid stable just below its
        melting point, phases named by structure (``FCC_A1``…) and shared by the elements of that
        structure, which then form an *ideal* solid solution; ``"pure"``: the same phases per
        element, named ``<structure>_<element>`` (``FCC_A1_CU``), no solid solubility;
        ``"none"`` (False): LIQUID only.
    first_symbol : int, optional
        Number of the first ``VV####`` symbol (default 0).
    unary_elements : iterable of str, optional
        Elements that get ELEMENT lines, unary data and solids (default: all). The others are
        LIQUID constituents only (their data are elsewhere: a user's file being filled).
    defined_symbols : iterable of str
        FUNCTION names defined elsewhere: not defined here, and skipped when numbering ``VV####``.

    Returns
    -------
    pycalphad.Database

    Raises
    ------
    UnknownElementError
        An element without SGTE unary data.
    TDBError
        Inconsistent fits, or more than 10000 coefficients.
    """
    import symengine as se
    from pycalphad import Database
    from pycalphad.variables import Species

    fits = as_fits(fits)
    solids = _solids(solids)
    els = sorted({normalize_symbol(e) for e in elements} | {e for name in fits for e in name.split("-")})
    if not els:
        raise TDBError("no elements: give fits or elements")
    with_unary = els if unary_elements is None else sorted({normalize_symbol(e) for e in unary_elements})
    defined = {str(n).upper() for n in defined_symbols}
    unaries = [unary(el) for el in with_unary]
    db = Database()
    db.elements = set(els)
    db.species = {Species(el) for el in els}
    phases: dict[tuple[str, str], list] = {}  # (phase, structure) -> [Unary]
    for u in unaries:
        db.refstates[u.element] = dict(u.ser)
        if ghser_name(u.element) not in defined:
            db.symbols[ghser_name(u.element)] = u.ghser
        if solids != "none":
            for structure in u.solids():
                name = structure if solids == "sgte" else f"{structure}_{u.element}"
                phases.setdefault((name, structure), []).append(u)
    db.add_phase(LIQUID, {}, [1.0])
    db.add_phase_constituents(LIQUID, [els])
    for u in unaries:
        db.add_parameter("G", LIQUID, [[u.element]], 0, u.liquid, force_insert=False)
    solid_exprs = [expr for (phase, structure), members in sorted(phases.items())
                   for expr in add_solid_phase(db, phase, structure, members)]
    add_missing_ghser(db, [u.liquid for u in unaries] + solid_exprs, defined)
    for name, n, (symbol_a, a), b_term in _interaction_terms(fits, first_symbol, taken=defined,
                                                             override=temperature_model):
        db.symbols[symbol_a] = se.RealDouble(a)
        if b_term is not None:
            db.symbols[b_term[0]] = se.RealDouble(b_term[1])
        db.add_parameter("L", LIQUID, [name.split("-")], n,
                         interaction_expr(symbol_a, None if b_term is None else b_term[0]), force_insert=False)
    for fit in fits.values():
        if fit.assessed is not None:
            for n, _ in fit.assessed.terms:
                db.add_parameter("L", LIQUID, [list(fit.pair)], n, fit.assessed.piecewise(n, (T_MIN_K, T_UPPER_K)),
                                 force_insert=False)
    db.process_parameter_queue()
    return db


def add_solid_phase(db, phase: str, structure: str, unaries: Iterable[Unary]) -> list:
    """Add a one-sublattice solid ``phase`` of SGTE ``structure`` (``"BCC_A2"``…) holding the
    elements of ``unaries`` to ``db``: ``G`` of each (J/mol) and, where an element has SGTE magnetic
    data for the structure, the IHJ model hints and its ``TC`` (K) and ``BMAGN``.

    Returns the G expressions added (to define the FUNCTIONs they refer to).
    """
    unaries = list(unaries)
    magnetic = any(structure in u.magnetic for u in unaries)
    db.add_phase(phase, ihj_hints(structure) if magnetic else {}, [1.0])
    db.add_phase_constituents(phase, [[u.element for u in unaries]])
    exprs = []
    for u in unaries:
        expr = u.solids()[structure]
        db.add_parameter("G", phase, [[u.element]], 0, expr, force_insert=False)
        add_magnetic_parameters(db, phase, [[u.element]], u.magnetic.get(structure))
        exprs.append(expr)
    return exprs


def add_magnetic_parameters(db, phase: str, constituent_array, values: tuple[float, float] | None) -> None:
    """Add ``TC`` (K) and ``BMAGN`` (Bohr magnetons) ``values`` of an end-member to ``db`` (nothing for None)."""
    import symengine as se

    if values is None:
        return
    for ptype, value in zip(("TC", "BMAGN"), values):
        db.add_parameter(ptype, phase, constituent_array, 0, over_unary_range(se.RealDouble(value)),
                         force_insert=False)


def add_missing_ghser(db, exprs, defined=frozenset()) -> None:
    """Define every ``GHSERxx`` an expression refers to (SGTE data of other phases may)."""
    known = ghser_elements()
    for expr in exprs:
        for sym in expr.free_symbols:
            name = str(sym)
            if name.startswith("GHSER") and name not in db.symbols and name not in defined:
                if name not in known:
                    raise TDBError(f"SGTE data refer to {name}, which espei.refdata does not define")
                db.symbols[name] = unary(known[name]).ghser
