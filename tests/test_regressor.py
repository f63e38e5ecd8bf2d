import itertools

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from mixcalphad.chem.miedema import miedema_pairs
from mixcalphad.errors import CompositionError, MixcalphadError, UnknownElementError
from mixcalphad.model.curves import rk_powers
from mixcalphad.model.pair_features import PAIR_FEATURES, orient_pairs, pair_features
from mixcalphad.model.regressor import HMixRegressor, ModelError, dataset_hash, training_rows

ELEMENTS = ["AG", "AL", "AU", "CO", "CR", "CU", "FE", "GA", "GE", "IN", "MG", "MN", "NI", "PB", "PD", "SI",
            "SN", "TI", "V", "ZN", "ZR"]
X = np.round(np.arange(0.1, 0.91, 0.1), 2)
#: Coefficients (J/mol) of the synthetic excess over Miedema, in the (P, Q) orientation.
C_TRUE = np.array([-20000.0, 8000.0, 3000.0])
FAST = dict(inner_folds=3, lgbm_params={"n_estimators": 150, "learning_rate": 0.1, "num_leaves": 7,
                                        "min_child_samples": 5, "max_bin": 63})


def synthetic_observations(elements=ELEMENTS, noise=0.0, seed=0, c=C_TRUE, varying=False):
    """Miedema + x_P x_Q (c0 + c1 t + c2 t²) with fixed c in every oriented pair, 9 compositions
    (``varying``: c0 also grows by 3000 J/mol per unit of the valence difference)."""
    pairs = list(itertools.combinations(sorted(elements), 2))
    a = np.repeat([p[0] for p in pairs], len(X)).astype(object)
    b = np.repeat([p[1] for p in pairs], len(X)).astype(object)
    x = np.tile(X, len(pairs))
    _, _, swapped = orient_pairs(a, b)
    x_q = np.where(swapped, 1 - x, x)
    coef = np.tile(c, (len(x), 1))
    if varying:
        coef[:, 0] += 3000.0 * pair_features(a, b)[:, PAIR_FEATURES.index("diff_valence")]
    truth = miedema_pairs(a, b, x) + x_q * (1 - x_q) * np.sum(rk_powers(1 - 2 * x_q) * coef, axis=1)
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"system": [f"{p}-{q}" for p, q in zip(a, b)], "x_B": x, "T_K": 1873.0,
                         "HM_MIX_J": truth + noise * rng.standard_normal(len(x)), "sigma_J": np.nan,
                         "kind": "assessed", "source": "synthetic", "reference": "test", "collection": "test"})


@pytest.fixture(scope="module")
def fitted():
    return HMixRegressor(random_state=1, progress=False, **FAST).fit(synthetic_observations())


def test_recovers_known_coefficients_in_the_sorted_orientation(fitted):
    # AL before NI in both rules; CU-MG is oriented (MG, CU), so its sorted L1 is −c1
    L, sigma = fitted.predict_rk("NI", "AL")
    np.testing.assert_allclose(L, C_TRUE, atol=500)
    L2 = fitted.predict_rk("CU", "MG", return_std=False)
    np.testing.assert_allclose(L2, C_TRUE * [1, -1, 1], atol=500)
    assert sigma.shape == (3,) and np.all(sigma > 0)
    many, many_sigma = fitted.predict_rk(["AL", "MG"], ["NI", "CU"])
    # one pair alone or in a batch: the same numbers up to float summation order (the GP's batched
    # kernel products differ in the last bit: 3.6e-12 J of 2e4, relative 2e-16)
    np.testing.assert_allclose(many[0], L, rtol=1e-13, atol=0)
    assert many.shape == many_sigma.shape == (2, 3)


def test_prediction_is_the_rk_polynomial_of_predict_rk(fitted):
    x = np.array([0.2, 0.5, 0.7])
    (L, sigma), (mean, std) = fitted.predict_rk("CU", "MG"), fitted.predict("CU", "MG", x, return_std=True)
    t = 1 - 2 * x  # x_CU − x_MG for the sorted pair CU-MG
    np.testing.assert_allclose(mean, miedema_pairs(["CU"] * 3, ["MG"] * 3, x) + x * (1 - x) * (rk_powers(t) @ L))
    np.testing.assert_allclose(std, x * (1 - x) * np.sqrt((rk_powers(t)**2) @ sigma**2))


