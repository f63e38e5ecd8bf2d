"""Liquid spinodal scan over every binary of a TDB at T = the higher melting point of the pair.

For every binary ``L(LIQUID,A,B;n)`` of the file the interaction parameters are evaluated at
``T = max(T_m(A), T_m(B))`` (FUNCTIONs resolved with pycalphad's ``Model.symbol_replace``), and the
curvature of G_mix = RT(x ln x + …) + G_ex is checked on 261 compositions (dense near both ends):
a binary has a spinodal where ``d²G_mix/dx² < 0``. ΔH_mix = G_ex − T dG_ex/dT (central difference,
±1 K) tells whether the excess is ≤ 0 at every x. Each binary with a spinodal is listed with its
reason: the file's provenance (``convex=gap``: the data show a gap) and the size of its positive
excess. With ``--check N`` the curvature of pycalphad's own ``GM_MIX`` (``calculate``) is compared
for N binaries.

``--fit-stats`` prints, instead of the scan (seconds, not minutes), what the file's provenance
records about the convexity rule of each fit: how many binaries were convex as fitted, made convex
by the constrained fit, or kept with a gap, and the RMS change of ΔH_mix the constraint made (J/mol,
and in units of each binary's recorded σ).

Usage::

    python benchmarks/gap_scan.py [TDB] [--check 4] [--list 20]
    python benchmarks/gap_scan.py [TDB] --fit-stats
"""
from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def scan(path: Path):
    import symengine as se
    from pycalphad import Model
    from pycalphad import variables as v
    from tinydb import where

    from mixcalphad.calphad.convexity import X_GRID, R_J, rk_excess_d2
    from mixcalphad.calphad.provenance import read_provenance
    from mixcalphad.calphad.redlich_kister import rk_excess
    from mixcalphad.chem.elements import element_property
    from mixcalphad.data.tdb_read import read_database

    db = read_database(path)
    prov = read_provenance(path)
    records = {b.system: b for b in prov.binaries} if prov else {}
    symbols = {se.Symbol(k): e for k, e in db.symbols.items()}
    terms: dict[str, dict[int, object]] = collections.defaultdict(dict)
    for p in db.search((where("phase_name") == "LIQUID") & (where("parameter_type") == "L")):
        array = p["constituent_array"]
        if len(array) == 1 and len(array[0]) == 2:
            a, b = sorted(s.name for s in array[0])
            terms[f"{a}-{b}"][int(p["parameter_order"])] = se.sympify(Model.symbol_replace(p["parameter"], symbols))
    rows = []
    for name, by_order in sorted(terms.items()):
        a, b = name.split("-")
        T = float(np.max(element_property([a, b], "T_melt_K")))
        L = lambda t: [float(by_order.get(n, se.Integer(0)).subs({v.T: t})) for n in range(max(by_order) + 1)]
        G, Gp, Gm = L(T), L(T + 1.0), L(T - 1.0)
        H = rk_excess(X_GRID, G) - T * (rk_excess(X_GRID, Gp) - rk_excess(X_GRID, Gm)) / 2.0
        curvature = R_J * T / (X_GRID * (1 - X_GRID)) + rk_excess_d2(X_GRID, G)
        bad = X_GRID[curvature < 0]
        rec = records.get(name)
        rows.append({"system": name, "T_K": T, "spinodal": bad.size > 0,
                     "x_from": float(bad.min()) if bad.size else np.nan,
                     "x_to": float(bad.max()) if bad.size else np.nan,
                     "H_max_J": float(H.max()), "H_min_J": float(H.min()),
                     "convexity": rec.convexity if rec else "?", "origin": rec.origin if rec else "?",
                     "L": G})
    return db, rows


def fit_statistics(path: Path) -> str:
    """The convexity record of every fit in the provenance of ``path``, as Markdown text.

    Raises
    ------
    TDBError
        The file has no mixcalphad provenance block.
    """
    from mixcalphad.calphad.provenance import read_provenance
    from mixcalphad.errors import TDBError

    provenance = read_provenance(path)
    if provenance is None:
        raise TDBError(f"{path}: no mixcalphad provenance block, so no record of the convexity rule")
    fits = provenance.to_dataframe()
    counts = fits["convexity"].replace("", "not checked").value_counts()
    kinds = ("convex", "constrained", "gap", "not checked")
    lines = ["| binaries | convex as fitted | made convex by the constrained fit | gap kept | not checked |",
             "|---:|---:|---:|---:|---:|",
             f"| {len(fits)} | " + " | ".join(str(int(counts.get(k, 0))) for k in kinds) + " |"]
    constrained = fits[fits["convexity"] == "constrained"]
    if len(constrained):
        change = constrained["constraint_rms_J"].to_numpy(float)
        in_sigma = change / constrained["sigma_J"].to_numpy(float)
        lines.append(f"\nRMS change of dH_mix made by the constraint ({len(constrained)} binaries): median "
                     f"{np.median(change):.0f} J/mol, 90 % {np.percentile(change, 90):.0f}, max {change.max():.0f} "
                     f"({constrained['system'].iloc[int(np.argmax(change))]}); in units of the binary's sigma: "
                     f"median {np.nanmedian(in_sigma):.3f}, max {np.nanmax(in_sigma):.2f}")
    return "\n".join(lines)


