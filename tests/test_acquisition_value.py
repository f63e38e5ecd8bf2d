"""Integrated variance reduction: the residual GP, exactness of the value, greedy batches per cost."""
import copy

import numpy as np
import pandas as pd
import pytest

from acquisition_helpers import PredictorDouble, synthetic_observations
from mixcalphad.acquisition.batch import select_by_value
from mixcalphad.acquisition.cost import SharedReferences, binary_costs
from mixcalphad.acquisition.value import ResidualGP, VarianceReduction, residual_inputs
from mixcalphad.chem.binaries import binaries_of
from mixcalphad.errors import AcquisitionError
from mixcalphad.model.pair_features import GP_FEATURES

REFERENCE = binaries_of(["CO", "CU", "FE", "NI", "K", "CS", "IR", "W", "TI", "V"])


@pytest.fixture(scope="module")
def observations():
    return synthetic_observations()


@pytest.fixture(scope="module")
def model():
    return PredictorDouble()


@pytest.fixture(scope="module")
def gp(observations, model):
    return ResidualGP(max_hyper=80, random_state=0).fit(observations, model)


def sigma_of(model, systems):
    a = np.array([s.split("-")[0] for s in systems], dtype=object)
    b = np.array([s.split("-")[1] for s in systems], dtype=object)
    return model.predict_pairs(a, b, np.full(len(systems), 0.5), return_std=True)[1]


def test_residual_gp_describes_itself(gp):
    info = gp.describe()
    assert info["n_train"] <= 28 * 3 and info["noise"] > 0
    assert info["features"] == list(GP_FEATURES) and info["inputs"] == [*GP_FEATURES, "x_Q"]
    with pytest.raises(AcquisitionError, match="not fitted"):
        ResidualGP().design(["AL-NI"])


def test_residual_gp_works_in_the_regressors_own_feature_space(observations):
    """The regressor's GP features (pair features), not the 36 composition features it never used."""
    from mixcalphad.model.predictor import load_default_model

    model = load_default_model()
    model.gp_features = ("miedema_4h05", "diff_group", "n_transition")
    gp = ResidualGP(max_hyper=40, random_state=0).fit(observations, model)
    assert gp.features_ == ["miedema_4h05", "diff_group", "n_transition"]
    assert gp.design(["CU-NI", "AL-FE"]).shape == (2, 4)  # three pair features and x_Q
    # NI-CU at x_B = 0.3 is CU-NI at 0.7: one binary, one input
    np.testing.assert_allclose(residual_inputs(gp.features_, ["NI"], ["CU"], [0.3]),
                               residual_inputs(gp.features_, ["CU"], ["NI"], [0.7]))


@pytest.mark.parametrize("model, features, message", [
    (object(), None, "object declares no gp_features; give the residual GP its pair features"),
    (PredictorDouble(), ("mean_colour",), r"PAIR_FEATURES; got \['mean_colour'\]"),
    (PredictorDouble(), (), "PAIR_FEATURES; got \\[\\]"),
    (PredictorDouble(), ("diff_boiling_point_K",), "may be missing"),
])
def test_residual_gp_refuses_a_feature_space_it_cannot_use(observations, model, features, message):
    with pytest.raises(AcquisitionError, match=message):
        ResidualGP(features=features).fit(observations, model)


def test_value_is_the_exact_variance_reduction(gp, observations, model):
    """value(c) = Σ_j u_j (C_jj − C_jj | run at c): checked by conditioning the GP on the new point."""
    candidates = ["CS-IR", "FE-W", "CU-K"]
    sigma = sigma_of(model, REFERENCE)
    state = VarianceReduction(gp, REFERENCE, candidates, sigma)
    diag0, _, _ = gp.posterior_cov(gp.design(REFERENCE), gp.design(candidates[:1]))
    for i, system in enumerate(candidates):
        extra = synthetic_observations(system.split("-"), [0.5])
        after = copy.deepcopy(gp).condition(pd.concat([observations, extra], ignore_index=True))
        diag1, _, _ = after.posterior_cov(after.design(REFERENCE), after.design(candidates[:1]))
        expected = np.sum(sigma**2 / diag0 * (diag0 - diag1))
        assert state.value_J2[i] == pytest.approx(expected, rel=1e-5)


