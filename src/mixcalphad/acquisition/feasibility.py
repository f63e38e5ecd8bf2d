"""Can an AIMD run of this binary liquid be done and trusted? Filters, each with its reason.

A plan is only worth running if each picked system gives a usable liquid ΔH_mix. The run
temperature comes from the AIMD protocol (:func:`mixcalphad.aimd.protocol.run_temperature`: the
higher melting point snapped up to 50 K, or above a known equimolar liquidus), and a binary is
left out — with a reason in the plan's exclusions table — when:

* one of its elements is excluded (carbon by default: its liquid exists only under ~10 MPa, where
  pV is not negligible), the system is excluded by the user, or the store flags it (``immiscible``);
* T_run is not below the **normal boiling point** T_b of both elements by ``boiling_margin_K``
  (default :data:`DEFAULT_BOILING_MARGIN_K` = 100 K): the liquid would be superheated or close to
  it, its pressure window meaningless (the founding paper's Mg and Ca partners above boiling mostly
  ended "immiscible"). Why 100 K: (1) with Trouton's rule (ΔS_vap ≈ 10.5 R) the vapour pressure at
  T_b − 100 K is p/p° = exp(−10.5 · 100 / (T_b − 100)), 0.31 atm for T_b = 1000 K and 0.50 atm for
  Li (1615 K): the 1-atm liquid reference is then a stable liquid by a clear margin, not one at
  coexistence; (2) 100 K is 5–10 % of the boiling points this rule is for (Li, Mg, Zn, Cd, Ca, Sr,
  Yb, Tl, Bi, Sb: 1040–1860 K), the size of PBE's error on cohesive energies, and T_b scales with
  the cohesive energy (Trouton), so PBE's own boiling point may lie that much lower. Be–Li at
  1600 K (Li boils at 1615 K) is out; so is the paper's Al–Ir at 2750 K (Al boils at 2792 K), which
  is already computed. An element without a known boiling point fails this test (conservative);
* T_run is above ``max_reduced_T`` × the **critical temperature** of an element (where one is
  reported, measured or extrapolated): near T_c there is no dense liquid reference at any pressure.
  For the metals with a reported T_c, T_b/T_c = 0.36 (Hg) to 0.50 (Li), so the boiling-point test
  binds first; the critical test guards against a wrong or missing boiling point;
* an element forms a **molecular or covalent liquid** (P₄, S₈, Se chains, As): plain PBE without
  dispersion describes these poorly (``allow_molecular`` to keep them);
* an element is an **f-element** (lanthanides Ce–Lu, actinides; ``block == "f"``): plain PBE without
  +U or spin–orbit coupling is poor for open 4f/5f shells (``allow_f_elements`` to keep them, e.g.
  with a +U/SOC protocol or f-in-core potentials).

**Liquidus.** T_run is raised above the equimolar liquidus where one is known, so that the liquid is
not deeply undercooled (a PuP or UBe₁₃ liquid 1000 K below its compound's melting point may
crystallise within 10 ps); the boiling and critical tests then apply at the raised T. Known
liquidus temperatures come, in this order, from the user (``liquidus_K``) and from the shipped table
``mixcalphad/data/equimolar_liquidus.csv`` (``assessed_liquidus=True``, see
:func:`assessed_liquidus`): the liquidus at x = 0.5 of every binary liquid of the default TDB
corpus, computed by ``scripts/build_liquidus_table.py`` with pycalphad against all condensed phases
of each file (no pycalphad at plan time).

**Binaries without a known liquidus** run at the protocol's temperature, just above the higher
melting point. That is above the equimolar liquidus unless (a) an intermediate compound (or a
solid solution with a maximum) melts above both elements, or (b) a liquid miscibility gap persists
above the melting points (the store's ``immiscible`` flags cover the ones observed). (a) needs a
strongly exothermic compound. The conservative rule: a binary without a known liquidus whose Miedema
ΔH_mix at x = 0.5 is at or below ``compound_hmix_J`` (default :data:`DEFAULT_COMPOUND_HMIX_J`), or
that forms valence compounds (:data:`VALENCE_COMPOUND_PAIRS`: an s-block metal with Si, Ge, Sn, Pb,
As, Sb or Bi — Zintl phases —, an alkali metal with Zn, Cd or Hg — amalgams and zincides — or Al,
Ga, In with As or Sb — III–V compounds; Miedema's model gives
these small or even positive ΔH, +2 kJ/mol for Al–Sb whose AlSb melts ~400 K above both elements) is
excluded (``unknown_liquidus="exclude"``, default) or only noted (``"note"``). The threshold is the
least negative Miedema ΔH_mix(0.5) of the assessed binaries of the shipped table whose equimolar
liquidus lies more than :data:`UNDERCOOLING_TOLERANCE_K` above the protocol's T_run (see
``benchmarks/README.md``, section "build_liquidus_table.py --calibrate"): every assessed binary
whose liquidus lies that far above T_run is caught, at the price of excluding some whose liquidus
does not. It catches U–Be (UBe₁₃ melts near 2270 K, 700 K above Be; Miedema −26 kJ/mol) and P–Pu
(−96 kJ/mol), which the f-element and molecular rules exclude anyway. What it cannot catch: a
high-melting compound of a binary whose Miedema ΔH is less negative than the threshold — Al–Co
(B2 CoAl melts near 1911 K, ~140 K above Co; Miedema −19 kJ/mol) runs at 1800 K, ~110 K
undercooled, unless a liquidus is given — size-stabilised Laves phases, valence compounds outside
:data:`VALENCE_COMPOUND_PAIRS`, and liquid miscibility gaps not yet flagged.

Element data: boiling points from the element table (mendeleev), with the gaps and sublimation
points filled — and critical temperatures (reported or extrapolated) and liquid classes given — by
``mixcalphad/data/element_volatility.csv``, one source per value (the CRC Handbook's values via the
Wikipedia data pages and element infoboxes, Gokcen 1989 for As).

Example
-------
>>> table = feasibility_table(["CU-NI", "BE-LI", "IR-RB", "P-PU"]).set_index("system")
>>> table.loc["CU-NI", "excluded"]
''
>>> print(table.loc["BE-LI", "excluded"])
T_run 1600 K > boiling point of LI (1615 K) − 100 K margin
>>> print(table.loc["IR-RB", "excluded"])
T_run 2750 K > boiling point of RB (961 K) − 100 K margin; T_run 2750 K > 0.6 × critical T of RB (2093 K, extrapolated)
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
#: Default margin (K) by which T_run must stay below each element's boiling point (see the module
#: docstring: vapour pressure ≤ 0.5 atm by Trouton's rule for T_b ≤ 1600 K, and PBE's error on T_b).
DEFAULT_BOILING_MARGIN_K = 100.0
#: Default Miedema ΔH_mix at x = 0.5 (J/mol of atoms) at or below which a binary without a known
#: liquidus may form a compound melting above T_run (calibrated on the shipped liquidus table; see the
#: module docstring).
DEFAULT_COMPOUND_HMIX_J = -22000.0
#: How far (K) the equimolar liquidus may lie above T_run before the liquid counts as deeply
#: undercooled (used to calibrate :data:`DEFAULT_COMPOUND_HMIX_J`).
UNDERCOOLING_TOLERANCE_K = 100.0
#: Valence (Zintl and III–V) compound formers, where Miedema's ΔH misses compounds that melt above
#: both elements (AlSb ~1330 K vs Al 933 K; Mg₃Sb₂ ~1520 K, Mg₂Sn ~1050 K vs Mg 923 K; Li₃Bi ~1420 K;
#: NaHg₂ ~620 K vs Na 371 K): an s-block metal with a group-14/15 element, an alkali metal with
#: Zn, Cd or Hg, or Al/Ga/In with As/Sb.
VALENCE_COMPOUND_PAIRS = ((frozenset({"LI", "NA", "K", "RB", "CS", "MG", "CA", "SR", "BA"}),
                           frozenset({"SI", "GE", "SN", "PB", "AS", "SB", "BI"})),
                          (frozenset({"LI", "NA", "K", "RB", "CS"}), frozenset({"ZN", "CD", "HG"})),
                          (frozenset({"AL", "GA", "IN"}), frozenset({"AS", "SB"})))
#: What to do with a binary without a known liquidus and a strongly negative Miedema ΔH_mix.
UNKNOWN_LIQUIDUS_RULES = ("exclude", "note")
#: The shipped table of equimolar liquidus temperatures (``scripts/build_liquidus_table.py``).
LIQUIDUS_TABLE = "equimolar_liquidus.csv"
#: Columns of :func:`feasibility_table`.
FEASIBILITY_COLUMNS = ("system", "T_run_K", "liquidus_K", "excluded", "exclusion_kinds", "notes")
#: Kinds of exclusion reasons (plus ``"flagged <flag>"``).
REASON_KINDS = ("element excluded", "molecular liquid", "f-element", "no boiling point", "above boiling point",
                "near critical point", "possible high-melting compound", "excluded by user")


@functools.lru_cache(maxsize=1)
def _volatility_csv() -> pd.DataFrame:
    from importlib import resources

    path = resources.files("mixcalphad") / "data" / "element_volatility.csv"
    with path.open("r", encoding="utf-8") as fh:
        frame = pd.read_csv(fh, keep_default_na=False, na_values=[""])
    frame["element"] = [normalize_symbol(e) for e in frame["element"]]
    return frame.set_index("element")


@functools.lru_cache(maxsize=1)
def assessed_liquidus() -> pd.DataFrame:
    """Equimolar liquidus temperatures of the assessed binaries of the default TDB corpus.

    Read from the shipped table :data:`LIQUIDUS_TABLE` (one row per binary and file, written by
    ``scripts/build_liquidus_table.py`` with pycalphad against all phases of the file). A row is
    usable when it has a value and is not a lower bound (a file that cannot melt the equimolar alloy
    1500 K above both melting points describes its solids wrongly for this binary). Several usable
    files: the **median** (robust against one file whose solids are incomplete or wrong; the spread
    is kept).

    Returns
    -------
    DataFrame
        Index: system. Columns ``liquidus_K`` (K), ``n_files``, ``spread_K`` (max − min over the
        usable files, K), ``source`` (the files and their values, for notes).
    """
    from importlib import resources

    path = resources.files("mixcalphad") / "data" / LIQUIDUS_TABLE
    with path.open("r", encoding="utf-8") as fh:
        raw = pd.read_csv(fh, keep_default_na=False, na_values=[""])
    missing = {"system", "liquidus_K", "bound", "file"} - set(raw.columns)
    if missing:
        raise AcquisitionError(f"{LIQUIDUS_TABLE} lacks column(s) {sorted(missing)}")
    usable = raw[raw["liquidus_K"].notna() & (raw["bound"].fillna("") == "")]
    rows = []
    for system, group in usable.groupby("system", sort=True):
        values = group["liquidus_K"].astype(float)
        files = ", ".join(f"{f} {t:.0f} K" for f, t in zip(group["file"], values))
        rows.append({"system": system_name(*parse_system(system)), "liquidus_K": float(np.median(values)),
                     "n_files": len(group), "spread_K": float(values.max() - values.min()),
                     "source": files if len(group) == 1 else f"median of {files}"})
    return pd.DataFrame(rows, columns=["system", "liquidus_K", "n_files", "spread_K", "source"]).set_index("system")


def element_volatility() -> pd.DataFrame:
    """Per element of the element table: the data the feasibility filters use.

    Returns
    -------
    DataFrame
        Index: element. Columns ``boiling_point_K`` (K; normal boiling or sublimation point),
        ``critical_T_K`` (K; NaN where none is reported), ``critical_T_kind`` (``"reported"``,
        ``"extrapolated"`` — an estimate — or ``""``), ``liquid_class`` (``metal``, ``molecular`` or
        ``covalent``), ``f_element`` (bool, ``block == "f"``), ``source`` (where the boiling point
        and the critical temperature come from).
    """
    from mixcalphad.chem.elements import element_table

    table = element_table()
    extra = _volatility_csv()
    out = pd.DataFrame(index=table.index)
    out["boiling_point_K"] = table["boiling_point_K"].astype(float)
    out["critical_T_K"] = np.nan
    out["critical_T_kind"] = ""
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
            out.at[el, "critical_T_kind"] = str(row["critical_T_kind"])
        out.at[el, "liquid_class"] = str(row["liquid_class"])
        source = f"boiling point: {row['boiling_point_source']}"
        if np.isfinite(row["critical_T_K"]):
            source += f"; critical T ({row['critical_T_kind']}): {row['critical_T_source']}"
        out.at[el, "source"] = source
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
        T_run must not exceed each boiling point minus this margin, K (default
        :data:`DEFAULT_BOILING_MARGIN_K`).
    max_reduced_T : float
        T_run must not exceed this fraction of each measured critical temperature.
    allow_molecular : bool
        Keep molecular/covalent liquids (P, As, S, Se).
    allow_f_elements : bool
        Keep f-elements (when a +U/SOC protocol or f-in-core potentials are configured).
    liquidus_K : tuple of (system, K)
        Known equimolar liquidus temperatures; T_run is raised above them. A mapping is accepted.
        They take precedence over the shipped table.
    assessed_liquidus : bool
        Also use the shipped table of equimolar liquidus temperatures of the assessed binaries
        (:func:`assessed_liquidus`).
    unknown_liquidus : {"exclude", "note"}
        A binary without a known liquidus whose Miedema ΔH_mix(0.5) is at or below
        ``compound_hmix_J`` is excluded (default) or only noted.
    compound_hmix_J : float
        That threshold, J/mol of atoms (default :data:`DEFAULT_COMPOUND_HMIX_J`).
    """

    exclude_elements: tuple[str, ...] = DEFAULT_EXCLUDE
    exclude_systems: tuple[str, ...] = ()
    skip_flags: tuple[str, ...] = DEFAULT_SKIP_FLAGS
    boiling_margin_K: float = DEFAULT_BOILING_MARGIN_K
    max_reduced_T: float = DEFAULT_MAX_REDUCED_T
    allow_molecular: bool = False
    allow_f_elements: bool = False
    liquidus_K: tuple[tuple[str, float], ...] = field(default=())
    assessed_liquidus: bool = True
    unknown_liquidus: str = "exclude"
    compound_hmix_J: float = DEFAULT_COMPOUND_HMIX_J

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
        if self.unknown_liquidus not in UNKNOWN_LIQUIDUS_RULES:
            raise AcquisitionError(f"unknown_liquidus must be one of {UNKNOWN_LIQUIDUS_RULES}, "
                                   f"got {self.unknown_liquidus!r}")
        if not np.isfinite(self.compound_hmix_J):
            raise AcquisitionError(f"compound_hmix_J must be a number in J/mol, got {self.compound_hmix_J}")

    def to_dict(self) -> dict:
        return {"exclude_elements": list(self.exclude_elements), "exclude_systems": list(self.exclude_systems),
                "skip_flags": list(self.skip_flags), "boiling_margin_K": self.boiling_margin_K,
                "max_reduced_T": self.max_reduced_T, "allow_molecular": self.allow_molecular,
                "allow_f_elements": self.allow_f_elements, "liquidus_K": dict(self.liquidus_K),
                "assessed_liquidus": self.assessed_liquidus, "unknown_liquidus": self.unknown_liquidus,
                "compound_hmix_J": self.compound_hmix_J}


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
    elif rules.boiling_margin_K and T_K > tb - rules.boiling_margin_K:
        reasons.append(("above boiling point", f"T_run {T_K:.0f} K > boiling point of {el} ({tb:.0f} K) − "
                                               f"{rules.boiling_margin_K:g} K margin"))
    elif not rules.boiling_margin_K and T_K >= tb:
        reasons.append(("above boiling point", f"T_run {T_K:.0f} K ≥ boiling point of {el} ({tb:.0f} K)"))
    if np.isfinite(tc) and T_K > rules.max_reduced_T * tc:
        kind = ", extrapolated" if row.get("critical_T_kind", "") == "extrapolated" else ""
        reasons.append(("near critical point",
                        f"T_run {T_K:.0f} K > {rules.max_reduced_T:g} × critical T of {el} ({tc:.0f} K{kind})"))
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
        out, T_run at least 100 K below boiling and below 0.6 T_c, raised above the assessed
        equimolar liquidus where the shipped table has one, and strong or valence compound formers
        without a known liquidus out).
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
    from mixcalphad.aimd.settings import RECOMMENDED_POTCARS

    rules = rules or FeasibilityRules()
    data = element_volatility()
    flagged = _flagged(flags, rules.skip_flags)
    known = known_liquidus(rules)
    pairs = [parse_system(s) for s in systems]
    names = [system_name(a, b) for a, b in pairs]
    static = [[r for el in pair for r in element_reasons(el, None, rules, data)] for pair in pairs]
    timed = [i for i, reasons in enumerate(static) if full or not reasons]
    timed_set = set(timed)
    unknown = [i for i in timed if names[i] not in known]
    miedema = dict(zip((names[i] for i in unknown), _miedema_half([pairs[i] for i in unknown])))
    rows = []
    for i, ((a, b), s) in enumerate(zip(pairs, names)):
        liq, liq_source = known.get(s, (None, ""))
        if i not in timed_set:
            rows.append({"system": s, "T_run_K": np.nan, "liquidus_K": np.nan if liq is None else liq,
                         **_joined(static[i]), "notes": ""})
            continue
        choice = _run_temperature(a, b, liq)
        T = float(choice.T_K)
        reasons = [r for el in (a, b) for r in element_reasons(el, T, rules, data)]
        notes = []
        if liq is None:
            h = miedema.get(s, np.nan)
            message = ""
            if np.isfinite(h) and h <= rules.compound_hmix_J:
                message = (f"no known liquidus and Miedema ΔH_mix(0.5) = {h / 1000:.0f} kJ/mol ≤ "
                           f"{rules.compound_hmix_J / 1000:.0f} kJ/mol: a compound may melt above T_run {T:.0f} K")
            elif valence_compound_former(a, b):
                message = (f"no known liquidus and {a}-{b} forms valence (Zintl or III-V) compounds, which often "
                           f"melt above both elements: a compound may melt above T_run {T:.0f} K")
            if message:
                if rules.unknown_liquidus == "exclude":
                    reasons.append(("possible high-melting compound", message))
                else:
                    notes.append(message)
            else:
                notes.append("liquidus unknown")
        elif liq > max(t for _, t in choice.T_melt_K):
            notes.append(f"T raised above the known liquidus {liq:.0f} K ({liq_source})")
        else:
            notes.append(f"liquidus {liq:.0f} K ({liq_source})")
        if s in flagged:
            reasons.append((f"flagged {flagged[s]}", f"flagged {flagged[s]}"))
        if s in rules.exclude_systems:
            reasons.append(("excluded by user", "excluded by user"))
        for el in (a, b):
            if bool(data.at[el, "f_element"]) and rules.allow_f_elements:
                notes.append(f"{el}: f-element, POTCAR {RECOMMENDED_POTCARS.get(el, '?')}")
        rows.append({"system": s, "T_run_K": T, "liquidus_K": np.nan if liq is None else liq,
                     **_joined(reasons), "notes": "; ".join(notes)})
    return pd.DataFrame(rows, columns=list(FEASIBILITY_COLUMNS))


