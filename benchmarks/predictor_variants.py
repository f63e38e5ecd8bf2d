"""Point accuracy of predictor variants on the same 12 system-grouped outer folds as ``accuracy.py``.

Why the regressor's defaults are what they are: each variant's curve coefficients are learned on
the outer training folds and scored on the held-out systems' points (no σ calibration, so this runs
in about a minute), with 95 % bootstrap-over-systems intervals on RMSE and on the ratio to Miedema
(the same points), the RMSE per Miedema class, and the AIMD test without AIMD data (model trained
with no AIMD point and no data of any AIMD system).

Variants: LightGBM alone, the GP alone, LightGBM/GP blends (0.5 is the default), LightGBM with
linear leaves, the GP without winsorizing its c0 targets (alone and in the blend), LightGBM's share
shrunk by the GP's proximity (below), and curves the source tables flag with a ``caution``
down-weighted (0.25) or left out (the shared data README asks the model to weight them; the default
keeps them at full weight under the Huber loss).

Proximity of a pair to the training systems, per GP coefficient: the fraction of the GP's prior
variance its data explain, 1 − σ²_posterior/σ²_prior (σ with the white noise, as the GP predicts
it; 0 far from every training system). The "× proximity" variant gives LightGBM the weight
0.5·proximity and the GP the rest (c0, c1; c2 from LightGBM), so far from the data it falls back
to the GP's zero-mean prior, Miedema. The script also prints the proximity of c0 for the GP fitted
on every system: its range over the training systems and its median over all supported pairs.

``--v1-corpus`` leaves out the tables added after v1 (``assessed-extra2`` and ``assessed-extra3``):
the 225-system corpus of v1 and of the issue-12 prototype, for comparing with its numbers.

Run: ``nice python benchmarks/predictor_variants.py [--jobs 2] [--v1-corpus]``
"""
from __future__ import annotations

import argparse
import itertools
import time

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.model_selection import GroupKFold

from mixcalphad.chem.elements import supported_elements
from mixcalphad.data.corpus import build_dataset
from mixcalphad.model.curves import COEFFICIENTS, curve_coefficients, curve_index, oriented_points, rk_powers
from mixcalphad.model.learners import DEFAULT_LGBM_PARAMS, CoefficientBoosters, CoefficientGP
from mixcalphad.model.metrics import bootstrap_errors, format_interval
from mixcalphad.model.pair_features import GP_FEATURES, feature_columns, pair_features
from mixcalphad.model.regressor import miedema_class_of, training_rows

BLENDS = (0.5, 0.65, 0.8)
CAUTION_WEIGHT = 0.25
#: Winsorizing of the GP's c0 targets in the default model (median ± 3 robust scales).
GP_CLIP = 3.0
#: Collections added after v1: ``--v1-corpus`` leaves them out.
AFTER_V1 = ("assessed-extra2", "assessed-extra3")


def v1_corpus(observations: pd.DataFrame) -> pd.DataFrame:
    """The observations without the collections added after v1 (:data:`AFTER_V1`)."""
    return observations[~observations["collection"].isin(AFTER_V1)]


def proximity(gp: CoefficientGP, X: np.ndarray) -> np.ndarray:
    """Fraction of each GP coefficient's prior variance explained at the pairs ``X``, shape (n, k), in [0, 1].

    The prior variance is the fitted constant plus white-noise variance of the kernel (the GP's
    σ includes the white noise, see :meth:`CoefficientGP.predict`).
    """
    _, std = gp.predict(X)
    out = np.zeros_like(std)
    for k, info in enumerate(gp.models):
        if info is not None:
            theta = np.exp(info["theta"])  # constant, length scales …, white noise (standardized units)
            prior = (theta[0] + theta[-1]) * info["y_scale"]**2
            out[:, k] = np.clip(1.0 - std[:, k]**2 / prior, 0.0, 1.0)
    return out