def test_a_pick_lowers_the_value_of_itself_and_of_similar_binaries(gp, model):
    candidates = ["CS-IR", "CS-W", "CU-NI"]
    state = VarianceReduction(gp, REFERENCE, candidates, sigma_of(model, REFERENCE))
    before = state.value_J2.copy()
    assert before[0] > before[2]  # far from the data (σ and GP variance large) beats a known pair
    assert state.pick(0) == pytest.approx(before[0])
    assert state.value_J2[0] < 0.5 * before[0]      # the same run again teaches little
    assert state.value_J2[1] < before[1]            # a Cs partner shares what was learnt
    assert np.all(state.value_J2 <= before + 1e-9)  # diminishing returns (submodular objective)


def test_weights_restrict_the_integral(gp, model):
    sigma = sigma_of(model, REFERENCE)
    weights = np.array([float(set(s.split("-")) <= {"FE", "NI", "CO", "CU"}) for s in REFERENCE])
    local = VarianceReduction(gp, REFERENCE, ["CS-IR", "CO-FE"], sigma, weights)
    overall = VarianceReduction(gp, REFERENCE, ["CS-IR", "CO-FE"], sigma)
    assert local.value_J2[0] < overall.value_J2[0]
    # Cs-Ir teaches the Fe-Co-Ni-Cu binaries next to nothing. (In the 36 composition features its GP
    # covariance with them was ~1e-177; in the regressor's own pair features, gp_features + x_Q, which
    # the residual GP uses since issue 22, it is small but not zero: 2.1e3 J² against Co-Fe's 7.7e5 J²,
    # 0.3 %. The bound below is that measurement with a margin, not a loosening of the old claim.)
    assert np.argmax(local.value_J2) == 1 and local.value_J2[0] <= 0.01 * local.value_J2[1]
    # the value is a weighted sum over the reference, linear in the weights: any weights w and 1 − w add
    # up to the unweighted value
    w = np.random.default_rng(0).uniform(size=len(REFERENCE))
    parts = [VarianceReduction(gp, REFERENCE, ["CS-IR", "CO-FE"], sigma, part).value_J2 for part in (w, 1.0 - w)]
    np.testing.assert_allclose(parts[0] + parts[1], overall.value_J2, rtol=1e-12)
    with pytest.raises(AcquisitionError, match="weights"):
        VarianceReduction(gp, REFERENCE, ["CS-IR"], sigma, weights[:-1])
    with pytest.raises(AcquisitionError, match="among the reference"):
        VarianceReduction(gp, REFERENCE, ["AL-NI"], sigma)


def test_greedy_batch_per_core_hour_diversity_and_sharing(gp, model):
    pool = [s for s in REFERENCE if s not in set(synthetic_observations()["system"])]
    T = np.full(len(pool), 2000.0)
    costs = binary_costs(pool, T)
    sigma = sigma_of(model, REFERENCE)
    by_value = select_by_value(VarianceReduction(gp, REFERENCE, pool, sigma), costs, 4, per_cost=False)
    per_cost = select_by_value(VarianceReduction(gp, REFERENCE, pool, sigma), costs, 2, per_element=1)
    counts = pd.Series([el for s in per_cost["system"] for el in s.split("-")]).value_counts()
    assert counts.max() == 1
    assert per_cost["value_per_core_h"].iloc[0] >= by_value["value_per_core_h"].iloc[0] - 1e-12
    # the first pick pays three runs; a later pick sharing an element at the same T pays fewer
    first = costs.set_index("system").loc[per_cost["system"].iloc[0]]
    assert per_cost["cost_core_h"].iloc[0] == pytest.approx(first["unshared_core_h"])
    shared = SharedReferences()
    cheap = select_by_value(VarianceReduction(gp, REFERENCE, pool, sigma), costs, 3, per_element=3, shared=shared)
    assert shared.have == {(el, 2000.0) for s in cheap["system"] for el in s.split("-")}
    unshared = costs.set_index("system").loc[cheap["system"], "unshared_core_h"].to_numpy()
    repeated = len(shared.have) < 2 * len(cheap)
    assert (cheap["cost_core_h"].to_numpy() < unshared - 1).any() == repeated
    with pytest.raises(AcquisitionError, match="per element"):
        select_by_value(VarianceReduction(gp, REFERENCE, pool[:3], sigma), costs.iloc[:3], 3, per_element=1)
    with pytest.raises(AcquisitionError, match="same order"):
        select_by_value(VarianceReduction(gp, REFERENCE, pool[:3], sigma), costs.iloc[1:4], 2)
