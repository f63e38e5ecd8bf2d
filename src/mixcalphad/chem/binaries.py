"""Naming of binary systems: the sorted pair ``("AL", "CU")`` printed as ``AL-CU``.

The Redlich–Kister sign convention and every table in mixcalphad use the alphabetically sorted
pair (A, B); ``x_B`` is the mole fraction of the second element of that pair. This module holds the
one orientation rule (:func:`orient`: a pair written in the other order flips ``x``), the one pair
enumeration (:func:`all_pairs`, :func:`binaries_of`) and the one element-set check
(:func:`check_elements`).
"""
from __future__ import annotations

import itertools
from typing import Iterable

import numpy as np

from mixcalphad.errors import CompositionError, MixcalphadError, UnknownElementError, UnsupportedElementError


def normalize_symbol(symbol: str) -> str:
    """Upper-case, stripped element symbol as pycalphad writes it (``"Cu " → "CU"``)."""
    if not isinstance(symbol, str) or not symbol.strip():
        raise MixcalphadError(f"element symbol must be a non-empty string, got {symbol!r}")
    return symbol.strip().upper()


def sorted_pair(a: str, b: str) -> tuple[str, str]:
    """The alphabetically sorted pair of two distinct element symbols, upper case."""
    a, b = normalize_symbol(a), normalize_symbol(b)
    if a == b:
        raise CompositionError(f"a binary needs two different elements, got {a} twice")
    return (a, b) if a < b else (b, a)


def system_name(a: str, b: str) -> str:
    """``"AL-CU"`` for any order of the two symbols."""
    return "-".join(sorted_pair(a, b))


def split_system(name: str) -> tuple[str, str]:
    """The two elements of a system label *in the order written* (``"Ni-Al" → ("NI", "AL")``).

    Raises
    ------
    MixcalphadError
        The label is not two element symbols joined by ``-`` (or ``_``).
    CompositionError
        Both symbols are the same element.
    """
    parts = [p for p in str(name).replace("_", "-").split("-") if p.strip()]
    if len(parts) != 2:
        raise MixcalphadError(f"cannot read a binary system from {name!r}: expected 'A-B'")
    a, b = normalize_symbol(parts[0]), normalize_symbol(parts[1])
    sorted_pair(a, b)  # refuses one element twice
    return a, b


def parse_system(name: str) -> tuple[str, str]:
    """Sorted pair from a system label such as ``"Ir-Al"`` or ``"AL-IR"``."""
    return sorted_pair(*split_system(name))


def x_sorted(a: str, b: str, x_B) -> np.ndarray:
    """Mole fraction of the second element of the *sorted* pair, given x of ``b`` in (a, b).

    >>> float(x_sorted("CU", "AL", 0.2))   # 20 % Al in Cu-Al is x_CU = 0.8 in AL-CU
    0.8
    """
    x_B = np.asarray(x_B, dtype=float)
    return x_B if normalize_symbol(a) < normalize_symbol(b) else 1.0 - x_B


def orient(system: str, x_B) -> tuple[str, np.ndarray]:
    """The canonical name of a system and ``x_B`` re-expressed for it.

    ``x_B`` is always the mole fraction of the second element *as named* in ``system``; the
    canonical system is the sorted pair, so a system written in reverse order flips ``x_B``.

    Parameters
    ----------
    system : str
        ``"NI-AL"``, ``"Al-Ni"``…
    x_B : float or array_like
        Mole fraction(s) of the second element of ``system`` as written.

    Returns
    -------
    name : str
        Sorted system name (``"AL-NI"``).
    x : numpy.ndarray
        Mole fraction(s) of the second element of the sorted pair.

    Examples
    --------
    >>> name, x = orient("NI-AL", 0.1)          # 10 % Al in Ni-Al
    >>> name, float(x)                          # is 90 % Ni in AL-NI
    ('AL-NI', 0.9)
    """
    a, b = split_system(system)
    return system_name(a, b), x_sorted(a, b, x_B)


def all_pairs(elements: Iterable[str]) -> list[tuple[str, str]]:
    """Every sorted pair of distinct elements of a set, in sorted order (symbols normalised).

    >>> all_pairs(["Cu", "al", "NI", "AL"])
    [('AL', 'CU'), ('AL', 'NI'), ('CU', 'NI')]
    """
    return list(itertools.combinations(sorted({normalize_symbol(e) for e in elements}), 2))


def binaries_of(elements: Iterable[str]) -> list[str]:
    """Every binary system name (``"AL-CU"``) of an element set, in sorted order."""
    return ["-".join(p) for p in all_pairs(elements)]


def check_elements(symbols: Iterable[str], *, supported: bool = False, minimum: int = 0,
                   needed_by: str = "") -> list[str]:
    """Sorted, distinct, upper-case symbols, each checked against the element table.

    Parameters
    ----------
    symbols : iterable of str
        Element symbols in any case; duplicates count once.
    supported : bool
        Also require the data mixcalphad's model needs (Miedema parameters, SGTE fusion data,
        group: :func:`mixcalphad.chem.elements.supported_elements`).
    minimum : int
        Fewest distinct elements accepted (2 for a set that must make a binary).
    needed_by : str
        What needs the elements, for the error messages.

    Raises
    ------
    UnknownElementError
        A symbol the element table does not know (``"XX"``).
    UnsupportedElementError
        With ``supported=True``, a known element the model cannot describe.
    MixcalphadError
        Fewer than ``minimum`` distinct elements.
    """
    from mixcalphad.chem.elements import element_table, supported_elements  # elements imports this module

    out = sorted({normalize_symbol(e) for e in ([symbols] if isinstance(symbols, str) else symbols)})
    known = element_table().index
    ok = supported_elements() if supported else None
    for el in out:
        if el not in known:
            raise UnknownElementError(el)
        if ok is not None and el not in ok:
            raise UnsupportedElementError(el, needed_by=needed_by)
    if len(out) < minimum:
        who = f"{needed_by} needs" if needed_by else "need"
        raise MixcalphadError(f"{who} at least {minimum} different elements, got {out or 'none'}")
    return out
