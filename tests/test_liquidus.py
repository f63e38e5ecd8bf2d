"""Liquidus against the closed form of an ideal liquid over pure solids (Schröder–van Laar):
ln x_i = −ΔH_i/R (1/T − 1/Tm_i) for the primary solid i."""
import numpy as np
import pytest

from mixcalphad.cli import main
from mixcalphad.errors import CompositionError, MixcalphadError, TDBError
from mixcalphad.calphad.liquidus import LiquidusCalculator, isopleth, liquidus

R = 8.314462618
# Cu: Tm 1300 K, ΔH 13 kJ; Ni: Tm 1700 K, ΔH 17 kJ; Ag: Tm 1200 K, ΔH 12 kJ (made-up round numbers)
IDEAL_TDB = """
ELEMENT /-   ELECTRON_GAS 0 0 0 !
ELEMENT VA VACUUM 0 0 0 !
ELEMENT AG FCC_A1 107.87 0 0 !
ELEMENT CU FCC_A1 63.546 0 0 !
ELEMENT NI FCC_A1 58.69 0 0 !
PHASE LIQUID % 1 1.0 !
CONSTITUENT LIQUID :AG,CU,NI: !
PHASE SOLAG % 1 1.0 !
CONSTITUENT SOLAG :AG: !
PHASE SOLCU % 1 1.0 !
CONSTITUENT SOLCU :CU: !
PHASE SOLNI % 1 1.0 !
CONSTITUENT SOLNI :NI: !
PARAMETER G(SOLAG,AG;0) 1 0; 6000 N !
PARAMETER G(SOLCU,CU;0) 1 0; 6000 N !
PARAMETER G(SOLNI,NI;0) 1 0; 6000 N !
PARAMETER G(LIQUID,AG;0) 1 12000-10*T; 6000 N !
PARAMETER G(LIQUID,CU;0) 1 13000-10*T; 6000 N !
PARAMETER G(LIQUID,NI;0) 1 17000-10*T; 6000 N !
"""
TM = {"AG": 1200.0, "CU": 1300.0, "NI": 1700.0}
DH = {"AG": 12000.0, "CU": 13000.0, "NI": 17000.0}


def schroeder(el, x):
    return 1.0 / (1.0 / TM[el] - R * np.log(x) / DH[el])


@pytest.fixture(scope="module")
def tdb(tmp_path_factory):
    path = tmp_path_factory.mktemp("liq") / "ideal.tdb"
    path.write_text(IDEAL_TDB)
    return path


def test_binary_matches_closed_form(tdb):
    x_ni = np.array([0.1, 0.3, 0.8])
    result = liquidus(tdb, ["CU", "NI"], x_ni, T_min=500, T_max=1900, progress=False)
    expected = np.maximum(schroeder("CU", 1 - x_ni), schroeder("NI", x_ni))
    np.testing.assert_allclose(result.T_K, expected, atol=0.2)
    assert result.primary == ["SOLCU", "SOLCU", "SOLNI"]


def test_ternary_matches_closed_form(tdb):
    calc = LiquidusCalculator(tdb, ["AG", "CU", "NI"])
    x = np.array([[0.1, 0.1], [0.05, 0.7]])  # (x_CU, x_NI)
    result = calc.compute(x, T_min=500, T_max=1900, progress=False)
    x_ag = 1 - x.sum(axis=1)
    expected = np.max([schroeder("AG", x_ag), schroeder("CU", x[:, 0]), schroeder("NI", x[:, 1])], axis=0)
    np.testing.assert_allclose(result.T_K, expected, atol=0.2)


def test_out_of_range_is_flagged_not_invented(tdb):
    result = liquidus(tdb, ["CU", "NI"], [0.5], T_min=700, T_max=800, progress=False)
    assert np.isnan(result.T_K[0]) and "T_max" in result.note[0]
    result = liquidus(tdb, ["CU", "NI"], [0.5], T_min=1200, T_max=1300, progress=False)
    assert np.isnan(result.T_K[0]) and "T_min" in result.note[0]


def test_isopleth():
    path = isopleth([0.1, 0.1], [0.1, 0.5], 5)
    np.testing.assert_allclose(path[:, 1], [0.1, 0.2, 0.3, 0.4, 0.5])