def test_learns_on_unseen_systems():
    train = synthetic_observations(ELEMENTS[:-4], noise=300.0)
    model = HMixRegressor(random_state=0, progress=False, **FAST).fit(train)
    test = synthetic_observations(ELEMENTS)
    test = test[~test["system"].isin(set(train["system"]))]
    a, b = zip(*test["system"].str.split("-"))
    miedema_rmse = np.sqrt(np.mean((miedema_pairs(np.array(a), np.array(b), test["x_B"]) - test["HM_MIX_J"])**2))
    model_rmse = np.sqrt(np.mean((model.predict(test) - test["HM_MIX_J"])**2))
    assert miedema_rmse > 3000 and model_rmse < 0.2 * miedema_rmse


def test_exact_symmetry_and_endpoints(fitted):
    x = np.linspace(0, 1, 11)
    for a, b in [("AL", "NI"), ("W", "IR"), ("CU", "ZR"), ("MG", "CU")]:
        m1, s1 = fitted.predict(a, b, x, return_std=True)
        m2, s2 = fitted.predict(b, a, 1 - x, return_std=True)
        np.testing.assert_array_equal(m1, m2)
        np.testing.assert_array_equal(s1, s2)
        assert m1[0] == 0 and m1[-1] == 0 and s1[0] == 0 and s1[-1] == 0
        assert np.all(s1[1:-1] > 0)


def test_curves_are_smooth(fitted):
    x = np.linspace(0.02, 0.98, 49)
    h = fitted.predict("AL", "NI", x) / 1000
    # issue 12's criterion: Σ|second difference| over 49 compositions below 10 kJ/mol
    assert np.sum(np.abs(np.diff(h, 2))) < 10.0


def test_sigma_wider_far_from_the_data():
    model = HMixRegressor(random_state=0, progress=False, **FAST).fit(
        synthetic_observations(ELEMENTS[:16], noise=300.0, varying=True))
    _, dense = model.predict("CU", "NI", 0.5, return_std=True)      # inside the training family
    _, far = model.predict("CS", "PU", 0.5, return_std=True)        # alkali metal + actinide, no data near
    assert far > 1.5 * dense


def test_deterministic_with_a_seed():
    data = synthetic_observations(ELEMENTS[:12], noise=300.0)
    m1 = HMixRegressor(random_state=3, progress=False, **FAST).fit(data)
    m2 = HMixRegressor(random_state=3, progress=False, **FAST).fit(data.sample(frac=1.0, random_state=7))
    np.testing.assert_array_equal(m1.predict("AL", "CU", X, return_std=True), m2.predict("AL", "CU", X, return_std=True))
    assert m1.to_dict() == m2.to_dict()


def test_scikit_learn_contract():
    model = HMixRegressor(blend=0.3, random_state=5)
    copy = clone(model)
    assert copy.get_params() == model.get_params() and not hasattr(copy, "boosters_")
    with pytest.raises(NotFittedError):
        model.predict("AL", "NI", 0.5)
    with pytest.raises(ModelError, match="not fitted"):
        model.predict_rk("AL", "NI")


def test_invalid_options_and_too_little_data():
    data = synthetic_observations(ELEMENTS[:6])
    for bad in (dict(coverage=1.2), dict(blend=-0.1), dict(huber_delta=0.0), dict(inner_folds=1),
                dict(gp_features=("nope",))):
        with pytest.raises(MixcalphadError):
            HMixRegressor(**bad).fit(data)
    with pytest.raises(MixcalphadError, match="at least 5"):
        HMixRegressor().fit(synthetic_observations(ELEMENTS[:3]))


