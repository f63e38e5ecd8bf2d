"""Helpers shared by the command handlers: composition grids, JSON and table output, common options."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def parse_grid(text: str) -> np.ndarray:
    """``"0.5"``, ``"0.1,0.5,0.9"`` or ``"start:stop:step"`` (stop included) as mole fractions."""
    try:
        if ":" in text:
            start, stop, step = (float(v) for v in text.split(":"))
            if step <= 0:
                raise ValueError
            return np.round(np.arange(start, stop + step / 2, step), 10)
        return np.array([float(v) for v in text.split(",")])
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"cannot read compositions from {text!r}: use 0.5, 0.1,0.5,0.9 or 0.1:0.9:0.1") from None


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


def open_store(args):
    """The :class:`~mixcalphad.data.store.Store` named by ``--store``."""
    from mixcalphad.data.store import Store

    return Store(args.store)


def add_store_option(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``--store PATH`` (default: ``$MIXCALPHAD_STORE`` or ``~/.mixcalphad/store.json``)."""
    parser.add_argument("--store", default=None,
                        help="store file (default: $MIXCALPHAD_STORE or ~/.mixcalphad/store.json)")
    return parser


def add_json_option(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``--json``: print one machine-readable JSON document on stdout."""
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON on stdout")
    return parser
