"""mixcalphad: enthalpy of mixing of binary liquids for Calphad.

Assessed, AIMD and user ΔH_mix data in a provenance-keeping store; Miedema's model; Redlich–Kister
LIQUID parameters for pycalphad and ESPEI. Units: J/mol of atoms and K in every public interface.

The public names are imported lazily so that ``import mixcalphad`` stays fast.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

_PUBLIC = {
    "Store": "data.store",
    "harvest_tdb": "data.harvest",
    "harvest_corpus": "data.harvest",
    "build_dataset": "data.corpus",
    "miedema_hmix": "chem.miedema",
    "element_table": "chem.elements",
    "get_element": "chem.elements",
    "supported_elements": "chem.elements",
    "BinaryFeaturizer": "model.features",
    "HMixRegressor": "model.regressor",
    "load_default_model": "model.predictor",
    "ExcessEntropyModel": "model.entropy",
    "load_default_entropy_model": "model.entropy",
    "nested_cross_validation": "model.evaluation",
    "fit_redlich_kister": "calphad.redlich_kister",
    "RKFit": "calphad.redlich_kister",
    "TemperatureModel": "calphad.redlich_kister",
    "temperature_rule": "calphad.excess_entropy",
    "fit_binary": "calphad.binary_fit",
    "fit_binaries": "calphad.binary_fit",
    "FitSettings": "calphad.binary_fit",
    "to_database": "calphad.database",
    "write_tdb": "calphad.tdb_write",
    "merge_into_tdb": "calphad.tdb_merge",
    "read_provenance": "calphad.provenance",
    "write_espei_datasets": "calphad.espei_io",
    "export_espei": "calphad.espei_io",
    "liquidus": "calphad.liquidus",
    "rank_binaries": "acquisition.plan",
    "Campaign": "workflow.campaign",
    "run_main_job": "workflow.main_job",
    "seed_espei": "workflow.espei_seed",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
    raise AttributeError(f"module 'mixcalphad' has no attribute {name!r}")
