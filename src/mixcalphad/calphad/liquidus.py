"""Liquidus temperatures of binary and ternary alloys from any TDB, with pycalphad.

The liquidus at a composition is the lowest temperature above which the alloy is entirely LIQUID
(one or more liquid composition sets). It is bracketed on a coarse temperature grid by one
vectorised :func:`pycalphad.equilibrium` call over all compositions, then refined by bisection with
single-temperature calls; the pycalphad models are built once and reused.

Example
-------
>>> result = liquidus("cumg.tdb", ["CU", "MG"], [0.1, 0.5, 0.9])      # doctest: +SKIP
>>> result.to_dataframe()                                             # doctest: +SKIP
"""
from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from mixcalphad.chem.binaries import normalize_symbol
from mixcalphad.data.tdb_read import liquid_phases, read_database, resolve_liquid
from mixcalphad.errors import CompositionError, MixcalphadError, TDBError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiquidusResult:
    """Liquidus temperatures along a list of compositions.

    Attributes
    ----------
    elements : tuple of str
        The components; compositions give the mole fractions of ``elements[1:]``.
    x : ndarray, shape (n, len(elements) - 1)
        Mole fractions of ``elements[1:]``.
    T_K : ndarray, shape (n,)
        Liquidus temperature (K); NaN where it lies outside the searched range (see ``note``).
    primary : list of str
        Phases other than the liquid that pycalphad's equilibrium finds just below the liquidus
        (within the bisection tolerance), '+'-joined.
    note : list of str
        Empty, or why a temperature is missing.
    caveat : str
        Empty, or a warning about the database (a mixcalphad self-contained file: ideal solids).
    """

    elements: tuple
    x: np.ndarray
    T_K: np.ndarray
    primary: list
    note: list
    caveat: str = ""

    def to_dataframe(self) -> pd.DataFrame:
        data = {f"X_{el}": self.x[:, i] for i, el in enumerate(self.elements[1:])}
        return pd.DataFrame({**data, "T_liquidus_K": self.T_K, "primary_phases": self.primary, "note": self.note})

    def to_dict(self) -> dict:
        return {"elements": list(self.elements), "unit": "K", "caveat": self.caveat,
                "points": json_safe(self.to_dataframe().to_dict("records"))}


def json_safe(records: list[dict]) -> list[dict]:
    """NaN to None in a list of flat dicts."""
    return [{k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()} for r in records]


