"""AIMD for liquid ΔH_mix: plan and prepare VASP campaigns, follow and ingest them, or run the same
protocol locally with an ASE calculator.

Modules: :mod:`.protocol` (temperature rule, Vegard volume, settings key, run plan with shared pure
references), :mod:`.vasp` (inputs, INCAR check, manifest, SLURM template, jobflow export),
:mod:`.vasp_outputs` (vasprun.xml/OUTCAR/OSZICAR readers), :mod:`.analysis` (equilibration, N_eff,
SEM, volume search, H(p = 0), liquidity, ΔH_mix), :mod:`.ingest` (status, next stage, ΔH_mix from
folders, store), :mod:`.local` (ASE calculators), :mod:`mixcalphad.cli.aimd` (CLI).

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
    "RunSettings": "protocol", "RunSpec": "protocol", "RunPlan": "protocol", "plan_runs": "protocol",
    "read_plan": "protocol", "run_temperature": "protocol", "vegard_volume_A3": "protocol",
    "paper_systems": "protocol", "paper_plan": "protocol",
    # VASP inputs and outputs
    "prepare_vasp_runs": "vasp", "check_incar": "vasp", "random_packing": "vasp", "read_manifest": "vasp",
    "to_jobflow_flow": "vasp", "read_outputs": "vasp_outputs", "parse_vasprun": "vasp_outputs",
    "parse_outcar": "vasp_outputs", "parse_oszicar": "vasp_outputs", "MDTrajectory": "vasp_outputs",
    # analysis
    "detect_equilibration": "analysis", "statistical_inefficiency": "analysis", "series_stats": "analysis",
    "fit_volume": "analysis", "volume_step": "analysis", "analyze_run": "analysis",
    "mixing_enthalpy": "analysis", "MixingResult": "analysis", "RunAnalysis": "analysis",
    # runs folders and the store
    "runs_status": "ingest", "advance_runs": "ingest", "analyze_run_folder": "ingest",
    "hmix_from_folders": "ingest", "ingest_vasp_runs": "ingest",
    # local MD
    "run_local_md": "local", "run_local_md_many": "local", "LocalSettings": "local",
}

__all__ = list(_PUBLIC)


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
    raise AttributeError(f"module 'mixcalphad.aimd' has no attribute {name!r}")
