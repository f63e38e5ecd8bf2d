"""Write a LIQUID TDB for Al–Cu–Ni from the default model, then fill pycalphad's cumg.tdb with Ag.

Run: ``python examples/tdb_write_and_fill.py [OUTDIR]`` (default ``./tdb-example``). Writes
``alcuni-liquid.tdb``, ``cumg-ag.tdb`` and ``cumg-ag-report.csv`` there (replacing earlier copies),
prints each file's provenance, a Cu–Ni liquidus point computed by pycalphad from the first file
and the liquid ΔH_mix of equimolar Cu–Mg–Ag from the second; checks that the liquidus lies between
the melting points of Cu and Ni, that the fill left the Cu–Mg assessment as it was and that the
ternary ΔH_mix is the Muggianu sum of the three binaries'.
"""
import sys
from pathlib import Path

import numpy as np
import pycalphad
from pycalphad import Database, calculate, equilibrium
from pycalphad import variables as v

from mixcalphad.calphad.binary_fit import fit_binaries, load_default_predictor
from mixcalphad.calphad.provenance import read_provenance
from mixcalphad.calphad.tdb_merge import fill_plan, merge_into_tdb
from mixcalphad.calphad.tdb_write import write_tdb

out = Path(sys.argv[1] if len(sys.argv) > 1 else "tdb-example")
model = load_default_predictor()

# 1. a self-contained TDB: SGTE unaries + predicted LIQUID interactions (VV#### FUNCTIONs)
fits = fit_binaries(["AL", "CU", "NI"], predictor=model, progress=False)
path = write_tdb(fits, out / "alcuni-liquid.tdb", force=True)
print(read_provenance(path).to_dataframe().to_string(index=False))
db = Database(str(path))
# the solids are SGTE unaries only (an ideal FCC_A1 here): the liquidus reflects the liquid alone
temps = np.arange(1300.0, 2301.0, 20.0)
eq = equilibrium(db, ["CU", "NI"], ["LIQUID", "FCC_A1"], {v.X("NI"): 0.5, v.T: temps, v.P: 101325, v.N: 1})
phases = [set(p for p in np.asarray(eq.Phase)[0, 0, i, 0].ravel() if p) for i in range(len(temps))]
liquid = [p == {"LIQUID"} for p in phases]
assert any(liquid), f"Cu-50Ni is not fully liquid below {temps[-1]:.0f} K in {path.name}"
T_liquidus = temps[liquid.index(True)]
# Cu and Ni mix completely, solid and liquid: the liquidus lies between their melting points
assert 1358 < T_liquidus < 1728 and all(liquid[liquid.index(True):]), phases
print(f"Cu-50Ni: fully liquid from {T_liquidus:.0f} K (20 K steps) in {path.name}")

# 2. fill a published assessment: Cu–Mg stays as assessed, Ag–Cu and Ag–Mg are added
cumg = Path(pycalphad.__file__).parent / "tests" / "databases" / "cumg.tdb"
plan = fill_plan(cumg, ["AG"])
report = merge_into_tdb(fit_binaries(plan.to_add, predictor=model, progress=False), cumg,
                        out / "cumg-ag.tdb", elements=["AG"], force=True)
report.to_csv(out / "cumg-ag-report.csv", force=True)
table = report.to_dataframe()
print(table[["system", "status", "origin", "sigma_J", "order", "rms_J"]].to_string(index=False))
assert dict(zip(table["system"], table["status"])) == {"AG-CU": "added", "AG-MG": "added"}
filled = Database(str(report.out_path))


def hm_mix(db, components, x):
    """HM_MIX (J/mol) of the liquid at 1500 K and site fractions ``x`` (in the order of ``components``)."""
    hm = calculate(db, components, "LIQUID", T=1500.0, P=101325, N=1, output="HM_MIX", points=np.atleast_2d(x))
    return float(np.asarray(hm.HM_MIX).ravel()[0])


ternary = hm_mix(filled, ["AG", "CU", "MG"], [1 / 3, 1 / 3, 1 / 3])
print(f"equimolar Cu-Mg-Ag liquid: HM_MIX = {ternary:.0f} J/mol")
binaries = {pair: hm_mix(filled, list(pair), [0.5, 0.5]) for pair in [("AG", "CU"), ("AG", "MG"), ("CU", "MG")]}
# Cu-Mg is the assessment's, untouched
assert np.isclose(binaries["CU", "MG"], hm_mix(Database(str(cumg)), ["CU", "MG"], [0.5, 0.5]), rtol=1e-12)
# Muggianu with no ternary term: at x = 1/3 each, (x_i - x_j) = 0, so only each binary's L0 counts,
# and L0 = 4 HM_MIX(x = 0.5): HM_MIX = (1/9) sum L0 = (4/9) sum HM_MIX(x = 0.5)
assert np.isclose(ternary, 4 / 9 * sum(binaries.values()), rtol=1e-9), (ternary, binaries)
