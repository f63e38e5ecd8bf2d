"""aimd.local: the protocol with ASE's EMT — a short Cu–Ni run end to end, kinetic pressure, options."""
import json

import numpy as np
import pytest

from mixcalphad.errors import OptionalDependencyError, ProtocolError
from mixcalphad.aimd.calculators import make_calculator, pressure_kbar
from mixcalphad.aimd.local import run_local_md, run_local_md_many
from mixcalphad.aimd.settings import KBAR_PER_EV_A3, LocalSettings
from mixcalphad.data.store import Store

from helpers import run_cli

SHORT = {"n_atoms": 32, "ps": 0.36, "stage_ps": 0.09, "max_stages": 4, "parallel": "serial", "seed": 1}


@pytest.fixture(scope="module")
def cuni(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("md") / "store.json")
    return run_local_md("CU", "NI", store=store, **SHORT), store


def test_short_emt_cu_ni_run_end_to_end(cuni):
    res, store = cuni
    m = res.mixing
    assert m.system == "CU-NI" and m.x_B == 0.5 and m.T_K == 1750.0        # Ni melts at 1728 K
    # ΔH_mix = H_CuNi − ½ H_Cu − ½ H_Ni, σ² = σ_CuNi² + ¼ σ_Cu² + ¼ σ_Ni²; eV/atom → J/mol by e·N_A
    h0 = {role: (run.analysis.H0_eV, run.analysis.H0_sem_eV) for role, run in res.runs.items()}
    assert {res.runs[r].run_id for r in h0} == {"CU32_1750K", "NI32_1750K", "CU16NI16_1750K"}
    ev = 96485.33212  # J/mol per eV/atom: e·N_A to 10 digits
    assert m.HM_MIX_J == pytest.approx((h0["alloy"][0] - (h0["pure_a"][0] + h0["pure_b"][0]) / 2) * ev, rel=1e-12)
    assert m.sigma_J == pytest.approx(np.sqrt(h0["alloy"][1]**2 + (h0["pure_a"][1]**2 + h0["pure_b"][1]**2) / 4) * ev,
                                      rel=1e-12)
    # 0.36 ps of 32 atoms cannot resolve EMT's +1.8 kJ/mol (benchmarks/aimd_local.py does): over seeds 0–29
    # ΔH_mix spreads with sd 5.9 kJ/mol about +1.3 (range −11.7 … +11.6; benchmarks/aimd_seed_spread.py), and
    # the reported σ (0.6–2.0 kJ/mol) is 7 times too small, as the "short" flags say. What it can check is
    # the seeded result: seed 1 gives −262.3 ± 892.4 J/mol with the equation-of-state volume search and
    # ASAP's EMT cutoff (−649.6 ± 1422.2 with ASE's default cutoff; −254.0 ± 1386.7 with the earlier
    # local-line search, which was unchanged with numpy's AVX-512/AVX2 loops and OpenBLAS's Haswell/Nehalem
    # kernels switched off: NPY_DISABLE_CPU_FEATURES, OPENBLAS_CORETYPE)
    assert m.HM_MIX_J == pytest.approx(-262.30, abs=1.0) and m.sigma_J == pytest.approx(892.35, abs=1.0)
    assert "indistinguishable_from_zero" in m.flags                        # |ΔH| < 2σ
    for role, run in res.runs.items():
        a = run.analysis
        assert a.n_atoms == 32 and a.n_steps == 120
        assert 3 <= len(run.stages) <= 4 and run.volume_fit.K_T_GPa > 0
        assert a.volume_A3 * 32 != pytest.approx(run.stages[0].volume_A3 / 0.96)   # the search moved
        assert abs(a.T_mean_K - 1750) < 350
        assert 10 < a.p_kin_kbar < 40                                      # N k T / V ≈ 20 kbar, included
        assert a.p_kbar == pytest.approx(a.p_ext_kbar + a.p_kin_kbar)
        assert "short" in a.flags                                          # 0.36 ps: N_eff < 50, and said so
    assert any(f.endswith(":short") for f in m.blocking_flags)
    obs = store.observations()
    assert len(obs) == 1 and obs["kind"].iloc[0] == "md" and obs["source"].iloc[0].startswith("ase-emt/")
    assert obs["HM_MIX_J"].iloc[0] == pytest.approx(m.HM_MIX_J)
    ref = json.loads(obs["reference"].iloc[0])
    assert ref["code"] == "ase-emt" and ref["settings"]["calculator"] == "emt" and ref["production_ps"] == 0.36
    json.dumps(res.to_dict())


