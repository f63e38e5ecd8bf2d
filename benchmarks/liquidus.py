"""Liquidus benchmark: assessed solids + our predicted liquid against the full assessment, per T-model.

Which binaries
    Every binary of the default corpus harvested from a pycalphad test TDB (``harvest`` keeps one
    file per binary; the file it kept is the one used here) such that, in that file,
    (1) both elements have an assessed solid phase: a phase other than the liquid and ``GAS``
    with a ``G`` parameter whose every sublattice is the element alone or ``VA`` (an endmember of
    the pure element), and (2) both elements are supported by the predictor. Compounds and solid
    solutions are allowed (every non-gas phase the two elements can form is used). Every binary
    left out is listed with its reason.

Our liquid (leave-systems-out)
    The benchmark binaries are split into grouped folds (``GroupKFold`` by system, ``--folds``);
    for each fold one ``HMixRegressor(random_state=0)`` (default settings) is trained on the default
    dataset (``build_dataset()``: pycalphad TDBs, the extra assessed tables, the AIMD table) minus
    every row of that fold's systems (assessed and AIMD alike), and predicts those systems only.
    The prediction is fitted with :func:`mixcalphad.calphad.binary_fit.fit_binary` (admissible,
    convex RK fit) under each temperature model and put into the assessed TDB with
    :func:`mixcalphad.calphad.liquid_swap.replace_liquid` (only that binary's LIQUID ``L``/``G``
    parameters change).

Liquids compared (rows of the table; every one is written as L_n = a_n + b_n·T, b_n = −κ a_n)
    ``ideal``: the binary's liquid interactions removed. ``miedema``: Miedema's ΔH_mix fitted
    (σ 5 kJ/mol), enthalpy-only; ``miedema+learned``: the same with the learned κ (held out as below). Ours (held-out ΔH prediction): ``enthalpy`` (κ = 0),
    ``kaptay-3000`` (κ = 1/3000 K), ``kaptay-3Tm`` (τ = 3 × the mean SGTE melting point; a rule
    of this project, see the ``redlich_kister`` docstring) and ``learned`` (κ of the pair from
    :class:`mixcalphad.model.entropy.ExcessEntropyModel` of the default form, fitted on the same
    training folds — the fold's systems left out of the excess-entropy data as well — applied to the
    cached held-out ``enthalpy`` fit, κ reduced only where it alone would open a gap, as
    :func:`~mixcalphad.calphad.excess_entropy.admissible_temperature_model` does for written TDBs).
    The binary's own assessed ΔH_mix at 1873 K (the harvested points of the same file, fitted as
    observations): ``assessed-H`` (enthalpy-only), ``assessed-H+kaptay-3Tm``, ``assessed-H+learned``
    — what a *perfect* ΔH predictor would give with each entropy rule.

Liquidus
    :class:`~mixcalphad.calphad.liquidus.LiquidusCalculator` at x_B = 0.2, 0.5, 0.8 (x_B of the
    alphabetically second element), on a 10 K grid from 300 K to the higher melting point + 500 K
    without bisection (``step`` = ``tol`` = 10 K: the liquidus is the middle of the 10 K interval
    where the last solid disappears, ±5 K; one equilibrium call per point instead of eight, which
    is what makes ~all binaries affordable on 2 shared cores). A point whose
    assessed liquidus is not found in that range is skipped (counted). When our liquid's liquidus
    is not found (fully liquid at 300 K, or not fully liquid at T_max) the bound is used, so |ΔT|
    is a lower bound there (counted as "censored"). ΔT = ours − assessed.

Cost control
    Systems are processed in a seeded random order (``--seed``) by ``--jobs`` niced processes until
    ``--budget-min`` of wall time is spent; a system whose first assessed point takes longer than
    ``--cap-s`` is skipped ("time cap"). Results are cached in ``benchmarks/liquidus_results.csv``
    (fits in ``liquidus_fits.csv``, with κ in ``kappa_per_K``); a rerun only computes the
    (system, liquid) pairs that are missing, ``--table-only`` prints the table from the cache.

Metrics
    ΔT = ours − assessed liquidus (K): RMS, median |ΔT|, mean, with 95 % bootstrap intervals over
    systems and paired differences to ``miedema`` and ``enthalpy`` on the same resamples, over the
    points every liquid of the table has. A metric linear in the liquid's error: |ΔG_liq| =
    |G_ex(ours) − G_ex(assessed)| of the liquid at the composition and the assessed liquidus
    temperature (kJ/mol; G_ex of the assessment from its own L_n(T)).

Run: ``OMP_NUM_THREADS=1 nice python benchmarks/liquidus.py [--jobs 2] [--budget-min 45]``.
"""
from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from mixcalphad.model.predictor import MiedemaPredictor

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "liquidus_results.csv"
FITS = HERE / "liquidus_fits.csv"
X = (0.2, 0.5, 0.8)
#: Every liquid of the table, in print order; the first ones are computed first.
MODELS = ("ideal", "miedema", "miedema+learned", "enthalpy", "kaptay-3000", "kaptay-3Tm", "learned", "assessed-H",
          "assessed-H+kaptay-3Tm", "assessed-H+learned")
