"""ΔH_mix of liquid Cu–Ni by the AIMD protocol with ASE's EMT (no VASP): volume search, production,
H(p = 0), flags. A short run by default (about half a minute on 2 cores); pass ``--ps 15`` for a
meaningful number (see benchmarks/aimd_local.py).

Run: ``python examples/aimd_local_cuni.py [--ps 1.5] [--atoms 32]``
"""
import argparse

from mixcalphad.aimd import run_local_md


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
        print(f"  {run.run_id:<14} p̄ = {a.p_kbar:6.2f} ± {a.p_sem_kbar:4.2f} kbar  N_eff = {a.n_eff:5.0f}  "
              f"MSD = {a.msd_A2:5.1f} Å²  {run.s_per_step * 1000:.1f} ms/step  flags: {', '.join(a.flags) or '-'}")


if __name__ == "__main__":   # needed when dask runs the three runs in worker processes
    main()
