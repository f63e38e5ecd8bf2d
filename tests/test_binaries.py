import numpy as np
import pytest

from mixcalphad.chem.binaries import (all_pairs, binaries_of, check_elements, orient, parse_system, sorted_pair,
                                      split_system, system_name, x_sorted)
from mixcalphad.errors import CompositionError, MixcalphadError, UnknownElementError, UnsupportedElementError


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


def test_split_keeps_the_written_order():
    assert split_system("Ni-Al") == ("NI", "AL")
    with pytest.raises(CompositionError):
        split_system("NI-ni")


@pytest.mark.parametrize("system, x, name, x_sorted_", [
    ("NI-AL", 0.1, "AL-NI", 0.9), ("AL-NI", 0.1, "AL-NI", 0.1), ("w_ir", 0.25, "IR-W", 0.75)])
def test_orient_flips_x_with_the_pair(system, x, name, x_sorted_):
    got_name, got_x = orient(system, x)
    assert got_name == name and float(got_x) == pytest.approx(x_sorted_)
    np.testing.assert_allclose(orient("CU-AL", [0.0, 0.3, 1.0])[1], [1.0, 0.7, 0.0])


def test_all_pairs_is_the_one_enumeration():
    assert all_pairs(["Zr", "al", "CU", "AL"]) == [("AL", "CU"), ("AL", "ZR"), ("CU", "ZR")]
    assert binaries_of(["W", "IR", "AL"]) == ["AL-IR", "AL-W", "IR-W"]
    assert all_pairs(["AL"]) == []


def test_check_elements():
    assert check_elements(["cu", "AL", "Cu"], minimum=2) == ["AL", "CU"]
    with pytest.raises(UnknownElementError, match="'XX'"):
        check_elements(["AL", "XX"])
    with pytest.raises(UnsupportedElementError, match="element O is not supported.*fill"):
        check_elements(["CU", "O"], supported=True, needed_by="fill")
    assert check_elements(["CU", "O"]) == ["CU", "O"]  # known to the table, not required supported
    with pytest.raises(MixcalphadError, match="at least 2"):
        check_elements(["AL", "al"], minimum=2)
