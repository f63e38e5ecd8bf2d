"""Small helpers shared by the acquisition modules: thread limits, seeding, grids, pair arrays."""
from __future__ import annotations

import contextlib
from typing import Iterable, Sequence

import numpy as np

from mixcalphad.chem.binaries import check_elements, parse_system
from mixcalphad.errors import AcquisitionError

#: Composition grid (mole fraction of the second element of the sorted pair) of the max-σ score.
DEFAULT_GRID = tuple(np.round(np.arange(1, 10) / 10, 10))


@contextlib.contextmanager
def numpy_global_seed(seed: int):
    """PHYSBO draws from numpy's global generator: seed it for the block, then restore it."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def one_blas_thread():
    """Limit BLAS to one thread: the small matrices here only pay synchronisation for more."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def check_grid(grid) -> np.ndarray:
    """Mole fractions strictly between 0 and 1, as a float array.

    Raises
    ------
    AcquisitionError
        An empty grid or a fraction outside (0, 1).
    """
    grid = np.asarray(grid, dtype=float).reshape(-1)
    if grid.size == 0 or np.any(~np.isfinite(grid)) or np.any((grid <= 0) | (grid >= 1)):
        raise AcquisitionError(f"the composition grid needs mole fractions strictly between 0 and 1, got {grid}")
    return grid


def split_systems(systems: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Arrays of first and second elements of sorted-pair names (``"AL-NI"`` → ``AL``, ``NI``)."""
    pairs = [parse_system(s) for s in systems]
    return (np.array([p[0] for p in pairs], dtype=object), np.array([p[1] for p in pairs], dtype=object))


def resolve_elements(elements: Iterable[str] | None = None) -> list[str]:
    """Sorted, validated element symbols (default: every supported element).

    Raises
    ------
    UnknownElementError
        A symbol the element table does not know.
    UnsupportedElementError
        A known element without the properties the features and Miedema's model need.
    """
    from mixcalphad.chem.elements import supported_elements

    if elements is None:
        return list(supported_elements())
    return check_elements(elements, supported=True, needed_by="the acquisition plan's features")


def known_elements(symbols: Iterable[str]) -> list[str]:
    """Sorted symbols, each checked against the element table (support not required)."""
    return check_elements(symbols)
