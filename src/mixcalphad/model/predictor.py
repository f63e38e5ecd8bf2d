"""The predictor protocol and the default model.

A *predictor* is any object with ``predict(a, b, x_B, return_std=True) -> (mean, sigma)`` in J/mol of
atoms (``x_B`` the mole fraction of ``b``) and, optionally, ``predict_pairs(a, b, x_B, return_std=True)``
over arrays of pairs, ``predict_rk(a, b) -> (L, sigma_L)`` (the learned Redlich–Kister excess over
Miedema of the sorted pair, J/mol), ``version_`` and ``describe()``.
:class:`~mixcalphad.model.regressor.HMixRegressor` is one; the Calphad layer accepts any.
"""
from __future__ import annotations

import copy
import hashlib
import logging
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from mixcalphad.model.regressor import DEFAULT_MODEL_FILE, HMixRegressor, ModelError

logger = logging.getLogger(__name__)


def default_model_path() -> Path:
    """Path of the model shipped with the package (trained by ``scripts/build_default_model.py``)."""
    return Path(str(resources.files("mixcalphad") / "data" / DEFAULT_MODEL_FILE))


_DEFAULT: dict[str, HMixRegressor] = {}


def load_default_model() -> HMixRegressor:
    """The shipped default model, checked against its recorded SHA-256 (read once; each call returns a copy)."""
    if "model" not in _DEFAULT:
        path = default_model_path()
        checksum_file = path.with_name(DEFAULT_MODEL_FILE + ".sha256")
        if not path.exists():
            raise ModelError(f"the default model {path} is missing; rebuild it with "
                             "'python scripts/build_default_model.py'")
        expected = checksum_file.read_text().split()[0] if checksum_file.exists() else None
        actual = hashlib.sha256(path.read_bytes()).hexdigest()
        if expected != actual:
            raise ModelError(f"the default model {path} does not match its checksum ({checksum_file}); "
                             "rebuild it with 'python scripts/build_default_model.py'")
        _DEFAULT["model"] = HMixRegressor.load(path)
    return copy.deepcopy(_DEFAULT["model"])


#: The predictor the Calphad layer uses by default: the shipped model (a fresh copy per call).
#: Raises :class:`~mixcalphad.model.regressor.ModelError` when the file is missing or corrupted.
load_default_predictor = load_default_model


class MiedemaPredictor:
    """Miedema's liquid ΔH_mix (J/mol of atoms) in the predictor protocol, with a constant σ (J/mol):
    the baseline a user would otherwise pick, fitted and written like any predictor.

    >>> mean, std = MiedemaPredictor(sigma_J=5000.0).predict("AL", "NI", [0.5], return_std=True)
    >>> float(std[0])
    5000.0
    """

    version_ = "miedema"

    def __init__(self, sigma_J: float = 5000.0):
        self.sigma_J = float(sigma_J)

    def predict(self, a, b, x_B, return_std: bool = False):
        from mixcalphad.chem.miedema import miedema_hmix

        mean = np.asarray(miedema_hmix(a, b, x_B), dtype=float)
        return (mean, np.full(mean.shape, self.sigma_J)) if return_std else mean


class BatchPredictions:
    """Predictions of many binaries made in one ``predict_pairs`` call, served per binary."""

    def __init__(self, predictor, pairs, x_grid):
        x = np.asarray(x_grid, dtype=float)
        a = np.repeat([p[0] for p in pairs], x.size).astype(object)
        b = np.repeat([p[1] for p in pairs], x.size).astype(object)
        mean, std = predictor.predict_pairs(a, b, np.tile(x, len(pairs)), return_std=True)
        mean = np.asarray(mean, dtype=float).reshape(len(pairs), x.size)
        std = np.asarray(std, dtype=float).reshape(len(pairs), x.size)
        self.wrapped = predictor
        self._x = x
        self._rows = {tuple(p): (mean[i], std[i]) for i, p in enumerate(pairs)}

    def predict(self, a, b, x_B, return_std=True):
        x_B = np.asarray(x_B, dtype=float)
        row = self._rows.get((a, b))
        if row is None or x_B.shape != self._x.shape or not np.array_equal(x_B, self._x):
            return self.wrapped.predict(a, b, x_B, return_std=True)
        return row


def describe_predictor(predictor) -> dict:
    """Provenance of a predictor: ``class``, ``version`` and whatever ``describe()`` returns."""
    predictor = getattr(predictor, "wrapped", predictor) if isinstance(predictor, BatchPredictions) else predictor
    info: dict[str, Any] = {"class": type(predictor).__name__,
                            "version": str(getattr(predictor, "version_", "") or "unversioned")}
    describe = getattr(predictor, "describe", None)
    if callable(describe):
        try:
            extra = describe()
        except Exception as exc:  # a provenance call must not stop a fit
            logger.warning("predictor.describe() failed: %s", exc)
        else:
            if isinstance(extra, Mapping):
                info.update({k: v for k, v in extra.items() if k not in info})
    return info


def predictor_label(predictor) -> str:
    """``"<class> <version>"`` of a predictor, e.g. ``"HMixRegressor 0.2.0"``."""
    info = describe_predictor(predictor)
    return f"{info['class']} {info['version']}"