#: Liquids whose fits come from the fold regressors (``fits_table``); the others are derived.
PREDICTED_MODELS = ("enthalpy", "kaptay-3000", "kaptay-3Tm")
#: References of the paired differences.
REFERENCES = ("miedema", "enthalpy")
MIEDEMA_SIGMA_J = 5000.0
STEP_K, TOL_K, T_MIN_K = 10.0, 10.0, 300.0
MAX_ORDER = 3


# ------------------------------------------------------------------------------ candidates
def _pure_solid_phases(db, element: str) -> list[str]:
    """Non-liquid, non-gas phases with a G endmember of ``element`` alone (plus VA)."""
    from tinydb import where

    from mixcalphad.data.tdb_read import liquid_phases

    liquids = set(liquid_phases(db)) | {"GAS"}
    found = set()
    for p in db._parameters.search(where("parameter_type") == "G"):
        if p["phase_name"] in liquids:
            continue
        subl = [{s.name for s in sub} for sub in p["constituent_array"]]
        if all(s <= {element, "VA"} for s in subl) and any(element in s for s in subl):
            found.add(p["phase_name"])
    return sorted(found)


def candidates(observations: pd.DataFrame):
    """``(chosen, skipped)``: chosen rows ``system, a, b, path``; skipped ``(system, reason)``."""
    from pycalphad import Database

    from mixcalphad.chem.elements import supported_elements
    from mixcalphad.data.harvest import default_corpus_paths

    paths = {p.name: p for p in default_corpus_paths()}
    tdb = observations[observations["collection"] == "pycalphad-tdbs"]
    files = tdb.groupby("system")["reference"].first().map(lambda r: r.split()[2].rsplit("/", 1)[-1])
    supported, dbs, chosen, skipped = set(supported_elements()), {}, [], []
    for system, name in files.items():
        a, b = system.split("-")
        if not {a, b} <= supported:
            skipped.append((system, f"{name}: element not supported by the predictor"))
            continue
        if name not in dbs:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                dbs[name] = Database(str(paths[name]))
        missing = [e for e in (a, b) if not _pure_solid_phases(dbs[name], e)]
        if missing:
            skipped.append((system, f"{name}: no assessed solid phase of {', '.join(missing)}"))
            continue
        chosen.append({"system": system, "a": a, "b": b, "path": str(paths[name])})
    return pd.DataFrame(chosen), skipped


# ------------------------------------------------------------------------------ models and fits
def temperature_models(a: str, b: str) -> dict:
    from mixcalphad.calphad.redlich_kister import ENTHALPY_ONLY, kaptay
    from mixcalphad.chem.elements import element_property

    t_mean = float(np.mean(element_property([a, b], "T_melt_K")))
    return {"enthalpy": ENTHALPY_ONLY, "kaptay-3000": kaptay(3000.0), "kaptay-3Tm": kaptay(3.0 * t_mean)}