def valence_compound_former(a: str, b: str) -> bool:
    """Whether A–B is one of :data:`VALENCE_COMPOUND_PAIRS` (Zintl or III–V compound formers).

    >>> valence_compound_former("SB", "AL"), valence_compound_former("AL", "SI")
    (True, False)
    """
    pair = {normalize_symbol(a), normalize_symbol(b)}
    return any(len(pair & metals) == 1 and len(pair & anions) == 1 for metals, anions in VALENCE_COMPOUND_PAIRS)


def known_liquidus(rules: FeasibilityRules) -> dict[str, tuple[float, str]]:
    """{system: (equimolar liquidus in K, where it comes from)}: the user's values over the shipped table."""
    known: dict[str, tuple[float, str]] = {}
    if rules.assessed_liquidus:
        table = assessed_liquidus()
        known.update({s: (float(t), f"assessed: {src}")
                      for s, t, src in zip(table.index, table["liquidus_K"], table["source"])})
    known.update({s: (t, "given") for s, t in rules.liquidus_K})
    return known


def _miedema_half(pairs: list[tuple[str, str]]) -> np.ndarray:
    """Miedema's ΔH_mix at x = 0.5 (J/mol) of each pair; NaN where an element lacks parameters."""
    from mixcalphad.chem.miedema import miedema_pairs
    from mixcalphad.errors import MixcalphadError

    if not pairs:
        return np.empty(0)
    a, b = zip(*pairs)
    try:
        return miedema_pairs(list(a), list(b), np.full(len(pairs), 0.5))
    except MixcalphadError:  # one pair at a time: NaN only for the pairs without parameters
        out = np.full(len(pairs), np.nan)
        for i, pair in enumerate(pairs):
            try:
                out[i] = miedema_pairs([pair[0]], [pair[1]], [0.5])[0]
            except MixcalphadError:
                pass
        return out
