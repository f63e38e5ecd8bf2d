"""Command-line handlers of the AIMD subpackage: ``mixcalphad aimd prepare|status|ingest|hmix`` and
``mixcalphad md``. :func:`register` adds them to the main parser's sub-parsers; handlers import the
library lazily, print one JSON document with ``--json``, and raise MixcalphadError subclasses that
the main program prints as one line.
"""
from __future__ import annotations

import sys

from mixcalphad.aimd.settings import CALCULATORS


def _cli():
    """The shared CLI helpers (``mixcalphad.cli.common``), imported lazily."""
    from mixcalphad.cli import common

    return common


def _kj(value) -> str:
    return "—" if value is None else f"{value / 1000:.2f}"


def _num(value, fmt: str = "{:.2f}") -> str:
    return "—" if value is None else fmt.format(value)


# ---------------------------------------------------------------------- aimd prepare
def cmd_aimd_prepare(args) -> int:
    from mixcalphad.aimd.plan import read_plan
    from mixcalphad.aimd.settings import RunSettings
    from mixcalphad.aimd.vasp import prepare_vasp_runs

    systems = read_plan(args.plan) if args.plan else args.systems
    settings = RunSettings(encut_eV=args.encut)
    result = prepare_vasp_runs(systems, args.out, x_B=args.x, n_atoms=args.atoms, settings=settings,
                               margin_K=args.margin, grid_K=args.grid, T_K=args.T, production_ps=args.production_ps,
                               stage_ps=args.stage_ps, seed=args.seed, equilibration_ps=args.equilibration_ps,
                               ranks=args.ranks)
    info = result.to_dict()
    if args.json:
        _cli().print_json(info)
        return 0
    print(f"runs folder: {info['out']}")
    print(f"{info['n_binaries']} binary point(s) need {info['n_runs']} runs "
          f"({info['n_runs_unshared']} without shared pure references: {info['runs_saved']} saved); "
          f"{len(info['written'])} written, {len(info['kept'])} already there")
    if info["potcar_written"]:
        print("POTCAR written from $VASP_PP_PATH for every run")
    else:
        missing = ", ".join(info["missing_potcars"]) or "—"
        print(f"POTCAR not written (set VASP_PP_PATH to your PAW library; not found: {missing}); "
              "POTCAR.spec lists the labels")
    for w in info["warnings"]:
        print(f"warning: {w}")
    print(f"next: sbatch --array=1-$(wc -l < {info['out']}/volume_jobs.txt) {info['out']}/slurm_volume.sh, "
          f"then 'mixcalphad aimd status {info['out']} --advance'")
    return 0


# ---------------------------------------------------------------------- aimd status
def cmd_aimd_status(args) -> int:
    from mixcalphad.aimd.status import advance_runs, runs_status

    actions = advance_runs(args.runs) if args.advance else []
    statuses = runs_status(args.runs)
    if args.json:
        _cli().print_json({"runs": [s.to_dict() for s in statuses], "actions": actions})
        return 0
    width = max((len(s.run_id) for s in statuses), default=6)
    for s in statuses:
        print(f"{s.run_id:<{width}}  {s.state:<18}  {s.reason}")
    counts = {}
    for s in statuses:
        counts[s.state] = counts.get(s.state, 0) + 1
    print(", ".join(f"{n} {state}" for state, n in counts.items()))
    for a in actions:
        print(f"advanced: {a}")
    return 0


# ---------------------------------------------------------------------- aimd ingest
def cmd_aimd_ingest(args) -> int:
    from mixcalphad.aimd.ingest import ingest_vasp_runs

    report = ingest_vasp_runs(args.runs, _cli().open_store(args), replace=args.replace,
                              include_flagged=args.include_flagged)
    info = report.to_dict()
    if args.json:
        _cli().print_json(info)
    else:
        print(f"store: {info['store']}")
        for key in ("added", "unchanged", "replaced"):
            for job in info[key]:
                res = info["results"].get(job, {})
                print(f"{key:<9} {job}: ΔH_mix = {_kj(res.get('HM_MIX_J'))} ± {_kj(res.get('sigma_J'))} kJ/mol")
        for key in ("pending", "flagged", "failed"):
            for item in info[key]:
                print(f"{key:<9} {item['job']}: {item['reason']}")
        print(f"{len(info['added'])} added, {len(info['unchanged'])} unchanged, {len(info['replaced'])} replaced, "
              f"{len(info['pending'])} pending, {len(info['flagged'])} flagged (not ingested; "
              f"--include-flagged), {len(info['failed'])} failed (nothing written for them)")
    return 1 if info["failed"] else 0


