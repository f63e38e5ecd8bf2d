"""The full three-run protocol with EMT for liquid Cu–Ni: ΔH_mix ± σ, p̄, N_eff, wall time.

Volume search (stages at 0.96/1.00/1.04 × the Vegard volume, then at the zero-pressure volume of one
equation-of-state fit over all stages or beside it, :mod:`mixcalphad.aimd.volume`; acceptance: fitted
|p| < 2 kbar and an H(p = 0) error bound ≤ 100 J/mol; the stage table shows each stage's p̄ ± SEM, the
fit's pressure there, P_max and the bound) then NVT production, for Cu, Ni and Cu50Ni50; the three runs
go through dask's process scheduler when dask is installed. References (shared/reference/aimd.md): EMT
Cu–Ni at 1900 K gave +1.8 ± 0.2 kJ/mol (60 ps per run, asap3) and +2.2 kJ/mol (6 ps, ASE); experiment
≈ +3 kJ/mol. EMT is a pipeline stand-in, not a predictor.

Volume stages that crystallised (judged by the MSD of their last 2 ps) are shown, not fitted.
``--calculator asap3`` (``pip install asap3``) runs the same EMT ~100× faster, which is what runs long
enough for the acceptance need (the reference case:
``python benchmarks/aimd_local.py --calculator asap3 --atoms 100 --ps 60 --stage-ps 10``, ~4 min);
ASE's EMT (``--calculator emt``, the default) suits short pipeline checks.

Run: ``python benchmarks/aimd_local.py [--calculator emt|asap3] [--atoms 64] [--ps 8] [--stage-ps 3]
[--max-stages 6] [--T 1900]``

``--mlip``: the same protocol with CHGNet (``pip install torch==2.13.0 chgnet``; one torch thread) or,
with ``--calculator sevennet``, SevenNet-0 (``pip install sevenn==0.13.0``) for the paper's 29 Table 1
systems (``--systems`` for a subset), in small cells and short runs — *screening estimates* — against
the paper's AIMD values: Spearman ρ and Kendall τ with bootstrap intervals, RMSE and the fraction of
the AIMD top-10 an MLIP pre-screen would keep, each beside what a user has without AIMD (the model
trained without any AIMD value, and Miedema), and as an acquisition pre-screen: of the 10 systems where
AIMD moved the model most, how many an MLIP's own disagreement with the model would have kept; and as
a feature: whether the MLIP value, as a second input beside the model, lowers the leave-one-system-out
error of a linear correction. Systems run in groups sharing the refractory pure run,
serially (torch is not fork-safe; run two calculators as two processes), and each group's rows are
appended to ``aimd_mlip_cache.csv`` at once, so an interrupted run resumes where it stopped:
``python benchmarks/aimd_local.py --mlip --atoms 16 --ps 0.45 --stage-ps 0.15 --max-stages 3``
"""
from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np

from mixcalphad.aimd.local import run_local_md
from mixcalphad.aimd.settings import EV_TO_J_PER_MOL


#: EMT Cu–Ni at 1900 K, x = 0.5: 60 ps per run with asap3 (shared/reference/aimd.md), kJ/mol.
EMT_REFERENCE_KJ, EMT_REFERENCE_SIGMA_KJ = 1.8, 0.2


#: Resumable results of ``--mlip`` (one row per system, calculator and run settings).
MLIP_CACHE = Path(__file__).with_name("aimd_mlip_cache.csv")
MLIP_KEY = ("calculator", "n_atoms", "ps", "stage_ps", "max_stages", "seed")


def paper_values() -> dict:
    """The paper's Table 1 AIMD ΔH_mix (kJ/mol) by system name, in the table's order."""
    import pandas as pd
    from importlib import resources

    from mixcalphad.chem.binaries import parse_system, system_name

    with (resources.files("mixcalphad") / "data" / "aimd_bizot2026.csv").open() as fh:
        table = pd.read_csv(fh, keep_default_na=False)
    return {system_name(*parse_system(r.pair)): float(r.HM_MIX_kJ)
            for r in table[table["status"] == "value"].itertuples(index=False)}


