"""Ternary liquidus benchmark: one binary liquid of an assessed ternary left out and written by a model.

Question
    If one binary liquid of an assessed ternary is missing and filled by a model, how far off are
    the ternary liquidus temperatures? ΔT = model − assessed, in K.

Which ternaries (COST507, shipped with pycalphad as ``pycalphad/tests/databases/COST507.tdb``)
    Al–Cu–Mg without the Cu–Mg liquid, Al–Mg–Si without Mg–Si, Al–Cu–Si without Cu–Si, and
    Al–Mg–Zn without Mg–Zn (a fourth; all four run in pycalphad 0.11 without errors). Everything else (unaries, solids, the other
    two binary liquids, ternary liquid terms) is COST507 as assessed.

The liquids (only the left-out binary's LIQUID ``L``/``G`` parameters change)
    ``assessed``            COST507 as is (the reference).
    ``ideal``               that binary's interaction parameters removed (``replace_liquid`` with a
                            zero L0 writes no parameter).
    ``miedema/<T-model>``   Miedema's ΔH_mix (:func:`mixcalphad.chem.miedema.miedema_hmix`) through a
                            constant-σ (5000 J/mol) predictor wrapper, fitted by
                            :func:`~mixcalphad.calphad.binary_fit.fit_binary` (max order 3).
    ``ours/<T-model>``      :class:`~mixcalphad.model.regressor.HMixRegressor` (``random_state=0``)
                            trained on ``build_dataset().observations`` minus every row of the
                            left-out binary (it never saw that binary), fitted with ``fit_binary``.
    Each fit is made under, and written with, each temperature model of :func:`temperature_models`
    (the convexity rule of ``fit_binary`` depends on it), and put into COST507 with
    :func:`~mixcalphad.calphad.liquid_swap.replace_liquid`.

Temperature models — the one place to add one
    :func:`temperature_models` (module top) maps ``(a, b)`` to ``{name: TemperatureModel}``; today
    ``enthalpy`` (L_n = a_n), ``kaptay-3Tm`` (L_n = a_n (1 − T/τ), τ = 3 × mean SGTE T_m of the
    pair), as in ``benchmarks/liquidus.py``, and ``learned`` (mixcalphad's default, L_n = a_n + b_n T
    with b_n = −κ a_n, κ from the excess-entropy model fitted without the left-out binary). A new
    entry gives new rows ``ours/<name>`` and ``miedema/<name>``; only those are computed on the next run. It must
    return an object ``replace_liquid``/``fit_binary`` accept as ``temperature_model`` and have a
    ``describe()`` string (stored with each cached row: rows whose description changed are
    recomputed).

Liquidus
    :class:`~mixcalphad.calphad.liquidus.LiquidusCalculator` with the phases pycalphad can build
    for the three elements (``filter_phases``; ``GAS`` and other liquids left out), on a 20 K grid
    from 500 K to the highest SGTE melting point of the three elements + 100 K (rounded up onto the
    grid) without bisection (``step`` = ``tol`` = 20 K: the liquidus is the middle of the 20 K
    interval where the last solid disappears, ±10 K; a 10 K step, or the 300 K … T_m + 500 K range
    of ``benchmarks/liquidus.py``, roughly doubles the cost: ~20–30 s per point on 2 shared cores).
    COST507's liquidus on this grid lies at 790–1400 K, far from both ends.
    Grid: mole fractions of the second and third element (x_2, x_3) ∈ {0.1, 0.2, 0.3}², 9 points
    per ternary (Al-rich to Al 40 %), where COST507's own liquidus is found. A point whose assessed
    liquidus is not found is skipped (listed). A model liquidus outside the range takes the bound
    (counted "censored"; |ΔT| is then a lower bound).

Second metric
    The left-out binary's |G_ex(model) − G_ex(assessed)| at x = 0.5, averaged over T = 1000…2000 K
    (11 temperatures), kJ/mol, from pycalphad ``calculate(..., output='GM_MIX')`` of each liquid
    minus the ideal mixing term.

Cache
    Every point is cached in ``benchmarks/ternary_liquidus_results.csv`` keyed by
    (ternary, liquid, x_2, x_3) (the G_ex metric as a ``gex`` row per ternary and liquid); a rerun
    computes only what is missing, ``--table-only`` reprints the tables from the cache.

Run
    ``OMP_NUM_THREADS=1 nice python benchmarks/ternary_liquidus.py [--jobs 2] [--budget-min 40]``
    (``--ternaries AL-CU-MG AL-MG-SI`` for a subset; ``--table-only`` reprints). Cost: one model
    training per ternary (15–55 s) and 14 s per liquidus point on average (5–30 s); the full
    4 ternaries × 6 liquids × 9 points = 216 points took ~34 min of wall time with ``--jobs 2``
    on 2 cores shared with other work (2026-12, three resumed runs; ~18 min of it the last two).
    A new temperature model adds 2 liquids × 9 points per ternary (~5 min for all four).
"""
from __future__ import annotations

