"""Solid phases for the elements ``fill`` brings into a user's TDB, so that none is a liquid-only element.

An element added to a user's LIQUID without any solid would be liquid at every temperature in
pycalphad: liquidus temperatures near it would be meaningless. Each new element therefore gets the
solids of mixcalphad's self-contained files (:meth:`mixcalphad.calphad.unary.Unary.solids`: its SER
phase and the solid stable just below its melting point, SGTE 1991 Gibbs energies):

* **extend** — when the user's file has that phase (``BCC_A2``…) with a substitutional first
  sublattice and only vacancies on the others, and the phase is neither an ordered phase nor the
  disordered part of an order–disorder pair, the element joins its first sublattice with the
  end-member ``G(P,X:VA…;0) = a·G_X`` (``a`` the sites of that sublattice) and, where SGTE gives
  the element a magnetic contribution in that structure, its ``TC`` and ``BMAGN`` — provided the
  user's phase has the same Inden–Hillert–Jarl model (factors −1, 0.4 for BCC_A2; −3, 0.28
  otherwise). It then dissolves ideally in the user's phase: no interaction with the user's
  elements is known.
* **new** — otherwise a phase of its own: ``P`` (one sublattice) when the file has no phase of that
  name, else ``P_X`` (the user's ``P`` has a model mixcalphad cannot extend, or lacks the magnetic
  model the element needs). No solubility. A magnetic one gets its own ``TYPE_DEFINITION``.

pycalphad (0.11.2) cannot compute a system of new elements only while the file's ordered phases are
included (``BCC_B2`` with only vacancies active raises "Order … and disorder … model must have no
interstitial sublattice…"): leave those phases out there.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from mixcalphad.calphad.database import add_magnetic_parameters, add_solid_phase
from mixcalphad.calphad.unary import ihj_hints, unary
from mixcalphad.errors import TDBError

VACANCY = "VA"


@dataclass(frozen=True)
class SolidAddition:
    """One solid phase given to a new element.

    Attributes
    ----------
    element, phase : str
        The element and the phase it enters (an existing phase for ``extend``).
    action : {"extend", "new"}
        Added to the user's phase, or a phase written by mixcalphad.
    structure : str
        The SGTE phase name of the structure (``BCC_A2``); equals ``phase`` except for ``P_X``.
    reason : str
        Why a new phase was needed (empty for ``extend`` and for a structure the file lacks).
    """

    element: str
    phase: str
    action: str
    structure: str
    reason: str = ""

    def describe(self) -> str:
        if self.action == "extend":
            return f"{self.element} added to {self.phase} (ideal, no interaction with the file's elements)"
        return f"{self.element} in new phase {self.phase}" + (f" ({self.reason})" if self.reason else "")


def plan_solids(user_db, new_elements: Iterable[str]) -> list[SolidAddition]:
    """Where each new element's solids go in ``user_db`` (a pycalphad Database)."""
    out = []
    for el in sorted(new_elements):
        u = unary(el)
        for structure in u.solids():
            problem = (_cannot_extend(user_db, structure, magnetic=structure in u.magnetic)
                       if structure in user_db.phases else None)
            if structure not in user_db.phases:
                out.append(SolidAddition(el, structure, "new", structure))
            elif problem:
                out.append(SolidAddition(el, f"{structure}_{el}", "new", structure, reason=problem))
            else:
                out.append(SolidAddition(el, structure, "extend", structure))
    return out


def _cannot_extend(db, phase: str, magnetic: bool = False) -> str:
    """Why ``phase`` of ``db`` cannot take a new element on its first sublattice ("" when it can);
    ``magnetic``: the element needs SGTE's magnetic model of the structure ``phase``."""
    obj = db.phases[phase]
    hints = obj.model_hints
    if magnetic:
        needed = ihj_hints(phase)
        if any(hints.get(k) != value for k, value in needed.items()):
            return (f"{phase} of the file lacks the magnetic model MAGNETIC {needed['ihj_magnetic_afm_factor']:g} "
                    f"{needed['ihj_magnetic_structure_factor']:g} the element needs")
    if hints.get("ordered_phase") == phase or hints.get("disordered_phase") not in (None, phase):
        return f"{phase} of the file is part of an order-disorder model"
    if any(p.model_hints.get("disordered_phase") == phase for name, p in db.phases.items() if name != phase):
        # pycalphad then extends the ordered phase too, and its equilibria fail (measured on alcocrni.tdb)
        return f"{phase} of the file is the disordered part of an order-disorder model"
    for sub in obj.constituents[1:]:
        if {s.name for s in sub} != {VACANCY}:
            return f"{phase} of the file has a non-vacancy sublattice after the first"
    return ""


def add_solids(db, user_db, additions: Iterable[SolidAddition]) -> list:
    """Add the phases and end-member parameters of ``additions`` to ``db`` (the Database whose
    statements are inserted into the user's file; ``user_db`` gives the extended phases' models).
    Returns the Gibbs-energy expressions added (to define the FUNCTIONs they use)."""
    from pycalphad.variables import Species

    additions = list(additions)
    exprs = []
    if any(a.action == "extend" for a in additions):
        db.species.add(Species(VACANCY))
    new_phases: dict[tuple[str, str], list] = {}  # (phase, structure) -> [Unary]
    for add in additions:
        u = unary(add.element)
        if add.action == "extend":
            obj = user_db.phases[add.phase]
            if add.phase not in db.phases:
                db.add_phase(add.phase, dict(obj.model_hints), list(obj.sublattices))
                db.add_phase_constituents(add.phase, [[s.name for s in sub] for sub in obj.constituents])
            array = [[add.element]] + [[VACANCY]] * (len(obj.sublattices) - 1)
            expr = u.solids()[add.structure]
            db.add_parameter("G", add.phase, array, 0, _scaled(expr, float(obj.sublattices[0])), force_insert=False)
            add_magnetic_parameters(db, add.phase, array, u.magnetic.get(add.structure))
            exprs.append(expr)
        else:
            new_phases.setdefault((add.phase, add.structure), []).append(u)
    for (phase, structure), members in new_phases.items():
        if phase in user_db.phases:
            raise TDBError(f"internal error: new phase {phase} exists in the file")
        exprs += add_solid_phase(db, phase, structure, members)
    db.process_parameter_queue()
    return exprs


def _scaled(expr, factor: float):
    """``factor × expr`` with a Piecewise scaled branch by branch (so that it still prints as TDB ranges)."""
    import symengine as se

    if factor == 1.0:
        return expr
    if isinstance(expr, se.Piecewise):
        args = expr.args
        return se.Piecewise(*[(se.RealDouble(factor) * value, cond) for value, cond in zip(args[::2], args[1::2])])
    return se.RealDouble(factor) * expr


def extended_constituents(additions: Iterable[SolidAddition]) -> dict[str, list[str]]:
    """``{phase: [new elements]}`` for the user's phases whose first sublattice grows."""
    out: dict[str, list[str]] = {}
    for add in additions:
        if add.action == "extend":
            out.setdefault(add.phase, []).append(add.element)
    return out
