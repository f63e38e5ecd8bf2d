"""Measure the spread of assessed excess entropies: the number behind ``DEFAULT_SIGMA_SE_J_K``.

For every binary with two or more independent assessments in the default corpus — the TDB files
installed with pycalphad (harvested, duplicate files counted once) and the packaged assessed
tables, each table's curve being one more source — take S_ex (J/(mol·K)) at x_B = 0.5 and
1873 K of each assessment and print the pooled standard deviation

    s_pooled = sqrt( Σ_binaries Σ_i (S_i − mean_binary)² / Σ_binaries (n_binary − 1) ),

the σ of one assessment about the mean of its binary. The same measure of ΔH_mix is printed as a
check against ``DEFAULT_SIGMA_J["assessed"]``. Run: ``python scripts/measure_excess_entropy_spread.py``
(~30 s: the harvest of pycalphad's TDB files).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from mixcalphad.data.corpus import EXTRA_TABLES, extra_assessed_observations
from mixcalphad.data.harvest import default_corpus_paths, harvest_corpus

X, T = 0.5, 1873.0


def pooled_sd(points: pd.DataFrame, column: str) -> tuple[float, int]:
    """Pooled standard deviation of ``column`` within binaries, and its degrees of freedom."""
    groups = points.groupby("system")[column]
    dof = int((groups.size() - 1).sum())
    return float(np.sqrt(groups.apply(lambda v: ((v - v.mean()) ** 2).sum()).sum() / dof)), dof


def main() -> None:
    harvested = harvest_corpus(default_corpus_paths(), T=T, progress=False).observations  # the default grid
    tables = pd.concat([extra_assessed_observations(c) for c in EXTRA_TABLES], ignore_index=True)
    columns = ["system", "source", "HM_MIX_J", "SE_J"]
    points = pd.concat([frame.loc[np.isclose(frame["x_B"], X) & (frame["T_K"] == T), columns]
                        for frame in (harvested, tables)], ignore_index=True)
    points = points[points.groupby("system")["system"].transform("size") > 1].sort_values(["system", "source"])
    with pd.option_context("display.width", 160, "display.max_rows", None):
        print(points.to_string(index=False, float_format="{:.3f}".format))
    s_se, dof = pooled_sd(points, "SE_J")
    s_h, _ = pooled_sd(points, "HM_MIX_J")
    print(f"\n{points['system'].nunique()} binaries, {len(points)} assessments, {dof} degrees of freedom "
          f"at x_B = {X}, T = {T:g} K")
    print(f"pooled sd of S_ex: {s_se:.2f} J/(mol K)")
    print(f"pooled sd of dH_mix: {s_h:.0f} J/mol")


if __name__ == "__main__":
    main()