import argparse
import functools
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from mixcalphad.model.predictor import MiedemaPredictor

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "ternary_liquidus_results.csv"
#: (elements, left-out binary); the left-out binary is always the last two elements.
TERNARIES = {
    "AL-CU-MG": (("AL", "CU", "MG"), ("CU", "MG")),
    "AL-MG-SI": (("AL", "MG", "SI"), ("MG", "SI")),
    "AL-CU-SI": (("AL", "CU", "SI"), ("CU", "SI")),
    "AL-MG-ZN": (("AL", "MG", "ZN"), ("MG", "ZN")),
}
GRID = tuple((x2, x3) for x2 in (0.1, 0.2, 0.3) for x3 in (0.1, 0.2, 0.3))
STEP_K = TOL_K = 20.0
T_MIN_K = 500.0
#: T_max = highest SGTE melting point of the three elements + this, K (rounded up onto the grid).
T_ABOVE_TM_K = 100.0
MAX_ORDER = 3
MIEDEMA_SIGMA_J = 5000.0
GEX_T_K = np.linspace(1000.0, 2000.0, 11)
COLUMNS = ["ternary", "left_out", "liquid", "kind", "x_2", "x_3", "T_K", "note", "primary", "seconds",
           "dGex_kJ", "coefficients_J", "spec"]


# ------------------------------------------------------------------------------ temperature models
def temperature_models(a: str, b: str) -> dict:
    """``{name: TemperatureModel}`` for the written liquids (``ours/<name>``, ``miedema/<name>``).

    ``learned`` is mixcalphad's default: S_ex = κ H_ex with κ of the pair from the shipped form of
    :class:`~mixcalphad.model.entropy.ExcessEntropyModel` fitted without the left-out binary
    (:func:`held_out_kappa`). Add a model here and rerun: only the new rows are computed.
    """
    from mixcalphad.calphad.redlich_kister import ENTHALPY_ONLY, TemperatureModel, kaptay
    from mixcalphad.chem.elements import element_property
    from mixcalphad.model.entropy import DEFAULT_FORM

    t_mean = float(np.mean(element_property([a, b], "T_melt_K")))
    learned = TemperatureModel("entropy", kappa_per_K=held_out_kappa(a, b),
                               label=f"learned, form {DEFAULT_FORM}, fitted without {'-'.join(sorted([a, b]))}")
    return {"enthalpy": ENTHALPY_ONLY, "kaptay-3Tm": kaptay(3.0 * t_mean), "learned": learned}


@functools.lru_cache(maxsize=None)
def _observations() -> pd.DataFrame:
    from mixcalphad.data.corpus import build_dataset

    return build_dataset(progress=False).observations


@functools.lru_cache(maxsize=None)
def held_out_kappa(a: str, b: str) -> float:
    """κ (1/K) of the pair from the shipped excess-entropy form fitted without the binary a–b."""
    from mixcalphad.chem.binaries import system_name
    from mixcalphad.model.entropy import DEFAULT_FORM, ExcessEntropyModel

    observations = _observations()
    held = system_name(a, b)
    model = ExcessEntropyModel(form=DEFAULT_FORM, calibrate=False).fit(observations[observations["system"] != held])
    return float(f"{model.kappa(a, b):.6g}")  # rounded: the description keys the cache


