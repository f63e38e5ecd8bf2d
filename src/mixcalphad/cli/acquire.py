"""Handler of ``acquire``: rank the binaries that most need new ΔH_mix data (GP max-variance)."""
from __future__ import annotations

import sys

from mixcalphad.cli.common import add_json_option, print_json, print_table


def _data_for(args):
    """Observations and flags of ``--store`` if given, else of the embedded default dataset."""
    if args.store:
        from mixcalphad.errors import StoreError
        from mixcalphad.data.store import Store

        store = Store(args.store)
        if not store.path.exists():
            raise StoreError(f"no store at {store.path}; build one with 'mixcalphad data build --store {store.path}'")
        return store.observations(), store.flags(), store
    from mixcalphad.data.corpus import build_dataset

    print("building the default dataset (pycalphad TDBs + assessed table + AIMD)…", file=sys.stderr)
    build = build_dataset()
    return build.observations, build.flags, None


def _n_clusters(text: str):
    if text == "auto":
        return "auto"
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--clusters takes a positive integer or 'auto', got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"--clusters takes a positive integer or 'auto', got {text!r}")
    return value


def cmd_acquire(args) -> int:
    from pathlib import Path

    from mixcalphad.acquisition.plan import VarianceGP, rank_binaries
    from mixcalphad.errors import OutputExistsError
    from mixcalphad._io import atomic_path
    from mixcalphad.model.regressor import HMixRegressor
    from mixcalphad.model.predictor import load_default_model

    for target in (args.out, args.map):
        if target and not args.force and Path(target).exists():
            raise OutputExistsError(f"{target} exists; pass --force to replace it")
    observations, flags, store = _data_for(args)
    model = HMixRegressor.load(args.model) if args.model else load_default_model()
    gp = VarianceGP(target=args.gp_target, max_train=args.max_train, random_state=args.seed)
    plan = rank_binaries(observations, args.n, elements=args.elements, exclude=args.exclude,
                         exclude_systems=args.exclude_systems, flags=flags, per_element=args.per_element,
                         batch=args.batch, n_clusters=args.clusters, model=model, gp=gp,
                         random_state=args.seed, progress=None)
    outputs = {}
    if args.out:
        with atomic_path(args.out, overwrite=args.force) as tmp:
            plan.plan.round({"score_J": 1, "batch_score_J": 1, "miedema_J": 1, "model_J": 1,
                             "model_sigma_J": 1}).to_csv(tmp, index=False)
        outputs["plan_csv"] = str(args.out)
    if args.map:
        from mixcalphad.plot import periodic_uncertainty_map

        outputs["map"] = str(periodic_uncertainty_map(plan.binaries, args.map))
    recorded = None
    if store is not None and not args.no_record:
        recorded = {"table": "selections", "selection_id": plan.selection_id, **plan.record(store).to_dict()}
    if args.json:
        print_json({**plan.to_dict(), "outputs": outputs, "recorded": recorded})
        return 0
    gp_info, clustering = plan.gp, plan.clustering
    print(f"GP on {gp_info['n_train']} points of {gp_info['n_systems']} systems, trained in "
          f"{gp_info['fit_time_s']:.1f} s; {len(plan.binaries)} binaries scored, "
          f"{int((plan.binaries['excluded'] == '').sum())} candidates; total {plan.timings['total']:.1f} s")
    print(f"clusters: K = {clustering.k} ({clustering.method}; elbow {clustering.k_elbow}, best silhouette "
          f"{clustering.k_silhouette}); Gaussian mixture adjusted Rand index {clustering.gmm_ari:.2f}")
    print(f"\nplan (score: max GP σ over x, kJ/mol; ΔH_mix at x = 0.5, kJ/mol; model {plan.model_version}):")
    table = plan.plan.assign(**{c: plan.plan[c] / 1000 for c in
                                ("score_J", "batch_score_J", "miedema_J", "model_J", "model_sigma_J")})
    print_table(table.rename(columns={"score_J": "score", "batch_score_J": "batch_score", "miedema_J": "Miedema",
                                      "model_J": "model", "model_sigma_J": "σ", "n_observations": "n_obs"}),
                floatfmt="{:.1f}")
    print("\nclusters:")
    summary = plan.clusters.assign(mean_score_J=plan.clusters["mean_score_J"] / 1000,
                                   max_score_J=plan.clusters["max_score_J"] / 1000)
    print_table(summary.rename(columns={"mean_score_J": "mean score", "max_score_J": "max score"}), floatfmt="{:.1f}")
    for key, value in outputs.items():
        print(f"{key}: {value}")
    if recorded:
        print(f"selection {recorded['selection_id']} recorded in {store.path} "
              f"({recorded['added']} new, {recorded['unchanged']} already there)")
    return 0


def register(sub) -> None:
    """Add ``acquire`` to the ``mixcalphad`` subparsers."""
    p = add_json_option(sub.add_parser(
        "acquire", help="rank the binaries that most need new ΔH_mix data (GP max-variance)",
        description="Train a Gaussian process on the paper's 10 features, score every binary of the element "
                    "set by its largest predictive σ over composition, cluster the binaries, and print the "
                    "ranked plan. With --store the data come from the store and the selection is recorded "
                    "there with the model version."))
    p.add_argument("--n", type=int, default=20, help="number of binaries to pick (default 20)")
    p.add_argument("--elements", nargs="+", metavar="EL", help="element set (default: every supported element)")
    p.add_argument("--exclude", nargs="*", default=["C"], metavar="EL",
                   help="elements whose binaries are not picked (default: C; give --exclude alone for none)")
    p.add_argument("--exclude-systems", nargs="+", default=[], metavar="A-B", help="binaries not to pick")
    p.add_argument("--per-element", type=int, default=None, metavar="K", help="at most K picks per element")
    p.add_argument("--batch", choices=["conditional", "independent"], default="conditional",
                   help="conditional: each pick lowers the σ of similar binaries before the next (default); "
                        "independent: the plain top of the ranking")
    p.add_argument("--clusters", type=_n_clusters, default="auto", metavar="K|auto",
                   help="number of K-means clusters (default auto: elbow + silhouette)")
    p.add_argument("--gp-target", choices=["HM_MIX_J", "residual"], default="HM_MIX_J",
                   help="GP target: ΔH_mix (the paper) or its difference from Miedema")
    p.add_argument("--max-train", type=int, default=2000, help="largest GP training set (random subsample above)")
    p.add_argument("--model", default=None, help="regressor for the ΔH_mix columns (default: shipped model)")
    p.add_argument("--store", default=None,
                   help="take observations and flags from this store and record the selection in it "
                        "(default: the embedded default data, nothing recorded)")
    p.add_argument("--no-record", action="store_true", help="with --store: do not record the selection")
    p.add_argument("--out", metavar="CSV", help="write the plan as CSV (atomically)")
    p.add_argument("--map", metavar="PNG|SVG", help="write the periodic uncertainty map")
    p.add_argument("--force", action="store_true", help="overwrite --out / --map")
    p.add_argument("--seed", type=int, default=0, help="random_state of the GP and the clustering")
    p.set_defaults(func=cmd_acquire)
