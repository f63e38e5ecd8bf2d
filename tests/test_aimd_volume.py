"""aimd.volume and the stage length: the acceptance is the error the volume can cause in H(p = 0),
the error bound covers a designed equation of state, and a stage's length follows from its measured
pressure variance and autocorrelation."""
import numpy as np
import pytest
from scipy.integrate import quad
from scipy.optimize import brentq

from mixcalphad.aimd.local import _extension_steps
from mixcalphad.aimd.settings import EV_TO_J_PER_MOL, KBAR_PER_EV_A3
from mixcalphad.aimd.statistics import samples_needed, series_stats
from mixcalphad.aimd.volume import VolumePoint, acceptance_limits, fit_volume, local_lines, stage_ps_needed


def ar1(n, phi, sigma=1.0, seed=0):
    """AR(1) series with unit-lag correlation φ and variance σ²: g = (1 + φ)/(1 − φ)."""
    rng = np.random.default_rng(seed)
    x = np.empty(n)
    x[0] = rng.normal() * sigma
    eps = rng.normal(size=n) * sigma * np.sqrt(1 - phi ** 2)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + eps[t]
    return x


# ---------------------------------------------------------------------- a designed liquid
N, V0_ATOM, K0_KBAR, KP = 100, 13.0, 1000.0, 5.0


def eos(q):
    """Murnaghan p(v) (K0 = 100 GPa, K′ = 5) and E(v) from (∂E/∂V)_T = A(v) − p with a thermal pressure
    A = 0.1 eV/Å³ · (1 + q·Δv/v0): H(p = 0) = E(v0) = −4 eV/atom is the hidden answer."""
    K0 = K0_KBAR / KBAR_PER_EV_A3

    def p(v):
        return K0 / KP * ((V0_ATOM / v) ** KP - 1)

    def E(v):
        return -4.0 + quad(lambda u: 0.1 * (1 + q * (u - V0_ATOM) / V0_ATOM), V0_ATOM, v)[0] - quad(p, V0_ATOM, v)[0]

    return p, E


def stages(p, E, start, sem_kbar=0.5, scales=(0.96, 1.0, 1.04)):
    return [VolumePoint(f"s{s}", N * V0_ATOM * start * s, p(V0_ATOM * start * s) * KBAR_PER_EV_A3, sem_kbar,
                        E(V0_ATOM * start * s), 3e-4, 100) for s in scales]


@pytest.mark.parametrize("q", [0.0, 1.0, 2.0])
@pytest.mark.parametrize("start", [0.95, 1.0, 1.03, 1.08])
def test_h0_error_bound_covers_the_true_error_of_the_correction(q, start):
    """At a volume whose true pressure is ±2 or ±5 kbar, the first-order H(p = 0) correction with the
    fit's c misses E(v0) by less than the bound — also when the stages lie 4–12 % off v0."""
    p, E = eos(q)
    fit = fit_volume(stages(p, E, start), n_atoms=N)
    for p_true in (2.0, 5.0, -5.0):
        v = brentq(lambda u: p(u) * KBAR_PER_EV_A3 - p_true, 0.8 * V0_ATOM, 1.2 * V0_ATOM)
        c, _ = fit.correction_eV_kbar(N * v)
        error_J = (E(v) + c * p_true - E(V0_ATOM)) * EV_TO_J_PER_MOL
        assert abs(error_J) <= fit.h0_bias_J(abs(p_true), N * v)


def test_local_fit_and_carried_derivatives_beat_one_secant_line():
    """Stages 4–12 % above v0 (the Vegard start of a liquid that expands): one line through them gives
    K_T and (∂E/∂V)_T of the stages, off by a third at v0; the fit around v0, carried with K′ and the
    thermal pressure, gives a correction several times closer to the truth, and the next volume lands
    within 1 % of v0."""
    p, E = eos(0.0)
    pts = stages(p, E, 1.08)
    fit = fit_volume(pts, n_atoms=N)
    v = brentq(lambda u: p(u) * KBAR_PER_EV_A3 - 5.0, 0.8 * V0_ATOM, 1.2 * V0_ATOM)
    line = local_lines(pts, N, N * v, 0.0)                               # one unweighted line
    c_local, _ = fit.correction_eV_kbar(N * v)
    c_secant = line.dE_dV * v / (-line.V_mean_p_A3 * line.dp_dV)
    err_local = abs(E(v) + 5.0 * c_local - E(V0_ATOM))
    err_secant = abs(E(v) + 5.0 * c_secant - E(V0_ATOM))
    assert err_local < err_secant / 4
    assert -line.V_mean_p_A3 * line.dp_dV < 0.7 * K0_KBAR and abs(line.dE_dV - 0.1) > 0.3 * 0.1
    assert fit.K_T_kbar_at(N * V0_ATOM) == pytest.approx(K0_KBAR, rel=0.08)
    assert fit.dE_dV_at(N * V0_ATOM) == pytest.approx(0.1, rel=0.1)
    assert fit.next_volume_A3 == pytest.approx(N * V0_ATOM, rel=0.01)