# ------------------------------------------------------------------------------ helpers
def cost507_path() -> str:
    import pycalphad

    return os.path.join(os.path.dirname(pycalphad.__file__), "tests", "databases", "COST507.tdb")


def liquid_specs(a: str, b: str) -> dict:
    """``{liquid name: (source, T-model name or None, spec string)}``."""
    specs = {"assessed": ("assessed", None, "COST507 as is"), "ideal": ("ideal", None, "no interaction parameters")}
    for source in ("miedema", "ours"):
        for name, tm in temperature_models(a, b).items():
            specs[f"{source}/{name}"] = (source, name, tm.describe())
    return specs


def _fit_coefficients(a, b, predictor, tm) -> list[float]:
    from mixcalphad.calphad.binary_fit import fit_binary

    fit = fit_binary(a, b, predictor=predictor, max_order=MAX_ORDER, temperature_model=tm)
    return [float(c) for c in fit.fit.coefficients]


def train_ours(observations: pd.DataFrame, a: str, b: str) -> dict:
    """``{T-model name: coefficients}`` of our model trained without the binary ``a``–``b``."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from mixcalphad.chem.binaries import system_name
    from mixcalphad.model.regressor import HMixRegressor

    held = system_name(a, b)
    start = time.perf_counter()
    model = HMixRegressor(random_state=0, progress=False).fit(observations[observations["system"] != held])
    out = {name: _fit_coefficients(a, b, model, tm) for name, tm in temperature_models(a, b).items()}
    out["_train_s"] = time.perf_counter() - start
    out["_held_rows"] = int((observations["system"] == held).sum())
    return out


_DB: dict = {}


def _cost507():
    from pycalphad import Database

    if "db" not in _DB:
        _DB["db"] = Database(cost507_path())
    return _DB["db"]


def _liquid_db(db, a, b, coefficients, tm):
    from mixcalphad.calphad.liquid_swap import replace_liquid
    from mixcalphad.calphad.redlich_kister import ENTHALPY_ONLY, RKFit
    from mixcalphad.chem.binaries import system_name

    if coefficients is None:
        return db
    c = tuple(float(v) for v in coefficients)
    rk = RKFit(c, tuple((0.0,) * len(c) for _ in c), 0.0, 0.0, len(c) - 1, 0)
    return replace_liquid(db, {system_name(a, b): rk}, temperature_model=tm or ENTHALPY_ONLY)


def _gex(db, a, b) -> np.ndarray:
    """G_ex (J/mol) of the liquid a–b at x = 0.5 over :data:`GEX_T_K`."""
    from pycalphad import calculate

    res = calculate(db, sorted([a, b]), "LIQUID", T=GEX_T_K, P=101325, N=1, output="GM_MIX",
                    points=np.array([[0.5, 0.5]]))
    gm = np.asarray(res.GM_MIX.values, dtype=float).reshape(-1)
    return gm - 8.314462618 * GEX_T_K * np.log(0.5)


def liquid_task(ternary: str, liquid: str, coefficients, points, need_gex: bool, deadline: float) -> list[dict]:
    """Cached rows for one liquid of one ternary: the missing ``points`` and, if asked, the G_ex row."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    warnings.simplefilter("ignore")
    from pycalphad.core.utils import filter_phases, unpack_species

    from mixcalphad.calphad.liquidus import LiquidusCalculator
    from mixcalphad.data.tdb_read import liquid_phases, resolve_liquid

    elements, (a, b) = TERNARIES[ternary]
    source, tm_name, spec = liquid_specs(a, b)[liquid]
    tm = temperature_models(a, b)[tm_name] if tm_name else None
    base = {"ternary": ternary, "left_out": f"{a}-{b}", "liquid": liquid, "spec": spec,
            "coefficients_J": "" if coefficients is None else ";".join(f"{c:.6g}" for c in coefficients)}
    db0 = _cost507()
    rows = []
    try:
        db = _liquid_db(db0, a, b, coefficients, tm)
        if need_gex:
            d = np.abs(_gex(db, a, b) - _gex(db0, a, b))
            rows.append({**base, "kind": "gex", "dGex_kJ": float(d.mean()) / 1000.0})
        others = (set(liquid_phases(db)) - {resolve_liquid(db)}) | {"GAS"}
        comps = [*elements, "VA"]
        phases = [p for p in filter_phases(db, unpack_species(db, comps)) if p not in others]
        calc = LiquidusCalculator(db, elements, phases)
    except Exception as exc:  # one liquid's pycalphad failure must not stop the benchmark
        return rows + [{**base, "kind": "error", "note": f"{type(exc).__name__}: {str(exc)[:150]}"}]
    t_max = t_max_K(elements)
    for x2, x3 in points:
        if time.time() > deadline:
            break
        start = time.perf_counter()
        try:
            r = calc.compute([[x2, x3]], T_min=T_MIN_K, T_max=t_max, step=STEP_K, tol=TOL_K, progress=False)
            t, note, primary = float(r.T_K[0]), r.note[0], r.primary[0]
        except Exception as exc:
            t, note, primary = float("nan"), f"error: {type(exc).__name__}: {str(exc)[:120]}", ""
        rows.append({**base, "kind": "point", "x_2": x2, "x_3": x3, "T_K": t, "note": note, "primary": primary,
                     "seconds": round(time.perf_counter() - start, 1)})
    return rows