def run_mlip_systems(args, systems: list[str]) -> "pd.DataFrame":
    """Run the systems not yet in the cache, grouped by refractory element (one shared pure run per
    group and temperature), appending each group's rows to :data:`MLIP_CACHE` as soon as it is done."""
    import pandas as pd

    from mixcalphad.aimd.local import run_local_md_many

    settings = {"calculator": args.calculator, "n_atoms": args.atoms, "ps": args.ps, "stage_ps": args.stage_ps,
                "max_stages": args.max_stages, "seed": args.seed}
    cache = pd.read_csv(MLIP_CACHE, keep_default_na=False) if MLIP_CACHE.is_file() else pd.DataFrame()
    done = set()
    if len(cache):
        mine = np.logical_and.reduce([cache[k].astype(str) == str(v) for k, v in settings.items()])
        done = set(cache.loc[mine, "system"])
    groups: dict[str, list[str]] = {}
    for system in systems:
        if system not in done:
            groups.setdefault(next(el for el in ("IR", "OS", "RE", "W") if el in system.split("-")), []).append(system)
    for refractory, group in groups.items():
        start = time.perf_counter()
        results = run_local_md_many(group, calculator=args.calculator, n_atoms=args.atoms, ps=args.ps,
                                    stage_ps=args.stage_ps, max_stages=args.max_stages, seed=args.seed,
                                    parallel="serial", max_extensions=0)
        wall = time.perf_counter() - start
        runs = {r.run_id: r for res in results for r in res.runs.values()}
        rows = [{**settings, "system": res.mixing.system, "T_K": res.mixing.T_K,
                 "version": res.settings.calculator_version, "HM_MIX_kJ": res.HM_MIX_J / 1000,
                 "sigma_kJ": res.sigma_J / 1000, "accepted_runs": sum(bool(r.volume_fit.accepted)
                                                                     for r in res.runs.values()),
                 "flags": " ".join(sorted({f.split(":")[-1] for f in res.mixing.flags})),
                 "wall_s_per_system": wall / len(group), "group_runs": len(runs),
                 "ms_per_step": 1000 * np.mean([r.s_per_step for r in runs.values()])} for res in results]
        cache = _append_to_cache(pd.DataFrame(rows))
        print(f"{refractory}: {len(group)} systems, {len(runs)} runs, {wall:.0f} s", flush=True)
    mine = np.logical_and.reduce([cache[k].astype(str) == str(v) for k, v in settings.items()])
    return cache[mine & cache["system"].isin(systems)]


def _append_to_cache(rows: "pd.DataFrame") -> "pd.DataFrame":
    """Add rows to :data:`MLIP_CACHE` as it is on disk now (another calculator's process may have written
    it since this one started), atomically, and return the whole cache."""
    import pandas as pd

    from mixcalphad._io import write_text

    on_disk = pd.read_csv(MLIP_CACHE, keep_default_na=False) if MLIP_CACHE.is_file() else pd.DataFrame()
    cache = pd.concat([on_disk, rows], ignore_index=True)
    write_text(MLIP_CACHE, cache.to_csv(index=False))
    return cache


def blind_predictions(systems: list[str]) -> "pd.DataFrame":
    """What a user has without AIMD, at each AIMD point (x = 0.5, its T): the model trained on the default
    corpus without any AIMD value and without any data of these systems (as ``accuracy.py``'s AIMD test),
    and Miedema; kJ/mol, indexed by system."""
    import pandas as pd

    from mixcalphad.chem.miedema import miedema_for_observations
    from mixcalphad.data.corpus import build_dataset
    from mixcalphad.model.regressor import HMixRegressor, training_rows

    rows = training_rows(build_dataset(progress=False).observations)
    aimd = rows[(rows["kind"] == "aimd") & rows["system"].isin(systems)].drop_duplicates("system")
    blind = rows[(rows["kind"] != "aimd") & ~rows["system"].isin(set(rows.loc[rows["kind"] == "aimd", "system"]))]
    mean, std = HMixRegressor(random_state=0).fit(blind).predict(aimd, return_std=True)
    return pd.DataFrame({"model_kJ": mean / 1000, "model_sigma_kJ": std / 1000,
                         "miedema_kJ": miedema_for_observations(aimd)["miedema_J"].to_numpy() / 1000},
                        index=aimd["system"].to_numpy())


def surprise_kept(ours: np.ndarray, ref: np.ndarray, model: np.ndarray, picks: int = 10) -> dict:
    """The pre-screen an acquisition would use an MLIP for: an AIMD run is worth most where AIMD moves the
    model most, |AIMD − model|. Of the ``picks`` systems where it moved most, the fraction an MLIP
    pre-screen keeps when it keeps its own k with the largest |MLIP − model| (k = 10, 15), and the
    Spearman ρ between the two surprises."""
    from scipy.stats import spearmanr

    truth, guess = np.abs(ref - model), np.abs(ours - model)
    top = set(np.argsort(-truth)[:picks])
    kept = {k: len(top & set(np.argsort(-guess)[:k])) / len(top) for k in (10, 15) if len(ours) > k}
    return {"kept": kept, "spearman": float(spearmanr(truth, guess).statistic)}


