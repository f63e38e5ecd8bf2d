#!/usr/bin/env python
"""Regenerate the shipped pure-element table of mixcalphad.

Writes ``src/mixcalphad/data/elements.csv`` (one row per element with SGTE unary LIQUID data),
``elements_sources.json`` (sources, versions and rules per column group) and
``LICENSE-matminer.txt`` (the notice of the data file the Miedema columns are derived from).
The output is reproducible: the same installed packages give the same bytes.

Sources
-------
* Fusion data: SGTE unary Gibbs energies (Dinsdale, Calphad 15 (1991) 317) from
  ``espei.refdata.SGTE91``, plus the Inden–Hillert–Jarl magnetic contribution with Dinsdale's
  parameters, evaluated by a pycalphad ``Model`` of each unary phase. The magnetic parameters
  are the table the written TDBs use (``src/mixcalphad/data/sgte_magnetic.csv``, read by
  :func:`mixcalphad.calphad.unary.magnetic_parameters`; sources in that module), so the melting
  points here are those pycalphad computes from mixcalphad's TDB files.
* Z, period, group, block, boiling point, first ionization energy, density: mendeleev.
* Miedema parameters: matminer's ``matminer/utils/data_files/Miedema.csv``, read by path
  (importing matminer would pull in pymatgen).

Usage::

    python scripts/build_elements.py [--out DIR]

Needs the ``data`` extra (``pip install -e .[data]``: mendeleev, matminer).
"""
from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import symengine as se
from espei.refdata import SGTE91, SGTE91SER, SGTE91Stable
from mendeleev.fetch import fetch_table
from pycalphad import Database, Model
from pycalphad import variables as v
from scipy.optimize import brentq

from mixcalphad.calphad.unary import IHJ_BCC, IHJ_OTHER, MAGNETIC_FILE, ihj_hints, magnetic_parameters

DATA_DIR = Path(__file__).resolve().parents[1] / "src" / "mixcalphad" / "data"
COMMAND = "python scripts/build_elements.py"
LIQUID = "LIQUID"

#: Lanthanides La–Lu and actinides Ac–Lr (atomic numbers) are put in group 3.
F_BLOCK_Z = (*range(57, 72), *range(89, 104))
TRANSITION_GROUPS = range(3, 12)

COLUMNS = ["symbol", "Z", "atomic_mass", "period", "group", "block", "transition_metal",
           "ser_phase", "solid_phase", "T_melt_K", "H_fus_J", "S_fus_J_K", "Cp_liq_J_K",
           "dCp_fus_J_K", "boiling_point_K", "ionization_energy_eV", "density_g_cm3",
           "molar_volume_cm3", "miedema_phi_V", "miedema_nws13", "miedema_V23_cm2", "miedema_RP",
           "miedema_a", "miedema_Htrans_J"]
#: Decimal places written for computed columns (the others are written as their sources give them).
DECIMALS = {"T_melt_K": 3, "H_fus_J": 1, "S_fus_J_K": 4, "Cp_liq_J_K": 4, "dCp_fus_J_K": 4,
            "boiling_point_K": 3, "ionization_energy_eV": 6, "density_g_cm3": 7,
            "molar_volume_cm3": 4, "miedema_nws13": 5, "miedema_V23_cm2": 5, "miedema_Htrans_J": 1}
#: matminer Miedema.csv column -> mendeleev column holding the same quantity.
MIEDEMA_CROSSCHECK = {"electronegativity": "en_miedema", "electron_density": "miedema_electron_density",
                      "molar_volume": "miedema_molar_volume"}


# ---------------------------------------------------------------------------------- SGTE melting
@dataclass(frozen=True)
class UnaryPhase:
    """One SGTE phase of a pure element, valid for ``t_min <= T < t_max`` (K)."""

    name: str
    t_min: float
    t_max: float
    ghc: Callable  # T (n, 1) -> G, H (J/mol), Cp (J/mol/K)

    def evaluate(self, T) -> np.ndarray:
        """``(n, 3)`` array of G, H, Cp at temperatures ``T``; NaN outside the valid range."""
        T = np.atleast_1d(np.asarray(T, dtype=float))
        out = np.asarray(self.ghc(T[:, None]), dtype=float).reshape(len(T), 3)
        out[(T < self.t_min) | (T >= self.t_max)] = np.nan
        return out