def _train_fold(observations, held: list[str], rows: pd.DataFrame, fold: int) -> list[dict]:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from mixcalphad.calphad.binary_fit import fit_binary
    from mixcalphad.model.regressor import HMixRegressor

    start = time.perf_counter()
    model = HMixRegressor(random_state=0, progress=False).fit(observations[~observations["system"].isin(held)])
    trained = time.perf_counter() - start
    out = []
    for r in rows.itertuples():
        for name, tm in temperature_models(r.a, r.b).items():
            fit = fit_binary(r.a, r.b, predictor=model, temperature_model=tm, max_order=MAX_ORDER)
            L = list(fit.fit.coefficients) + [0.0] * (MAX_ORDER + 1 - len(fit.fit.coefficients))
            conv = fit.convexity
            out.append({"system": r.system, "fold": fold, "model": name, "tau_K": tm.tau_K,
                        **{f"L{n}_J": v for n, v in enumerate(L)},
                        "constrained": bool(conv.constrained) if conv else False,
                        "rms_change_J": float(conv.rms_change_J) if conv else 0.0,
                        "train_s": round(trained, 1)})
    return out


def fits_table(observations, chosen: pd.DataFrame, folds: int, jobs: int) -> pd.DataFrame:
    """Cached RK fits of the held-out predictions, one row per system and T-model."""
    from joblib import Parallel, delayed
    from sklearn.model_selection import GroupKFold

    if FITS.exists():
        cached = pd.read_csv(FITS)
        if set(chosen["system"]) <= set(cached["system"]):
            return cached
    order = chosen.sort_values("system").reset_index(drop=True)
    splits = GroupKFold(n_splits=min(folds, len(order))).split(order, groups=order["system"])
    jobs_ = [delayed(_train_fold)(observations, list(order.loc[test, "system"]), order.loc[test], k)
             for k, (_, test) in enumerate(splits)]
    rows = [r for part in Parallel(n_jobs=jobs)(jobs_) for r in part]
    table = pd.DataFrame(rows)
    _write_csv(table, FITS)
    return table


def _fit_row(system: str, fold: int, model: str, coefficients, kappa: float, fit=None) -> dict:
    L = list(coefficients) + [0.0] * (MAX_ORDER + 1 - len(coefficients))
    conv = None if fit is None else fit.convexity
    return {"system": system, "fold": fold, "model": model, "tau_K": np.nan, "kappa_per_K": kappa,
            **{f"L{n}_J": v for n, v in enumerate(L)},
            "constrained": bool(conv.constrained) if conv else False,
            "rms_change_J": float(conv.rms_change_J) if conv else 0.0, "train_s": 0.0}


def derived_fits(observations: pd.DataFrame, chosen: pd.DataFrame, fits: pd.DataFrame) -> pd.DataFrame:
    """Fits of the liquids not made by the fold regressors (ideal, Miedema, assessed ΔH, learned κ)."""
    from mixcalphad.calphad.binary_fit import fit_binary
    from mixcalphad.calphad.excess_entropy import LearnedEntropy
    from mixcalphad.model.entropy import DEFAULT_FORM, ExcessEntropyModel

    fits = fits.assign(kappa_per_K=fits["kappa_per_K"] if "kappa_per_K" in fits else
                       np.where(fits["tau_K"].notna(), 1.0 / fits["tau_K"], 0.0))
    have = set(zip(fits["system"], fits["model"]))
    folds = fits[fits["model"] == "enthalpy"].set_index("system")
    tdb = observations[observations["collection"] == "pycalphad-tdbs"]
    rules = {}
    rows = []
    for r in chosen.itertuples():
        if all((r.system, m) in have for m in MODELS):
            continue
        fold = int(folds.loc[r.system, "fold"])
        if fold not in rules:
            held = set(folds.index[folds["fold"] == fold])
            rules[fold] = LearnedEntropy(ExcessEntropyModel(form=DEFAULT_FORM).fit(
                observations[~observations["system"].isin(held)]))
        learned = rules[fold]
        own = tdb[(tdb["system"] == r.system) & (tdb["source"] == Path(r.path).name)]
        candidates = {
            "ideal": lambda: _fit_row(r.system, fold, "ideal", [0.0], 0.0),
            "miedema": lambda: _from_fit(r, fold, "miedema", fit_binary(
                r.a, r.b, predictor=MiedemaPredictor(MIEDEMA_SIGMA_J), max_order=MAX_ORDER, temperature_model="enthalpy")),
            "miedema+learned": lambda: _from_fit(r, fold, "miedema+learned", fit_binary(
                r.a, r.b, predictor=MiedemaPredictor(MIEDEMA_SIGMA_J), max_order=MAX_ORDER, temperature_model=learned)),
            "learned": lambda: _learned_from_enthalpy(r, fold, folds.loc[r.system], learned),
            "assessed-H": lambda: _from_fit(r, fold, "assessed-H", fit_binary(
                r.a, r.b, observations=own, max_order=MAX_ORDER, temperature_model="enthalpy")),
            "assessed-H+kaptay-3Tm": lambda: _from_fit(r, fold, "assessed-H+kaptay-3Tm", fit_binary(
                r.a, r.b, observations=own, max_order=MAX_ORDER,
                temperature_model=temperature_models(r.a, r.b)["kaptay-3Tm"])),
            "assessed-H+learned": lambda: _from_fit(r, fold, "assessed-H+learned", fit_binary(
                r.a, r.b, observations=own, max_order=MAX_ORDER, temperature_model=learned)),
        }
        for model, make in candidates.items():
            if (r.system, model) not in have:
                rows.append(make())
    return pd.concat([fits, pd.DataFrame(rows)], ignore_index=True) if rows else fits


