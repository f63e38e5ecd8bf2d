"""Accuracy of the ΔH_mix regressor on binary systems it has never seen.

Nested cross-validation grouped by binary system (outer 12 folds; selection, tuning and σ
calibration inside each outer training set), on the embedded default data. Prints, in kJ/mol:
model and Miedema RMSE/MAE overall and per Miedema class; the same at each held-out curve's
extremum; the measured coverage of the nominal 95 % interval; and the AIMD test — the 29 AIMD values
predicted (a) by a model trained without any AIMD data (and without any data of those systems) and
(b) in the grouped CV with the other AIMD systems in training. Writes ``accuracy_parity.png``.

Run: ``python benchmarks/accuracy.py [--jobs 2] [--features full|paper10]``
"""
from __future__ import annotations

import argparse
import time

from mixcalphad.data.corpus import build_dataset
from mixcalphad.model.evaluation import nested_cross_validation
from mixcalphad.model.regressor import HMixRegressor
from mixcalphad.plot import parity_plot


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--features", default="full")
    parser.add_argument("--plot", default="accuracy_parity.png")
    args = parser.parse_args()
    start = time.perf_counter()
    observations = build_dataset(progress=False).observations
    result = nested_cross_validation(observations, HMixRegressor(features=args.features, random_state=0),
                                     n_jobs=args.jobs, progress=False)
    print(result.report())
    print("\nper outer fold: inner RMSE (kJ/mol), chosen parameters and feature count")
    print(result.folds.to_string(index=False, float_format="{:.2f}".format))
    parity_plot(result.points, "HM_MIX_kJ", "pred_kJ", args.plot, hue="miedema_class",
                highlight=result.points["kind"] == "aimd", title="held-out systems: Miedema + LightGBM")
    print(f"\nparity plot: {args.plot}; wall time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