def sgte_elements() -> list[str]:
    """Elements with SGTE unary LIQUID data and an ELEMENT line (skips N2, O2)."""
    return sorted(el for el, phase in SGTE91 if phase == LIQUID and el in SGTE91SER)


def valid_range(expr) -> tuple[float, float]:
    """Temperature range (K) covered by the Piecewise branches of an SGTE expression."""
    bounds = [float(arg) for pw in expr.atoms(se.Piecewise) for cond in pw.args[1::2]
              for rel in (cond.args if isinstance(cond, se.And) else ()) for arg in rel.args
              if arg.is_Number]
    return min(bounds), max(bounds)


def with_zero_default(expr):
    """The Piecewise with a final ``(0, True)`` branch, as pycalphad and LLVM lambdify expect."""
    if expr.args[-1] == se.true:
        return expr
    return se.Piecewise(*zip(expr.args[::2], expr.args[1::2]), (0, True))


def unary_database(el: str) -> Database:
    """pycalphad Database of every SGTE phase of ``el`` (one sublattice) with magnetic terms."""
    db = Database()
    db.elements = {el, "VA"}
    db.species = {v.Species(el)}
    db.symbols["GHSER" + (el * 2)[:2]] = with_zero_default(SGTE91Stable[el])
    for phase in sorted(p for e, p in SGTE91 if e == el):
        magnetic = magnetic_parameters().get((el, phase))
        db.add_phase(phase, ihj_hints(phase) if magnetic else {}, [1.0])
        db.add_phase_constituents(phase, [[el]])
        db.add_parameter("G", phase, [[el]], 0, SGTE91[(el, phase)])
        if magnetic:
            db.add_parameter("TC", phase, [[el]], 0, magnetic[0])
            db.add_parameter("BMAGN", phase, [[el]], 0, magnetic[1])
    return db


def unary_phases(el: str) -> dict[str, UnaryPhase]:
    """Every SGTE phase of ``el`` with G, H = G − T dG/dT and Cp = −T d²G/dT² compiled."""
    db = unary_database(el)
    ser_min, ser_max = valid_range(SGTE91Stable[el])
    phases = {}
    for name in sorted(db.phases):
        gm = Model(db, [el], name).GM.xreplace({v.Y(name, 0, el): 1})
        ghc = se.Lambdify([v.T], [gm, gm - v.T * gm.diff(v.T), -v.T * gm.diff(v.T, 2)])
        t_min, t_max = valid_range(SGTE91[(el, name)])
        phases[name] = UnaryPhase(name, max(t_min, ser_min), min(t_max, ser_max), ghc)
    return phases


def lowest_solid_gibbs(solids: list[UnaryPhase], T) -> np.ndarray:
    """Lowest G (J/mol) among the solids valid at each temperature (NaN where none is)."""
    return np.fmin.reduce(np.column_stack([s.evaluate(T)[:, 0] for s in solids]), axis=1)


def melting(el: str) -> dict:
    """Fusion data of ``el``: the first temperature where G_liquid drops below every solid.

    Returns an empty dict when the element has no solid phase or the liquid never crosses one.
    """
    phases = unary_phases(el)
    liquid = phases.pop(LIQUID)
    solids = list(phases.values())
    if not solids:
        return {}

    def gap(T):
        return liquid.evaluate(T)[:, 0] - lowest_solid_gibbs(solids, T)

    grid = np.arange(liquid.t_min, liquid.t_max, 1.0)
    g = gap(grid)
    crossings = np.flatnonzero((g[:-1] > 0) & (g[1:] <= 0))
    if not len(crossings):
        return {}
    i = crossings[0]
    t_melt = brentq(lambda t: gap([t])[0], grid[i], grid[i + 1], xtol=1e-9)
    below = [s.evaluate(t_melt - 1e-3)[0, 0] for s in solids]
    solid = solids[int(np.nanargmin(below))]
    _, h_liq, cp_liq = liquid.evaluate(t_melt)[0]
    _, h_sol, cp_sol = solid.evaluate(t_melt)[0]
    return {"solid_phase": solid.name, "T_melt_K": t_melt, "H_fus_J": h_liq - h_sol,
            "S_fus_J_K": (h_liq - h_sol) / t_melt, "Cp_liq_J_K": cp_liq,
            "dCp_fus_J_K": cp_liq - cp_sol}