def test_storing_again_is_idempotent_and_a_changed_value_conflicts(cuni):
    import pandas as pd

    from mixcalphad.errors import StoreConflictError

    res, store = cuni
    row = res.observation()
    assert store.add_observations(pd.DataFrame([row])).unchanged == 1
    with pytest.raises(StoreConflictError):
        store.add_observations(pd.DataFrame([{**row, "HM_MIX_J": row["HM_MIX_J"] + 500}]))


def test_pressure_includes_the_kinetic_term():
    from ase.build import bulk
    from ase.calculators.emt import EMT

    atoms = bulk("Cu", "fcc", a=3.7, cubic=True).repeat(2)
    atoms.calc = EMT()
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution

    MaxwellBoltzmannDistribution(atoms, temperature_K=1500, rng=np.random.default_rng(0))
    p_total, p_kin = pressure_kbar(atoms)
    expected_kin = 2 * atoms.get_kinetic_energy() / (3 * atoms.get_volume()) * KBAR_PER_EV_A3
    assert p_kin == pytest.approx(expected_kin, rel=1e-9) and p_kin > 5
    static = -np.mean(atoms.get_stress()[:3]) * KBAR_PER_EV_A3                # ASE's default leaves it out
    assert p_total == pytest.approx(static + expected_kin)


def test_settings_and_errors():
    s = LocalSettings(T_K=1750, n_atoms=32)
    assert s.kind == "md" and LocalSettings(calculator="chgnet").kind == "mlip"
    assert s.key() != s.replace(timestep_fs=2.0).key() and s.key(["CU"]) == s.key(["NI"])
    with pytest.raises(ProtocolError, match="unknown thermostat"):
        LocalSettings(thermostat="berendsen")
    with pytest.raises(ProtocolError, match="EMT has no parameters for IR"):
        run_local_md("IR", "AL", n_atoms=8, ps=0.01)


@pytest.mark.parametrize("name, package", [("chgnet", "chgnet"), ("sevennet", "sevenn")])
def test_mlip_calculators_are_optional(name, package):
    try:
        __import__(package)
    except ImportError:
        with pytest.raises(OptionalDependencyError, match=f"pip install {package}"):
            make_calculator(name)
        return
    calc, version = make_calculator(name)                              # pragma: no cover - optional extra
    assert package in version
    if name == "sevennet":                                             # only the models in the wheel (offline)
        with pytest.raises(ProtocolError, match="not in the sevenn wheel"):
            make_calculator(name, model="7net-omat")


@pytest.mark.parametrize("thermostat, dynamics", [("nose-hoover", "NoseHooverChainNVT"), ("bussi", "Bussi")])
def test_other_thermostats_run(thermostat, dynamics, monkeypatch):
    from mixcalphad.aimd import local

    built = []

    def spy(atoms, settings, rng):
        built.append(local_dynamics(atoms, settings, rng))
        return built[-1]

    local_dynamics = local.make_dynamics
    monkeypatch.setattr(local, "make_dynamics", spy)
    kw = dict(n_atoms=8, ps=0.03, stage_ps=0.015, max_stages=3, parallel="serial")
    res = run_local_md("AG", "AU", thermostat=thermostat, **kw)
    # every segment of the three runs (volume stages and production) is integrated by that thermostat
    assert built and {type(d).__name__ for d in built} == {dynamics}
    assert res.settings.thermostat == thermostat and res.runs["alloy"].analysis.n_steps == 10
    # the thermostat is part of the settings, hence of the runs' seeds: another trajectory than Langevin's
    built.clear()
    langevin = run_local_md("AG", "AU", **kw)
    assert {type(d).__name__ for d in built} == {"Langevin"} and langevin.HM_MIX_J != res.HM_MIX_J
    h0 = {role: run.analysis.H0_eV for role, run in res.runs.items()}
    assert res.HM_MIX_J == pytest.approx((h0["alloy"] - (h0["pure_a"] + h0["pure_b"]) / 2) * 96485.33212, rel=1e-12)


