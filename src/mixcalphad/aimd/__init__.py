"""AIMD for liquid ΔH_mix: plan and prepare VASP campaigns, follow and ingest them, or run the same
protocol locally with an ASE calculator.

Modules: :mod:`.settings` (one settings base class for VASP and local runs, option checks, units),
:mod:`.protocol` (temperature and time-step rules, Vegard volume, run plan with shared pure
references), :mod:`.incar` (INCAR, NBANDS, NCORE/KPAR, POTCARs), :mod:`.vasp` (run folders,
manifest), :mod:`.scheduler` (SLURM scripts with restarts that continue), :mod:`.workflows`
(jobflow), :mod:`.trajectory`, :mod:`.vasprun`, :mod:`.outcar`, :mod:`.vasp_outputs` (readers),
:mod:`.statistics` (equilibration, N_eff, SEM), :mod:`.volume` (volume search), :mod:`.structure`
(MSD, g(r), crystallinity, phase separation), :mod:`.analysis` (one run), :mod:`.mixing` (ΔH_mix),
:mod:`.status` and :mod:`.ingest` (runs folders, store), :mod:`.calculators` and :mod:`.local`
(ASE calculators), :mod:`mixcalphad.cli.aimd` (CLI).

Units: eV/atom, Å³ and kbar inside; J/mol of atoms and K in what reaches the store and the CLI.

Example
-------
>>> from mixcalphad.aimd import prepare_vasp_runs, ingest_vasp_runs, run_local_md   # doctest: +SKIP
>>> prepare_vasp_runs(["IR-AL", "IR-TI"], "runs/")                                 # doctest: +SKIP
>>> ingest_vasp_runs("runs/", "store.json")                                         # doctest: +SKIP
>>> run_local_md("CU", "NI", ps=10).HM_MIX_J                                        # doctest: +SKIP
"""
from __future__ import annotations

import importlib

_PUBLIC = {
    # protocol
    "RunSettings": "settings", "RunSpec": "plan", "RunPlan": "plan", "plan_runs": "plan",
    "read_plan": "plan", "run_temperature": "protocol", "vegard_volume_A3": "protocol",
    "paper_systems": "plan", "paper_plan": "plan",
    # VASP inputs and outputs
    "prepare_vasp_runs": "vasp", "check_incar": "incar", "random_packing": "vasp", "read_manifest": "vasp",
    "to_jobflow_flow": "workflows", "campaign_flow": "workflows", "read_outputs": "vasp_outputs", "parse_vasprun": "vasprun",
    "parse_outcar": "outcar", "parse_oszicar": "outcar", "MDTrajectory": "trajectory",
    # analysis
    "detect_equilibration": "statistics", "statistical_inefficiency": "statistics",
    "series_stats": "statistics", "fit_volume": "volume", "volume_step": "volume", "analyze_run": "analysis",
    "mixing_enthalpy": "mixing", "MixingResult": "mixing", "RunAnalysis": "analysis",
    "AcceptanceLimits": "analysis", "ProductionSeries": "analysis", "RunOrigin": "analysis",
    "pair_distribution": "structure", "structure_check": "structure", "MDSettings": "settings",
    # runs folders and the store
    "runs_status": "status", "advance_runs": "status", "analyze_run_folder": "ingest",
    "hmix_from_folders": "ingest", "ingest_vasp_runs": "ingest",
    # local MD
    "run_local_md": "local", "run_local_md_many": "local", "LocalSettings": "settings",
}

__all__ = list(_PUBLIC)


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
    raise AttributeError(f"module 'mixcalphad.aimd' has no attribute {name!r}")