def sgte_columns(elements: list[str]) -> pd.DataFrame:
    """SGTE columns: ELEMENT-line mass and phase, and the fusion data."""
    rows = {el: {"atomic_mass": SGTE91SER[el]["mass"], "ser_phase": SGTE91SER[el]["phase"],
                 **melting(el)} for el in elements}
    return pd.DataFrame.from_dict(rows, orient="index")


# ------------------------------------------------------------------------------------ mendeleev
def boiling_points(transitions: pd.DataFrame) -> pd.Series:
    """Boiling point per atomic number, by mendeleev's ``Element.boiling_point`` rule.

    One allotrope: its value; two whose values agree within 1 %: the first; otherwise missing.
    """
    def one(rows: pd.DataFrame) -> float:
        bp = rows["boiling_point"].to_numpy(dtype=float)
        if len(bp) == 1 or (len(bp) == 2 and np.isclose(bp[0], bp[1], rtol=1e-2)):
            return bp[0]
        return np.nan

    return transitions.sort_values("id").groupby("atomic_number")[["boiling_point"]].apply(one)


def mendeleev_table() -> pd.DataFrame:
    """mendeleev's element data indexed by upper-case symbol (all elements, raw columns)."""
    elements = fetch_table("elements").set_index("atomic_number", drop=False)
    energies = fetch_table("ionizationenergies")
    first = energies[energies["ion_charge"] == 0].set_index("atomic_number")["ionization_energy"]
    elements["boiling_point"] = boiling_points(fetch_table("phasetransitions"))
    elements["ionization_energy"] = first
    return elements.set_index(elements["symbol"].str.upper().rename("element"))


def group_with_f_block(table: pd.DataFrame) -> pd.Series:
    """mendeleev's group, with group 3 for La–Lu and Ac–Lr where mendeleev leaves it empty."""
    group = table["group_id"].copy()
    group[group.isna() & table["atomic_number"].isin(F_BLOCK_Z)] = 3
    return group


def mendeleev_columns(table: pd.DataFrame) -> pd.DataFrame:
    """Identity, classification and physical-property columns from mendeleev."""
    group = group_with_f_block(table)
    return pd.DataFrame({
        "symbol": table["symbol"], "Z": table["atomic_number"], "period": table["period"],
        "group": group, "block": table["block"],
        "transition_metal": group.isin(TRANSITION_GROUPS),
        "boiling_point_K": table["boiling_point"],
        "ionization_energy_eV": table["ionization_energy"],
        "density_g_cm3": table["density"],
        "molar_volume_cm3": table["atomic_weight"] / table["density"],
    })


# ------------------------------------------------------------------------------------- matminer
def matminer_miedema_path() -> Path:
    """Path of matminer's ``Miedema.csv``, found without importing matminer."""
    spec = importlib.util.find_spec("matminer")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("matminer is not installed: pip install -e .[data]")
    return Path(list(spec.submodule_search_locations)[0]) / "utils" / "data_files" / "Miedema.csv"


def matminer_miedema() -> pd.DataFrame:
    """matminer's Miedema table (V in cm³, n_ws, φ*, R/P, a, H_trans in kJ/mol) by upper-case symbol."""
    raw = pd.read_csv(matminer_miedema_path(), index_col=0, keep_default_na=False, na_values=[""])
    return raw.set_index(raw["element"].str.upper())


def miedema_columns(raw: pd.DataFrame) -> pd.DataFrame:
    """The table's Miedema columns: φ* (V), n_ws^{1/3}, V^{2/3} (cm²), R/P, a, H_trans (J/mol)."""
    return pd.DataFrame({
        "miedema_phi_V": raw["electronegativity"],
        "miedema_nws13": raw["electron_density"] ** (1 / 3),
        "miedema_V23_cm2": raw["molar_volume"] ** (2 / 3),
        "miedema_RP": raw["R_const"],
        "miedema_a": raw["a_const"],
        "miedema_Htrans_J": raw["H_trans"] * 1000.0,
    })


def miedema_disagreements(raw: pd.DataFrame, mendeleev: pd.DataFrame,
                          elements: list[str]) -> list[dict]:
    """Elements where matminer and mendeleev give different φ*, n_ws or V (or only one gives it)."""
    found = []
    for el in elements:
        for ours, theirs in MIEDEMA_CROSSCHECK.items():
            a = raw[ours].get(el, np.nan)
            b = mendeleev[theirs].get(el, np.nan)
            if np.isnan(a) and np.isnan(b):
                continue
            if np.isnan(a) or np.isnan(b) or not np.isclose(a, b, rtol=1e-9, atol=0):
                found.append({"element": el, "quantity": ours, "matminer": none_if_nan(a),
                              "mendeleev": none_if_nan(b)})
    return found