def test_pure_references_are_shared_and_dask_matches_serial():
    kw = {"n_atoms": 8, "ps": 0.03, "stage_ps": 0.015, "max_stages": 3, "T_K": 1400.0}
    serial = run_local_md_many(["CU-NI", "CU-AG"], parallel="serial", **kw)
    # Cu is pure_a of CU-NI and pure_b of AG-CU: one run, computed once, serves both
    assert serial[0].runs["pure_a"] is serial[1].runs["pure_b"]
    assert serial[0].runs["pure_a"].run_id == "CU8_1400K"
    assert len({id(run) for res in serial for run in res.runs.values()}) == 5  # not 6
    try:
        import dask  # noqa: F401
    except ImportError:
        with pytest.raises(OptionalDependencyError, match="dask"):
            run_local_md_many(["CU-NI"], parallel="dask", **kw)
        return
    parallel = run_local_md_many(["CU-NI"], parallel="dask", n_workers=2, **kw)
    for a, b in zip(serial, parallel):
        assert a.HM_MIX_J == pytest.approx(b.HM_MIX_J, rel=1e-9)   # same seeds, same numbers


def test_md_cli(tmp_path, capsys):
    code = run_cli(["md", "CU", "NI", "--atoms", "8", "--ps", "0.03", "--stage-ps", "0.015", "--parallel",
                      "serial", "--store", str(tmp_path / "s.json"), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["system"] == "CU-NI" and out["kind"] == "md" and out["unit"] == "J/mol of atoms"
    assert list(Store(tmp_path / "s.json").observations(kind="md")["source"]) == [out["source"]]
    code = run_cli(["md", "CU", "IR", "--atoms", "8", "--no-store"])
    assert code == 2 and capsys.readouterr().err.startswith("error: EMT has no parameters for IR")


@pytest.mark.slow
def test_longer_emt_cu_ni_is_positive():
    res = run_local_md("CU", "NI", n_atoms=64, T_K=1900, ps=6.0, stage_ps=2.0)
    assert 0 < res.HM_MIX_J < 5000


def test_volume_stage_extensions_are_capped_and_counted():
    """Stages are extended only by :func:`~mixcalphad.aimd.local._extension_steps` (tested on designed
    stages in test_aimd_volume): never with ``max_extensions=0``, never beyond (1 + max_extensions) ×
    stage_ps, and every step is counted."""
    from mixcalphad.aimd.analysis import AcceptanceLimits
    from mixcalphad.aimd.local import simulate_run

    settings = LocalSettings(T_K=1900, n_atoms=8)
    common = dict(production_ps=0.03, stage_ps=0.015, max_stages=4, seed=1, pre_steps=0)
    fixed = simulate_run({"CU": 4, "NI": 4}, settings, max_extensions=0, **common)
    stage_steps, prod_steps = 10, 10                    # both at the 10-step minimum
    assert fixed.steps == len(fixed.stages) * stage_steps + prod_steps
    assert all(st.p_tau_ps > 0 for st in fixed.stages)
    for budget in (30.0, 300.0, 3000.0):                # J/mol: some budgets call for extensions
        grown = simulate_run({"CU": 4, "NI": 4}, settings, max_extensions=2,
                             limits=AcceptanceLimits(p_window_kbar=1e4, h0_bias_max_J=budget), **common)
        assert all(st.length_ps <= 3 * 0.015 + 0.003 + 1e-9 for st in grown.stages)
        assert grown.steps >= len(grown.stages) * stage_steps + prod_steps


@pytest.mark.parametrize("name, package", [("chgnet", "chgnet"), ("sevennet", "sevenn")])
def test_tiny_mlip_run_is_stored_as_a_screening_mlip_point(tmp_path, name, package):
    """The MLIP path end to end (a handful of atoms, tens of steps), so it cannot rot: kind ``mlip``,
    its σ includes the model error, the reference says it is a screening estimate."""
    pytest.importorskip(package)
    store = Store(tmp_path / "s.json")
    res = run_local_md("CU", "NI", calculator=name, n_atoms=8, ps=0.03, stage_ps=0.015, max_stages=3,
                       T_K=1900, store=store, parallel="serial", seed=2)
    assert res.settings.kind == "mlip" and package in res.settings.calculator_version
    assert all(r.steps <= 120 for r in res.runs.values())
    row = store.observations(kind="mlip").iloc[0]
    ref = json.loads(row["reference"])
    assert row["source"].startswith(f"ase-{name}/") and ref["screening_estimate"] is True
    assert row["sigma_J"] == pytest.approx(np.hypot(res.sigma_J, ref["sigma_model_J"]))
    assert np.isfinite(row["HM_MIX_J"]) and row["sigma_J"] > res.sigma_J


def test_a_stage_that_crystallised_is_not_fitted_and_the_next_starts_from_a_fresh_packing(monkeypatch):
    """When a stage is judged not liquid the search leaves it out of the fit and re-packs before the next
    stage (and before production when the last stage crystallised); every step is counted."""
    from mixcalphad.aimd import local
    from mixcalphad.aimd.local import simulate_run

    verdicts = iter([False, None, None, False])            # s00 and the last stage crystallised
    monkeypatch.setattr(local, "stage_is_liquid", lambda *a, **k: next(verdicts))
    packings = []
    fresh = local._fresh_liquid
    monkeypatch.setattr(local, "_fresh_liquid", lambda comp, volume, *a: packings.append(volume) or fresh(comp, volume, *a))
    settings = LocalSettings(T_K=1900, n_atoms=8)
    run = simulate_run({"CU": 4, "NI": 4}, settings, production_ps=0.03, stage_ps=0.015, max_stages=4, seed=1,
                       pre_steps=5, max_extensions=0)
    assert [st.liquid for st in run.stages] == [False, None, None, False]
    assert [st.label for st in run.volume_fit.fitted_points] == [st.label for st in run.stages[1:3]]
    assert run.volume_fit.accepted is None or run.volume_fit.accepted in {st.label for st in run.stages[1:3]}
    # the start, the stage after s00, and the production after the crystallised last stage
    assert len(packings) == 3
    assert packings[1] == pytest.approx(run.stages[1].volume_A3)
    assert run.steps == 3 * 5 + 4 * 10 + 10


def test_emt_is_the_asap_potential_and_asap3_the_same_faster():
    """``emt`` is ASE's EMT with ASAP's cutoff rule: on a random Cu–Ni liquid its energy and stress are
    those of ``asap3`` (when installed) to 10⁻⁴ eV/atom, not those of ASE's default cutoff (≈ 8 meV/atom
    higher). Without asap3, asking for it names the install."""
    from ase.calculators.emt import EMT

    from mixcalphad.aimd.vasp import random_packing

    atoms = random_packing({"CU": 16, "NI": 16}, 32 * 13.9, seed=np.random.default_rng(0))
    ours, version = make_calculator("emt")
    assert "asap_cutoff" in version and LocalSettings(calculator="asap3").kind == "md"
    e_ours = atoms.copy()
    e_ours.calc = ours
    default = atoms.copy()
    default.calc = EMT()
    assert abs(e_ours.get_potential_energy() - default.get_potential_energy()) / 32 > 2e-3
    try:
        import asap3  # noqa: F401
    except ImportError:
        with pytest.raises(OptionalDependencyError, match="pip install asap3"):
            make_calculator("asap3")
        return
    fast = atoms.copy()                                                   # pragma: no cover - optional extra
    fast.calc, label = make_calculator("asap3")
    assert label.startswith("asap3 ")
    assert fast.get_potential_energy() / 32 == pytest.approx(e_ours.get_potential_energy() / 32, abs=1e-4)
    assert fast.get_stress() == pytest.approx(e_ours.get_stress(), abs=1e-5)
