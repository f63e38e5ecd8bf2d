"""The per-binary posterior: the closed-form Gaussian update, the prior kept where no data exist."""
import numpy as np
import pandas as pd
import pytest

from mixcalphad.chem.miedema import miedema_hmix
from mixcalphad.errors import MixcalphadError
from mixcalphad.model.posterior import ConditionedPredictor, conditioned, correction_basis, gaussian_update

from conftest import MiedemaDouble


def rows(system, xs, values, kind="aimd", sigma=1000.0, source="run", T=1873.0):
    return pd.DataFrame({"system": system, "x_B": list(xs), "T_K": T, "HM_MIX_J": list(values),
                         "sigma_J": sigma, "kind": kind, "source": source})


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_kalman_form_equals_the_information_form(seed):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(3, 3))
    prior = A @ A.T + 0.1 * np.eye(3)
    H = rng.normal(size=(5, 3))
    r = rng.normal(size=5) * 1000.0
    s = rng.uniform(0.5, 2.0, size=5)
    mean, cov = gaussian_update(prior, H, r, s)
    W = np.diag(1 / s**2)
    precision = np.linalg.inv(prior) + H.T @ W @ H
    assert cov == pytest.approx(np.linalg.inv(precision), rel=1e-8, abs=1e-10)
    assert mean == pytest.approx(np.linalg.solve(precision, H.T @ W @ r), rel=1e-8)


def test_one_equimolar_point_is_the_precision_weighted_mean():
    prior = MiedemaDouble(sigma=4000.0)
    m = float(miedema_hmix("AL", "NI", [0.5])[0])
    post = ConditionedPredictor(prior, rows("AL-NI", [0.5], [m - 10000.0], sigma=3000.0))
    mean, sd = post.predict("AL", "NI", [0.5], return_std=True)
    w_prior, w_data = 1 / 4000.0**2, 1 / 3000.0**2
    assert mean[0] == pytest.approx(m - 10000.0 * w_data / (w_prior + w_data), rel=1e-12)
    assert sd[0] == pytest.approx((w_prior + w_data) ** -0.5, rel=1e-12)
    assert post.estimate("NI", "AL") == "posterior"


def test_a_binary_without_data_keeps_the_prior_exactly():
    prior = MiedemaDouble(sigma=4000.0)
    post = ConditionedPredictor(prior, rows("AL-NI", [0.5], [-50000.0]))
    x = np.linspace(0.05, 0.95, 7)
    assert post.estimate("AL", "CU") == "prior" and post.posterior("CU", "AL") is None
    for got, want in zip(post.predict("CU", "AL", x, return_std=True), prior.predict("CU", "AL", x, return_std=True)):
        assert np.array_equal(got, want)


def test_orientation_and_the_pair_form_agree():
    prior = MiedemaDouble(sigma=4000.0)
    post = ConditionedPredictor(prior, rows("AL-NI", [0.3, 0.5], [-40000.0, -48000.0]))
    x = np.array([0.1, 0.3, 0.5, 0.8])
    forward = post.predict("AL", "NI", x, return_std=True)
    backward = post.predict("NI", "AL", 1 - x, return_std=True)
    pairs = post.predict_pairs(["AL", "NI", "CU", "AL"], ["NI", "AL", "AL", "NI"], [0.3, 0.7, 0.5, 0.8], return_std=True)
    for got, want in zip(forward, backward):
        assert got == pytest.approx(want, rel=1e-12)
    assert pairs[0][:2] == pytest.approx([forward[0][1], forward[0][1]], rel=1e-12)
    assert pairs[0][3] == pytest.approx(forward[0][3], rel=1e-12)
    assert pairs[0][2] == prior.predict("CU", "AL", [0.5])[0][0]


