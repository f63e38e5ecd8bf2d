#!/usr/bin/env python
"""Regenerate the shipped table of equimolar liquidus temperatures of the assessed binaries.

Writes ``src/mixcalphad/data/equimolar_liquidus.csv``: one row per (binary, TDB file) for every
binary whose LIQUID the default corpus harvests (the TDB files installed with pycalphad, read by
:func:`mixcalphad.data.harvest.harvest_tdb`; the binaries with a liquid interaction parameter in
that file), with the liquidus at x_B = 0.5 computed by
:class:`mixcalphad.calphad.liquidus.LiquidusCalculator` against **all** condensed phases of the file
that the two elements can form (the gas is left out: the liquidus is against the solids; a phase
pycalphad cannot model for the pair is left out and named in ``note``). The acquisition plan reads it (no pycalphad at plan time) to raise the AIMD
run temperature above the equimolar liquidus.

Columns
-------
system, x_B (0.5), liquidus_K (K; empty where not computed), T_melt_max_K (the higher SGTE melting
point of the element table, K), above_melting_K (liquidus_K − T_melt_max_K), primary_phases (phases
just below the liquidus), bound (``""`` or ``"lower"``: not fully liquid at T_max, the liquidus is
at least liquidus_K), file, file_sha256, n_phases, phases ('+'-joined), method, note (why a row has
no value).

Limits
------
* A liquid miscibility gap counts as liquid (two liquid composition sets): a gap above the melting
  points is not a liquidus here; the store's ``immiscible`` flags cover those.
* The value is only as good as the file's solid phases: a file that assesses the liquid but omits a
  compound of the binary gives a liquidus too low.

Calibration (``--calibrate``): reads the shipped table through
:func:`mixcalphad.acquisition.feasibility.assessed_liquidus` and prints, per assessed binary, the
protocol's run temperature without a liquidus, the equimolar liquidus, their difference and
Miedema's ΔH_mix(0.5), and the least negative Miedema ΔH_mix(0.5) among the binaries whose liquidus
lies more than ``UNDERCOOLING_TOLERANCE_K`` above that run temperature: the basis of
:data:`~mixcalphad.acquisition.feasibility.DEFAULT_COMPOUND_HMIX_J`.

Usage::

    nice python scripts/build_liquidus_table.py [--out FILE] [--only SYSTEM ...]
    python scripts/build_liquidus_table.py --calibrate
"""
from __future__ import annotations

import argparse
import io
import logging
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pycalphad

DATA_DIR = Path(__file__).resolve().parents[1] / "src" / "mixcalphad" / "data"
OUT = DATA_DIR / "equimolar_liquidus.csv"
#: Search range and resolution of the liquidus (K).
T_MIN_K, STEP_K, TOL_K, ABOVE_MELT_K, T_CAP_K = 300.0, 25.0, 0.5, 1500.0, 6000.0
COLUMNS = ("system", "x_B", "liquidus_K", "T_melt_max_K", "above_melting_K", "primary_phases", "bound",
           "file", "file_sha256", "n_phases", "phases", "method", "note")


def method() -> str:
    return (f"pycalphad {pycalphad.__version__} equilibrium via mixcalphad LiquidusCalculator: all condensed phases "
            f"of the file for the two elements (+VA; gas left out), P = 101325 Pa, coarse grid {T_MIN_K:.0f} K to T_melt_max + "
            f"{ABOVE_MELT_K:.0f} K in {STEP_K:.0f} K steps, bisection to {TOL_K} K")


def harvested_pairs(paths) -> list[tuple[str, Path, str]]:
    """(system, file, sha256) for every binary liquid the harvest takes from each file."""
    from mixcalphad.data.harvest import harvest_tdb
    from mixcalphad.data.tdb_read import checksum

    out = []
    for path in paths:
        try:
            result = harvest_tdb(path)
        except Exception as exc:  # noqa: BLE001 - a file that the harvest cannot read has no pairs
            logging.info("%s: not harvested (%s)", path.name, exc)
            continue
        digest = checksum(path.read_bytes())
        out += [(s, path, digest) for s in result.systems]
    return sorted(set(out), key=lambda r: (r[0], r[1].name))


def is_gas(phase: str) -> bool:
    """A gas phase (``GAS``, ``GAS_…``): left out, the liquidus is against the condensed phases."""
    return phase.upper().startswith("GAS")


def condensed_phases(path: Path, elements) -> list[str]:
    """The phases of ``path`` that ``elements`` (+VA) can form, without the gas."""
    from pycalphad.core.utils import filter_phases, unpack_species

    from mixcalphad.data.tdb_read import read_database

    db = read_database(path)
    comps = [*elements, "VA"] if "VA" in db.elements else list(elements)
    return sorted(p for p in filter_phases(db, unpack_species(db, comps)) if not is_gas(p))


def buildable_phases(path: Path, elements) -> tuple[list[str], list[str]]:
    """The condensed phases of ``path`` that pycalphad can model alone for ``elements`` (+VA), and the others."""
    from pycalphad.core.utils import instantiate_models

    from mixcalphad.data.tdb_read import read_database

    db = read_database(path)
    comps = [*elements, "VA"] if "VA" in db.elements else list(elements)
    usable, dropped = [], []
    for phase in condensed_phases(path, elements):
        try:
            instantiate_models(db, comps, [phase])
            usable.append(phase)
        except (ValueError, KeyError):
            dropped.append(phase)
    return usable, dropped


