"""
An AIMD campaign, end to end: plan, prepare, (fake) VASP, ingest, refit
=======================================================================

The loop mixcalphad serves: rank the binaries whose ΔH_mix most needs an AIMD value, write the
VASP folders, let the cluster run them, read the outputs back into the store with their σ, and
refit. Here VASP is replaced by the stand-in of the test suite (``tests/data/aimd/make_fixtures.py``):
it reads each prepared folder's INCAR and POSCAR and writes the vasprun.xml, OUTCAR and OSZICAR
of an NVT run whose pressure and energy follow a designed model, so the whole protocol — volume
search, production, H(p = 0), ΔH_mix — runs on answers we know. The stand-in knows Al, Cu and Ir.

The same steps on a cluster: ``mixcalphad acquire``, ``mixcalphad aimd prepare``, submit
``slurm_volume.sh`` / ``slurm_production.sh``, ``mixcalphad aimd status --advance`` between stages,
``mixcalphad aimd ingest``, ``mixcalphad campaign refit``.
"""

# %%
# Plan
# ----
# ``acquire`` scores every feasible binary of the element set by the expected reduction of the
# model's predictive variance per core-hour. With the default rules only Al–Cu would be feasible
# here (Al and Cu boil within 100 K of Ir's run temperature; Al–Ir may form a compound melting above
# it), so for this demonstration we narrow the boiling margin to 30 K and keep binaries of unknown
# liquidus with a note.
import dataclasses
import importlib.util
import os
import sys
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from mixcalphad import Store, load_default_model, read_provenance
from mixcalphad.aimd.settings import EV_TO_J_PER_MOL
from mixcalphad.cli import main as mixcalphad

work = Path(tempfile.mkdtemp(prefix="mixcalphad-t4-"))
store_path = work / "store.json"
os.environ["MIXCALPHAD_STORE"] = str(store_path)   # never the user's ~/.mixcalphad
plan_csv = str(work / "plan.csv")

assert mixcalphad(["acquire", "--elements", "AL", "CU", "IR", "--n", "1", "--boiling-margin", "30",
                   "--unknown-liquidus", "note", "--out", plan_csv]) == 0
plan = pd.read_csv(plan_csv)
print(plan[["rank", "system", "T_run_K", "cost_core_h", "model_J", "model_sigma_J", "notes"]].to_string(index=False))
system = plan["system"].iloc[0]
a, b = system.split("-")

# %%
# Reading the plan: ``value_J2`` is the expected reduction of the integrated predictive variance
# ((J/mol)²) if this binary's equimolar ΔH_mix were known, ``value_per_core_h`` that per core-hour
# of the estimated cost, ``T_run_K`` the run temperature (the temperature rule: above both melting
# points and the known liquidus, on a 50 K grid), ``model_J`` ± ``model_sigma_J`` the current
# prediction at x = 0.5.
#
# Prepare
# -------
# Three runs (pure A, pure B, the alloy), each a volume search in short stages then a production run.
# Tiny cells and short runs keep the stand-in fast; a real campaign keeps the defaults (100 atoms,
# 10 ps).
runs = work / "runs"
assert mixcalphad(["aimd", "prepare", "--plan", plan_csv, "-o", str(runs), "--atoms", "10",
                   "--production-ps", "6", "--stage-ps", "1.8"]) == 0
print(sorted(p.name for p in runs.iterdir()))

# %%
# The campaign before any AIMD
# ----------------------------
# ``campaign refit`` retrains the model on the store, refits every binary of the element set, writes
# the TDB and the ESPEI datasets into the campaign folder, and remembers what it wrote, so that the
# next refit can report what moved.
out = work / "campaign"
refit = ["campaign", "refit", "--elements", "AL", "CU", "IR", "--out", str(out), "--plan", "0"]
assert mixcalphad(refit) == 0