def t_max_K(elements) -> float:
    """Top of the liquidus search, K: highest SGTE T_m + :data:`T_ABOVE_TM_K`, on the grid from T_MIN_K."""
    from mixcalphad.chem.elements import element_property

    top = float(element_property(list(elements), "T_melt_K").max()) + T_ABOVE_TM_K
    return T_MIN_K + STEP_K * np.ceil((top - T_MIN_K) / STEP_K)


# ------------------------------------------------------------------------------ cache and scheduling
def read_cache() -> pd.DataFrame:
    if not RESULTS.exists():
        return pd.DataFrame(columns=COLUMNS)
    return pd.read_csv(RESULTS, keep_default_na=False, na_values=[""])


def write_cache(frame: pd.DataFrame) -> None:
    from mixcalphad._io import write_text

    frame = frame.reindex(columns=COLUMNS).sort_values(["ternary", "liquid", "kind", "x_2", "x_3"])
    write_text(RESULTS, frame.to_csv(index=False, float_format="%.6g"))


def missing_work(cache: pd.DataFrame, ternaries) -> tuple[pd.DataFrame, list]:
    """Cache rows still valid, and ``[(ternary, liquid, points, need_gex)]`` still to compute."""
    valid, todo = [], []
    for ternary in ternaries:
        _, (a, b) = TERNARIES[ternary]
        for liquid, (_, _, spec) in liquid_specs(a, b).items():
            rows = cache[(cache["ternary"] == ternary) & (cache["liquid"] == liquid) & (cache["spec"] == spec)
                         & cache["kind"].isin(["point", "gex"])]
            valid.append(rows)
            done = {(round(r.x_2, 3), round(r.x_3, 3)) for r in rows[rows["kind"] == "point"].itertuples()}
            points = [p for p in GRID if (round(p[0], 3), round(p[1], 3)) not in done]
            need_gex = not (rows["kind"] == "gex").any()
            if points or need_gex:
                todo.append((ternary, liquid, points, need_gex))
    return pd.concat(valid, ignore_index=True) if valid else cache.iloc[:0], todo