# ---------------------------------------------------------------------- aimd hmix
def _print_mixing(summary: dict, extra: str = "") -> None:
    a, b = summary["system"].split("-")
    print(f"{summary['system']}  x_{b} = {summary['x_B']:.3f}  T = {summary['T_K']:.0f} K{extra}")
    print(f"ΔH_mix = {_kj(summary['HM_MIX_J'])} ± {_kj(summary['sigma_J'])} kJ/mol")
    print(f"{'run':<7} {'composition':<14} {'T_mean K':>8} {'p̄ ± SEM (kbar)':>17} {'N_eff':>6} {'steps':>6} "
          f"{'MSD Å²':>7}  flags")
    for role, r in summary["runs"].items():
        comp = "".join(f"{el}{n}" for el, n in r["composition"].items())
        p = "—" if r["p_kbar"] is None else f"{r['p_kbar']:.2f} ± {r['p_sem_kbar']:.2f}"
        print(f"{role:<7} {comp:<14} {_num(r['T_mean_K'], '{:.0f}'):>8} {p:>17} {r['n_eff']:6.0f} "
              f"{r['n_steps']:6d} {_num(r['msd_A2'], '{:.1f}'):>7}  {', '.join(r['flags']) or '-'}")
    overall = [f for f in summary["flags"] if ":" not in f]
    if overall:
        print("flags: " + ", ".join(overall))


def cmd_aimd_hmix(args) -> int:
    from mixcalphad.aimd.ingest import hmix_from_folders

    result = hmix_from_folders(args.pure_a, args.pure_b, args.alloy)
    summary = result.summary()
    summary["HM_MIX_raw_J"], summary["HM_MIX_pV_J"] = result.HM_MIX_raw_J, result.HM_MIX_pV_J
    summary["unit"] = "J/mol of atoms"
    summary["notes"] = list(result.notes)
    if args.json:
        _cli().print_json(summary)
    else:
        _print_mixing(summary)
        print(f"raw: from ⟨E⟩ {_kj(result.HM_MIX_raw_J)}, from ⟨E⟩ + p̄V {_kj(result.HM_MIX_pV_J)} kJ/mol")
        for note in result.notes:
            print(f"note: {note}")
    if result.blocking_flags:
        print(f"warning: flagged ({', '.join(result.blocking_flags)}); do not use this value as it is",
              file=sys.stderr)
    return 0


# ---------------------------------------------------------------------- md
def cmd_md(args) -> int:
    from mixcalphad.aimd.local import run_local_md

    store = None if args.no_store else _cli().open_store(args)
    result = run_local_md(args.a, args.b, x_B=args.x, n_atoms=args.atoms, T_K=args.T, calculator=args.calculator,
                          model=args.model, ps=args.ps, stage_ps=args.stage_ps, timestep_fs=args.timestep,
                          thermostat=args.thermostat, seed=args.seed, store=store, replace=args.replace,
                          parallel=args.parallel)
    info = result.to_dict()
    info["unit"] = "J/mol of atoms"
    info["store"] = None if store is None else str(store.path)
    if args.json:
        _cli().print_json(info)
        return 0
    _print_mixing(info, f"  ({result.settings.calculator}, {info['source']}, {args.ps:g} ps)")
    for role, d in info["runs_detail"].items():
        print(f"{role:<7} {d['steps']} steps in {d['wall_s']:.1f} s ({d['s_per_step'] * 1000:.1f} ms/step), "
              f"accepted stage: {d['accepted_stage'] or 'none'}")
    if store is not None:
        print(f"stored as kind {info['kind']!r}, source {info['source']!r} in {store.path}")
    return 0


