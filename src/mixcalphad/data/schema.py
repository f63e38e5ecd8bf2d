"""The observation schema: columns, the one vocabulary of source kinds, default σ, validation.

An *observation* is one ΔH_mix value of a binary liquid, in J/mol of atoms, at one temperature (K)
and one composition, with where it came from and, where the source gives them, the liquid's excess
Gibbs energy and excess entropy at the same point. Every table of observations in mixcalphad — the
store, the harvest of TDB files, the packaged tables, AIMD ingests, fits — uses these columns.

Rules checked by :func:`validate_observations`
----------------------------------------------
* ``system`` names two different elements of the element table (``XX-YY`` is refused with
  :class:`~mixcalphad.errors.UnknownElementError`); it is stored as the sorted pair and ``x_B``,
  given as the mole fraction of the second element *as named*, is re-expressed for that pair
  (``NI-AL`` at ``x_B = 0.1`` is ``AL-NI`` at ``x_B = 0.9``; :func:`mixcalphad.chem.binaries.orient`).
* ``0 ≤ x_B ≤ 1``; ``T_K`` finite and > 0; ``HM_MIX_J`` finite, and 0 (within
  :data:`PURE_TOLERANCE_J`) at ``x_B = 0`` or 1, where the liquid is a pure element.
* ``sigma_J`` is > 0 and finite, or NaN. NaN means "not given: use :data:`DEFAULT_SIGMA_J` of the
  kind" and is allowed for every kind that has a default; a ``predicted`` row must carry its σ.
  Zero, negative and infinite σ are refused: a fit weights a point by 1/σ².
* ``kind`` is one of :data:`KINDS`; ``source`` is a non-empty string.
* ``GE_J`` (excess Gibbs energy, J/mol of atoms: G_mix − R·T·(x_A ln x_A + x_B ln x_B)) and
  ``SE_J`` (excess entropy, J/(mol·K)) are each finite or NaN (unknown: AIMD, MD and most user
  rows give ΔH_mix only); both are 0 (within :data:`PURE_TOLERANCE_J`, J/mol for ``GE_J``) at
  ``x_B = 0`` or 1. Where both are given they must describe one liquid:
  ``|HM_MIX_J − GE_J − T_K·SE_J| ≤`` :data:`EXCESS_TOLERANCE_J` ``+`` :data:`EXCESS_RTOL` ``×``
  the largest of ``|HM_MIX_J|``, ``|GE_J|``, ``|T_K·SE_J|``. Where only one is given the other is
  *derived* from ΔH_mix = G_ex + T·S_ex (``SE_J = (HM_MIX_J − GE_J)/T_K`` or
  ``GE_J = HM_MIX_J − T_K·SE_J``), so a stored row has both or neither. They are scalars at the
  row's composition: a system given in reverse order flips ``x_B`` and leaves them as they are.

Optional columns (:data:`OPTIONAL_COLUMNS`) are added as empty when absent: ``caution`` (why a
value deserves a lower weight, e.g. "nitrogen liquid fitted for dilute N only"), ``checksum``
(``sha256:<hex>`` of the file a value was read from; TDB observations are keyed by it, so two
different files with one name never collide), and the excess quantities ``GE_J`` and ``SE_J``
(NaN when absent).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from mixcalphad.chem.binaries import check_elements, orient, split_system
from mixcalphad.errors import DatasetError, MixcalphadError, UnknownElementError

#: Columns every observation has, with units in their names (x_B: mole fraction of the second
#: element of the sorted pair; T_K: kelvin; HM_MIX_J and sigma_J: J/mol of atoms). ``kind`` is the
#: kind of source (:data:`KINDS`), ``source`` the file name or citation key shown to the user,
#: ``reference`` the full provenance and ``collection`` the named body of data it came with
#: (``pycalphad-tdbs``, ``assessed-extra``…).
OBSERVATION_COLUMNS = ("system", "x_B", "T_K", "HM_MIX_J", "sigma_J", "kind", "source", "reference",
                       "collection")
#: Excess quantities of the liquid at (x_B, T_K): G_ex in J/mol of atoms, S_ex in J/(mol·K); NaN if unknown.
EXCESS_COLUMNS = ("GE_J", "SE_J")
#: Columns an observation may have; absent ones are empty (None for text, NaN for
#: :data:`EXCESS_COLUMNS`). See the module docstring.
OPTIONAL_COLUMNS = ("caution", "checksum", *EXCESS_COLUMNS)
#: Every column of a stored observation.
STORED_COLUMNS = (*OBSERVATION_COLUMNS, *OPTIONAL_COLUMNS)
#: Columns of a flag (a qualitative observation about a system, e.g. ``immiscible``).
FLAG_COLUMNS = ("system", "flag", "T_K", "kind", "source", "reference", "collection")

#: ``kind`` of values computed by a model (never used as observations to train or fit on).
PREDICTED = "predicted"
#: Source kinds of measured or computed values: an assessment, ab initio MD, the user's own data,
#: classical MD (EMT) and MD with a machine-learned interatomic potential.
OBSERVED_KINDS = ("assessed", "aimd", "user", "md", "mlip")
#: The one vocabulary of source kinds.
KINDS = (*OBSERVED_KINDS, PREDICTED)
#: σ (J/mol of atoms) of an observation stored without one (``sigma_J`` NaN), by kind: the spread
#: of independent assessments of one binary, AIMD statistical + functional error, and the larger
#: error of classical or ML potentials. ``predicted`` has none: a prediction carries its own σ.
DEFAULT_SIGMA_J = {"assessed": 2000.0, "aimd": 3600.0, "user": 2000.0, "md": 5000.0, "mlip": 5000.0}
#: σ (J/(mol·K)) of an excess entropy stored without one, by kind. Measured, not chosen: the pooled
#: standard deviation of S_ex at x = 0.5, 1873 K between independent assessments of one binary in the
#: default corpus (``python scripts/measure_excess_entropy_spread.py``: 11 binaries harvested from
#: several of pycalphad's TDB files — AL-CU, AL-FE, AL-MG, AL-NI (3 files), AL-Y, CR-NB, CR-TI,
#: CU-MG, FE-NB, FE-TI, TI-V — 23 curves, 12 degrees of freedom: 2.76 J/(mol·K)); the same measure
#: of ΔH_mix gives 2018 J/mol, the ``assessed`` entry of :data:`DEFAULT_SIGMA_J`. Only assessments
#: give an excess entropy: AIMD, MD and MLIP runs give ΔH_mix alone, and nothing measures a user's.
DEFAULT_SIGMA_SE_J_K = {"assessed": 2.8}
#: |ΔH_mix| and |G_ex| (J/mol) accepted at x_B = 0 or 1, where the liquid is a pure element.
PURE_TOLERANCE_J = 1e-6
#: Absolute part (J/mol) of the tolerance on ΔH_mix = G_ex + T·S_ex of a row giving both.
EXCESS_TOLERANCE_J = 1.0
#: Relative part of that tolerance (float rounding of large values); tables rounded to 0.1 J in
#: GE_J and 1e-4 J/(mol·K) in SE_J agree to about 0.1 J/mol at 1873 K, well inside.
EXCESS_RTOL = 1e-6


def default_sigma(kind: str) -> float:
    """σ (J/mol of atoms) used for an observation of ``kind`` stored without one.

    Raises
    ------
    DatasetError
        ``kind`` has no default (``predicted``) or is not a kind at all.
    """
    if kind not in DEFAULT_SIGMA_J:
        raise DatasetError(f"kind {kind!r} has no default sigma_J (kinds with one: {list(DEFAULT_SIGMA_J)})")
    return DEFAULT_SIGMA_J[kind]


def validate_observations(frame: pd.DataFrame, *, label: str = "observations") -> pd.DataFrame:
    """Checked copy of an observation table: canonical systems, float columns, optional columns.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns :data:`OBSERVATION_COLUMNS` (others than :data:`STORED_COLUMNS` are dropped);
        ``x_B`` is the fraction of the second element of ``system`` as written.
    label : str
        What the table is (a file name…), for the error messages.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`STORED_COLUMNS`, ``system`` the sorted pair, ``x_B`` of its second element;
        ``GE_J`` and ``SE_J`` both given or both NaN (the missing one derived, see the module docstring).

    Raises
    ------
    DatasetError
        A missing column or a bad value; the message names the row (index label), column and value.
    UnknownElementError
        A system with an element the element table does not know (names the row).

    Examples
    --------
    >>> rows = pd.DataFrame({"system": ["NI-AL"], "x_B": [0.1], "T_K": [1873.0], "HM_MIX_J": [-9000.0],
    ...                      "sigma_J": [float("nan")], "kind": ["user"], "source": ["my-lab"],
    ...                      "reference": ["notebook 3"], "collection": ["mine"]})
    >>> out = validate_observations(rows)
    >>> out.loc[0, "system"], float(out.loc[0, "x_B"])
    ('AL-NI', 0.9)
    """
    missing = [c for c in OBSERVATION_COLUMNS if c not in frame.columns]
    if missing:
        raise DatasetError(f"{label}: missing column(s) {missing}; expected {list(OBSERVATION_COLUMNS)}")
    rows = frame.reindex(columns=list(STORED_COLUMNS)).copy()
    for col in ("x_B", "T_K", "HM_MIX_J", "sigma_J", *EXCESS_COLUMNS):
        rows[col] = _numeric(rows[col], col, label)
    _check_kinds(rows["kind"], label)
    bad_source = rows.index[[not (isinstance(s, str) and s.strip()) for s in rows["source"]]]
    if len(bad_source):
        _fail(label, bad_source[0], "source", rows.at[bad_source[0], "source"], "a non-empty name is needed")
    names, xs = _canonical(rows, label)
    rows["system"], rows["x_B"] = names, xs
    _check_ranges(rows, label)
    _check_excess(rows, label)
    for col in ("caution", "checksum"):
        rows[col] = [None if _blank(v) else str(v) for v in rows[col]]
    return rows


def validate_flags(frame: pd.DataFrame, *, label: str = "flags") -> pd.DataFrame:
    """Checked copy of a flag table (:data:`FLAG_COLUMNS`), systems as sorted pairs.

    Raises
    ------
    DatasetError, UnknownElementError
        As :func:`validate_observations`.
    """
    missing = [c for c in FLAG_COLUMNS if c not in frame.columns]
    if missing:
        raise DatasetError(f"{label}: missing column(s) {missing}; expected {list(FLAG_COLUMNS)}")
    rows = frame.loc[:, list(FLAG_COLUMNS)].copy()
    _check_kinds(rows["kind"], label)
    rows["system"], _ = _canonical(rows.assign(x_B=0.5), label)
    return rows


def _canonical(rows: pd.DataFrame, label: str) -> tuple[list[str], np.ndarray]:
    """Sorted system names and x_B of their second element; unknown elements refused."""
    names, xs = [], rows["x_B"].to_numpy(dtype=float).copy()
    checked: set[str] = set()
    for i, (idx, system) in enumerate(zip(rows.index, rows["system"])):
        try:
            elements = split_system(system)
            for el in (e for e in elements if e not in checked):
                check_elements([el])
                checked.add(el)
            name, x = orient(system, xs[i])
        except UnknownElementError as exc:
            exc.args = (f"{label}: row {idx!r}, column 'system' ({system!r}): {exc.args[0]}",)
            raise
        except MixcalphadError as exc:
            _fail(label, idx, "system", system, str(exc))
        names.append(name)
        xs[i] = float(x)
    return names, xs


def _check_ranges(rows: pd.DataFrame, label: str) -> None:
    x, T, h, s = (rows[c].to_numpy(dtype=float) for c in ("x_B", "T_K", "HM_MIX_J", "sigma_J"))
    needs_sigma = (rows["kind"] == PREDICTED).to_numpy()
    checks = (
        ("x_B", ~((x >= 0.0) & (x <= 1.0)), "a mole fraction must lie within [0, 1]"),
        ("T_K", ~(np.isfinite(T) & (T > 0.0)), "a temperature must be finite and > 0 K"),
        ("HM_MIX_J", ~np.isfinite(h), "ΔH_mix must be a finite number (J/mol)"),
        ("HM_MIX_J", ((x == 0.0) | (x == 1.0)) & (np.abs(h) > PURE_TOLERANCE_J),
         "ΔH_mix of a pure element (x_B = 0 or 1) must be 0"),
        ("sigma_J", ~np.isnan(s) & ~(np.isfinite(s) & (s > 0.0)), "sigma must be finite and > 0 J/mol, or empty"),
        ("sigma_J", np.isnan(s) & needs_sigma, f"a {PREDICTED!r} row must carry its sigma"),
    )
    for col, bad, why in checks:
        _fail_first(rows, label, col, bad, why)


def _check_excess(rows: pd.DataFrame, label: str) -> None:
    """Check GE_J and SE_J (finite or NaN, 0 for a pure element, consistent with ΔH_mix) and
    derive the one missing from the other, in place."""
    x, T, h = (rows[c].to_numpy(dtype=float) for c in ("x_B", "T_K", "HM_MIX_J"))
    ge, se = (rows[c].to_numpy(dtype=float).copy() for c in EXCESS_COLUMNS)
    pure = (x == 0.0) | (x == 1.0)
    checks = (
        ("GE_J", np.isinf(ge), "G_ex must be a finite number (J/mol), or empty"),
        ("SE_J", np.isinf(se), "S_ex must be a finite number (J/(mol·K)), or empty"),
        ("GE_J", pure & (np.abs(ge) > PURE_TOLERANCE_J), "G_ex of a pure element (x_B = 0 or 1) must be 0"),
        ("SE_J", pure & (np.abs(se) > PURE_TOLERANCE_J), "S_ex of a pure element (x_B = 0 or 1) must be 0"),
    )
    for col, bad, why in checks:
        _fail_first(rows, label, col, bad, why)
    both = ~np.isnan(ge) & ~np.isnan(se)
    with np.errstate(invalid="ignore"):
        gap = np.abs(h - ge - T * se)
        scale = np.maximum.reduce([np.abs(h), np.abs(ge), np.abs(T * se)])
    _fail_first(rows, label, "SE_J", both & (gap > EXCESS_TOLERANCE_J + EXCESS_RTOL * scale),
                f"ΔH_mix = G_ex + T·S_ex is violated by more than {EXCESS_TOLERANCE_J:g} J/mol "
                "(HM_MIX_J − GE_J − T_K·SE_J)")
    only_ge, only_se = ~np.isnan(ge) & np.isnan(se), np.isnan(ge) & ~np.isnan(se)
    se[only_ge] = (h[only_ge] - ge[only_ge]) / T[only_ge]
    ge[only_se] = h[only_se] - T[only_se] * se[only_se]
    rows["GE_J"], rows["SE_J"] = ge, se


def _fail_first(rows: pd.DataFrame, label: str, col: str, bad: np.ndarray, why: str) -> None:
    """Raise DatasetError naming the first row flagged in ``bad``, if any."""
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        _fail(label, rows.index[i], col, rows[col].iloc[i], f"{why} ({int(bad.sum())} bad row(s))",
              system=rows["system"].iloc[i])


def _check_kinds(kinds: pd.Series, label: str) -> None:
    bad = ~kinds.isin(KINDS)
    if bad.any():
        idx = kinds.index[bad.to_numpy()][0]
        _fail(label, idx, "kind", kinds[idx], f"unknown kind; expected one of {list(KINDS)}")


def _numeric(col: pd.Series, name: str, label: str) -> pd.Series:
    values = pd.to_numeric(col, errors="coerce").astype(float)
    bad = values.isna() & col.notna() & (col.astype(str).str.strip() != "")
    if name not in ("sigma_J", *EXCESS_COLUMNS):
        bad |= col.isna()
    if bad.any():
        idx = col.index[bad.to_numpy()][0]
        _fail(label, idx, name, col[idx], "not a number")
    return values


def _fail(label: str, idx, column: str, value, why: str, system: str | None = None):
    where = f" ({system})" if system else ""
    value = value.item() if isinstance(value, np.generic) else value
    raise DatasetError(f"{label}: row {idx!r}{where}, column {column!r} = {value!r}: {why}")


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or (isinstance(value, str) and not value.strip())


__all__ = ["OBSERVATION_COLUMNS", "EXCESS_COLUMNS", "OPTIONAL_COLUMNS", "STORED_COLUMNS", "FLAG_COLUMNS", "KINDS",
           "OBSERVED_KINDS", "PREDICTED", "DEFAULT_SIGMA_J", "DEFAULT_SIGMA_SE_J_K", "PURE_TOLERANCE_J",
           "EXCESS_TOLERANCE_J", "EXCESS_RTOL", "default_sigma", "validate_observations", "validate_flags"]