def _learners(X, curves, cautious: np.ndarray):
    """On one training set: the LightGBM variants (name → CoefficientBoosters) and the GP variants
    (name → CoefficientGP: default, without winsorizing, without the cautioned curves)."""
    C = curves[list(COEFFICIENTS)].to_numpy(float)
    weight = curves["weight"].to_numpy(float)
    systems = curves["system"].to_numpy()
    gp_columns = feature_columns(GP_FEATURES)
    linear = {**DEFAULT_LGBM_PARAMS, "linear_tree": True, "linear_lambda": 1.0}
    fitted = {
        "lgb": CoefficientBoosters().fit(X, C, weight),
        "lgb linear leaves": CoefficientBoosters(linear).fit(X, C, weight),
        "lgb caution 0.25": CoefficientBoosters().fit(X, C, weight * np.where(cautious, CAUTION_WEIGHT, 1.0)),
        "lgb caution out": CoefficientBoosters().fit(X[~cautious], C[~cautious], weight[~cautious]),
    }
    gps = {"gp": CoefficientGP(gp_columns, 2, clip=GP_CLIP).fit(X, C, systems),
           "gp no clip": CoefficientGP(gp_columns, 2, clip=None).fit(X, C, systems),
           "gp caution out": CoefficientGP(gp_columns, 2, clip=GP_CLIP).fit(X[~cautious], C[~cautious],
                                                                             systems[~cautious])}
    return fitted, gps


def _mix(lgb: np.ndarray, gp_mean: np.ndarray, blend) -> np.ndarray:
    """LightGBM's coefficients with c0, c1 blended: ``blend`` × LightGBM + (1 − blend) × GP (scalar or (n, 2))."""
    out = lgb.copy()
    out[:, :2] = blend * lgb[:, :2] + (1.0 - blend) * gp_mean
    return out


def fold_predictions(rows: pd.DataFrame, train: np.ndarray, test: np.ndarray, cautious_systems: set) -> pd.DataFrame:
    """Held-out points of one fold with every variant's prediction (kJ/mol)."""
    curves = curve_coefficients(rows.iloc[train])
    X = pair_features(curves["P"], curves["Q"])
    fitted, gps = _learners(X, curves, curves["system"].isin(cautious_systems).to_numpy())
    held = rows.iloc[test]
    held_curves = curve_coefficients(held)
    Xt = pair_features(held_curves["P"], held_curves["Q"])
    lgb = {name: model.predict(Xt) for name, model in fitted.items()}
    gp = {name: model.predict(Xt)[0] for name, model in gps.items()}
    coefficients = {"LightGBM alone": lgb["lgb"], "GP alone (c2 from LightGBM)": _mix(lgb["lgb"], gp["gp"], 0.0),
                    "GP alone, no winsorizing": _mix(lgb["lgb"], gp["gp no clip"], 0.0),
                    **{f"blend {b:g}" + (" (default)" if b == 0.5 else ""): _mix(lgb["lgb"], gp["gp"], b)
                       for b in BLENDS},
                    "blend 0.5, GP without winsorizing": _mix(lgb["lgb"], gp["gp no clip"], 0.5),
                    "blend 0.5 × proximity": _mix(lgb["lgb"], gp["gp"], 0.5 * proximity(gps["gp"], Xt)),
                    "blend 0.5, LightGBM linear leaves": _mix(lgb["lgb linear leaves"], gp["gp"], 0.5),
                    f"blend 0.5, caution weight {CAUTION_WEIGHT:g}": _mix(lgb["lgb caution 0.25"],
                                                                          gp["gp caution out"], 0.5),
                    "blend 0.5, caution curves left out": _mix(lgb["lgb caution out"], gp["gp caution out"], 0.5)}
    points = oriented_points(held)
    which = curve_index(held)
    basis, xx = rk_powers(points["t"].to_numpy()), points["xx"].to_numpy()
    out = pd.DataFrame({"system": held["system"].to_numpy(), "kind": held["kind"].to_numpy(),
                        "miedema_class": miedema_class_of(Xt)[which], "HM_MIX_kJ": held["HM_MIX_J"].to_numpy() / 1000,
                        "Miedema": points["miedema_J"].to_numpy() / 1000})
    for name, coef in coefficients.items():
        out[name] = out["Miedema"] + xx * np.sum(coef[which] * basis, axis=1) / 1000
    return out


