"""Cost model of AIMD runs: core-hours, time step, shared pure references."""
import numpy as np
import pytest

from mixcalphad.acquisition.cost import CostModel, SharedReferences, binary_costs, run_core_hours
from mixcalphad.errors import AcquisitionError


def test_reference_run_costs_the_reference_core_hours():
    assert run_core_hours({"AL": 50, "IR": 50}, 2750.0) == pytest.approx(1000.0)
    assert run_core_hours({"IR": 50, "AL": 50}, 2750.0, CostModel(reference_core_hours=250)) == pytest.approx(250.0)


def test_cost_scales_with_bands_squared_and_volume():
    model = CostModel()
    base = run_core_hours({"AL": 50, "IR": 50}, 2750.0, model)
    # a Cu potential with 22 instead of 11 electrons: N_b = 0.6 N_e + 50 goes from 680 to 1010 in Cu50Ni50
    doubled = CostModel(zval={"CU": 22})
    ratio = run_core_hours({"CU": 50, "NI": 50}, 1750.0, doubled) / run_core_hours({"CU": 50, "NI": 50}, 1750.0)
    assert ratio == pytest.approx((1010 / 680) ** 2, rel=1e-9)
    # Cs–Ir: 9 electrons a Cs and a 7x larger liquid volume than Al
    assert run_core_hours({"CS": 50, "IR": 50}, 2750.0) > 4 * base


def test_time_step_shrinks_for_light_atoms_at_high_temperature():
    model = CostModel()
    assert model.time_step_fs(["AL", "IR"], 2750.0) == pytest.approx(3.0)
    assert model.time_step_fs(["BE", "NI"], 1600.0) == pytest.approx(1.5)  # the protocol's POTIM for Be
    assert model.time_step_fs(["CU", "NI"], 1750.0) == 3.0
    # 1.5 fs at 1600 K, 0.75 fs at 7000 K: twice the steps for the same simulated time
    slow = run_core_hours({"BE": 50, "NI": 50}, 7000.0) / run_core_hours({"BE": 50, "NI": 50}, 1600.0)
    assert slow == pytest.approx(2.0, rel=1e-6)


def test_pure_references_are_shared_at_the_same_temperature():
    costs = binary_costs(["AL-IR", "IR-NI", "IR-W"], [2750.0, 2750.0, 3700.0])
    shared = SharedReferences()
    np.testing.assert_allclose(shared.marginal_costs(costs), costs["unshared_core_h"])
    shared.add(costs.iloc[0])
    marginal = shared.marginal_costs(costs)
    assert marginal[0] == pytest.approx(costs.at[0, "alloy_core_h"])
    assert marginal[1] == pytest.approx(costs.at[1, "alloy_core_h"] + costs.at[1, "pure_B_core_h"])  # Ni only
    assert marginal[2] == pytest.approx(costs.at[2, "unshared_core_h"])  # Ir at 3700 K is another run


def test_bad_input():
    with pytest.raises(AcquisitionError, match="temperature"):
        run_core_hours({"AL": 50, "IR": 50}, -3.0)
    with pytest.raises(AcquisitionError, match="atom counts"):
        run_core_hours({"AL": -5}, 1000.0)
    with pytest.raises(AcquisitionError, match="reference_core_hours"):
        CostModel(reference_core_hours=0)
    with pytest.raises(AcquisitionError, match="valence-electron count for AM"):
        CostModel().valence("AM")
