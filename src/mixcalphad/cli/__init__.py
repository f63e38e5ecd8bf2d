"""The ``mixcalphad`` command: thin handlers over the library, imported lazily so ``--help`` is fast.

Each command group lives in its own module with a ``register(subparsers)`` function. Every command
that reports numbers takes ``--json`` and then prints one JSON document on stdout. Errors that come
from bad input print one line ``error: …`` and exit with status 2; so do the operating system's
errors (a missing folder, a permission refused, a full disk), naming the path. Files are written
atomically (:mod:`mixcalphad._io`), so such an error leaves nothing half-written.
"""
from __future__ import annotations

import argparse
import logging
import sys

from mixcalphad.cli import aimd as aimd_commands
from mixcalphad.cli import acquire, calphad, campaign, data, liquidus, model
from mixcalphad.cli import espei as espei_commands


def build_parser() -> argparse.ArgumentParser:
    """The full ``mixcalphad`` argument parser."""
    from mixcalphad import __version__

    parser = argparse.ArgumentParser(
        prog="mixcalphad",
        description="Enthalpy of mixing of binary liquids for Calphad: data, Miedema + ML predictions with σ, "
                    "Redlich-Kister LIQUID parameters for pycalphad and ESPEI.")
    parser.add_argument("--version", action="version", version=f"mixcalphad {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    sub = parser.add_subparsers(dest="command", required=True)
    acquire.register(sub)
    campaign.register(sub)
    data.register(sub)
    model.register(sub)
    liquidus.register(sub)
    calphad.register(sub)
    aimd_commands.register(sub)
    espei_commands.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status (2 for bad input, with a one-line
    message on stderr — argparse's usage errors included)."""
    from mixcalphad.errors import MixcalphadError

    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # usage errors, --help, --version
        return exc.code if isinstance(exc.code, int) else 2
    logging.basicConfig(level=(logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)],
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except MixcalphadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {os_error_message(exc)}", file=sys.stderr)
        return 2


def os_error_message(exc: OSError) -> str:
    """One line for an operating-system error: the path(s) it concerns and the reason.

    >>> os_error_message(FileNotFoundError(2, "No such file or directory", "/proc/x"))
    '/proc/x: No such file or directory'
    """
    paths = " -> ".join(str(p) for p in (exc.filename, exc.filename2) if p is not None)
    reason = exc.strerror or str(exc)
    return f"{paths}: {reason}" if paths else reason


if __name__ == "__main__":
    sys.exit(main())