def test_data_shrink_the_band_where_they_are_and_the_prior_covariance_is_the_models():
    prior = MiedemaDouble(sigma=4000.0)
    post = ConditionedPredictor(prior, rows("AL-NI", [0.5], [-48000.0], sigma=500.0))
    p = post.posterior("AL", "NI")
    assert p.prior_cov_J2 == pytest.approx(np.diag([(4000.0 / 0.25) ** 2] * 3))
    _, sd = post.predict("AL", "NI", [0.5, 0.1], return_std=True)
    assert sd[0] < 500.0 < sd[1] < 4000.0
    # an observation with no information leaves the prior's σ everywhere
    vague = ConditionedPredictor(prior, rows("AL-NI", [0.5], [-48000.0], sigma=1e12))
    x = np.linspace(0.05, 0.95, 5)
    assert vague.predict("AL", "NI", x, return_std=True)[0] == pytest.approx(prior.predict("AL", "NI", x)[0], abs=1e-6)
    assert vague.posterior("AL", "NI").shift(x)[1] == pytest.approx(
        (x * (1 - x)) * 16000.0 * np.sqrt(1 + (1 - 2 * x) ** 2 + (1 - 2 * x) ** 4), rel=1e-9)


def test_the_shipped_models_prior_covariance_reproduces_its_sigma():
    from mixcalphad.model.predictor import load_default_model

    model = load_default_model()
    vague = ConditionedPredictor(model, rows("AL-NI", [0.5], [-48000.0], sigma=1e12))
    x = np.linspace(0.05, 0.95, 7)
    want_mean, want_sd = model.predict("AL", "NI", x, return_std=True)
    mean, sd = vague.predict("AL", "NI", x, return_std=True)
    assert mean == pytest.approx(want_mean, abs=1e-6)
    assert sd == pytest.approx(want_sd, rel=1e-9)


def test_evidence_not_rows_and_what_is_ignored():
    prior = MiedemaDouble(sigma=4000.0)
    curve = rows("AL-NI", [0.25, 0.5, 0.75], [-30000.0, -45000.0, -30000.0], kind="assessed", sigma=2000.0,
                 source="a.tdb")
    once = ConditionedPredictor(prior, curve)
    twice = ConditionedPredictor(prior, pd.concat([curve, curve, curve]))
    assert np.array_equal(once.posterior("AL", "NI").mean_J, twice.posterior("AL", "NI").mean_J)
    assert once.version_ == twice.version_
    ignored = pd.concat([curve, rows("AL-NI", [0.5], [9e9], kind="predicted"), rows("AL-S", [0.5], [-1e4]),
                         rows("AL-NI", [0.0, 1.0], [0.0, 0.0], kind="assessed", source="a.tdb")])
    other = ConditionedPredictor(prior, ignored)
    assert other.conditioned_systems() == ["AL-NI"]
    assert other.posterior("AL", "NI").n_curves == 1 and other.posterior("AL", "NI").n_points == 3
    assert np.array_equal(other.posterior("AL", "NI").mean_J, once.posterior("AL", "NI").mean_J)
    # a different value is a different posterior, and a different version
    moved = ConditionedPredictor(prior, rows("AL-NI", [0.5], [-40000.0]))
    assert moved.version_ != ConditionedPredictor(prior, rows("AL-NI", [0.5], [-41000.0])).version_


def test_conditioning_twice_is_refused_and_conditioned_is_idempotent():
    post = ConditionedPredictor(MiedemaDouble(), rows("AL-NI", [0.5], [-4e4]))
    with pytest.raises(MixcalphadError, match="already conditioned"):
        ConditionedPredictor(post, None)
    assert conditioned(post, rows("AL-CU", [0.5], [-1e4])) is post
    assert conditioned(None, None) is None


def test_correction_basis_vanishes_at_the_pure_elements():
    assert correction_basis([0.0, 1.0]) == pytest.approx(np.zeros((2, 3)))
    assert correction_basis([0.5])[0] == pytest.approx([0.25, 0.0, 0.0])