def test_bad_input(tdb, tmp_path):
    with pytest.raises(TDBError, match="no such TDB file"):
        liquidus(tmp_path / "none.tdb", ["CU", "NI"], [0.5])
    bad = tmp_path / "bad.tdb"
    bad.write_text("PHASE LIQUID % 1 1.0 !\nCONSTITUENT LIQUID :CU,ZZ: !\nGARBAGE ((( !\n")
    with pytest.raises(TDBError, match="bad.tdb"):
        liquidus(bad, ["CU", "NI"], [0.5])
    with pytest.raises(TDBError, match="no element W"):
        liquidus(tdb, ["CU", "W"], [0.5])
    with pytest.raises(MixcalphadError, match="two or three"):
        liquidus(tdb, ["CU"], [0.5])
    with pytest.raises(CompositionError):
        liquidus(tdb, ["AG", "CU", "NI"], [[0.7, 0.6]])


def test_cli_binary_json_and_plot(tdb, tmp_path, capsys):
    import json

    png = tmp_path / "liq.png"
    assert main(["liquidus", str(tdb), "--elements", "CU", "NI", "--x", "0.3", "--t-min", "500",
                 "--plot", str(png), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["points"][0]["T_liquidus_K"] == pytest.approx(schroeder("CU", 0.7), abs=0.2)
    assert png.stat().st_size > 5000


def test_cli_ternary_needs_compositions(tdb, capsys):
    assert main(["liquidus", str(tdb), "--elements", "AG", "CU", "NI"]) == 2
    assert "--isopleth" in capsys.readouterr().err


def test_primary_phase_is_named_just_below_the_liquidus(tdb):
    # near the Cu-Ni eutectic the coarse grid point below the liquidus lies below the eutectic:
    # the phases there are SOLCU+SOLNI, but just below the liquidus only SOLNI is there
    from scipy.optimize import brentq

    x_e = brentq(lambda x: schroeder("CU", 1 - x) - schroeder("NI", x), 0.05, 0.95)
    T_e = float(schroeder("NI", x_e))
    x = brentq(lambda x: schroeder("NI", x) - (T_e + 10.0), x_e, 0.99)  # liquidus 10 K above T_e
    result = liquidus(tdb, ["CU", "NI"], [x], T_min=T_e - 5.0 - 25.0 * 20, step=25.0, progress=False)
    assert result.T_K[0] == pytest.approx(T_e + 10.0, abs=0.2)
    assert result.primary == ["SOLNI"]


def test_a_self_contained_mixcalphad_file_gets_a_caveat(tdb, tmp_path, capsys):
    from mixcalphad.calphad.redlich_kister import fit_redlich_kister
    from mixcalphad.calphad.tdb_write import write_tdb

    path = write_tdb({"CU-NI": fit_redlich_kister([0.5], [2000.0])}, tmp_path / "cuni.tdb")
    with pytest.warns(UserWarning, match="ideal SGTE solutions"):
        result = liquidus(path, ["CU", "NI"], [0.5], progress=False)
    assert "not an assessed phase diagram" in result.caveat and result.to_dict()["caveat"] == result.caveat
    assert main(["liquidus", str(path), "--elements", "CU", "NI", "--x", "0.5"]) == 0
    assert "warning: cuni.tdb is a mixcalphad self-contained file" in capsys.readouterr().err
    assert liquidus(tdb, ["CU", "NI"], [0.5], T_min=500, T_max=1900, progress=False).caveat == ""


def test_a_liquid_under_another_name(tmp_path, capsys):
    path = tmp_path / "renamed.tdb"
    path.write_text(IDEAL_TDB.replace("LIQUID", "LIQUID_X"))
    x_ni = np.array([0.3, 0.8])
    result = liquidus(path, ["CU", "NI"], x_ni, T_min=500, T_max=1900, progress=False)
    expected = np.maximum(schroeder("CU", 1 - x_ni), schroeder("NI", x_ni))
    np.testing.assert_allclose(result.T_K, expected, atol=0.2)
    assert result.primary == ["SOLCU", "SOLNI"]
    with pytest.raises(TDBError, match="no phase named LIQUID "):
        LiquidusCalculator(path, ["CU", "NI"], liquid="LIQUID")
    assert main(["liquidus", str(path), "--elements", "CU", "NI", "--x", "0.3", "--t-min", "500",
                 "--liquid", "liquid_x", "--json"]) == 0
    assert '"T_liquidus_K"' in capsys.readouterr().out
    assert main(["liquidus", str(path), "--elements", "CU", "NI", "--x", "0.3", "--liquid", "SLAG"]) == 2
    assert "no phase named SLAG" in capsys.readouterr().err
