"""Handlers of ``campaign refit`` and ``run`` (the main job)."""
from __future__ import annotations

import sys
import time

from mixcalphad.cli.common import add_json_option, add_store_option, open_store, print_json


def cmd_campaign_refit(args) -> int:
    from mixcalphad.workflow.campaign import Campaign

    report = Campaign(open_store(args), args.out, elements=args.elements, l0_threshold_J=args.threshold,
                      plan_size=args.plan, force=args.force).refit()
    print_json(report.to_dict()) if args.json else print(report.text())
    return 0


def cmd_run(args) -> int:
    from mixcalphad.workflow.main_job import run_main_job

    started = time.perf_counter()

    def step(number: int, total: int, text: str) -> None:
        print(f"[{number}/{total}] {text} (t = {time.perf_counter() - started:.0f} s)", file=sys.stderr)

    result = run_main_job(args.out, open_store(args), evaluate=not args.no_evaluate, plan_size=args.plan,
                          n_jobs=args.jobs, force=args.force, step=step)
    print_json(result.to_dict()) if args.json else print(result.text())
    return 0


def _positive(kind):
    def parse(text: str):
        import argparse

        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if value < 0:
            raise argparse.ArgumentTypeError(f"must not be negative, got {text!r}")
        return value
    return parse


def register(sub) -> None:
    """Add ``run`` and ``campaign`` to the ``mixcalphad`` subparsers."""
    run = add_json_option(add_store_option(sub.add_parser("run", help="the main job on the embedded default data")))
    run.add_argument("--out", default="mixcalphad-out", help="output folder (default: ./mixcalphad-out)")
    run.add_argument("--plan", type=_positive(int), default=10, help="binaries in the next AIMD plan")
    run.add_argument("--jobs", type=_positive(int), default=2, help="outer CV folds fitted in parallel")
    run.add_argument("--no-evaluate", action="store_true", help="skip the nested cross-validation (~2.5 min)")
    run.add_argument("--force", action="store_true", help="overwrite campaign files in --out not written by a campaign")
    run.set_defaults(func=cmd_run)

    campaign = sub.add_parser("campaign", help="refit everything from the store after new data")
    campaign_sub = campaign.add_subparsers(dest="campaign_command", required=True)
    refit = add_json_option(add_store_option(campaign_sub.add_parser(
        "refit", help="retrain, refit, regenerate TDB, ESPEI datasets and plan; report what changed")))
    refit.add_argument("--out", default="mixcalphad-campaign", help="campaign folder (default: ./mixcalphad-campaign)")
    refit.add_argument("--elements", nargs="+", metavar="EL", help="element set (default: all supported)")
    refit.add_argument("--threshold", type=_positive(float), default=1000.0,
                       help="report L0 moves larger than this (J/mol)")
    refit.add_argument("--plan", type=_positive(int), default=20, help="binaries in the next acquisition plan (0: none)")
    refit.add_argument("--force", action="store_true",
                       help="overwrite files in --out that no earlier campaign wrote (your own TDB, report…)")
    refit.set_defaults(func=cmd_campaign_refit)
