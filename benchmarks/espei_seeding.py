"""What mixcalphad's predicted liquid is worth to an ESPEI assessment, measured on real data.

For each binary of the public ESPEI datasets shipped in ``shared/data/espei-datasets`` (Al–Ni, Cr–Ni,
Cu–Mg, Ni–V; PhasesResearchLab/ESPEI-datasets, CC-BY-4.0, sources in its ``references.bib``), three
ESPEI fits on the same solid data and phase boundaries:

1. ``measured``: with the measured liquid calorimetry (the reference); the liquid starts from an RK
   fit of it;
2. ``zpf-only``: without it; the liquid starts from a broad uninformed walker cloud;
3. ``seeded``: without it, but with mixcalphad's predicted HM_MIX datasets (a model trained without
   this binary) and the liquid starting from that prediction.

Each: ``espei-seed`` writes the folder, ESPEI's ``generate_parameters`` fits the solids, then an MCMC of
the liquid's three symbols (L0 = a0 + b0·T, L1 = a1), 2 chains per symbol, ``--iterations`` steps,
one core. Reported per binary and fit: RMSE of the liquid's HM_MIX against the held-back calorimetry
(kJ/mol) at the start and after the MCMC, the RMS ZPF driving force of the phase-boundary points that
involve LIQUID (J/mol, ESPEI's own residual), the ZPF log-likelihood, the best log-probability of the
MCMC, and the wall time. Figures: ``benchmarks/espei_seeding/<A-B>.png`` (binplot of the three fits
beside the ZPF points).

Run: ``OMP_NUM_THREADS=1 nice python benchmarks/espei_seeding.py [--binaries CU-MG] [--iterations 6]``.
"""
from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np

from mixcalphad.workflow.espei_seed import (DEFAULT_WEIGHT, GENERATED_TDB, LIQUID, MCMC_TDB, START_TDB,
                                            is_liquid_calorimetry, liquid_hmix_points, read_binary_datasets,
                                            run_seeded, seed_espei, split_zpf_regions)

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1] / "shared" / "data" / "espei-datasets" / "datasets" / "2-binary"
FOLDERS = {"AL-NI": "Al-Ni", "CR-NI": "Cr-Ni", "CU-MG": "Cu-Mg", "NI-V": "Ni-V"}
FITS = ("measured", "zpf-only", "seeded")


def trained_without(system: str, observations):
    """mixcalphad's regressor trained on the default data minus every point of ``system``."""
    from mixcalphad.model.regressor import HMixRegressor

    rest = observations[observations["system"] != system]
    return HMixRegressor(random_state=0, progress=False).fit(rest)


def hm_mix_rmse(tdb, a, b, x, T, H) -> float:
    """RMSE (J/mol) of the LIQUID's HM_MIX of ``tdb`` against points (x_B, T, H)."""
    from pycalphad import Database, calculate

    db = Database(str(tdb))
    pred = np.empty_like(H)
    for t in np.unique(T):
        sel = T == t
        res = calculate(db, [a, b], LIQUID, T=float(t), P=101325, N=1, output="HM_MIX",
                        points=np.column_stack([1 - x[sel], x[sel]]))
        pred[sel] = np.asarray(res.HM_MIX).ravel()
    return float(np.sqrt(np.mean((pred - H) ** 2)))


