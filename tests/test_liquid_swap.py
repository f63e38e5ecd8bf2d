"""Tests of mixcalphad.calphad.liquid_swap.replace_liquid (known answers from pycalphad's Model)."""
from __future__ import annotations

import numpy as np
import pytest
from pycalphad import Database, Model
from pycalphad import variables as v
from tinydb import where

from mixcalphad.calphad.binary_fit import BinaryFit
from mixcalphad.calphad.liquid_swap import binary_liquid_parameters, replace_liquid
from mixcalphad.calphad.redlich_kister import ENTHALPY_ONLY, RKFit, kaptay, rk_excess
from mixcalphad.errors import TDBError

R = float(v.R)  # pycalphad's gas constant, J/(mol K)
TDB = """
ELEMENT /-   ELECTRON_GAS  0 0 0 !
ELEMENT VA   VACUUM        0 0 0 !
ELEMENT AL   FCC_A1        26.98 4577.3 28.32 !
ELEMENT CU   FCC_A1        63.546 5004.1 33.15 !
ELEMENT NI   FCC_A1        58.69 4787.0 29.79 !
ELEMENT FE   BCC_A2        55.847 4489.0 27.28 !
PHASE LIQUID % 1 1.0 !
CONSTITUENT LIQUID : AL,CU,NI : !
PHASE FCC_A1 % 1 1.0 !
CONSTITUENT FCC_A1 : AL,CU,FE,NI : !
PARAMETER G(LIQUID,AL;0) 298.15 -1000*T; 6000 N !
PARAMETER G(LIQUID,CU;0) 298.15 -1100*T; 6000 N !
PARAMETER G(LIQUID,NI;0) 298.15 -1200*T; 6000 N !
PARAMETER G(FCC_A1,AL;0) 298.15 -900*T; 6000 N !
PARAMETER G(FCC_A1,CU;0) 298.15 -950*T; 6000 N !
PARAMETER G(FCC_A1,NI;0) 298.15 -990*T; 6000 N !
PARAMETER G(FCC_A1,FE;0) 298.15 -980*T; 6000 N !
PARAMETER L(LIQUID,CU,NI;0) 298.15 12000+2.5*T; 6000 N !
PARAMETER L(LIQUID,CU,NI;1) 298.15 -3000; 6000 N !
PARAMETER G(LIQUID,CU,NI;2) 298.15 777; 6000 N !
PARAMETER L(LIQUID,AL,CU;0) 298.15 -60000+8*T; 6000 N !
PARAMETER L(LIQUID,AL,CU,NI;0) 298.15 -5000; 6000 N !
PARAMETER L(FCC_A1,CU,NI;0) 298.15 8000; 6000 N !
"""


@pytest.fixture(scope="module")
def db():
    return Database.from_string(TDB, fmt="tdb")


def _fit(system: str, coefficients) -> BinaryFit:
    k = len(coefficients)
    rk = RKFit(tuple(coefficients), tuple((0.0,) * k for _ in range(k)), 0.0, 0.0, k - 1, 0)
    return BinaryFit(system=system, fit=rk, origin="predicted", sigma_J=1000.0)


def _mix(db, pair, prop: str, x_B, T):
    a, b = pair
    model = Model(db, [a, b], "LIQUID")
    expr = getattr(model, prop)
    out = []
    for x in np.atleast_1d(x_B):
        subs = {v.T: T, v.P: 101325, v.Y("LIQUID", 0, v.Species(a)): 1 - x, v.Y("LIQUID", 0, v.Species(b)): x}
        out.append(float(expr.xreplace(subs)))
    return np.array(out)


def _dump(db, phase, constituents):
    return sorted((p["parameter_type"], p["parameter_order"], str(p["parameter"]))
                  for p in db._parameters.search(where("phase_name") == phase)
                  if [[s.name for s in sub] for sub in p["constituent_array"]] == constituents)


X = np.array([0.1, 0.3, 0.5, 0.8])


def test_swapped_binary_has_the_fit_enthalpy(db):
    new = replace_liquid(db, [_fit("CU-NI", [-40000.0, 6000.0, -2000.0])])
    np.testing.assert_allclose(_mix(new, ("CU", "NI"), "HM_MIX", X, 1500.0),
                               rk_excess(X, [-40000.0, 6000.0, -2000.0]), atol=1e-6)
    # enthalpy-only: no excess entropy, so GM_MIX is the ideal mixing plus the excess enthalpy
    ideal = R * 1500.0 * (X * np.log(X) + (1 - X) * np.log(1 - X))
    np.testing.assert_allclose(_mix(new, ("CU", "NI"), "GM_MIX", X, 1500.0),
                               ideal + rk_excess(X, [-40000.0, 6000.0, -2000.0]), atol=1e-6)


def test_assessed_curve_is_not_the_fit_before_the_swap(db):
    before = _mix(db, ("CU", "NI"), "HM_MIX", X, 1500.0)
    assert np.max(np.abs(before - rk_excess(X, [-40000.0, 6000.0, -2000.0]))) > 1000.0


def test_kaptay_keeps_enthalpy_and_scales_gibbs(db):
    new = replace_liquid(db, {"CU-NI": _fit("CU-NI", [-40000.0])}, temperature_model=kaptay(2500.0))
    for T in (800.0, 1800.0):
        np.testing.assert_allclose(_mix(new, ("CU", "NI"), "HM_MIX", X, T), rk_excess(X, [-40000.0]), atol=1e-6)
        ideal = R * T * (X * np.log(X) + (1 - X) * np.log(1 - X))
        np.testing.assert_allclose(_mix(new, ("CU", "NI"), "GM_MIX", X, T),
                                   ideal + rk_excess(X, [-40000.0]) * (1 - T / 2500.0), atol=1e-6)


