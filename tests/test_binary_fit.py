"""Fits of whole binaries: the posterior of a prediction given observations, convexity, the fit CLI."""
import json
import math

import numpy as np
import pandas as pd
import pytest

from mixcalphad.calphad import binary_fit as bf
from mixcalphad.calphad.binary_fit import BinaryFit, fit_binaries, fit_binary
from mixcalphad.calphad.redlich_kister import rk_excess
from mixcalphad.chem.miedema import miedema_hmix
from mixcalphad.errors import DatasetError, MixcalphadError

from conftest import MiedemaDouble
from helpers import run_cli


def observations(system, xs, values, kind="assessed", sigma=float("nan"), source="test.tdb", T=1873.0):
    return pd.DataFrame({"system": system, "x_B": list(xs), "T_K": T, "HM_MIX_J": list(values),
                         "sigma_J": sigma, "kind": kind, "source": source, "reference": "unit test",
                         "collection": "test"})


# ------------------------------------------------------------------ combining sources
def test_observations_only_use_the_documented_default_sigma():
    x = [0.25, 0.5, 0.75]
    obs = observations("AL-CU", x, rk_excess(x, [-40000.0]))
    fit = fit_binary("cu", "Al", observations=obs)
    assert fit.system == "AL-CU" and fit.origin == "assessed"
    assert fit.sigma_J == bf.DEFAULT_SIGMA_J["assessed"] == 2000.0
    assert fit.fit.coefficients == pytest.approx((-40000.0,))
    assert fit.sources == ("test.tdb",) and fit.model == "" and fit.n_predicted == 0


def test_predictions_only():
    fit = fit_binary("NI", "AL", predictor=MiedemaDouble(sigma=5000.0))
    assert fit.origin == "predicted" and fit.sigma_J == 5000.0
    assert fit.model == "MiedemaDouble miedema-double-1"
    assert fit.sources == ("model:MiedemaDouble miedema-double-1",)
    x = np.asarray(bf.PREDICTION_GRID)
    assert fit.fit.rms_J < 50.0
    assert np.abs(fit.evaluate(x) - miedema_hmix("AL", "NI", x)).max() < 100.0
    # the whole curve weighs as one measurement of the model's σ: its standard error at x = 0.5
    # is of the order of σ (more than σ: four coefficients share that one measurement)
    assert 5000.0 < fit.stderr_J < 3 * 5000.0


def test_an_aimd_binary_gets_its_aimd_enthalpy_with_the_model_entropy():
    from mixcalphad.model.entropy import load_default_entropy_model

    aimd = observations("AL-IR", [0.5], [-70400.0 / 4 * 1.0], kind="aimd", sigma=1000.0, source="run-1", T=2100)
    fit = fit_binary("IR", "AL", predictor=MiedemaDouble(sigma=20000.0), observations=aimd)
    model = load_default_entropy_model()
    tm = fit.temperature_model
    assert fit.origin == "aimd+predicted" and tm.kind == "entropy"
    assert tm.kappa == pytest.approx(model.kappa("AL", "IR"))
    H = fit.evaluate([0.5])[0]
    assert fit.excess_entropy([0.5])[0] == pytest.approx(tm.kappa * H)
    assert tm.sigma_S_J_K == pytest.approx(model.for_pair("AL", "IR").sigma(0.5, H))
    T = 1500.0
    assert fit.excess_gibbs([0.5], T)[0] == pytest.approx(H * (1 - tm.kappa * T))
    sigma_G = math.hypot(fit.sigma_J * (1 - tm.kappa * T), T * tm.sigma_S_J_K)
    assert fit.sigma_excess_gibbs(T) == pytest.approx(sigma_G)
    # the enthalpy-only rule is still one argument away, and writes no entropy
    flat = fit_binary("IR", "AL", predictor=MiedemaDouble(sigma=20000.0), observations=aimd,
                      temperature_model="enthalpy")
    assert flat.excess_entropy([0.5])[0] == 0.0
    # the same enthalpy at the AIMD point (the convexity constraint, checked with each temperature
    # model, moves the higher orders a little: L2 by 0.6 % here)
    assert flat.evaluate([0.5])[0] == pytest.approx(H, abs=50.0)