def test_acceptance_is_the_window_and_the_h0_error_bound():
    p, E = eos(1.0)
    base = stages(p, E, 1.0, scales=(0.95, 0.97, 1.03, 1.05))          # none near p = 0
    fit = fit_volume(base, n_atoms=N)
    V = N * V0_ATOM
    p_max = fit.p_bound_kbar(V)
    assert 3.0 < p_max < 10.0                                       # kbar, for this liquid
    assert fit.h0_bias_J(p_max, V) == pytest.approx(fit.h0_bias_max_J)
    inside = VolumePoint("in", V, 0.5, 0.99 * (p_max - 0.5) / 2, -4.0, 3e-4, 50)
    noisy = VolumePoint("noisy", V, 0.3, 1.01 * (p_max - 0.3) / 2, -4.0, 3e-4, 50)
    outside = VolumePoint("out", V, 2.1, 0.01, -4.0, 3e-4, 50)       # the paper's ±2 kbar window
    assert fit.accepts(inside) and not fit.accepts(noisy) and not fit.accepts(outside)
    # the search accepts, of the stages that pass, the one with the smallest |p̄|
    a = VolumePoint("a", V, 0.5, 0.5, -4.0, 3e-4, 50)                # |p̄| + 2·SEM = 1.5 kbar
    b = VolumePoint("b", V, 0.2, 6.0, -4.0, 3e-4, 50)                # 12.2 kbar: too noisy to tell
    c = VolumePoint("c", V, 2.1, 0.5, -4.0, 3e-4, 50)                # outside the window
    assert fit_volume(base + [a, b, c], n_atoms=N).accepted == "a"
    assert fit_volume(base + [b, c], n_atoms=N).accepted is None
    # a stricter H0 budget needs a smaller SEM for the same p̄
    strict = fit_volume(base + [inside], n_atoms=N, h0_bias_max_J=20.0)
    assert strict.accepted is None and strict.p_bound_kbar(V) < p_max
    # one stage: no fit, nothing to correct with, nothing accepted
    assert fit_volume([inside], n_atoms=N).accepted is None


def test_stages_that_scatter_beyond_their_sem_widen_the_bound():
    p, E = eos(0.0)
    clean = stages(p, E, 1.0, scales=(0.96, 0.98, 1.0, 1.02, 1.04))
    shaken = [VolumePoint(s.label, s.volume_A3, s.p_kbar + d, s.p_sem_kbar, s.e_eV, s.e_sem_eV, s.n_eff)
              for s, d in zip(clean, (6.0, -6.0, 6.0, -6.0, 6.0))]        # 12 SEMs of scatter
    a, b = fit_volume(clean, n_atoms=N), fit_volume(shaken, n_atoms=N)
    assert b.dp_dV_se_kbar_A3 > 3 * a.dp_dV_se_kbar_A3                  # Birge ratio √χ²_red
    assert b.p_bound_kbar(N * V0_ATOM) < a.p_bound_kbar(N * V0_ATOM)


def test_old_manifests_get_the_default_h0_budget():
    assert acceptance_limits({"p_window_kbar": 3.0, "p_sem_max_kbar": 1.0}) == {"p_window_kbar": 3.0,
                                                                               "h0_bias_max_J": 100.0}


# ---------------------------------------------------------------------- stage length
@pytest.mark.parametrize("phi", [0.5, 0.9])
def test_samples_needed_follows_variance_and_autocorrelation(phi):
    """g·var/SEM² from one AR(1) series; series of that length do have that SEM."""
    sigma, target = 10.0, 1.0                                      # kbar, like a 100-atom cell
    g = (1 + phi) / (1 - phi)
    n = samples_needed(ar1(40000, phi, sigma, seed=3), target, t0=0)
    assert n == pytest.approx(g * sigma ** 2 / target ** 2, rel=0.15)
    means = [ar1(int(n), phi, sigma, seed=100 + s).mean() for s in range(300)]
    assert np.std(means) == pytest.approx(target, rel=0.15)
    with pytest.raises(ValueError, match="positive"):
        samples_needed([1.0, 2.0], 0.0)


def test_stage_ps_needed_from_a_measured_stage():
    """A 2 ps stage of a pressure with τ = 0.1 ps and σ = 10 kbar (3 fs steps): SEM ≈ 2.2 kbar; SEM < 1
    kbar needs ≈ 10 ps by the stage's own numbers."""
    dt_ps, phi = 0.003, np.exp(-0.003 / 0.1)
    x = ar1(667, phi, 10.0, seed=5)
    st = series_stats(x, t0=0)
    point = VolumePoint("s", 1e3, st.mean, st.sem, -4.0, 1e-3, st.n_eff, length_ps=len(x) * dt_ps,
                        p_tau_ps=st.g * dt_ps / 2)
    exact = (1 + phi) / (1 - phi) * 100.0 / 1.0 * dt_ps            # g·var/SEM² samples × Δt
    assert stage_ps_needed(point, 1.0) == pytest.approx(exact, rel=0.5)
    assert stage_ps_needed(point, 1.0) == pytest.approx(point.length_ps * (st.sem / 1.0) ** 2)
    assert stage_ps_needed(point, 0.0) == float("inf")


def test_a_stage_is_extended_to_the_length_its_acceptance_needs():
    p, E = eos(0.0)
    fit = fit_volume(stages(p, E, 1.0), n_atoms=N)
    V = N * V0_ATOM
    p_max = fit.p_bound_kbar(V)
    step_ps = 0.003
    # 1 ps measured, |p̄| = 0.5 kbar, SEM twice what acceptance needs: 4 ps in all (+10 %)
    need = (p_max - 0.5) / 2
    pt = VolumePoint("s", V, 0.5, 2 * need, -4.0, 3e-4, 20, length_ps=1.0)
    more = _extension_steps(fit, pt, 333, 2000, step_ps)
    assert 333 + more == int(np.ceil(1.1 * 4.0 / step_ps))
    assert _extension_steps(fit, pt, 333, 1000, step_ps) == 0           # beyond the cap: move on instead
    done = VolumePoint("ok", V, 0.5, 0.5 * need, -4.0, 3e-4, 20, length_ps=1.0)
    assert _extension_steps(fit, done, 333, 2000, step_ps) == 0          # accepted already
    far = VolumePoint("far", V, 2.5, 0.1, -4.0, 3e-4, 20, length_ps=1.0)
    assert _extension_steps(fit, far, 333, 2000, step_ps) == 0           # outside the window
