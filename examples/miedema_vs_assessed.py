"""Compare Miedema's liquid model with the assessed ΔH_mix of one binary and plot both curves.

Prints the data, Miedema's value at x = 0.5 and the mean and RMS of Miedema − data.

Run: ``python examples/miedema_vs_assessed.py [A B]`` (default AL CU); writes ``miedema_vs_assessed.png``.
"""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mixcalphad import build_dataset, miedema_hmix  # noqa: E402
from mixcalphad.chem.binaries import parse_system  # noqa: E402

a, b = parse_system("-".join(sys.argv[1:3]) if len(sys.argv) > 2 else "AL-CU")
obs = build_dataset(progress=False).observations
obs = obs[obs["system"] == f"{a}-{b}"]
assert len(obs), f"no assessed or AIMD ΔH_mix of liquid {a}-{b} in the default data"
assert obs["x_B"].between(0, 1).all() and set(obs["kind"]) <= {"assessed", "aimd"}
x = np.linspace(0, 1, 101)
miedema = miedema_hmix(a, b, x)
assert miedema[0] == miedema[-1] == 0.0  # a pure element does not mix
fig, ax = plt.subplots(figsize=(5, 3.6))
ax.plot(x, miedema / 1000, label="Miedema (liquid)")
for source, rows in obs.groupby("source"):
    ax.plot(rows["x_B"], rows["HM_MIX_J"] / 1000, "o", label=f"{rows['kind'].iloc[0]}: {source[:40]}")
ax.set_xlabel(f"x({b})")
ax.set_ylabel("ΔH_mix (kJ/mol)")
ax.set_title(f"{a}-{b} liquid")
ax.legend(fontsize=7)
fig.savefig("miedema_vs_assessed.png", dpi=120, bbox_inches="tight")
print(obs[["x_B", "T_K", "HM_MIX_J", "source"]].to_string(index=False))
# the curves compared point by point: Miedema against each data point, kJ/mol
miss = (miedema_hmix(a, b, obs["x_B"].to_numpy()) - obs["HM_MIX_J"].to_numpy()) / 1000
print(f"Miedema at x({b}) = 0.5: {miedema[50] / 1000:+.2f} kJ/mol; Miedema − data over {len(obs)} points: "
      f"mean {miss.mean():+.2f}, RMS {np.sqrt(np.mean(miss**2)):.2f} kJ/mol")
print("wrote miedema_vs_assessed.png")
