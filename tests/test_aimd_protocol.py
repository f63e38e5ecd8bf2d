"""aimd.protocol: temperature rule, Vegard volume, settings key, run plan with shared references."""
import dataclasses
import json

import pytest

from mixcalphad.errors import ProtocolError
from mixcalphad.aimd.plan import RunSpec, paper_plan, paper_systems, plan_runs, read_plan
from mixcalphad.aimd.protocol import MELTING_EXPANSION, run_temperature, vegard_volume_A3
from mixcalphad.aimd.settings import A3_PER_CM3_MOL, RunSettings, smearing_tags
from mixcalphad.chem.elements import element_property


@pytest.mark.parametrize("refractory, T", [("IR", 2750.0), ("OS", 3350.0), ("RE", 3500.0), ("W", 3700.0)])
def test_temperature_rule_reproduces_the_paper_except_os(refractory, T):
    choice = run_temperature(refractory, "AL")
    assert choice.T_K == T
    assert choice.T_K > max(dict(choice.T_melt_K).values())
    assert choice.system == "AL-" + refractory


def test_paper_os_temperature_is_below_sgte_melting_point_and_warns():
    choice = run_temperature("OS", "TI", T_K=3300)
    assert choice.T_K == 3300
    assert any("not above the melting point of OS" in w for w in choice.warnings)


def test_temperature_is_strictly_above_melting_point_and_on_grid():
    assert run_temperature("CU", "NI").T_K == 1750.0          # Ni 1728 K
    assert run_temperature("CU", "AG").T_K == 1400.0          # Cu 1357.8 K
    assert run_temperature("IR", "MO").T_K == 2900.0          # Mo 2896 K melts above Ir
    assert run_temperature("CU", "NI", margin_K=100).T_K == 1850.0
    assert run_temperature("CU", "NI", grid_K=100).T_K == 1800.0


def test_known_liquidus_raises_temperature_with_warning():
    choice = run_temperature("AL", "NI", liquidus_K=1911)     # B2 AlNi melts congruently
    assert choice.T_K == 1950.0
    assert any("liquidus 1911 K" in w for w in choice.warnings)
    assert run_temperature("AL", "NI").T_K == 1750.0


@pytest.mark.parametrize("partner", ["AS", "MG", "CA"])
def test_boiling_partner_warns(partner):
    warnings = run_temperature("IR", partner).warnings
    assert any(f"boiling point of {partner}" in w for w in warnings)
    assert not any("boiling" in w for w in run_temperature("IR", "TI").warnings)


def test_vegard_volume_from_liquid_element_volumes():
    v_cu, v_ni = element_property(["CU", "NI"], "molar_volume_cm3")
    expected = (50 * v_cu + 50 * v_ni) * (1 + MELTING_EXPANSION) * A3_PER_CM3_MOL
    assert vegard_volume_A3({"CU": 50, "NI": 50}) == pytest.approx(expected)
    assert vegard_volume_A3({"CU": 100}) == pytest.approx(100 * v_cu * 1.12 * A3_PER_CM3_MOL)
    # ≈ 13.2 Å³/atom for liquid Cu near its melting point (measured 13.2 Å³ from ρ = 8.0 g/cm³)
    assert vegard_volume_A3({"CU": 1}) == pytest.approx(13.2, abs=0.3)


def test_settings_key_covers_every_field():
    base = RunSettings(T_K=2750)
    changes = {"T_K": 2800, "n_atoms": 64, "code": "vasp5", "xc": "PBEsol", "potcar_set": "PBE.64",
               "potcars": (("IR", "Ir_pv"),), "encut_eV": 520, "prec": "Accurate", "smearing": "gauss-0.1",
               "ispin": 2, "ediff_eV": 1e-6, "potim_fs": 2.0, "thermostat": "langevin", "smass": 1.0,
               "energy": "e_0+ekin"}
    assert set(changes) == {f.name for f in dataclasses.fields(RunSettings)}
    for name, value in changes.items():
        assert base.replace(**{name: value}).key() != base.key(), name


