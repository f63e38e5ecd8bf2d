"""
Add your own measured ΔH_mix and watch the estimate and σ change
================================================================

mixcalphad keeps one estimate per binary: the model's prediction is a *prior*, and a binary's own
observations in the store condition it into a *posterior* (mean and σ). Every command that reports
or writes that binary — ``predict``, ``fit``, ``write-tdb``, ``fill``, ``campaign refit`` — uses
the same one. Here we add one calorimetric value of our own for a binary the default data do not
cover and compare ``mixcalphad predict`` before and after.

The CSV columns: ``system`` (or ``A`` and ``B``), ``x_B`` (mole fraction of the second element *as
written*), ``T_K``, ``HM_MIX_J`` (J/mol of atoms), ``sigma_J`` (1σ, J/mol; empty: 2000 J/mol, the
default of kind ``user``) and ``source``.
"""

# %%
# The prior
# ---------
import contextlib
import io
import json
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from mixcalphad.cli import main as mixcalphad

work = Path(tempfile.mkdtemp(prefix="mixcalphad-t5-"))
store = work / "store.json"
os.environ["MIXCALPHAD_STORE"] = str(store)   # never the user's ~/.mixcalphad
GRID = "0.05:0.95:0.05"


def predict(*extra: str) -> dict:
    """``mixcalphad predict CO IR --x GRID --json`` as a dict (ΔH_mix and σ in J/mol)."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert mixcalphad(["predict", "CO", "IR", "--x", GRID, "--store", str(store), "--json", *extra]) == 0
    return json.loads(buffer.getvalue())


before = predict()
x = np.asarray(before["x"])
mid = int(np.argmin(np.abs(x - 0.5)))
print(f"Co-Ir before: estimate = {before['estimate']}; ΔH_mix(0.5) = {before['HM_MIX_J'][mid] / 1000:.2f} "
      f"± {before['sigma_J'][mid] / 1000:.2f} kJ/mol")

# %%
# Add a measurement
# -----------------
# A made-up calorimetric value at the equimolar composition, 1 kJ/mol uncertain — replace it with
# yours. ``data add`` validates the rows (elements, 0 ≤ x_B ≤ 1, finite values, σ > 0) and stores
# them with their source; adding the same file twice changes nothing.
MEASURED_J, MEASURED_SIGMA_J = -9000.0, 1000.0
csv = work / "my_calorimetry.csv"
csv.write_text("system,x_B,T_K,HM_MIX_J,sigma_J,source\n"
               f"CO-IR,0.5,1873,{MEASURED_J},{MEASURED_SIGMA_J},my-lab-2026\n")
assert mixcalphad(["data", "add", str(csv), "--store", str(store)]) == 0

# %%
# The posterior
# -------------
after = predict()
prior_again = predict("--prior")
print(f"Co-Ir after: estimate = {after['estimate']} (conditioned on {', '.join(after['conditioned_on'])}); "
      f"ΔH_mix(0.5) = {after['HM_MIX_J'][mid] / 1000:.2f} ± {after['sigma_J'][mid] / 1000:.2f} kJ/mol")

fig, ax = plt.subplots(figsize=(5.5, 4))
for label, result in (("prior", before), ("posterior", after)):
    mean, sigma = np.asarray(result["HM_MIX_J"]) / 1000, np.asarray(result["sigma_J"]) / 1000
    ax.fill_between(x, mean - 2 * sigma, mean + 2 * sigma, alpha=0.2)
    ax.plot(x, mean, label=f"{label} ±2σ")
ax.errorbar([0.5], [MEASURED_J / 1000], yerr=[2 * MEASURED_SIGMA_J / 1000], fmt="ko", label="your value ±2σ")
ax.set(xlabel="x(Ir)", ylabel="ΔH_mix (kJ/mol of atoms)", title="Co–Ir liquid")
ax.legend(fontsize=8)

# %%
# Checks
# ------
# Before, the store had no Co–Ir data: the estimate is the prior. After, it is the posterior: σ at
# the measured composition shrinks below the prior's, the mean moves toward the measurement, and
# ``--prior`` still gives the model alone.
assert before["estimate"] == "prior" and after["estimate"] == "posterior"
assert after["sigma_J"][mid] < before["sigma_J"][mid]
assert abs(after["HM_MIX_J"][mid] - MEASURED_J) < abs(before["HM_MIX_J"][mid] - MEASURED_J)
assert prior_again["estimate"] == "prior"
assert np.allclose(prior_again["HM_MIX_J"], before["HM_MIX_J"])
