"""Time to fit and write the LIQUID of the whole supported element set (70 elements, 2415 binaries).

Steps timed: loading the predictor, fitting every binary (19 predicted compositions each, order by
AICc), building the pycalphad Database, writing the TDB text, checking it by re-reading (what
``write_tdb`` does before the file replaces anything), and loading the written file with pycalphad
as a user would. Also times ``write_tdb`` end to end, and filling pycalphad's ``cumg.tdb`` with
every other supported element.

The predictor is mixcalphad's default model when it loads; otherwise a benchmark-only adapter of
Miedema's model (``MiedemaBenchmarkAdapter``, constant σ = 5 kJ/mol) stands in, and the table says so.

Run: ``python benchmarks/tdb_speed.py [--elements AL CU …]``
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


class MiedemaBenchmarkAdapter:
    """Benchmark-only stand-in predictor: Miedema's ΔH_mix with a constant σ of 5000 J/mol."""

    version_ = "miedema-benchmark-adapter"

    def predict(self, a, b, x_b, return_std=True):
        from mixcalphad.chem.miedema import miedema_hmix

        x_b = np.asarray(x_b, dtype=float)
        return miedema_hmix(a, b, x_b), np.full(x_b.shape, 5000.0)


def build_parser() -> argparse.ArgumentParser:
    """The command line of this script."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--elements", nargs="+", default=None, help="default: the supported element set")
    return parser


def main() -> None:
    args = build_parser().parse_args()

    import pycalphad
    from pycalphad import Database

    from mixcalphad.calphad.database import to_database
    from mixcalphad.calphad.tdb_merge import fill_plan, merge_into_tdb
    from mixcalphad.calphad.tdb_write import database_text, write_tdb
    from mixcalphad.chem.elements import supported_elements
    from mixcalphad.errors import MixcalphadError
    from mixcalphad.calphad.binary_fit import fit_binaries, load_default_predictor, predictor_label

    rows = []

    def timed(label, func):
        start = time.perf_counter()
        value = func()
        rows.append((label, time.perf_counter() - start))
        return value

    elements = sorted(e.upper() for e in args.elements) if args.elements else supported_elements()
    try:
        predictor = timed("load the default model", load_default_predictor)
    except MixcalphadError as exc:
        print(f"default model unavailable ({exc}); using MiedemaBenchmarkAdapter")
        predictor = MiedemaBenchmarkAdapter()
    fits = timed("fit every binary (19 points, AICc)", lambda: fit_binaries(elements, predictor=predictor, progress=False))
    db = timed("build the pycalphad Database", lambda: to_database(fits))
    text = timed("pycalphad TDB text", lambda: database_text(db))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "liquid.tdb"
        timed("write_tdb (build + write + re-read check)", lambda: write_tdb(fits, path))
        timed("load the written file with pycalphad", lambda: Database(str(path)))
        size = path.stat().st_size
        cumg = Path(pycalphad.__file__).parent / "tests" / "databases" / "cumg.tdb"
        others = [e for e in elements if e not in ("CU", "MG")]
        plan = fill_plan(cumg, others)
        fill_fits = fit_binaries(plan.to_add, predictor=predictor, progress=False)
        timed(f"fill cumg.tdb with {len(others)} elements ({len(plan.to_add)} binaries, merge + check)",
              lambda: merge_into_tdb(fill_fits, cumg, Path(folder) / "filled.tdb", elements=others))
    orders = np.bincount([f.fit.order for f in fits.values()], minlength=4)
    rms = np.array([f.fit.rms_J for f in fits.values()])
    print(f"predictor: {predictor_label(predictor)}")
    print(f"{len(elements)} elements, {len(fits)} binaries, {sum(len(f.fit.coefficients) for f in fits.values())} "
          f"VV symbols, file {size / 1e6:.2f} MB, TDB text {len(text) / 1e6:.2f} MB")
    print("chosen orders 0/1/2/3: " + "/".join(str(int(n)) for n in orders[:4])
          + f"; fit RMS residual median {np.median(rms):.1f} J/mol, max {rms.max():.1f} J/mol")
    print()
    print(f"{'step':62s} {'seconds':>8s}")
    for label, seconds in rows:
        print(f"{label:62s} {seconds:8.2f}")


if __name__ == "__main__":
    main()
