"""Exceptions raised by mixcalphad.

Every error a user can trigger with bad input is a subclass of :class:`MixcalphadError` and names
the offending element, file, line or record, so that the command line can print it without a
traceback.
"""
from __future__ import annotations

from pathlib import Path


class MixcalphadError(Exception):
    """Base class of every error mixcalphad raises on purpose."""


class UnknownElementError(MixcalphadError, KeyError):
    """An element symbol that the element table does not know."""

    def __init__(self, symbol: str, known: "list[str] | None" = None):
        self.symbol = symbol
        hint = f" (known: {', '.join(known)})" if known else ""
        super().__init__(f"unknown element {symbol!r}{hint}")

    def __str__(self) -> str:  # KeyError would add quotes around the message
        return self.args[0]


class UnsupportedElementError(MixcalphadError, ValueError):
    """A known element that mixcalphad's model cannot describe (no Miedema or SGTE fusion data)."""

    def __init__(self, symbol: str, needed_by: str = ""):
        self.symbol = symbol
        who = f" (needed by {needed_by})" if needed_by else ""
        super().__init__(f"element {symbol} is not supported: it lacks the Miedema parameters or SGTE "
                         f"fusion data the model needs{who}; see 'mixcalphad elements'")


class MissingPropertyError(MixcalphadError, ValueError):
    """An element lacks a property that a calculation needs."""

    def __init__(self, symbol: str, prop: str, needed_by: str = ""):
        self.symbol, self.prop = symbol, prop
        who = f" needed by {needed_by}" if needed_by else ""
        super().__init__(f"element {symbol} has no value for {prop!r}{who}")


class TDBError(MixcalphadError, ValueError):
    """A TDB file that cannot be read or used (names the file and, where known, the reason)."""


class StoreError(MixcalphadError):
    """The observation store cannot be read or written (names the file)."""


class StoreConflictError(StoreError):
    """An insert would silently change a value already stored under the same key."""


class DatasetError(MixcalphadError, ValueError):
    """A data table or dataset record is malformed (names the file, row or column)."""


class OutputExistsError(MixcalphadError, FileExistsError):
    """An output file exists and overwriting it was not asked for."""


class CompositionError(MixcalphadError, ValueError):
    """A mole fraction outside [0, 1], or a binary made of one element twice."""


class EspeiInputError(MixcalphadError, ValueError):
    """A phase-model or input structure for ESPEI that ESPEI's own validation refuses."""


class EvaluationError(MixcalphadError, ValueError):
    """Options a model evaluation cannot use: fewer than 2 folds, more folds than binary systems."""


# --- AIMD ---------------------------------------------------------------------------------------
class AcquisitionError(MixcalphadError, ValueError):
    """Bad input to the acquisition plan: too few elements or binaries, n larger than the pool, a bad option."""


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
