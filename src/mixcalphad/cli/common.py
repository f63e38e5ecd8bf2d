"""Helpers shared by the command handlers: composition grids, JSON and table output, common options."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def parse_grid(text: str) -> np.ndarray:
    """``"0.5"``, ``"0.1,0.5,0.9"`` or ``"start:stop:step"`` (stop included) as mole fractions.

    Refuses an empty grid (e.g. ``0.9:0.1:0.1``) and fractions outside [0, 1].
    """
    usage = "use 0.5, 0.1,0.5,0.9 or 0.1:0.9:0.1"
    try:
        if ":" in text:
            start, stop, step = (float(v) for v in text.split(":"))
            if step <= 0:
                raise ValueError
            grid = np.round(np.arange(start, stop + step / 2, step), 10)
        else:
            grid = np.array([float(v) for v in text.split(",")])
    except ValueError:
        raise argparse.ArgumentTypeError(f"cannot read compositions from {text!r}: {usage}") from None
    if grid.size == 0:
        raise argparse.ArgumentTypeError(f"{text!r} gives no composition (start > stop?): {usage}")
    if not np.all(np.isfinite(grid)) or grid.min() < 0 or grid.max() > 1:
        raise argparse.ArgumentTypeError(f"{text!r}: mole fractions must lie in [0, 1]")
    return grid


def print_json(payload) -> None:
    """One JSON document on stdout (numpy values and paths converted)."""
    json.dump(payload, sys.stdout, indent=2, default=json_default)
    sys.stdout.write("\n")


def json_default(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def print_table(frame, floatfmt: str = "{:.2f}") -> None:
    """A DataFrame as a plain-text table without its index."""
    import pandas as pd

    with pd.option_context("display.max_rows", 500, "display.width", 160):
        print(frame.to_string(index=False, float_format=lambda v: floatfmt.format(v)))


def open_store(args, *, announce: bool = True):
    """The :class:`~mixcalphad.data.store.Store` a command uses — the one rule for every command.

    The store is ``--store PATH`` when given, else ``$MIXCALPHAD_STORE``, else
    ``~/.mixcalphad/store.json``. A store that does not exist yet is first filled with the embedded
    default corpus (the same data ``mixcalphad data build`` and ``mixcalphad run`` put there), so
    every command — ``train``, ``acquire``, ``write-tdb``, ``run``… — reads the same observations.
    With ``announce`` the path and the number of observations go to stderr.
    """
    from mixcalphad.data.corpus import build_dataset, build_store
    from mixcalphad.data.store import Store

    store = Store(getattr(args, "store", None))
    created = not store.path.exists()
    if created:
        print(f"store: {store.path} does not exist yet; filling it with the default corpus "
              "(pycalphad TDBs + assessed tables + AIMD)…", file=sys.stderr)
        build_store(store, build_dataset(progress=None))
    if announce:
        print(f"store: {store.path} ({len(store.observations())} observations)", file=sys.stderr)
    return store


def check_outputs(*paths, force: bool) -> None:
    """Refuse, before any work, to replace an existing output without ``--force`` (``None``: not asked for).

    Raises
    ------
    OutputExistsError
        One of ``paths`` exists and ``force`` is false.
    """
    from mixcalphad.errors import OutputExistsError

    for path in paths:
        if path is not None and Path(path).exists() and not force:
            raise OutputExistsError(f"{path} exists; pass --force to replace it")


def add_store_option(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``--store PATH`` (default: ``$MIXCALPHAD_STORE`` or ``~/.mixcalphad/store.json``)."""
    parser.add_argument("--store", default=None,
                        help="store file (default: $MIXCALPHAD_STORE or ~/.mixcalphad/store.json; "
                             "created from the default corpus when missing)")
    return parser


def add_json_option(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``--json``: print one machine-readable JSON document on stdout."""
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON on stdout")
    return parser