def _from_fit(r, fold: int, model: str, fit) -> dict:
    return _fit_row(r.system, fold, model, fit.fit.coefficients, fit.temperature_model.kappa, fit)


def _learned_from_enthalpy(r, fold: int, enthalpy_row, learned) -> dict:
    from mixcalphad.calphad.binary_fit import lower_temperature
    from mixcalphad.calphad.excess_entropy import admissible_temperature_model

    L = [float(enthalpy_row[f"L{n}_J"]) for n in range(MAX_ORDER + 1)]
    tm = admissible_temperature_model(L, learned.for_pair(r.a, r.b), lower_temperature(r.a, r.b))
    return _fit_row(r.system, fold, "learned", L, tm.kappa)


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    from mixcalphad._io import write_text

    write_text(path, frame.to_csv(index=False, float_format="%.6g"))


# ------------------------------------------------------------------------------ liquidus
_DBS: dict = {}


def _system_liquidus(row: dict, fits: list[dict], deadline: float, cap_s: float, assessed_done: bool) -> list[dict]:
    """Rows ``system, model, x_B, T_K, note, seconds`` for the liquids ``fits`` of one binary (and the
    assessment itself unless ``assessed_done``), or one skip row."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    warnings.simplefilter("ignore")
    from pycalphad import Database
    from pycalphad.core.utils import filter_phases, unpack_species

    from mixcalphad.calphad.liquid_swap import replace_liquid
    from mixcalphad.calphad.liquidus import LiquidusCalculator
    from mixcalphad.calphad.binary_fit import BinaryFit
    from mixcalphad.calphad.redlich_kister import ENTHALPY_ONLY, RKFit, TemperatureModel
    from mixcalphad.data.tdb_read import liquid_phases, resolve_liquid

    system, a, b = row["system"], row["a"], row["b"]

    def skip(reason):
        return [{"system": system, "model": "skip", "x_B": np.nan, "T_K": np.nan, "note": reason, "seconds": 0.0}]

    if time.time() > deadline:
        return skip("not reached within the time budget")
    if row["path"] not in _DBS:
        _DBS[row["path"]] = Database(row["path"])
    db = _DBS[row["path"]]
    others = (set(liquid_phases(db)) - {resolve_liquid(db)}) | {"GAS"}
    phases = [p for p in filter_phases(db, unpack_species(db, [a, b, "VA"])) if p not in others]
    x = np.asarray(X)
    kw = {"T_min": T_MIN_K, "step": STEP_K, "tol": TOL_K, "progress": False}
    out = []
    try:
        if not assessed_done:
            calc = LiquidusCalculator(db, [a, b], phases)
            start = time.perf_counter()
            mid = len(x) // 2
            first = calc.compute(x[[mid]], **kw)
            first_s = time.perf_counter() - start
            if first_s > cap_s:
                return skip(f"time cap: one assessed point took {first_s:.0f} s > {cap_s:.0f} s")
            rest = calc.compute(np.delete(x, mid), **kw)
            assessed_s = time.perf_counter() - start
            T = np.insert(rest.T_K, mid, first.T_K[0])
            notes = [*rest.note[:mid], first.note[0], *rest.note[mid:]]
            out += [{"system": system, "model": "assessed", "x_B": xi, "T_K": t, "note": n,
                     "seconds": assessed_s / len(x)} for xi, t, n in zip(x, T, notes)]
        for f in fits:
            coefficients = tuple(float(f[f"L{n}_J"]) for n in range(MAX_ORDER + 1))
            rk = RKFit(coefficients, tuple((0.0,) * len(coefficients) for _ in coefficients), 0.0, 0.0,
                       MAX_ORDER, 0)
            kappa = float(f["kappa_per_K"])
            tm = ENTHALPY_ONLY if kappa == 0.0 else TemperatureModel("entropy", kappa_per_K=kappa)
            fit = BinaryFit(system=system, fit=rk, origin="benchmark", sigma_J=float("nan"), temperature_model=tm)
            start = time.perf_counter()
            res = LiquidusCalculator(replace_liquid(db, {system: fit}), [a, b], phases).compute(x, **kw)
            secs = (time.perf_counter() - start) / len(x)
            out += [{"system": system, "model": f["model"], "x_B": xi, "T_K": t, "note": n, "seconds": secs}
                    for xi, t, n in zip(x, res.T_K, res.note)]
    except Exception as exc:  # a pycalphad failure on one system must not stop the benchmark
        return skip(f"error: {type(exc).__name__}: {str(exc)[:120]}")
    return out


def run_liquidus(chosen: pd.DataFrame, fits: pd.DataFrame, *, jobs: int, budget_s: float, cap_s: float,
                 seed: int, models=MODELS) -> pd.DataFrame:
    from concurrent.futures import ProcessPoolExecutor, as_completed

    done = pd.read_csv(RESULTS, keep_default_na=False, na_values=[""]) if RESULTS.exists() else pd.DataFrame()
    retry = {"not reached within the time budget"}
    if len(done):
        done = done[~((done["model"] == "skip") & done["note"].isin(retry))]
    have = set(zip(done["system"], done["model"])) if len(done) else set()
    skipped = set(done.loc[done["model"] == "skip", "system"]) if len(done) else set()
    missing = {r.system: [m for m in models if (r.system, m) not in have] for r in chosen.itertuples()}
    todo = chosen[chosen["system"].map(lambda name: bool(missing[name]) and name not in skipped)]
    order = np.random.default_rng(seed).permutation(len(chosen))
    rank = {s: i for i, s in enumerate(chosen["system"].to_numpy()[order])}
    todo = todo.assign(rank=todo["system"].map(rank)).sort_values("rank")
    deadline = time.time() + budget_s
    parts = [done] if len(done) else []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(_system_liquidus, r,
                               fits[(fits["system"] == r["system"]) & fits["model"].isin(missing[r["system"]])]
                               .to_dict("records"), deadline, cap_s, (r["system"], "assessed") in have):
                   r["system"] for r in todo.to_dict("records")}
        for future in as_completed(futures):
            parts.append(pd.DataFrame(future.result()))
            _write_csv(pd.concat(parts, ignore_index=True), RESULTS)
            note = parts[-1]["note"].iloc[0] if parts[-1]["model"].iloc[0] == "skip" else "done"
            print(f"{futures[future]}: {note}", flush=True)
    return pd.concat(parts, ignore_index=True)


# ------------------------------------------------------------------------------ table
def _rms(d) -> float:
    d = np.asarray(d, dtype=float)
    return float(np.sqrt(np.mean(d**2))) if d.size else float("nan")


def _bootstrap(groups: dict, systems, statistics: dict, n_boot: int, seed: int) -> dict:
    """``{name: array of n_boot values}`` of each statistic over resamples of systems."""
    rng = np.random.default_rng(seed)
    out = {name: np.empty(n_boot) for name in statistics}
    for i in range(n_boot):
        sample = pd.concat([groups[s] for s in rng.choice(systems, size=len(systems))])
        for name, stat in statistics.items():
            out[name][i] = stat(sample)
    return out


def _ci(values) -> str:
    lo, hi = np.percentile(values, [2.5, 97.5])
    return f"[{lo:.0f}, {hi:.0f}]"


def excess_gibbs_errors(keep: pd.MultiIndex, assessed_T: pd.Series, fits: pd.DataFrame, liquids: dict,
                        models) -> pd.DataFrame:
    """|G_ex(liquid) − G_ex(assessed)| (kJ/mol) at each point's composition and assessed liquidus T."""
    from mixcalphad.calphad.redlich_kister import rk_excess

    by = fits.set_index(["system", "model"])
    rows = {}
    for system, x in keep:
        T = float(assessed_T.loc[(system, x)])
        reference = float(liquids[system].excess_gibbs([x], T)[0])
        row = {}
        for m in models:
            f = by.loc[(system, m)]
            L = [float(f[f"L{n}_J"]) for n in range(MAX_ORDER + 1)]
            row[m] = abs(float(rk_excess([x], L)[0]) * (1.0 - float(f["kappa_per_K"]) * T) - reference) / 1000.0
        rows[(system, x)] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def summarize(results: pd.DataFrame, fits: pd.DataFrame | None = None, liquids: dict | None = None,
              models=MODELS, n_boot: int = 2000, seed: int = 0) -> None:
    points = results[results["model"] != "skip"].assign(note=lambda f: f["note"].fillna(""))
    assessed = points[points["model"] == "assessed"].set_index(["system", "x_B"])
    long = points[points["model"] != "assessed"].copy()
    T = long["T_K"].to_numpy(dtype=float).copy()
    T[long["note"].str.startswith("fully liquid").to_numpy()] = T_MIN_K
    upper = long["note"].str.startswith("not fully liquid").to_numpy()
    T[upper] = [float(n.split("=")[1].split()[0]) for n in long["note"].to_numpy()[upper]]
    long = long.assign(T_used=T, censored=(long["note"] != "").astype(int))
    ours = long.pivot_table(index=["system", "x_B"], columns="model", values="T_used", aggfunc="first")
    cens = long.pivot_table(index=["system", "x_B"], columns="model", values="censored", aggfunc="first")
    found = assessed["T_K"].notna()
    print(f"\nassessed liquidus not found at {int((~found).sum())} of {len(found)} points "
          f"({', '.join(f'{s} x={x}' for s, x in assessed.index[~found])}); those points are skipped")
    models = [m for m in models if m in ours.columns]
    keep = assessed.index[found]
    table = pd.DataFrame({m: ours[m].reindex(keep) - assessed.loc[keep, "T_K"] for m in models})
    counts = table.notna().sum()
    table = table.dropna()
    print("points per liquid before keeping the common ones: " + ", ".join(f"{m} {counts[m]}" for m in models))
    keep = table.index
    censored = {m: int(cens[m].reindex(keep).sum()) for m in models}
    per = table.groupby(level="system").agg(_rms)
    per.insert(0, "points", table.groupby(level="system").size())
    print("\n=== per-system RMS ΔT (K), liquid − assessed, assessed solids ===")
    print(per.to_string(float_format="{:.0f}".format))
    systems = per.index.to_numpy()
    groups = {s: table.loc[[s]] for s in systems}
    refs = [r for r in REFERENCES if r in models]
    stats = {}
    for m in models:
        stats[f"rms {m}"] = lambda d, m=m: _rms(d[m])
        stats[f"med {m}"] = lambda d, m=m: float(np.median(np.abs(d[m])))
        stats[f"mean {m}"] = lambda d, m=m: float(np.mean(d[m]))
        for r in refs:
            stats[f"d {m} {r}"] = lambda d, m=m, r=r: _rms(d[m]) - _rms(d[r])
    boot = _bootstrap(groups, systems, stats, n_boot, seed)
    print(f"\n=== overall: {len(systems)} systems, {len(table)} points (bootstrap over systems, {n_boot}×) ===")
    head = f"{'liquid':<22} {'RMS ΔT K':>9} {'95% CI':>12} {'median |ΔT|':>12} {'95% CI':>12} {'mean ΔT':>8} {'95% CI':>13}"
    head += "".join(f" {'RMS − ' + r:>22}" for r in refs) + f" {'censored':>9}"
    print(head)
    for m in models:
        line = (f"{m:<22} {_rms(table[m]):9.0f} {_ci(boot[f'rms {m}']):>12} {np.median(np.abs(table[m])):12.0f} "
                f"{_ci(boot[f'med {m}']):>12} {table[m].mean():8.0f} {_ci(boot[f'mean {m}']):>13}")
        for r in refs:
            line += f" {'' if r == m else f'{_rms(table[m]) - _rms(table[r]):+.0f} ' + _ci(boot[f'd {m} {r}']):>22}"
        print(line + f" {censored[m]:9d}")
    if fits is not None and liquids is not None:
        missing = sorted({s for s in systems if s not in liquids})
        gkeep = pd.MultiIndex.from_tuples([k for k in keep if k[0] in liquids])
        dG = excess_gibbs_errors(gkeep, assessed["T_K"], fits, liquids, models)
        ggroups = {s: dG.loc[[s]] for s in dG.index.get_level_values(0).unique()}
        gstats = {}
        for m in models:
            gstats[f"mean {m}"] = lambda d, m=m: float(np.mean(d[m]))
            for r in refs:
                gstats[f"d {m} {r}"] = lambda d, m=m, r=r: float(np.mean(d[m]) - np.mean(d[r]))
        gboot = _bootstrap(ggroups, np.asarray(list(ggroups)), gstats, n_boot, seed)
        print(f"\n=== |G_ex(liquid) − G_ex(assessed)| at the assessed liquidus, kJ/mol ({len(dG)} points"
              + (f"; no assessed L_n(T) for {', '.join(missing)}" if missing else "") + ") ===")
        print(f"{'liquid':<22} {'mean |ΔG|':>10} {'95% CI':>16} {'median':>8}" + "".join(f" {'mean − ' + r:>24}" for r in refs))
        for m in models:
            lo, hi = np.percentile(gboot[f"mean {m}"], [2.5, 97.5])
            line = f"{m:<22} {dG[m].mean():10.2f} {f'[{lo:.2f}, {hi:.2f}]':>16} {dG[m].median():8.2f}"
            for r in refs:
                if r == m:
                    line += f" {'':>24}"
                    continue
                dl, dh = np.percentile(gboot[f"d {m} {r}"], [2.5, 97.5])
                line += f" {f'{dG[m].mean() - dG[r].mean():+.2f} [{dl:+.2f}, {dh:+.2f}]':>24}"
            print(line)
    cost = points.groupby("model")["seconds"].mean()
    print("\nmean seconds per liquidus point: " + ", ".join(f"{k} {v:.1f}" for k, v in cost.items()))


