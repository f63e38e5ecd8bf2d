"""Handler of ``acquire``: which binaries to compute next by AIMD (value per core-hour, feasible only)."""
from __future__ import annotations

import argparse

from mixcalphad.cli.common import add_json_option, add_store_option, check_outputs, print_json, print_table


def _data_for(args):
    """Observations, flags and the store chosen by :func:`mixcalphad.cli.common.open_store`."""
    from mixcalphad.cli.common import open_store

    store = open_store(args)
    return store.observations(), store.flags(), store


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _n_clusters(text: str):
    return "auto" if text == "auto" else _positive_int(text)


def _read_liquidus(path) -> dict:
    """``system,liquidus_K`` CSV → {system: K} (names the file and line on bad input)."""
    import pandas as pd

    from mixcalphad.errors import AcquisitionError

    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise AcquisitionError(f"--liquidus {path}: not a readable CSV ({exc})") from None
    if not {"system", "liquidus_K"} <= set(frame.columns):
        raise AcquisitionError(f"--liquidus {path}: needs columns system,liquidus_K (got {list(frame.columns)})")
    out = {}
    for i, row in frame.iterrows():
        try:
            out[row["system"]] = float(row["liquidus_K"])
        except ValueError:
            raise AcquisitionError(f"--liquidus {path}, line {i + 2}: {row['liquidus_K']!r} is not a number") from None
    return out


def cmd_acquire(args) -> int:
    from mixcalphad._io import atomic_path
    from mixcalphad.acquisition.gp import VarianceGP
    from mixcalphad.acquisition.plan import PlanOptions, rank_binaries
    from mixcalphad.model.predictor import load_default_model
    from mixcalphad.model.regressor import HMixRegressor

    check_outputs(args.out, args.map, force=args.force)
    options = PlanOptions().replace(
        elements=args.elements, strategy=args.strategy, per_element=None if args.per_element == 0 else args.per_element,
        per_cost=not args.per_run, focus_elements=tuple(args.focus or ()), batch=args.batch,
        n_clusters=args.clusters, random_state=args.seed, exclude=args.exclude, exclude_systems=args.exclude_systems,
        allow_molecular=args.allow_molecular, allow_f_elements=args.allow_f_elements,
        liquidus_K=_read_liquidus(args.liquidus) if args.liquidus else {},
        assessed_liquidus=not args.no_assessed_liquidus, unknown_liquidus=args.unknown_liquidus,
        **({} if args.boiling_margin is None else {"boiling_margin_K": args.boiling_margin}))
    observations, flags, store = _data_for(args)
    model = HMixRegressor.load(args.model) if args.model else load_default_model()
    gp = VarianceGP(target=args.gp_target, max_train=args.max_train, random_state=args.seed)
    plan = rank_binaries(observations, args.n, options=options, flags=flags, model=model, gp=gp)
    outputs = {}
    if args.out:
        with atomic_path(args.out, overwrite=args.force) as tmp:
            plan.plan.to_csv(tmp, index=False, float_format="%.6g")
        outputs["plan_csv"] = str(args.out)
    if args.map:
        from mixcalphad.plot import periodic_uncertainty_map

        outputs["map"] = str(periodic_uncertainty_map(
            plan.binaries, args.map, score="model_sigma_J", force=args.force,
            title="model σ of ΔH_mix at x = 0.5 per binary; outlined: selected, faint: excluded"))
    recorded = None
    if store is not None and not args.no_record:
        recorded = {"table": "selections", "selection_id": plan.selection_id, **plan.record(store).to_dict()}
    if args.json:
        print_json({**plan.to_dict(), "outputs": outputs, "recorded": recorded})
        return 0
    scorer, clustering = plan.scorer, plan.clustering
    print(f"{plan.options.strategy}: GP on {scorer['n_train']} points, {scorer['fit_time_s']:.1f} s; "
          f"{len(plan.binaries)} binaries, {int((plan.binaries['excluded'] == '').sum())} feasible; "
          f"total {plan.timings['total']:.1f} s")
    print(f"clusters: K = {clustering.k} ({clustering.method}; elbow {clustering.k_elbow}, best silhouette "
          f"{clustering.k_silhouette}); Gaussian mixture adjusted Rand index {clustering.gmm_ari:.2f}\n")
    print(plan.report())
    print("\nclusters (σ of the model at x = 0.5, kJ/mol):")
    summary = plan.clusters.assign(mean_sigma_J=plan.clusters["mean_sigma_J"] / 1000,
                                   max_sigma_J=plan.clusters["max_sigma_J"] / 1000)
    print_table(summary.rename(columns={"mean_sigma_J": "mean σ", "max_sigma_J": "max σ"}), floatfmt="{:.1f}")
    for key, value in outputs.items():
        print(f"{key}: {value}")
    if recorded:
        print(f"selection {recorded['selection_id']} recorded in {store.path} "
              f"({recorded['added']} new, {recorded['unchanged']} already there)")
    return 0


