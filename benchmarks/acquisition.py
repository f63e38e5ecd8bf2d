"""Does an acquisition strategy beat random? A retrospective test that mimics real AIMD campaigns.

Set-up (per seed and split), on the embedded default data:

* an **acquisition reveals one equimolar point** (what one AIMD run gives), never a whole assessed
  curve; systems without a point at x = 0.5 are never acquirable;
* only **feasible** systems are acquirable (:func:`mixcalphad.acquisition.feasibility.feasibility_table`
  with the default rules: no carbon, no molecular liquids, no f-elements, T_run below boiling and
  well below the critical point); infeasible systems are known from the start (whole curves);
* two test designs: **random** — a random quarter of the systems is the test set, 30 feasible
  systems start labelled, the other feasible systems form the pool; **cluster-out** — one K-means
  family of binaries (:func:`mixcalphad.acquisition.clustering.cluster_binaries`, the plan's own
  clusters) is emptied: half of its systems are the test set, the other half sit in the pool with the
  feasible systems of other families not in the start set, so a strategy that fills the empty
  family is rewarded (the families cycle with the seed);
* strategies: ``integrated-variance`` (the library's default: expected reduction of the refitted
  regressor's variance over all 2415 binaries per marginal core-hour, at most 2 per element),
  ``max-sigma`` (the paper: PHYSBO GP max σ over x, plain top of the ranking), ``tree``
  (regression-tree active learning, Jose et al., Data Min. Knowl. Discov. 38 (2024) 420: leaf shares
  ∝ sqrt(pool fraction × label variance), random within leaves) and ``random``;
* after each batch the regressor (:class:`mixcalphad.model.regressor.HMixRegressor`, lighter LightGBM
  settings so that a refit takes seconds) is refitted and its RMSE on every point of the test systems
  recorded, with the cumulative core-hours of the acquisitions (:mod:`mixcalphad.acquisition.cost`,
  pure references shared across the campaign);
* GP hyperparameters (residual GP and PHYSBO) are fitted once per seed and split on the start data;
  each step conditions them on the current data.

Prints, per split: mean test RMSE vs acquisitions for each strategy; the paired difference to random
after the last batch and at an equal core-hour budget (the smallest final spend of the strategies
in that seed; RMSE interpolated linearly in spent core-hours), with 95 % bootstrap intervals over
seeds; and the RMSE reduction per 1000 core-hours. Writes every run to ``acquisition_runs.csv``.

Run: ``python benchmarks/acquisition.py [--seeds 8] [--jobs 2] [--batch 6] [--batches 5]``
"""
from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

STRATEGIES = ("integrated-variance", "max-sigma", "tree", "random")
SPLITS = ("random", "cluster-out")


def regressor(seed: int):
    from mixcalphad.model.regressor import HMixRegressor

    return HMixRegressor(inner_folds=2, random_state=seed, progress=False,
                         lgbm_params=dict(n_estimators=100, learning_rate=0.08, num_leaves=7, min_child_samples=8,
                                          subsample=0.8, subsample_freq=1, colsample_bytree=0.5, max_bin=63))


def rmse_kj(model, test: pd.DataFrame) -> float:
    from mixcalphad.model.features import pairs_of

    pred = model.predict_pairs(*pairs_of(test))
    return float(np.sqrt(np.mean((pred - test["HM_MIX_J"].to_numpy(float)) ** 2)) / 1000)


