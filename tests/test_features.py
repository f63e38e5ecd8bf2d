import numpy as np
import pandas as pd
import pytest

from mixcalphad.chem.elements import get_element
from mixcalphad.errors import CompositionError, MissingPropertyError, MixcalphadError, UnknownElementError
from mixcalphad.model.features import FULL, PAPER10, BinaryFeaturizer


def test_mean_and_deviation_closed_form():
    f = BinaryFeaturizer(["mean_group", "dev_group", "mean_T_melt_K", "dev_T_melt_K"])
    out = f.transform_pairs(["AL"], ["NI"], [0.3])[0]
    tal, tni = get_element("AL")["T_melt_K"], get_element("NI")["T_melt_K"]
    assert out == pytest.approx([0.7 * 13 + 0.3 * 10, 2 * 0.7 * 0.3 * 3, 0.7 * tal + 0.3 * tni,
                                 2 * 0.7 * 0.3 * abs(tal - tni)])


def test_symmetry_under_swapping_the_pair():
    f = BinaryFeaturizer("full")
    x = np.linspace(0, 1, 7)
    np.testing.assert_allclose(f.transform_pairs(["CU"] * 7, ["ZR"] * 7, x),
                               f.transform_pairs(["ZR"] * 7, ["CU"] * 7, 1 - x), rtol=1e-12, atol=1e-12)


def test_feature_sets_and_labels():
    assert len(PAPER10) == 10 and set(PAPER10) <= set(FULL)
    f = BinaryFeaturizer("paper10").fit()
    assert f.feature_labels() == list(PAPER10)
    frame = pd.DataFrame({"system": ["AL-NI", "CU-ZR"], "x_B": [0.5, 0.25]})
    assert f.transform(frame).shape == (2, 10)
    assert list(f.get_feature_names_out()) == list(PAPER10)
    with pytest.raises(MixcalphadError, match="unknown feature set"):
        BinaryFeaturizer("everything").feature_labels()
    with pytest.raises(MixcalphadError, match="unknown feature"):
        BinaryFeaturizer(["mean_colour"]).feature_labels()


def test_bad_input():
    f = BinaryFeaturizer()
    with pytest.raises(UnknownElementError, match="QQ"):
        f.transform_pairs(["AL"], ["QQ"], [0.5])
    with pytest.raises(MissingPropertyError, match="miedema"):
        f.transform_pairs(["FE"], ["S"], [0.5])
    with pytest.raises(CompositionError):
        f.transform_pairs(["AL"], ["NI"], [1.5])