def none_if_nan(x: float) -> float | None:
    """JSON-friendly value: None for NaN."""
    return None if np.isnan(x) else float(x)


# ---------------------------------------------------------------------------------------- table
def build_table(elements: list[str], mendeleev: pd.DataFrame, miedema: pd.DataFrame) -> pd.DataFrame:
    """The element table, indexed by upper-case symbol, columns :data:`COLUMNS`, rounded."""
    table = (sgte_columns(elements)
             .join(mendeleev_columns(mendeleev))
             .join(miedema_columns(miedema))
             .reindex(columns=COLUMNS)
             .sort_index())
    table.index.name = "element"
    table = table.astype({"Z": int, "period": int, "group": int, "transition_metal": bool})
    for column, decimals in DECIMALS.items():
        table[column] = table[column].astype(float).round(decimals) + 0.0  # no "-0.0"
    return table


def versions() -> dict[str, str]:
    """Installed versions of the packages the table is built from."""
    return {name: importlib.metadata.version(name)
            for name in ("espei", "pycalphad", "mendeleev", "matminer")}


def sources(table: pd.DataFrame, disagreements: list[dict]) -> dict:
    """Content of ``elements_sources.json``: where every column group comes from."""
    ver = versions()
    no_fusion = sorted(table.index[table["T_melt_K"].isna()])
    no_miedema = sorted(table.index[table["miedema_phi_V"].isna()])
    no_boiling = sorted(table.index[table["boiling_point_K"].isna()])
    return {
        "table": "elements.csv",
        "generated_by": COMMAND,
        "rows": len(table),
        "index": "element: upper-case symbol as pycalphad writes it; one row per element with "
                 "SGTE unary LIQUID data in espei.refdata.SGTE91 (molecular keys N2, O2 skipped)",
        "missing_values": "empty cells (NaN) where a source has no value; nothing is filled in "
                          "except the f-block group rule below",
        "versions": ver,
        "column_groups": [
            {
                "columns": ["atomic_mass", "ser_phase"],
                "source": "SGTE unary data, Dinsdale, Calphad 15 (1991) 317: ELEMENT-line data "
                          f"espei.refdata.SGTE91SER (espei {ver['espei']})",
                "units": {"atomic_mass": "g/mol"},
            },
            {
                "columns": ["solid_phase", "T_melt_K", "H_fus_J", "S_fus_J_K", "Cp_liq_J_K",
                            "dCp_fus_J_K"],
                "source": "SGTE unary Gibbs energies, Dinsdale, Calphad 15 (1991) 317, from "
                          f"espei.refdata.SGTE91 (espei {ver['espei']}; GHSERxx functions from "
                          f"SGTE91Stable), evaluated with pycalphad {ver['pycalphad']} Model",
                "method": "T_melt: first temperature at which G(LIQUID) falls below the lowest "
                          "SGTE solid (1 K scan, then brentq); solid_phase: lowest solid 1 mK "
                          "below T_melt (not necessarily the reference phase); H = G - T dG/dT, "
                          "Cp = -T d2G/dT2 (symbolic derivatives); H_fus = H_liq - H_solid, "
                          "S_fus = H_fus / T_melt, Cp_liq and dCp_fus = Cp_liq - Cp_solid at T_melt",
                "magnetic": {
                    "source": "Inden-Hillert-Jarl model with SGTE unary parameters (Dinsdale, "
                              "Calphad 15 (1991) 317); ESPEI's SGTE91 copy has none (Fe would "
                              "melt at 1801 K instead of 1810.95 K)",
                    "table": f"{MAGNETIC_FILE} (the table mixcalphad's TDB files use; sources "
                             "in mixcalphad.calphad.unary)",
                    "structure_factor_p_and_afm_factor": {"BCC_A2": list(IHJ_BCC),
                                                          "other phases": list(IHJ_OTHER)},
                    "parameters_TC_K_BMAGN": {f"{el} {ph}": list(val)
                                              for (el, ph), val in sorted(magnetic_parameters().items())},
                },
                "elements_without_fusion_data": no_fusion,
                "why_missing": "no SGTE solid phase, or G(LIQUID) never falls below a solid "
                               "(elements whose reference state is the gas)",
                "units": {"T_melt_K": "K", "H_fus_J": "J/mol", "S_fus_J_K": "J/mol/K",
                          "Cp_liq_J_K": "J/mol/K", "dCp_fus_J_K": "J/mol/K"},
            },
            {
                "columns": ["symbol", "Z", "period", "group", "block", "boiling_point_K",
                            "ionization_energy_eV", "density_g_cm3", "molar_volume_cm3"],
                "source": f"mendeleev {ver['mendeleev']} (MIT), tables elements, "
                          "ionizationenergies (first, ion_charge 0), phasetransitions",
                "boiling_point_K": "mendeleev's Element.boiling_point rule: missing where "
                                   "mendeleev has none or two allotropes give different values",
                "elements_without_boiling_point": no_boiling,
                "molar_volume_cm3": "atomic_weight / density (mendeleev's Element.atomic_volume, "
                                    "cm3/mol); for N and O the density is the ideal-gas density "
                                    "at 298 K, so their molar volume is that of the gas",
                "units": {"boiling_point_K": "K", "ionization_energy_eV": "eV",
                          "density_g_cm3": "g/cm3", "molar_volume_cm3": "cm3/mol"},
            },
            {
                "columns": ["miedema_phi_V", "miedema_nws13", "miedema_V23_cm2", "miedema_RP",
                            "miedema_a", "miedema_Htrans_J"],
                "source": f"matminer {ver['matminer']} (BSD-3, notice in LICENSE-matminer.txt), "
                          "file matminer/utils/data_files/Miedema.csv",
                "conversion": "phi* = electronegativity (V); nws13 = electron_density**(1/3); "
                              "V23 = molar_volume**(2/3) (cm2); RP = R_const; a = a_const; "
                              "Htrans = 1000 * H_trans (kJ/mol -> J/mol)",
                "elements_without_miedema_data": no_miedema,
            },
        ],
        "group_rule": "group is mendeleev's group_id; mendeleev leaves it empty for Ce-Lu and "
                      "the actinides, so La-Lu (Z 57-71) and Ac-Lr (Z 89-103) are put in group 3",
        "transition_metal_rule": "True for groups 3-11 (after the f-block rule): Sc-Cu, Y-Ag, "
                                 "La-Au, lanthanides, actinides; Zn, Cd, Hg (group 12) are not",
        "alkaline_earth_note": "Ca, Sr, Ba are not transition metals in this table (group 2); "
                               "some Miedema tables count them as transition metals, which "
                               "mixcalphad.chem.miedema offers as an option",
        "miedema_crosscheck": {
            "compared": {k: f"mendeleev {v_}" for k, v_ in MIEDEMA_CROSSCHECK.items()},
            "elements_compared": "every table element present in either source",
            "disagreements": disagreements,
            "not_checkable": "mendeleev has no R/P, a or H_trans. Published Miedema tables "
                             "differ for Eu and Yb (divalent vs trivalent-like values), Ag R/P "
                             "(0.3 vs 0.15) and Ce-Lu R/P (0.7 vs 0); this table keeps "
                             "matminer's values: "
                             + ", ".join(f"{el} R/P {table.loc[el, 'miedema_RP']:g}"
                                         for el in ("AG", "CE", "LU")),
        },
    }


# ----------------------------------------------------------------------------------------- write
def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (temporary file in the same folder, then rename)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def matminer_license() -> str:
    """matminer's licence from its dist-info, with a line saying what it covers here."""
    text = importlib.metadata.distribution("matminer").read_text("licenses/LICENSE")
    header = (f"The miedema_* columns of elements.csv are derived from matminer "
              f"{versions()['matminer']}, matminer/utils/data_files/Miedema.csv, distributed "
              f"under the following licence.\n\n")
    return header + text.rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DATA_DIR, help=f"output folder ({DATA_DIR})")
    out = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)

    elements = sgte_elements()
    mendeleev = mendeleev_table()
    miedema = matminer_miedema()
    table = build_table(elements, mendeleev, miedema)
    disagreements = miedema_disagreements(miedema, mendeleev, elements)

    write_text(out / "elements.csv", table.to_csv(lineterminator="\n"))
    write_text(out / "elements_sources.json",
               json.dumps(sources(table, disagreements), indent=2, ensure_ascii=False) + "\n")
    write_text(out / "LICENSE-matminer.txt", matminer_license())
    print(f"wrote {len(table)} elements to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
