"""Does GP max-variance acquisition pay off? A retrospective test on the embedded default data.

For each seed, the binary systems of the default dataset are split at random into a fixed **test**
set (never acquirable), a small **start** set and a **pool** whose ΔH_mix values are hidden. Batch by
batch, each strategy picks binaries from the pool, their observations (the whole curve) are revealed,
the ΔH_mix regressor is refitted, and its RMSE on the test points is recorded. Strategies:

* ``gp-conditional`` — :class:`mixcalphad.acquisition.plan.VarianceGP` trained on the labelled data,
  max σ over x = 0.1…0.9, greedy batch conditioned on the earlier picks (the library's default);
* ``gp-top`` — the same GP, the plain top-b of the ranking (the paper's procedure);
* ``tree`` — regression-tree active learning (Jose et al., Data Min. Knowl. Discov. 38 (2024) 420):
  a regression tree on the labelled points (the ten paper features, target ΔH_mix − Miedema); each
  pool binary falls in the leaf of its equimolar feature vector; leaf l receives a share of the batch
  ∝ sqrt(pool fraction × label variance), filled at random;
* ``random`` — uniform picks from the pool.

Refits use ``HMixRegressor(features="full", tune=False, params=PARAM_GRID[1], n_members=2,
inner_folds=3, adaptive=False)``: the hyperparameters the shipped model selected, fixed, and a small
ensemble, so that a refit takes ~1 s (the tuned fit takes ~10 s and would make this benchmark hours
long). RMSE in kJ/mol over every point of the test systems.

Prints the learning curves (mean ± standard deviation over seeds) as a table, the number of
acquisitions each strategy needs to reach random's final mean RMSE, and the paired difference to
random; writes ``acquisition_curves.png`` and ``acquisition_curves.csv`` (every run).

Run: ``python benchmarks/acquisition.py [--seeds 10] [--jobs 2] [--batch 10] [--batches 8] [--start 30]``
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

STRATEGIES = ("gp-conditional", "gp-top", "tree", "random")


def regressor(seed: int):
    from mixcalphad.model.regressor import PARAM_GRID, HMixRegressor

    return HMixRegressor(features="full", tune=False, params=dict(PARAM_GRID[1]), n_members=2, inner_folds=3,
                         adaptive=False, random_state=seed, progress=False)


def test_rmse_kj(labelled: pd.DataFrame, test: pd.DataFrame, seed: int) -> float:
    from mixcalphad.model.features import pairs_of

    model = regressor(seed).fit(labelled)
    pred = model.predict_pairs(*pairs_of(test))
    return float(np.sqrt(np.mean((pred - test["HM_MIX_J"].to_numpy(float))**2)) / 1000)


def pick_gp(labelled, pool_systems, b, seed, batch):
    from mixcalphad.acquisition.plan import VarianceGP, select_batch

    gp = VarianceGP(random_state=seed).fit(labelled)
    scores = gp.max_std(pool_systems, progress=False)
    picks = select_batch(gp, scores, b, batch=batch)
    return picks["system"].tolist(), gp.fit_time_s_


def pick_tree(labelled, pool_systems, b, rng, seed):
    """Regression-tree AL: leaf shares ∝ sqrt(pool fraction × label variance), random within leaves."""
    from sklearn.tree import DecisionTreeRegressor

    from mixcalphad.acquisition.plan import equimolar_features
    from mixcalphad.model.features import BinaryFeaturizer, pairs_of
    from mixcalphad.chem.miedema import miedema_pairs

    a, bb, x = pairs_of(labelled)
    X = BinaryFeaturizer("paper10").transform_pairs(a, bb, x)
    y = labelled["HM_MIX_J"].to_numpy(float) - miedema_pairs(a, bb, x)
    tree = DecisionTreeRegressor(max_leaf_nodes=max(2, b), min_samples_leaf=9, random_state=seed).fit(X, y)
    leaf_of_label = tree.apply(X)
    pool_leaf = tree.apply(equimolar_features(pool_systems))
    leaves = np.unique(pool_leaf)
    frac = np.array([np.mean(pool_leaf == leaf) for leaf in leaves])
    var = np.array([np.var(y[leaf_of_label == leaf]) if np.any(leaf_of_label == leaf) else np.var(y)
                    for leaf in leaves])
    weight = np.sqrt(frac * var)
    weight = weight / weight.sum() if weight.sum() > 0 else frac
    available = np.array([np.sum(pool_leaf == leaf) for leaf in leaves])
    counts = np.zeros(len(leaves), dtype=int)
    remaining = b
    while remaining > 0:  # largest-remainder allocation, capped by what each leaf holds
        open_ = counts < available
        share = np.where(open_, weight, 0.0)
        share = share / share.sum() * remaining if share.sum() > 0 else open_ / open_.sum() * remaining
        add = np.minimum(np.floor(share).astype(int), available - counts)
        if add.sum() == 0:
            add[np.argmax(np.where(open_, share, -1.0))] = 1
        counts += add
        remaining = b - counts.sum()
    picks = []
    pool_systems = np.asarray(pool_systems)
    for leaf, k in zip(leaves, counts):
        if k:
            picks.extend(rng.choice(pool_systems[pool_leaf == leaf], k, replace=False).tolist())
    return picks


def run_seed(seed: int, rows: pd.DataFrame, start: int, batch: int, batches: int, test_frac: float) -> list[dict]:
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    rng = np.random.default_rng(seed)
    systems = np.array(sorted(rows["system"].unique()))
    rng.shuffle(systems)
    n_test = int(round(test_frac * len(systems)))
    test_systems, rest = systems[:n_test], systems[n_test:]
    start_systems, pool0 = list(rest[:start]), list(rest[start:])
    if batch * batches > len(pool0):
        raise SystemExit(f"pool of {len(pool0)} systems is smaller than {batches} batches of {batch}")
    test = rows[rows["system"].isin(test_systems)]
    miedema_rmse = _miedema_rmse(test)
    by_system = {s: g for s, g in rows.groupby("system")}
    out = []
    base = test_rmse_kj(pd.concat([by_system[s] for s in start_systems]), test, seed)
    for strategy in STRATEGIES:
        srng = np.random.default_rng([seed, STRATEGIES.index(strategy)])
        labelled, pool = list(start_systems), list(pool0)
        out.append({"seed": seed, "strategy": strategy, "acquired": 0, "rmse_kJ": base, "gp_fit_s": np.nan,
                    "miedema_rmse_kJ": miedema_rmse, "n_test_systems": len(test_systems), "picks": ""})
        for step in range(1, batches + 1):
            current = pd.concat([by_system[s] for s in labelled])
            fit_s = np.nan
            if strategy == "random":
                picks = srng.choice(pool, batch, replace=False).tolist()
            elif strategy == "tree":
                picks = pick_tree(current, pool, batch, srng, seed)
            else:
                picks, fit_s = pick_gp(current, pool, batch, seed,
                                       "conditional" if strategy == "gp-conditional" else "independent")
            assert len(set(picks)) == batch and set(picks) <= set(pool)
            labelled += picks
            pool = [s for s in pool if s not in set(picks)]
            rmse = test_rmse_kj(pd.concat([by_system[s] for s in labelled]), test, seed)
            out.append({"seed": seed, "strategy": strategy, "acquired": step * batch, "rmse_kJ": rmse,
                        "gp_fit_s": fit_s, "miedema_rmse_kJ": miedema_rmse,
                        "n_test_systems": len(test_systems), "picks": " ".join(picks)})
    return out


def _miedema_rmse(test: pd.DataFrame) -> float:
    from mixcalphad.model.features import pairs_of
    from mixcalphad.chem.miedema import miedema_pairs

    return float(np.sqrt(np.mean((miedema_pairs(*pairs_of(test)) - test["HM_MIX_J"].to_numpy(float))**2)) / 1000)


def acquisitions_to_reach(curve: pd.Series, target: float) -> str:
    hit = curve[curve <= target + 1e-12]
    return str(int(hit.index.min())) if len(hit) else f"not reached (best {curve.min():.2f})"


def plot_curves(summary: pd.DataFrame, path: str, batch_label: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for strategy in STRATEGIES:
        s = summary[summary["strategy"] == strategy]
        ax.plot(s["acquired"], s["mean"], marker="o", ms=3, label=strategy)
        ax.fill_between(s["acquired"], s["mean"] - s["sem"], s["mean"] + s["sem"], alpha=0.15)
    ax.set_xlabel(f"binaries acquired from the pool ({batch_label})")
    ax.set_ylabel("test RMSE of ΔH_mix (kJ/mol)")
    ax.set_title("retrospective active learning (mean ± s.e.m. over seeds)", fontsize=9)
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=150, bbox_inches="tight")
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--start", type=int, default=30, help="binaries labelled at the start")
    parser.add_argument("--batch", type=int, default=10, help="binaries per batch")
    parser.add_argument("--batches", type=int, default=8)
    parser.add_argument("--test-frac", type=float, default=0.25, help="share of systems in the fixed test set")
    parser.add_argument("--plot", default="acquisition_curves.png")
    parser.add_argument("--csv", default="acquisition_curves.csv")
    args = parser.parse_args()

    from joblib import Parallel, delayed

    from mixcalphad.data.corpus import build_dataset
    from mixcalphad.model.regressor import training_rows

    t0 = time.perf_counter()
    rows = training_rows(build_dataset(progress=False).observations).reset_index(drop=True)
    t_data = time.perf_counter() - t0
    n_sys = rows["system"].nunique()
    n_test = int(round(args.test_frac * n_sys))
    print(f"data: {len(rows)} points of {n_sys} systems ({t_data:.0f} s); per seed: {n_test} test systems, "
          f"{args.start} start, pool {n_sys - n_test - args.start}; {args.batches} batches of {args.batch}; "
          f"{args.seeds} seeds on {args.jobs} processes")
    t0 = time.perf_counter()
    results = Parallel(n_jobs=args.jobs)(
        delayed(run_seed)(seed, rows, args.start, args.batch, args.batches, args.test_frac)
        for seed in range(args.seeds))
    elapsed = time.perf_counter() - t0
    runs = pd.DataFrame([r for seed_rows in results for r in seed_rows])
    runs.to_csv(args.csv, index=False)

    summary = (runs.groupby(["strategy", "acquired"])["rmse_kJ"]
               .agg(mean="mean", std="std", sem=lambda v: v.std(ddof=1) / np.sqrt(len(v))).reset_index())
    table = summary.pivot(index="acquired", columns="strategy", values="mean")[list(STRATEGIES)]
    spread = summary.pivot(index="acquired", columns="strategy", values="std")[list(STRATEGIES)]
    print(f"\ntest RMSE (kJ/mol), mean ± std over {args.seeds} seeds "
          f"(Miedema alone: {runs['miedema_rmse_kJ'].mean():.2f}):\n")
    print("| acquired | " + " | ".join(STRATEGIES) + " |")
    print("|---|" + "---|" * len(STRATEGIES))
    for acquired in table.index:
        cells = [f"{table.at[acquired, s]:.2f} ± {spread.at[acquired, s]:.2f}" for s in STRATEGIES]
        print(f"| {acquired} | " + " | ".join(cells) + " |")

    target = table.at[table.index.max(), "random"]
    print(f"\nacquisitions needed to reach random's final mean RMSE ({target:.2f} kJ/mol at "
          f"{table.index.max()}):")
    for s in STRATEGIES:
        print(f"  {s:15s} {acquisitions_to_reach(table[s], target)}")

    paired = runs.pivot_table(index=["seed", "acquired"], columns="strategy", values="rmse_kJ")
    after = paired[paired.index.get_level_values("acquired") > 0]
    print("\npaired difference to random (kJ/mol; negative = better), mean over seeds and batches > 0, "
          "and the share of (seed, batch) cells where the strategy beats random:")
    for s in STRATEGIES[:-1]:
        diff = after[s] - after["random"]
        print(f"  {s:15s} {diff.mean():+.2f} ± {diff.std(ddof=1) / np.sqrt(len(diff)):.2f} (s.e.m.), "
              f"wins {np.mean(diff < 0):.0%}")
    points = rows.groupby("system").size()
    aimd = set(rows.loc[rows["kind"] == "aimd", "system"])
    print("\nwhat each strategy acquired (a revealed system brings all its points; AIMD systems bring one, "
          "at x = 0.5):")
    for s in STRATEGIES:
        picks = [p for text in runs.loc[runs["strategy"] == s, "picks"].fillna("") for p in text.split()]
        print(f"  {s:15s} {np.mean([points[p] for p in picks]):.2f} points per system, "
              f"AIMD systems {np.mean([p in aimd for p in picks]):.0%}")
    print(f"  {'(all systems)':15s} {points.mean():.2f} points per system, AIMD systems {len(aimd) / len(points):.0%}")
    gp_times = runs["gp_fit_s"].dropna()
    print(f"\nGP training: {len(gp_times)} fits, median {gp_times.median():.1f} s, max {gp_times.max():.1f} s")
    plot_curves(summary, args.plot, f"batches of {args.batch}")
    print(f"wall time {elapsed:.0f} s (+ {t_data:.0f} s data); wrote {args.plot} and {args.csv}")


if __name__ == "__main__":
    main()
