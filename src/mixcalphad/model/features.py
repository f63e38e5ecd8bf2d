"""Composition features of a binary liquid A–B at mole fraction x_B, from pure-element properties.

For every element property p (:data:`mixcalphad.chem.elements.PROPERTY_COLUMNS`) two features:

* ``mean_<p>`` = x_A p_A + x_B p_B, the composition-weighted mean;
* ``dev_<p>``  = 2 x_A x_B |p_A − p_B|, the composition-weighted average deviation
  Σ x_i |p_i − mean| written for a binary.

Both are unchanged when (A, x_B) is swapped for (B, 1 − x_B), so any model built on them is exactly
symmetric. Feature sets: ``full`` (all properties) and ``paper10`` (the ten active-learning features
of Bizot, Tamura, Deffrennes 2026).

Example
-------
>>> BinaryFeaturizer("paper10").transform_pairs(["AL"], ["NI"], [0.5]).shape
(1, 10)
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from mixcalphad.chem.binaries import normalize_symbol, parse_system
from mixcalphad.chem.elements import PROPERTY_COLUMNS, property_matrix
from mixcalphad.errors import CompositionError, MixcalphadError

#: The ten features the founding paper's Gaussian process uses for active learning.
PAPER10 = (
    "dev_group", "dev_Cp_liq_J_K", "dev_dCp_fus_J_K", "dev_ionization_energy_eV", "dev_H_fus_J",
    "dev_S_fus_J_K", "dev_density_g_cm3", "mean_group", "mean_Cp_liq_J_K", "mean_S_fus_J_K",
)
FULL = tuple(f"{kind}_{p}" for p in PROPERTY_COLUMNS for kind in ("mean", "dev"))
FEATURE_SETS = {"full": FULL, "paper10": PAPER10}


def resolve_feature_set(features: str | Sequence[str]) -> tuple[str, ...]:
    """Feature labels of a named set (``full``, ``paper10``) or a validated explicit list."""
    if isinstance(features, str):
        if features not in FEATURE_SETS:
            raise MixcalphadError(f"unknown feature set {features!r}; choose one of {sorted(FEATURE_SETS)}")
        return FEATURE_SETS[features]
    unknown = [f for f in features if f not in FULL]
    if unknown:
        raise MixcalphadError(f"unknown feature(s) {unknown}; features are mean_<p> and dev_<p> of {PROPERTY_COLUMNS}")
    return tuple(features)


def pairs_of(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Arrays (A, B, x_B) of the sorted pairs from a frame with ``system`` and ``x_B`` columns."""
    pairs = [parse_system(s) for s in frame["system"]]
    return (np.array([p[0] for p in pairs], dtype=object), np.array([p[1] for p in pairs], dtype=object),
            frame["x_B"].to_numpy(dtype=float))


class BinaryFeaturizer(TransformerMixin, BaseEstimator):
    """scikit-learn transformer from (system, x_B) rows to composition features.

    Parameters
    ----------
    features : str or sequence of str
        ``"full"`` (default), ``"paper10"`` or explicit ``mean_<p>`` / ``dev_<p>`` labels.

    Notes
    -----
    ``transform`` takes a DataFrame with columns ``system`` (``"AL-NI"``) and ``x_B`` (mole fraction
    of the second element of the sorted pair). Stateless: ``fit`` only validates the feature set.
    """

    def __init__(self, features: str | Sequence[str] = "full"):
        self.features = features

    def fit(self, X=None, y=None):
        self.feature_labels_ = resolve_feature_set(self.features)
        return self

    def feature_labels(self) -> list[str]:
        """The output column labels, in order."""
        return list(resolve_feature_set(self.features))

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.array(self.feature_labels(), dtype=object)

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        """Feature matrix (n_rows, n_features) for a frame with ``system`` and ``x_B``."""
        return self.transform_pairs(*pairs_of(X))

    def transform_pairs(self, a: Iterable[str], b: Iterable[str], x_B) -> np.ndarray:
        """Feature matrix for arrays of element symbols and mole fractions of ``b``.

        Raises
        ------
        UnknownElementError, MissingPropertyError
            An element is not in the table or lacks a property the features need.
        CompositionError
            A mole fraction outside [0, 1].
        """
        labels = self.feature_labels()
        a = np.array([normalize_symbol(s) for s in np.atleast_1d(np.asarray(a, dtype=object))])
        b = np.array([normalize_symbol(s) for s in np.atleast_1d(np.asarray(b, dtype=object))])
        x_B = np.broadcast_to(np.asarray(x_B, dtype=float), a.shape)
        if np.any(~np.isfinite(x_B)) or np.any((x_B < 0) | (x_B > 1)):
            raise CompositionError("mole fractions must lie in [0, 1]")
        props = sorted({label.split("_", 1)[1] for label in labels}, key=PROPERTY_COLUMNS.index)
        unique, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
        values = property_matrix(unique, props, needed_by="composition features")
        pa, pb = values[inverse[: a.size]], values[inverse[a.size:]]
        xb = x_B[:, None]
        xa = 1.0 - xb
        computed = {"mean": xa * pa + xb * pb, "dev": 2.0 * xa * xb * np.abs(pa - pb)}
        column = {p: i for i, p in enumerate(props)}
        out = np.empty((a.size, len(labels)))
        for j, label in enumerate(labels):
            kind, prop = label.split("_", 1)
            out[:, j] = computed[kind][:, column[prop]]
        return out
