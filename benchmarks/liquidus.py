"""Liquidus from mixcalphad's predicted liquid against the assessed liquid, same solid phases.

Binaries: every binary LIQUID of COST507.tdb (pycalphad's copy) with no intermetallic compound (no
phase other than the solution phases has a parameter involving both elements), i.e. simple
eutectics and isomorphous systems; the gas phase is left out. For each, the liquidus at x_B = 0.1 … 0.9 is computed (a) with the assessed database and
(b) with the same database whose binary LIQUID interactions are replaced by the Redlich–Kister fit
of the default model's prediction; ΔT = (b) − (a).

Ternary: Al–Cu–Mg at a few compositions with (a) COST507's liquid, ternary terms included, and (b)
the three binaries of the predicted liquid combined by Muggianu's rule (the TDB default), no
ternary term.

Run: ``python benchmarks/liquidus.py`` (~10 min on 2 cores; pycalphad compiles each system once).
"""
from __future__ import annotations

import copy
import time
from pathlib import Path

import numpy as np
import pandas as pd
from pycalphad import Database
from pycalphad.core.utils import filter_phases, unpack_species
from tinydb import where

import pycalphad
from mixcalphad.chem.elements import supported_elements
from mixcalphad.errors import MixcalphadError
from mixcalphad.calphad.liquidus import LiquidusCalculator
from mixcalphad.model.predictor import load_default_model
from mixcalphad.calphad.binary_fit import fit_binary

COST507 = Path(pycalphad.__file__).parent / "tests" / "databases" / "COST507.tdb"
SOLUTION_PHASES = {"LIQUID", "FCC_A1", "BCC_A2", "HCP_A3", "DIAMOND_A4", "BCT_A5", "RHOMBOHEDRAL_A7",
                   "HCP_ZN", "TETRAGONAL_A6", "CBCC_A12", "CUB_A13"}
X = np.array([0.1, 0.3, 0.5, 0.7, 0.9])


def liquid_binaries(db) -> list[tuple[str, str]]:
    pairs = set()
    for p in db._parameters.search((where("phase_name") == "LIQUID") & (where("parameter_type").one_of(["L", "G"]))):
        species = p["constituent_array"][0]
        if len(p["constituent_array"]) == 1 and len(species) == 2:
            names = tuple(sorted(s.name for s in species))
            if all(n.isalpha() and n != "VA" for n in names):
                pairs.add(names)
    return sorted(pairs)


def with_predicted_liquid(db, pairs, model):
    """A copy of ``db`` whose LIQUID interactions of ``pairs`` are the model's RK fit."""
    new = copy.deepcopy(db)
    for a, b in pairs:
        new._parameters.remove(
            (where("phase_name") == "LIQUID") & where("constituent_array").test(
                lambda c, a=a, b=b: len(c) == 1 and sorted(s.name for s in c[0]) == [a, b]))
        for order, value in enumerate(fit_binary(a, b, predictor=model).fit.L):
            new.add_parameter("L", "LIQUID", [[a, b]], order, float(value))
    return new


def is_simple(db, a, b) -> bool:
    """No phase but the solution phases has a parameter that involves both elements (no compound)."""
    for p in db._parameters.search(~where("phase_name").one_of(sorted(SOLUTION_PHASES | {"GAS"}))):
        names = {s.name for sub in p["constituent_array"] for s in sub}
        if {a, b} <= names:
            return False
    return True


def solids_and_liquid(db, a, b) -> list[str]:
    """Every phase the two elements can form, without the gas."""
    return [p for p in filter_phases(db, unpack_species(db, [a, b, "VA"])) if p != "GAS"]


def main() -> None:
    start = time.perf_counter()
    db = Database(str(COST507))
    model = load_default_model()
    rows = []
    supported = set(supported_elements())
    for a, b in liquid_binaries(db):
        if not is_simple(db, a, b) or not {a, b} <= supported:
            continue
        predicted = with_predicted_liquid(db, [(a, b)], model)
        phases = solids_and_liquid(db, a, b)
        try:
            assessed_T = LiquidusCalculator(db, [a, b], phases).compute(X, progress=False).T_K
            predicted_T = LiquidusCalculator(predicted, [a, b], phases).compute(X, progress=False).T_K
        except MixcalphadError as exc:
            print(f"{a}-{b} skipped: {exc}", flush=True)
            continue
        for x, ta, tp in zip(X, assessed_T, predicted_T):
            rows.append({"system": f"{a}-{b}", "x_B": x, "T_assessed_K": ta, "T_predicted_K": tp, "dT_K": tp - ta})
        print(f"{a}-{b} done ({time.perf_counter() - start:.0f} s)", flush=True)
    table = pd.DataFrame(rows)
    print("\n=== binary liquidus, COST507 solids, assessed vs predicted liquid (K) ===")
    print(table.to_string(index=False, float_format="{:.1f}".format))
    summary = table.groupby("system")["dT_K"].agg(lambda d: float(np.sqrt(np.nanmean(d**2)))).rename("RMS dT_K")
    print("\nper system RMS ΔT (K):")
    print(summary.to_string(float_format="{:.1f}".format))
    print(f"all points: RMS ΔT {np.sqrt(np.nanmean(table['dT_K']**2)):.1f} K, "
          f"mean |ΔT| {np.nanmean(np.abs(table['dT_K'])):.1f} K, {len(table)} points, {summary.size} systems")

    ternary = ["AL", "CU", "MG"]
    x = np.array([[0.1, 0.1], [0.2, 0.1], [0.1, 0.3], [0.05, 0.6]])
    predicted = with_predicted_liquid(db, [("AL", "CU"), ("AL", "MG"), ("CU", "MG")], model)
    predicted._parameters.remove((where("phase_name") == "LIQUID")
                                 & where("constituent_array").test(lambda c: len(c) == 1 and len(c[0]) == 3))
    phases = [p for p in filter_phases(db, unpack_species(db, [*ternary, "VA"])) if p != "GAS"]
    assessed_T = LiquidusCalculator(db, ternary, phases).compute(x, progress=False).T_K
    predicted_T = LiquidusCalculator(predicted, ternary, phases).compute(x, progress=False).T_K
    tern = pd.DataFrame({"X_CU": x[:, 0], "X_MG": x[:, 1], "T_assessed_K": assessed_T,
                         "T_predicted_Muggianu_K": predicted_T, "dT_K": predicted_T - assessed_T})
    print("\n=== Al-Cu-Mg liquidus: COST507 liquid vs predicted binaries + Muggianu (K) ===")
    print(tern.to_string(index=False, float_format="{:.1f}".format))
    print(f"\nwall time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