def test_an_aimd_point_conditions_the_prediction_by_the_closed_form_update():
    predictor = MiedemaDouble(sigma=4000.0)
    pred_half = float(miedema_hmix("CU", "ZR", [0.5])[0])
    aimd = observations("CU-ZR", [0.5], [pred_half - 15000.0], kind="aimd", sigma=1000.0, source="run-1", T=2500)
    fit = fit_binary("CU", "ZR", predictor=predictor, observations=aimd)
    assert fit.origin == "aimd+predicted" and fit.n_observed == 1 and fit.n_predicted == 19
    assert fit.model.startswith("ConditionedPredictor miedema-double-1+data:")
    # a prior of σ 4000 and a point of σ 1000 at x = 0.5: the posterior at x = 0.5 is their
    # precision-weighted mean, σ = (1/4000² + 1/1000²)^-1/2
    assert fit.sigma_J == pytest.approx(1.0 / math.sqrt(1 / 4000.0**2 + 1 / 1000.0**2))
    assert fit.evaluate([0.5])[0] == pytest.approx(pred_half - 15000.0 * 16 / 17, abs=100.0)
    # the correction is the regular-solution term x(1−x)δ0: away from x = 0.5 it scales with x(1−x)
    x = np.array([0.2, 0.8])
    assert fit.evaluate(x) - miedema_hmix("CU", "ZR", x) == pytest.approx(
        -15000.0 * 16 / 17 * x * (1 - x) / 0.25, abs=150.0)


def test_a_full_assessed_curve_dominates_the_prior_and_alone_is_fitted_exactly():
    predictor = MiedemaDouble(sigma=4000.0)
    x = np.round(np.arange(0.1, 0.91, 0.1), 2)
    data = rk_excess(x, [-20000.0, 3000.0])
    assessed = observations("CU-ZR", x, data)
    alone = fit_binary("CU", "ZR", observations=assessed)
    assert alone.origin == "assessed" and alone.model == "" and alone.n_predicted == 0
    assert alone.fit.coefficients == pytest.approx([-20000.0, 3000.0], abs=1e-6)
    # with the prediction: the posterior is the closed-form Gaussian update (information form here)
    # of the prior's correction δ ~ N(0, diag(s²)), s = σ(0.5)/0.25, by the nine points, each with
    # σ_eff = 2000·√9 (one curve is one measurement)
    fit = fit_binary("CU", "ZR", predictor=predictor, observations=assessed)
    assert fit.origin == "assessed+predicted"
    H = (x * (1 - x))[:, None] * np.column_stack([(1 - 2 * x)**n for n in range(3)])
    W = np.eye(x.size) / (2000.0 * 3.0)**2
    precision = np.eye(3) / (4000.0 / 0.25)**2 + H.T @ W @ H
    delta = np.linalg.solve(precision, H.T @ W @ (data - miedema_hmix("CU", "ZR", x)))
    expected = miedema_hmix("CU", "ZR", x) + H @ delta
    assert fit.evaluate(x) == pytest.approx(expected, abs=100.0)  # RK order ≤ 3 through Miedema's shape
    assert fit.sigma_J == pytest.approx(0.25 / math.sqrt(precision[0, 0] - precision[0, 1:] @ np.linalg.solve(
        precision[1:, 1:], precision[1:, 0])), rel=1e-9)
    # the data pull the curve most of the way from Miedema (prior) towards them
    assert np.abs(fit.evaluate(x) - data).max() < 0.5 * np.abs(miedema_hmix("CU", "ZR", x) - data).max()


def test_duplicating_every_row_of_a_curve_changes_nothing():
    predictor = MiedemaDouble(sigma=4000.0)
    x = [0.2, 0.4, 0.5, 0.6, 0.8]
    curve = observations("CU-ZR", x, rk_excess(x, [-20000.0, 3000.0, 1000.0]))
    aimd = observations("CU-ZR", [0.5], [-25000.0], kind="aimd", sigma=1500.0, source="run-1", T=2500)
    once = pd.concat([curve, aimd], ignore_index=True)
    twice = pd.concat([curve, curve, aimd], ignore_index=True)
    for kwargs in ({}, {"predictor": predictor}):
        a = fit_binary("CU", "ZR", observations=once, **kwargs)
        b = fit_binary("CU", "ZR", observations=twice, **kwargs)
        assert b.fit.coefficients == pytest.approx(a.fit.coefficients, rel=1e-12)
        assert b.sigma_J == pytest.approx(a.sigma_J, rel=1e-12)
        pd.testing.assert_frame_equal(a.points, b.points)


def test_prediction_rows_of_a_store_and_other_systems_are_ignored():
    obs = pd.concat([observations("AL-CU", [0.5], [-5000.0]),
                     observations("AL-CU", [0.5], [-99999.0], kind="prediction", source="old model"),
                     observations("AL-NI", [0.5], [-99999.0])])
    fit = fit_binary("AL", "CU", observations=obs)
    assert fit.fit.coefficients == (-20000.0,) and fit.sources == ("test.tdb",)


def test_no_data_at_all_is_a_clear_error():
    with pytest.raises(DatasetError, match="AL-CU: no observations"):
        fit_binary("AL", "CU")


