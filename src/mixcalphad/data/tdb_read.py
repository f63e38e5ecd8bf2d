"""The one TDB reader and the one rule for a usable binary liquid.

Every module that reads a TDB file (the harvest, ``fill``, the liquidus) goes through
:func:`read_database`, and every module that needs a substitutional binary liquid asks
:func:`liquid_problem` whether a phase is one.

Reading
-------
A source is a path, TDB text or the file's bytes. Bytes are decoded as UTF-8, else Latin-1 (old
TDB files are often Latin-1); a file with NUL bytes is refused as binary. Line ends are normalised
(pycalphad's parser chokes on ``\\r``). pycalphad's parser warnings go to the DEBUG log. A file
pycalphad cannot parse raises :class:`~mixcalphad.errors.TDBError` naming the file and, for a
syntax error, the line and column, never the file's text (a wrong file — a password file, a CSV —
is not echoed back); other parser reasons are quoted with non-printable characters replaced and cut
to :data:`MAX_MESSAGE_CHARS`, so a wrong file never prints binary garbage to a terminal.

The usable liquid
-----------------
A phase is a usable *binary substitutional liquid* when it exists, has one sublattice, is not an
ionic-liquid model, and its constituents (``VA`` aside) are pure elements: no charged species
(``CU+2``), no associates or molecules (``ALO``, ``CU2S``, ``O2``). ``VA`` is tolerated: a binary
model is built from its two elements only, so ``VA`` never enters it.
"""
from __future__ import annotations

import hashlib
import logging
import os
import warnings
from pathlib import Path

from pycalphad import Database
from tinydb import where

from mixcalphad.chem.binaries import sorted_pair
from mixcalphad.errors import TDBError

logger = logging.getLogger(__name__)

#: The phase name mixcalphad reads and writes.
LIQUID = "LIQUID"
#: Longest parser message quoted in a :class:`TDBError`, characters.
MAX_MESSAGE_CHARS = 300
#: Parameter types that describe an interaction (``L``, and the old-style ``G`` of two constituents).
INTERACTION_TYPES = ("L", "G")


def read_bytes(path: str | os.PathLike) -> bytes:
    """The bytes of a TDB file.

    Raises
    ------
    TDBError
        The file does not exist or cannot be read (names the file and the reason).
    """
    path = Path(path)
    if not path.exists():
        raise TDBError(f"{path}: no such TDB file")
    if path.is_dir():
        raise TDBError(f"{path}: is a folder, not a TDB file")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise TDBError(f"{path}: cannot read: {exc.strerror or exc}") from None


