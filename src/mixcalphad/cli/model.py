"""Handlers of ``train``, ``predict`` and ``evaluate``."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from mixcalphad.cli.common import add_store_option, add_json_option, check_outputs, parse_grid, print_json, print_table

DEFAULT_GRID = "0.05:0.95:0.05"


def observations_for(args):
    """Observations of the store chosen by :func:`mixcalphad.cli.common.open_store`."""
    from mixcalphad.cli.common import open_store

    return open_store(args).observations()


def model_for(args):
    """The model of ``--model`` if given, else the shipped default model."""
    from mixcalphad.model.regressor import HMixRegressor
    from mixcalphad.model.predictor import load_default_model

    return HMixRegressor.load(args.model) if args.model else load_default_model()


def cmd_train(args) -> int:
    from mixcalphad.model.regressor import HMixRegressor

    model = HMixRegressor(random_state=args.seed).fit(observations_for(args))
    path = model.save(args.out, force=args.force)
    info = model.describe()
    if args.json:
        print_json({"model": str(path), **info})
        return 0
    print(f"trained on {info['n_systems']} systems / {info['n_curves']} curves / {info['n_points']} points; "
          f"grouped out-of-fold RMSE {info['inner_rmse_J'] / 1000:.2f} kJ/mol")
    print(f"model: {path}  (use it with: mixcalphad predict A B --model {path})")
    return 0


def _predict_all(args, model) -> int:
    import pandas as pd
    from tqdm.auto import tqdm

    from mixcalphad.chem.binaries import all_pairs, check_elements
    from mixcalphad.chem.elements import supported_elements
    from mixcalphad.errors import MixcalphadError
    from mixcalphad._io import atomic_path
    from mixcalphad.chem.miedema import miedema_pairs

    if not args.out:
        raise MixcalphadError("predict --all needs --out predictions.csv")
    elements = check_elements(args.elements, needed_by="predict --all") if args.elements else supported_elements()
    pairs = all_pairs(elements)
    if not pairs:
        raise MixcalphadError("predict --all needs at least two elements")
    x = args.x
    frames = []
    chunk = 200
    for start in tqdm(range(0, len(pairs), chunk), desc="predict", unit="chunk", disable=None):
        part = pairs[start:start + chunk]
        a = np.repeat([p[0] for p in part], len(x))
        b = np.repeat([p[1] for p in part], len(x))
        xs = np.tile(x, len(part))
        mean, std = model.predict_pairs(a, b, xs, return_std=True)
        conditioned = set(getattr(model, "conditioned_systems", list)())
        systems = np.char.add(np.char.add(a, "-"), b)
        frames.append(pd.DataFrame({"system": systems, "x_B": xs, "HM_MIX_J": mean, "sigma_J": std,
                                    "miedema_J": miedema_pairs(a, b, xs),
                                    "estimate": np.where(np.isin(systems, list(conditioned)), "posterior", "prior")}))
    table = pd.concat(frames, ignore_index=True)
    with atomic_path(args.out, overwrite=args.force) as tmp:
        table.round({"x_B": 6, "HM_MIX_J": 1, "sigma_J": 1, "miedema_J": 1}).to_csv(tmp, index=False)
    summary = {"out": str(args.out), "binaries": len(pairs), "points": len(table), "model": model.version_}
    print_json(summary) if args.json else print(
        f"wrote {len(pairs)} binaries × {len(x)} compositions to {args.out} (model {model.version_})")
    return 0


def cmd_predict(args) -> int:
    from mixcalphad.chem.binaries import sorted_pair
    from mixcalphad.errors import MixcalphadError
    from mixcalphad.chem.miedema import miedema_hmix
    from mixcalphad.model.entropy import load_default_entropy_model
    from mixcalphad.model.posterior import ConditionedPredictor

    if args.x is None:
        args.x = parse_grid(DEFAULT_GRID if args.all else "0.1:0.9:0.1")
    if not args.all and not (args.a and args.b):
        raise MixcalphadError("predict needs two elements (mixcalphad predict AL NI) or --all")
    if not args.all:
        sorted_pair(args.a, args.b)
    prior = model_for(args)
    model = prior if args.prior else ConditionedPredictor(prior, observations_for(args))
    if args.all:
        return _predict_all(args, model)
    mean, std = model.predict(args.a, args.b, args.x, return_std=True)
    miedema = miedema_hmix(args.a, args.b, args.x)
    a, b = args.a.upper(), args.b.upper()
    first, second = sorted_pair(a, b)
    L, sigma_L = prior.predict_rk(a, b)
    posterior = None if args.prior else model.posterior(a, b)
    if posterior is None:
        estimate = "prior"
        why = "--prior" if args.prior else "no observations of this binary in the store"
    else:
        estimate, why = "posterior", f"conditioned on {posterior.n_curves} curve(s): {', '.join(posterior.sources)}"
        L, sigma_L = L + posterior.mean_J, np.sqrt(np.diag(posterior.cov_J2))
    version = model.version_ if posterior is not None else prior.version_
    entropy = load_default_entropy_model()
    pair = entropy.for_pair(a, b)
    # S_ex = κ H (J/mol/K) and G_ex = H (1 − κT) at the user's T; σ_G combines σ_H (1 − κT) and T σ_S
    # (σ_S depends on x through x(1 − x), the same for either orientation)
    S, sigma_S = entropy.predict(a, b, args.x, mean, return_std=True)
    T = float(args.T)
    G = mean * (1.0 - pair.kappa_per_K * T)
    sigma_G = np.hypot(std * (1.0 - pair.kappa_per_K * T), T * sigma_S)
    if args.json:
        print_json({"a": a, "b": b, "unit": "J/mol", "model": version, "estimate": estimate,
                    "conditioned_on": [] if posterior is None else list(posterior.sources), "x": args.x,
                    "HM_MIX_J": mean,
                    "sigma_J": std, "miedema_J": miedema, "T_K": T, "SE_J": S, "sigma_SE_J": sigma_S,
                    "GE_J": G, "sigma_GE_J": sigma_G, "kappa_per_K": pair.kappa_per_K,
                    "entropy_model": entropy.describe(),
                    "rk_excess_over_miedema": {"system": f"{first}-{second}", "L_J": L, "sigma_J": sigma_L}})
        return 0
    import pandas as pd

    print(f"estimate: {estimate} ({why})")
    print(f"liquid {a}-{b} (model {version}; σ: 1 standard deviation): ΔH_mix and G_ex at {T:g} K in "
          f"kJ/mol of atoms, S_ex in J/mol/K (S_ex = κ ΔH_mix, κ = {pair.kappa_per_K:.3g} 1/K, "
          f"form {entropy.form})")
    print_table(pd.DataFrame({f"x_{b}": args.x, "ΔH_mix": mean / 1000, "σ": std / 1000, "Miedema": miedema / 1000,
                              "S_ex": S, "σ_S": sigma_S, "G_ex": G / 1000, "σ_G": sigma_G / 1000}))
    terms = ", ".join(f"L{n} = {L[n] / 1000:.2f} ± {sigma_L[n] / 1000:.2f}" for n in range(len(L)))
    print(f"{'posterior' if posterior is not None else 'learned'} excess over Miedema, x_{first} x_{second} "
          f"Σ L_n (x_{first} − x_{second})^n: {terms} kJ/mol")
    return 0


def cmd_evaluate(args) -> int:
    from mixcalphad.model.evaluation import nested_cross_validation
    from mixcalphad.model.regressor import HMixRegressor
    from mixcalphad.plot import parity_plot

    check_outputs(args.plot, force=args.force)
    result = nested_cross_validation(observations_for(args), HMixRegressor(random_state=args.seed),
                                     outer_folds=args.outer_folds, n_jobs=args.jobs)
    figure = None
    if args.plot:
        figure = parity_plot(result.points, "HM_MIX_kJ", "pred_kJ", args.plot, hue="miedema_class",
                             highlight=result.points["kind"] == "aimd",
                             title="held-out systems: Miedema + RK residual vs observed", force=args.force)
    if args.json:
        print_json({**result.to_dict(), "figure": figure})
        return 0
    print(result.report())
    if figure:
        print(f"\nparity plot: {figure}")
    return 0


def register(sub) -> None:
    """Add ``train``, ``predict`` and ``evaluate`` to the ``mixcalphad`` subparsers."""
    def data_options(p):
        add_store_option(p)
        p.add_argument("--seed", type=int, default=0, help="random_state")
        return p

    train = add_json_option(data_options(sub.add_parser("train", help="train the ΔH_mix regressor")))
    train.add_argument("--out", default=str(Path.home() / ".mixcalphad" / "model.json.gz"),
                       help="model file to write (default: ~/.mixcalphad/model.json.gz)")
    train.add_argument("--force", action="store_true", help="overwrite an existing model file")
    train.set_defaults(func=cmd_train)

    predict = add_json_option(add_store_option(sub.add_parser(
        "predict", help="ΔH_mix with σ of one binary, or of all (--all): the posterior given the store's "
                        "observations of the binary, else the model's prediction")))
    predict.add_argument("--prior", action="store_true",
                         help="the model's prediction alone (the prior), not conditioned on the store's data")
    predict.add_argument("a", nargs="?", help="first element")
    predict.add_argument("b", nargs="?", help="second element (x is its mole fraction)")
    predict.add_argument("--T", type=float, default=1873.0, metavar="K",
                         help="temperature of the reported G_ex = ΔH_mix − T S_ex, K (default 1873)")
    predict.add_argument("--x", type=parse_grid, default=None,
                         help="mole fraction(s) of B: 0.5, 0.1,0.5 or 0.1:0.9:0.1 (default 0.1:0.9:0.1; "
                              f"--all: {DEFAULT_GRID})")
    predict.add_argument("--model", default=None, help="model file from 'mixcalphad train' (default: shipped model)")
    predict.add_argument("--all", action="store_true", help="every binary of --elements (default: all supported)")
    predict.add_argument("--elements", nargs="+", metavar="EL", help="element set for --all")
    predict.add_argument("--out", help="CSV written by --all")
    predict.add_argument("--force", action="store_true", help="overwrite --out")
    predict.set_defaults(func=cmd_predict)

    evaluate = add_json_option(data_options(sub.add_parser(
        "evaluate", help="nested CV grouped by system: model vs Miedema, coverage, AIMD test")))
    evaluate.add_argument("--outer-folds", type=int, default=12,
                          help="outer folds grouped by system (default 12, as in the founding paper)")
    evaluate.add_argument("--jobs", type=int, default=2, help="outer folds fitted in parallel")
    evaluate.add_argument("--plot", metavar="PNG", help="write a parity plot of the held-out points")
    evaluate.add_argument("--force", action="store_true", help="overwrite --plot")
    evaluate.set_defaults(func=cmd_evaluate)

