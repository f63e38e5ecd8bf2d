"""Feasibility filters of the acquisition plan: element data, reasons, options."""
import numpy as np
import pytest

from mixcalphad.acquisition.feasibility import FeasibilityRules, element_volatility, feasibility_table
from mixcalphad.chem.elements import supported_elements
from mixcalphad.errors import AcquisitionError, UnknownElementError


def verdicts(systems, **rules):
    return feasibility_table(systems, FeasibilityRules(**rules), full=True).set_index("system")


def test_every_supported_element_has_a_boiling_point_and_p_is_filled():
    data = element_volatility()
    assert data.loc[supported_elements(), "boiling_point_K"].notna().all()
    # the element table (mendeleev) has no boiling point for P: the plan used to print no warning
    assert data.at["P", "boiling_point_K"] == pytest.approx(553.7)
    assert data.at["P", "liquid_class"] == "molecular" and data.at["AS", "liquid_class"] == "covalent"
    for el, tc in {"HG": 1750, "CS": 1938, "RB": 2093, "K": 2223}.items():
        assert data.at[el, "critical_T_K"] == tc and "CRC" in data.at[el, "source"]
    assert data.loc[["CE", "U", "PU", "LU"], "f_element"].all() and not data.at["LA", "f_element"]


def test_the_issue_examples_are_excluded_with_their_reasons():
    table = verdicts(["IR-RB", "HG-LU", "K-PT", "CS-P", "P-PU", "BE-U", "CA-IR", "AL-IR", "CU-NI"])
    assert "boiling point of RB (961 K)" in table.at["IR-RB", "excluded"]
    assert "critical T of RB (2093 K)" in table.at["IR-RB", "excluded"]
    assert "HG" in table.at["HG-LU", "excluded"] and "LU is an f-element" in table.at["HG-LU", "excluded"]
    assert "boiling point of K" in table.at["K-PT", "excluded"]
    assert "P forms a molecular liquid" in table.at["CS-P", "excluded"]
    assert "boiling point of P (554 K)" in table.at["CS-P", "excluded"]
    assert "PU is an f-element" in table.at["P-PU", "excluded"] and "U is an f-element" in table.at["BE-U", "excluded"]
    assert table.at["CA-IR", "exclusion_kinds"] == "above boiling point"
    assert table.at["AL-IR", "excluded"] == "" and table.at["AL-IR", "T_run_K"] == 2750
    assert table.at["CU-NI", "excluded"] == "" and table.at["CU-NI", "notes"] == "liquidus unknown"


def test_rules_can_be_relaxed():
    table = verdicts(["BE-U", "GE-P", "AL-C"], allow_f_elements=True, allow_molecular=True, exclude_elements=())
    assert table.at["BE-U", "excluded"] == "" and "POTCAR U" in table.at["BE-U", "notes"]
    assert "molecular" not in table.at["GE-P", "excluded"]
    assert "boiling point of P" in table.at["GE-P", "excluded"]  # still above boiling at 1250 K
    default = feasibility_table(["AL-C"]).iloc[0]  # a static reason: T_run not even computed
    assert default["excluded"] == "element C excluded (carbon: a liquid only under high pressure)"


def test_critical_rule_binds_where_the_boiling_point_would_not():
    # with a large boiling margin ignored, the critical fraction alone decides: 0.3 × T_c(Hg) = 525 K
    table = verdicts(["CU-HG", "HG-SN"], max_reduced_T=0.3)
    assert "critical T of HG" in table.at["HG-SN", "excluded"]  # T_run 550 K > 525 K
    assert verdicts(["HG-SN"]).at["HG-SN", "excluded"] == ""     # default 0.6: fine below boiling (630 K)


def test_known_liquidus_raises_t_and_then_the_boiling_rule_applies():
    plain = verdicts(["AL-MG"])
    assert plain.at["AL-MG", "T_run_K"] == 950 and plain.at["AL-MG", "excluded"] == ""
    raised = verdicts(["AL-MG"], liquidus_K={"mg-al": 1400.0})
    assert raised.at["AL-MG", "T_run_K"] == 1450 and raised.at["AL-MG", "liquidus_K"] == 1400
    assert "boiling point of MG (1363 K)" in raised.at["AL-MG", "excluded"]
    ok = verdicts(["CU-ZR"], liquidus_K={"CU-ZR": 2300.0})
    assert ok.at["CU-ZR", "T_run_K"] == 2350 and "raised above the known liquidus 2300 K" in ok.at["CU-ZR", "notes"]


def test_flags_and_user_exclusions():
    import pandas as pd

    flags = pd.DataFrame({"system": ["NI-AL", "CU-NI"], "flag": ["immiscible", "checked"]})
    table = feasibility_table(["AL-NI", "CU-NI", "CU-ZR"], FeasibilityRules(exclude_systems=("zr-cu",)), flags)
    table = table.set_index("system")
    assert table.at["AL-NI", "excluded"] == "flagged immiscible"
    assert table.at["CU-NI", "excluded"] == ""
    assert table.at["CU-ZR", "excluded"] == "excluded by user"


def test_static_exclusions_skip_the_temperature_unless_full():
    fast = feasibility_table(["P-PU"]).iloc[0]
    assert np.isnan(fast["T_run_K"]) and fast["exclusion_kinds"] == "molecular liquid; f-element"
    full = feasibility_table(["P-PU"], full=True).iloc[0]
    assert full["T_run_K"] == 950 and "above boiling point" in full["exclusion_kinds"]


def test_bad_rules():
    with pytest.raises(AcquisitionError, match="liquidus_K of AL-CU"):
        FeasibilityRules(liquidus_K={"AL-CU": -5})
    with pytest.raises(AcquisitionError, match="max_reduced_T"):
        FeasibilityRules(max_reduced_T=1.5)
    with pytest.raises(AcquisitionError, match="boiling_margin_K"):
        FeasibilityRules(boiling_margin_K=-1)
    with pytest.raises(UnknownElementError, match="XX"):
        FeasibilityRules(exclude_elements=("XX",))
