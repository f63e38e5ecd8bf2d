"""Exceptions of the AIMD subpackage.

All are :class:`~mixcalphad.errors.MixcalphadError` subclasses, so the command line prints them as
one line; each names the file (and line or MD step) or the setting that is at fault.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import MixcalphadError


class AIMDError(MixcalphadError):
    """Base class of the AIMD errors."""


class AIMDParseError(AIMDError, ValueError):
    """A VASP or run file that cannot be read (names the file and, where known, the line or step)."""

    def __init__(self, path: str | Path, message: str, *, line: int | None = None,
                 step: int | None = None):
        self.path, self.line, self.step = Path(path), line, step
        where = f"{self.path}"
        if line is not None:
            where += f", line {line}"
        if step is not None:
            where += f", MD step {step}"
        super().__init__(f"{where}: {message}")


class MissingRunFilesError(AIMDError, FileNotFoundError):
    """A run folder lacks the files an analysis needs (names the folder and what was looked for)."""


class SettingsMismatchError(AIMDError, ValueError):
    """Runs that must share every non-composition setting do not (names the runs and fields)."""


class PressureWindowError(AIMDError, ValueError):
    """A run's mean pressure lies outside the accepted window where a caller demanded it."""


class ProtocolError(AIMDError, ValueError):
    """A run plan, protocol option or element that the protocol cannot handle."""


class IngestError(AIMDError):
    """A runs folder that cannot be ingested (no manifest, inconsistent manifest…)."""


class OptionalDependencyError(AIMDError, ImportError):
    """An optional package (atomate2/jobflow, chgnet, sevenn) is needed but not installed."""
