"""Pure elements in a TDB: melting points against SGTE's, and G(LIQUID) at the 6000 K edge.

For every element of the file that mixcalphad supports, pycalphad's melting point (where G(LIQUID)
falls below the lowest solid, :func:`mixcalphad.calphad.liquidus.melting_points`, 0.01 K grid over
T_m ± 100 K) is compared with the element table's ``T_melt_K`` (SGTE 1991 with its magnetic terms),
and G(LIQUID) at 5999.9 K and 6000.0 K is compared: a FUNCTION whose last range ends at 6000 K is 0
at 6000 K in pycalphad. Without a TDB argument the file is written afresh (all 70 elements, no
binaries) by the checkout's code.

Usage::

    python benchmarks/unary_edges.py [TDB]          # e.g. tdb/mixcalphad-liquid.tdb
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def build_parser() -> argparse.ArgumentParser:
    """The command line of this script."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tdb", nargs="?", type=Path, help="TDB file (default: a fresh write of the 70 elements)")
    return parser


def main(argv=None) -> int:
    from pycalphad import Database, calculate

    from mixcalphad.calphad.database import to_database
    from mixcalphad.calphad.liquidus import melting_points
    from mixcalphad.calphad.tdb_write import write_tdb
    from mixcalphad.chem.elements import element_table, supported_elements

    args = build_parser().parse_args(argv)
    start = time.perf_counter()
    path = args.tdb
    if path is None:
        path = Path(tempfile.mkdtemp()) / "unaries.tdb"
        write_tdb(to_database({}, elements=supported_elements()), path)
    db = Database(str(path))
    table = element_table()
    elements = [el for el in supported_elements() if el in db.elements]
    rows = []
    for el in elements:
        tm = float(table.loc[el, "T_melt_K"])
        found = melting_points(db, el, np.arange(tm - 100.0, tm + 100.0, 0.01))
        g = calculate(db, [el], "LIQUID", T=[5999.9, 6000.0], P=101325, N=1, output="GM").GM.values.ravel()
        rows.append((el, tm, found, g))
    print(f"file: {path} ({len(elements)} elements)\n")
    print("| element | SGTE T_m (K) | pycalphad T_m from the file (K) | difference (K) |")
    print("|---|---|---|---|")
    off = [(el, tm, found) for el, tm, found, _ in rows if len(found) != 1 or abs(found[0] - tm) > 0.01]
    for el, tm, found in off:
        got = ", ".join(f"{t:.3f}" for t in found) or "none within ±100 K"
        diff = f"{found[0] - tm:+.3f}" if len(found) == 1 else "-"
        print(f"| {el} | {tm:.3f} | {got} | {diff} |")
    worst = max((abs(f[0] - tm) for _, tm, f, _ in rows if len(f) == 1), default=float("nan"))
    print(f"\n{len(elements) - len(off)} of {len(elements)} elements within 0.01 K of SGTE; "
          f"largest |difference| {worst:.3f} K\n")
    print("| element | G(LIQUID) 5999.9 K (J/mol) | G(LIQUID) 6000.0 K (J/mol) |")
    print("|---|---|---|")
    # between the two temperatures G changes by S*0.1 K (< 40 J/mol): a larger change is a range edge
    jumps = [(el, g) for el, _, _, g in rows if abs(g[1] - g[0]) > 100.0]
    for el, g in jumps:
        print(f"| {el} | {g[0]:.0f} | {g[1]:.0f} |")
    print(f"\n{len(jumps)} elements whose G(LIQUID) jumps by more than 100 J/mol between 5999.9 and 6000 K")
    print(f"({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
