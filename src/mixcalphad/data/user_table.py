"""The user's own ΔH_mix values from a CSV file, in the store's schema.

A file has one row per value with the columns (units in the names; ``x_B`` is the mole fraction of
the second element as written)::

    system,x_B,T_K,HM_MIX_J,sigma_J,source
    AL-NI,0.5,1873,-49000,1500,calorimetry 2026

``system`` may instead be two columns ``A`` and ``B``. ``sigma_J`` (J/mol) may be empty or absent
(then the kind's default, :data:`~mixcalphad.data.schema.DEFAULT_SIGMA_J`); ``source`` defaults to
the file name, ``reference`` to the file's path, ``kind`` to ``user`` (any observed kind is
accepted: ``aimd``, ``md``, ``mlip``…), ``GE_J``/``SE_J`` may be given. Every row is validated
(:func:`~mixcalphad.data.schema.validate_observations`); a bad one is named by its line in the file.

>>> rows = read_user_table("my_dhmix.csv")          # doctest: +SKIP
>>> Store().add_observations(rows)                  # doctest: +SKIP
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from mixcalphad.data.schema import OBSERVED_KINDS, validate_observations
from mixcalphad.errors import DatasetError

#: Columns a user table must have (besides ``system`` or ``A`` and ``B``).
REQUIRED_COLUMNS = ("x_B", "T_K", "HM_MIX_J")
#: ``collection`` of the rows read from a user table.
USER_COLLECTION = "user"


def read_user_table(path, *, kind: str = "user", source: str | None = None) -> pd.DataFrame:
    """Observations from a user's CSV file (see the module docstring), validated.

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file.
    kind : str
        Kind of every row that has no ``kind`` column (default ``user``); one of
        :data:`~mixcalphad.data.schema.OBSERVED_KINDS`.
    source : str, optional
        Source of rows without one (default: the file name).

    Raises
    ------
    DatasetError
        The file cannot be read as CSV, a required column is missing, or a row is bad (its line
        number in the file is given).
    """
    path = Path(path)
    if kind not in OBSERVED_KINDS:
        raise DatasetError(f"kind {kind!r} is not a kind of observation; use one of {list(OBSERVED_KINDS)}")
    try:
        table = pd.read_csv(path, skipinitialspace=True, comment="#")
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise DatasetError(f"{path}: not a readable CSV table ({type(exc).__name__}: "
                           f"{str(exc).splitlines()[0][:120]})") from None
    table.columns = [str(c).strip() for c in table.columns]
    if "system" not in table and {"A", "B"} <= set(table.columns):
        table["system"] = table["A"].astype(str).str.strip() + "-" + table["B"].astype(str).str.strip()
    missing = [c for c in ("system", *REQUIRED_COLUMNS) if c not in table]
    if missing:
        raise DatasetError(f"{path}: missing column(s) {missing} (found {list(table.columns)[:12]}); a user table "
                           "needs system (or A and B), x_B, T_K, HM_MIX_J and optionally sigma_J, source")
    if not len(table):
        raise DatasetError(f"{path}: no rows")
    defaults = {"sigma_J": float("nan"), "kind": kind, "source": source or path.name, "reference": str(path),
                "collection": USER_COLLECTION}
    for column, value in defaults.items():
        if column not in table:
            table[column] = value
        elif table[column].dtype == object:
            table[column] = table[column].where(table[column].notna() & (table[column].astype(str).str.strip() != ""),
                                                value)
    table.index = pd.RangeIndex(2, len(table) + 2, name="line")  # line 1 is the header
    return validate_observations(table, label=str(path))
