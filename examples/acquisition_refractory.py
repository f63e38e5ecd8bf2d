"""Which binaries of a refractory-alloy element set should be computed next by AIMD, and at what cost?

Ranks every binary of Al, Ti, Ni, Cu, Zr, Ir, Os, Re, W, Mg, Ca, Si on the embedded default data by
the expected reduction of the model's predictive variance (integrated over all supported binaries)
per core-hour, after the feasibility filters (Mg and Ca boil below most run temperatures here; the
AIMD-immiscible systems are flagged), with at most two picks per element. Prints the plan with run
temperatures, costs and the exclusions with reasons, then the same set ranked by the paper's
max-σ GP for comparison, and draws the periodic map (selected outlined, excluded faint). Checks the
plan: eight ranked picks, none excluded, at most two per element, each below both boiling points by
the feasibility margin, and the total cost the sum of the picks'.

Run: ``python examples/acquisition_refractory.py``; writes ``acquisition_map.png`` and
``acquisition_plan.csv`` in the current folder (about a minute, most of it building the dataset).
"""
from mixcalphad.acquisition.plan import PlanOptions, rank_binaries
from mixcalphad.chem.elements import element_property
from mixcalphad.data.corpus import build_dataset
from mixcalphad.plot import periodic_uncertainty_map

build = build_dataset(progress=False)
options = PlanOptions(elements=("AL", "TI", "NI", "CU", "ZR", "IR", "OS", "RE", "W", "MG", "CA", "SI"),
                      per_element=2)
plan = rank_binaries(build.observations, n=8, options=options, flags=build.flags)
print(plan.report(top_excluded=8))
picked = plan.plan
elements = [el for system in picked["system"] for el in system.split("-")]
assert list(picked["rank"]) == list(range(1, 9)) and max(map(elements.count, elements)) <= options.per_element
assert not set(picked["system"]) & set(plan.exclusions["system"]) and set(elements) <= set(options.elements)
# every pick runs at least boiling_margin_K below the boiling points of both its elements
boiling = element_property(elements, "boiling_point_K").reshape(-1, 2).min(axis=1)
assert (picked["T_run_K"].to_numpy() <= boiling - options.feasibility.boiling_margin_K).all()
assert abs(plan.total_core_hours - picked["cost_core_h"].sum()) < 1e-6
paper = rank_binaries(build.observations, n=8, options=options.replace(strategy="max-sigma"), flags=build.flags)
print("\nthe paper's max-σ ranking of the same feasible pool:", ", ".join(paper.plan["system"]),
      f"({paper.total_core_hours:,.0f} core-hours against {plan.total_core_hours:,.0f})")
c = plan.clustering
print(f"\nK = {c.k} (elbow {c.k_elbow}, best silhouette {c.k_silhouette}); GMM adjusted Rand index {c.gmm_ari:.2f}; "
      f"residual GP on {plan.scorer['n_train']} points in {plan.scorer['fit_time_s']:.1f} s")
plan.plan.to_csv("acquisition_plan.csv", index=False)
print("wrote", periodic_uncertainty_map(plan.binaries, "acquisition_map.png", score="model_sigma_J", force=True),
      "and acquisition_plan.csv")