def pick_tree(labelled, pool, b, rng, seed):
    """Regression-tree AL: leaf shares ∝ sqrt(pool fraction × label variance), random within leaves."""
    from sklearn.tree import DecisionTreeRegressor

    from mixcalphad.acquisition.clustering import equimolar_features
    from mixcalphad.chem.miedema import miedema_pairs
    from mixcalphad.model.features import BinaryFeaturizer, pairs_of

    a, bb, x = pairs_of(labelled)
    X = BinaryFeaturizer("paper10").transform_pairs(a, bb, x)
    y = labelled["HM_MIX_J"].to_numpy(float) - miedema_pairs(a, bb, x)
    tree = DecisionTreeRegressor(max_leaf_nodes=max(2, b), min_samples_leaf=9, random_state=seed).fit(X, y)
    leaf_of_label = tree.apply(X)
    pool_leaf = tree.apply(equimolar_features(pool))
    leaves = np.unique(pool_leaf)
    frac = np.array([np.mean(pool_leaf == leaf) for leaf in leaves])
    var = np.array([np.var(y[leaf_of_label == leaf]) if np.any(leaf_of_label == leaf) else np.var(y)
                    for leaf in leaves])
    weight = np.sqrt(frac * var)
    weight = weight / weight.sum() if weight.sum() > 0 else frac
    available = np.array([np.sum(pool_leaf == leaf) for leaf in leaves])
    counts = np.zeros(len(leaves), dtype=int)
    while counts.sum() < b:  # largest-remainder allocation, capped by what each leaf holds
        remaining = b - counts.sum()
        open_ = counts < available
        share = np.where(open_, weight, 0.0)
        share = share / share.sum() * remaining if share.sum() > 0 else open_ / open_.sum() * remaining
        add = np.minimum(np.floor(share).astype(int), available - counts)
        if add.sum() == 0:
            add[np.argmax(np.where(open_, share, -1.0))] = 1
        counts += add
    pool = np.asarray(pool)
    picks = []
    for leaf, k in zip(leaves, counts):
        if k:
            picks.extend(rng.choice(pool[pool_leaf == leaf], k, replace=False).tolist())
    return picks