def run(ternaries, jobs: int, budget_s: float) -> pd.DataFrame:
    """Compute what the cache lacks, ternary by ternary (at most ``jobs`` tasks in flight)."""
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    cache, todo = missing_work(read_cache(), ternaries)
    print(f"{sum(len(t[2]) for t in todo)} liquidus points and {sum(t[3] for t in todo)} G_ex rows to compute "
          f"({len(cache)} cached rows kept)", flush=True)
    if not todo:
        return cache
    deadline = time.time() + budget_s
    coeffs: dict = {}
    need_ours = [t for t in ternaries if any(w[0] == t and w[1].startswith("ours/") for w in todo)]
    observations = None
    if need_ours:
        from mixcalphad.data.corpus import build_dataset

        observations = build_dataset(progress=False).observations
    for ternary in {t[0] for t in todo}:
        _, (a, b) = TERNARIES[ternary]
        coeffs[(ternary, "ideal")] = [0.0]
        coeffs[(ternary, "assessed")] = None
        for name, tm in temperature_models(a, b).items():
            coeffs[(ternary, f"miedema/{name}")] = _fit_coefficients(a, b, MiedemaPredictor(MIEDEMA_SIGMA_J), tm)
    # one priority queue: per ternary (in order) its training, then its liquids
    queue = []
    for ternary in ternaries:
        if ternary in need_ours:
            queue.append(("train", ternary))
        queue += [("liquid", w) for w in todo if w[0] == ternary]
    parts = [cache]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {}

        def submit_ready():
            while len(futures) < jobs:
                item = next((q for q in queue if q[0] == "train" or (q[1][0], q[1][1]) in coeffs), None)
                if item is None or time.time() > deadline:
                    return
                queue.remove(item)
                if item[0] == "train":
                    _, (a, b) = TERNARIES[item[1]]
                    futures[pool.submit(train_ours, observations, a, b)] = ("train", item[1])
                else:
                    ternary, liquid, points, need_gex = item[1]
                    futures[pool.submit(liquid_task, ternary, liquid, coeffs[(ternary, liquid)], points, need_gex,
                                        deadline)] = ("liquid", f"{ternary} {liquid}")

        submit_ready()
        while futures:
            done, _ = wait(futures, return_when=FIRST_COMPLETED)
            for future in done:
                kind, label = futures.pop(future)
                if kind == "train":
                    out = future.result()
                    print(f"{label}: ours trained without {TERNARIES[label][1][0]}-{TERNARIES[label][1][1]} "
                          f"({out['_held_rows']} rows held out) in {out['_train_s']:.0f} s", flush=True)
                    for name in temperature_models(*TERNARIES[label][1]):
                        coeffs[(label, f"ours/{name}")] = out[name]
                else:
                    rows = pd.DataFrame(future.result())
                    parts.append(rows)
                    write_cache(pd.concat(parts, ignore_index=True))
                    errors = rows[rows["kind"] == "error"]
                    print(f"{label}: {int((rows['kind'] == 'point').sum())} points"
                          + (f"; ERROR {errors['note'].iloc[0]}" if len(errors) else ""), flush=True)
            submit_ready()
    left = sum(len(q[1][2]) for q in queue if q[0] == "liquid")
    if left:
        print(f"time budget spent: {left} points not computed (rerun to continue)")
    return pd.concat(parts, ignore_index=True)


# ------------------------------------------------------------------------------ tables
def _rms(d) -> float:
    d = np.asarray(d, dtype=float)
    return float(np.sqrt(np.mean(d**2))) if d.size else float("nan")


