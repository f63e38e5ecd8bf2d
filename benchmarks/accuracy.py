"""Accuracy, uncertainty, smoothness and speed of the ΔH_mix regressor on the default data.

Nested cross-validation grouped by binary system (12 outer folds; σ calibration inside each outer
training set; Miedema scored on the same held-out points), with 95 % bootstrap-over-systems intervals
on RMSE, median absolute error and the model/Miedema ratio, overall and per Miedema class; coverage
and mean σ per class and for the AIMD points; the AIMD test — the 29 AIMD values predicted (a) by a
model trained without any AIMD data (and without any data of those systems) and (b) in the grouped CV
with the other AIMD systems in training. Then, for the model trained on everything: training time,
σ at AL–NI x = 0.5, smoothness (Σ|second difference| over 49 compositions) of AL–NI and CU–ZR, and
the time to predict every supported binary on 19 compositions. Prints the acceptance checks of
issue 12 with their numbers.

Run: ``nice python benchmarks/accuracy.py [--jobs 2] [--outer-folds 12] [--plot accuracy_parity.png]``
"""
from __future__ import annotations

import argparse
import itertools
import time

import numpy as np

from mixcalphad.chem.elements import supported_elements
from mixcalphad.data.corpus import build_dataset
from mixcalphad.model.evaluation import nested_cross_validation
from mixcalphad.model.metrics import bootstrap_errors
from mixcalphad.model.regressor import HMixRegressor

GRID_49 = np.linspace(0.02, 0.98, 49)


def roughness_kj(model, a: str, b: str) -> float:
    """Σ|second difference| of the predicted ΔH_mix over :data:`GRID_49`, kJ/mol."""
    h = model.predict(a, b, GRID_49) / 1000.0
    return float(np.sum(np.abs(np.diff(h, 2))))


def predict_all_seconds(model) -> tuple[int, float]:
    pairs = list(itertools.combinations(supported_elements(), 2))
    x = np.arange(1, 20) / 20
    a = np.repeat([p[0] for p in pairs], len(x))
    b = np.repeat([p[1] for p in pairs], len(x))
    start = time.perf_counter()
    model.predict_pairs(a, b, np.tile(x, len(pairs)), return_std=True)
    return len(pairs), time.perf_counter() - start


def build_parser() -> argparse.ArgumentParser:
    """The command line of this script."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--outer-folds", type=int, default=12)
    parser.add_argument("--plot", default=None, help="write a parity plot of the held-out points")
    return parser


def main() -> None:
    args = build_parser().parse_args()
    start = time.perf_counter()
    build = build_dataset(progress=False)
    observations = build.observations
    print(f"dataset: {build.counts()}")
    result = nested_cross_validation(observations, HMixRegressor(random_state=0), outer_folds=args.outer_folds,
                                     n_jobs=args.jobs, progress=False)
    print(result.report())
    cv_time = time.perf_counter() - start

    t0 = time.perf_counter()
    model = HMixRegressor(random_state=0).fit(observations)
    train_s = time.perf_counter() - t0
    _, sigma = model.predict("AL", "NI", 0.5, return_std=True)
    rough = {s: roughness_kj(model, *s.split("-")) for s in ("AL-NI", "CU-ZR")}
    n_pairs, predict_s = predict_all_seconds(model)
    print(f"\nmodel on all data: {model.n_systems_} systems, {model.n_curves_} curves, {model.n_points_} points; "
          f"trained in {train_s:.1f} s (inner 5-fold OOF RMSE {model.inner_rmse_ / 1000:.2f} kJ/mol)")
    print(f"conformal factors: {', '.join(f'{k} {v:.2f}' for k, v in model.scale_.items())}")
    print(f"σ(AL–NI, x = 0.5) = {float(sigma) / 1000:.2f} kJ/mol; roughness Σ|Δ²| over 49 points: "
          + ", ".join(f"{k} {v:.3f} kJ/mol" for k, v in rough.items()))
    print(f"predict all {n_pairs} binaries × 19 x with σ: {predict_s:.2f} s")

    overall = bootstrap_errors(result.points, "HM_MIX_kJ", {"model": "pred_kJ", "Miedema": "miedema_kJ"},
                               reference="Miedema", n_boot=result.n_boot)
    classes = result.accuracy_table().set_index("group")
    cover = result.coverage_table().set_index("group")
    aimd = result.aimd_table().set_index("group").loc["all"]
    class_rows = [g for g in classes.index if g != "all"]
    checks = [
        ("CV ratio to Miedema ≤ 0.78", f"{overall['model ratio'][0]:.3f} [{overall['model ratio'][1]:.3f}, "
                                       f"{overall['model ratio'][2]:.3f}]", overall["model ratio"][0] <= 0.78),
        ("no Miedema class worse than Miedema", ", ".join(
            f"{g} {classes.loc[g, 'model RMSE']:.2f} vs {classes.loc[g, 'Miedema RMSE']:.2f}" for g in class_rows),
         all(classes.loc[g, "model RMSE"] <= classes.loc[g, "Miedema RMSE"] for g in class_rows)),
        ("AIMD without AIMD ≤ 15.05", f"{aimd['without AIMD RMSE']:.2f} (Miedema {aimd['Miedema RMSE']:.2f})",
         aimd["without AIMD RMSE"] <= 15.05),
        ("AIMD with other AIMD ≤ 12", f"{aimd['with other AIMD RMSE']:.2f}", aimd["with other AIMD RMSE"] <= 12),
        ("coverage 0.92–0.97 overall", f"{cover.loc['all', 'covered']:.3f}",
         0.92 <= cover.loc["all", "covered"] <= 0.97),
        ("coverage ≥ 0.90 per class", ", ".join(f"{g} {cover.loc[g, 'covered']:.3f}" for g in class_rows),
         all(cover.loc[g, "covered"] >= 0.90 for g in class_rows)),
        ("σ(AL–NI, 0.5) ≤ 20 kJ/mol", f"{float(sigma) / 1000:.2f}", float(sigma) <= 20000),
        ("roughness < 10 kJ/mol", ", ".join(f"{k} {v:.3f}" for k, v in rough.items()),
         all(v < 10 for v in rough.values())),
        ("training < 3 min", f"{train_s:.1f} s", train_s < 180),
        ("predict all in seconds", f"{predict_s:.2f} s", predict_s < 10),
    ]
    print("\n| acceptance (issue 12) | measured | holds |\n|---|---|---|")
    for label, value, ok in checks:
        print(f"| {label} | {value} | {'yes' if ok else 'NO'} |")
    if args.plot:
        from mixcalphad.plot import parity_plot

        parity_plot(result.points, "HM_MIX_kJ", "pred_kJ", args.plot, hue="miedema_class",
                    highlight=result.points["kind"] == "aimd", title="held-out systems: Miedema + RK residual",
                    force=True)
        print(f"parity plot: {args.plot}")
    print(f"\nwall time: CV {cv_time:.0f} s, total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
