"""The shipped element table and its runtime access (mixcalphad.chem.elements)."""
import importlib.util
import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from mixcalphad.chem.elements import (PROPERTY_COLUMNS, SUPPORT_COLUMNS, element_property, element_table,
                                 get_element, supported_elements)
from mixcalphad.errors import MissingPropertyError, MixcalphadError, UnknownElementError

ROOT = Path(__file__).resolve().parents[1]
DATA = resources.files("mixcalphad") / "data"
GENERATED = ("elements.csv", "elements_sources.json", "LICENSE-matminer.txt")
HAVE_BUILD_DEPS = all(importlib.util.find_spec(m) is not None for m in ("mendeleev", "matminer"))


# SGTE unary checks (Dinsdale 1991): T_melt (K), H_fus (kJ/mol)
@pytest.mark.parametrize("element, t_melt, h_fus", [
    ("CU", 1357.77, 13.263), ("AL", 933.47, 10.711), ("W", 3694.9, 52.31),
    ("SI", 1687.0, 50.21), ("C", 4765.3, 117.37),
])
def test_fusion_data_matches_sgte(element, t_melt, h_fus):
    row = get_element(element)
    assert row["T_melt_K"] == pytest.approx(t_melt, abs=0.5)
    assert row["H_fus_J"] / 1000 == pytest.approx(h_fus, abs=0.05)
    assert row["S_fus_J_K"] == pytest.approx(row["H_fus_J"] / row["T_melt_K"], rel=1e-4)


def test_iron_melts_at_sgte_value_with_magnetic_terms():
    assert get_element("FE")["T_melt_K"] == pytest.approx(1810.95, abs=0.5)
    assert get_element("FE")["solid_phase"] == "BCC_A2"


@pytest.mark.parametrize("element, cp", [("CU", 31.38), ("AL", 31.748), ("W", 53.998)])
def test_liquid_heat_capacity_at_melting_point(element, cp):
    assert get_element(element)["Cp_liq_J_K"] == pytest.approx(cp, abs=0.01)


def test_melting_solid_is_not_always_the_reference_phase():
    ti, hg = get_element("TI"), get_element("HG")
    assert (ti["ser_phase"], ti["solid_phase"]) == ("HCP_A3", "BCC_A2")
    assert (hg["ser_phase"], hg["solid_phase"]) == ("LIQUID", "RHOMBO_A10")


def test_table_shape_and_index():
    table = element_table()
    assert len(table) == 78
    assert table.index.is_monotonic_increasing and table.index.name == "element"
    assert {"N2", "O2"}.isdisjoint(table.index)
    assert table.loc["NA", "symbol"] == "Na"  # "NA" must not be read as missing
    assert set(PROPERTY_COLUMNS) <= set(table.columns)
    assert np.isnan(table.loc["N", "T_melt_K"])  # no SGTE solid: missing, not filled


def test_element_table_is_a_copy():
    table = element_table()
    table.loc["CU", "T_melt_K"] = 0.0
    assert element_table().loc["CU", "T_melt_K"] > 1000


def test_lookup_is_case_insensitive():
    for symbol in ("cu", "Cu", " CU "):
        row = get_element(symbol)
        assert row.name == "CU" and row["symbol"] == "Cu"
    assert element_property(["al", "Cu"], "Z").tolist() == [13, 29]
    assert element_property("w", "Z").tolist() == [74]


def test_unknown_element_names_the_symbol():
    with pytest.raises(UnknownElementError, match="XX"):
        get_element("Xx")
    with pytest.raises(KeyError):
        element_property(["AL", "QQ"], "Z")


def test_missing_property_is_an_error():
    with pytest.raises(MissingPropertyError, match=r"SE.*miedema_phi_V.*Miedema's model") as err:
        element_property(["AL", "SE"], "miedema_phi_V", needed_by="Miedema's model")
    assert err.value.symbol == "SE" and err.value.prop == "miedema_phi_V"


def test_unknown_or_text_column_is_an_error():
    with pytest.raises(MixcalphadError, match="nonsense"):
        element_property(["AL"], "nonsense")
    with pytest.raises(MixcalphadError, match="block"):
        element_property(["AL"], "block")
    with pytest.raises(MixcalphadError, match="nonsense"):
        supported_elements(["nonsense"])


def test_f_block_elements_are_group_3():
    for element in ("LA", "CE", "EU", "LU", "TH", "U", "PU", "AM"):
        assert get_element(element)["group"] == 3
    assert get_element("CE")["block"] == "f"


@pytest.mark.parametrize("element, transition", [
    ("CU", True), ("AG", True), ("AU", True), ("LA", True), ("CE", True), ("U", True),
    ("FE", True), ("ZN", False), ("CD", False), ("HG", False), ("CA", False), ("SR", False),
    ("BA", False), ("AL", False),
])
def test_transition_metal_flag(element, transition):
    assert bool(get_element(element)["transition_metal"]) is transition


def test_miedema_columns_are_converted():
    cu = get_element("CU")  # matminer: V = 7.12 cm3, n_ws = 3.18, H_trans in kJ/mol
    assert cu["miedema_V23_cm2"] == pytest.approx(7.12 ** (2 / 3), rel=1e-5)
    assert cu["miedema_nws13"] == pytest.approx(3.18 ** (1 / 3), rel=1e-5)
    assert get_element("SI")["miedema_Htrans_J"] == 34000.0


def test_supported_elements():
    supported = supported_elements()
    assert len(supported) >= 65
    assert {"AL", "CU", "W", "IR", "OS", "RE", "SI"} <= set(supported)
    assert supported == sorted(supported)
    assert not element_table().loc[supported, list(SUPPORT_COLUMNS)].isna().any().any()
    assert "SE" not in supported and "N" not in supported
    assert "SE" in supported_elements(["T_melt_K"])


def test_sources_record_provenance():
    sources = json.loads((DATA / "elements_sources.json").read_text(encoding="utf-8"))
    assert sources["rows"] == len(element_table())
    assert sources["generated_by"] == "python scripts/build_elements.py"
    assert "group 3" in sources["group_rule"]
    assert set(sources["versions"]) == {"espei", "pycalphad", "mendeleev", "matminer"}
    assert isinstance(sources["miedema_crosscheck"]["disagreements"], list)
    assert "Lawrence Berkeley" in (DATA / "LICENSE-matminer.txt").read_text(encoding="utf-8")


@pytest.mark.skipif(not HAVE_BUILD_DEPS, reason="needs the data extra (mendeleev, matminer)")
def test_build_script_reproduces_shipped_files(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "scripts" / "build_elements.py"), "--out",
                    str(tmp_path)], check=True, capture_output=True)
    for name in GENERATED:
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name