def proximity_summary(rows: pd.DataFrame) -> str:
    """Proximity of c0 for the GP fitted on every system of ``rows``: range over those systems and
    median over every supported pair."""
    curves = curve_coefficients(rows)
    X = pair_features(curves["P"], curves["Q"])
    gp = CoefficientGP(feature_columns(GP_FEATURES), 2, clip=GP_CLIP).fit(
        X, curves[list(COEFFICIENTS)].to_numpy(float), curves["system"].to_numpy())
    at_training = proximity(gp, X)[:, 0]
    pairs = list(itertools.combinations(supported_elements(), 2))
    everywhere = proximity(gp, pair_features([p[0] for p in pairs], [p[1] for p in pairs]))[:, 0]
    return (f"proximity of c0 (GP on all {rows['system'].nunique()} systems): {at_training.min():.2f}–"
            f"{at_training.max():.2f} at the training systems, median {np.median(everywhere):.2f} over all "
            f"{len(pairs)} supported pairs")


def build_parser() -> argparse.ArgumentParser:
    """The command line of this script."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--outer-folds", type=int, default=12)
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--v1-corpus", action="store_true", help="leave out the tables added after v1: "
                        + ", ".join(AFTER_V1))
    return parser


def main() -> None:
    args = build_parser().parse_args()
    start = time.perf_counter()
    observations = build_dataset(progress=False).observations
    if args.v1_corpus:
        observations = v1_corpus(observations)
    rows = training_rows(observations).reset_index(drop=True)
    cautious = set(rows.loc[rows["caution"].notna(), "system"])  # none in the v1 corpus
    print(f"{rows['system'].nunique()} systems, {len(rows)} points; flagged with a caution: {', '.join(sorted(cautious))}")
    splits = list(GroupKFold(n_splits=args.outer_folds).split(rows, groups=rows["system"]))
    parts = Parallel(n_jobs=args.jobs)(delayed(fold_predictions)(rows, tr, te, cautious) for tr, te in splits)
    held = pd.concat(parts, ignore_index=True)
    aimd = rows["kind"] == "aimd"
    blind = ~aimd & ~rows["system"].isin(set(rows.loc[aimd, "system"]))
    train, test = np.flatnonzero(blind), np.flatnonzero(aimd)
    aimd_points = fold_predictions(rows, train, test, cautious)
    variants = [c for c in held.columns if c not in ("system", "kind", "miedema_class", "HM_MIX_kJ")]
    stats = bootstrap_errors(held, "HM_MIX_kJ", {v: v for v in variants}, reference="Miedema", n_boot=args.n_boot)
    default = "blend 0.5 (default)"
    paired = bootstrap_errors(held, "HM_MIX_kJ", {v: v for v in variants}, reference=default, n_boot=args.n_boot)
    classes = sorted(held["miedema_class"].unique())

    def rmse(frame, column):
        return float(np.sqrt(np.mean((frame[column] - frame["HM_MIX_kJ"])**2)))

    print(f"\n{args.outer_folds} outer folds grouped by system; RMSE kJ/mol, 95 % bootstrap-over-systems intervals\n")
    print(f"| variant | RMSE | ratio to Miedema | ratio to the default | {' | '.join(classes)} | "
          "AIMD without AIMD | MedAE |")
    print("|---|---|---|---|" + "---|" * len(classes) + "---|---|")
    for v in variants:
        ratio = "1" if v == "Miedema" else format_interval(stats[f"{v} ratio"], 3)
        to_default = "1" if v == default else format_interval(paired[f"{v} ratio"], 3)
        per_class = " | ".join(f"{rmse(held[held['miedema_class'] == c], v):.2f}" for c in classes)
        print(f"| {v} | {format_interval(stats[f'{v} RMSE'])} | {ratio} | {to_default} | {per_class} | "
              f"{rmse(aimd_points, v):.2f} | {stats[f'{v} MedAE'][0]:.2f} |")
    print(f"\n{proximity_summary(rows)}")
    print(f"\nwall time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
