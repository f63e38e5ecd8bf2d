"""What we write for ESPEI, checked by ESPEI itself before it is written.

The phase-model JSON goes through ESPEI's :class:`espei.phase_models.PhaseModelSpecification` and the
input YAML through :func:`espei.espei_script.get_run_settings` (its schema, defaults applied), so a
structure ESPEI would refuse at run time is refused here, naming what is wrong, and nothing is
written.

Example
-------
>>> phase_models_json({"components": ["AL", "CU"], "phases": {"LIQUID": {"sublattice_model": [["AL", "CU"]],
...                    "sublattice_site_ratios": [1]}}}).startswith("{")
True
"""
from __future__ import annotations

import copy
import json
from typing import Mapping

from mixcalphad.errors import EspeiInputError


def _pydantic_reasons(exc: ValueError) -> str:
    """``field.path: message`` of each error of a pydantic ``ValidationError`` (else the message)."""
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return str(exc)
    return "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ())) or '(top)'}: {e.get('msg', '')}" for e in errors())


def phase_models_json(models: Mapping, *, label: str = "phase models") -> str:
    """The phase-models JSON text of ``models`` once ESPEI's ``PhaseModelSpecification`` accepts it.

    Raises
    ------
    EspeiInputError
        ESPEI refuses the structure (the message names each field and why, after ``label``).
    """
    from espei.phase_models import PhaseModelSpecification

    try:
        PhaseModelSpecification.model_validate(models)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise EspeiInputError(f"{label}: ESPEI refuses this phase-model structure: {_pydantic_reasons(exc)}") from None
    return json.dumps(models, indent=2) + "\n"


def input_yaml(settings: Mapping, header: str) -> str:
    """ESPEI input YAML of ``settings`` (``header``: comment lines, each starting ``#``) once ESPEI's
    ``get_run_settings`` accepts it.

    Raises
    ------
    EspeiInputError
        ESPEI's schema refuses the settings (the message quotes its reasons).
    """
    import yaml
    from espei.espei_script import get_run_settings

    try:
        get_run_settings(copy.deepcopy(dict(settings)))
    except (ValueError, ImportError) as exc:  # schema errors; a fitting_description that does not import
        raise EspeiInputError(f"ESPEI refuses these input settings: {exc}") from None
    return header + yaml.safe_dump(dict(settings), sort_keys=False)
