import numpy as np
import pytest

from mixcalphad.chem.binaries import parse_system, sorted_pair, system_name, x_sorted
from mixcalphad.errors import CompositionError, MixcalphadError


def test_sorted_pair_and_name():
    assert sorted_pair("Cu", "al") == ("AL", "CU")
    assert system_name("W", "IR") == "IR-W"
    assert parse_system("Ir-Al") == ("AL", "IR")
    assert parse_system("AL_CU") == ("AL", "CU")


def test_x_sorted_flips_for_unsorted_input():
    assert float(x_sorted("CU", "AL", 0.2)) == pytest.approx(0.8)
    np.testing.assert_allclose(x_sorted("AL", "CU", [0.2, 0.4]), [0.2, 0.4])


@pytest.mark.parametrize("bad", ["AL", "AL-CU-NI", "", "-"])
def test_parse_system_errors(bad):
    with pytest.raises(MixcalphadError):
        parse_system(bad)


def test_same_element_twice():
    with pytest.raises(CompositionError):
        sorted_pair("al", "AL")
