"""Per-binary temperature models: rule names, resolution per pair, κ reduced only for convexity."""
import numpy as np
import pytest

from mixcalphad.calphad.convexity import MARGIN, T_HIGH_K, curvature_ratio, min_curvature_ratio
from mixcalphad.calphad.excess_entropy import (KaptayMelting, LearnedEntropy, admissible_temperature_model,
                                               pair_temperature_model, temperature_rule)
from mixcalphad.calphad.redlich_kister import ENTHALPY_ONLY, TemperatureModel, kaptay
from mixcalphad.chem.elements import element_property
from mixcalphad.errors import MixcalphadError


def test_rule_names():
    assert temperature_rule("enthalpy") == ENTHALPY_ONLY
    assert temperature_rule("kaptay").tau_K == 3000.0
    assert temperature_rule("kaptay-4500").tau_K == 4500.0
    rule = temperature_rule("kaptay-3Tm")
    assert isinstance(rule, KaptayMelting) and rule.factor == 3.0
    tm = pair_temperature_model(rule, "CU", "NI")
    assert tm.tau_K == pytest.approx(3.0 * float(np.mean(element_property(["CU", "NI"], "T_melt_K"))))
    assert isinstance(temperature_rule(None), LearnedEntropy)
    learned = pair_temperature_model(temperature_rule("learned"), "NI", "AL")
    assert learned.kind == "entropy" and learned.kappa == pytest.approx(LearnedEntropy().model.kappa("AL", "NI"))
    for bad in ("kaptay--1", "kaptay-0", "gibbs", "kaptay-xTm"):
        with pytest.raises(MixcalphadError):
            temperature_rule(bad)
    with pytest.raises(MixcalphadError):
        pair_temperature_model(object(), "AL", "NI")


def test_b_coefficients_and_kappa_of_every_kind():
    a = [-40000.0, 5000.0]
    assert ENTHALPY_ONLY.b_coefficients(a) == pytest.approx([0.0, 0.0])
    assert kaptay(2000.0).b_coefficients(a) == pytest.approx([20.0, -2.5])
    tm = TemperatureModel("entropy", kappa_per_K=-1e-4)
    assert tm.b_coefficients(a) == pytest.approx([-4.0, 0.5]) and tm.factor(1000.0) == pytest.approx(1.1)
    assert TemperatureModel.from_dict(tm.to_dict()) == tm
    with pytest.raises(MixcalphadError):
        TemperatureModel("entropy")
    with pytest.raises(MixcalphadError):
        TemperatureModel("enthalpy", kappa_per_K=1e-4)


def test_kappa_is_reduced_only_as_much_as_convexity_needs():
    # L0 = -100 kJ/mol with tau = 1500 K: G_ex changes sign at 1500 K and at 6000 K the liquid demixes
    L = [-100000.0]
    tm = TemperatureModel("entropy", kappa_per_K=1 / 1500.0)
    assert min_curvature_ratio(L, 500.0, T_HIGH_K, tm) < 0
    fixed = admissible_temperature_model(L, tm, 500.0)
    assert 0 < fixed.kappa < tm.kappa and "for a convex liquid" in fixed.label
    assert min_curvature_ratio(L, 500.0, T_HIGH_K, fixed) >= MARGIN
    # closed form of the regular solution at x = 0.5 and 6000 K: c = 1 - (1 - 6000 κ) L0/(2 R 6000) = MARGIN
    R = 8.314462618
    kappa = (1 + (1 - MARGIN) * 2 * R * 6000 / 100000.0) / 6000.0
    assert fixed.kappa == pytest.approx(kappa, rel=1e-3)
    assert np.all(curvature_ratio(np.linspace(0.01, 0.99, 99), [500.0, 3000.0, 6000.0], L, fixed) >= MARGIN - 1e-9)
    # unchanged: already convex, or κ = 0, or the enthalpy alone is concave (its fit must change instead)
    mild = TemperatureModel("entropy", kappa_per_K=1 / 5000.0)
    assert admissible_temperature_model(L, mild, 500.0) == mild
    assert admissible_temperature_model(L, ENTHALPY_ONLY, 500.0) == ENTHALPY_ONLY
    assert admissible_temperature_model([60000.0], tm, 500.0) == tm
    # a Kaptay τ stays a Kaptay τ, longer
    k = admissible_temperature_model(L, kaptay(1500.0), 500.0)
    assert k.kind == "kaptay" and k.tau_K == pytest.approx(1 / kappa, rel=1e-3)
