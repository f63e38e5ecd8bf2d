"""ΔH_mix of liquid Cu–Ni by the AIMD protocol with ASE's EMT (no VASP): volume search, production,
H(p = 0), flags; checks that ΔH_mix is H_alloy − x_Cu H_Cu − x_Ni H_Ni of the three runs and that each
run's pressure includes the kinetic term. A short run by default (about half a minute on 2 cores), flagged
as such; pass ``--ps 15`` for a meaningful number (see benchmarks/aimd_local.py and
benchmarks/aimd_seed_spread.py: seed to seed, the 1.5 ps default moves by about 5 kJ/mol).

Run: ``python examples/aimd_local_cuni.py [--ps 1.5] [--atoms 32]``
"""
import argparse
import math

from mixcalphad.aimd import run_local_md
from mixcalphad.aimd.settings import EV_TO_J_PER_MOL


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ps", type=float, default=1.5)
    parser.add_argument("--atoms", type=int, default=32)
    args = parser.parse_args()
    res = run_local_md("CU", "NI", n_atoms=args.atoms, ps=args.ps, stage_ps=args.ps / 5, max_stages=4)
    m = res.mixing
    print(f"{m.system} x_NI = {m.x_B:.2f} at {m.T_K:.0f} K: ΔH_mix = {m.HM_MIX_J / 1000:+.2f} ± {m.sigma_J / 1000:.2f} kJ/mol "
          f"(EMT; raw ⟨E⟩ {m.HM_MIX_raw_J / 1000:+.2f}, ⟨E⟩ + p̄V {m.HM_MIX_pV_J / 1000:+.2f})")
    for role, run in res.runs.items():
        a = run.analysis
        print(f"  {run.run_id:<14} H(p=0) = {a.H0_eV:.5f} eV/atom  p̄ = {a.p_kbar:6.2f} ± {a.p_sem_kbar:4.2f} kbar  "
              f"N_eff = {a.n_eff:5.0f}  MSD = {a.msd_A2:5.1f} Å²  {run.s_per_step * 1000:.1f} ms/step  "
              f"flags: {', '.join(a.flags) or '-'}")
        assert math.isclose(a.p_kbar, a.p_ext_kbar + a.p_kin_kbar, rel_tol=1e-9)  # the kinetic term is in p̄
    # ΔH_mix = H_alloy − x_Cu H_Cu − x_Ni H_Ni from the three H(p = 0), eV/atom → J/mol
    h = {role: run.analysis.H0_eV * EV_TO_J_PER_MOL for role, run in res.runs.items()}
    assert m.system == "CU-NI" and m.x_B == 0.5
    assert math.isclose(m.HM_MIX_J, h["alloy"] - (1 - m.x_B) * h["pure_a"] - m.x_B * h["pure_b"], rel_tol=1e-9)
    print("a usable value: " + ("yes" if not m.blocking_flags else "no, flagged " + ", ".join(m.blocking_flags)))


if __name__ == "__main__":   # needed when dask runs the three runs in worker processes
    main()