class BadPredictor:
    def predict(self, a, b, x_b, return_std=True):
        return np.full(len(x_b), np.nan), np.ones(len(x_b))


def test_a_broken_predictor_is_named():
    with pytest.raises(DatasetError, match="AL-CU: the predictor"):
        fit_binary("AL", "CU", predictor=BadPredictor())


def test_fit_binaries_and_the_default_predictor(monkeypatch):
    monkeypatch.setattr(bf, "load_default_predictor", lambda: MiedemaDouble())
    fits = fit_binaries(["NI", "al", "Cu"], predictor="default", progress=False)
    assert list(fits) == ["AL-CU", "AL-NI", "CU-NI"]
    assert all(isinstance(f, BinaryFit) and f.origin == "predicted" for f in fits.values())
    pairs = fit_binaries(["ZR-CU", ("ni", "al")], predictor=MiedemaDouble(), progress=False)
    assert list(pairs) == ["AL-NI", "CU-ZR"]
    back = BinaryFit.from_dict(json.loads(json.dumps(fits["AL-CU"].to_dict())))
    assert back == fits["AL-CU"]
    # many binaries (batched predictions) with data for one: its posterior names the prior's version
    data = observations("AL-NI", [0.5], [-50000.0], kind="aimd", sigma=1000.0, source="run")
    fits = fit_binaries(["NI", "AL", "CU"], predictor=MiedemaDouble(), observations=data, progress=False)
    assert fits["AL-NI"].model.startswith("ConditionedPredictor miedema-double-1+data:")
    assert fits["AL-CU"].model == "MiedemaDouble miedema-double-1" and fits["AL-CU"].origin == "predicted"
    alone = fit_binary("AL", "NI", predictor=MiedemaDouble(), observations=data)
    assert fits["AL-NI"].fit.coefficients == pytest.approx(alone.fit.coefficients, rel=1e-9)


def test_default_predictor_absence_is_a_mixcalphad_error(monkeypatch, tmp_path):
    from mixcalphad.model import predictor

    monkeypatch.setattr(predictor, "_DEFAULT", {})
    monkeypatch.setattr(predictor, "default_model_path", lambda: tmp_path / "missing.json.gz")
    with pytest.raises(MixcalphadError, match="default model .* is missing"):
        bf.load_default_predictor()


# ------------------------------------------------------------------ command line
def test_cli_fit(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(bf, "load_default_predictor", lambda: MiedemaDouble())
    assert run_cli(["fit", "ni", "AL", "--no-store", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["system"] == "AL-NI" and out["origin"] == "predicted"
    assert out["fit"]["coefficients_J"][0] < -50000
    assert run_cli(["fit", "AL", "NI", "--no-store", "--max-order", "1"]) == 0
    text = capsys.readouterr().out
    assert "AL-NI" in text and "L1" in text and "L2" not in text


def test_cli_fit_with_a_store_and_errors(capsys, tmp_path, store):
    x = [0.25, 0.5, 0.75]
    store.add_observations(observations("AL-CU", x, rk_excess(x, [-40000.0])))
    assert run_cli(["fit", "AL", "CU", "--store", str(store.path), "--no-model", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["origin"] == "assessed" and out["fit"]["coefficients_J"] == pytest.approx([-40000.0])
    assert run_cli(["fit", "AL", "QQ", "--no-model", "--no-store"]) == 2
    assert "unknown element 'QQ'" in capsys.readouterr().err


def test_fit_settings_are_one_checked_object():
    from mixcalphad.calphad.binary_fit import FitSettings

    obs = observations("CU-ZR", [0.25, 0.5, 0.75], rk_excess([0.25, 0.5, 0.75], [-20000.0, 3000.0]))
    settings = FitSettings(max_order=1, temperature_model="enthalpy")
    by_object = fit_binary("CU", "ZR", observations=obs, settings=settings)
    by_keywords = fit_binary("CU", "ZR", observations=obs, max_order=1, temperature_model="enthalpy")
    assert by_object.fit.coefficients == by_keywords.fit.coefficients and by_object.fit.order <= 1
    assert by_object.temperature_model.kind == "enthalpy"
    for bad, message in (({"max_order": -1}, "max_order"), ({"criterion": "r2"}, "criterion"),
                         ({"x_grid": (0.5, 0.2)}, "x_grid"), ({"x_grid": (0.0, 0.5)}, "x_grid"),
                         ({"T_low_K": -5.0}, "T_low_K"), ({"temperature_model": "no-such-rule"}, "")):
        with pytest.raises(MixcalphadError, match=message):
            FitSettings(**bad)
    with pytest.raises(MixcalphadError, match="unknown fit setting"):
        fit_binary("CU", "ZR", observations=obs, combine="always")