def test_every_order_and_old_style_G_of_the_pair_is_replaced(db):
    assert len(binary_liquid_parameters(db, "CU", "NI")) == 3      # L0, L1 and G2
    new = replace_liquid(db, [_fit("CU-NI", [-40000.0])])
    params = binary_liquid_parameters(new, "CU", "NI")
    assert [(p["parameter_type"], p["parameter_order"]) for p in params] == [("L", 0)]


def test_everything_else_is_untouched(db):
    new = replace_liquid(db, [_fit("CU-NI", [-40000.0])])
    for phase, constituents in [("LIQUID", [["AL", "CU"]]), ("LIQUID", [["AL", "CU", "NI"]]),
                                ("FCC_A1", [["CU", "NI"]]), ("LIQUID", [["CU"]]), ("LIQUID", [["NI"]])]:
        assert _dump(new, phase, constituents) == _dump(db, phase, constituents)
        assert _dump(db, phase, constituents)
    np.testing.assert_allclose(_mix(new, ("AL", "CU"), "HM_MIX", X, 1200.0),
                               _mix(db, ("AL", "CU"), "HM_MIX", X, 1200.0))


def test_input_database_is_not_modified(db):
    before = _dump(db, "LIQUID", [["CU", "NI"]])
    replace_liquid(db, [_fit("CU-NI", [-40000.0])])
    assert _dump(db, "LIQUID", [["CU", "NI"]]) == before


def test_unsorted_constituents_are_found():
    db = Database.from_string(TDB, fmt="tdb")
    db.add_parameter("L", "LIQUID", [["NI", "CU"]], 3, 123.0)
    assert len(binary_liquid_parameters(db, "CU", "NI")) == 4
    new = replace_liquid(db, [_fit("CU-NI", [-40000.0, 1000.0])], temperature_model=ENTHALPY_ONLY)
    assert len(binary_liquid_parameters(new, "CU", "NI")) == 2


def test_zero_coefficients_are_not_written(db):
    new = replace_liquid(db, [_fit("CU-NI", [-40000.0, 0.0, 500.0])])
    assert sorted(p["parameter_order"] for p in binary_liquid_parameters(new, "CU", "NI")) == [0, 2]


def test_missing_element_is_an_error(db):
    with pytest.raises(TDBError, match="no element CO"):
        replace_liquid(db, [_fit("CO-CU", [-1000.0])])


def test_element_not_in_liquid_is_an_error(db):
    with pytest.raises(TDBError, match="FE is not a constituent of the database's LIQUID"):
        replace_liquid(db, [_fit("CU-FE", [-1000.0])])


def test_non_finite_coefficient_is_an_error(db):
    with pytest.raises(TDBError, match="CU-NI: L1 is not finite"):
        replace_liquid(db, [_fit("CU-NI", [-1000.0, float("nan")])])


def test_sublattice_liquid_is_an_error():
    text = TDB.replace("PHASE LIQUID % 1 1.0 !", "PHASE LIQUID % 2 1.0 1.0 !").replace(
        "CONSTITUENT LIQUID : AL,CU,NI : !", "CONSTITUENT LIQUID : AL,CU,NI : VA : !")
    text = "\n".join(line for line in text.splitlines() if "(LIQUID," not in line)
    db = Database.from_string(text, fmt="tdb")
    with pytest.raises(TDBError, match="2 sublattices"):
        replace_liquid(db, [_fit("CU-NI", [-1000.0])])


def test_missing_liquid_is_an_error():
    text = "\n".join(line for line in TDB.splitlines() if "LIQUID" not in line)
    with pytest.raises(TDBError, match="no phase named LIQUID"):
        replace_liquid(Database.from_string(text, fmt="tdb"), [_fit("CU-NI", [-1000.0])])


def test_rkfit_mapping_is_accepted(db):
    rk = _fit("CU-NI", [-20000.0]).fit
    new = replace_liquid(db, {"NI-CU": rk})
    np.testing.assert_allclose(_mix(new, ("CU", "NI"), "HM_MIX", [0.5], 1000.0), [-5000.0], atol=1e-6)


def test_a_liquid_under_another_name_is_found_or_named():
    renamed = TDB.replace("LIQUID", "LIQUID_CUNI")
    db = Database.from_string(renamed, fmt="tdb")
    new = replace_liquid(db, [_fit("CU-NI", [-20000.0])])  # the database's one liquid-like phase
    swapped = _dump(new, "LIQUID_CUNI", [["CU", "NI"]])
    assert [(t, n) for t, n, _ in swapped] == [("L", 0)] and "-20000.0" in swapped[0][2]
    assert _dump(new, "LIQUID_CUNI", [["AL", "CU"]]) == _dump(db, "LIQUID_CUNI", [["AL", "CU"]])
    # two liquid-like phases: the caller must name one
    second = renamed + "PHASE IONIC_LIQ % 1 1.0 !\nCONSTITUENT IONIC_LIQ : CU,NI : !\n"
    db2 = Database.from_string(second, fmt="tdb")
    with pytest.raises(TDBError, match="several liquid-like phases .*IONIC_LIQ, LIQUID_CUNI"):
        replace_liquid(db2, [_fit("CU-NI", [-20000.0])])
    named = replace_liquid(db2, [_fit("CU-NI", [-20000.0])], liquid="liquid_cuni")
    assert _dump(named, "LIQUID_CUNI", [["CU", "NI"]]) == swapped
    with pytest.raises(TDBError, match="no phase named LIQUID "):
        replace_liquid(db, [_fit("CU-NI", [-20000.0])], liquid="LIQUID")
