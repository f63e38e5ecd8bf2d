"""``mixcalphad espei-seed``: an ESPEI run of one binary seeded with mixcalphad's liquid."""
from __future__ import annotations

from mixcalphad.cli.common import add_json_option, print_json


def cmd_espei_seed(args) -> int:
    from mixcalphad.workflow.espei_seed import seed_espei

    predictor = None
    if args.model:
        from mixcalphad.model.regressor import HMixRegressor

        predictor = HMixRegressor.load(args.model)
    result = seed_espei(args.datasets_dir, args.binary[0], args.binary[1], args.output, predictor=predictor,
                        weight=args.weight, hmix_datasets=not args.no_hmix_datasets, start_tdb=not args.no_start_tdb,
                        start=args.start, exclude_liquid_calorimetry=args.exclude_liquid_calorimetry,
                        phase_models=args.phase_models, iterations=args.iterations, force=args.force)
    if args.json:
        print_json(result.to_dict())
        return 0
    print(f"{result.binary}: {len(result.datasets)} datasets copied, {len(result.predicted)} predicted HM_MIX "
          f"datasets, {len(result.left_out)} left out")
    for name, reason in result.left_out:
        print(f"  left out {name}: {reason}")
    if result.symbols:
        print(f"start TDB {result.start_tdb}: MCMC refines {', '.join(result.symbols)}")
    print(f"run: cd {result.folder} && espei --input {result.generate_yaml.name} && espei --input {result.mcmc_yaml.name}")
    return 0


def register(sub) -> None:
    from mixcalphad.workflow.espei_seed import DEFAULT_WEIGHT, STARTS

    p = add_json_option(sub.add_parser(
        "espei-seed", help="an ESPEI run of one binary seeded with mixcalphad's predicted liquid",
        description="Reads an ESPEI datasets folder and writes, for one binary: its datasets, predicted HM_MIX "
                    "datasets of the LIQUID, the phase models, a start TDB whose liquid VV symbols the MCMC "
                    "refines, and the generate_parameters and MCMC input files."))
    p.add_argument("datasets_dir", help="ESPEI datasets folder (searched recursively for *.json)")
    p.add_argument("--binary", nargs=2, required=True, metavar=("A", "B"), help="the two elements, e.g. CU MG")
    p.add_argument("-o", "--output", required=True, help="folder to write")
    p.add_argument("--weight", type=float, default=DEFAULT_WEIGHT,
                   help=f"multiplier of 500/sigma for each predicted point (default {DEFAULT_WEIGHT:.3g})")
    p.add_argument("--no-hmix-datasets", action="store_true", help="write no predicted HM_MIX datasets")
    p.add_argument("--no-start-tdb", action="store_true",
                   help="no start TDB: ESPEI generates the liquid from the HM_MIX datasets, the MCMC refines all")
    p.add_argument("--start", choices=STARTS, default="prediction",
                   help="the liquid's start: the prediction, the folder's liquid HM_MIX data, or none")
    p.add_argument("--exclude-liquid-calorimetry", action="store_true",
                   help="leave the folder's enthalpy datasets of the LIQUID out")
    p.add_argument("--phase-models", default=None, help="ESPEI phase-models JSON (default: read from the datasets)")
    p.add_argument("--model", default=None, help="a saved HMixRegressor to predict with (default: the default model)")
    p.add_argument("--iterations", type=int, default=50, help="MCMC iterations written to the MCMC input")
    p.add_argument("--force", action="store_true", help="replace what espei-seed wrote in the folder before")
    p.set_defaults(func=cmd_espei_seed)