def split_systems(split, seed, rows, feasible, acquirable, clusters, n_start=30, test_frac=0.25):
    """(test, start, pool) system lists for one seed."""
    rng = np.random.default_rng([seed, SPLITS.index(split)])
    systems = np.array(sorted(rows["system"].unique()))
    if split == "random":
        test = set(rng.choice(systems, int(round(test_frac * len(systems))), replace=False))
        rest = [s for s in systems if s not in test]
        target = None
    else:
        sizes = pd.Series({k: sum(clusters.get(s) == k for s in systems) for k in sorted(set(clusters.values()))})
        eligible = sorted(k for k in sizes.index if sizes[k] >= 16)
        target = eligible[seed % len(eligible)]
        members = np.array([s for s in systems if clusters.get(s) == target])
        rng.shuffle(members)
        member_pool = [s for s in members[len(members) // 2:] if s in acquirable]
        test = set(members) - set(member_pool)
        rest = [s for s in systems if s not in test and clusters.get(s) != target]
    rest_feasible = [s for s in rest if s in acquirable]
    rng.shuffle(rest_feasible)
    start = [s for s in rest if s not in acquirable] + rest_feasible[:n_start]
    pool = rest_feasible[n_start:] + ([] if target is None else member_pool)
    return sorted(test), sorted(start), sorted(pool), target


def run(seed, split, rows, feasible, acquirable, clusters, costs, batch, batches):
    from threadpoolctl import threadpool_limits

    from mixcalphad.acquisition.batch import select_by_value, select_max_sigma
    from mixcalphad.acquisition.cost import SharedReferences
    from mixcalphad.acquisition.gp import VarianceGP
    from mixcalphad.acquisition.value import ResidualGP, VarianceReduction
    from mixcalphad.chem.binaries import binaries_of
    from mixcalphad.chem.elements import supported_elements

    warnings.filterwarnings("ignore")
    threadpool_limits(1)
    test, start, pool0, target = split_systems(split, seed, rows, feasible, acquirable, clusters)
    by_system = {s: g for s, g in rows.groupby("system")}
    equimolar = {s: g.iloc[[int(np.argmin(np.abs(g["x_B"].to_numpy() - 0.5)))]] for s, g in by_system.items()}
    test_rows = pd.concat([by_system[s] for s in test])
    start_rows = pd.concat([by_system[s] for s in start])
    reference = binaries_of(supported_elements())
    ra, rb = np.array([s.split("-")[0] for s in reference]), np.array([s.split("-")[1] for s in reference])
    half = np.full(len(reference), 0.5)
    model = regressor(seed).fit(start_rows)
    base = rmse_kj(model, test_rows)
    rgp = ResidualGP(random_state=seed).fit(start_rows, model)
    pgp = VarianceGP(random_state=seed).fit(start_rows)
    out = []
    for strategy in STRATEGIES:
        rng = np.random.default_rng([seed, SPLITS.index(split), STRATEGIES.index(strategy)])
        labelled, pool, spent, shared = start_rows, list(pool0), 0.0, SharedReferences()
        current = model
        out.append(dict(seed=seed, split=split, target=target, strategy=strategy, acquired=0, core_h=0.0,
                        rmse_kJ=base, n_test=len(test), n_pool=len(pool0), picks=""))
        for step in range(1, batches + 1):
            pool_costs = costs.set_index("system").loc[pool].reset_index()
            if strategy == "integrated-variance":
                rgp.condition(labelled)
                sigma = current.predict_pairs(ra, rb, half, return_std=True)[1]
                state = VarianceReduction(rgp, reference, pool, sigma)
                chosen = select_by_value(state, pool_costs, batch, per_element=2, shared=shared)
                picks, spent = chosen["system"].tolist(), spent + float(chosen["cost_core_h"].sum())
            else:
                if strategy == "max-sigma":
                    pgp.condition(labelled)
                    scores = pgp.max_std(pool, progress=False)
                    picks = select_max_sigma(pgp, scores, batch, batch="independent")["system"].tolist()
                elif strategy == "tree":
                    picks = pick_tree(labelled, pool, batch, rng, seed)
                else:
                    picks = rng.choice(pool, batch, replace=False).tolist()
                for s in picks:  # the same cost rule: marginal core-hours, references shared
                    row = pool_costs[pool_costs["system"] == s]
                    spent += float(shared.marginal_costs(row)[0])
                    shared.add(row.iloc[0])
            assert len(set(picks)) == batch and set(picks) <= set(pool)
            labelled = pd.concat([labelled, *(equimolar[s] for s in picks)], ignore_index=True)
            pool = [s for s in pool if s not in set(picks)]
            current = regressor(seed).fit(labelled)
            out.append(dict(seed=seed, split=split, target=target, strategy=strategy, acquired=step * batch,
                            core_h=spent, rmse_kJ=rmse_kj(current, test_rows), n_test=len(test),
                            n_pool=len(pool0), picks=" ".join(picks)))
    return out


def bootstrap_ci(values, n=2000, seed=0):
    values = np.asarray(values, float)
    rng = np.random.default_rng(seed)
    means = rng.choice(values, (n, len(values)), replace=True).mean(axis=1)
    return float(values.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def summarise(runs: pd.DataFrame) -> None:
    for split in SPLITS:
        sub = runs[runs["split"] == split]
        if sub.empty:
            continue
        seeds = sorted(sub["seed"].unique())
        print(f"\n### {split} split ({len(seeds)} seeds; test systems per seed "
              f"{sub['n_test'].min()}–{sub['n_test'].max()}, pool {sub['n_pool'].min()}–{sub['n_pool'].max()})\n")
        table = sub.groupby(["acquired", "strategy"])["rmse_kJ"].mean().unstack()[list(STRATEGIES)]
        cost = sub.groupby(["acquired", "strategy"])["core_h"].mean().unstack()[list(STRATEGIES)]
        print("| acquired | " + " | ".join(f"{s} RMSE (kJ/mol) / kcore-h" for s in STRATEGIES) + " |")
        print("|---|" + "---|" * len(STRATEGIES))
        for k in table.index:
            print(f"| {k} | " + " | ".join(f"{table.at[k, s]:.3f} / {cost.at[k, s] / 1000:.0f}" for s in STRATEGIES)
                  + " |")
        last = sub["acquired"].max()
        final = sub[sub["acquired"] == last].pivot(index="seed", columns="strategy", values="rmse_kJ")
        first = sub[sub["acquired"] == 0].pivot(index="seed", columns="strategy", values="rmse_kJ")
        spend = sub[sub["acquired"] == last].pivot(index="seed", columns="strategy", values="core_h")
        at_budget = {}
        for seed in seeds:
            runs_seed = sub[sub["seed"] == seed]
            budget = spend.loc[seed].min()
            at_budget[seed] = {s: float(np.interp(budget, g["core_h"], g["rmse_kJ"]))
                               for s, g in runs_seed.sort_values("acquired").groupby("strategy")}
        at_budget = pd.DataFrame(at_budget).T
        print(f"\npaired difference to random (kJ/mol, negative = better; mean and 95 % bootstrap interval "
              f"over seeds), after {last} acquisitions and at the equal core-hour budget "
              f"(median {spend.min(axis=1).median() / 1000:.0f} kcore-h):\n")
        print("| strategy | Δ RMSE after all acquisitions | Δ RMSE at equal core-hours | RMSE reduction per "
              "1000 core-hours (kJ/mol) | wins (final) |")
        print("|---|---|---|---|---|")
        for s in STRATEGIES:
            per_k = (first[s] - final[s]) / (spend[s] / 1000)
            m, lo, hi = bootstrap_ci(final[s] - final["random"])
            mb, lob, hib = bootstrap_ci(at_budget[s] - at_budget["random"])
            pm, plo, phi = bootstrap_ci(per_k)
            wins = np.mean((final[s] - final["random"]) < 0) if s != "random" else float("nan")
            print(f"| {s} | {m:+.3f} [{lo:+.3f}, {hi:+.3f}] | {mb:+.3f} [{lob:+.3f}, {hib:+.3f}] | "
                  f"{pm:.4f} [{plo:.4f}, {phi:.4f}] | {wins:.0%} |")


def build_parser() -> argparse.ArgumentParser:
    """The command line of this script."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=6, help="systems per batch")
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--splits", nargs="+", default=list(SPLITS), choices=SPLITS)
    parser.add_argument("--csv", default="acquisition_runs.csv")
    return parser


def main() -> None:
    args = build_parser().parse_args()

    from joblib import Parallel, delayed

    from mixcalphad.acquisition.clustering import cluster_binaries
    from mixcalphad.acquisition.cost import binary_costs
    from mixcalphad.acquisition.feasibility import feasibility_table
    from mixcalphad.chem.binaries import binaries_of
    from mixcalphad.chem.elements import supported_elements
    from mixcalphad.data.corpus import build_dataset
    from mixcalphad.model.regressor import training_rows

    t0 = time.perf_counter()
    rows = training_rows(build_dataset(progress=False).observations).reset_index(drop=True)
    systems = sorted(rows["system"].unique())
    table = feasibility_table(systems)
    feasible = set(table.loc[table["excluded"] == "", "system"])
    has_half = {s for s, g in rows.groupby("system") if np.min(np.abs(g["x_B"].to_numpy() - 0.5)) < 0.05}
    acquirable = feasible & has_half
    costs = binary_costs(sorted(acquirable), table.set_index("system").loc[sorted(acquirable), "T_run_K"])
    all_binaries = binaries_of(supported_elements())
    clustering = cluster_binaries(all_binaries)
    clusters = dict(zip(all_binaries, clustering.labels.tolist()))
    print(f"data: {len(rows)} points of {len(systems)} systems; {len(feasible)} feasible, {len(acquirable)} "
          f"acquirable (feasible with an equimolar point); clusters K = {clustering.k}; "
          f"{args.seeds} seeds × {len(args.splits)} splits, {args.batches} batches of {args.batch} "
          f"({time.perf_counter() - t0:.0f} s set-up)")
    t0 = time.perf_counter()
    jobs = [(seed, split) for split in args.splits for seed in range(args.seeds)]
    results = Parallel(n_jobs=args.jobs)(
        delayed(run)(seed, split, rows, feasible, acquirable, clusters, costs, args.batch, args.batches)
        for seed, split in jobs)
    runs = pd.DataFrame([r for part in results for r in part])
    runs.to_csv(args.csv, index=False)
    summarise(runs)
    print(f"\nwall time {time.perf_counter() - t0:.0f} s on {args.jobs} processes; wrote {args.csv}")


if __name__ == "__main__":
    main()
