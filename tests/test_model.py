import itertools

import numpy as np
import pandas as pd
import pytest

from mixcalphad.errors import CompositionError, UnknownElementError
from mixcalphad.model.evaluation import nested_cross_validation
from mixcalphad.model.features import BinaryFeaturizer
from mixcalphad.chem.miedema import miedema_pairs
from mixcalphad.model.regressor import HMixRegressor, ModelError, dataset_hash, training_rows
from mixcalphad.model.predictor import load_default_model

ELEMENTS = ["AG", "AL", "AU", "CO", "CR", "CU", "FE", "GA", "GE", "IN", "MG", "MN", "NI", "PB", "PD", "SI",
            "SN", "TI", "V", "ZN", "ZR"]
X = np.round(np.arange(0.1, 0.91, 0.1), 2)


def synthetic_observations(elements=ELEMENTS, noise=0.0, seed=0):
    """Miedema plus a known smooth error: xx · 8000 · dev_group (J/mol), on 9 compositions."""
    pairs = list(itertools.combinations(sorted(elements), 2))
    a = np.repeat([p[0] for p in pairs], len(X))
    b = np.repeat([p[1] for p in pairs], len(X))
    x = np.tile(X, len(pairs))
    dev_group = BinaryFeaturizer(["dev_group"]).transform_pairs(a, b, x)[:, 0]
    truth = miedema_pairs(a, b, x) + x * (1 - x) * 8000.0 * dev_group
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"system": [f"{p}-{q}" for p, q in zip(a, b)], "x_B": x, "T_K": 1873.0,
                         "HM_MIX_J": truth + noise * rng.standard_normal(len(x)), "sigma_J": np.nan,
                         "kind": "assessed", "source": "synthetic", "reference": "test", "collection": "test"})


FAST = dict(tune=False, n_members=3, inner_folds=3, params={"num_leaves": 7, "min_child_samples": 5,
                                                            "learning_rate": 0.1, "n_estimators": 150})


@pytest.fixture(scope="module")
def fitted():
    return HMixRegressor(random_state=1, progress=False, **FAST).fit(synthetic_observations(noise=300.0))


def test_learns_a_known_residual_on_unseen_systems():
    train = synthetic_observations(ELEMENTS[:-3], noise=300.0)
    model = HMixRegressor(random_state=0, progress=False, **FAST).fit(train)
    test = synthetic_observations(ELEMENTS)
    test = test[~test["system"].isin(set(train["system"]))]
    pred = model.predict(test)
    miedema_rmse = np.sqrt(np.mean((miedema_pairs(*[np.array(v) for v in zip(*test["system"].str.split("-"))],
                                                  test["x_B"]) - test["HM_MIX_J"])**2))
    model_rmse = np.sqrt(np.mean((pred - test["HM_MIX_J"])**2))
    assert miedema_rmse > 3000
    assert model_rmse < 0.35 * miedema_rmse


def test_exact_symmetry_and_endpoints(fitted):
    x = np.linspace(0, 1, 11)
    for a, b in [("AL", "NI"), ("W", "IR"), ("CU", "ZR")]:
        m1, s1 = fitted.predict(a, b, x, return_std=True)
        m2, s2 = fitted.predict(b, a, 1 - x, return_std=True)
        np.testing.assert_allclose(m1, m2, rtol=0, atol=1e-9)
        np.testing.assert_allclose(s1, s2, rtol=0, atol=1e-9)
        assert m1[0] == 0 and m1[-1] == 0 and s1[0] == 0 and s1[-1] == 0
        assert np.all(s1[1:-1] > 0)


def test_deterministic_with_a_seed():
    data = synthetic_observations(ELEMENTS[:12], noise=300.0)
    p1 = HMixRegressor(random_state=3, progress=False, **FAST).fit(data).predict("AL", "CU", X)
    p2 = HMixRegressor(random_state=3, progress=False, **FAST).fit(data).predict("AL", "CU", X)
    np.testing.assert_array_equal(p1, p2)


def test_tuning_and_elimination_run_in_the_inner_loop():
    data = synthetic_observations(ELEMENTS[:12], noise=300.0)
    model = HMixRegressor(tune=True, n_members=2, inner_folds=3, min_features=20, random_state=0,
                          progress=False).fit(data)
    assert 20 <= len(model.features_) <= 36
    assert model.params_ in [dict(p) for p in __import__("mixcalphad.model.regressor", fromlist=["PARAM_GRID"]).PARAM_GRID]
    assert model.inner_rmse_ > 0