def feature_gain(ours: np.ndarray, ref: np.ndarray, model: np.ndarray) -> tuple[float, float]:
    """The MLIP as a feature: leave-one-system-out RMSE (kJ/mol) of a linear correction of the model
    without AIMD, AIMD ≈ a + b·model, and of the same with the MLIP value as a second input."""
    def loo_rmse(X: np.ndarray) -> float:
        X = np.column_stack([np.ones(len(ref)), X])
        errors = []
        for i in range(len(ref)):
            keep = np.arange(len(ref)) != i
            coef = np.linalg.lstsq(X[keep], ref[keep], rcond=None)[0]
            errors.append(X[i] @ coef - ref[i])
        return float(np.sqrt(np.mean(np.square(errors))))

    return loo_rmse(model[:, None]), loo_rmse(np.column_stack([model, ours]))


def rank_statistics(ours: np.ndarray, ref: np.ndarray, n_boot: int = 2000, seed: int = 0) -> dict:
    """Spearman ρ, Kendall τ and RMSE (kJ/mol) with 95 % intervals from bootstrap resamples of systems,
    and the fraction of the AIMD top-10 (most negative ΔH_mix) kept by an MLIP pre-screen that keeps its
    own 10 or 15 most negative."""
    from scipy.stats import kendalltau, spearmanr

    def stats(a, b):
        return (spearmanr(a, b).statistic, kendalltau(a, b).statistic, float(np.sqrt(np.mean((a - b) ** 2))))

    point = stats(ours, ref)
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        i = rng.integers(0, len(ours), len(ours))
        if len(np.unique(ref[i])) > 2:
            boots.append(stats(ours[i], ref[i]))
    lo, hi = np.nanpercentile(np.array(boots), [2.5, 97.5], axis=0)
    top = set(np.argsort(ref)[:10])
    keep = {k: len(top & set(np.argsort(ours)[:k])) / len(top) for k in (10, 15) if len(ours) > k}
    return {"spearman": (point[0], lo[0], hi[0]), "kendall": (point[1], lo[1], hi[1]),
            "rmse": (point[2], lo[2], hi[2]), "top10_kept": keep}


