"""Feasibility filters of the acquisition plan: element data, reasons, options, liquidus table."""
import numpy as np
import pandas as pd
import pytest

from mixcalphad.acquisition.feasibility import (DEFAULT_BOILING_MARGIN_K, DEFAULT_COMPOUND_HMIX_J, FeasibilityRules,
                                                assessed_liquidus, element_volatility, feasibility_table)
from mixcalphad.chem.elements import supported_elements
from mixcalphad.errors import AcquisitionError, UnknownElementError


def verdicts(systems, **rules):
    return feasibility_table(systems, FeasibilityRules(**rules), full=True).set_index("system")


def test_every_supported_element_has_a_boiling_point_and_p_is_filled():
    data = element_volatility()
    assert data.loc[supported_elements(), "boiling_point_K"].notna().all()
    # the element table (mendeleev) has no boiling point for P: the plan used to print no warning
    assert data.at["P", "boiling_point_K"] == pytest.approx(553.65)
    assert data.at["P", "liquid_class"] == "molecular" and data.at["AS", "liquid_class"] == "covalent"
    assert data.loc[["CE", "U", "PU", "LU"], "f_element"].all() and not data.at["LA", "f_element"]


def test_volatility_values_with_their_sources():
    """Values checked against the cited pages (CRC Handbook via the Wikipedia data pages and infoboxes)."""
    data = element_volatility()
    expected = {  # element: (T_b K, T_c K, kind)
        "HG": (629.88, 1750, "reported"), "CS": (944, 1938, "reported"), "RB": (961, 2093, "extrapolated"),
        "K": (1032, 2223, "extrapolated"), "NA": (1156.09, 2573, "extrapolated"), "LI": (1615, 3223, "extrapolated"),
        "P": (553.65, 994, "reported"), "AS": (887, 1673, "reported")}
    for el, (tb, tc, kind) in expected.items():
        assert data.at[el, "boiling_point_K"] == pytest.approx(tb), el
        assert data.at[el, "critical_T_K"] == pytest.approx(tc) and data.at[el, "critical_T_kind"] == kind, el
        assert "boiling point: " in data.at[el, "source"] and "critical T (" in data.at[el, "source"], el
    assert "CRC" in data.at["K", "source"] and "Gokcen" in data.at["AS", "source"]
    assert np.isnan(data.at["TE", "critical_T_K"]) and data.at["TE", "critical_T_kind"] == ""
    # every row of the file has a boiling-point source, and a critical-T source where it has a value
    from importlib import resources

    with (resources.files("mixcalphad") / "data" / "element_volatility.csv").open(encoding="utf-8") as fh:
        raw = pd.read_csv(fh, keep_default_na=False, na_values=[""])
    assert raw["boiling_point_source"].str.len().gt(10).all()
    with_tc = raw["critical_T_K"].notna()
    assert raw.loc[with_tc, "critical_T_source"].str.len().gt(10).all()
    assert set(raw.loc[with_tc, "critical_T_kind"]) <= {"reported", "extrapolated"}


def test_the_issue_examples_are_excluded_with_their_reasons():
    table = verdicts(["IR-RB", "HG-LU", "K-PT", "CS-P", "P-PU", "BE-U", "CA-IR", "CU-NI"])
    assert "T_run 2750 K > boiling point of RB (961 K) − 100 K margin" in table.at["IR-RB", "excluded"]
    assert "critical T of RB (2093 K, extrapolated)" in table.at["IR-RB", "excluded"]
    assert "HG" in table.at["HG-LU", "excluded"] and "LU is an f-element" in table.at["HG-LU", "excluded"]
    assert "boiling point of K" in table.at["K-PT", "excluded"]
    assert "P forms a molecular liquid" in table.at["CS-P", "excluded"]
    assert "boiling point of P (554 K)" in table.at["CS-P", "excluded"]
    assert "PU is an f-element" in table.at["P-PU", "excluded"] and "U is an f-element" in table.at["BE-U", "excluded"]
    assert table.at["CA-IR", "exclusion_kinds"].startswith("above boiling point")
    assert table.at["CU-NI", "excluded"] == "" and table.at["CU-NI", "T_run_K"] == 1750


def test_boiling_margin_names_element_t_run_and_t_b():
    assert FeasibilityRules().boiling_margin_K == DEFAULT_BOILING_MARGIN_K == 100.0
    table = verdicts(["BE-LI", "AL-IR"])
    # Be-Li runs at 1600 K, 15 K below the boiling point of Li: out at the default margin
    assert table.at["BE-LI", "T_run_K"] == 1600
    assert table.at["BE-LI", "excluded"] == "T_run 1600 K > boiling point of LI (1615 K) − 100 K margin"
    # the paper's Al-Ir at 2750 K, 42 K below the boiling point of Al
    assert table.at["AL-IR", "excluded"].startswith("T_run 2750 K > boiling point of AL (2792 K) − 100 K margin")
    no_margin = verdicts(["BE-LI", "AL-IR"], boiling_margin_K=0, unknown_liquidus="note")
    assert no_margin.at["AL-IR", "excluded"] == ""
    assert "boiling point" not in no_margin.at["BE-LI", "excluded"]
    assert "boiling point of LI" in verdicts(["BE-LI"], boiling_margin_K=0.0, liquidus_K={"BE-LI": 1700}).at[
        "BE-LI", "excluded"]  # raised to 1750 K: above boiling even without a margin