class LiquidusCalculator:
    """Liquidus temperatures of one system of a database, with pycalphad models built once.

    Parameters
    ----------
    db : str, Path or pycalphad.Database
        The thermodynamic database.
    elements : sequence of str
        Two or three elements.
    phases : sequence of str, optional
        Phases to consider (default: every phase of the database that these elements can form).
    liquid : str, optional
        The liquid phase (default ``LIQUID``, else the database's one liquid-like phase; see
        :func:`~mixcalphad.data.tdb_read.resolve_liquid`). Other liquid-like phases are left out
        unless listed in ``phases``.

    Raises
    ------
    TDBError
        An element or the liquid is missing, several liquid-like phases and none named, or pycalphad
        cannot build the models.
    """

    def __init__(self, db, elements: Sequence[str], phases: Sequence[str] | None = None, liquid: str | None = None):
        from pycalphad.core.utils import filter_phases, instantiate_models, unpack_species

        self.caveat = ideal_solids_caveat(db)
        if self.caveat:
            warnings.warn(self.caveat, UserWarning, stacklevel=2)
            log.warning(self.caveat)
        self.db = read_database(db)
        self.elements = tuple(normalize_symbol(e) for e in elements)
        if len(self.elements) not in (2, 3) or len(set(self.elements)) != len(self.elements):
            raise MixcalphadError(f"liquidus needs two or three different elements, got {list(elements)}")
        missing = [e for e in self.elements if e not in self.db.elements]
        if missing:
            raise TDBError(f"the database has no element {', '.join(missing)} (it has {sorted(self.db.elements)})")
        self.liquid = resolve_liquid(self.db, liquid)
        self.components = [*self.elements, "VA"] if "VA" in self.db.elements else list(self.elements)
        available = filter_phases(self.db, unpack_species(self.db, self.components))
        if phases is None:
            other_liquids = set(liquid_phases(self.db)) - {self.liquid}
            phases = [p for p in available if p not in other_liquids]
        self.phases = sorted(p for p in phases if p in available)
        if self.liquid not in self.phases:
            raise TDBError(f"the database's {self.liquid} cannot form {'-'.join(self.elements)} "
                           f"(or was left out of phases)")
        try:
            self.models = instantiate_models(self.db, self.components, self.phases)
        except (ValueError, KeyError) as exc:  # pycalphad's model-building complaints
            raise TDBError(f"pycalphad cannot build the models of {'-'.join(self.elements)} with phases "
                           f"{self.phases}: {exc}") from None

    def _equilibrium(self, x: np.ndarray, T):
        from pycalphad import equilibrium
        from pycalphad import variables as v

        conds = {v.T: T, v.P: 101325, v.N: 1}
        for i, el in enumerate(self.elements[1:]):
            conds[v.X(el)] = x[i]
        return equilibrium(self.db, self.components, self.phases, conds, model=self.models)

    def _liquid_fraction(self, eq) -> np.ndarray:
        phase, amount = eq.Phase.values, eq.NP.values
        return np.nansum(np.where(phase == self.liquid, amount, 0.0), axis=-1).squeeze(axis=(0, 1))

    def _phases_at(self, x, T) -> str:
        eq = self._equilibrium(x, T)
        phase, amount = eq.Phase.values.reshape(-1), eq.NP.values.reshape(-1)
        names = sorted({p for p, n in zip(phase, amount) if p and p != self.liquid and n > 1e-9})
        return "+".join(names)

    def compute(self, x, *, T_min: float = 300.0, T_max: float | None = None, step: float = 25.0,
                tol: float = 0.1, progress: bool | None = None) -> LiquidusResult:
        """Liquidus temperatures (K) at compositions ``x``.

        Parameters
        ----------
        x : array_like
            Mole fraction of the last element (binary: shape (n,)), or of the last two elements
            (ternary: shape (n, 2)).
        T_min, T_max : float
            Search range in K (default T_max: highest SGTE melting point of the elements + 500 K).
        step : float
            Coarse grid step in K.
        tol : float
            Bisection tolerance in K.
        """
        x = np.atleast_2d(np.asarray(x, dtype=float))
        n_free = len(self.elements) - 1
        if x.shape[0] == 1 and x.shape[1] != n_free:
            x = x.T
        if x.shape[1] != n_free:
            raise CompositionError(f"compositions for {'-'.join(self.elements)} need {n_free} mole fraction(s) "
                                   f"per point, got shape {x.shape}")
        if np.any(x < 0) or np.any(x.sum(axis=1) > 1) or not np.all(np.isfinite(x)):
            raise CompositionError("mole fractions must be ≥ 0 and sum to at most 1")
        if T_max is None:
            from mixcalphad.chem.elements import element_property

            T_max = float(element_property(self.elements, "T_melt_K").max()) + 500.0
        grid = np.arange(T_min, T_max + step / 2, step)
        temps, primary, notes = np.full(len(x), np.nan), [""] * len(x), [""] * len(x)
        for i, point in enumerate(tqdm(x, desc="liquidus", unit="composition",
                                       disable=None if progress is None else not progress)):
            liquid = self._liquid_fraction(self._equilibrium(point, grid)) >= 1 - 1e-8
            if liquid.all():
                notes[i] = f"fully liquid at T_min = {T_min} K"
                continue
            if not liquid[-1]:
                notes[i] = f"not fully liquid at T_max = {T_max} K"
                continue
            lo = grid[np.nonzero(~liquid)[0][-1]]
            hi = lo + step
            while hi - lo > tol:
                mid = 0.5 * (lo + hi)
                if self._liquid_fraction(self._equilibrium(point, mid)).item() >= 1 - 1e-8:
                    hi = mid
                else:
                    lo = mid
            temps[i] = 0.5 * (lo + hi)
            primary[i] = self._phases_at(point, lo)  # just below the liquidus (within tol)
        return LiquidusResult(elements=self.elements, x=x, T_K=temps, primary=primary, note=notes,
                              caveat=self.caveat)