def test_settings_key_restricted_to_elements_shares_pure_runs():
    a = RunSettings(T_K=2750, potcars={"AL": "Al_GW"})
    b = RunSettings(T_K=2750)
    assert a.key(["IR"]) == b.key(["IR"])          # an Al override does not change the Ir reference
    assert a.key(["AL"]) != b.key(["AL"])
    assert json.loads(b.key(["IR", "AL"]))["potcars"] == {"AL": "Al", "IR": "Ir"}
    assert RunSettings.from_dict(a.to_dict()) == a
    with pytest.raises(ProtocolError, match="unknown RunSettings field"):
        RunSettings.from_dict({"T_K": 1, "encut": 400})


def test_smearing_rule():
    assert smearing_tags("fermi-kT", 2750) == (-1, 0.237)
    assert smearing_tags("gauss-0.05", 2750) == (0, 0.05)
    with pytest.raises(ProtocolError):
        smearing_tags("tetra", 1000)


def test_plan_for_the_papers_29_systems_shares_references():
    systems = paper_systems()
    assert len(systems) == 29
    plan = plan_runs(systems)
    assert len(plan.binaries) == 29
    assert plan.n_runs_unshared == 87
    assert plan.n_runs == 63 and plan.runs_saved == 24
    users_of_ir = [b for b in plan.binaries if "IR100_2750K" in (b.pure_a, b.pure_b)]
    assert len(users_of_ir) == 9                    # Ir–Mo runs at 2900 K (Mo melts at 2896 K)
    assert len({r.run_id for r in plan.runs}) == plan.n_runs
    # with the paper's own temperatures (Ir-Mo at 2750 K, Os at 3300 K) one run fewer
    assert plan_runs(paper_plan()).n_runs == 62


def test_plan_details():
    plan = plan_runs(["IR-AL", "AL-IR", "IR-TI"], x_B=0.25, n_atoms=100)
    assert [b.system for b in plan.binaries] == ["AL-IR", "IR-TI"]
    assert any("listed twice" in w for w in plan.warnings)
    alloy = plan.run(plan.binaries[0].alloy)
    assert dict(alloy.composition) == {"AL": 75, "IR": 25}
    assert plan.binaries[0].x_B == 0.25
    rounded = plan_runs(["CU-NI"], x_B=0.333, n_atoms=32)
    assert rounded.binaries[0].x_B == pytest.approx(11 / 32)
    assert any("rounded" in w for w in rounded.warnings)
    with pytest.raises(ProtocolError, match="rounds to a pure element"):
        plan_runs(["CU-NI"], x_B=0.001, n_atoms=32)
    with pytest.raises(ProtocolError, match="atoms"):
        RunSpec({"CU": 3}, RunSettings(T_K=1000, n_atoms=4))


def test_read_plan_csv(tmp_path):
    good = tmp_path / "plan.csv"
    good.write_text("system,T_K,score\nIr-Al,2800,0.9\nOS-TI,,0.5\n")
    frame = read_plan(good)
    assert list(frame["system"]) == ["AL-IR", "OS-TI"]
    plan = plan_runs(good)
    assert [b.T_K for b in plan.binaries] == [2800.0, 3350.0]
    (tmp_path / "nosys.csv").write_text("pair\nIR-AL\n")
    with pytest.raises(ProtocolError, match=r"nosys.csv has no 'system' column"):
        read_plan(tmp_path / "nosys.csv")
    (tmp_path / "bad.csv").write_text("system,T_K\nIR-AL,2750\nIRAL,2750\n")
    with pytest.raises(ProtocolError, match=r"bad.csv, line 3"):
        read_plan(tmp_path / "bad.csv")
    (tmp_path / "badT.csv").write_text("system,T_K\nIR-AL,hot\n")
    with pytest.raises(ProtocolError, match=r"line 2: T_K 'hot' is not a number"):
        read_plan(tmp_path / "badT.csv")