def zpf_error(tdb, phases_json, datasets_dir) -> tuple[float, float, int, int]:
    """(RMS driving force J/mol of the finite ones, ZPF log-likelihood, points, non-finite points) of the
    phase regions with a LIQUID vertex. One non-finite driving force makes ESPEI's likelihood −inf."""
    from espei.datasets import load_datasets, recursive_glob
    from espei.error_functions.zpf_error import calculate_zpf_driving_forces, get_zpf_data
    from pycalphad import Database

    import tempfile

    models = json.loads(Path(phases_json).read_text())
    with tempfile.TemporaryDirectory() as tmp:  # only the phase regions with a LIQUID vertex
        for i, name in enumerate(sorted(recursive_glob(str(datasets_dir), "*.json"))):
            data = json.loads(Path(name).read_text())
            part = split_zpf_regions(data).get("liquid", "none")
            if part != "none":
                Path(tmp, f"{i}.json").write_text(json.dumps(data if part is None else part))
        ds = load_datasets(sorted(recursive_glob(tmp, "*.json")))
    db = Database(str(tdb))
    data = get_zpf_data(db, models["components"], sorted(models["phases"]), ds, {})
    forces, weights = calculate_zpf_driving_forces(data, np.array([]))
    f, w = np.concatenate(forces), np.concatenate(weights)
    finite = np.isfinite(f)
    from scipy.stats import norm

    lnlike = float(np.sum(norm.logpdf(f[finite], scale=1000 / w[finite]))) if finite.all() else float("-inf")
    return float(np.sqrt(np.mean(f[finite] ** 2))), lnlike, int(f.size), int((~finite).sum())


def run_binary(system, observations, work: Path, iterations: int, weight: float, fits=FITS) -> list[dict]:
    a, b = system.split("-")
    src = DATA / FOLDERS[system]
    records = read_binary_datasets(src, a, b)
    x, T, H = liquid_hmix_points([d for _, d in records if is_liquid_calorimetry(d)], a, b)
    t0 = time.perf_counter()
    model = trained_without(system, observations)
    print(f"{system}: model without {system} trained in {time.perf_counter() - t0:.0f} s; "
          f"{x.size} calorimetry points held back", flush=True)
    settings = {"measured": dict(start="datasets", hmix_datasets=False),
                "zpf-only": dict(start="none", hmix_datasets=False, exclude_liquid_calorimetry=True),
                "seeded": dict(start="prediction", predictor=model, weight=weight, exclude_liquid_calorimetry=True)}
    rows = []
    for fit in fits:
        folder = work / system / fit
        t0 = time.perf_counter()
        seed_espei(src, a, b, folder, iterations=iterations, force=True, **settings[fit])
        run_seeded(folder)
        rows.append(measure(system, fit, folder, (x, T, H), time.perf_counter() - t0))
        print(json.dumps(rows[-1]), flush=True)
    return rows


def measure(system, fit, folder: Path, calorimetry, wall_s: float) -> dict:
    """The table's row of one finished fit (reads the folder's TDBs and lnprob.npy)."""
    a, b = system.split("-")
    x, T, H = calorimetry
    lnprob = np.load(folder / "lnprob.npy")
    rms, lnlike, n_zpf, n_failed = zpf_error(folder / MCMC_TDB, folder / "phases.json", folder / "datasets")
    start_rmse = hm_mix_rmse(folder / START_TDB, a, b, x, T, H) / 1000 if fit != "zpf-only" else float("nan")
    return {"system": system, "fit": fit, "start_rmse_kJ": start_rmse,
            "rmse_kJ": hm_mix_rmse(folder / MCMC_TDB, a, b, x, T, H) / 1000,
            "zpf_rms_J": rms, "zpf_lnlike": lnlike, "zpf_points": n_zpf, "zpf_failed": n_failed,
            "best_lnprob": float(np.nanmax(np.where(lnprob == 0, np.nan, lnprob))),
            "wall_s": wall_s, "walkers": int(lnprob.shape[0]), "iterations": int(lnprob.shape[1])}


def remeasure(system, work: Path, walls: dict) -> list[dict]:
    """Rows of fits already run in ``work`` (``--measure-only``)."""
    a, b = system.split("-")
    records = read_binary_datasets(DATA / FOLDERS[system], a, b)
    calorimetry = liquid_hmix_points([d for _, d in records if is_liquid_calorimetry(d)], a, b)
    return [measure(system, fit, work / system / fit, calorimetry, walls.get((system, fit), float("nan")))
            for fit in FITS]