def _liquids(build, chosen: pd.DataFrame) -> dict:
    """``{system: AssessedLiquid}`` of the file each benchmark binary's assessment comes from."""
    files = dict(zip(chosen["system"], chosen["path"].map(lambda p: Path(p).name)))
    return {x.system: x for x in build.assessed_liquids if files.get(x.system) == x.source}


def build_parser() -> argparse.ArgumentParser:
    """The command line of this script."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--folds", type=int, default=12)
    parser.add_argument("--budget-min", type=float, default=45.0)
    parser.add_argument("--cap-s", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS, metavar="LIQUID",
                        help=f"liquids of the table (default all: {' '.join(MODELS)})")
    parser.add_argument("--table-only", action="store_true", help="print the table from the caches")
    return parser


def main() -> None:
    args = build_parser().parse_args()
    start = time.perf_counter()
    from mixcalphad.data.corpus import build_dataset

    build = build_dataset(progress=False)
    observations = build.observations
    chosen, skipped = candidates(observations)
    liquids = _liquids(build, chosen)
    if args.table_only:
        summarize(pd.read_csv(RESULTS, keep_default_na=False, na_values=[""]), pd.read_csv(FITS), liquids,
                  models=args.models)
        return
    print(f"{len(chosen)} binaries with assessed solids for both elements; {len(skipped)} left out:")
    for system, reason in skipped:
        print(f"  {system}: {reason}")
    fits = derived_fits(observations, chosen, fits_table(observations, chosen, args.folds, args.jobs))
    _write_csv(fits, FITS)
    print(f"fits ready ({time.perf_counter() - start:.0f} s); constrained by convexity: "
          f"{int(fits['constrained'].sum())} of {len(fits)}", flush=True)
    results = run_liquidus(chosen, fits, jobs=args.jobs, budget_s=args.budget_min * 60, cap_s=args.cap_s,
                           seed=args.seed, models=args.models)
    skips = results[results["model"] == "skip"]
    computed = results.loc[results["model"] != "skip", "system"].nunique()
    print(f"\n{computed} of {len(chosen)} binaries computed; skipped:")
    for r in skips.itertuples():
        print(f"  {r.system}: {r.note}")
    summarize(results, fits, liquids, models=args.models)
    print(f"\nwall time {time.perf_counter() - start:.0f} s (this run; cached parts not recomputed)")


if __name__ == "__main__":
    main()
