"""The full excess Gibbs energy of an assessed binary liquid, kept so that it can be written back whole.

ΔH_mix harvested from a TDB (:mod:`mixcalphad.data.harvest`) is only the enthalpy part of an
assessment: ``L = a + bT + cT ln T`` contributes ``a − cT`` to it, and the excess entropy ``−b − c(1 +
ln T)`` is lost. An :class:`AssessedLiquid` keeps the assessment's own interaction parameters
``L_n(T)`` of one binary LIQUID so that a TDB written by mixcalphad (``write-tdb --store``, ``fill``)
can carry them unchanged instead of an enthalpy-only refit.

Representation
--------------
Each order ``n`` is a list of temperature intervals ``(T_low_K, T_high_K, expression)``: the
expression is plain symengine text in ``T`` (``"-66622.0 + 8.1*T"``) with every FUNCTION of the
source file substituted and the piecewise ranges of the parameter and of those FUNCTIONs merged
into one set of intervals. Old-style ``G(LIQUID,A,B;n)`` and ``L(LIQUID,A,B;n)`` are the same
thing to pycalphad and are summed per order. Orientation is pycalphad's: the constituents of a
parameter are sorted when read and odd orders are not sign-flipped, so the terms here describe
exactly the liquid pycalphad computes from the source (and the harvested ΔH_mix).

Writing (:meth:`AssessedLiquid.piecewise`) carries the first interval down to 298.15 K and the
last up to 6000 K when the source stops short, the rule mixcalphad applies to the SGTE unaries.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from mixcalphad.chem.binaries import sorted_pair, system_name
from mixcalphad.errors import TDBError

#: Temperature range every written interaction covers, K.
T_RANGE_K = (298.15, 6000.0)


@dataclass(frozen=True)
class AssessedLiquid:
    """The interaction parameters of one assessed binary LIQUID.

    Attributes
    ----------
    system : str
        ``"AL-CU"`` (sorted pair).
    terms : tuple of (int, tuple of (float, float, str))
        ``(n, ((T_low_K, T_high_K, expression), …))`` per order, intervals sorted and contiguous;
        expressions in J/mol of atoms, symengine syntax in ``T`` (K).
    source : str
        File name of the assessment (the store's ``source``).
    reference : str
        Where the file came from (the store's ``reference``).
    checksum : str
        ``sha256:<hex>`` of the file (the store's key of its rows).
    """

    system: str
    terms: tuple
    source: str
    reference: str
    checksum: str

    @property
    def pair(self) -> tuple[str, str]:
        return tuple(self.system.split("-"))  # type: ignore[return-value]

    @property
    def order(self) -> int:
        """Highest order present."""
        return max(n for n, _ in self.terms)

    def piecewise(self, order: int, T_range_K: tuple[float, float] = T_RANGE_K):
        """``L_order(T)`` as a symengine Piecewise in pycalphad's ``T``, valid over ``T_range_K``
        (0 outside, as pycalphad reads a TDB parameter), J/mol."""
        import symengine as se
        from pycalphad import variables as v

        T = v.T
        intervals = dict(self.terms)[order]
        pieces = []
        for i, (lo, hi, text) in enumerate(intervals):
            lo = min(lo, T_range_K[0]) if i == 0 else lo
            hi = max(hi, T_range_K[1]) if i == len(intervals) - 1 else hi
            expr = se.sympify(text).subs({se.Symbol("T"): T})
            pieces.append((expr, se.And(T >= se.RealDouble(lo), T < se.RealDouble(hi))))
        return se.Piecewise(*pieces, (se.Integer(0), se.true))

    def coefficients(self, T_K: float) -> list[float]:
        """``[L_0, L_1, …]`` at ``T_K`` (J/mol), zero for absent orders."""
        from pycalphad import variables as v

        out = [0.0] * (self.order + 1)
        for n, _ in self.terms:
            out[n] = float(self.piecewise(n).subs({v.T: float(T_K)}))
        return out

    def excess_gibbs(self, x_B, T_K: float) -> np.ndarray:
        """G_ex(x_B, T) = x_A x_B Σ L_n(T) (x_A − x_B)^n, J/mol of atoms."""
        x = np.atleast_1d(np.asarray(x_B, dtype=float))
        xa = 1.0 - x
        return xa * x * sum(c * (xa - x) ** n for n, c in enumerate(self.coefficients(T_K)))

    def to_record(self) -> dict:
        """A JSON-ready dict (the store's ``assessed_liquids`` table)."""
        return {"system": self.system, "source": self.source, "reference": self.reference,
                "checksum": self.checksum,
                "terms": [[n, [[lo, hi, text] for lo, hi, text in intervals]] for n, intervals in self.terms]}

    @classmethod
    def from_record(cls, record: Mapping) -> "AssessedLiquid":
        terms = tuple((int(n), tuple((float(lo), float(hi), str(text)) for lo, hi, text in intervals))
                      for n, intervals in record["terms"])
        return cls(system=record["system"], terms=terms, source=record["source"],
                   reference=record["reference"], checksum=record["checksum"])


def extract_assessed_liquid(db, phase: str, pair: Sequence[str], *, source: str, reference: str,
                            checksum: str) -> AssessedLiquid:
    """The interaction parameters of ``pair`` in ``phase`` of a pycalphad Database, FUNCTIONs inlined.

    Raises
    ------
    TDBError
        No interaction parameter for the pair, a FUNCTION that the file does not define, or a
        piecewise condition on something other than temperature.
    """
    from mixcalphad.data.tdb_read import phase_parameters

    a, b = sorted_pair(*pair)
    name = system_name(a, b)
    by_order: dict[int, list] = {}
    for row in phase_parameters(db, phase, (a, b)):
        if row["parameter_type"] in ("L", "G"):
            by_order.setdefault(int(row["parameter_order"]), []).append(row["parameter"])
    if not by_order:
        raise TDBError(f"{source}: {phase} has no interaction parameter for {name}")
    terms = tuple((n, _intervals(sum(exprs[1:], exprs[0]), db.symbols, f"{source}: L({phase},{a},{b};{n})"))
                  for n, exprs in sorted(by_order.items()))
    return AssessedLiquid(system=name, terms=terms, source=source, reference=reference, checksum=checksum)


def _intervals(expr, symbols: Mapping, label: str) -> tuple:
    """Contiguous ``(T_low, T_high, text)`` pieces of ``expr`` with FUNCTIONs substituted."""
    breaks = sorted(_breakpoints(expr, symbols, label, set()) | set(T_RANGE_K))
    pieces: list[list] = []
    for lo, hi in zip(breaks[:-1], breaks[1:]):
        value = _active(expr, symbols, 0.5 * (lo + hi), label)
        if value is None:
            continue
        unknown = sorted(str(s) for s in value.free_symbols if str(s) != "T")
        if unknown:
            raise TDBError(f"{label} depends on {', '.join(unknown)}, not on temperature alone")
        text = str(value.expand())
        if pieces and pieces[-1][1] == lo and pieces[-1][2] == text:
            pieces[-1][1] = hi
        else:
            pieces.append([lo, hi, text])
    if not pieces:
        raise TDBError(f"{label}: zero at every temperature")
    if any(p[1] != q[0] for p, q in zip(pieces[:-1], pieces[1:])):
        raise TDBError(f"{label}: temperature ranges with a hole ({[(p[0], p[1]) for p in pieces]})")
    return tuple((float(lo), float(hi), text) for lo, hi, text in pieces)


def _breakpoints(expr, symbols: Mapping, label: str, seen: set) -> set:
    """Every finite temperature bound of the Piecewise conditions in ``expr`` and its FUNCTIONs."""
    import symengine as se

    out: set = set()
    if isinstance(expr, se.Piecewise):
        args = expr.args
        for value, cond in zip(args[::2], args[1::2]):
            out |= {float(a) for rel in (cond.args if isinstance(cond, se.And) else (cond,))
                    for a in getattr(rel, "args", ()) if a.is_Number and math.isfinite(float(a))}
            out |= _breakpoints(value, symbols, label, seen)
        return out
    for sym in expr.free_symbols:
        name = str(sym)
        if name in ("T", "P") or name in seen:
            continue
        if name not in symbols:
            raise TDBError(f"{label} refers to {name}, which the file does not define")
        out |= _breakpoints(symbols[name], symbols, label, seen | {name})
    for arg in getattr(expr, "args", ()):
        if not isinstance(expr, se.Symbol):
            out |= _breakpoints(arg, symbols, label, seen)
    return out


def _active(expr, symbols: Mapping, T_K: float, label: str):
    """``expr`` at temperature ``T_K`` with Piecewise branches chosen and FUNCTIONs inlined
    (None where the parameter itself is outside its ranges)."""
    import symengine as se

    T = se.Symbol("T")
    if isinstance(expr, se.Piecewise):
        args = expr.args
        for value, cond in zip(args[::2], args[1::2]):
            if cond.subs({T: T_K}) == se.true:
                if cond == se.true and len(args) > 2:
                    return None  # pycalphad's implicit 0 beyond the declared ranges
                return _active(value, symbols, T_K, label)
        return None
    if isinstance(expr, se.Symbol):
        name = str(expr)
        if name in ("T", "P"):
            return expr
        inner = _active(symbols[name], symbols, T_K, label)
        if inner is None:
            raise TDBError(f"{label}: FUNCTION {name} is undefined at {T_K:g} K")
        return inner
    if not expr.args:
        return expr
    args = [_active(a, symbols, T_K, label) for a in expr.args]
    if any(a is None for a in args):
        return None
    return expr.func(*args)
