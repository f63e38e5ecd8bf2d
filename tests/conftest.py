"""Shared fixtures: small observation tables and a store in a temporary folder; ``--runslow``."""
import os

import pandas as pd
import pytest


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="run tests marked slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow") or os.environ.get("MIXCALPHAD_RUNSLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)

from mixcalphad.store import Store


def make_observations(system="AL-CU", xs=(0.25, 0.5, 0.75), values=(-5000.0, -8000.0, -6000.0),
                      kind="assessed", source="test.tdb", T=1873.0, sigma=float("nan"), collection="test"):
    """Observation rows in the store's schema (J/mol of atoms, K)."""
    return pd.DataFrame({"system": system, "x_B": list(xs), "T_K": T, "HM_MIX_J": list(values),
                         "sigma_J": sigma, "kind": kind, "source": source,
                         "reference": f"unit test {source}", "collection": collection})


@pytest.fixture(scope="session")
def default_build():
    """The default dataset (pycalphad TDBs + extra table + AIMD), built once per test session."""
    from mixcalphad.corpus import build_dataset

    return build_dataset(progress=False)


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "store.json")
