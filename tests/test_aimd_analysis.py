"""aimd.analysis: equilibration, N_eff, SEM, volume search, H(p=0), liquidity, ΔH_mix."""
import json

import numpy as np
import pytest

from mixcalphad.aimd.analysis import AcceptanceLimits, ProductionSeries, RunOrigin, analyze_series
from mixcalphad.aimd.statistics import detect_equilibration, series_stats, statistical_inefficiency
from mixcalphad.aimd.structure import mean_square_displacement
from mixcalphad.aimd.volume import VolumePoint, fit_volume, volume_step
from mixcalphad.aimd.mixing import mixing_enthalpy
from mixcalphad.errors import SettingsMismatchError
from mixcalphad.aimd.settings import EV_TO_J_PER_MOL, KBAR_PER_EV_A3, RunSettings


def ar1(n, phi, sigma=1.0, seed=0):
    rng = np.random.default_rng(seed)
    x = np.empty(n)
    x[0] = rng.normal() * sigma
    eps = rng.normal(size=n) * sigma * np.sqrt(1 - phi ** 2)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + eps[t]
    return x


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.8])
def test_statistical_inefficiency_of_ar1(phi):
    g = statistical_inefficiency(ar1(50000, phi, seed=1))
    assert g == pytest.approx((1 + phi) / (1 - phi), rel=0.15)


def test_detect_equilibration_cuts_the_transient():
    x = ar1(3000, 0.7, seed=2) + 20.0 * np.exp(-np.arange(3000) / 50.0)
    t0, g, n_eff = detect_equilibration(x)
    assert 100 <= t0 <= 500
    assert n_eff == pytest.approx((3000 - t0) / g)
    stats = series_stats(x)
    assert stats.t0 == t0 and abs(stats.mean) < 0.3
    assert series_stats(x, t0=0).mean - stats.mean > 0.25   # without the cut the mean is biased


def test_sem_covers_the_true_mean():
    hits = 0
    for seed in range(200):
        s = series_stats(ar1(1000, 0.8, seed=seed), t0=0)
        hits += abs(s.mean) < s.sem
    assert 0.58 < hits / 200 < 0.78                   # 68 % for a correct SEM


def designed_e(V, V0, n_atoms, E0, dEdV, K_GPa):
    """⟨E⟩ per atom of a liquid with p = −K(V − V0)/V0 and (∂E/∂V)_T = dEdV − p (a constant thermal
    pressure ``dEdV``, eV/Å³): E = E0 + dEdV·Δv + ½·K·Δv²/v0 per atom."""
    dv, v0 = (V - V0) / n_atoms, V0 / n_atoms
    return E0 + dEdV * dv + 0.5 * K_GPa * 10 / KBAR_PER_EV_A3 * dv ** 2 / v0


def linear_points(V0=1000.0, K_GPa=80.0, dEdV=0.02, E0=-5.0, n_atoms=100, scales=(0.96, 1.0, 1.04), sem=0.5):
    pts = []
    for s in scales:
        V = V0 * 1.03 * s
        p = -K_GPa * 10 * (V - V0) / V0
        pts.append(VolumePoint(f"v{s}", V, p, sem, designed_e(V, V0, n_atoms, E0, dEdV, K_GPa), 1e-3, 200))
    return pts


def test_volume_fit_recovers_v0_K_and_dEdV():
    # designed stages with a linear p(V) (K′ = −1), 3 % above V0: the Vinet fit (K′ prior 5 ± 2) gets
    # V0 within 0.3 %, K_T within 25 %, (∂E/∂V)_T at V0 within 5 %, and steps to V0
    f = fit_volume(linear_points(), n_atoms=100)
    assert f.V_zero_A3 == pytest.approx(1000.0, rel=3e-3) and f.K_T_GPa == pytest.approx(80.0, rel=0.25)
    assert f.dE_dV_at(1000.0) == pytest.approx(0.02, rel=0.05)
    assert f.accepted is None and not f.clipped and not f.from_guess
    assert f.next_volume_A3 == pytest.approx(1000.0, rel=3e-3)


