"""Excess entropy of the liquid: learned κ against physical baselines, grouped CV, G_ex errors with intervals.

What
    :class:`mixcalphad.model.entropy.ExcessEntropyModel` in each form (``zero`` = S_ex 0,
    ``constant`` = Kaptay with one fitted τ, ``class`` = τ per Miedema class, ``melting`` =
    τ = k·T_m,mean with k fitted, ``learned`` = κ from six pair features), fitted on the training
    folds only, scored on held-out binaries of the default corpus (every assessed curve with an
    excess entropy, ``SE_J``; 12 outer folds grouped by system, the same folds for every form).

Metrics (kJ/mol of atoms)
    G_ex = H_ex − T·S_ex error at 1873 K (where the assessed tables are given) and at each binary's
    reference temperature T_ref, where assessments are constrained by phase equilibria: the
    assessed equimolar liquidus (``data/equimolar_liquidus.csv``) where known, else the mean
    melting point of the pair (H and S taken T-independent, exact for L = a + b·T).
    * "true H": G_ex from the assessed H_ex and the model's S_ex = κ·H_ex — the entropy model alone;
    * "predicted H": G_ex = H_pred·(1 − κT) with H_pred from an ``HMixRegressor(random_state=0)``
      trained on the same training folds (all kinds of rows, minus every row of the test systems) —
      what a user gets for a binary nobody assessed.
    RMSE over points with each system weighted to count once; 95 % intervals from 1000 bootstrap
    resamples of systems; paired differences to the best Kaptay form and to S = 0 on the same
    resamples. Coverage of the ±1.96σ band of S_ex ("true H").

Run: ``OMP_NUM_THREADS=1 python benchmarks/excess_entropy.py [--no-predicted-h]`` (~1 min with
``--no-predicted-h``; ~4–8 min with the 12 regressors).
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

FORMS = ("zero", "constant", "class", "melting", "learned")
KAPTAY_FORMS = ("constant", "class", "melting")
T_FIXED_K = 1873.0


def reference_temperatures(systems) -> pd.Series:
    """T_ref per system, K: the assessed equimolar liquidus (median over files) or the mean T_m."""
    from importlib import resources

    from mixcalphad.chem.elements import element_property

    with resources.files("mixcalphad.data").joinpath("equimolar_liquidus.csv").open() as fh:
        table = pd.read_csv(fh)
    liquidus = table[table["bound"].isna() & table["liquidus_K"].notna()].groupby("system")["liquidus_K"].median()
    out = {s: float(liquidus[s]) if s in liquidus.index else float(np.mean(element_property(s.split("-"), "T_melt_K")))
           for s in systems}
    return pd.Series(out)


def cross_validate(observations: pd.DataFrame, *, folds: int, predicted_h: bool) -> pd.DataFrame:
    """Held-out rows with S_ex of every form (``S_<form>``) and, optionally, ``H_pred`` (J/mol)."""
    from sklearn.model_selection import GroupKFold

    from mixcalphad.model.entropy import ExcessEntropyModel, entropy_targets
    from mixcalphad.model.regressor import HMixRegressor

    rows = entropy_targets(observations)
    out = []
    for k, (train, test) in enumerate(GroupKFold(n_splits=folds).split(rows, groups=rows["system"])):
        start = time.perf_counter()
        held = rows.iloc[test].copy()
        held_systems = set(held["system"])
        train_obs = observations[~observations["system"].isin(held_systems)]
        pairs = held.drop_duplicates("system").set_index("system")
        for form in FORMS:
            model = ExcessEntropyModel(form=form).fit(train_obs)
            per = {s: model.for_pair(r.a, r.b) for s, r in pairs.iterrows()}
            kappa = held["system"].map({s: p.kappa_per_K for s, p in per.items()}).to_numpy()
            held[f"kappa_{form}"] = kappa
            held[f"S_{form}"] = kappa * held["HM_MIX_J"].to_numpy()
            held[f"sigS_{form}"] = per[held["system"].iloc[0]].sigma(held["x_B"].to_numpy(), held["HM_MIX_J"].to_numpy())
        if predicted_h:
            reg = HMixRegressor(random_state=0, progress=False).fit(train_obs)
            held["H_pred"] = reg.predict(held[["system", "x_B"]])
        held["fold"] = k
        out.append(held)
        print(f"fold {k}: {len(held_systems)} systems, {time.perf_counter() - start:.0f} s", flush=True)
    return pd.concat(out, ignore_index=True)


def _rmse(err, w):
    return float(np.sqrt(np.sum(w * err**2) / np.sum(w)))


def table(points: pd.DataFrame, columns: dict, *, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """RMSE (kJ/mol) per column of errors, system-weighted, with bootstrap intervals and paired
    differences to ``best Kaptay`` and ``zero``."""
    systems = points["system"].unique()
    index = {s: np.flatnonzero(points["system"].to_numpy() == s) for s in systems}
    w = points["weight"].to_numpy()
    errors = {name: points[col].to_numpy() / 1000.0 for name, col in columns.items()}
    point = {name: _rmse(e, w) for name, e in errors.items()}
    kaptay = [n for n in errors if n in KAPTAY_FORMS]
    best_kaptay = min(kaptay, key=point.get) if kaptay else None
    rng = np.random.default_rng(seed)
    boots = {name: [] for name in errors}
    for _ in range(n_boot):
        take = np.concatenate([index[s] for s in rng.choice(systems, size=len(systems))])
        for name, e in errors.items():
            boots[name].append(_rmse(e[take], w[take]))
    boots = {k: np.asarray(v) for k, v in boots.items()}
    rows = []
    for name in errors:
        lo, hi = np.percentile(boots[name], [2.5, 97.5])
        row = {"form": name, "RMSE": f"{point[name]:.2f}", "95% CI": f"[{lo:.2f}, {hi:.2f}]"}
        for label, ref in (("− zero", "zero"), (f"− best Kaptay ({best_kaptay})", best_kaptay)):
            if ref is None or ref == name:
                row[label] = ""
                continue
            dl, dh = np.percentile(boots[name] - boots[ref], [2.5, 97.5])
            row[label] = f"{point[name] - point[ref]:+.2f} [{dl:+.2f}, {dh:+.2f}]"
        rows.append(row)
    frame = pd.DataFrame(rows).set_index("form")
    frame.attrs["best_kaptay"] = best_kaptay
    return frame


def build_parser() -> argparse.ArgumentParser:
    """The command line of this script."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folds", type=int, default=12)
    parser.add_argument("--no-predicted-h", action="store_true", help="skip the 12 ΔH regressors")
    parser.add_argument("--boot", type=int, default=1000)
    return parser