def test_rules_can_be_relaxed():
    table = verdicts(["BE-U", "GE-P", "AL-C"], allow_f_elements=True, allow_molecular=True, exclude_elements=(),
                     unknown_liquidus="note")
    assert "boiling point of U" not in table.at["BE-U", "excluded"] and "POTCAR U" in table.at["BE-U", "notes"]
    assert "molecular" not in table.at["GE-P", "excluded"]
    assert "boiling point of P" in table.at["GE-P", "excluded"]  # still above boiling at 1250 K
    default = feasibility_table(["AL-C"]).iloc[0]  # a static reason: T_run not even computed
    assert default["excluded"] == "element C excluded (carbon: a liquid only under high pressure)"


def test_critical_rule_binds_where_the_boiling_point_would_not():
    # the critical fraction alone decides: 0.3 × T_c(Hg) = 525 K < T_run 550 K; Hg boils at 630 K
    table = verdicts(["HG-SN"], max_reduced_T=0.3, boiling_margin_K=0)
    assert table.at["HG-SN", "exclusion_kinds"] == "near critical point"
    assert "critical T of HG (1750 K)" in table.at["HG-SN", "excluded"]
    assert verdicts(["HG-SN"], boiling_margin_K=0).at["HG-SN", "excluded"] == ""  # 0.6 T_c = 1050 K


def test_assessed_liquidus_table_raises_t_run():
    table = assessed_liquidus()
    assert table.index.is_unique and (table["liquidus_K"] > 300).all() and (table["n_files"] >= 1).all()
    # Al-Ni: B2 AlNi melts congruently near 1911 K, above Ni (1728 K); several files, the median
    assert table.at["AL-NI", "n_files"] >= 3 and 1900 < table.at["AL-NI", "liquidus_K"] < 2000
    assert table.at["AL-NI", "source"].startswith("median of")
    row = verdicts(["AL-NI"]).loc["AL-NI"]
    assert row["liquidus_K"] == table.at["AL-NI", "liquidus_K"] and row["T_run_K"] == 2000
    assert "T raised above the known liquidus" in row["notes"] and "alni_dupin_2001.tdb" in row["notes"]
    # a liquidus below the melting points leaves T_run alone and is reported
    cu_ni = verdicts(["CU-NI"]).loc["CU-NI"]
    assert cu_ni["liquidus_K"] < 1728 and cu_ni["T_run_K"] == 1750 and "liquidus " in cu_ni["notes"]
    # the user's value wins over the table
    assert verdicts(["AL-NI"], liquidus_K={"NI-AL": 2100}).at["AL-NI", "T_run_K"] == 2150


def test_unknown_liquidus_and_strong_compound_former_is_excluded_or_noted():
    threshold = FeasibilityRules().compound_hmix_J
    assert threshold == DEFAULT_COMPOUND_HMIX_J < 0
    # Hf-Pt: no assessed liquidus, Miedema −89 kJ/mol (a strong compound former); Ag-Au: near ideal
    table = verdicts(["HF-PT", "AG-AU"])
    assert table.at["HF-PT", "exclusion_kinds"] == "possible high-melting compound"
    assert "Miedema ΔH_mix(0.5) = -89 kJ/mol" in table.at["HF-PT", "excluded"]
    assert table.at["AG-AU", "excluded"] == "" and table.at["AG-AU", "notes"] == "liquidus unknown"
    noted = verdicts(["HF-PT"], unknown_liquidus="note")
    assert noted.at["HF-PT", "excluded"] == "" and "a compound may melt above" in noted.at["HF-PT", "notes"]
    # valence compounds that Miedema misses: AlSb (Miedema +2 kJ/mol) melts ~400 K above Al and Sb
    valence = verdicts(["AL-SB", "MG-SB", "AL-SI", "BI-LI", "CS-HG"])
    assert "AL-SB forms valence (Zintl or III-V) compounds" in valence.at["AL-SB", "excluded"]
    for s in ("AL-SB", "MG-SB", "BI-LI", "CS-HG"):
        assert valence.at[s, "exclusion_kinds"] == "possible high-melting compound", s
    assert valence.at["AL-SI", "excluded"] == ""  # eutectic, and its liquidus is in the table
    # without the table, Al-Ni falls under the rule only if Miedema says it is a strong compound former
    plain = verdicts(["AL-NI"], assessed_liquidus=False)
    assert plain.at["AL-NI", "T_run_K"] == 1750 and np.isnan(plain.at["AL-NI", "liquidus_K"])


def test_flags_and_user_exclusions():
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
    with pytest.raises(AcquisitionError, match="unknown_liquidus"):
        FeasibilityRules(unknown_liquidus="guess")
    with pytest.raises(UnknownElementError, match="XX"):
        FeasibilityRules(exclude_elements=("XX",))