def test_volume_step_clips_to_ten_percent_and_accepts():
    assert volume_step([1000.0, 1010.0], [100.0, 99.0], n_atoms=100) == pytest.approx(1010.0 * 1.10)
    one = fit_volume([VolumePoint("a", 1000.0, 50.0, 0.5, -5.0, 1e-3, 100)], n_atoms=100, k_guess_GPa=100)
    assert one.from_guess and one.next_volume_A3 == pytest.approx(1050.0)
    pts = linear_points() + [VolumePoint("ok", 1001.0, -0.8, 0.5, designed_e(1001.0, 1000.0, 100, -5.0, 0.02, 80.0),
                                         1e-3, 100)]
    fit = fit_volume(pts, n_atoms=100)
    assert fit.accepted == "ok"
    assert fit.pressure_bound_kbar(1001.0) <= fit.p_bound_kbar(1001.0)


def settings(T=1500.0, n=100, **kw):
    return RunSettings(T_K=T, n_atoms=n, **kw)


def designed_run(comp, E0, *, p_bar=5.0, K=80.0, dEdV=0.02, n_steps=4000, seed=0, st=None, liquid=True):
    """A run at a volume where p̄ = p_bar: ⟨E⟩ = E0 − dEdV·ΔV, H(p=0) = E0 (per atom, eV)."""
    n = sum(comp.values())
    V0 = 15.0 * n
    V = V0 * (1 - p_bar / (K * 10))
    e_mean = designed_e(V, V0, n, E0, dEdV, K)
    rng = np.random.default_rng(seed)
    e = (e_mean + ar1(n_steps, 0.5, 0.01, seed)) * n
    p = p_bar + ar1(n_steps, 0.5, 5.0, seed + 1000)
    fit = fit_volume(linear_points(V0=V0, K_GPa=K, dEdV=dEdV, E0=E0, n_atoms=n), n_atoms=n)
    pos = np.cumsum(rng.normal(size=(n_steps, n, 3)) * (0.05 if liquid else 0.0), axis=0)
    pos += rng.normal(size=pos.shape) * 0.05
    symbols = [el for el, c in comp.items() for _ in range(c)]
    series = ProductionSeries(energy_eV=e, n_atoms=n, volume_A3=V, T_K=1500.0, symbols=symbols, pressure_kbar=p,
                              positions=pos, fractional=False)
    return analyze_series(series, st or settings(n=n), volume_fit=fit, origin=RunOrigin(label="+".join(comp)))


def test_h0_estimator_removes_the_pressure_offset():
    run = designed_run({"CU": 100}, -4.0, p_bar=5.0)
    v = run.volume_A3
    assert run.p_kbar == pytest.approx(5.0, abs=0.5)
    assert run.H0_eV == pytest.approx(-4.0, abs=3 * run.H0_sem_eV + 1e-5)
    assert abs(run.E_eV + 4.0) > 5 * run.E_sem_eV          # raw ⟨E⟩ is off by dE/dV·ΔV
    assert run.H_pV_eV == pytest.approx(run.E_eV + run.p_kbar / KBAR_PER_EV_A3 * v)
    # c = (∂E/∂V)_T·v/K_T carried to the run's volume (volume.VolumeFit.correction_eV_kbar)
    fit = fit_volume(linear_points(V0=15.0 * 100, K_GPa=80.0, dEdV=0.02, E0=-4.0), n_atoms=100)
    assert run.correction_eV == pytest.approx(fit.correction_eV_kbar(v * 100)[0] * run.p_kbar, rel=1e-6)
    assert "pressure_window" in run.flags                  # 5 kbar is outside ±2 kbar


def test_mixing_enthalpy_designed_value_sigma_and_flags():
    st = settings(n=100)
    a = designed_run({"CU": 100}, -4.0, p_bar=1.0, seed=1, st=st)
    b = designed_run({"NI": 100}, -5.0, p_bar=-1.0, seed=2, st=st)
    ab = designed_run({"CU": 50, "NI": 50}, -4.5 + 0.03, p_bar=0.5, seed=3, st=st)
    res = mixing_enthalpy(b, a, ab)                        # pure runs in any order
    assert res.system == "CU-NI" and res.x_B == 0.5
    assert res.HM_MIX_J == pytest.approx(0.03 * EV_TO_J_PER_MOL, abs=3 * res.sigma_J)
    expected_sigma = np.sqrt(ab.H0_sem_eV ** 2 + 0.25 * a.H0_sem_eV ** 2 + 0.25 * b.H0_sem_eV ** 2) * EV_TO_J_PER_MOL
    assert res.sigma_J == pytest.approx(expected_sigma)
    assert res.runs["pure_a"] is a and res.runs["pure_b"] is b
    assert "indistinguishable_from_zero" not in res.flags
    json.dumps(res.to_dict())                              # JSON-ready
    zero = mixing_enthalpy(a, b, designed_run({"CU": 50, "NI": 50}, -4.5, p_bar=0.5, seed=3, st=st))
    assert "indistinguishable_from_zero" in zero.flags


