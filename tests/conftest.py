"""Shared fixtures: small observation tables and a store in a temporary folder; ``--runslow``."""
import os

import numpy as np
import pandas as pd
import pytest

from mixcalphad.chem.miedema import miedema_hmix


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="run tests marked slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow") or os.environ.get("MIXCALPHAD_RUNSLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)

from mixcalphad.data.store import Store


def make_observations(system="AL-CU", xs=(0.25, 0.5, 0.75), values=(-5000.0, -8000.0, -6000.0),
                      kind="assessed", source="test.tdb", T=1873.0, sigma=float("nan"), collection="test"):
    """Observation rows in the store's schema (J/mol of atoms, K)."""
    return pd.DataFrame({"system": system, "x_B": list(xs), "T_K": T, "HM_MIX_J": list(values),
                         "sigma_J": sigma, "kind": kind, "source": source,
                         "reference": f"unit test {source}", "collection": collection})


@pytest.fixture(scope="session")
def default_build():
    """The default dataset (pycalphad TDBs + extra table + AIMD), built once per test session."""
    from mixcalphad.data.corpus import build_dataset

    return build_dataset(progress=False)


@pytest.fixture(autouse=True)
def isolated_default_store(tmp_path_factory, monkeypatch):
    """Point the default store ($MIXCALPHAD_STORE) at a fresh temporary file: no test reads or
    writes the user's ~/.mixcalphad/store.json."""
    path = tmp_path_factory.mktemp("default-store") / "store.json"
    monkeypatch.setenv("MIXCALPHAD_STORE", str(path))
    return path


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "store.json")


class MiedemaDouble:
    """Test double of a predictor: Miedema's ΔH_mix with a σ (J/mol) constant or growing with x."""

    version_ = "miedema-double-1"

    def __init__(self, sigma=4000.0, slope=0.0):
        self.sigma, self.slope = sigma, slope

    def predict(self, a, b, x_B, return_std=True):
        x_B = np.asarray(x_B, dtype=float)
        return miedema_hmix(a, b, x_B), self.sigma * (1.0 + self.slope * x_B)
