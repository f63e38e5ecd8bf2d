"""The excess-entropy model: known κ recovered, robustness, one vote per binary, σ, persistence."""
import numpy as np
import pandas as pd
import pytest

from mixcalphad.chem.miedema import CLASSES, miedema_class
from mixcalphad.errors import DatasetError, MixcalphadError
from mixcalphad.model.entropy import (FORMS, ExcessEntropyModel, entropy_targets, load_default_entropy_model,
                                      pair_z)

X = np.round(np.arange(0.1, 0.91, 0.1), 2)
# one pair of each Miedema class (checked below), several per class
PAIRS = [("AL", "NI"), ("AL", "CU"), ("FE", "SI"), ("CU", "NI"), ("FE", "NI"), ("CO", "CR"), ("AL", "MG"),
         ("MG", "ZN"), ("AL", "ZN")]


def curves(kappa_of, *, scale=1.0, noise=0.0, seed=0):
    """Assessed-like rows with H = L0 x(1-x) and S = κ(pair) H (+ noise, J/mol/K)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i, (a, b) in enumerate(PAIRS):
        H = -40000.0 * scale * (1 + 0.3 * i) * X * (1 - X)
        S = kappa_of(a, b) * H + noise * rng.standard_normal(X.size)
        rows.append(pd.DataFrame({"system": f"{a}-{b}", "x_B": X, "T_K": 1873.0, "HM_MIX_J": H, "SE_J": S,
                                  "kind": "assessed", "source": f"file{i}"}))
    return pd.concat(rows, ignore_index=True)


def test_constant_form_recovers_kaptay_tau():
    model = ExcessEntropyModel(form="constant", calibrate=False).fit(curves(lambda a, b: 1 / 3000.0))
    for a, b in PAIRS:
        assert 1.0 / model.kappa(a, b) == pytest.approx(3000.0, rel=1e-3)
    S, sigma = model.predict("NI", "AL", [0.5], [-10000.0], return_std=True)
    assert S[0] == pytest.approx(-10000.0 / 3000.0, rel=1e-3) and sigma[0] >= 0


def test_class_and_melting_forms_recover_their_kappa():
    per_class = dict(zip(CLASSES, (1 / 2000.0, 1 / 4000.0, 1 / 8000.0)))
    assert {miedema_class(a, b) for a, b in PAIRS} == set(CLASSES)
    model = ExcessEntropyModel(form="class", calibrate=False).fit(curves(lambda a, b: per_class[miedema_class(a, b)]))
    for a, b in PAIRS:
        assert model.kappa(a, b) == pytest.approx(per_class[miedema_class(a, b)], rel=1e-3)
    from mixcalphad.chem.elements import element_property

    def melting(a, b):
        return 1.0 / (3.0 * float(np.mean(element_property([a, b], "T_melt_K"))))
    model = ExcessEntropyModel(form="melting", calibrate=False).fit(curves(melting))
    assert model.kappa("AL", "NI") == pytest.approx(melting("AL", "NI"), rel=1e-3)


def test_one_outlier_binary_does_not_move_kappa_and_rows_do_not_count_as_votes():
    data = curves(lambda a, b: 1 / 3000.0)
    # a wild assessment: S opposite in sign and 20 times larger, with 10x as many rows
    wild = pd.concat([data[data["system"] == "AL-NI"].assign(SE_J=lambda f: -20 * f["SE_J"], x_B=x)
                      for x in np.linspace(0.05, 0.95, 90)[:90:9]], ignore_index=True)
    wild = pd.DataFrame({"system": "AL-ZN", "x_B": np.linspace(0.05, 0.95, 90), "T_K": 1873.0,
                         "HM_MIX_J": 5000.0, "SE_J": -20 * 5000.0 / 3000.0, "kind": "assessed", "source": "wild"})
    model = ExcessEntropyModel(form="constant", calibrate=False).fit(
        pd.concat([data[data["system"] != "AL-ZN"], wild], ignore_index=True))
    assert 1.0 / model.kappa("AL", "NI") == pytest.approx(3000.0, rel=0.05)
    rows = entropy_targets(pd.concat([data, wild], ignore_index=True))
    assert rows.groupby("system")["weight"].sum().to_numpy() == pytest.approx(1.0)


def test_sigma_model_is_calibrated_on_held_out_residuals():
    model = ExcessEntropyModel(form="constant", n_folds=3).fit(curves(lambda a, b: 1 / 3000.0, noise=0.5))
    # the noise is 0.5 J/mol/K at every x: the σ model must be of that size where H is small
    s = model.for_pair("AL", "NI").sigma(np.array([0.5]), np.array([0.0]))[0]
    assert 0.25 < s < 1.0
    exact = ExcessEntropyModel(form="constant", n_folds=3).fit(curves(lambda a, b: 1 / 3000.0))
    assert exact.for_pair("AL", "NI").sigma(0.5, -10000.0) == pytest.approx(0.0, abs=1e-3)


def test_zero_form_and_round_trip():
    data = curves(lambda a, b: 1 / 3000.0)
    assert ExcessEntropyModel(form="zero", calibrate=False).fit(data).kappa("AL", "NI") == 0.0
    model = ExcessEntropyModel(form="learned", calibrate=False).fit(data)
    again = ExcessEntropyModel.from_dict(model.to_dict())
    assert again.kappa("CU", "NI") == model.kappa("CU", "NI")
    assert set(FORMS) == {"zero", "constant", "class", "melting", "learned"}
    assert pair_z("learned", ["AL"], ["NI"]).shape == (1, 6)


def test_errors_are_named():
    with pytest.raises(DatasetError, match="SE_J"):
        ExcessEntropyModel().fit(curves(lambda a, b: 0.0).drop(columns="SE_J"))
    with pytest.raises(DatasetError, match="no assessed observation"):
        ExcessEntropyModel().fit(curves(lambda a, b: 0.0).assign(kind="aimd"))
    with pytest.raises(MixcalphadError, match="not fitted"):
        ExcessEntropyModel().kappa("AL", "NI")
    with pytest.raises(MixcalphadError, match="unknown excess-entropy form"):
        pair_z("quadratic", ["AL"], ["NI"])


def test_shipped_model_matches_a_fit_on_the_default_data():
    from mixcalphad.data.corpus import build_dataset

    shipped = load_default_entropy_model()
    fresh = ExcessEntropyModel(form=shipped.form).fit(build_dataset(progress=False).observations)
    assert fresh.coef_ == pytest.approx(shipped.coef_, rel=1e-6)
    # Kaptay's sign: S_ex has the sign of H_ex in every Miedema class, τ between 1000 and 20000 K
    for a, b in (("AL", "NI"), ("CU", "NI"), ("AL", "MG")):
        assert 1 / 20000.0 < shipped.kappa(a, b) < 1 / 1000.0
