"""aimd.structure: g(r), the Wendt–Abraham crystallinity indicator and phase separation from partial
structure (Warren–Cowley α) — and their flags in a run's analysis."""
import numpy as np
import pytest
from ase.build import bulk

from mixcalphad.aimd.analysis import AcceptanceLimits, ProductionSeries, RunOrigin, analyze_series
from mixcalphad.aimd.settings import RunSettings
from mixcalphad.aimd.structure import pair_distribution, structure_check
from mixcalphad.aimd.vasp import random_packing


def hot_fcc(seed=0, frames=6, noise=0.12):
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True).repeat(3)           # 108 atoms
    rng = np.random.default_rng(seed)
    pos = atoms.positions[None] + rng.normal(size=(frames, len(atoms), 3)) * noise
    return pos, atoms.cell[:], ["CU"] * len(atoms)


def liquid_like(symbols_split=None, seed=1, frames=6):
    """Hard-sphere-like random packings (one per frame) at a liquid metal's density."""
    n = 108
    cells, frames_pos = None, []
    for k in range(frames):
        atoms = random_packing({"CU": 54, "NI": 54}, n * 12.5, seed=seed + k, min_distance_A=1.9)
        frames_pos.append(atoms.positions)
        cells = atoms.cell[:]
    pos = np.array(frames_pos)
    symbols = ["CU"] * 54 + ["NI"] * 54
    if symbols_split:  # like atoms together: Cu in the lower half of the box along x
        order = np.argsort(pos[0][:, 0])
        symbols = [None] * n
        for rank, i in enumerate(order):
            symbols[i] = "CU" if rank < 54 else "NI"
        pos = pos[:1].repeat(frames, axis=0) + np.random.default_rng(seed).normal(size=(frames, n, 3)) * 0.05
    return pos, cells, symbols


def test_g_of_r_normalises_to_one_and_finds_the_fcc_shell():
    pos, cell, symbols = hot_fcc()
    gr = pair_distribution(pos, cell, symbols)
    r_peak, g_peak = gr.first_peak()
    assert r_peak == pytest.approx(3.6 / np.sqrt(2), abs=0.1)
    # 12 neighbours within the first minimum of fcc
    assert gr.coordination_within(gr.first_minimum()[0])["CU>CU"] == pytest.approx(12, abs=0.5)
    rng = np.random.default_rng(0)
    gas = pair_distribution(rng.random((20, 108, 3)) * 15.0, np.eye(3) * 15.0, ["CU"] * 108)
    assert np.mean(gas.g[gas.r_A > 2.0]) == pytest.approx(1.0, abs=0.05)      # ideal gas: g = 1


def test_crystal_is_flagged_and_liquid_is_not():
    crystal = structure_check(*hot_fcc())
    assert crystal.crystalline and crystal.wendt_abraham < 0.14
    liquid = structure_check(*liquid_like())
    assert not liquid.crystalline and liquid.wendt_abraham > 0.14
    assert abs(liquid.alpha_wc) < 0.15 and liquid.phase_separated is False


def test_phase_separation_from_partial_structure():
    separated = structure_check(*liquid_like(symbols_split=True))
    assert separated.alpha_wc > 0.3 and separated.phase_separated


def test_analysis_flags_crystalline_and_phase_separated_runs():
    pos, cell, symbols = hot_fcc(frames=60, noise=0.1)
    n = len(symbols)
    rng = np.random.default_rng(3)
    energy = -3.5 * n + rng.normal(size=60) * 0.02
    series = ProductionSeries(energy_eV=energy, n_atoms=n, volume_A3=abs(np.linalg.det(cell)), T_K=1500.0,
                              symbols=symbols, positions=pos, cell=cell, fractional=False)
    limits = AcceptanceLimits(min_n_eff=1)
    run = analyze_series(series, RunSettings(T_K=1500, n_atoms=n, potim_fs=3.0), origin=RunOrigin(label="run"),
                         limits=limits)
    assert "crystalline" in run.flags and "crystalline" in run.blocking_flags and run.structure["crystalline"]
    pos2, cell2, sym2 = liquid_like(symbols_split=True, frames=60)
    series = ProductionSeries(energy_eV=energy, n_atoms=len(sym2), volume_A3=abs(np.linalg.det(cell2)), T_K=1500.0,
                              symbols=sym2, positions=pos2, cell=cell2, fractional=False)
    sep = analyze_series(series, RunSettings(T_K=1500, n_atoms=len(sym2), potim_fs=3.0),
                         origin=RunOrigin(label="run"), limits=limits.replace(min_msd_A2=0.0))
    assert "phase_separated" in sep.blocking_flags and any("immiscible" in n for n in sep.notes)


def test_a_stage_is_judged_liquid_by_its_msd_only_when_long_enough():
    """Diffusing atoms (MSD ≫ (½·d_nn)²) are liquid, atoms vibrating about fixed sites are not, in Cartesian
    Å or in wrapped fractional coordinates (VASP); a stage shorter than 2 ps or without positions is not
    judged; what counts is the stage's last 2 ps."""
    from mixcalphad.aimd.structure import STAGE_LIQUID_MIN_PS, nearest_neighbour_distance, stage_is_liquid

    rng = np.random.default_rng(3)
    v_atom, n = 12.5, 64
    L = (v_atom * n) ** (1 / 3)
    threshold = (0.5 * nearest_neighbour_distance(v_atom)) ** 2
    sites = rng.uniform(0, L, (n, 3))
    walk = sites + np.cumsum(rng.normal(0, 0.08, (500, n, 3)), axis=0)             # MSD ≈ 9.6 Å²
    lattice = sites + rng.normal(0, 0.15, (500, n, 3))                               # MSD ≈ 0.14 Å²
    cell = np.eye(3) * L
    assert stage_is_liquid(walk, v_atom, 3.0) is True
    assert stage_is_liquid(lattice, v_atom, 3.0) is False
    assert stage_is_liquid((walk / L) % 1.0, v_atom, 3.0, cell, fractional=True) is True
    assert stage_is_liquid((lattice / L) % 1.0, v_atom, 3.0, cell, fractional=True) is False
    assert stage_is_liquid(walk, v_atom, STAGE_LIQUID_MIN_PS - 0.1) is None
    assert stage_is_liquid(None, v_atom, 3.0) is None
    # a 10 ps stage that diffused for 6 ps and then crystallised: large MSD over the stage, a crystal at its end
    half = np.concatenate([walk[:300], walk[299] + rng.normal(0, 0.15, (200, n, 3))])
    assert stage_is_liquid(half, v_atom, 10.0) is False
    melted = np.concatenate([lattice[:300], lattice[299] + np.cumsum(rng.normal(0, 0.15, (200, n, 3)), axis=0)])
    assert stage_is_liquid(melted, v_atom, 10.0) is True                  # solid first, liquid over the end
    # the threshold is (½·d_nn)²: a displacement just beyond it is liquid, just below is not
    for scale, expected in ((1.05, True), (0.95, False)):
        step = np.zeros((2, n, 3))
        step[1, :, 0] = np.sqrt(threshold) * scale * np.where(np.arange(n) % 2, 1, -1)
        assert stage_is_liquid(sites + step, v_atom, 3.0) is expected