def _used_T(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Liquidus T (K) with censored points at their bound, and the censored mask."""
    note = frame["note"].fillna("").astype(str).to_numpy()
    T = frame["T_K"].to_numpy(dtype=float).copy()
    low = np.char.startswith(note.astype(str), "fully liquid")
    high = np.char.startswith(note.astype(str), "not fully liquid")
    T[low] = T_MIN_K
    T[high] = [float(n.split("=")[1].split()[0]) for n in note[high]]
    return T, low | high


def summarize(results: pd.DataFrame, ternaries) -> None:
    results = results[results["ternary"].isin(ternaries)]
    pts = results[results["kind"] == "point"].copy()
    pts["x"] = list(zip(pts["x_2"].round(3), pts["x_3"].round(3)))
    assessed = pts[pts["liquid"] == "assessed"].set_index(["ternary", "x"])
    found = assessed["T_K"].notna()
    print(f"\nassessed liquidus not found at {int((~found).sum())} of {len(found)} points"
          + (": " + ", ".join(f"{t} x={x} ({assessed.loc[(t, x), 'note']})" for t, x in assessed.index[~found])
             if (~found).any() else ""))
    models = pts[pts["liquid"] != "assessed"].copy()
    T, cens = _used_T(models)
    models["T_used"], models["censored"] = T, cens
    models = models.set_index(["ternary", "x"])
    keep = models.index.isin(assessed.index[found])
    models = models[keep]
    models["dT"] = models["T_used"] - assessed.loc[models.index, "T_K"].to_numpy()
    models = models[np.isfinite(models["dT"])]
    gex = results[results["kind"] == "gex"].set_index(["ternary", "liquid"])["dGex_kJ"]
    order = [l for l in ["ideal", "miedema/enthalpy", "ours/enthalpy"] if l in set(models["liquid"])]
    order += sorted(set(models["liquid"]) - set(order))
    header = (f"{'liquid':<20} {'points':>6} {'censored':>8} {'RMS ΔT K':>9} {'mean ΔT K':>10} "
              f"{'max |ΔT| K':>10} {'|ΔG_ex| kJ/mol':>15}")
    print("\n=== per ternary: ΔT = model − assessed (K); |ΔG_ex| of the left-out binary at x = 0.5, "
          "mean over 1000–2000 K ===")
    for ternary in ternaries:
        sub = models.loc[models.index.get_level_values(0) == ternary]
        n_ass = int(found.loc[ternary].sum()) if ternary in found.index.get_level_values(0) else 0
        print(f"\n{ternary} (left out {'-'.join(TERNARIES[ternary][1])}; assessed liquidus found at {n_ass} of "
              f"{len(GRID)} points; assessed liquidus "
              + (f"{assessed.loc[ternary, 'T_K'].min():.0f}–{assessed.loc[ternary, 'T_K'].max():.0f} K)"
                 if n_ass else "n/a)"))
        print(header)
        for liquid in order:
            d = sub[sub["liquid"] == liquid]
            g = gex.get((ternary, liquid), float("nan"))
            print(f"{liquid:<20} {len(d):6d} {int(d['censored'].sum()):8d} {_rms(d['dT']):9.0f} "
                  f"{d['dT'].mean():10.0f} {d['dT'].abs().max():10.0f} {g:15.2f}")
    print(f"\n=== overall: {models.index.get_level_values(0).nunique()} ternaries ===")
    print(header)
    for liquid in order:
        d = models[models["liquid"] == liquid]
        g = gex[gex.index.get_level_values(1) == liquid]
        g = g[g.index.get_level_values(0).isin(ternaries)]
        print(f"{liquid:<20} {len(d):6d} {int(d['censored'].sum()):8d} {_rms(d['dT']):9.0f} "
              f"{d['dT'].mean():10.0f} {d['dT'].abs().max():10.0f} {g.mean():15.2f}")
    errors = results[results["kind"] == "error"]
    for r in errors.itertuples():
        print(f"ERROR {r.ternary} {r.liquid}: {r.note}")
    bad = pts[pts["note"].fillna("").astype(str).str.startswith("error")]
    for r in bad.itertuples():
        print(f"point error {r.ternary} {r.liquid} x={r.x}: {r.note}")
    print(f"\nmean seconds per liquidus point: {pts['seconds'].mean():.1f} ({len(pts)} points cached)")


def build_parser() -> argparse.ArgumentParser:
    """The command line of this script."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--budget-min", type=float, default=40.0)
    parser.add_argument("--ternaries", nargs="+", default=list(TERNARIES), choices=list(TERNARIES))
    parser.add_argument("--table-only", action="store_true")
    return parser


def main() -> None:
    args = build_parser().parse_args()
    start = time.perf_counter()
    warnings.simplefilter("ignore")
    results = read_cache() if args.table_only else run(args.ternaries, args.jobs, args.budget_min * 60)
    summarize(results, args.ternaries)
    print(f"\nwall time {time.perf_counter() - start:.0f} s (this run; cached points not recomputed)")


if __name__ == "__main__":
    main()