def register(sub) -> None:
    """Add ``acquire`` to the ``mixcalphad`` subparsers."""
    p = add_json_option(sub.add_parser(
        "acquire", help="rank the binaries to compute next by AIMD (value per core-hour, feasible only)",
        description="Score every feasible binary of the element set by the expected reduction of the model's "
                    "predictive variance integrated over all binaries per core-hour (or, --strategy max-sigma, "
                    "the paper's GP max σ), pick a diverse batch, and print the plan with its cost, run "
                    "temperatures and the exclusions with reasons. The data come from the store (see --store) "
                    "and the selection is recorded there with the model version."))
    p.add_argument("--n", type=_positive_int, default=20, help="number of binaries to pick (default 20)")
    p.add_argument("--elements", nargs="+", metavar="EL", help="element set (default: every supported element)")
    p.add_argument("--strategy", choices=["integrated-variance", "max-sigma"], default="integrated-variance",
                   help="value of a run: integrated variance reduction (default) or the paper's max GP σ")
    p.add_argument("--per-run", action="store_true", help="rank by value per run instead of per core-hour")
    p.add_argument("--focus", nargs="+", metavar="EL", help="integrate the variance over binaries of these elements only")
    p.add_argument("--exclude", nargs="*", default=["C"], metavar="EL",
                   help="elements whose binaries are not picked (default: C; give --exclude alone for none)")
    p.add_argument("--exclude-systems", nargs="+", default=[], metavar="A-B", help="binaries not to pick")
    p.add_argument("--allow-molecular", action="store_true", help="keep molecular/covalent liquids (P, As, S, Se)")
    p.add_argument("--allow-f-elements", action="store_true",
                   help="keep lanthanides and actinides (with a +U/SOC protocol or f-in-core potentials)")
    p.add_argument("--liquidus", metavar="CSV", help="known equimolar liquidus temperatures (system,liquidus_K); "
                   "they override the shipped assessed table")
    p.add_argument("--no-assessed-liquidus", action="store_true",
                   help="do not raise T_run above the shipped equimolar liquidus of assessed TDBs")
    p.add_argument("--unknown-liquidus", choices=["exclude", "note"], default="exclude",
                   help="binaries without a known liquidus that likely form a high-melting compound: "
                        "exclude them (default) or keep them with a note")
    p.add_argument("--boiling-margin", type=float, default=None, metavar="K",
                   help="T_run must stay this far below both boiling points "
                        "(default: acquisition.feasibility.DEFAULT_BOILING_MARGIN_K, 100 K)")
    p.add_argument("--per-element", type=int, default=2, metavar="K",
                   help="at most K picks per element (default 2; 0: no cap)")
    p.add_argument("--batch", choices=["conditional", "independent"], default="conditional",
                   help="max-sigma only: picks conditioned on the earlier ones (default) or the plain top")
    p.add_argument("--clusters", type=_n_clusters, default="auto", metavar="K|auto",
                   help="number of K-means clusters (default auto: elbow + silhouette)")
    p.add_argument("--gp-target", choices=["HM_MIX_J", "residual"], default="HM_MIX_J",
                   help="max-sigma only: GP target, ΔH_mix (the paper) or its difference from Miedema")
    p.add_argument("--max-train", type=_positive_int, default=2000,
                   help="max-sigma only: largest GP training set (random subsample above)")
    p.add_argument("--model", default=None, help="regressor for the variance and ΔH_mix columns (default: shipped)")
    add_store_option(p)
    p.add_argument("--no-record", action="store_true", help="do not record the selection in the store")
    p.add_argument("--out", metavar="CSV", help="write the plan as CSV (atomically)")
    p.add_argument("--map", metavar="PNG|SVG", help="write the periodic map (selected outlined, excluded faint)")
    p.add_argument("--force", action="store_true", help="overwrite --out / --map")
    p.add_argument("--seed", type=int, default=0, help="random_state of the GPs and the clustering")
    p.set_defaults(func=cmd_acquire)
