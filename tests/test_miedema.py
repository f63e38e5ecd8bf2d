import numpy as np
import pytest

from mixcalphad.errors import CompositionError, MissingPropertyError, MixcalphadError, UnknownElementError
from mixcalphad.chem.miedema import miedema_class, miedema_for_observations, miedema_hmix


# Textbook liquid values at x = 0.5 (a = 0.73 on R/P, gamma = 0, no transformation term), kJ/mol
@pytest.mark.parametrize("a, b, expected", [
    ("AL", "NI", -22.7), ("CU", "ZR", -22.3), ("AL", "CU", -7.7), ("FE", "SI", -17.8),
    ("AG", "CU", 2.1), ("AU", "SN", -9.9)])
def test_reference_values_at_equimolar(a, b, expected):
    assert miedema_hmix(a, b, 0.5) / 1000 == pytest.approx(expected, abs=0.3)


def test_symmetry_and_endpoints():
    x = np.linspace(0, 1, 11)
    for a, b in [("AL", "NI"), ("CU", "ZR"), ("FE", "SI"), ("CA", "IR")]:
        np.testing.assert_allclose(miedema_hmix(a, b, x), miedema_hmix(b, a, 1 - x), atol=1e-9)
        h = miedema_hmix(a, b, [0.0, 1.0])
        assert np.all(h == 0.0)


def test_symmetry_with_volume_correction():
    x = np.linspace(0.05, 0.95, 7)
    np.testing.assert_allclose(miedema_hmix("AL", "NI", x, volume_correction=True),
                               miedema_hmix("NI", "AL", 1 - x, volume_correction=True), rtol=1e-10)


def test_vectorized_matches_scalar():
    x = np.array([0.1, 0.3, 0.5])
    vec = miedema_hmix("Cu", "zr", x)
    assert vec.shape == (3,)
    assert [float(miedema_hmix("CU", "ZR", v)) for v in x] == pytest.approx(list(vec))


def test_transformation_term_reproduces_takeuchi_inoue_fe_si():
    # Takeuchi & Inoue (2005) list -35 kJ/mol for Fe-Si, which includes -34 x_Si
    value = miedema_hmix("FE", "SI", 0.5, transformation=("SI",)) / 1000
    assert value == pytest.approx(-17.8 - 17.0, abs=0.3)


def test_alkaline_earth_option_changes_class_and_value():
    assert miedema_class("CA", "IR") == "mixed"
    assert miedema_class("CA", "IR", alkaline_earth_transition=True) == "transition-transition"
    assert miedema_hmix("CA", "IR", 0.5) != miedema_hmix("CA", "IR", 0.5, alkaline_earth_transition=True)


def test_classes():
    assert miedema_class("FE", "NI") == "transition-transition"
    assert miedema_class("AL", "NI") == "mixed"
    assert miedema_class("AL", "ZN") == "non-transition"


def test_bad_input():
    with pytest.raises(UnknownElementError, match="XX"):
        miedema_hmix("AL", "XX", 0.5)
    with pytest.raises(CompositionError, match=r"\[0, 1\]"):
        miedema_hmix("AL", "NI", [0.5, 1.2])
    with pytest.raises(CompositionError, match="twice"):
        miedema_hmix("AL", "al", 0.5)


def test_element_without_miedema_parameters_is_an_error_not_a_fill():
    with pytest.raises(MissingPropertyError, match="S"):
        miedema_hmix("FE", "S", 0.5)


def test_for_observations(tmp_path):
    import pandas as pd
    obs = pd.DataFrame({"system": ["AL-NI", "AL-NI", "CU-ZR"], "x_B": [0.5, 0.25, 0.5]})
    out = miedema_for_observations(obs)
    assert out.loc[0, "miedema_J"] == pytest.approx(float(miedema_hmix("AL", "NI", 0.5)))
    assert out.loc[1, "miedema_J"] == pytest.approx(float(miedema_hmix("AL", "NI", 0.25)))
    assert list(out["miedema_class"]) == ["mixed", "mixed", "transition-transition"]


@pytest.mark.parametrize("symbols, error, message", [
    (("XX",), UnknownElementError, "'XX'"),
    (("CU",), MixcalphadError, "CU have no Miedema transformation enthalpy"),
])
def test_transformation_elements_are_checked(symbols, error, message):
    with pytest.raises(error, match=message):
        miedema_hmix("FE", "SI", 0.5, transformation=symbols)


def test_cli_refuses_a_transformation_outside_the_pair(capsys):
    from mixcalphad.cli import main

    assert main(["miedema", "AL", "NI", "--transformation", "SI"]) != 0
    assert "not an element of AL-NI" in capsys.readouterr().err
    assert main(["miedema", "AL", "NI", "--transformation", "XX"]) != 0
    assert main(["miedema", "FE", "SI", "--transformation", "si", "--x", "0.5"]) == 0
