"""Naming of binary systems: the sorted pair ``("AL", "CU")`` printed as ``AL-CU``.

The Redlich–Kister sign convention and every table in mixcalphad use the alphabetically sorted
pair (A, B); ``x_B`` is the mole fraction of the second element of that pair.
"""
from __future__ import annotations

import numpy as np

from mixcalphad.errors import CompositionError, MixcalphadError


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


def parse_system(name: str) -> tuple[str, str]:
    """Sorted pair from a system label such as ``"Ir-Al"`` or ``"AL-IR"``."""
    parts = [p for p in str(name).replace("_", "-").split("-") if p.strip()]
    if len(parts) != 2:
        raise MixcalphadError(f"cannot read a binary system from {name!r}: expected 'A-B'")
    return sorted_pair(*parts)


def x_sorted(a: str, b: str, x_b) -> np.ndarray:
    """Mole fraction of the second element of the *sorted* pair, given x of ``b`` in (a, b).

    >>> float(x_sorted("CU", "AL", 0.2))   # 20 % Al in Cu-Al is x_CU = 0.8 in AL-CU
    0.8
    """
    x_b = np.asarray(x_b, dtype=float)
    return x_b if normalize_symbol(a) < normalize_symbol(b) else 1.0 - x_b