# %%
# Run the stand-in VASP
# ---------------------
# :func:`run_campaign` of the fixtures plays the cluster: it runs every job listed in
# ``volume_jobs.txt`` / ``production_jobs.txt`` and calls the same step as ``aimd status
# --advance`` until nothing is left. The designed truth: ΔH_mix(x = 0.5) = +10 kJ/mol.
# the repository's test fixtures (the build runs this script from docs/tutorials)
root = next(p for p in (Path.cwd(), *Path.cwd().parents) if (p / "tests" / "data").is_dir())
fixtures_path = root / "tests" / "data" / "aimd" / "make_fixtures.py"
spec = importlib.util.spec_from_file_location("make_fixtures", fixtures_path)
fixtures = importlib.util.module_from_spec(spec)
sys.modules["make_fixtures"] = fixtures
spec.loader.exec_module(fixtures)

TRUTH_J = 10_000.0
model = dataclasses.replace(fixtures.Model(), W_eV=TRUTH_J / EV_TO_J_PER_MOL)
rounds = fixtures.run_campaign(runs, model)
print(f"{rounds} rounds of stand-in VASP; designed ΔH_mix = {fixtures.designed_hmix_J(model):.0f} J/mol")
assert mixcalphad(["aimd", "status", str(runs)]) == 0

# %%
# Ingest
# ------
# ``aimd ingest`` analyses every finished binary (equilibration cut, statistical error, pressure
# correction to p = 0) and stores ΔH_mix with its σ as an ``aimd`` observation.
assert mixcalphad(["aimd", "ingest", str(runs)]) == 0
aimd = Store(store_path).observations(system=system)
aimd = aimd[aimd["kind"] == "aimd"]
print(aimd[["system", "x_B", "T_K", "HM_MIX_J", "sigma_J", "source"]].to_string(index=False))
measured, sigma = float(aimd["HM_MIX_J"].iloc[0]), float(aimd["sigma_J"].iloc[0])

# %%
# Refit
# -----
# The same command again: the store now holds the AIMD row, so the model is retrained, the binary
# refitted with it, and the report lists the binaries whose L0 moved.
assert mixcalphad(refit) == 0
record = read_provenance(out / "mixcalphad-liquid.tdb").to_dataframe().set_index("system").loc[system]
print(record[["origin", "sigma_J", "order", "symbols", "sources"]].to_string())

# %%
# Before and after
# ----------------
# The prior (the shipped model, which never saw this binary) against the refitted liquid written to
# the TDB: the equimolar AIMD point pulls the curve to it, the prediction still gives the shape.
from pycalphad import Database, calculate  # noqa: E402

x = np.linspace(0.02, 0.98, 49)
prior, prior_sigma = load_default_model().predict(a, b, x, return_std=True)
db = Database(str(out / "mixcalphad-liquid.tdb"))
after = np.asarray(calculate(db, [a, b], "LIQUID", T=1873.0, P=101325, N=1, output="HM_MIX",
                             points=np.column_stack([1 - x, x])).HM_MIX).ravel()
fig, ax = plt.subplots(figsize=(5.5, 4))
ax.fill_between(x, (prior - 2 * prior_sigma) / 1000, (prior + 2 * prior_sigma) / 1000, alpha=0.2,
                label="prior ±2σ (shipped model)")
ax.plot(x, prior / 1000, label="prior")
ax.plot(x, after / 1000, label="refitted liquid (TDB)")
ax.errorbar(aimd["x_B"], aimd["HM_MIX_J"] / 1000, yerr=2 * aimd["sigma_J"] / 1000, fmt="ko",
            label="AIMD (stand-in) ±2σ")
ax.set(xlabel=f"x({b})", ylabel="ΔH_mix (kJ/mol of atoms)", title=f"{a}–{b} liquid")
ax.legend(fontsize=8)
mid = int(np.argmin(np.abs(x - 0.5)))
print(f"x = 0.5: prior {prior[mid] / 1000:.2f} ± {prior_sigma[mid] / 1000:.2f} kJ/mol, AIMD "
      f"{measured / 1000:.2f} ± {sigma / 1000:.2f}, refitted {after[mid] / 1000:.2f} kJ/mol")

# %%
# Checks
# ------
# The protocol recovers the designed ΔH_mix within its statistical error, the refitted binary is
# marked ``aimd+predicted``, and its equimolar ΔH_mix moved from the prior most of the way to the
# AIMD value.
assert abs(measured - TRUTH_J) < 3 * sigma + 500.0
assert record["origin"] == "aimd+predicted"
assert abs(after[mid] - measured) < 0.5 * abs(prior[mid] - measured)
