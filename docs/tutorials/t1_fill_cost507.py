"""
Fill an assessed database with its missing binaries: COST507, Cu–Ti and Al–Cu–Ti
=================================================================================

COST507 (``COST507.tdb``, shipped with pycalphad's tests) is the light-alloy database of the
European COST 507 action: 27 elements and 243 phases, but its LIQUID describes only some of the
binaries — Cu–Ti and Al–Ni among those it leaves ideal. ``mixcalphad fill`` adds a LIQUID for every
binary the file lacks and touches nothing else: every assessed parameter stays byte for byte, the
additions go into one block at the end with a provenance comment.

Here we fill COST507, then draw the Cu–Ti phase diagram and an isothermal Al–Cu–Ti section with
pycalphad. COST507 has no Cu–Ti compounds, so the solids are the assessed solutions (FCC_A1,
BCC_A2, HCP_A3) only: the diagram shows what the added liquid does against them, not the real
Cu–Ti diagram with its six intermetallics.
"""

# %%
# What is missing
# ---------------
# :func:`~mixcalphad.calphad.tdb_merge.fill_plan` lists the binaries of the file's LIQUID that have
# no interaction parameter (and those it cannot describe: elements outside the 70 supported ones).
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pycalphad
from pycalphad import Database, binplot, calculate, equilibrium, ternplot
from pycalphad import variables as v

from mixcalphad import Store, liquidus, read_provenance
from mixcalphad.calphad.tdb_merge import fill_plan
from mixcalphad.model.posterior import ConditionedPredictor
from mixcalphad.model.predictor import load_default_model
from mixcalphad.cli import main as mixcalphad

work = Path(tempfile.mkdtemp(prefix="mixcalphad-t1-"))
os.environ["MIXCALPHAD_STORE"] = str(work / "store.json")   # never the user's ~/.mixcalphad
cost507 = Path(pycalphad.__file__).parent / "tests" / "databases" / "COST507.tdb"

plan = fill_plan(cost507)
print(f"{len(plan.to_add)} binaries to add, e.g. {', '.join(plan.to_add[:6])}; "
      f"{len(plan.skipped)} skipped")

# %%
# Fill it
# -------
# The command line and the library do the same; here the command, as a user would type it
# (``mixcalphad fill COST507.tdb -o filled.tdb --report report.csv``). The store named by
# ``$MIXCALPHAD_STORE`` does not exist yet, so it is first filled with the embedded default corpus.
# Each added binary gets the best estimate the store allows: an assessment harvested from another
# file is carried whole (``assessed-whole``); a binary with tabulated assessed values or AIMD values
# gets the posterior of the prediction given them (``assessed+predicted``, ``aimd+predicted``); the
# rest is predicted.
filled = work / "COST507-filled.tdb"
status = mixcalphad(["fill", str(cost507), "-o", str(filled), "--report", str(work / "report.csv")])
assert status == 0
report = pd.read_csv(work / "report.csv")
print(report["status"].value_counts().to_string())
print(report.loc[report["status"] == "added", "origin"].value_counts().to_string())
print(report.loc[report["system"].isin(["AL-NI", "CU-TI", "NI-TI"]),
                 ["system", "origin", "sigma_J", "order", "sources"]].to_string(index=False))

# %%
# The provenance block
# --------------------
# pycalphad drops comments, so what each added binary was made from is kept in a ``$`` block that
# :func:`~mixcalphad.calphad.provenance.read_provenance` reads back: origin, σ (J/mol), RK order,
# the ``VV####`` FUNCTIONs holding its coefficients, κ of the excess entropy and the sources.
provenance = read_provenance(filled)
table = provenance.to_dataframe().set_index("system")
print(table.loc[["CU-TI", "AL-NI"], ["origin", "sigma_J", "order", "symbols"]].to_string())

