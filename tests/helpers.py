"""Helpers shared by test modules of different layers: the command line run through its real entry
point, and the module that writes synthetic VASP outputs (``tests/data/aimd/make_fixtures.py``)."""
import importlib.util
import sys
from pathlib import Path

AIMD_FIXTURES = Path(__file__).parent / "data" / "aimd" / "make_fixtures.py"


def run_cli(argv) -> int:
    """Run ``mixcalphad ARGV`` through the console script's entry point :func:`mixcalphad.cli.main`.

    Returns the exit status the shell would see (0 done, 2 bad input); what the command printed is
    left in pytest's ``capsys`` (results on stdout, ``error: …`` on stderr).
    """
    from mixcalphad.cli import main

    try:
        return main([str(a) for a in argv])
    except SystemExit as exc:  # as the interpreter maps it: None → 0, a message → 1
        return exc.code if isinstance(exc.code, int) else int(exc.code is not None)


def load_fixtures():
    """The synthetic-VASP fixture module (designed energies and pressures), imported once per session."""
    name = "mixcalphad_aimd_fixtures"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, AIMD_FIXTURES)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # before exec: its dataclasses look their module up there
        spec.loader.exec_module(module)
    return sys.modules[name]