def pycalphad_check(db, rows, n: int) -> list[tuple]:
    """Second differences of pycalphad's GM_MIX for ``n`` binaries (some with, some without a spinodal)."""
    from pycalphad import calculate

    x = np.linspace(0.001, 0.999, 999)
    with_gap = [r for r in rows if r["spinodal"]][: n // 2]
    without = [r for r in rows if not r["spinodal"]][: n - len(with_gap)]
    out = []
    for r in with_gap + without:
        a, b = r["system"].split("-")
        gm = calculate(db, [a, b], "LIQUID", T=r["T_K"], P=101325, N=1, output="GM_MIX",
                       points=np.column_stack([1 - x, x]))
        d2 = np.diff(np.asarray(gm.GM_MIX).ravel(), 2)
        out.append((r["system"], r["spinodal"], bool(d2.min() < 0)))
    return out


def build_parser() -> argparse.ArgumentParser:
    """The command line of this script."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tdb", nargs="?", default=str(ROOT / "tdb" / "mixcalphad-liquid.tdb"))
    parser.add_argument("--check", type=int, default=4, help="binaries checked with pycalphad's calculate")
    parser.add_argument("--list", type=int, default=15, help="binaries with a spinodal listed")
    parser.add_argument("--fit-stats", action="store_true",
                        help="only the convexity record of the fits in the file's provenance (no scan)")
    return parser


def main() -> int:
    args = build_parser().parse_args()
    if args.fit_stats:
        print(f"# convexity rule of the fits in {Path(args.tdb).name} (its provenance)\n")
        print(fit_statistics(Path(args.tdb)))
        return 0
    start = time.perf_counter()
    db, rows = scan(Path(args.tdb))
    spin = [r for r in rows if r["spinodal"]]
    negative = [r for r in spin if r["H_max_J"] <= 0.0]
    print(f"# liquid spinodal scan of {Path(args.tdb).name} at T = max(T_m) of each pair "
          f"({time.perf_counter() - start:.0f} s)\n")
    print(f"| binaries | with a spinodal | spinodal while dH_mix <= 0 at every x |")
    print(f"|---:|---:|---:|")
    print(f"| {len(rows)} | {len(spin)} | {len(negative)} |\n")
    reasons = collections.Counter(
        (f"convex={r['convexity']} (provenance)", "dH_mix > 0 somewhere" if r["H_max_J"] > 0 else "dH_mix <= 0")
        for r in spin)
    print("| reason recorded in the file | excess | binaries |\n|---|---|---:|")
    for (why, excess), count in sorted(reasons.items(), key=lambda kv: -kv[1]):
        print(f"| {why} | {excess} | {count} |")
    if spin:
        print(f"\nlargest positive excess among binaries with a spinodal (first {args.list} by dH_max):\n")
        print("| binary | T (K) | spinodal x_B | dH_mix max (kJ/mol) | L_n at T (kJ/mol) | origin | convexity |")
        print("|---|---:|---|---:|---|---|---|")
        for r in sorted(spin, key=lambda r: -r["H_max_J"])[: args.list]:
            L = ", ".join(f"{v / 1000:.1f}" for v in r["L"])
            print(f"| {r['system']} | {r['T_K']:.0f} | {r['x_from']:.3f}-{r['x_to']:.3f} | {r['H_max_J'] / 1000:.1f} "
                  f"| {L} | {r['origin']} | {r['convexity']} |")
        smallest = min(spin, key=lambda r: r["H_max_J"])
        print(f"\nsmallest dH_mix max among binaries with a spinodal: {smallest['system']} "
              f"{smallest['H_max_J'] / 1000:.2f} kJ/mol")
    if args.check:
        print("\npycalphad calculate(GM_MIX) second differences agree with the scan:\n")
        print("| binary | scan: spinodal | pycalphad: d2 GM_MIX < 0 |\n|---|---|---|")
        for name, ours, theirs in pycalphad_check(db, rows, args.check):
            print(f"| {name} | {ours} | {theirs} |")
    return 1 if negative else 0


if __name__ == "__main__":
    sys.exit(main())