def test_lightgbm_only_blend_has_constant_coefficient_sigma():
    model = HMixRegressor(blend=1.0, random_state=0, progress=False, **FAST).fit(
        synthetic_observations(ELEMENTS[:10], noise=300.0))
    assert model.gp_ is None
    # without a GP every coefficient's σ is its out-of-fold RMS error τ_n times the conformal scale of
    # the pair's Miedema class: the same for every pair of a class, whatever its features
    tt, mixed = model.scale_["transition-transition"], model.scale_["mixed"]
    np.testing.assert_allclose(model.predict_rk("CU", "NI")[1], model.tau_ * tt, rtol=1e-12)
    np.testing.assert_allclose(model.predict_rk("W", "FE")[1], model.tau_ * tt, rtol=1e-12)
    np.testing.assert_allclose(model.predict_rk("CS", "PU")[1], model.tau_ * mixed, rtol=1e-12)


def test_coefficients_without_enough_curves_get_the_out_of_fold_sigma():
    # only three systems have whole curves: c1 and c2 get no model (predicted 0) and a constant σ
    data = synthetic_observations(ELEMENTS[:8])
    full = data["system"].isin(["AG-AL", "AG-AU", "AG-CO"])
    model = HMixRegressor(random_state=0, progress=False, **FAST).fit(data[full | (data["x_B"] == 0.5)])
    assert model.gp_.models[1] is None and model.boosters_.boosters[1] is None
    L, sigma = model.predict_rk("CU", "NI")
    assert L[1] == 0 and np.isfinite(sigma).all() and sigma[1] == pytest.approx(model.tau_[1] * model.scale_["transition-transition"])


def test_save_load_round_trip(fitted, tmp_path):
    path = fitted.save(tmp_path / "m.json.gz")
    loaded = HMixRegressor.load(path)
    # the GP's factorisation is recomputed on load: equal to rounding (BLAS summation order)
    np.testing.assert_allclose(loaded.predict("AL", "NI", X, return_std=True),
                               fitted.predict("AL", "NI", X, return_std=True), rtol=1e-12, atol=1e-9)
    # and what is stored survives a second round trip bit for bit
    again = loaded.save(tmp_path / "again.json.gz")
    assert HMixRegressor.load(again).to_dict() == loaded.to_dict()
    np.testing.assert_allclose(loaded.predict("CS", "PU", X, return_std=True),
                               fitted.predict("CS", "PU", X, return_std=True), rtol=1e-9)
    assert loaded.describe() == fitted.describe()
    with pytest.raises(FileExistsError):
        fitted.save(path)
    fitted.save(path, force=True)
    # the same model gives the same bytes, whatever the (temporary) file name
    assert fitted.save(tmp_path / "other.json.gz").read_bytes() == path.read_bytes()


def test_corrupted_missing_or_old_model_file(tmp_path, fitted):
    bad = tmp_path / "bad.json.gz"
    bad.write_bytes(b"not gzip at all")
    with pytest.raises(ModelError, match="corrupted"):
        HMixRegressor.load(bad)
    with pytest.raises(ModelError, match="no model file"):
        HMixRegressor.load(tmp_path / "none.json.gz")
    with pytest.raises(ModelError, match="version 2"):
        HMixRegressor.from_dict({**fitted.to_dict(), "format_version": 1})


def test_bad_input(fitted):
    with pytest.raises(UnknownElementError, match="QQ"):
        fitted.predict("AL", "QQ", 0.5)
    with pytest.raises(CompositionError):
        fitted.predict("AL", "NI", [0.5, -0.1])
    with pytest.raises(CompositionError):
        fitted.predict("AL", "AL", 0.5)
    with pytest.raises(MixcalphadError, match="x_B"):
        fitted.predict("AL", "NI")
    mean, std = fitted.predict_pairs([], [], [], return_std=True)  # nothing asked, nothing returned
    assert mean.shape == std.shape == (0,)


def test_training_rows_drop_unsupported_and_endpoints():
    data = synthetic_observations(ELEMENTS[:4])
    extra = data.iloc[:2].assign(system="FE-S")
    ends = data.iloc[:1].assign(x_B=0.0)
    rows = training_rows(pd.concat([data, extra, ends]))
    assert len(rows) == len(data) and "FE-S" not in set(rows["system"])
    assert dataset_hash(rows) == dataset_hash(data.sample(frac=1, random_state=0))
