"""Can an AIMD run of this binary liquid be done and trusted? Filters, each with its reason.

A plan is only worth running if each picked system gives a usable liquid ΔH_mix. The run
temperature comes from the AIMD protocol (:func:`mixcalphad.aimd.protocol.run_temperature`: the
higher melting point snapped up to 50 K, or above a known equimolar liquidus), and a binary is
left out — with a reason in the plan's exclusions table — when:

* one of its elements is excluded (carbon by default: its liquid exists only under ~10 MPa, where
  pV is not negligible), the system is excluded by the user, or the store flags it (``immiscible``);
* T_run is not below the **normal boiling point** of both elements (minus ``boiling_margin_K``): the
  liquid would be superheated, its pressure window meaningless (the founding paper's Mg and Ca
  partners above boiling mostly ended "immiscible"). An element without a known boiling point fails
  this test (conservative);
* T_run is above ``max_reduced_T`` × the **critical temperature** of an element (where one is
  measured): near T_c there is no dense liquid reference at any pressure. For every metal with a
  measured T_c, T_b/T_c ≤ 0.5, so the boiling-point test binds first; the critical test guards
  against a wrong or missing boiling point;
* an element forms a **molecular or covalent liquid** (P₄, S₈, Se chains, As): plain PBE without
  dispersion describes these poorly (``allow_molecular`` to keep them);
* an element is an **f-element** (lanthanides Ce–Lu, actinides; ``block == "f"``): plain PBE without
  +U or spin–orbit coupling is poor for open 4f/5f shells (``allow_f_elements`` to keep them, e.g.
  with a +U/SOC protocol or f-in-core potentials).

Known equimolar liquidus temperatures (``liquidus_K``, K) raise T_run above the liquidus so that the
liquid is not deeply undercooled (a PuP or UBe₁₃ liquid 1000 K below its compound's melting point
may crystallise within 10 ps); the boiling and critical tests then apply at the raised T. Where no
liquidus is known the plan says so in its notes; no estimate is made (a regular-solution estimate of
a compound's melting point from ΔH_mix alone is not reliable enough to exclude on).

Element data: boiling points from the element table (mendeleev), with the gaps and sublimation
points filled — and critical temperatures and liquid classes given — by
``mixcalphad/data/element_volatility.csv`` (each row with its source; mostly the CRC Handbook's table
"Melting, Boiling, Triple, and Critical Points of the Elements").

Example
-------
>>> table = feasibility_table(["AL-IR", "IR-RB", "P-PU", "CU-NI"]).set_index("system")
>>> table.loc["AL-IR", "excluded"]
''
>>> print(table.loc["IR-RB", "excluded"])
T_run 2750 K ≥ boiling point of RB (961 K); T_run 2750 K > 0.6 × critical T of RB (2093 K)
>>> print(table.loc["P-PU", "exclusion_kinds"])
molecular liquid; f-element
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from mixcalphad.chem.binaries import check_elements, normalize_symbol, parse_system, system_name
from mixcalphad.errors import AcquisitionError

#: Elements left out of the plan by default: carbon liquids exist only under high pressure.
DEFAULT_EXCLUDE = ("C",)
#: Store flags that take a system out of the plan.
DEFAULT_SKIP_FLAGS = ("immiscible",)
#: Liquid classes that plain PBE without dispersion handles poorly.
MOLECULAR_CLASSES = ("molecular", "covalent")
#: Default largest T_run / T_c of either element.
DEFAULT_MAX_REDUCED_T = 0.6
#: Columns of :func:`feasibility_table`.
FEASIBILITY_COLUMNS = ("system", "T_run_K", "liquidus_K", "excluded", "exclusion_kinds", "notes")
#: Kinds of exclusion reasons (plus ``"flagged <flag>"``).
REASON_KINDS = ("element excluded", "molecular liquid", "f-element", "no boiling point", "above boiling point",
                "near critical point", "excluded by user")


@functools.lru_cache(maxsize=1)
def _volatility_csv() -> pd.DataFrame:
    from importlib import resources

    path = resources.files("mixcalphad") / "data" / "element_volatility.csv"
    with path.open("r", encoding="utf-8") as fh:
        frame = pd.read_csv(fh, keep_default_na=False, na_values=[""])
    frame["element"] = [normalize_symbol(e) for e in frame["element"]]
    return frame.set_index("element")


def element_volatility() -> pd.DataFrame:
    """Per element of the element table: the data the feasibility filters use.

    Returns
    -------
    DataFrame
        Index: element. Columns ``boiling_point_K`` (K; normal boiling or sublimation point),
        ``critical_T_K`` (K; NaN where not measured), ``liquid_class`` (``metal``, ``molecular`` or
        ``covalent``), ``f_element`` (bool, ``block == "f"``), ``source`` (where the volatility
        values come from).
    """
    from mixcalphad.chem.elements import element_table

    table = element_table()
    extra = _volatility_csv()
    out = pd.DataFrame(index=table.index)
    out["boiling_point_K"] = table["boiling_point_K"].astype(float)
    out["critical_T_K"] = np.nan
    out["liquid_class"] = "metal"
    out["f_element"] = (table["block"] == "f").to_numpy()
    out["source"] = "boiling point: element table (mendeleev 1.3.0)"
    for el, row in extra.iterrows():
        if el not in out.index:
            continue
        if np.isfinite(row["boiling_point_K"]):
            out.at[el, "boiling_point_K"] = float(row["boiling_point_K"])
        if np.isfinite(row["critical_T_K"]):
            out.at[el, "critical_T_K"] = float(row["critical_T_K"])
        out.at[el, "liquid_class"] = str(row["liquid_class"])
        out.at[el, "source"] = str(row["source"])
    return out


@dataclass(frozen=True)
class FeasibilityRules:
    """The filters of a plan (see the module docstring).

    Parameters
    ----------
    exclude_elements : tuple of str
        Elements whose binaries are never picked (default carbon).
    exclude_systems : tuple of str
        Binaries never picked (any order or case).
    skip_flags : tuple of str
        Store flags that take a system out (default ``immiscible``).
    boiling_margin_K : float
        T_run must be below each boiling point minus this margin, K.
    max_reduced_T : float
        T_run must not exceed this fraction of each measured critical temperature.
    allow_molecular : bool
        Keep molecular/covalent liquids (P, As, S, Se).
    allow_f_elements : bool
        Keep f-elements (when a +U/SOC protocol or f-in-core potentials are configured).
    liquidus_K : tuple of (system, K)
        Known equimolar liquidus temperatures; T_run is raised above them. A mapping is accepted.
    """

    exclude_elements: tuple[str, ...] = DEFAULT_EXCLUDE
    exclude_systems: tuple[str, ...] = ()
    skip_flags: tuple[str, ...] = DEFAULT_SKIP_FLAGS
    boiling_margin_K: float = 0.0
    max_reduced_T: float = DEFAULT_MAX_REDUCED_T
    allow_molecular: bool = False
    allow_f_elements: bool = False
    liquidus_K: tuple[tuple[str, float], ...] = field(default=())

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "exclude_elements", tuple(check_elements(self.exclude_elements)) if self.exclude_elements else ())
        set_(self, "exclude_systems", tuple(sorted({system_name(*parse_system(s)) for s in self.exclude_systems})))
        set_(self, "skip_flags", tuple(self.skip_flags))
        items = self.liquidus_K.items() if isinstance(self.liquidus_K, Mapping) else self.liquidus_K
        liq = {}
        for s, t in items:
            t = float(t)
            if not np.isfinite(t) or t <= 0:
                raise AcquisitionError(f"liquidus_K of {s} must be a positive temperature in K, got {t}")
            liq[system_name(*parse_system(s))] = t
        set_(self, "liquidus_K", tuple(sorted(liq.items())))
        if not np.isfinite(self.boiling_margin_K) or self.boiling_margin_K < 0:
            raise AcquisitionError(f"boiling_margin_K must be ≥ 0 K, got {self.boiling_margin_K}")
        if not 0 < self.max_reduced_T <= 1:
            raise AcquisitionError(f"max_reduced_T must lie in (0, 1], got {self.max_reduced_T}")

    def to_dict(self) -> dict:
        return {"exclude_elements": list(self.exclude_elements), "exclude_systems": list(self.exclude_systems),
                "skip_flags": list(self.skip_flags), "boiling_margin_K": self.boiling_margin_K,
                "max_reduced_T": self.max_reduced_T, "allow_molecular": self.allow_molecular,
                "allow_f_elements": self.allow_f_elements, "liquidus_K": dict(self.liquidus_K)}


def _flagged(flags: pd.DataFrame | None, skip: Iterable[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    skip = set(skip)
    if flags is None or not len(flags) or not skip:
        return out
    for s, f in zip(flags["system"], flags["flag"]):
        if f in skip:
            out.setdefault(system_name(*parse_system(s)), f)
    return out


def _joined(reasons: list[tuple[str, str]]) -> dict:
    return {"excluded": "; ".join(dict.fromkeys(m for _, m in reasons)),
            "exclusion_kinds": "; ".join(dict.fromkeys(k for k, _ in reasons))}


def element_reasons(el: str, T_K: float | None, rules: FeasibilityRules,
                    data: pd.DataFrame) -> list[tuple[str, str]]:
    """Why element ``el`` cannot be run at ``T_K`` (K) under ``rules``: (kind, message) pairs.

    An empty list: it can. Kinds are :data:`REASON_KINDS`. With ``T_K=None`` only the
    temperature-independent reasons are checked.
    """
    row = data.loc[el]
    reasons = []
    if el in rules.exclude_elements:
        reasons.append(("element excluded", f"element {el} excluded"
                        + (" (carbon: a liquid only under high pressure)" if el == "C" else "")))
    if not rules.allow_molecular and row["liquid_class"] in MOLECULAR_CLASSES:
        reasons.append(("molecular liquid",
                        f"{el} forms a {row['liquid_class']} liquid (poor under plain PBE without dispersion)"))
    if not rules.allow_f_elements and bool(row["f_element"]):
        reasons.append(("f-element", f"{el} is an f-element (open 4f/5f shell: plain PBE without +U/SOC)"))
    if T_K is None:
        return reasons
    tb, tc = float(row["boiling_point_K"]), float(row["critical_T_K"])
    if not np.isfinite(tb):
        reasons.append(("no boiling point", f"boiling point of {el} unknown"))
    elif T_K >= tb - rules.boiling_margin_K:
        margin = f" - {rules.boiling_margin_K:g} K" if rules.boiling_margin_K else ""
        reasons.append(("above boiling point", f"T_run {T_K:.0f} K ≥ boiling point of {el} ({tb:.0f} K{margin})"))
    if np.isfinite(tc) and T_K > rules.max_reduced_T * tc:
        reasons.append(("near critical point",
                        f"T_run {T_K:.0f} K > {rules.max_reduced_T:g} × critical T of {el} ({tc:.0f} K)"))
    return reasons


@functools.lru_cache(maxsize=20000)
def _run_temperature(a: str, b: str, liquidus_K: float | None):
    """The AIMD protocol's run temperature (cached: the element lookups cost ~2 ms a pair)."""
    from mixcalphad.aimd.protocol import run_temperature

    return run_temperature(a, b, liquidus_K=liquidus_K)


