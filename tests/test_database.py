"""to_database: the one Database builder (layout, solids, sorted pairs, temperature models)."""
import argparse
import json
import math
import difflib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pycalphad import Database, calculate, equilibrium
from pycalphad import variables as v
from scipy.optimize import brentq

from mixcalphad.calphad import binary_fit, provenance, tdb_write
from mixcalphad.calphad.binary_fit import fit_binaries
from mixcalphad.calphad.database import to_database
from mixcalphad.calphad.provenance import BinaryRecord, Provenance, read_provenance, read_provenance_blocks
from mixcalphad.calphad.redlich_kister import fit_redlich_kister, kaptay, rk_excess
from mixcalphad.calphad.tdb_merge import fill_plan, merge_into_tdb
from mixcalphad.calphad.tdb_write import write_tdb
from mixcalphad.calphad.unary import ghser_name, unary
from mixcalphad.chem.elements import element_table
from mixcalphad.chem.miedema import miedema_hmix
from mixcalphad.data.harvest import harvest_tdb
from mixcalphad.errors import MixcalphadError, OutputExistsError, TDBError, UnknownElementError

from calphad_common import (CUMG, DATA, GRID, R, TEN, calphad_io_problems, default_double, g_value,  # noqa: F401
                            ten, ten_db)
from conftest import MiedemaDouble


def test_pycalphad_calculate_gives_the_fit(ten, ten_db):
    fits, _ = ten
    fit = fits["AL-NI"]
    x = np.array([0.2, 0.5, 0.7])
    res = calculate(ten_db, ["AL", "NI"], "LIQUID", T=1500.0, P=101325, N=1, output="HM_MIX",
                    points=np.column_stack([1 - x, x]))
    assert np.asarray(res.HM_MIX).ravel() == pytest.approx(fit.evaluate(x), abs=1e-6)

def test_file_layout(ten, ten_db):
    _, path = ten
    text = path.read_text()
    assert "ELEMENT /-" not in text
    assert all(len(name) <= 8 for name in ten_db.symbols)
    for el in TEN:
        assert ghser_name(el) in ten_db.symbols
    vv = sorted(n for n in ten_db.symbols if n.startswith("VV"))
    assert vv[0] == "VV0000" and all(re.fullmatch(r"VV\d{4}", n) for n in vv)
    for a, b in re.findall(r"PARAMETER L\(LIQUID,(\w+),(\w+);\d\)", text):
        assert a < b  # sorted constituents
    # L_n = a_n + b_n*T: two FUNCTIONs per written coefficient (the learned excess entropy)
    params = re.findall(r"PARAMETER L\(LIQUID,\w+,\w+;\d\) 298.15 T\*(VV\d{4})\+(VV\d{4}); 10000.0 N MC\d{4} !", text)
    assert params and 2 * len(params) == len(vv) == len({s for pair in params for s in pair})
    phases = {name: sorted(s.name for s in ten_db.phases[name].constituents[0]) for name in ten_db.phases}
    assert phases["LIQUID"] == sorted(TEN)
    assert phases["FCC_A1"] == ["AG", "AL", "CU", "NI"]
    assert phases["BCC_A2"] == ["FE", "TI", "W", "ZR"]
    assert phases["HCP_A3"] == ["MG", "TI", "ZR"] and phases["DIAMOND_A4"] == ["SI"]  # TI, ZR: SER phase
    for el in TEN:  # every ELEMENT line names a phase of the file that holds the element
        assert el in phases[ten_db.refstates[el]["phase"]], el

def test_pycalphad_computes_a_liquidus_with_it(ten_db):
    eq = equilibrium(ten_db, ["CU", "NI"], ["LIQUID", "FCC_A1"],
                     {v.X("NI"): 0.5, v.T: [1000.0, 2200.0], v.P: 101325, v.N: 1})
    phases = [set(p for p in np.asarray(eq.Phase)[0, 0, i, 0].ravel() if p) for i in range(2)]
    assert phases[0] == {"FCC_A1"} and phases[1] == {"LIQUID"}

def test_pure_solids_do_not_dissolve_each_other(ten):
    fits, _ = ten
    db = to_database({"CU-NI": fits["CU-NI"]}, solids="pure")
    assert set(db.phases) == {"LIQUID", "FCC_A1_CU", "FCC_A1_NI"}
    eq = equilibrium(db, ["CU", "NI"], list(db.phases), {v.X("NI"): 0.5, v.T: 1000.0, v.P: 101325, v.N: 1})
    assert set(p for p in np.asarray(eq.Phase).ravel() if p) == {"FCC_A1_CU", "FCC_A1_NI"}
    assert set(to_database({"CU-NI": fits["CU-NI"]}, solids="none").phases) == {"LIQUID"}
    with pytest.raises(TDBError, match="solids"):
        to_database({"CU-NI": fits["CU-NI"]}, solids="ideal")

def test_unsorted_rkfit_mapping_keeps_the_meaning_of_odd_terms(tmp_path):
    x = np.linspace(0.1, 0.9, 9)
    fit = fit_redlich_kister(x, x * (1 - x) * (-30000 + 12000 * (1 - 2 * x)))  # for AL-CU, x = x_CU
    path = write_tdb({"CU-AL": fit}, tmp_path / "alcu.tdb")
    hm = harvest_tdb(path, x=[0.25]).observations["HM_MIX_J"].iloc[0]
    assert hm == pytest.approx(0.1875 * (-30000 + 12000 * 0.5), abs=1e-6)
    assert read_provenance(path).binaries[0].origin == "given"

