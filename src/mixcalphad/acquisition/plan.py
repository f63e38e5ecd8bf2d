"""The acquisition plan: which binary liquids to compute next by AIMD, why, at what T and cost.

:func:`rank_binaries` runs four steps:

1. **score** — the refitted regressor's σ at x = 0.5 over every supported binary, and a GP on the
   regressor's residuals (:class:`~mixcalphad.acquisition.value.ResidualGP`) that says how much a new
   equimolar point of each candidate lowers that variance integrated over all binaries
   (``strategy="integrated-variance"``, default); or the paper's PHYSBO GP max σ over composition
   (``strategy="max-sigma"``, :class:`~mixcalphad.acquisition.gp.VarianceGP`);
2. **filter** — feasibility with reasons (:mod:`~mixcalphad.acquisition.feasibility`): the AIMD run
   temperature, raised above the equimolar liquidus where one is known (the shipped table of the
   assessed binaries, or the user's ``liquidus_K``), must stay ``boiling_margin_K`` (default 100 K)
   below both boiling points and below 0.6 T_c; molecular liquids, f-elements, carbon, store flags,
   and binaries without a known liquidus whose Miedema ΔH_mix(0.5) says a compound may melt above
   T_run (``unknown_liquidus``, ``compound_hmix_J``);
3. **select** — a greedy batch by value per marginal core-hour with at most ``per_element`` picks
   per element (:mod:`~mixcalphad.acquisition.batch`, :mod:`~mixcalphad.acquisition.cost`);
4. **annotate** — run temperature, cost, cluster (:mod:`~mixcalphad.acquisition.clustering`),
   Miedema and regressor ΔH_mix ± σ at x = 0.5, feasibility notes, and a warning where the
   predicted liquid has a miscibility gap at T_run (:func:`predicted_spinodals`); the exclusions table.

Example
-------
>>> plan = rank_binaries(observations, n=20, model=model)      # doctest: +SKIP
>>> print(plan.report())                                       # doctest: +SKIP
>>> plan.record(Store("store.json"))                           # doctest: +SKIP
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mixcalphad.acquisition._util import DEFAULT_GRID, check_grid, resolve_elements, split_systems
from mixcalphad.acquisition.clustering import DEFAULT_K_RANGE, Clustering, cluster_binaries, cluster_summary
from mixcalphad.acquisition.cost import DEFAULT_COST_MODEL, CostModel, SharedReferences, binary_costs
from mixcalphad.acquisition.feasibility import FeasibilityRules, feasibility_table
from mixcalphad.chem.binaries import binaries_of, parse_system, system_name
from mixcalphad.errors import AcquisitionError

log = logging.getLogger(__name__)

#: Store table that keeps selections.
SELECTIONS_TABLE = "selections"
#: Ranking strategies.
STRATEGIES = ("integrated-variance", "max-sigma")
#: Columns every plan has (after the strategy's score columns).
ANNOTATION_COLUMNS = ("T_run_K", "liquidus_K", "cost_core_h", "cluster", "n_observations", "miedema_J", "model_J",
                      "model_sigma_J", "notes")
#: Score columns per strategy.
SCORE_COLUMNS = {"integrated-variance": ("value_J2", "value_per_core_h"),
                 "max-sigma": ("score_J", "batch_score_J", "x_at_max")}


@dataclass(frozen=True)
class PlanOptions:
    """Everything that shapes a plan besides the data and the model.

    Parameters
    ----------
    elements : tuple of str, optional
        Element set whose binaries may be picked (default: every supported element).
    strategy : {"integrated-variance", "max-sigma"}
        Value of a run (see the module docstring).
    per_element : int, optional
        At most this many picks per element (default 2; None: no cap).
    per_cost : bool
        Integrated variance: rank by value per core-hour (default) or by value alone.
    focus_elements : tuple of str
        Integrated variance: integrate only over binaries of these elements (default: all supported).
    batch : {"conditional", "independent"}
        Max σ: greedy picks conditioned on earlier ones, or the plain top of the ranking.
    grid : tuple of float
        Max σ: mole fractions over which the maximum is taken.
    feasibility : FeasibilityRules
    cost : CostModel
    n_clusters : int or "auto"
    k_range : tuple of int
    random_state : int
    """

    elements: tuple[str, ...] | None = None
    strategy: str = "integrated-variance"
    per_element: int | None = 2
    per_cost: bool = True
    focus_elements: tuple[str, ...] = ()
    batch: str = "conditional"
    grid: tuple[float, ...] = DEFAULT_GRID
    feasibility: FeasibilityRules = field(default_factory=FeasibilityRules)
    cost: CostModel = DEFAULT_COST_MODEL
    n_clusters: int | str = "auto"
    k_range: tuple[int, ...] = DEFAULT_K_RANGE
    random_state: int = 0

    def __post_init__(self):
        set_ = object.__setattr__
        if self.strategy not in STRATEGIES:
            raise AcquisitionError(f"strategy must be one of {STRATEGIES}, got {self.strategy!r}")
        if self.batch not in ("conditional", "independent"):
            raise AcquisitionError(f"batch must be 'conditional' or 'independent', got {self.batch!r}")
        if self.per_element is not None and (not isinstance(self.per_element, (int, np.integer))
                                             or self.per_element < 1):
            raise AcquisitionError(f"per_element must be a positive integer or None, got {self.per_element!r}")
        set_(self, "elements", None if self.elements is None else tuple(resolve_elements(self.elements)))
        set_(self, "focus_elements", tuple(resolve_elements(self.focus_elements)) if self.focus_elements else ())
        set_(self, "grid", tuple(float(v) for v in check_grid(self.grid)))
        set_(self, "k_range", tuple(int(k) for k in self.k_range))

    def replace(self, **changes) -> "PlanOptions":
        """A copy with some options changed; feasibility fields (``exclude``, ``exclude_systems``,
        ``skip_flags``, ``allow_molecular``, ``allow_f_elements``, ``liquidus_K``, ``boiling_margin_K``,
        ``max_reduced_T``, ``assessed_liquidus``, ``unknown_liquidus``, ``compound_hmix_J``) go to
        :attr:`feasibility`.

        Raises
        ------
        AcquisitionError
            An option name neither class knows.
        """
        aliases = {"exclude": "exclude_elements"}
        rule_names = {f.name for f in dataclasses.fields(FeasibilityRules)}
        own = {f.name for f in dataclasses.fields(self)}
        rules, mine = {}, {}
        for key, value in changes.items():
            name = aliases.get(key, key)
            if name in rule_names:
                rules[name] = tuple(value) if name in ("exclude_elements", "exclude_systems", "skip_flags") else value
            elif name in own:
                mine[name] = value
            else:
                raise AcquisitionError(f"unknown plan option {key!r}; options: {sorted(own | rule_names | set(aliases))}")
        if rules:
            mine["feasibility"] = dataclasses.replace(mine.get("feasibility", self.feasibility), **rules)
        return dataclasses.replace(self, **mine)

    def to_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["feasibility"] = self.feasibility.to_dict()
        out["cost"] = dataclasses.asdict(self.cost)
        return json.loads(json.dumps(out, default=list))


@dataclass(frozen=True)
class AcquisitionPlan:
    """A ranked selection of binaries to compute next, and everything needed to see why.

    Attributes
    ----------
    plan : DataFrame
        The selection in order: ``rank``, ``system``, the strategy's score columns
        (:data:`SCORE_COLUMNS`: ``value_J2`` — expected reduction of the regressor's variance summed
        over the reference binaries, (J/mol)², given the earlier picks — and ``value_per_core_h``; or
        the paper's ``score_J``, ``batch_score_J``, ``x_at_max``), then :data:`ANNOTATION_COLUMNS`:
        ``T_run_K`` (K), ``liquidus_K`` (the known equimolar liquidus that raised T, K, or NaN; read
        by :func:`mixcalphad.aimd.plan.plan_runs`), ``cost_core_h`` (marginal core-hours, pure references shared across the
        batch), ``cluster``, ``n_observations``, ``miedema_J``, ``model_J``, ``model_sigma_J``
        (ΔH_mix at x = 0.5, J/mol), ``notes``.
    binaries : DataFrame
        Every binary of the element set: ``system``, ``cluster``, ``n_observations``, ``model_J``,
        ``model_sigma_J``, ``T_run_K``, ``excluded`` (reasons, ``""`` for candidates), ``notes``,
        ``selected`` and the strategy's first score column (NaN where not scored).
    clusters : DataFrame
        :func:`~mixcalphad.acquisition.clustering.cluster_summary` of ``binaries``.
    clustering : Clustering
    scorer : dict
        Description of the GP that scored the candidates.
    model_version : str
    options : PlanOptions
    timings : dict
        Wall times in s of ``score``, ``filter``, ``select``, ``annotate``, ``total``.
    """

    plan: pd.DataFrame
    binaries: pd.DataFrame
    clusters: pd.DataFrame
    clustering: Clustering
    scorer: dict
    model_version: str
    options: PlanOptions
    timings: dict

    @property
    def settings(self) -> dict:
        return {"n": int(len(self.plan)), **self.options.to_dict()}

    @property
    def exclusions(self) -> pd.DataFrame:
        """Excluded binaries with their reasons (``system``, ``T_run_K``, ``model_sigma_J``, ``excluded``)."""
        out = self.binaries[self.binaries["excluded"] != ""]
        return out[["system", "T_run_K", "model_sigma_J", "excluded"]].reset_index(drop=True)

    @property
    def total_core_hours(self) -> float:
        """Core-hours of the whole batch, pure references shared."""
        return float(self.plan["cost_core_h"].sum())

    @property
    def selection_id(self) -> str:
        """Content hash of the selection (options, model, scorer data, picked systems), 12 hex digits."""
        payload = json.dumps({"settings": self.settings, "model": self.model_version,
                              "scorer": self.scorer.get("training_hash"), "systems": self.plan["system"].tolist()},
                             sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:12]

    def to_dataframe(self) -> pd.DataFrame:
        """The ranked plan (a copy)."""
        return self.plan.copy()

    def to_dict(self) -> dict:
        """JSON-ready: plan rows, exclusion counts, cluster summary, scorer, options, times."""
        return {"selection_id": self.selection_id, "model_version": self.model_version,
                "settings": self.settings, "n_binaries": int(len(self.binaries)),
                "n_candidates": int((self.binaries["excluded"] == "").sum()),
                "total_core_hours": self.total_core_hours, "plan": _records(self.plan),
                "exclusion_reasons": exclusion_counts(self.binaries).to_dict(),
                "clusters": _records(self.clusters),
                "clustering": {k: v for k, v in self.clustering.to_dict().items() if k != "labels"},
                "scorer": self.scorer, "timings": self.timings}

    def report(self, top_excluded: int = 15) -> str:
        """The plan, its cost, and its exclusions with reasons, as text for a terminal."""
        kj = {c: self.plan[c] / 1000 for c in ("miedema_J", "model_J", "model_sigma_J") if c in self.plan}
        table = self.plan.assign(**kj)
        if "value_J2" in table:
            table = table.assign(value_J2=table["value_J2"] / 1e6, value_per_core_h=table["value_per_core_h"] * 1e-3)
        table = table.rename(columns={"value_J2": "value (kJ/mol)²", "value_per_core_h": "value/kcore-h",
                                      "miedema_J": "Miedema", "model_J": "model", "model_sigma_J": "σ",
                                      "cost_core_h": "core-h", "n_observations": "n_obs", "T_run_K": "T (K)"})
        with pd.option_context("display.width", 250, "display.max_colwidth", 60):
            lines = [f"plan ({self.options.strategy}; ΔH_mix at x = 0.5 in kJ/mol; model {self.model_version}):",
                     table.to_string(index=False, float_format=lambda v: f"{v:.2f}"),
                     f"\ntotal {self.total_core_hours:,.0f} core-hours for {len(self.plan)} binaries "
                     f"({len(self.plan) * 3} runs before sharing pure references)",
                     f"\nexcluded {int((self.binaries['excluded'] != '').sum())} of {len(self.binaries)} binaries; "
                     "by reason:"]
            counts = exclusion_counts(self.binaries)
            lines += [f"  {n:5d}  {reason}" for reason, n in counts.items()]
            worst = self.exclusions.sort_values("model_sigma_J", ascending=False, kind="stable").head(top_excluded)
            lines += [f"\nexcluded binaries with the largest model σ (top {len(worst)}):",
                      worst.assign(model_sigma_J=worst["model_sigma_J"] / 1000).rename(
                          columns={"model_sigma_J": "σ (kJ/mol)", "T_run_K": "T (K)"}).to_string(
                          index=False, float_format=lambda v: f"{v:.1f}")]
        return "\n".join(lines)

    def record(self, store):
        """Record the selection in ``store`` (table :data:`SELECTIONS_TABLE`), one row per system.

        Recording the same plan twice changes nothing.

        Returns
        -------
        mixcalphad.data.store.AddReport
        """
        sid = self.selection_id
        settings = json.dumps(self.settings, sort_keys=True, default=str)
        score = SCORE_COLUMNS[self.options.strategy][0]
        records = [{"selection_id": sid, "rank": int(r["rank"]), "system": r["system"],
                    "strategy": self.options.strategy, score: float(r[score]),
                    "cost_core_h": float(r["cost_core_h"]), "cluster": int(r["cluster"]),
                    "T_aimd_K": float(r["T_run_K"]), "model_version": self.model_version,
                    "scorer_training_hash": self.scorer.get("training_hash"), "settings": settings}
                   for r in self.plan.to_dict("records")]
        return store.add_records(SELECTIONS_TABLE, records, key_fields=("selection_id", "system"))


def _records(frame: pd.DataFrame) -> list[dict]:
    return json.loads(frame.to_json(orient="records"))


def exclusion_counts(binaries: pd.DataFrame) -> pd.Series:
    """How many binaries each kind of reason excludes (a binary counts once per kind)."""
    kinds = binaries.loc[binaries["excluded"] != "", "exclusion_kinds"].str.split("; ").explode()
    return kinds.value_counts()


# ---------------------------------------------------------------------------------------------------
# the four steps


def _score_integrated_variance(observations, model, reference, candidates, sigma_ref, options, state_out):
    from mixcalphad.acquisition.value import ResidualGP, VarianceReduction

    gp = ResidualGP(random_state=options.random_state).fit(observations, model)
    weights = None
    if options.focus_elements:
        focus = set(options.focus_elements)
        weights = np.array([float(set(parse_system(s)) <= focus) for s in reference])
    state_out["state"] = VarianceReduction(gp, reference, candidates, sigma_ref, weights)
    info = gp.describe()
    from mixcalphad.model.regressor import dataset_hash, training_rows

    info["training_hash"] = dataset_hash(training_rows(observations))
    return info


def rank_binaries(observations: pd.DataFrame | None = None, n: int = 20, *, options: PlanOptions | None = None,
                  model=None, flags: pd.DataFrame | None = None, gp=None, progress: bool | None = None,
                  **changes) -> AcquisitionPlan:
    """Rank the binaries of an element set by what a new AIMD point would teach per core-hour.

    Parameters
    ----------
    observations : DataFrame, optional
        Current observations (``system``, ``x_B``, ``HM_MIX_J`` in J/mol); default: the embedded
        default dataset (with its flags).
    n : int
        Number of binaries to pick.
    options : PlanOptions, optional
        Strategy, element set, diversity cap, feasibility rules, cost model, clustering.
    model : predictor, optional
        The refitted regressor (``predict_pairs(a, b, x_B, return_std=True)``, J/mol); default the
        shipped model. Each binary's ``model_J`` and ``model_sigma_J`` (the variance a run can
        remove) are its posterior given its own observations (:mod:`mixcalphad.model.posterior`),
        as in every fit; the residual GP is fitted to the model's own residuals.
    flags : DataFrame, optional
        Store flags (``system``, ``flag``); flagged systems are excluded (``skip_flags``).
    gp : VarianceGP, optional
        For ``strategy="max-sigma"``: a fitted GP to reuse, or an unfitted one with other settings.
    progress : bool or None
        Progress messages (unused for now; kept for the callers' signature).
    **changes
        Shortcuts for :meth:`PlanOptions.replace` (``elements=``, ``per_element=``, ``exclude=``…).

    Returns
    -------
    AcquisitionPlan

    Raises
    ------
    UnknownElementError, UnsupportedElementError
        An element of the options is unknown or lacks feature data.
    AcquisitionError
        Too few elements to cluster, ``n`` larger than the feasible pool, a bad option.
    """
    t_start = time.perf_counter()
    options = (options or PlanOptions()).replace(**changes) if changes else (options or PlanOptions())
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise AcquisitionError(f"n must be a positive integer, got {n!r}")
    element_set = list(options.elements) if options.elements else resolve_elements(None)
    if len(element_set) < 3:
        raise AcquisitionError(f"the element set {element_set} gives {len(element_set) * (len(element_set) - 1) // 2} "
                               "binaries, too few to cluster; give at least 3 elements")
    if observations is None:
        from mixcalphad.data.corpus import build_dataset

        build = build_dataset(progress=progress)
        observations, flags = build.observations, (build.flags if flags is None else flags)
    if model is None:
        from mixcalphad.model.predictor import load_default_model

        model = load_default_model()
    systems = binaries_of(element_set)
    timings = {}

    # 1. filter (cheap, and it decides the candidates the scorer must handle)
    t0 = time.perf_counter()
    binaries = feasibility_table(systems, options.feasibility, flags)
    counts = observations["system"].map(lambda s: system_name(*parse_system(s))).value_counts()
    binaries["n_observations"] = binaries["system"].map(counts).fillna(0).astype(int)
    candidates = binaries.loc[binaries["excluded"] == "", "system"].tolist()
    if n > len(candidates):
        raise AcquisitionError(
            f"n = {n} is larger than the pool: {len(candidates)} of the {len(binaries)} binaries of "
            f"{len(element_set)} elements remain after the feasibility filters "
            f"({len(binaries) - len(candidates)} excluded; see plan.exclusions or relax the rules)")
    timings["filter"] = time.perf_counter() - t0

    # 2. score
    t0 = time.perf_counter()
    reference = binaries_of(resolve_elements(None)) if options.strategy == "integrated-variance" else systems
    a, b = split_systems(reference)
    # what is known of each binary now: its posterior given its own data (the prior where it has none)
    from mixcalphad.model.posterior import ConditionedPredictor

    known = ConditionedPredictor(model, observations)
    model_mean, model_std = known.predict_pairs(a, b, np.full(len(reference), 0.5), return_std=True)
    by_ref = pd.DataFrame({"model_J": model_mean, "model_sigma_J": model_std}, index=reference)
    binaries = binaries.join(by_ref, on="system")
    costs = binary_costs(candidates, binaries.set_index("system").loc[candidates, "T_run_K"], options.cost)
    state: dict = {}
    if options.strategy == "integrated-variance":
        scorer = _score_integrated_variance(observations, model, reference, candidates, model_std, options, state)
        first_values = pd.Series(state["state"].value_J2, index=candidates)
        binaries["value_J2"] = binaries["system"].map(first_values)
    else:
        from mixcalphad.acquisition.gp import VarianceGP

        gp = gp if gp is not None else VarianceGP(random_state=options.random_state)
        if not hasattr(gp, "gp_"):
            gp.fit(observations)
        scorer = gp.describe()
        max_sigma = gp.max_std(candidates, options.grid, progress=False)
        binaries["score_J"] = binaries["system"].map(max_sigma.set_index("system")["score_J"])
    timings["score"] = time.perf_counter() - t0

    # 3. select
    t0 = time.perf_counter()
    from mixcalphad.acquisition.batch import select_by_value, select_max_sigma

    if options.strategy == "integrated-variance":
        picks = select_by_value(state["state"], costs, n, per_element=options.per_element, per_cost=options.per_cost)
    else:
        picks = select_max_sigma(gp, max_sigma, n, grid=options.grid, batch=options.batch,
                                 per_element=options.per_element)
        shared, spent = SharedReferences(), []
        by_system = costs.set_index("system", drop=False)
        for s in picks["system"]:
            row = by_system.loc[[s]]
            spent.append(float(shared.marginal_costs(row)[0]))
            shared.add(row.iloc[0])
        picks["cost_core_h"] = spent
    binaries["selected"] = binaries["system"].isin(set(picks["system"]))
    timings["select"] = time.perf_counter() - t0

    # 4. annotate
    t0 = time.perf_counter()
    clustering = cluster_binaries(systems, options.n_clusters, options.k_range, random_state=options.random_state)
    binaries["cluster"] = clustering.labels
    from mixcalphad.chem.miedema import miedema_pairs

    pa, pb = split_systems(picks["system"].tolist())
    info = binaries.set_index("system").loc[picks["system"]]
    spinodals = predicted_spinodals(model, picks["system"].tolist(), info["T_run_K"].to_numpy())
    plan = picks.assign(rank=np.arange(1, len(picks) + 1), T_run_K=info["T_run_K"].to_numpy(),
                        liquidus_K=info["liquidus_K"].to_numpy(),
                        cluster=info["cluster"].to_numpy(), n_observations=info["n_observations"].to_numpy(),
                        miedema_J=miedema_pairs(pa, pb, np.full(len(picks), 0.5)),
                        model_J=info["model_J"].to_numpy(), model_sigma_J=info["model_sigma_J"].to_numpy(),
                        notes=_with_gap_notes(info["notes"].to_numpy(), spinodals, info["T_run_K"].to_numpy()))
    plan = plan.loc[:, ["rank", "system", *SCORE_COLUMNS[options.strategy], *ANNOTATION_COLUMNS]]
    timings["annotate"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - t_start
    timings = {k: round(v, 3) for k, v in timings.items()}
    log.info("ranked %d binaries (%d feasible) in %.1f s", len(binaries), len(candidates), timings["total"])
    return AcquisitionPlan(plan=plan.reset_index(drop=True), binaries=binaries,
                           clusters=cluster_summary(binaries), clustering=clustering, scorer=scorer,
                           model_version=getattr(model, "version_", "unknown"), options=options, timings=timings)


#: Compositions (x_B) on which the predicted liquid is checked for a spinodal at T_run.
GAP_GRID = np.linspace(0.01, 0.99, 99)


def predicted_spinodals(model, systems, T_K) -> list[tuple[float, float] | None]:
    """Where the predicted liquid is unstable at each T_run: ``(x_first, x_last)`` of the compositions
    with d²G_mix/dx² < 0, or None.

    G_mix = ΔH_mix(x) (the model's prediction, J/mol, taken as temperature-independent) + RT·Σ x ln x;
    the curvature of ΔH is taken numerically on :data:`GAP_GRID`. An equimolar AIMD cell inside a
    spinodal may separate instead of staying one liquid (the paper's 8 "immiscible" systems).
    """
    from mixcalphad.calphad.convexity import R_J

    if len(systems) == 0:
        return []
    a, b = split_systems(list(systems))
    n = len(GAP_GRID)
    h = np.asarray(model.predict_pairs(np.repeat(a, n), np.repeat(b, n), np.tile(GAP_GRID, len(a))),
                   dtype=float).reshape(len(a), n)
    d2h = np.gradient(np.gradient(h, GAP_GRID, axis=1), GAP_GRID, axis=1)
    curvature = d2h + R_J * np.asarray(T_K, dtype=float)[:, None] / (GAP_GRID * (1.0 - GAP_GRID))
    return [(float(GAP_GRID[c < 0].min()), float(GAP_GRID[c < 0].max())) if (c < 0).any() else None
            for c in curvature]


def _with_gap_notes(notes, spinodals, T_K) -> list[str]:
    out = []
    for note, gap, T in zip(notes, spinodals, T_K):
        if gap is not None:
            gap_note = (f"predicted liquid miscibility gap at {T:.0f} K (spinodal x_B {gap[0]:.2f}–{gap[1]:.2f}): "
                        "the cell may separate; check the partial pair correlations")
            note = f"{note}; {gap_note}" if note else gap_note
        out.append(note)
    return out


def record_selection(store, plan: AcquisitionPlan):
    """Record ``plan``'s selection in ``store`` (see :meth:`AcquisitionPlan.record`)."""
    return plan.record(store)
