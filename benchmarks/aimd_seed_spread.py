"""How much a short local-MD ΔH_mix moves with the seed: EMT Cu–Ni (x = 0.5) over a range of seeds.

The tests and the example run the AIMD protocol with EMT on a few dozen atoms for well under a
picosecond; their ΔH_mix is then mostly noise. This prints ΔH_mix ± σ per seed, then the mean, the
standard deviation and the range over seeds, and the standard deviation of (ΔH − mean)/σ (≈ 1 when
the reported σ describes the scatter). EMT's converged value is about +1.8 kJ/mol at 1900 K
(shared/reference/aimd.md; the slow test of tests/test_aimd_local.py).

Run: ``python benchmarks/aimd_seed_spread.py [--atoms 32] [--ps 0.36] [--stage-ps 0.09] [--max-stages 4]
[--seeds 0:30]`` (the defaults are the settings of ``tests/test_aimd_local.py``; about 6 s a seed).
"""
from __future__ import annotations

import argparse
import logging
import time

import numpy as np

from mixcalphad.aimd.local import run_local_md


def build_parser() -> argparse.ArgumentParser:
    """The command line of this script."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--atoms", type=int, default=32)
    parser.add_argument("--ps", type=float, default=0.36, help="production per run, ps")
    parser.add_argument("--stage-ps", type=float, default=0.09, help="volume-search stage, ps")
    parser.add_argument("--max-stages", type=int, default=4)
    parser.add_argument("--seeds", default="0:30", help="first:last (last excluded)")
    return parser


def main() -> None:
    args = build_parser().parse_args()
    logging.disable(logging.WARNING)  # each short run warns that no volume stage was accepted
    first, last = (int(v) for v in args.seeds.split(":"))
    print(f"EMT Cu–Ni x = 0.5, {args.atoms} atoms, production {args.ps:g} ps, stages {args.stage_ps:g} ps "
          f"(at most {args.max_stages}), serial")
    print("| seed | T (K) | ΔH_mix (kJ/mol) | σ (kJ/mol) | wall (s) |")
    print("|---|---|---|---|---|")
    values, sigmas = [], []
    for seed in range(first, last):
        start = time.perf_counter()
        m = run_local_md("CU", "NI", n_atoms=args.atoms, ps=args.ps, stage_ps=args.stage_ps,
                         max_stages=args.max_stages, parallel="serial", seed=seed).mixing
        values.append(m.HM_MIX_J / 1000)
        sigmas.append(m.sigma_J / 1000)
        print(f"| {seed} | {m.T_K:.0f} | {values[-1]:+.3f} | {sigmas[-1]:.3f} | {time.perf_counter() - start:.1f} |",
              flush=True)
    h, s = np.array(values), np.array(sigmas)
    print(f"\n{len(h)} seeds: mean {h.mean():+.2f} kJ/mol, sd {h.std(ddof=1):.2f}, range [{h.min():+.2f}, "
          f"{h.max():+.2f}]; reported σ {s.min():.2f}–{s.max():.2f} (mean {s.mean():.2f}); "
          f"sd of (ΔH − mean)/σ {np.std((h - h.mean()) / s, ddof=1):.2f}")


if __name__ == "__main__":
    main()
