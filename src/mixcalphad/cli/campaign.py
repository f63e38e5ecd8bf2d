"""Handlers of ``campaign refit`` and ``run`` (the main job)."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from mixcalphad.cli.common import add_json_option, print_json, print_table

#: Binaries drawn in the main job's ΔH_mix figure: assessed, AIMD and data-free examples.
SHOWCASE = ("AL-NI", "CU-ZR", "AL-CU", "FE-SI", "AL-IR", "OS-TI", "IR-ZR", "RE-W", "HF-OS")


def cmd_campaign_refit(args) -> int:
    from mixcalphad.workflow.campaign import Campaign
    from mixcalphad.data.store import Store

    store = Store(args.store)
    report = Campaign(store, args.out, elements=args.elements, l0_threshold_J=args.threshold,
                      plan_size=args.plan).refit()
    print_json(report.to_dict()) if args.json else print(report.text())
    return 0


def _step(number: int, total: int, text: str, started: float) -> None:
    print(f"[{number}/{total}] {text} (t = {time.perf_counter() - started:.0f} s)", file=sys.stderr)


def cmd_run(args) -> int:
    from mixcalphad.aimd.vasp import prepare_vasp_runs
    from mixcalphad.workflow.campaign import Campaign
    from mixcalphad.data.corpus import build_dataset, build_store
    from mixcalphad.model.evaluation import miedema_baseline, nested_cross_validation
    from mixcalphad.model.regressor import HMixRegressor
    from mixcalphad.model.predictor import load_default_model
    from mixcalphad.plot import hmix_curves, parity_plot
    from mixcalphad.data.store import Store

    started = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    store = Store(out / "store.json")
    total = 5 if args.no_evaluate else 6
    _step(1, total, f"building the ΔH_mix dataset in {store.path}", started)
    build = build_dataset(progress=None)
    build_store(store, build)
    observations = store.observations()
    baseline = miedema_baseline(observations)
    figures = {"miedema_parity": parity_plot(
        baseline.points, "HM_MIX_kJ", "miedema_kJ", out / "miedema_parity.png", hue="miedema_class",
        highlight=baseline.points["kind"] == "aimd", title="Miedema liquid model vs assessed and AIMD ΔH_mix")}
    step = 2
    cv = None
    if not args.no_evaluate:
        _step(step, total, "evaluating the regressor: nested CV grouped by system, 12 outer folds", started)
        cv = nested_cross_validation(observations, HMixRegressor(random_state=0), n_jobs=args.jobs)
        figures["model_parity"] = parity_plot(cv.points, "HM_MIX_kJ", "pred_kJ", out / "model_parity.png",
                                              hue="miedema_class", highlight=cv.points["kind"] == "aimd",
                                              title="held-out systems: Miedema + LightGBM")
        step += 1
    _step(step, total, "training (the shipped model when the data are the default ones), fitting every "
                       "binary, writing the TDB and ESPEI datasets, ranking the next AIMD systems", started)
    report = Campaign(store, out / "campaign", plan_size=args.plan).refit()
    figures["periodic_map"] = report.files.get("periodic_map")
    _step(step + 1, total, "preparing VASP run folders for the plan", started)
    runs = prepare_vasp_runs(list(report.plan["system"]), out / "vasp-runs")
    _step(step + 2, total, "drawing ΔH_mix curves", started)
    figures["hmix_curves"] = hmix_curves(load_default_model(), SHOWCASE, observations, out / "hmix_curves.png")
    _step(total, total, "report", started)
    counts = build.counts()
    summary = {"out": out, "store": store.path, "counts": counts, "miedema": baseline.to_dict(),
               "evaluation": None if cv is None else cv.to_dict(), "campaign": report.to_dict(),
               "vasp_runs": runs.to_dict(), "figures": figures,
               "wall_time_s": round(time.perf_counter() - started, 1)}
    if args.json:
        print_json(summary)
        return 0
    print(f"dataset: {counts['systems_total']} distinct systems; "
          + ", ".join(f"{k}: {v['systems']} systems/{v['points']} points"
                      for k, v in counts.items() if isinstance(v, dict))
          + f"; immiscible flags: {counts['immiscible_flags']}")
    print("\nMiedema vs assessed ΔH_mix (kJ/mol):")
    print_table(baseline.assessed)
    if cv is not None:
        print("\nregressor on held-out systems (kJ/mol):")
        print_table(cv.accuracy_table())
        print_table(cv.coverage_table())
        print("\nAIMD test (kJ/mol):")
        print_table(cv.aimd_table())
    print(f"\nnext AIMD systems (top {min(10, len(report.plan))} of {len(report.plan)}):")
    print_table(report.plan.head(10)[["rank", "system", "score_J", "cluster", "n_observations", "model_J",
                                      "model_sigma_J", "T_aimd_K"]], "{:.0f}")
    info = runs.to_dict()
    print(f"\nVASP folders: {runs.out}: {info['n_runs']} runs for {info['n_binaries']} binaries "
          f"({info['runs_saved']} saved by sharing pure-element runs; POTCAR written: {info['potcar_written']})")
    print("files:")
    for name, path in {**report.files, **figures}.items():
        if path:
            print(f"  {name}: {path}")
    print(f"wall time: {time.perf_counter() - started:.0f} s")
    return 0


def register(sub) -> None:
    """Add ``run`` and ``campaign`` to the ``mixcalphad`` subparsers."""
    run = add_json_option(sub.add_parser("run", help="the main job on the embedded default data"))
    run.add_argument("--out", default="mixcalphad-out", help="output folder (default: ./mixcalphad-out)")
    run.add_argument("--plan", type=int, default=10, help="binaries in the next AIMD plan")
    run.add_argument("--jobs", type=int, default=2, help="outer CV folds fitted in parallel")
    run.add_argument("--no-evaluate", action="store_true", help="skip the nested cross-validation (~2.5 min)")
    run.set_defaults(func=cmd_run)

    campaign = sub.add_parser("campaign", help="refit everything from the store after new data")
    campaign_sub = campaign.add_subparsers(dest="campaign_command", required=True)
    refit = add_json_option(campaign_sub.add_parser(
        "refit", help="retrain, refit, regenerate TDB, ESPEI datasets and plan; report what changed"))
    refit.add_argument("--store", default=None,
                       help="store file (default: $MIXCALPHAD_STORE or ~/.mixcalphad/store.json)")
    refit.add_argument("--out", default="mixcalphad-campaign", help="campaign folder (default: ./mixcalphad-campaign)")
    refit.add_argument("--elements", nargs="+", metavar="EL", help="element set (default: all supported)")
    refit.add_argument("--threshold", type=float, default=1000.0, help="report L0 moves larger than this (J/mol)")
    refit.add_argument("--plan", type=int, default=20, help="binaries in the next acquisition plan (0: none)")
    refit.set_defaults(func=cmd_campaign_refit)