def test_save_load_round_trip(fitted, tmp_path):
    path = fitted.save(tmp_path / "m.json.gz")
    loaded = HMixRegressor.load(path)
    np.testing.assert_array_equal(loaded.predict("AL", "NI", X, return_std=True),
                                  fitted.predict("AL", "NI", X, return_std=True))
    assert loaded.describe() == fitted.describe()
    with pytest.raises(FileExistsError):
        fitted.save(path)


def test_corrupted_or_missing_model_file(tmp_path):
    bad = tmp_path / "bad.json.gz"
    bad.write_bytes(b"not gzip at all")
    with pytest.raises(ModelError, match="corrupted"):
        HMixRegressor.load(bad)
    with pytest.raises(ModelError, match="no model file"):
        HMixRegressor.load(tmp_path / "none.json.gz")


def test_bad_input(fitted):
    with pytest.raises(UnknownElementError, match="QQ"):
        fitted.predict("AL", "QQ", 0.5)
    with pytest.raises(CompositionError):
        fitted.predict("AL", "NI", [0.5, -0.1])
    with pytest.raises(CompositionError):
        fitted.predict("AL", "AL", 0.5)
    with pytest.raises(ModelError, match="not fitted"):
        HMixRegressor().predict("AL", "NI", 0.5)


class RecordingEstimator:
    """Test double: predicts Miedema, records which systems each fit saw."""

    seen: list = []
    coverage = 0.95

    def get_params(self, deep=False):
        return {}

    def set_params(self, **params):
        return self

    def fit(self, observations):
        RecordingEstimator.seen.append(set(observations["system"]))
        self.inner_rmse_, self.params_, self.features_ = 0.0, {}, []
        return self

    def predict(self, frame, return_std=False):
        a, b = zip(*frame["system"].str.split("-"))
        mean = miedema_pairs(np.array(a), np.array(b), frame["x_B"].to_numpy())
        return (mean, np.ones_like(mean)) if return_std else mean


def test_outer_split_never_leaks_a_system():
    RecordingEstimator.seen = []
    data = synthetic_observations(ELEMENTS[:12])
    result = nested_cross_validation(data, RecordingEstimator(), outer_folds=5, progress=False)
    assert result.points.groupby("system")["fold"].nunique().max() == 1
    assert result.points["system"].nunique() == data["system"].nunique()
    for fold, train_systems in enumerate(RecordingEstimator.seen[:5]):
        test_systems = set(result.points.loc[result.points["fold"] == fold, "system"])
        assert test_systems and not (test_systems & train_systems)


def test_nested_cv_on_synthetic_data_beats_miedema_and_covers():
    data = synthetic_observations(ELEMENTS[:16], noise=500.0)
    result = nested_cross_validation(data, HMixRegressor(random_state=0, progress=False, **FAST),
                                     outer_folds=4, progress=False)
    acc = result.accuracy_table().set_index("group").loc["all"]
    assert acc["model RMSE"] < 0.5 * acc["Miedema RMSE"]
    covered = result.coverage_table().set_index("group").loc["all", "covered"]
    assert 0.8 <= covered <= 1.0


def test_training_rows_drop_unsupported_and_endpoints():
    data = synthetic_observations(ELEMENTS[:4])
    extra = data.iloc[:2].assign(system="FE-S")
    ends = data.iloc[:1].assign(x_B=0.0)
    rows = training_rows(pd.concat([data, extra, ends]))
    assert len(rows) == len(data) and "FE-S" not in set(rows["system"])
    assert dataset_hash(rows) == dataset_hash(data.sample(frac=1, random_state=0))


def test_default_model_is_current(default_build):
    model = load_default_model()
    assert model.training_hash_ == dataset_hash(training_rows(default_build.observations))
    mean, std = model.predict("AL", "NI", [0.5], return_std=True)
    assert mean[0] < -20000 and std[0] > 0


def test_fit_does_not_depend_on_row_order():
    data = synthetic_observations(ELEMENTS[:10], noise=300.0)
    shuffled = data.sample(frac=1.0, random_state=7)
    p1 = HMixRegressor(random_state=0, progress=False, **FAST).fit(data).predict("AL", "CU", X)
    p2 = HMixRegressor(random_state=0, progress=False, **FAST).fit(shuffled).predict("AL", "CU", X)
    np.testing.assert_array_equal(p1, p2)