def test_mixing_refuses_runs_with_different_settings():
    a = designed_run({"CU": 100}, -4.0, st=settings())
    b = designed_run({"NI": 100}, -5.0, st=settings(encut_eV=450))
    ab = designed_run({"CU": 50, "NI": 50}, -4.5, st=settings())
    with pytest.raises(SettingsMismatchError, match=r"encut_eV: 400.0 vs 450.0"):
        mixing_enthalpy(a, b, ab)
    hot = designed_run({"NI": 100}, -5.0, st=settings(T=1600))
    with pytest.raises(SettingsMismatchError, match="T_K"):
        mixing_enthalpy(a, hot, ab)
    with pytest.raises(SettingsMismatchError, match="pure runs are"):
        mixing_enthalpy(a, a, ab)


def test_liquidity_from_msd():
    liquid = designed_run({"CU": 100}, -4.0, p_bar=0.0, n_steps=2000)
    solid = designed_run({"CU": 100}, -4.0, p_bar=0.0, n_steps=2000, liquid=False)
    assert liquid.liquid and liquid.msd_A2 > 10
    assert solid.liquid is False and "not_liquid" in solid.flags and solid.msd_A2 < 0.1


def test_msd_unwraps_periodic_positions():
    cell = np.eye(3) * 10.0
    frac = np.zeros((101, 2, 3))
    frac[:, 0, 0] = np.mod(np.linspace(0.0, 2.5, 101), 1.0)   # atom 0 crosses the box twice
    frac[:, 1, 0] = 0.5
    # atom 0 moves 25 Å, atom 1 stays; COM removed: displacements ±12.5 Å
    assert mean_square_displacement(frac, cell) == pytest.approx(12.5 ** 2)


def test_short_run_is_flagged():
    run = designed_run({"CU": 100}, -4.0, p_bar=0.0, n_steps=60)
    assert "short" in run.flags and run.n_eff < 50


def test_analysis_options_are_grouped_in_checked_settings_objects():
    """analyze_series takes the series, the settings and three objects, not 29 keyword arguments."""
    import inspect

    from mixcalphad.errors import ProtocolError

    assert len(inspect.signature(analyze_series).parameters) <= 6
    limits = AcceptanceLimits.from_protocol({"production_ps": 10.0, "p_window_kbar": 7.0})
    assert (limits.p_window_kbar, limits.min_kept_ps) == (7.0, 10.0) and AcceptanceLimits().min_kept_ps is None
    assert limits.volume_search() == {"p_window_kbar": 7.0, "h0_bias_max_J": limits.h0_bias_max_J}
    for bad in ({"p_window_kbar": 0}, {"min_n_eff": -1}, {"T_tolerance": "x"}, {"min_kept_ps": float("inf")}):
        with pytest.raises(ProtocolError, match=next(iter(bad))):
            AcceptanceLimits(**bad)
    for bad in ({"n_atoms": 2.5}, {"volume_A3": -1.0}, {"timestep_fs": 0}, {"steps_lost": -1}):
        with pytest.raises(ProtocolError, match=next(iter(bad))):
            ProductionSeries(**{"energy_eV": np.zeros(3), "n_atoms": 4, "volume_A3": 60.0, "T_K": 1500.0,
                                "symbols": ["CU"] * 4, **bad})
    run = designed_run({"CU": 100}, -4.0, p_bar=5.0)
    strict = analyze_series(ProductionSeries(energy_eV=np.full(50, -400.0), n_atoms=100, volume_A3=1500.0,
                                             T_K=1500.0, symbols=["CU"] * 100, timestep_fs=3.0),
                            settings(n=100), limits=AcceptanceLimits(min_kept_ps=10.0))
    assert "short" in strict.flags and "short" not in run.flags
