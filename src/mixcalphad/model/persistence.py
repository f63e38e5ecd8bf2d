"""Reading and writing :class:`~mixcalphad.model.regressor.HMixRegressor` models as gzipped JSON.

The document holds the constructor options, the fitted calibration, the LightGBM models as model
text and the Gaussian processes as their training rows and fixed kernel hyperparameters (rebuilt
without optimisation on load). Same data, seed and library versions give the same bytes.
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np

from mixcalphad.model.learners import CoefficientBoosters, CoefficientGP

MODEL_FORMAT = "mixcalphad-hmix-model"
MODEL_FORMAT_VERSION = 2


def model_to_dict(model) -> dict:
    """Plain-JSON document of a fitted model."""
    params = model.get_params()
    params["gp_features"] = list(params["gp_features"])
    return {"format": MODEL_FORMAT, "format_version": MODEL_FORMAT_VERSION, "init": params,
            "describe": model.describe(), "boosters": model.boosters_.to_dict(),
            "gp": None if model.gp_ is None else model.gp_.to_dict()}


def model_from_dict(cls, data: dict):
    """Rebuild a fitted model from :func:`model_to_dict`'s document."""
    from mixcalphad.model.regressor import ModelError

    if data.get("format") != MODEL_FORMAT or data.get("format_version") != MODEL_FORMAT_VERSION:
        raise ModelError(f"not a {MODEL_FORMAT} version {MODEL_FORMAT_VERSION} document "
                         f"(got {data.get('format')!r} version {data.get('format_version')!r}); retrain the model")
    try:
        init = dict(data["init"])
        init["gp_features"] = tuple(init["gp_features"])
        model = cls(**init)
        info = data["describe"]
        model.scale_ = dict(info["conformal_scale"])
        model.tau_ = np.asarray(info["tau_J"], dtype=float)
        model.inner_rmse_ = float(info["inner_rmse_J"])
        model.training_hash_, model.version_ = info["training_hash"], info["version"]
        model.n_systems_, model.n_points_, model.n_curves_ = info["n_systems"], info["n_points"], info["n_curves"]
        model.boosters_ = CoefficientBoosters.from_dict(data["boosters"])
        model.gp_ = None if data["gp"] is None else CoefficientGP.from_dict(data["gp"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"incomplete or invalid model document: {exc!r}") from None
    return model


def save_model(model, path: str | Path, *, force: bool = False) -> Path:
    """Write ``model`` as gzipped JSON, atomically; an existing file needs ``force``."""
    from mixcalphad._io import atomic_path

    path = Path(path)
    document = json.dumps(model.to_dict(), sort_keys=True).encode()
    with atomic_path(path, overwrite=force) as tmp:
        # no file name and no time in the gzip header, so that the same model gives the same bytes
        with open(tmp, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as fh:
            fh.write(document)
    return path


def load_model(cls, path: str | Path):
    """Read a model written by :func:`save_model`; unreadable files raise ``ModelError`` naming the path."""
    from mixcalphad.model.regressor import ModelError

    path = Path(path)
    try:
        with gzip.open(path, "rb") as fh:
            data = json.loads(fh.read())
    except FileNotFoundError:
        raise ModelError(f"no model file at {path}") from None
    except (OSError, EOFError, json.JSONDecodeError) as exc:
        raise ModelError(f"model file {path} is unreadable or corrupted: {exc}") from None
    try:
        return cls.from_dict(data)
    except ModelError as exc:
        raise ModelError(f"{path}: {exc}") from None
