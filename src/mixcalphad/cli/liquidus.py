"""Handler of ``liquidus``."""
from __future__ import annotations

import argparse

import numpy as np

from mixcalphad.cli.common import add_json_option, check_outputs, parse_grid, print_json, print_table


def _pair(text: str) -> tuple[float, float]:
    try:
        a, b = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"a ternary composition is 'x1,x2', got {text!r}") from None
    return a, b


def compositions(args) -> np.ndarray:
    """The compositions asked for: a grid (binary), pairs or an isopleth (ternary)."""
    from mixcalphad.errors import MixcalphadError
    from mixcalphad.calphad.liquidus import isopleth

    if len(args.elements) == 2:
        if args.isopleth:
            raise MixcalphadError("--isopleth is for ternaries; for a binary give --x 0.05:0.95:0.05")
        return parse_grid(args.x[0] if args.x else "0.05:0.95:0.05")
    if args.isopleth:
        start, end = (_pair(p) for p in args.isopleth)
        return isopleth(start, end, args.points)
    if not args.x:
        raise MixcalphadError("a ternary needs --x x1,x2 [x1,x2 ...] or --isopleth x1,x2 x1,x2")
    return np.array([_pair(p) for p in args.x])


def cmd_liquidus(args) -> int:
    import warnings

    from mixcalphad.calphad.liquidus import liquidus
    from mixcalphad.plot import liquidus_plot

    check_outputs(args.plot, force=args.force)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the caveat is printed below
        result = liquidus(args.tdb, args.elements, compositions(args), T_min=args.t_min, T_max=args.t_max,
                          liquid=args.liquid)
    figure = liquidus_plot(result, args.plot, force=args.force) if args.plot else None
    if result.caveat and not args.json:
        import sys

        print(f"warning: {result.caveat}", file=sys.stderr)
    if args.json:
        print_json({**result.to_dict(), "tdb": args.tdb, "figure": figure})
        return 0
    print(f"liquidus of {'-'.join(result.elements)} from {args.tdb} (K)")
    print_table(result.to_dataframe(), "{:.2f}")
    if figure:
        print(f"plot: {figure}")
    return 0


def register(sub) -> None:
    """Add ``liquidus`` to the ``mixcalphad`` subparsers."""
    p = add_json_option(sub.add_parser("liquidus", help="binary or ternary liquidus from a TDB with pycalphad"))
    p.add_argument("tdb", help="TDB file (ours, yours, or ours merged into yours)")
    p.add_argument("--elements", nargs="+", required=True, metavar="EL", help="two or three elements")
    p.add_argument("--x", nargs="+", metavar="X",
                   help="binary: mole fraction of the last element (0.5, 0.1,0.5 or 0.05:0.95:0.05, the default); "
                        "ternary: pairs x1,x2 of the last two elements")
    p.add_argument("--isopleth", nargs=2, metavar="X1,X2", help="ternary: straight path between two compositions")
    p.add_argument("--points", type=int, default=11, help="compositions along --isopleth")
    p.add_argument("--t-min", type=float, default=300.0, help="lowest temperature searched (K)")
    p.add_argument("--t-max", type=float, default=None, help="highest temperature searched (K; default: max Tm + 500)")
    p.add_argument("--liquid", metavar="PHASE", default=None,
                   help="the liquid phase (default LIQUID, else the database's one liquid-like phase)")
    p.add_argument("--plot", metavar="PNG", help="write a plot")
    p.add_argument("--force", action="store_true", help="overwrite --plot")
    p.set_defaults(func=cmd_liquidus)