def one_row(system: str, path: Path, digest: str) -> dict:
    from mixcalphad.calphad.liquidus import LiquidusCalculator
    from mixcalphad.chem.binaries import parse_system
    from mixcalphad.chem.elements import element_property
    from mixcalphad.errors import TDBError

    a, b = parse_system(system)
    row = dict.fromkeys(COLUMNS, "")
    row.update(system=system, x_B=0.5, file=path.name, file_sha256=digest, method=method())
    try:
        t_melt = float(np.max(element_property([a, b], "T_melt_K")))
        row["T_melt_max_K"] = round(t_melt, 1)
    except Exception as exc:  # noqa: BLE001 - recorded as the reason
        row["note"] = f"no melting point: {exc}"
        return row
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                calc = LiquidusCalculator(path, [a, b], phases=condensed_phases(path, [a, b]))
            except TDBError:  # a phase pycalphad cannot model with these components: drop it, say so
                usable, dropped = buildable_phases(path, [a, b])
                calc = LiquidusCalculator(path, [a, b], phases=usable)
                row["note"] = f"phases pycalphad cannot model for {system}, left out: {'+'.join(dropped)}"
            row.update(n_phases=len(calc.phases), phases="+".join(calc.phases))
            t_max = min(t_melt + ABOVE_MELT_K, T_CAP_K)
            res = calc.compute([0.5], T_min=T_MIN_K, T_max=t_max, step=STEP_K, tol=TOL_K, progress=False)
    except Exception as exc:  # noqa: BLE001 - recorded as the reason
        row["note"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
        return row
    T, note = float(res.T_K[0]), res.note[0]
    if np.isfinite(T):
        row.update(liquidus_K=round(T, 1), above_melting_K=round(T - t_melt, 1), primary_phases=res.primary[0])
    elif note.startswith("not fully liquid"):
        row.update(liquidus_K=round(t_max, 1), above_melting_K=round(t_max - t_melt, 1), bound="lower",
                   note="; ".join(filter(None, [row["note"], note])))
    else:
        row["note"] = "; ".join(filter(None, [row["note"], note]))
    return row


def calibrate() -> int:
    """Print the calibration of the unknown-liquidus rule (see the module docstring)."""
    from mixcalphad.acquisition.feasibility import UNDERCOOLING_TOLERANCE_K, assessed_liquidus
    from mixcalphad.aimd.protocol import run_temperature
    from mixcalphad.chem.binaries import parse_system
    from mixcalphad.chem.miedema import miedema_pairs

    table = assessed_liquidus().reset_index()
    pairs = [parse_system(s) for s in table["system"]]
    table["T_run_K"] = [run_temperature(a, b).T_K for a, b in pairs]
    table["excess_K"] = table["liquidus_K"] - table["T_run_K"]
    table["miedema_kJ"] = miedema_pairs([a for a, _ in pairs], [b for _, b in pairs], np.full(len(pairs), 0.5)) / 1000
    table = table.sort_values("excess_K", ascending=False)
    with pd.option_context("display.width", 200, "display.max_rows", 500):
        print(table[["system", "liquidus_K", "T_run_K", "excess_K", "miedema_kJ", "n_files", "spread_K"]]
              .to_string(index=False, float_format=lambda v: f"{v:.0f}"))
    hot = table[table["excess_K"] > UNDERCOOLING_TOLERANCE_K]
    print(f"\n{len(table)} assessed binaries; {len(hot)} with the equimolar liquidus more than "
          f"{UNDERCOOLING_TOLERANCE_K:.0f} K above the protocol's T_run: {', '.join(hot['system'])}")
    if len(hot):
        worst = hot.loc[hot["miedema_kJ"].idxmax()]
        print(f"least negative Miedema ΔH_mix(0.5) among them: {worst['miedema_kJ']:.1f} kJ/mol ({worst['system']})")
        cold = table[table["excess_K"] <= UNDERCOOLING_TOLERANCE_K]
        caught = (cold["miedema_kJ"] <= worst["miedema_kJ"]).sum()
        print(f"binaries at or below that value whose liquidus is not above T_run + {UNDERCOOLING_TOLERANCE_K:.0f} K "
              f"(false alarms): {caught} of {len(cold)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command line of this script."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--only", nargs="*", default=None, help="compute only these systems (e.g. AL-NI)")
    parser.add_argument("--calibrate", action="store_true", help="print the calibration of the unknown-liquidus rule")
    return parser


def main(argv=None) -> int:
    from mixcalphad._io import write_text
    from mixcalphad.data.harvest import default_corpus_paths

    args = build_parser().parse_args(argv)
    if args.calibrate:
        return calibrate()
    logging.basicConfig(level=logging.WARNING)
    pairs = harvested_pairs(default_corpus_paths())
    if args.only:
        from mixcalphad.chem.binaries import parse_system, system_name

        wanted = {system_name(*parse_system(s)) for s in args.only}
        pairs = [p for p in pairs if p[0] in wanted]
    rows = []
    for system, path, digest in pairs:
        t0 = time.perf_counter()
        rows.append(one_row(system, path, digest))
        r = rows[-1]
        print(f"{system:7s} {path.name:28s} {r['liquidus_K']!s:>8s} {r['primary_phases'] or r['note']}"
              f"  ({time.perf_counter() - t0:.1f} s)", flush=True)
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    buf = io.StringIO()
    frame.to_csv(buf, index=False, lineterminator="\n")
    write_text(args.out, buf.getvalue())
    print(f"wrote {args.out}: {frame['liquidus_K'].ne('').sum()} of {len(frame)} rows with a liquidus")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