# %%
# Check the result with pycalphad
# -------------------------------
# The added Cu–Ti liquid is the binary's *posterior*: the model's prediction updated by the assessed
# ΔH_mix the store holds for Cu–Ti (one curve, weighing as one measurement of σ = 2000 J/mol). So
# pycalphad must reproduce that posterior (up to the RK fit's residual, a few J/mol) and lie within
# the data's σ of the stored points; an assessed binary of COST507 (Al–Cu) must be exactly as before.
db = Database(str(filled))
observations = Store(os.environ["MIXCALPHAD_STORE"]).observations()
stored = observations[(observations["system"] == "CU-TI") & (observations["x_B"] > 0) & (observations["x_B"] < 1)]
x_ti = stored["x_B"].to_numpy()
hm = np.asarray(calculate(db, ["CU", "TI"], "LIQUID", T=1873.0, P=101325, N=1, output="HM_MIX",
                          points=np.column_stack([1 - x_ti, x_ti])).HM_MIX).ravel()
posterior, sigma = ConditionedPredictor(load_default_model(), observations).predict("CU", "TI", x_ti, return_std=True)
off_posterior = np.max(np.abs(hm - posterior))
worst = np.max(np.abs(hm - stored["HM_MIX_J"].to_numpy()))
print(f"Cu-Ti: {len(stored)} stored points; largest |pycalphad HM_MIX - posterior| = {off_posterior:.1f} J/mol, "
      f"|pycalphad HM_MIX - stored| = {worst:.1f} J/mol (posterior σ at x = 0.5: {sigma[np.argmin(np.abs(x_ti - 0.5))]:.0f} J/mol)")

original = Database(str(cost507))
equimolar = np.array([[0.5, 0.5]])
before, after = (float(np.asarray(calculate(d, ["AL", "CU"], "LIQUID", T=1500.0, P=101325, N=1, output="GM",
                                            points=equimolar).GM).ravel()[0]) for d in (original, db))
print(f"Al-Cu liquid at x = 0.5, 1500 K: G = {before:.1f} J/mol before, {after:.1f} J/mol after")
assert abs(after - before) < 1e-6
assert off_posterior < 100.0
assert worst < 2000.0

# %%
# The Cu–Ti diagram
# -----------------
# ``binplot`` maps the diagram with every phase of the file that Cu and Ti can form; the liquidus
# at equimolar Cu–Ti comes from :func:`~mixcalphad.calphad.liquidus.liquidus`.
ax = binplot(db, ["CU", "TI", "VA"], list(db.phases),
             {v.X("TI"): (0, 1, 0.02), v.T: (800, 2200, 20), v.P: 101325, v.N: 1})
ax.set_title("Cu–Ti: COST507 solids + mixcalphad's liquid")
T_half = float(liquidus(db, ["CU", "TI"], [0.5], T_min=800.0, T_max=2200.0, progress=False).T_K[0])
print(f"liquidus of Cu-50Ti: {T_half:.0f} K (pure Cu melts at 1358 K, Ti at 1941 K)")
# a negative ΔH_mix and no compounds: the liquid is stabilised below both melting points
assert 900.0 < T_half < 1358.0

# %%
# An isothermal Al–Cu–Ti section at 1400 K
# ----------------------------------------
# The ternary liquid now has all three binaries (Al–Cu and Al–Ti as assessed, Cu–Ti added). A
# coarse grid keeps the mapping short; pycalphad picks the phases Al, Cu and Ti can form.
ax = ternplot(db, ["AL", "CU", "TI", "VA"], list(db.phases),
              {v.X("CU"): (0, 1, 0.05), v.X("TI"): (0, 1, 0.05), v.T: 1400, v.P: 101325, v.N: 1})
ax.set_title("Al–Cu–Ti at 1400 K, COST507 filled")
eq = equilibrium(db, ["AL", "CU", "TI", "VA"], list(db.phases),
                 {v.X("CU"): 0.5, v.X("TI"): 0.05, v.T: 1400.0, v.P: 101325, v.N: 1})
phases = sorted({p for p in np.asarray(eq.Phase).ravel() if p})
print(f"Al-50Cu-5Ti at 1400 K: {', '.join(phases)}")
assert phases == ["LIQUID"]
