"""mixcalphad: enthalpy of mixing of binary liquids for Calphad.

Assessed, AIMD and user ΔH_mix data in a provenance-keeping store; Miedema's model; Redlich–Kister
LIQUID parameters for pycalphad and ESPEI. Units: J/mol of atoms and K in every public interface.

The public names are imported lazily so that ``import mixcalphad`` stays fast.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

_PUBLIC = {
    "Store": "store",
    "harvest_tdb": "harvest",
    "harvest_corpus": "harvest",
    "build_dataset": "corpus",
    "miedema_hmix": "miedema",
    "element_table": "elements",
    "get_element": "elements",
    "supported_elements": "elements",
    "BinaryFeaturizer": "features",
    "HMixRegressor": "model",
    "load_default_model": "model",
    "nested_cross_validation": "evaluation",
    "fit_redlich_kister": "redlich_kister",
    "RKFit": "redlich_kister",
    "fit_binary": "redlich_kister",
    "fit_binaries": "redlich_kister",
    "to_database": "tdb",
    "write_tdb": "tdb",
    "merge_into_tdb": "tdb",
    "read_provenance": "tdb",
    "write_espei_datasets": "espei_io",
    "export_espei": "espei_io",
    "liquidus": "liquidus",
    "rank_binaries": "acquisition",
    "Campaign": "campaign",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
    raise AttributeError(f"module 'mixcalphad' has no attribute {name!r}")
