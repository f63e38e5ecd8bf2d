"""Handlers of ``data build|add|summary``, ``elements`` and ``miedema``."""
from __future__ import annotations

import json

from mixcalphad.cli.common import add_json_option, add_store_option, open_store, parse_grid, print_json, print_table


# ---------------------------------------------------------------------- data
def _build(args, store_path) -> dict:
    from mixcalphad.data.corpus import build_dataset, build_store
    from mixcalphad.data.store import Store

    build = build_dataset(args.tdb, default_corpus=not args.no_default, progress=None)
    store = Store(store_path)
    reports = build_store(store, build, replace=args.replace)
    return {
        "store": str(store.path),
        "store_points": int(store.summary()["points"]),
        "files_read": len(build.files_read),
        "files_failed": [{"file": str(f), "reason": r} for f, r in build.files_failed],
        "skipped": [{"what": str(w), "reason": r} for w, r in build.skipped],
        "duplicates": [{"system": d.system, "kept": d.kept.name, "dropped": d.dropped.name}
                       for d in build.duplicates],
        "extra_systems_already_harvested": build.extra_skipped,
        "counts": build.counts(),
        "inserted": {name: rep.to_dict() for name, rep in reports.items()},
    }


def _print_build(result: dict) -> None:
    counts = result["counts"]
    print(f"store: {result['store']}")
    print(f"TDB files read: {result['files_read']}, failed: {len(result['files_failed'])}, "
          f"liquids/binaries skipped: {len(result['skipped'])}, duplicate assessments counted once: "
          f"{len(result['duplicates'])}")
    for item in result["files_failed"]:
        print(f"  failed  {item['file']}: {item['reason']}")
    for item in result["skipped"]:
        print(f"  skipped {item['what']}: {item['reason']}")
    for name, c in counts.items():
        if isinstance(c, dict):
            print(f"  {name:16s} {c['systems']:4d} systems {c['points']:6d} points")
    print(f"  immiscible flags {counts['immiscible_flags']:4d}")
    print(f"  distinct systems {counts['systems_total']:4d}")
    obs = result["inserted"]["observations"]
    print(f"inserted: {obs['added']} new observations, {obs['unchanged']} already stored, "
          f"{obs['replaced']} replaced; the store now holds {result['store_points']} observations")
    if obs["completed"]:
        print(f"completed: {obs['completed']} stored observations given their excess Gibbs energy and entropy "
              "(GE_J, SE_J); nothing else of them changed")
    kept = result["inserted"]["assessed_liquids"]
    print(f"assessed liquids kept whole (their L_n(T)): {kept['added']} new, {kept['unchanged']} already stored")


def cmd_data_build(args) -> int:
    result = _build(args, args.store)
    print_json(result) if args.json else _print_build(result)
    return 0


def cmd_data_add(args) -> int:
    from mixcalphad.data.user_table import read_user_table

    rows = read_user_table(args.csv, kind=args.kind, source=args.source)
    store = open_store(args)
    report = store.add_observations(rows, replace=args.replace)
    result = {"store": str(store.path), "file": str(args.csv), "rows": len(rows),
              "systems": sorted(set(rows["system"])), **report.to_dict()}
    if args.json:
        print_json(result)
        return 0
    print(f"{args.csv}: {len(rows)} row(s) of {len(result['systems'])} system(s) "
          f"({', '.join(result['systems'][:10])}); added {report.added}, already stored {report.unchanged}, "
          f"replaced {report.replaced}; store {store.path}")
    print("every fit, prediction and TDB that reads this store now uses them "
          "(mixcalphad predict A B shows the posterior)")
    return 0


def cmd_data_summary(args) -> int:
    summary = open_store(args).summary()
    if args.json:
        print_json(summary)
        return 0
    print(f"store: {summary['store']} (schema {summary['schema_version']})")
    print(f"{summary['systems']} distinct systems, {summary['points']} points")
    for title, block in (("by kind", summary["by_kind"]), ("by collection", summary["by_collection"])):
        print(title + ":")
        for name, c in block.items():
            print(f"  {name:16s} {c['systems']:4d} systems {c['points']:6d} points {c['sources']:4d} sources")
    for flag, n in summary["flags"].items():
        print(f"flag {flag}: {n} systems")
    excess = summary["excess_entropy"]
    print(f"excess entropy (SE_J) known for {excess['with_SE']} of {excess['curves']} curves (system, source):")
    for name, c in excess["by_collection"].items():
        print(f"  {name:16s} {c['with_SE']:4d} of {c['curves']:4d} curves")
    return 0


# ---------------------------------------------------------------------- elements, miedema
def cmd_elements(args) -> int:
    from mixcalphad.chem.elements import element_table, get_element

    table = element_table()
    frame = (table if not args.symbols
             else table.loc[[get_element(s).name for s in args.symbols]])
    if args.json:
        print_json(json.loads(frame.reset_index().to_json(orient="records")))
        return 0
    columns = args.columns or ["symbol", "Z", "group", "period", "T_melt_K", "H_fus_J", "S_fus_J_K",
                               "Cp_liq_J_K", "ionization_energy_eV", "density_g_cm3", "miedema_phi_V",
                               "miedema_nws13", "miedema_V23_cm2", "transition_metal"]
    print_table(frame.reset_index()[["element", *columns]], "{:.4g}")
    return 0