def plot_binary(system, work: Path, figures: Path) -> Path:
    """binplot of the three fits beside the ZPF points (one panel each)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from espei.datasets import load_datasets, recursive_glob
    from espei.plot import dataplot
    from pycalphad import Database, binplot, variables as v

    a, b = system.split("-")
    fig, axes = plt.subplots(1, len(FITS), figsize=(6 * len(FITS), 5))
    for ax, fit in zip(axes, FITS):
        folder = work / system / fit
        models = json.loads((folder / "phases.json").read_text())
        phases = sorted(models["phases"])
        db = Database(str(folder / MCMC_TDB))
        conds = {v.P: 101325, v.T: (500, 2600, 20), v.X(b): (0, 1, 0.02), v.N: 1}
        try:
            binplot(db, [a, b, "VA"], phases, conds, plot_kwargs={"ax": ax})
        except Exception as exc:  # pycalphad's mapping can fail on a poor generated description
            ax.text(0.5, 0.5, f"binplot failed:\n{type(exc).__name__}: {exc}"[:120], ha="center", wrap=True,
                    transform=ax.transAxes)
        ds = load_datasets(sorted(recursive_glob(str(folder / "datasets"), "*.json")))
        dataplot([a, b, "VA"], phases, conds, ds, ax=ax)
        ax.set_title(f"{system}: {fit}")
    path = figures / f"{system}.png"
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def table(rows) -> str:
    head = ("| binary | fit | HM_MIX RMSE start | HM_MIX RMSE after MCMC | ZPF RMS driving force (points, failed) | ZPF lnL "
            "| best lnprob | wall |\n|---|---|---|---|---|---|---|---|")
    lines = [head]
    for r in rows:
        lines.append(f"| {r['system']} | {r['fit']} | {r['start_rmse_kJ']:.2f} | {r['rmse_kJ']:.2f} | "
                     f"{r['zpf_rms_J']:.0f} ({r['zpf_points']}, {r['zpf_failed']}) | {r['zpf_lnlike']:.0f} | {r['best_lnprob']:.0f} | "
                     f"{r['wall_s']:.0f} s |")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """The command line of this script."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binaries", nargs="+", default=list(FOLDERS), choices=list(FOLDERS))
    parser.add_argument("--iterations", type=int, default=6)
    parser.add_argument("--weight", type=float, default=DEFAULT_WEIGHT)
    parser.add_argument("--work", type=Path, default=Path("/tmp/espei_seeding"))
    parser.add_argument("--figures", type=Path, default=HERE / "espei_seeding")
    parser.add_argument("--fits", nargs="+", default=list(FITS), choices=list(FITS))
    parser.add_argument("--no-plots", action="store_true")
    parser.add_argument("--measure-only", action="store_true", help="re-measure fits already run in --work")
    return parser


def main() -> None:
    args = build_parser().parse_args()
    logging.basicConfig(level=logging.WARNING)
    from mixcalphad.data.corpus import build_dataset

    args.figures.mkdir(parents=True, exist_ok=True)
    rows = []
    if args.measure_only:
        previous = json.loads((args.work / "rows.json").read_text()) if (args.work / "rows.json").exists() else []
        walls = {(r["system"], r["fit"]): r["wall_s"] for r in previous}
        for system in args.binaries:
            rows += remeasure(system, args.work, walls)
            if not args.no_plots:
                print(f"figure: {plot_binary(system, args.work, args.figures)}", flush=True)
        print(table(rows))
        return
    observations = build_dataset(progress=False).observations
    for system in args.binaries:
        rows += run_binary(system, observations, args.work, args.iterations, args.weight, args.fits)
        (args.work / "rows.json").write_text(json.dumps(rows, indent=1))
        if not args.no_plots and set(args.fits) == set(FITS):
            print(f"figure: {plot_binary(system, args.work, args.figures)}", flush=True)
    print(table(rows))


if __name__ == "__main__":
    main()