def main() -> None:
    args = build_parser().parse_args()
    start = time.perf_counter()
    from mixcalphad.data.corpus import build_dataset

    observations = build_dataset(progress=False).observations
    points = cross_validate(observations, folds=args.folds, predicted_h=not args.no_predicted_h)
    t_ref = reference_temperatures(points["system"].unique())
    points["T_ref"] = points["system"].map(t_ref).to_numpy()
    H, S = points["HM_MIX_J"].to_numpy(), points["SE_J"].to_numpy()
    print(f"\n{points['system'].nunique()} binaries, {len(points)} points with an assessed excess entropy; "
          f"T_ref: liquidus for {int(np.isin(points['system'].unique(), _liquidus_systems()).sum())} binaries, "
          f"mean T_m for the rest (median T_ref {np.median(t_ref):.0f} K)")
    for label, T in (("1873 K", T_FIXED_K), ("T_ref", points["T_ref"].to_numpy())):
        G = H - T * S
        cols = {}
        for form in FORMS:
            points[f"eG_{form}_{label}"] = H - T * points[f"S_{form}"].to_numpy() - G
            cols[form] = f"eG_{form}_{label}"
        print(f"\n=== G_ex error at {label}, true H (the entropy model alone), kJ/mol ===")
        print(table(points, cols, n_boot=args.boot).to_string())
        if "H_pred" in points:
            cols = {}
            for form in FORMS:
                points[f"pG_{form}_{label}"] = points["H_pred"].to_numpy() * (1 - T * points[f"kappa_{form}"]) - G
                cols[form] = f"pG_{form}_{label}"
            print(f"\n=== G_ex error at {label}, predicted H (held-out regressor), kJ/mol ===")
            print(table(points, cols, n_boot=args.boot).to_string())
    print("\n=== κ and σ (fitted on all binaries) ===")
    from mixcalphad.model.entropy import ExcessEntropyModel

    w = points["weight"].to_numpy()
    for form in FORMS:
        model = ExcessEntropyModel(form=form).fit(observations)
        z = np.abs(points["SE_J"] - points[f"S_{form}"]) <= 1.96 * points[f"sigS_{form}"]
        print(f"{form:9s} beta = {np.round(model.coef_, 4).tolist()}  kappa(AL-NI) = {model.kappa('AL', 'NI') * 1e4:.2f}e-4 /K"
              f"  sigma_S(AL-NI, x=0.5, H=-40 kJ) = {model.for_pair('AL', 'NI').sigma(0.5, -40000.0):.2f} J/mol/K"
              f"  held-out coverage of ±1.96σ {np.sum(w * z) / np.sum(w):.3f}")
    print(f"\nwall time {time.perf_counter() - start:.0f} s")


def _liquidus_systems():
    from importlib import resources

    with resources.files("mixcalphad.data").joinpath("equimolar_liquidus.csv").open() as fh:
        table = pd.read_csv(fh)
    return table[table["bound"].isna() & table["liquidus_K"].notna()]["system"].unique()


if __name__ == "__main__":
    main()