# ---------------------------------------------------------------------- registration
def register(subparsers) -> None:
    """Add ``aimd`` (prepare, status, ingest, hmix) and ``md`` to the main parser's sub-parsers."""

    from mixcalphad.cli.common import add_json_option as with_json
    from mixcalphad.cli.common import add_store_option as with_store

    aimd = subparsers.add_parser("aimd", help="prepare VASP AIMD runs, follow them, ingest ΔH_mix")
    sub = aimd.add_subparsers(dest="aimd_command", required=True)

    prep = with_json(sub.add_parser("prepare", help="write VASP run folders for a list of binaries"))
    src = prep.add_mutually_exclusive_group(required=True)
    src.add_argument("--plan", metavar="CSV", help="plan CSV with a 'system' column (optional T_K, x_B, liquidus_K)")
    src.add_argument("--systems", nargs="+", metavar="A-B", help="binaries such as IR-AL OS-TI")
    prep.add_argument("-o", "--out", required=True, help="runs folder (an existing one is extended)")
    prep.add_argument("--x", type=float, default=0.5, help="mole fraction of the second element of the sorted pair")
    prep.add_argument("--atoms", type=int, default=100, help="atoms per run (default 100)")
    prep.add_argument("--T", type=float, default=None, help="one temperature for all (default: the T rule), K")
    prep.add_argument("--margin", type=float, default=0.0, help="K above the higher melting point before snapping")
    prep.add_argument("--grid", type=float, default=50.0, help="temperature grid, K (default 50)")
    prep.add_argument("--encut", type=float, default=400.0, help="ENCUT, eV (default 400)")
    prep.add_argument("--production-ps", type=float, default=10.0,
                      help="production kept after equilibration, ps (default 10)")
    prep.add_argument("--stage-ps", type=float, default=3.0, help="volume-stage length, ps (default 3)")
    prep.add_argument("--equilibration-ps", type=float, default=None,
                      help="added to the production for the discarded equilibration, ps (default 0.2 × production)")
    prep.add_argument("--ranks", type=int, default=32,
                      help="MPI ranks of the SLURM job: NCORE, KPAR, NBANDS and --ntasks-per-node follow (default 32)")
    prep.add_argument("--seed", type=int, default=0, help="packing seed")
    prep.set_defaults(func=cmd_aimd_prepare)

    status = with_json(sub.add_parser("status", help="per run: missing, volume search, production done, failed"))
    status.add_argument("runs", help="runs folder written by 'aimd prepare'")
    status.add_argument("--advance", action="store_true",
                        help="write the next volume stage or the production POSCAR where the search allows")
    status.set_defaults(func=cmd_aimd_status)

    ingest = with_json(with_store(sub.add_parser("ingest", help="store ΔH_mix of every finished binary")))
    ingest.add_argument("runs", help="runs folder written by 'aimd prepare'")
    ingest.add_argument("--replace", action="store_true", help="overwrite stored values that changed")
    ingest.add_argument("--include-flagged", action="store_true",
                        help="also store points flagged (pressure window, short, not liquid…)")
    ingest.set_defaults(func=cmd_aimd_ingest)

    hmix = with_json(sub.add_parser("hmix", help="ΔH_mix ± σ from three finished run folders"))
    hmix.add_argument("--pure-a", required=True, metavar="DIR", help="pure-element run folder")
    hmix.add_argument("--pure-b", required=True, metavar="DIR", help="the other pure-element run folder")
    hmix.add_argument("--alloy", required=True, metavar="DIR", help="alloy run folder")
    hmix.set_defaults(func=cmd_aimd_hmix)

    md = with_json(with_store(subparsers.add_parser(
        "md", help="ΔH_mix by local MD with an ASE calculator (EMT, CHGNet, SevenNet)")))
    md.add_argument("a", help="first element")
    md.add_argument("b", help="second element")
    md.add_argument("--calculator", choices=CALCULATORS, default="emt",
                    help="emt (a pipeline stand-in; asap3: the same EMT, ~100× faster, 'pip install asap3') or a "
                         "universal MLIP, kind mlip: chgnet, sevennet")
    md.add_argument("--model", default=None,
                    help="MLIP model (chgnet: 0.3.0, 0.2.0, r2scan; sevennet: 7net-0, 7net-l3i5)")
    md.add_argument("--ps", type=float, default=10.0, help="production length per run, ps (default 10)")
    md.add_argument("--stage-ps", type=float, default=None, help="volume-stage length, ps (default 0.3 × --ps)")
    md.add_argument("--atoms", type=int, default=64, help="atoms per run (default 64)")
    md.add_argument("--x", type=float, default=0.5, help="mole fraction of the second element of the sorted pair")
    md.add_argument("--T", type=float, default=None, help="temperature, K (default: the T rule)")
    md.add_argument("--timestep", type=float, default=3.0, help="time step, fs (default 3)")
    md.add_argument("--thermostat", choices=("langevin", "nose-hoover", "bussi"), default="langevin",
                    help="NVT thermostat of the ASE run (default langevin)")
    md.add_argument("--seed", type=int, default=0, help="seed of the cell packing and the thermostat")
    md.add_argument("--parallel", choices=("auto", "dask", "serial"), default="auto",
                    help="run the three runs through dask when installed (auto)")
    md.add_argument("--no-store", action="store_true", help="do not write the result to the store")
    md.add_argument("--replace", action="store_true", help="overwrite a stored value that changed")
    md.set_defaults(func=cmd_md)