def mlip_table(args) -> None:
    """MLIP (CHGNet or SevenNet) ΔH_mix of the Table 1 systems (screening) against the paper's AIMD values."""
    from mixcalphad.chem.binaries import parse_system, system_name

    paper = paper_values()
    systems = [system_name(*parse_system(s)) for s in args.systems.split(",")] if args.systems else list(paper)
    rows = run_mlip_systems(args, systems)
    label = {"chgnet": "CHGNet", "sevennet": "SevenNet"}[args.calculator]
    print(f"{label} screening estimates: {args.atoms} atoms per run, Langevin, 3 fs, up to {args.max_stages} volume "
          f"stages of {args.stage_ps:g} ps, production {args.ps:g} ps, one torch thread; cache {MLIP_CACHE.name}")
    blind = blind_predictions(list(rows["system"]))
    print(f"| system | T (K) | AIMD (paper) kJ/mol | {label} kJ/mol | model w/o AIMD kJ/mol | Miedema kJ/mol "
          "| runs accepted | wall s/system | ms/step | flags |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows.itertuples(index=False):
        b = blind.loc[r.system]
        print(f"| {r.system} | {r.T_K:.0f} | {paper[r.system]:+.2f} | {r.HM_MIX_kJ:+.2f} ± {r.sigma_kJ:.2f} | "
              f"{b.model_kJ:+.2f} ± {b.model_sigma_kJ:.2f} | {b.miedema_kJ:+.2f} | {r.accepted_runs}/3 | "
              f"{r.wall_s_per_system:.0f} | {r.ms_per_step:.0f} | {r.flags or '-'} |")
    ours, ref = rows["HM_MIX_kJ"].to_numpy(float), np.array([paper[s] for s in rows["system"]])
    if len(ours) < 4:
        print(f"{len(ours)} systems: too few for rank statistics")
        return
    fmt = "{:+.2f} [{:+.2f}, {:+.2f}]".format
    print(f"\nagainst the paper's AIMD, {len(ours)} systems (95 % bootstrap intervals over systems):")
    print("| predictor | Spearman ρ | Kendall τ | RMSE kJ/mol | AIMD top-10 (most negative) kept by its own 10 / 15 |")
    print("|---|---|---|---|---|")
    model = blind.loc[rows["system"], "model_kJ"].to_numpy(float)
    for name, values in ((label, ours), ("model without AIMD", model),
                         ("Miedema", blind.loc[rows["system"], "miedema_kJ"].to_numpy(float))):
        st = rank_statistics(values, ref)
        kept = " / ".join(f"{v:.0%}" for v in st["top10_kept"].values()) or "-"
        print(f"| {name} | {fmt(*st['spearman'])} | {fmt(*st['kendall'])} | {st['rmse'][0]:.1f} "
              f"[{st['rmse'][1]:.1f}, {st['rmse'][2]:.1f}] | {kept} |")
    sk = surprise_kept(ours, ref, model)
    print(f"\nas an acquisition pre-screen: of the 10 systems where AIMD moved the model (without AIMD) most, "
          f"|AIMD − model|, a {label} pre-screen keeping its own largest |{label} − model| keeps "
          + ", ".join(f"{v:.0%} with {k}" for k, v in sk["kept"].items())
          + f" (random: {10 / len(ours):.0%} / {15 / len(ours):.0%}); Spearman ρ of the two surprises "
          f"{sk['spearman']:+.2f}")
    alone, both = feature_gain(ours, ref, model)
    print(f"as a feature: leave-one-system-out RMSE of AIMD ≈ a + b·model {alone:.1f} kJ/mol, with {label} as a second "
          f"input {both:.1f} kJ/mol")


def build_parser() -> argparse.ArgumentParser:
    """The command line of this script."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--atoms", type=int, default=100)
    parser.add_argument("--ps", type=float, default=12.0, help="production per run, ps")
    parser.add_argument("--stage-ps", type=float, default=2.0, help="volume-search stage, ps")
    parser.add_argument("--T", type=float, default=1900.0, help="K (the reference numbers are at 1900 K; "
                                                                "the protocol's rule gives 1750 K)")
    parser.add_argument("--max-stages", type=int, default=6, help="the library default (aimd.local)")
    parser.add_argument("--max-extensions", type=int, default=3, help="stage extensions (see aimd.volume)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--parallel", default="auto", choices=("auto", "dask", "serial"))
    parser.add_argument("--mlip", action="store_true", help="the MLIP screening table instead (see above)")
    parser.add_argument("--calculator", default=None, choices=("emt", "asap3", "chgnet", "sevennet"),
                        help="the EMT of the reference case (emt, default; asap3: the same EMT ~100× faster, "
                             "'pip install asap3') or the MLIP of --mlip (chgnet, default; sevennet)")
    parser.add_argument("--systems", default="", help="--mlip: comma-separated systems (default: all 29)")
    return parser


def _yes_no(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "no")


def main() -> None:
    parser = build_parser()
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    emt = args.calculator in (None, "emt", "asap3")
    if args.mlip:
        if args.calculator in ("emt", "asap3"):
            parser.error("--mlip screens the universal MLIPs: --calculator chgnet or sevennet")
        args.calculator = args.calculator or "chgnet"
        mlip_table(args)
        return
    if not emt:
        parser.error("the reference case is EMT: --calculator emt or asap3 (the MLIPs go with --mlip)")
    args.calculator = args.calculator or "emt"

    start = time.perf_counter()
    res = run_local_md("CU", "NI", n_atoms=args.atoms, T_K=args.T, ps=args.ps, stage_ps=args.stage_ps,
                       max_stages=args.max_stages, seed=args.seed, parallel=args.parallel,
                       max_extensions=args.max_extensions, calculator=args.calculator)
    wall = time.perf_counter() - start
    m = res.mixing
    print(f"EMT Cu–Ni ({res.settings.calculator_version}), {args.atoms} atoms per run, T = {args.T:.0f} K, Langevin, 3 fs, "
          f"stages {args.stage_ps:g} ps, production {args.ps:g} ps; wall time {wall:.0f} s")
    print(f"{'run':<8} {'V Å³/at':>8} {'stages':>6} {'accepted':>11} {'p̄ ± SEM kbar':>15} {'p_kin':>6} "
          f"{'N_eff':>6} {'T_mean':>7} {'MSD Å²':>7} {'H0 ± SEM kJ/mol':>20} {'ms/step':>8}  flags")
    for role, run in res.runs.items():
        a = run.analysis
        comp = "".join(f"{el}{n}" for el, n in a.composition.items())
        h = a.H0_eV * EV_TO_J_PER_MOL / 1000
        print(f"{comp:<8} {a.volume_A3:8.3f} {len(run.stages):6d} {run.volume_fit.accepted or '-':>11} "
              f"{a.p_kbar:7.2f} ± {a.p_sem_kbar:4.2f} {a.p_kin_kbar:6.1f} {a.n_eff:6.0f} {a.T_mean_K:7.0f} "
              f"{a.msd_A2:7.1f} {h:12.2f} ± {a.H0_sem_eV * EV_TO_J_PER_MOL / 1000:5.2f} "
              f"{run.s_per_step * 1000:8.1f}  {', '.join(a.flags) or '-'}")
    print("\nvolume-search stages. One Vinet + E(V) fit over the stages that stayed liquid (aimd.eos; 'liquid': MSD "
          "over the stage's last 2 ps ≥ (½·d_nn)², '-' for shorter stages; a stage that crystallised is not fitted and "
          "the next starts from a fresh packing), weighted by their SEMs; "
          "p_fit ± σ: the fit's pressure at the stage's volume (pooled over the fitted stages). Acceptance (aimd.volume): "
          "|p_fit| < 2 kbar and P = |p_fit| + 2σ ≤ P_max, the true |p| at which the H(p=0) correction may be off by "
          f"{res.runs['alloy'].volume_fit.h0_bias_max_J:.0f} J/mol; 'bias': that error bound at P. A stage that may "
          f"pass is extended to the SEM it needs (at most {1 + args.max_extensions} × {args.stage_ps:g} ps).")
    print(f"{'run':<8} {'stage':<11} {'V Å³/at':>8} {'ps':>5} {'p̄ ± SEM kbar':>16} {'p_fit ± σ kbar':>16} "
          f"{'τ_p ps':>6} {'P_max':>6} {'bias J':>7} {'liquid':>6}  accepted")
    for role, run in res.runs.items():
        comp = "".join(f"{el}{n}" for el, n in run.analysis.composition.items())
        fit = run.volume_fit
        for p in run.stages:
            pf, sf = fit.pressure_kbar_at(p.volume_A3)
            bias = fit.h0_bias_J(fit.pressure_bound_kbar(p.volume_A3), p.volume_A3)
            print(f"{comp:<8} {p.label:<11} {p.volume_A3 / args.atoms:8.3f} {p.length_ps or 0:5.2f} "
                  f"{p.p_kbar:8.2f} ± {p.p_sem_kbar:5.2f} {pf:8.2f} ± {sf:5.2f} {p.p_tau_ps or float('nan'):6.3f} "
                  f"{fit.p_bound_kbar(p.volume_A3):6.2f} {bias:7.0f} {_yes_no(p.liquid):>6}  "
                  f"{_yes_no(fit.accepts(p))}")
        V = run.analysis.volume_A3 * args.atoms
        c, dc = fit.correction_eV_kbar(V)
        kp = fit.isotherm.theta[2] if fit.isotherm else float("nan")
        print(f"{'':<8} fit: V0 = {fit.V_zero_A3 / args.atoms:.3f} ± {fit.V_zero_se_A3 / args.atoms:.3f} Å³/atom, "
              f"H(p=0) from the stages {fit.H_zero_eV * EV_TO_J_PER_MOL / 1000:.2f} ± "
              f"{fit.H_zero_se_eV * EV_TO_J_PER_MOL / 1000:.2f} kJ/mol, K_T(V) = {fit.K_T_kbar_at(V) / 10:.0f} GPa, "
              f"K′ = {kp:.1f}, ∂H0/∂p̄ = {c * EV_TO_J_PER_MOL:.0f} ± {dc * EV_TO_J_PER_MOL:.0f} J/mol per kbar at "
              "the production volume")
    print(f"ΔH_mix(x_Ni = {m.x_B:.2f}) = {m.HM_MIX_J / 1000:+.2f} ± {m.sigma_J / 1000:.2f} kJ/mol "
          f"(H(p=0) estimator); raw ⟨E⟩: {m.HM_MIX_raw_J / 1000:+.2f}; ⟨E⟩ + p̄V: {m.HM_MIX_pV_J / 1000:+.2f}")
    print("flags: " + (", ".join(m.flags) or "none"))
    accepted = {role: run.volume_fit.accepted for role, run in res.runs.items()}
    z = (m.HM_MIX_J / 1000 - EMT_REFERENCE_KJ) / np.hypot(m.sigma_J / 1000, EMT_REFERENCE_SIGMA_KJ)
    print(f"accepted stage per run: {accepted}; against the EMT reference {EMT_REFERENCE_KJ:+.1f} ± "
          f"{EMT_REFERENCE_SIGMA_KJ:.1f} kJ/mol: z = {z:+.2f} ({'within' if abs(z) <= 2 else 'outside'} 2σ)")


if __name__ == "__main__":
    main()