def ideal_solids_caveat(db) -> str:
    """A warning when ``db`` is a mixcalphad self-contained file (its solids are ideal), else ``""``."""
    from mixcalphad.calphad.provenance import read_provenance

    if not isinstance(db, (str, Path)) or "\n" in str(db) or not Path(db).is_file():
        return ""
    try:
        prov = read_provenance(db)
    except TDBError:
        return ""
    if prov is None or not any(n.startswith("solids: ") and not n.startswith("solids: none") for n in prov.notes):
        return ""
    return (f"{Path(db).name} is a mixcalphad self-contained file: its solids are ideal SGTE solutions "
            "without compounds or solid excess, so this liquidus is the liquid model against ideal solids, "
            "not an assessed phase diagram (fill an assessed TDB with 'mixcalphad fill' for one)")


def liquidus(db, elements: Sequence[str], x, **options) -> LiquidusResult:
    """Liquidus temperatures of a binary or ternary (see :meth:`LiquidusCalculator.compute`)."""
    phases, liquid = options.pop("phases", None), options.pop("liquid", None)
    return LiquidusCalculator(db, elements, phases, liquid).compute(x, **options)


def melting_points(db, element: str, T_K, liquid: str = "LIQUID") -> np.ndarray:
    """Melting points (K) of a pure element in a Database: where pycalphad's G of ``liquid`` falls
    below the lowest solid the element can form, on the temperature grid ``T_K`` (crossings
    interpolated linearly between grid points; one :func:`pycalphad.calculate` call).

    The solids are the phases with the element on their first sublattice and the element or
    vacancies on every other (gas phases left out). Usually one value; none when the liquid
    never crosses within the grid, more when it crosses several times.

    >>> melting_points(Database("cumg.tdb"), "CU", np.arange(1300.0, 1400.0, 0.01))   # doctest: +SKIP
    array([1357.77])
    """
    from pycalphad import calculate

    el = normalize_symbol(element)
    if isinstance(db, (str, Path)):
        db = read_database(Path(db).read_text(encoding="utf-8", errors="replace"), label=str(db))
    phases = sorted(name for name, phase in db.phases.items()
                    if (name == liquid or "GAS" not in name.upper()) and el in {s.name for s in phase.constituents[0]}
                    and all({s.name for s in sub} & {el, "VA"} for sub in phase.constituents[1:]))
    if liquid not in phases or len(phases) < 2:
        raise TDBError(f"{el} has no {liquid} or no solid phase of its own in the database")
    T = np.asarray(T_K, dtype=float)
    comps = [el] + (["VA"] if "VA" in {s.name for s in db.species} else [])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = calculate(db, comps, phases, T=T, P=101325, N=1, output="GM")
    gm = res.GM.values.reshape(len(T), -1)
    names = res.Phase.values.reshape(len(T), -1)[0]
    gap = np.min(gm[:, names == liquid], axis=1) - np.min(gm[:, names != liquid], axis=1)
    i = np.flatnonzero((gap[:-1] > 0) & (gap[1:] <= 0))
    return T[i] + gap[i] / (gap[i] - gap[i + 1]) * (T[i + 1] - T[i])


def isopleth(start: Sequence[float], end: Sequence[float], n: int = 11) -> np.ndarray:
    """``n`` compositions on the straight line from ``start`` to ``end`` (mole fractions of the last two elements)."""
    start, end = np.asarray(start, dtype=float), np.asarray(end, dtype=float)
    return start + np.linspace(0, 1, n)[:, None] * (end - start)
