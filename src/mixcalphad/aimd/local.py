"""The AIMD protocol with any ASE calculator, so the loop runs without VASP.

Same steps as the VASP protocol: temperature rule, random packing at the Vegard volume, volume
search (NVT stages at 0.96/1.00/1.04 × V, then at the zero-pressure volume of one equation-of-state fit
over all stages, clipped to ±10 %, accepted when the fitted |p| < 2 kbar and the error the volume can cause
in H(p = 0) is small, :mod:`.volume`), NVT production at the accepted volume, and ΔH_mix from
H(p = 0) of the three runs (:mod:`mixcalphad.aimd.analysis`).

Calculators
-----------
``emt``
    ASE's EMT (Al, Cu, Ag, Au, Ni, Pd, Pt): a pipeline stand-in, not a predictor. Results are
    stored with kind ``"md"``.
``chgnet``, ``sevennet``
    Universal potentials whose weights ship in their wheels (optional: ``pip install chgnet`` or
    ``pip install sevenn``; CPU, one torch thread). A screening estimate, kind ``"mlip"``: such
    models are known to miss small mixing energies unless fine-tuned.

The source label of a stored point names the calculator and its version and the settings hash
(``ase-emt/…``). Pressure includes the kinetic term: ASE's ``get_stress`` adds it only with
``include_ideal_gas=True``, which is what is used (p_kin = 2·E_kin/(3V) is kept as a raw quantity).

Many binaries: :func:`run_local_md_many` runs the unique runs (pure references shared between
pairs at the same temperature) in parallel through dask's process scheduler when dask is
installed, else serially with a progress bar.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from mixcalphad.chem.binaries import normalize_symbol, parse_system
from mixcalphad.aimd.analysis import AcceptanceLimits, ProductionSeries, RunAnalysis, RunOrigin, analyze_series
from mixcalphad.aimd.mixing import MixingResult, mixing_enthalpy
from mixcalphad.aimd.statistics import series_stats
from mixcalphad.aimd.structure import stage_is_liquid
from mixcalphad.aimd.volume import VolumeFit, VolumePoint, fit_volume, stage_ps_needed
from mixcalphad.errors import OptionalDependencyError, ProtocolError
from mixcalphad.aimd.calculators import (calculator_version, check_calculator_elements, limit_threads, make_calculator,
                                         make_dynamics, run_segment, thermalize)
from mixcalphad.aimd.plan import composition_label
from mixcalphad.aimd.protocol import MELTING_EXPANSION, PROTOCOL, run_temperature, vegard_volume_A3
from mixcalphad.aimd.settings import EMT_CALCULATORS, LocalSettings, check_fraction, check_positive

log = logging.getLogger(__name__)

COLLECTION = "local-md"


# ---------------------------------------------------------------------- one run
@dataclass(frozen=True)
class LocalRun:
    """One local run: the volume search, the production analysis and timings.

    Attributes
    ----------
    run_id : str
    composition : dict
    analysis : RunAnalysis
    volume_fit : VolumeFit
    stages : tuple of VolumePoint
    steps : int
        MD steps in total (pre-equilibration, stages, production).
    wall_s : float
        Wall time, s.
    """

    run_id: str
    composition: Mapping[str, int]
    analysis: RunAnalysis
    volume_fit: VolumeFit
    stages: tuple[VolumePoint, ...]
    steps: int
    wall_s: float

    @property
    def s_per_step(self) -> float:
        return self.wall_s / max(self.steps, 1)

    def to_dict(self) -> dict:
        return {"run_id": self.run_id, "composition": dict(self.composition), "analysis": self.analysis.to_dict(),
                "volume_fit": self.volume_fit.to_dict(), "steps": self.steps, "wall_s": self.wall_s,
                "s_per_step": self.s_per_step}


def _point(label: str, volume: float, n_atoms: int, seg: dict, dt_ps: float) -> VolumePoint:
    es = series_stats(seg["e"] / n_atoms)
    ps = series_stats(seg["p"], t0=es.t0)
    length = len(seg["e"]) * dt_ps
    liquid = stage_is_liquid(seg["pos"] if len(seg["pos"]) else None, volume / n_atoms, length)
    return VolumePoint(label, float(volume), ps.mean, ps.sem, es.mean, es.sem, min(es.n_eff, ps.n_eff),
                       length, ps.g * dt_ps / 2, liquid)


def _fresh_liquid(comp: Mapping[str, int], volume_A3: float, settings: LocalSettings, rng, calc,
                  pre_steps: int):
    """A random packing at ``volume_A3`` (Å³), thermalised at T and relaxed by ``pre_steps`` Langevin steps
    at a third of the time step, and its NVT integrator: the start of a run, and of the stage (or the
    production) after a stage that crystallised. Returns (atoms, dynamics)."""
    from ase import units
    from ase.md.langevin import Langevin

    from mixcalphad.aimd.vasp import random_packing

    atoms = random_packing(comp, volume_A3, seed=rng)
    atoms.calc = calc
    thermalize(atoms, settings.T_K, rng)
    if pre_steps:
        Langevin(atoms, settings.timestep_fs / 3 * units.fs, temperature_K=settings.T_K,
                 friction=1.0 / (20 * units.fs), fixcm=False, rng=rng).run(pre_steps)
    return atoms, make_dynamics(atoms, settings, rng)


def _fallback_volume(fit: VolumeFit, clip: float = PROTOCOL["volume_clip"]) -> float:
    """Production volume when no stage was accepted: the fitted V0 (the next stage's volume without a fit),
    within ±``clip`` of the stages' range."""
    if fit.isotherm is None:
        return fit.next_volume_A3
    volumes = [p.volume_A3 for p in fit.points]
    return float(min(max(fit.V_zero_A3, min(volumes) * (1 - clip)), max(volumes) * (1 + clip)))


def _extension_steps(fit: VolumeFit, point: VolumePoint, done_steps: int, max_steps: int,
                     step_ps: float) -> int:
    """MD steps to add to a stage so that its SEM(p̄) can decide acceptance (0: do not extend).

    A stage not yet accepted whose fitted |p| is inside the window needs the SEM at which the fit's σ_p
    there reaches ``(P_max − |p|)/2`` (:meth:`VolumeFit.sem_needed_kbar`); its measured variance and statistical inefficiency give the
    length that takes (:func:`~mixcalphad.aimd.volume.stage_ps_needed`). It is extended to that length
    (10 % margin) when the total stays within ``max_steps``; otherwise the search moves on.
    """
    if fit.accepts(point):
        return 0
    need = fit.sem_needed_kbar(point)
    if need <= 0:
        return 0
    needed_ps = stage_ps_needed(point, need)
    total = int(np.ceil(1.1 * needed_ps / step_ps)) if np.isfinite(needed_ps) else max_steps + 1
    if total > max_steps or total <= done_steps:
        return 0
    return max(total - done_steps, 10)


def simulate_run(composition: Mapping[str, int], settings: LocalSettings, *, production_ps: float = 10.0,
                 stage_ps: float | None = None, volume_scales: Sequence[float] = PROTOCOL["volume_scales"],
                 max_stages: int = 6, seed: int = 0, pre_steps: int | None = None, sample_every: int = 1,
                 max_extensions: int = 3,
                 expansion: float = MELTING_EXPANSION, calculator=None,
                 limits: AcceptanceLimits | None = None) -> LocalRun:
    """Volume search and production of one composition with an ASE calculator.

    Parameters
    ----------
    composition : mapping
        Element → atom count (sums to ``settings.n_atoms``).
    settings : LocalSettings
    production_ps : float
        Production length, ps.
    stage_ps : float, optional
        Length of each volume-search stage, ps (default 0.3 × production).
    volume_scales : sequence of float
        First stages relative to the Vegard volume.
    max_stages : int
        Stages in all before production starts at the best volume found (then flagged).
    max_extensions : int
        A stage that may still be accepted is extended at its volume to the length its measured
        pressure variance and autocorrelation need for the SEM(p̄) the acceptance asks
        (:func:`_extension_steps`), re-checked after each extension, at most this many times and to at
        most (1 + ``max_extensions``) × ``stage_ps`` in all — the stage length follows the acceptance test.
    seed : int
        Packing, velocities and thermostat noise.
    pre_steps : int, optional
        Steps at a third of the time step that relax the random packing before the first stage, and
        before a stage that follows one that crystallised (default: 50, or the stage length if shorter).
    sample_every : int
        Record every n-th step.
    calculator : optional
        A ready calculator (default: built from ``settings.calculator``).
    limits : AcceptanceLimits, optional
        Acceptance limits of the volume search and of :func:`~mixcalphad.aimd.analysis.analyze_series`
        (default: the protocol's).

    Returns
    -------
    LocalRun
    """
    t_start = time.perf_counter()
    comp = {normalize_symbol(el): int(n) for el, n in sorted(composition.items())}
    if sum(comp.values()) != settings.n_atoms:
        raise ProtocolError(f"composition {comp} does not have {settings.n_atoms} atoms")
    check_calculator_elements(settings.calculator, comp)
    limits = limits or AcceptanceLimits()
    rng = np.random.default_rng(seed)
    calc = calculator or make_calculator(settings.calculator)[0]
    v0 = vegard_volume_A3(comp, expansion)
    n = settings.n_atoms
    prod_steps = max(int(round(production_ps * 1000 / settings.timestep_fs)), 10)
    stage_steps = max(int(round((stage_ps if stage_ps is not None else 0.3 * production_ps) * 1000
                                / settings.timestep_fs)), 10)
    if pre_steps is None:
        pre_steps = min(50, stage_steps)
    atoms, dyn = _fresh_liquid(comp, v0, settings, rng, calc, pre_steps)
    steps = pre_steps
    points: list[VolumePoint] = []
    accept = limits.volume_search()
    volumes = [v0 * s for s in volume_scales]
    fit = None
    while True:
        volume = volumes.pop(0) if volumes else fit.next_volume_A3
        if points and points[-1].liquid is False:
            log.info("%s: stage %s crystallised; the next stage starts from a fresh packing",
                     composition_label(comp.items()), points[-1].label)
            atoms, dyn = _fresh_liquid(comp, volume, settings, rng, calc, pre_steps)
            steps += pre_steps
        atoms.set_cell(atoms.cell * (volume / atoms.get_volume()) ** (1 / 3), scale_atoms=True)
        seg = run_segment(atoms, dyn, stage_steps, positions=True, every=sample_every)
        steps += stage_steps
        dt_ps = settings.timestep_fs * sample_every / 1000.0
        point = _point(f"s{len(points):02d}_v{volume / v0:.3f}", volume, n, seg, dt_ps)
        stage_done = stage_steps
        for _ in range(max_extensions):
            # a stage that may be accepted but whose SEM cannot tell yet goes on at the same volume, for
            # the length its own variance and autocorrelation need: the length follows the acceptance test
            more_steps = _extension_steps(fit_volume(points + [point], n_atoms=n, **accept), point, stage_done,
                                          (1 + max_extensions) * stage_steps, settings.timestep_fs / 1000.0)
            if not more_steps:
                break
            more = run_segment(atoms, dyn, more_steps, positions=True, every=sample_every)
            steps += more_steps
            stage_done += more_steps
            seg = {k: np.concatenate([seg[k], more[k]]) if len(more[k]) else seg[k] for k in seg}
            point = _point(point.label, volume, n, seg, dt_ps)
        points.append(point)
        if volumes:
            continue
        fit = fit_volume(points, n_atoms=n, **accept)
        if fit.accepted or len(points) >= max_stages:
            break
    target = fit.accepted_point.volume_A3 if fit.accepted else _fallback_volume(fit)
    if not fit.accepted:
        log.warning("%s: no volume-search stage met |p| < %g kbar with an H(p=0) error bound ≤ %g J/mol in %d "
                    "stages; production at the fitted zero-pressure volume", composition_label(comp.items()),
                    accept["p_window_kbar"], accept["h0_bias_max_J"], len(points))
    if points[-1].liquid is False:
        atoms, dyn = _fresh_liquid(comp, target, settings, rng, calc, pre_steps)
        steps += pre_steps
    atoms.set_cell(atoms.cell * (target / atoms.get_volume()) ** (1 / 3), scale_atoms=True)
    seg = run_segment(atoms, dyn, prod_steps, positions=True, every=sample_every)
    steps += prod_steps
    symbols = [s.upper() for s in atoms.get_chemical_symbols()]
    label = f"{composition_label(comp.items())}_{settings.T_K:.0f}K"
    series = ProductionSeries(
        energy_eV=seg["e"], n_atoms=n, volume_A3=atoms.get_volume(), T_K=settings.T_K, symbols=symbols,
        pressure_kbar=seg["p"], p_ext_kbar=seg["p"] - seg["p_kin"], p_kin_kbar=seg["p_kin"], temperature_K=seg["T"],
        positions=seg["pos"], cell=atoms.cell[:], fractional=False, timestep_fs=settings.timestep_fs * sample_every)
    origin = RunOrigin(label=label, path=label, energy=settings.energy, source=f"ase {settings.calculator}",
                       code_version=settings.calculator_version)
    analysis = analyze_series(series, settings, volume_fit=fit, origin=origin, limits=limits)
    return LocalRun(label, comp, analysis, fit, tuple(points), steps, time.perf_counter() - t_start)


# ---------------------------------------------------------------------- binaries
@dataclass(frozen=True)
class LocalMDResult:
    """ΔH_mix of one binary point from local MD (J/mol of atoms) with its three runs."""

    mixing: MixingResult
    runs: Mapping[str, LocalRun]
    settings: LocalSettings
    production_ps: float

    @property
    def HM_MIX_J(self) -> float:
        return self.mixing.HM_MIX_J

    @property
    def sigma_J(self) -> float:
        return self.mixing.sigma_J

    def observation(self, collection: str = COLLECTION) -> dict:
        """The store row (:data:`~mixcalphad.data.store.OBSERVATION_COLUMNS`).

        A universal-MLIP result (kind ``mlip``) is a *screening estimate*: its stored σ adds the
        kind's model error (:data:`~mixcalphad.data.schema.DEFAULT_SIGMA_J` of ``mlip``) to the
        statistical σ in quadrature, so a refit weights it accordingly, and the reference says so.
        """
        from mixcalphad.data.schema import DEFAULT_SIGMA_J

        m = self.mixing
        sigma = m.sigma_J
        extra = {}
        if self.settings.kind == "mlip":
            model_sigma = DEFAULT_SIGMA_J["mlip"]
            sigma = float(np.hypot(m.sigma_J, model_sigma))
            extra = {"screening_estimate": True, "sigma_statistical_J": m.sigma_J, "sigma_model_J": model_sigma,
                     "note": "universal MLIP without fine-tuning: a screening estimate, not an AIMD value"}
        reference = json.dumps({"code": f"ase-{self.settings.calculator}", "version": self.settings.calculator_version,
                                "settings": self.settings.to_dict(), "production_ps": self.production_ps,
                                "HM_MIX_raw_J": m.HM_MIX_raw_J, "HM_MIX_pV_J": m.HM_MIX_pV_J,
                                "flags": list(m.flags), **extra,
                                "runs": {role: {"run": r.run_id, "H0_eV": r.analysis.H0_eV,
                                                "H0_sem_eV": r.analysis.H0_sem_eV, "p_kbar": r.analysis.p_kbar,
                                                "n_eff": r.analysis.n_eff} for role, r in self.runs.items()}},
                               sort_keys=True)
        return {"system": m.system, "x_B": m.x_B, "T_K": m.T_K, "HM_MIX_J": m.HM_MIX_J, "sigma_J": sigma,
                "kind": self.settings.kind, "source": self.settings.source_label, "reference": reference,
                "collection": collection}

    def to_dict(self) -> dict:
        return {**self.mixing.summary(), "settings": self.settings.to_dict(), "production_ps": self.production_ps,
                "source": self.settings.source_label, "kind": self.settings.kind,
                "runs_detail": {role: {"wall_s": r.wall_s, "steps": r.steps, "s_per_step": r.s_per_step,
                                       "volume_stages": [p.to_dict() for p in r.stages],
                                       "accepted_stage": r.volume_fit.accepted, "K_T_GPa": r.analysis.K_T_GPa}
                                for role, r in self.runs.items()}}


def _simulate_job(job: dict) -> LocalRun:
    if job["settings"].calculator not in EMT_CALCULATORS:
        limit_threads()
    return simulate_run(job["composition"], job["settings"], **job["options"])


def _execute(jobs: list[dict], parallel: str, n_workers: int | None, progress: bool | None) -> list[LocalRun]:
    if parallel not in ("auto", "dask", "serial"):
        raise ProtocolError(f"parallel must be 'auto', 'dask' or 'serial', not {parallel!r}")
    use_dask = False
    if parallel in ("auto", "dask") and len(jobs) > 1:
        try:
            import dask

            use_dask = True
        except ImportError:
            if parallel == "dask":
                raise OptionalDependencyError("parallel='dask' needs dask ('pip install dask')") from None
    if use_dask:
        from dask import compute, delayed

        workers = n_workers or min(len(jobs), os.cpu_count() or 1)
        log.info("running %d MD runs with dask (%d processes)", len(jobs), workers)
        # fork (POSIX, EMT): a plain script without an ``if __name__ == "__main__"`` guard works; torch
        # (the MLIPs) is not fork-safe, so those use spawn and need the guard
        mlip = any(j["settings"].calculator not in EMT_CALCULATORS for j in jobs)
        context = "fork" if os.name == "posix" and not mlip else "spawn"
        # chunksize=1: dask's process scheduler otherwise batches several tasks into one process
        with dask.config.set({"multiprocessing.context": context}):
            return list(compute(*[delayed(_simulate_job)(j) for j in jobs], scheduler="processes",
                                num_workers=workers, chunksize=1))
    from tqdm.auto import tqdm

    # progress=None: a bar on a terminal only (tqdm's own rule)
    return [_simulate_job(j) for j in tqdm(jobs, desc="local MD runs", leave=False,
                                           disable=None if progress is None else not progress)]


def run_local_md_many(systems, *, x_B: float = 0.5, n_atoms: int = 64, T_K: float | None = None,
                      calculator: str = "emt", model: str | None = None, ps: float = 10.0,
                      stage_ps: float | None = None, timestep_fs: float = 3.0, thermostat: str = "langevin",
                      damping_fs: float = 100.0, margin_K: float = 0.0, grid_K: float = 50.0, seed: int = 0,
                      max_stages: int = 6, sample_every: int = 1, max_extensions: int = 3,
                      limits: AcceptanceLimits | None = None,
                      store=None, replace: bool = False, collection: str = COLLECTION,
                      parallel: str = "auto", n_workers: int | None = None,
                      progress: bool | None = None) -> list[LocalMDResult]:
    """ΔH_mix of several binaries by local MD, pure references shared, runs in parallel.

    Parameters
    ----------
    systems : list of str or pairs
        ``["CU-NI", ("AG", "AU")]``.
    x_B : float
        Mole fraction of the second element of each sorted pair.
    n_atoms : int
    T_K : float, optional
        Temperature for all pairs (default: the protocol's rule per pair).
    calculator, model : str
        See :func:`make_calculator`.
    ps, stage_ps : float
        Production and stage lengths, ps.
    timestep_fs, thermostat, damping_fs
        Integration (see :class:`LocalSettings`).
    seed : int
        Each run's seed derives from it and the run's composition and settings, so a run gives the
        same numbers whichever pairs it is computed for.
    max_extensions : int
        Extensions of a volume stage whose SEM(p̄) cannot yet decide acceptance (see
        :func:`simulate_run`).
    limits : AcceptanceLimits, optional
        Acceptance limits of every run (default: the protocol's).
    store : Store or path, optional
        Where to add the results (kind ``md`` for EMT, ``mlip`` otherwise).
    parallel : {"auto", "dask", "serial"}
        ``auto``: dask's process scheduler when dask is installed.

    Returns
    -------
    list of LocalMDResult
        One per binary, in input order.
    """
    # every numeric option checked here, before any run or worker process starts
    ps = check_positive(ps, "ps")
    if stage_ps is not None:
        stage_ps = check_positive(stage_ps, "stage_ps")
    x_B = check_fraction(x_B, "x_B")
    max_stages = check_positive(max_stages, "max_stages", integer=True)
    sample_every = check_positive(sample_every, "sample_every", integer=True)
    max_extensions = check_positive(max_extensions, "max_extensions", allow_zero=True, integer=True)
    n_atoms = check_positive(n_atoms, "n_atoms", integer=True)
    if T_K is not None:
        T_K = check_positive(T_K, "T_K")
    if n_workers is not None:
        n_workers = check_positive(n_workers, "n_workers", integer=True)
    LocalSettings(n_atoms=n_atoms, calculator=calculator, timestep_fs=timestep_fs, thermostat=thermostat,
                  damping_fs=damping_fs)
    version = calculator_version(calculator, model)
    runs: dict[str, dict] = {}
    pairs = []
    for item in ([systems] if isinstance(systems, str) else systems):
        a, b = parse_system(item if isinstance(item, str) else "-".join(item))
        check_calculator_elements(calculator, (a, b))
        T = run_temperature(a, b, margin_K=margin_K, grid_K=grid_K, T_K=T_K)
        for w in T.warnings:
            log.warning(w)
        settings = LocalSettings(T_K=T.T_K, n_atoms=n_atoms, calculator=calculator, calculator_version=version,
                                 timestep_fs=timestep_fs, thermostat=thermostat, damping_fs=damping_fs)
        n_b = int(round(x_B * n_atoms))
        if n_b in (0, n_atoms):
            raise ProtocolError(f"x_B = {x_B} rounds to a pure element with {n_atoms} atoms")
        roles = {}
        for role, comp in (("pure_a", {a: n_atoms}), ("pure_b", {b: n_atoms}),
                           ("alloy", {a: n_atoms - n_b, b: n_b})):
            key = json.dumps({"composition": comp, "settings": settings.key()}, sort_keys=True)
            run_seed = int.from_bytes(hashlib.sha256(f"{seed}|{key}".encode()).digest()[:4], "little")
            runs.setdefault(key, {"composition": comp, "settings": settings,
                                  "options": {"production_ps": ps, "stage_ps": stage_ps, "seed": run_seed,
                                              "max_stages": max_stages, "sample_every": sample_every,
                                              "max_extensions": max_extensions,
                                              "limits": limits}})
            roles[role] = key
        pairs.append((settings, roles))
    keys = list(runs)
    done = dict(zip(keys, _execute([runs[k] for k in keys], parallel, n_workers, progress)))
    results = []
    for settings, roles in pairs:
        three = {role: done[key] for role, key in roles.items()}
        mixing = mixing_enthalpy(three["pure_a"].analysis, three["pure_b"].analysis, three["alloy"].analysis)
        results.append(LocalMDResult(mixing, three, settings, ps))
    if store is not None:
        from mixcalphad.data.store import Store

        store = store if isinstance(store, Store) else Store(store)
        store.add_observations(pd.DataFrame([r.observation(collection) for r in results]), replace=replace)
    return results


def run_local_md(a: str, b: str, **kwargs) -> LocalMDResult:
    """ΔH_mix of one binary by local MD with an ASE calculator (EMT by default).

    Takes the keyword arguments of :func:`run_local_md_many`.

    Examples
    --------
    >>> res = run_local_md("CU", "NI", n_atoms=32, ps=1.0)       # doctest: +SKIP
    >>> res.HM_MIX_J, res.sigma_J                                # J/mol of atoms  # doctest: +SKIP
    """
    return run_local_md_many([(a, b)], **kwargs)[0]