def test_the_in_memory_database_has_the_same_meaning(ten):
    fits, _ = ten
    db = to_database({"AL-CU": fits["AL-CU"]}, solids=False)
    x = np.array([0.2, 0.7])
    res = calculate(db, ["AL", "CU"], "LIQUID", T=1500.0, P=101325, N=1, output="HM_MIX",
                    points=np.column_stack([1 - x, x]))
    assert np.asarray(res.HM_MIX).ravel() == pytest.approx(fits["AL-CU"].evaluate(x), abs=1e-6)
    assert abs(fits["AL-CU"].fit.coefficients[1]) > 1000.0  # an odd term that would show a flip

def test_kaptay_model_keeps_the_enthalpy_and_scales_the_gibbs_energy(tmp_path):
    fits = fit_binaries(["CU", "ZR"], predictor=MiedemaDouble(), progress=False)
    path = write_tdb(fits, tmp_path / "k.tdb", temperature_model=kaptay(2500.0), solids=False)
    assert "tau = 2500 K" in read_provenance(path).temperature_model
    hm = harvest_tdb(path, x=[0.3, 0.5]).observations["HM_MIX_J"].to_numpy()
    assert hm == pytest.approx(fits["CU-ZR"].evaluate([0.3, 0.5]), abs=1e-6)
    db = Database(str(path))
    assert set(db.phases) == {"LIQUID"}
    T = 1250.0
    gm = calculate(db, ["CU", "ZR"], "LIQUID", T=T, P=101325, N=1, output="GM_MIX", points=np.array([[0.5, 0.5]]))
    L0 = fits["CU-ZR"].fit.coefficients[0]
    assert float(np.asarray(gm.GM_MIX).ravel()[0]) == pytest.approx(0.25 * L0 * 0.5 + R * T * math.log(0.5), abs=1e-3)

@pytest.mark.parametrize("T", [600.0, 1500.0, 3000.0])
def test_a_plus_bT_liquid_round_trips_through_pycalphad(tmp_path, T):
    """L0 = a + bT written from a fit with S_ex = κ H_ex: pycalphad's HM_MIX, SM_MIX and GM_MIX are
    the closed forms x(1-x)a, x(1-x)(-b) - R Σ x ln x and x(1-x)(a + bT) + RT Σ x ln x."""
    from mixcalphad.calphad.binary_fit import BinaryFit
    from mixcalphad.calphad.redlich_kister import RKFit, TemperatureModel

    a, kappa = -40000.0, 1.0 / 2500.0
    b = -kappa * a
    fit = BinaryFit(system="CU-ZR", fit=RKFit((a,), ((0.0,),), 0.0, 0.0, 0, 1), origin="given", sigma_J=1.0,
                    temperature_model=TemperatureModel("entropy", kappa_per_K=kappa))
    path = write_tdb({"CU-ZR": fit}, tmp_path / "ab.tdb", solids=False)
    db = Database(str(path))
    assert sorted(float(db.symbols[s].args[0]) for s in ("VV0000", "VV0001")) == pytest.approx(sorted([a, b]))
    x = np.array([0.25, 0.5])
    ideal = x * np.log(x) + (1 - x) * np.log(1 - x)
    expected = {"HM_MIX": x * (1 - x) * a, "SM_MIX": x * (1 - x) * (-b) - R * ideal,
                "GM_MIX": x * (1 - x) * (a + b * T) + R * T * ideal}
    for prop, value in expected.items():
        res = calculate(db, ["CU", "ZR"], "LIQUID", T=T, P=101325, N=1, output=prop,
                        points=np.column_stack([1 - x, x]))
        assert np.asarray(getattr(res, prop)).ravel() == pytest.approx(value, abs=1e-6)
    record = read_provenance(path).binaries[0]
    assert record.kappa_per_K == pytest.approx(kappa, rel=1e-5) and record.symbols == ("VV0000", "VV0001")
    assert fit.excess_gibbs([0.5], T)[0] == pytest.approx(0.25 * (a + b * T))


def test_learned_liquids_are_convex_at_every_temperature():
    """The default rule (learned κ) on strongly bonded and on demixing pairs: no spinodal from T_low to 6000 K."""
    from mixcalphad.calphad.convexity import curvature_ratio

    fits = fit_binaries([("AL", "NI"), ("AL", "W"), ("CU", "ZR"), ("AG", "CU")], predictor=MiedemaDouble(),
                        progress=False)
    x = np.linspace(0.005, 0.995, 199)
    for name, fit in fits.items():
        tm = fit.temperature_model
        assert tm.kind == "entropy" and tm.sigma_S_J_K > 0
        T = [fit.convexity.T_low_K, 1000.0, 2000.0, 4000.0, 6000.0]
        assert curvature_ratio(x, T, fit.fit.coefficients, tm).min() >= -1e-9, name


def test_unknown_elements_and_bad_fits():
    with pytest.raises(UnknownElementError):
        to_database({}, elements=["AL", "XX"])
    with pytest.raises(TDBError, match="no elements"):
        to_database({})
    with pytest.raises(TDBError, match="expected BinaryFit or RKFit"):
        to_database({"AL-CU": [1, 2]})