def feasibility_table(systems: Iterable[str], rules: FeasibilityRules | None = None,
                      flags: pd.DataFrame | None = None, *, full: bool = False) -> pd.DataFrame:
    """Run temperature and the feasibility verdict of each binary.

    Parameters
    ----------
    systems : iterable of str
        Binaries (``"AL-IR"``), any order or case.
    rules : FeasibilityRules, optional
        The filters (defaults: carbon out, immiscible flags out, molecular liquids and f-elements
        out, T_run below boiling and below 0.6 T_c).
    flags : DataFrame, optional
        Store flags (``system``, ``flag``).
    full : bool
        Also compute T_run (and its reasons) for binaries already excluded by a
        temperature-independent rule (element excluded, molecular liquid, f-element); by default
        their ``T_run_K`` is NaN, which saves most of the time on a full element set.

    Returns
    -------
    DataFrame
        :data:`FEASIBILITY_COLUMNS`: ``T_run_K`` (K, the AIMD protocol's rule), ``liquidus_K`` (the
        known equimolar liquidus, K, or NaN), ``excluded`` (reasons joined by ``"; "``, ``""`` when
        feasible), ``exclusion_kinds`` (their kinds, :data:`REASON_KINDS`) and ``notes`` (warnings
        that do not exclude).
    """
    from mixcalphad.aimd.protocol import RECOMMENDED_POTCARS

    rules = rules or FeasibilityRules()
    data = element_volatility()
    flagged = _flagged(flags, rules.skip_flags)
    liquidus = dict(rules.liquidus_K)
    rows = []
    for s in systems:
        a, b = parse_system(s)
        s = system_name(a, b)
        liq = liquidus.get(s)
        static = [r for el in (a, b) for r in element_reasons(el, None, rules, data)]
        if static and not full:
            rows.append({"system": s, "T_run_K": np.nan, "liquidus_K": np.nan if liq is None else liq,
                         **_joined(static), "notes": ""})
            continue
        choice = _run_temperature(a, b, liq)
        T = float(choice.T_K)
        reasons = [r for el in (a, b) for r in element_reasons(el, T, rules, data)]
        if s in flagged:
            reasons.append((f"flagged {flagged[s]}", f"flagged {flagged[s]}"))
        if s in rules.exclude_systems:
            reasons.append(("excluded by user", "excluded by user"))
        notes = []
        if liq is None:
            notes.append("liquidus unknown")
        elif liq > max(t for _, t in choice.T_melt_K):
            notes.append(f"T raised above the known liquidus {liq:.0f} K")
        for el in (a, b):
            if bool(data.at[el, "f_element"]) and rules.allow_f_elements:
                notes.append(f"{el}: f-element, POTCAR {RECOMMENDED_POTCARS.get(el, '?')}")
        rows.append({"system": s, "T_run_K": T, "liquidus_K": np.nan if liq is None else liq,
                     **_joined(reasons), "notes": "; ".join(notes)})
    return pd.DataFrame(rows, columns=list(FEASIBILITY_COLUMNS))
