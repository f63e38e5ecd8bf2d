"""Accuracy tables of ΔH_mix predictors against the stored observations (kJ/mol in every table)."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .binaries import parse_system
from .elements import MIEDEMA_COLUMNS, supported_elements
from .metrics import error_table
from .miedema import miedema_for_observations


@dataclass(frozen=True)
class BaselineReport:
    """Miedema's errors against observations.

    Attributes
    ----------
    assessed : DataFrame
        RMSE/MAE (kJ/mol) against assessed data, overall and per Miedema class.
    aimd : DataFrame
        RMSE/MAE (kJ/mol) against AIMD data, overall and per refractory element.
    points : DataFrame
        Every compared point with ``HM_MIX_kJ``, ``miedema_kJ`` and ``miedema_class``.
    left_out : list of str
        Systems without Miedema parameters for one of their elements.
    """

    assessed: pd.DataFrame
    aimd: pd.DataFrame
    points: pd.DataFrame
    left_out: list

    def to_dict(self) -> dict:
        return {"assessed": self.assessed.to_dict("records"), "aimd": self.aimd.to_dict("records"),
                "left_out": self.left_out}


def _refractory(system: str) -> str:
    a, b = parse_system(system)
    for element in ("IR", "OS", "RE", "W"):
        if element in (a, b):
            return element
    return "other"


def miedema_baseline(observations: pd.DataFrame, **options) -> BaselineReport:
    """Compare Miedema's liquid model (options as in :func:`~mixcalphad.miedema.miedema_hmix`)
    with assessed and AIMD observations; systems lacking Miedema parameters are listed, not filled.
    """
    known = set(supported_elements(MIEDEMA_COLUMNS))
    usable = observations["system"].map(lambda s: set(parse_system(s)) <= known)
    left_out = sorted(set(observations.loc[~usable, "system"]))
    points = observations[usable].copy()
    points = points.join(miedema_for_observations(points, **options))
    points["HM_MIX_kJ"] = points["HM_MIX_J"] / 1000.0
    points["miedema_kJ"] = points["miedema_J"] / 1000.0
    assessed = error_table(points[points["kind"] == "assessed"], "HM_MIX_kJ", {"Miedema": "miedema_kJ"},
                           by="miedema_class")
    aimd_points = points[points["kind"] == "aimd"].assign(refractory=lambda f: f["system"].map(_refractory))
    aimd = error_table(aimd_points, "HM_MIX_kJ", {"Miedema": "miedema_kJ"}, by="refractory")
    return BaselineReport(assessed=assessed, aimd=aimd, points=points, left_out=left_out)