def checksum(data: bytes) -> str:
    """``"sha256:<64 hex digits>"`` of a file's bytes: the identity of its content."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def decode(data: bytes, *, label: str = "TDB") -> str:
    """Text of a TDB file's bytes: UTF-8, else Latin-1, line ends normalised to ``\\n``.

    Raises
    ------
    TDBError
        The bytes hold NUL characters (a binary file, not TDB text).
    """
    if b"\x00" in data:
        raise TDBError(f"{label}: not a TDB text file (binary content)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_database(source, *, label: str | None = None) -> Database:
    """Parse a TDB file or TDB text with pycalphad.

    Parameters
    ----------
    source : str, os.PathLike, bytes or pycalphad.Database
        A path; TDB text (a ``str`` holding a newline or ``!`` is text, any other ``str`` a path);
        a file's bytes; or a Database, returned as is.
    label : str, optional
        The name errors use (default: the path, or ``"TDB text"``).

    Returns
    -------
    pycalphad.Database

    Raises
    ------
    TDBError
        The file is missing, unreadable, binary, or pycalphad cannot parse it; the message names
        the file and the reason, cleaned of non-printable characters.

    Examples
    --------
    >>> db = read_database("ELEMENT AL FCC_A1 26.98 0 0 !\\nPHASE LIQUID % 1 1 !\\nCONSTITUENT LIQUID :AL: !")
    >>> liquid_problem(db) is None
    True
    """
    if isinstance(source, Database):
        return source
    if isinstance(source, (bytes, bytearray)):
        label = label or "TDB data"
        text = decode(bytes(source), label=label)
    elif isinstance(source, str) and ("\n" in source or "!" in source):
        label, text = label or "TDB text", source.replace("\r\n", "\n").replace("\r", "\n")
    else:
        label = label or str(source)
        text = decode(read_bytes(source), label=label)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            db = Database.from_string(text, fmt="tdb")
        except Exception as exc:  # pycalphad raises ParseException, ValueError, KeyError, …
            raise TDBError(f"{label}: pycalphad cannot parse it: {parse_failure(exc)}") from None
    for w in caught:
        logger.debug("%s: %s", label, clean_message(w.message))
    return db


def parse_failure(exc: Exception) -> str:
    """Why pycalphad refused a TDB, without the file's text: the line and column of a syntax error
    (pyparsing's ``ParseException``, whose message quotes the offending statement), else the
    exception's type and cleaned message.

    >>> from pycalphad import Database
    >>> try:
    ...     Database.from_string("ELEMENT AL FCC_A1 27 0 0 !\\nmy secret text\\n", fmt="tdb")
    ... except Exception as exc:
    ...     parse_failure(exc)
    'invalid TDB syntax at line 2, column 3'
    """
    if type(exc).__name__ == "ParseException":
        return f"invalid TDB syntax at line {exc.lineno}, column {exc.col}"
    return f"{type(exc).__name__}: {clean_message(exc)}"


def clean_message(message, limit: int = MAX_MESSAGE_CHARS) -> str:
    """One line of printable text from a parser message, at most ``limit`` characters."""
    text = " ".join(str(message).split())
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def liquid_phases(db: Database) -> list[str]:
    """``["LIQUID"]`` if the database has it, else its phases whose name contains ``LIQ``, sorted.

    ``LIQUID_RENB`` (``nbre_liu.tdb``), ``IONIC_LIQ``, ``I_LIQUID``… are candidates only: ask
    :func:`liquid_problem` whether each is usable.
    """
    if LIQUID in db.phases:
        return [LIQUID]
    return sorted(name for name in db.phases if "LIQ" in name.upper())


def resolve_liquid(db: Database, liquid: str | None = None) -> str:
    """The name of the database's usable binary substitutional liquid.

    ``liquid`` given: that phase, checked by :func:`liquid_problem`. Otherwise ``LIQUID`` when the
    database has it, else its one usable liquid-like phase (``LIQUID_RENB`` in ``nbre_liu.tdb``).

    Raises
    ------
    TDBError
        The named phase is not usable, there is no usable liquid-like phase, or there are several
        (name one).
    """
    if liquid is not None:
        problem = liquid_problem(db, liquid.upper())
        if problem:
            raise TDBError(problem)
        return liquid.upper()
    candidates = liquid_phases(db)
    usable = [p for p in candidates if liquid_problem(db, p) is None]
    if len(usable) == 1:
        return usable[0]
    if not usable:
        reasons = "; ".join(liquid_problem(db, p) for p in candidates) or "no other phase name contains LIQ"
        raise TDBError(f"no phase named {LIQUID} and no usable substitutional liquid ({reasons})")
    raise TDBError(f"the database has several liquid-like phases ({', '.join(usable)}): name the liquid")


def liquid_problem(db: Database, phase: str = LIQUID) -> str | None:
    """Why ``phase`` is not a usable binary substitutional liquid, or None when it is.

    The rule is in the module docstring: one sublattice, not an ionic-liquid model, constituents
    (``VA`` aside) pure elements, neither charged nor associates.

    Returns
    -------
    str or None
        A short reason (``"LIQUID has 2 sublattices (ionic or sublattice liquid)…"``), or None.
    """
    if phase not in db.phases:
        others = [p for p in liquid_phases(db) if p != phase]
        hint = f" (liquid-like phases: {', '.join(others)})" if others else ""
        return f"no phase named {phase}{hint}"
    ph = db.phases[phase]
    if len(ph.sublattices) != 1:
        return (f"{phase} has {len(ph.sublattices)} sublattices (ionic or sublattice liquid), "
                "not a one-sublattice substitutional liquid")
    if any(str(k).startswith("ionic_liquid") for k in ph.model_hints):
        return f"{phase} is an ionic liquid model"
    species = [s for s in ph.constituents[0] if s.name != "VA"]
    charged = sorted(s.name for s in species if s.charge != 0)
    if charged:
        return f"{phase} holds charged species ({', '.join(charged)}): an ionic liquid"
    molecular = sorted(s.name for s in species if list(s.constituents.values()) != [1])
    if molecular:
        return f"{phase} holds associates or molecular species ({', '.join(molecular)})"
    return None


def liquid_elements(db: Database, phase: str = LIQUID) -> list[str]:
    """Sorted pure-element constituents of a usable liquid (``VA`` left out).

    Raises
    ------
    TDBError
        The phase is not a usable binary substitutional liquid (the reason of :func:`liquid_problem`).
    """
    problem = liquid_problem(db, phase)
    if problem:
        raise TDBError(problem)
    return sorted(s.name for s in db.phases[phase].constituents[0] if s.name != "VA")


def interaction_pairs(db: Database, phase: str = LIQUID) -> list[tuple[str, str]]:
    """Sorted element pairs with at least one binary ``L``/``G`` parameter in one sublattice of ``phase``.

    Ternary and higher interactions, and interactions with ``VA``, are not binaries of two elements
    and are left out.
    """
    pairs = set()
    for row in db.search((where("phase_name") == phase) & where("parameter_type").one_of(INTERACTION_TYPES)):
        array = row["constituent_array"]
        names = {s.name for s in array[0]} if len(array) == 1 and len(array[0]) == 2 else set()
        if len(names) == 2 and "VA" not in names:
            pairs.add(sorted_pair(*names))
    return sorted(pairs)


def phase_parameters(db: Database, phase: str, constituents: tuple[str, ...] | None = None) -> list[dict]:
    """Parameter rows of ``phase`` (pycalphad's search), optionally only those whose one sublattice
    holds exactly ``constituents``."""
    rows = db.search(where("phase_name") == phase)
    if constituents is None:
        return rows
    wanted = sorted(constituents)
    return [r for r in rows
            if len(r["constituent_array"]) == 1 and sorted(s.name for s in r["constituent_array"][0]) == wanted]
