"""The paper's PHYSBO GP: training, max σ over composition, conditional batches, conditioning."""
import numpy as np
import pandas as pd
import pytest

from acquisition_helpers import FAST, synthetic_observations
from mixcalphad.acquisition.batch import select_max_sigma
from mixcalphad.acquisition.gp import VarianceGP
from mixcalphad.chem.binaries import binaries_of
from mixcalphad.errors import AcquisitionError


@pytest.fixture(scope="module")
def observations():
    return synthetic_observations()


@pytest.fixture(scope="module")
def gp(observations):
    return VarianceGP(random_state=0, **FAST).fit(observations)


def test_gp_reports_training(gp, observations):
    info = gp.describe()
    assert info["n_train"] == len(observations) and info["n_systems"] == 28
    assert info["fit_time_s"] > 0 and info["hyperparameters"]["width"] > 0
    # refitting with the same seed gives the same hyperparameters (PHYSBO uses numpy's global RNG)
    again = VarianceGP(random_state=0, **FAST).fit(observations)
    assert again.hyperparameters_ == pytest.approx(gp.hyperparameters_)
    residual = VarianceGP(target="residual", max_train=100, random_state=0, **FAST).fit(observations)
    assert residual.n_train_ == 100 and residual.describe()["target"] == "residual"
    assert residual.y_std_ < gp.y_std_  # Miedema explains most of the synthetic ΔH_mix
    with pytest.raises(AcquisitionError, match="target"):
        VarianceGP(target="HM").fit(observations)
    with pytest.raises(AcquisitionError, match="not fitted"):
        VarianceGP().max_std(["FE-NI"])
    with pytest.raises(AcquisitionError, match="at least 10"):
        VarianceGP(**FAST).fit(observations.iloc[:5])


def test_far_binary_scores_higher_than_known_one(gp):
    scores = gp.max_std(["FE-NI", "CO-CU", "CS-IR", "K-W"], progress=False).set_index("system")["score_J"]
    assert scores["CS-IR"] > 3 * scores["FE-NI"]
    assert scores["K-W"] > 3 * scores["CO-CU"]
    mean, std = gp.predict_pairs(["FE"], ["NI"], [0.5], return_std=True)
    assert std[0] == pytest.approx(gp.max_std(["FE-NI"], grid=[0.5])["score_J"][0])
    truth = synthetic_observations(["FE", "NI"], [0.5])["HM_MIX_J"][0]
    assert mean[0] == pytest.approx(truth, abs=0.2 * abs(truth) + 1000)


def test_condition_on_more_data_lowers_sigma_there_and_keeps_hyperparameters(observations):
    gp = VarianceGP(random_state=0, **FAST).fit(observations)
    params = gp.gp_.params.copy()
    before = gp.max_std(["CS-K"], grid=[0.5])["score_J"][0]
    gp.condition(pd.concat([observations, synthetic_observations(["CS", "K"], [0.5])], ignore_index=True))
    after = gp.max_std(["CS-K"], grid=[0.5])["score_J"][0]
    assert after < 0.5 * before and gp.n_train_ == len(observations) + 1
    np.testing.assert_array_equal(gp.gp_.params, params)


def test_conditional_batch_matches_refit_gp_with_fantasized_points(gp):
    """The conditional σ of pick 2 equals the σ of a GP whose training set includes pick 1's grid."""
    import physbo

    grid = np.array([0.25, 0.5, 0.75])
    scores = gp.max_std(["CS-K", "K-RB", "IR-W"], grid=grid, progress=False)
    picks = select_max_sigma(gp, scores, 2, grid=grid)
    first, second = picks["system"]
    a, b = first.split("-")
    Z1 = gp._design(np.full(3, a, dtype=object), np.full(3, b, dtype=object), grid)
    a2, b2 = second.split("-")
    Z2 = gp._design(np.full(3, a2, dtype=object), np.full(3, b2, dtype=object), grid)
    X = np.vstack([gp.X_train_, Z1])
    model = physbo.gp.Model(lik=physbo.gp.lik.Gauss(), mean=physbo.gp.mean.Const(),
                            cov=physbo.gp.cov.Gauss(X.shape[1]))
    model.set_params(gp.gp_.params)
    model.prepare(X, np.zeros(len(X)))  # the variance does not depend on the values
    expected = gp.y_std_ * np.sqrt(np.max(model.get_post_fcov(X, Z2)))
    assert picks["batch_score_J"].iloc[1] == pytest.approx(expected, rel=1e-4)
    assert picks["batch_score_J"].iloc[1] < picks["score_J"].iloc[1]


def test_conditional_batch_is_more_diverse_than_independent(gp):
    # far from the 3d training data all these binaries sit at the prior σ; an independent batch takes
    # the ties in order (one element over and over), a conditional one spreads over the pool
    pool = binaries_of(["CS", "K", "RB", "NA", "IR", "OS", "W", "RE"])
    scores = gp.max_std(pool, progress=False)

    def most_repeated(frame):
        return pd.Series([el for s in frame["system"] for el in s.split("-")]).value_counts().max()

    independent = select_max_sigma(gp, scores, 4, batch="independent")
    conditional = select_max_sigma(gp, scores, 4, batch="conditional")
    assert independent["system"].tolist() == scores.nlargest(4, "score_J")["system"].tolist()
    assert most_repeated(independent) >= 3
    assert most_repeated(conditional) < most_repeated(independent)
    spread = select_max_sigma(gp, scores, 4, batch="independent", per_element=1)
    assert most_repeated(spread) == 1
    with pytest.raises(AcquisitionError, match="per element"):
        select_max_sigma(gp, scores.iloc[:3], 3, per_element=1)
    with pytest.raises(AcquisitionError, match="composition grid"):
        select_max_sigma(gp, scores, 2, grid=[0.0, 0.5])
