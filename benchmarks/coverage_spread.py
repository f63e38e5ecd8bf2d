"""How well the regressor's σ is calibrated on held-out systems of the synthetic data the tests use.

Runs the nested cross-validation of ``tests/test_evaluation.py`` (14 elements, 91 systems, 500 J/mol
noise, c0 growing with the valence difference, two AIMD points, 4 outer folds) for several seeds of the noise and of
the regressor, and prints per seed: the model RMSE, the fraction of held-out points inside the
nominal 95 % interval (±1.96 σ) and inside ±1 σ (68 % for a calibrated Gaussian σ), and the standard
deviation of (observed − predicted)/σ (1 when calibrated; 0.5 when σ is twice too wide).

Run from the repository root: ``python benchmarks/coverage_spread.py [--seeds 0:5]`` (about half a
minute a seed on 2 cores).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from mixcalphad.model.evaluation import nested_cross_validation
from mixcalphad.model.regressor import HMixRegressor

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_regressor import ELEMENTS, FAST, synthetic_observations  # noqa: E402

#: The two AIMD points the test adds (J/mol).
AIMD = pd.DataFrame({"system": ["IR-W", "OS-TI"], "x_B": 0.5, "T_K": 3700.0, "HM_MIX_J": [-2000.0, -40000.0],
                     "sigma_J": 500.0, "kind": "aimd", "source": "aimd", "reference": "t", "collection": "t"})


def build_parser() -> argparse.ArgumentParser:
    """The command line of this script."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0:5", help="first:last (last excluded)")
    return parser


def main() -> None:
    args = build_parser().parse_args()
    first, last = (int(v) for v in args.seeds.split(":"))
    print("| seed | points | model RMSE (kJ/mol) | inside ±1.96σ | inside ±1σ | sd of z | wall (s) |")
    print("|---|---|---|---|---|---|---|")
    stats = []
    for seed in range(first, last):
        start = time.perf_counter()
        data = pd.concat([synthetic_observations(ELEMENTS[:14], noise=500.0, varying=True, seed=seed), AIMD],
                         ignore_index=True)
        result = nested_cross_validation(data, HMixRegressor(random_state=seed, progress=False, **FAST),
                                         outer_folds=4, progress=False, n_boot=10)
        p = result.points
        z = ((p["HM_MIX_kJ"] - p["pred_kJ"]) / p["sigma_kJ"]).to_numpy()
        row = (len(z), np.sqrt(np.mean((p["HM_MIX_kJ"] - p["pred_kJ"])**2)), np.mean(np.abs(z) <= 1.959964),
               np.mean(np.abs(z) <= 1.0), np.std(z, ddof=1))
        stats.append(row)
        print(f"| {seed} | {row[0]} | {row[1]:.2f} | {row[2]:.3f} | {row[3]:.3f} | {row[4]:.2f} | "
              f"{time.perf_counter() - start:.0f} |", flush=True)
    s = np.array(stats)
    print(f"\nover {len(s)} seeds: inside ±1.96σ {s[:, 2].min():.3f}–{s[:, 2].max():.3f}, inside ±1σ "
          f"{s[:, 3].min():.3f}–{s[:, 3].max():.3f}, sd of z {s[:, 4].min():.2f}–{s[:, 4].max():.2f}")


if __name__ == "__main__":
    main()
