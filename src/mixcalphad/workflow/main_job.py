"""The main job: the whole loop on the embedded default data, in one call.

:func:`run_main_job` fills the store with the default corpus (pycalphad's TDBs, the packaged assessed
tables, the founding paper's AIMD values), compares Miedema's model with the data, measures the
regressor on held-out systems (optional), refits every binary through a :class:`Campaign` (TDB, ESPEI
datasets, acquisition plan), prepares the VASP folders of the plan and draws the figures.
``mixcalphad run`` is this function plus printing.

Example
-------
>>> from mixcalphad.data.store import Store
>>> result = run_main_job("mixcalphad-out", Store("store.json"), evaluate=False)   # doctest: +SKIP
>>> print(result.text())                                                           # doctest: +SKIP
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from mixcalphad.data.store import Store

log = logging.getLogger(__name__)

#: Binaries drawn in the main job's ΔH_mix figure: assessed, AIMD and data-free examples.
SHOWCASE = ("AL-NI", "CU-ZR", "AL-CU", "FE-SI", "AL-IR", "OS-TI", "IR-ZR", "RE-W", "HF-OS")
#: Plan columns shown in the report, when the plan has them.
PLAN_COLUMNS = ("rank", "system", "value_J2", "value_per_core_h", "score_J", "cost_core_h", "cluster",
                "n_observations", "model_J", "model_sigma_J", "T_run_K")


@dataclass(frozen=True)
class MainJobResult:
    """What the main job did: counts, error tables, the campaign's report and the files written.

    ``evaluation`` is None when the cross-validation was skipped. Energies in the tables are kJ/mol.
    """

    out: Path
    store: Path
    counts: dict
    baseline: object
    evaluation: object | None
    campaign: object
    vasp_runs: object | None
    figures: dict = field(default_factory=dict)
    wall_time_s: float = 0.0

    def to_dict(self) -> dict:
        return {"out": str(self.out), "store": str(self.store), "counts": self.counts,
                "miedema": self.baseline.to_dict(),
                "evaluation": None if self.evaluation is None else self.evaluation.to_dict(),
                "campaign": self.campaign.to_dict(),
                "vasp_runs": None if self.vasp_runs is None else self.vasp_runs.to_dict(),
                "figures": {k: str(v) for k, v in self.figures.items() if v},
                "wall_time_s": self.wall_time_s}

    def text(self) -> str:
        """The report a person reads (kJ/mol)."""
        fmt = "{:.2f}".format
        counts = self.counts
        lines = [f"store: {self.store}",
                 f"dataset: {counts['systems_total']} distinct systems; "
                 + ", ".join(f"{k}: {v['systems']} systems/{v['points']} points"
                             for k, v in counts.items() if isinstance(v, dict))
                 + f"; immiscible flags: {counts['immiscible_flags']}",
                 "", "Miedema vs assessed ΔH_mix (kJ/mol):",
                 self.baseline.assessed.to_string(index=False, float_format=fmt)]
        if self.evaluation is not None:
            lines += ["", "regressor on held-out systems (kJ/mol):",
                      self.evaluation.accuracy_table().to_string(index=False, float_format=fmt),
                      self.evaluation.coverage_table().to_string(index=False, float_format=fmt),
                      "", "AIMD test (kJ/mol):", self.evaluation.aimd_table().to_string(index=False, float_format=fmt)]
        plan = self.campaign.plan
        if plan is not None and len(plan):
            shown = plan.head(10)[[c for c in PLAN_COLUMNS if c in plan.columns]]
            lines += ["", f"next AIMD systems (top {len(shown)} of {len(plan)}):",
                      shown.to_string(index=False, float_format="{:.0f}".format)]
        if self.vasp_runs is not None:
            info = self.vasp_runs.to_dict()
            lines += ["", f"VASP folders: {self.vasp_runs.out}: {info['n_runs']} runs for {info['n_binaries']} "
                          f"binaries ({info['runs_saved']} saved by sharing pure-element runs; "
                          f"POTCAR written: {info['potcar_written']})"]
        lines += ["", "files:"] + [f"  {name}: {path}" for name, path in
                                   {**self.campaign.files, **self.figures}.items() if path]
        lines.append(f"wall time: {self.wall_time_s:.0f} s")
        return "\n".join(lines)


def run_main_job(out: str | Path, store: Store, *, evaluate: bool = True, plan_size: int = 10,
                 elements: Sequence[str] | None = None, n_jobs: int = 2, force: bool = False,
                 estimator: Callable | None = None,
                 step: Callable[[int, int, str], None] | None = None) -> MainJobResult:
    """Run the main job into ``out`` with the observations of ``store``.

    Parameters
    ----------
    out : str or Path
        Output folder: figures, ``campaign/`` (TDB, ESPEI datasets, plan) and ``vasp-runs/``.
    store : Store
        The store to fill with the default corpus (idempotent: data already there are kept, a
        conflicting value raises :class:`~mixcalphad.errors.StoreConflictError`) and to fit from.
    evaluate : bool
        Run the nested cross-validation grouped by system (about 2.5 min on 2 cores).
    plan_size : int
        Binaries in the next AIMD plan (0: no plan and no VASP folders).
    elements : sequence of str, optional
        Element set of the TDB and the plan (default: every supported element).
    n_jobs : int
        Outer CV folds fitted in parallel.
    force : bool
        Let the campaign overwrite files in ``out/campaign`` that an earlier campaign did not write.
    estimator : callable, optional
        Returns an unfitted regressor for the campaign and the CV (default ``HMixRegressor``).
    step : callable, optional
        ``step(number, total, text)`` is called as each stage starts (progress).

    Returns
    -------
    MainJobResult
    """
    from mixcalphad.aimd.vasp import prepare_vasp_runs
    from mixcalphad.data.corpus import build_dataset, build_store
    from mixcalphad.model.evaluation import miedema_baseline, nested_cross_validation
    from mixcalphad.model.regressor import HMixRegressor
    from mixcalphad.plot import hmix_curves, parity_plot
    from mixcalphad.workflow.campaign import Campaign

    started = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    total = 5 if evaluate else 4
    say = step or (lambda number, total_steps, text: log.info("[%d/%d] %s", number, total_steps, text))
    make_estimator = estimator or (lambda: HMixRegressor(random_state=0))

    say(1, total, f"adding the default ΔH_mix corpus to the store {store.path}")
    build = build_dataset(progress=None)
    build_store(store, build)
    observations = store.observations()
    baseline = miedema_baseline(observations)
    figures = {"miedema_parity": parity_plot(
        baseline.points, "HM_MIX_kJ", "miedema_kJ", out / "miedema_parity.png", hue="miedema_class",
        highlight=baseline.points["kind"] == "aimd", title="Miedema liquid model vs assessed and AIMD ΔH_mix",
        force=True)}
    number = 2
    cv = None
    if evaluate:
        say(number, total, "evaluating the regressor: nested CV grouped by system, 12 outer folds")
        cv = nested_cross_validation(observations, make_estimator(), n_jobs=n_jobs)
        figures["model_parity"] = parity_plot(cv.points, "HM_MIX_kJ", "pred_kJ", out / "model_parity.png",
                                              hue="miedema_class", highlight=cv.points["kind"] == "aimd",
                                              title="held-out systems: Miedema + learned correction", force=True)
        number += 1
    say(number, total, "training (the shipped model when the data are the default ones), fitting every binary, "
                       "writing the TDB and ESPEI datasets, ranking the next AIMD systems")
    report = Campaign(store, out / "campaign", elements=elements, plan_size=plan_size, force=force,
                      estimator=estimator).refit()
    figures["periodic_map"] = report.files.get("periodic_map")
    runs = None
    if report.plan is not None and len(report.plan):
        say(number + 1, total, "preparing VASP run folders for the plan")
        runs = prepare_vasp_runs(list(report.plan["system"]), out / "vasp-runs")
    say(total, total, "drawing ΔH_mix curves")
    model = HMixRegressor.load(report.files["model"])
    known = set(elements) if elements else None
    showcase = [s for s in SHOWCASE if known is None or set(s.split("-")) <= known]
    if showcase:
        figures["hmix_curves"] = hmix_curves(model, showcase, observations, out / "hmix_curves.png", force=True)
    return MainJobResult(out=out, store=store.path, counts={**build.counts(), "store_observations": len(observations)}, baseline=baseline,
                         evaluation=cv, campaign=report, vasp_runs=runs, figures=figures,
                         wall_time_s=round(time.perf_counter() - started, 1))