def cmd_miedema(args) -> int:
    from mixcalphad.chem.binaries import check_elements, sorted_pair
    from mixcalphad.chem.miedema import miedema_class, miedema_hmix, transformation_elements
    from mixcalphad.errors import MixcalphadError

    a, b = sorted_pair(*check_elements([args.a]), *check_elements([args.b]))
    transformation = transformation_elements(args.transformation)
    outside = [el for el in transformation if el not in (a, b)]
    if outside:
        raise MixcalphadError(f"--transformation {' '.join(outside)}: not an element of {a}-{b}, so it would "
                              "change nothing")
    options = {"volume_correction": args.volume_correction,
               "alkaline_earth_transition": args.alkaline_earth_transition,
               "transformation": tuple(transformation)}
    h = miedema_hmix(args.a, args.b, args.x, **options)
    cls = miedema_class(a, b, alkaline_earth_transition=args.alkaline_earth_transition)
    label = args.b.upper()
    if args.json:
        print_json({"a": args.a.upper(), "b": label, "class": cls, "options": options,
                     "unit": "J/mol", "x": args.x, "HM_MIX_J": h})
        return 0
    print(f"Miedema liquid ΔH_mix of {args.a.upper()}-{label} ({cls}), J/mol of atoms")
    for x, v in zip(args.x, h):
        print(f"  x_{label} = {x:.3f}   {v:10.1f}")
    return 0


# ---------------------------------------------------------------------- run (the main job)
# ---------------------------------------------------------------------- registration
def register(sub) -> None:
    """Add this module's commands to the ``mixcalphad`` subparsers."""
    with_store, with_json = add_store_option, add_json_option  # short names for the chains below
    data = sub.add_parser("data", help="build and inspect the ΔH_mix dataset")
    data_sub = data.add_subparsers(dest="data_command", required=True)
    build = with_json(with_store(data_sub.add_parser("build", help="harvest the default corpus (+ your TDBs) into the store")))
    build.add_argument("--tdb", nargs="+", default=[], metavar="PATH",
                       help="extra TDB files or folders (read with their subfolders); a file named here that "
                            "cannot be parsed stops the build")
    build.add_argument("--no-default", action="store_true", help="skip the TDBs installed with pycalphad")
    build.add_argument("--replace", action="store_true",
                       help="overwrite stored values that changed (without it, stored rows lacking GE_J/SE_J are "
                            "only completed, and any other change is an error)")
    build.set_defaults(func=cmd_data_build)
    add = with_json(with_store(data_sub.add_parser(
        "add", help="add your own ΔH_mix values from a CSV file (system,x_B,T_K,HM_MIX_J[,sigma_J,source])")))
    add.add_argument("csv", help="CSV file: system (or A and B), x_B, T_K, HM_MIX_J (J/mol), optional sigma_J "
                                 "(J/mol), source, reference, GE_J, SE_J")
    add.add_argument("--kind", default="user", help="kind of rows without a kind column (default user)")
    add.add_argument("--source", default=None, help="source of rows without one (default: the file name)")
    add.add_argument("--replace", action="store_true", help="overwrite stored values that changed (default: refuse)")
    add.set_defaults(func=cmd_data_add)
    summary = with_json(with_store(data_sub.add_parser("summary", help="counts per source in the store")))
    summary.set_defaults(func=cmd_data_summary)

    elements = with_json(sub.add_parser("elements", help="the pure-element property table"))
    elements.add_argument("symbols", nargs="*", metavar="SYMBOL", help="element symbols (default: all)")
    elements.add_argument("--columns", nargs="+", help="columns to show (default: a selection)")
    elements.set_defaults(func=cmd_elements)

    miedema = with_json(sub.add_parser("miedema", help="Miedema's liquid ΔH_mix of a binary"))
    miedema.add_argument("a", help="first element")
    miedema.add_argument("b", help="second element (x is its mole fraction)")
    miedema.add_argument("--x", type=parse_grid, default=parse_grid("0.1:0.9:0.1"),
                         help="mole fraction(s) of B: 0.5, 0.1,0.5 or 0.1:0.9:0.1 (default)")
    miedema.add_argument("--volume-correction", action="store_true", help="Miedema's volume correction")
    miedema.add_argument("--alkaline-earth-transition", action="store_true",
                         help="treat Ca, Sr, Ba as transition metals")
    miedema.add_argument("--transformation", nargs="+", default=[], metavar="EL",
                         help="subtract H_trans of these elements (SI GE reproduces Takeuchi-Inoue)")
    miedema.set_defaults(func=cmd_miedema)
