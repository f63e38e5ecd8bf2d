"""Redlich–Kister mathematics: closed forms, order selection, weights, temperature models."""
import json
import math

import numpy as np
import pytest

from mixcalphad.calphad import redlich_kister as rk
from mixcalphad.errors import DatasetError, MixcalphadError
from mixcalphad.chem.miedema import miedema_hmix
from mixcalphad.calphad.redlich_kister import (RKFit, TemperatureModel, fit_redlich_kister, kaptay, rk_basis, rk_excess,
                                               supported_order)



# ------------------------------------------------------------------ closed forms
def test_one_equimolar_point_gives_L0_four_times_H():
    fit = fit_redlich_kister([0.5], [-10000.0])
    assert fit.coefficients == (-40000.0,)
    assert fit.order == 0 and fit.n_points == 1 and fit.rms_J == 0.0
    assert fit.evaluate([0.5])[0] == pytest.approx(-10000.0, abs=1e-9)


def test_odd_term_sign_follows_the_sorted_pair_convention():
    x = np.round(np.arange(0.1, 0.91, 0.1), 2)
    L0, L1 = -20000.0, 8000.0
    H = x * (1 - x) * (L0 + L1 * ((1 - x) - x))
    fit = fit_redlich_kister(x, H)
    assert fit.order == 1
    assert fit.coefficients == pytest.approx((L0, L1), abs=1e-6)
    # at x_B = 0.25: x_A x_B = 0.1875, x_A - x_B = 0.5 → 0.1875 * (-20000 + 4000) = -3000
    assert fit.evaluate([0.25])[0] == pytest.approx(-3000.0, abs=1e-6)
    assert rk_excess([0.75], [L0, L1])[0] == pytest.approx(0.1875 * (-20000 - 4000), abs=1e-9)


def test_basis_columns():
    X = rk_basis([0.2], 2)
    assert X[0] == pytest.approx([0.16, 0.16 * 0.6, 0.16 * 0.36])


def test_weights_closed_form():
    # two values at x = 0.5 with σ 100 and 1000 J/mol: weighted mean, times 4
    fit = fit_redlich_kister([0.5, 0.5], [-10000.0, -20000.0], sigma=[100.0, 1000.0])
    mean = (-10000.0 / 100**2 - 20000.0 / 1000**2) / (1 / 100**2 + 1 / 1000**2)
    assert fit.coefficients[0] == pytest.approx(4 * mean, rel=1e-12)
    assert fit.weighted


def test_covariance_with_absolute_sigma():
    fit = fit_redlich_kister([0.5], [-10000.0], sigma=1000.0)
    assert math.sqrt(fit.covariance[0][0]) == pytest.approx(4000.0)
    assert fit.std([0.5])[0] == pytest.approx(1000.0)


# ------------------------------------------------------------------ order selection
@pytest.mark.parametrize("n, distinct, expected", [(1, 1, 0), (3, 3, 0), (4, 4, 1), (5, 5, 2), (6, 6, 3),
                                                   (19, 19, 3), (10, 2, 1), (10, 1, 0)])
def test_supported_order(n, distinct, expected):
    assert supported_order(n, distinct, 3) == expected


def test_order_never_exceeds_what_the_points_support():
    x = [0.25, 0.5, 0.75]
    fit = fit_redlich_kister(x, [-3000.0, -5000.0, -2000.0], max_order=3, criterion="fixed")
    assert fit.order == 0
    # ten points at two compositions cannot fix more than two coefficients
    x2 = [0.3] * 5 + [0.6] * 5
    h2 = [-4000.0 + i for i in range(5)] + [-6000.0 + i for i in range(5)]
    assert fit_redlich_kister(x2, h2, criterion="fixed").order == 1


def test_aicc_recovers_the_true_order_on_noisy_data():
    rng = np.random.default_rng(1)  # AICc and BIC find order 2 for 8 of the seeds 0-9
    x = np.round(np.arange(0.05, 0.951, 0.05), 2)
    H = rk_excess(x, [-30000.0, 6000.0, 9000.0]) + rng.normal(0, 20.0, x.size)
    fit = fit_redlich_kister(x, H, sigma=20.0)
    assert fit.order == 2
    assert fit.coefficients == pytest.approx([-30000.0, 6000.0, 9000.0], abs=300)
    assert len(fit.scores) == 4 and np.argmin(fit.scores) == 2
    assert fit_redlich_kister(x, H, criterion="bic").order == 2
    assert fit_redlich_kister(x, H, criterion="fixed").order == 3


@pytest.mark.parametrize("kwargs, message", [
    ({"x_B": [0.5, 1.2], "H": [1.0, 2.0]}, "within"),
    ({"x_B": [0.5], "H": [float("nan")]}, "finite"),
    ({"x_B": [0.5], "H": [1.0, 2.0]}, "equal length"),
    ({"x_B": [], "H": []}, "non-empty"),
    ({"x_B": [0.5], "H": [1.0], "sigma": [0.0]}, "sigma"),
    ({"x_B": [0.0, 1.0], "H": [0.0, 0.0]}, "0 < x_B < 1"),
    ({"x_B": [0.5], "H": [1.0], "criterion": "aic"}, "criterion"),
    ({"x_B": [0.5], "H": [1.0], "max_order": 12}, "max_order"),
])
def test_bad_input_raises_dataset_error(kwargs, message):
    with pytest.raises(DatasetError, match=message):
        fit_redlich_kister(**kwargs)


def test_rkfit_round_trips_through_json():
    x = np.linspace(0.1, 0.9, 9)
    fit = fit_redlich_kister(x, rk_excess(x, [-10000.0, 2000.0]) + np.sin(10 * x))
    back = RKFit.from_dict(json.loads(json.dumps(fit.to_dict())))
    assert back == fit
    one = fit_redlich_kister([0.5], [-1.0])  # NaN covariance and inf scores survive
    back = RKFit.from_dict(json.loads(json.dumps(one.to_dict())))
    assert back.coefficients == one.coefficients and math.isnan(back.covariance[0][0])
    assert back.scores[1] == math.inf


# ------------------------------------------------------------------ temperature models
def test_temperature_models():
    assert rk.ENTHALPY_ONLY.factor(2500.0) == 1.0
    model = kaptay()
    assert model.tau_K == rk.KAPTAY_DEFAULT_TAU_K == 3000.0
    assert model.factor(1500.0) == pytest.approx(0.5)
    assert model.excess_gibbs([0.5], 1500.0, [-40000.0])[0] == pytest.approx(-5000.0)
    assert "tau = 2500 K" in kaptay(2500).describe() and "Kaptay" in kaptay().describe()
    assert TemperatureModel.from_dict(kaptay(2000).to_dict()) == kaptay(2000)
    with pytest.raises(MixcalphadError):
        TemperatureModel("enthalpy", tau_K=3000)
    with pytest.raises(MixcalphadError):
        kaptay(-5)
    with pytest.raises(MixcalphadError):
        TemperatureModel("exponential")
