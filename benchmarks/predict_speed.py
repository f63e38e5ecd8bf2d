"""Speed of predicting every binary of the supported element set on a 19-point composition grid.

Run: ``python benchmarks/predict_speed.py``; prints load time and prediction time of the default model.
"""
from __future__ import annotations

import argparse
import itertools
import time

import numpy as np

from mixcalphad.chem.elements import supported_elements
from mixcalphad.model.predictor import load_default_model


def build_parser() -> argparse.ArgumentParser:
    """The command line of this script (no options)."""
    return argparse.ArgumentParser(description=__doc__.splitlines()[0])


def main() -> None:
    build_parser().parse_args()
    start = time.perf_counter()
    model = load_default_model()
    loaded = time.perf_counter() - start
    elements = supported_elements()
    pairs = list(itertools.combinations(elements, 2))
    x = np.arange(1, 20) / 20
    a = np.repeat([p[0] for p in pairs], len(x))
    b = np.repeat([p[1] for p in pairs], len(x))
    xs = np.tile(x, len(pairs))
    start = time.perf_counter()
    mean, std = model.predict_pairs(a, b, xs, return_std=True)
    took = time.perf_counter() - start
    print("| elements | binaries | points | load model (s) | predict with σ (s) |")
    print("|---|---|---|---|---|")
    print(f"| {len(elements)} | {len(pairs)} | {len(xs)} | {loaded:.2f} | {took:.2f} |")


if __name__ == "__main__":
    main()
