"""Which binaries of a small element set most need new ΔH_mix data? A GP max-variance plan.

Ranks every binary of Al, Ti, Ni, Cu, Zr, Ir, Os, Re, W, Mg, Ca, Si on the embedded default data
(carbon and the AIMD-immiscible systems are left out), spreads the batch with at most two picks per
element, prints the plan with its clusters, and draws the periodic uncertainty map.

Run: ``python examples/acquisition_refractory.py``; writes ``acquisition_map.png`` and
``acquisition_plan.csv`` in the current folder (about a minute, most of it building the dataset).
"""
import pandas as pd

from mixcalphad.acquisition.plan import rank_binaries
from mixcalphad.data.corpus import build_dataset
from mixcalphad.plot import periodic_uncertainty_map

build = build_dataset(progress=False)
plan = rank_binaries(build.observations, n=8, flags=build.flags, per_element=2, progress=False,
                     elements=["AL", "TI", "NI", "CU", "ZR", "IR", "OS", "RE", "W", "MG", "CA", "SI"])
with pd.option_context("display.width", 160):
    print(plan.plan.round({"score_J": 0, "batch_score_J": 0, "miedema_J": 0, "model_J": 0,
                           "model_sigma_J": 0}).to_string(index=False))
    print()
    print(plan.clusters.round(0).to_string(index=False))
c = plan.clustering
print(f"\nK = {c.k} (elbow {c.k_elbow}, best silhouette {c.k_silhouette}); GMM adjusted Rand index {c.gmm_ari:.2f}; "
      f"GP trained on {plan.gp['n_train']} points in {plan.gp['fit_time_s']:.1f} s")
plan.plan.to_csv("acquisition_plan.csv", index=False)
print("wrote", periodic_uncertainty_map(plan.binaries, "acquisition_map.png"), "and acquisition_plan.csv")
