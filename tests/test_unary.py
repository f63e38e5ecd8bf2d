"""SGTE unary data: melting points, contiguous ranges, validity to 6000 K, ELEMENT lines."""
import argparse
import json
import math
import difflib
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pycalphad import Database, calculate, equilibrium
from pycalphad import variables as v
from scipy.optimize import brentq

from mixcalphad.calphad import binary_fit, provenance, tdb_write
from mixcalphad.calphad.binary_fit import fit_binaries
from mixcalphad.calphad.database import to_database
from mixcalphad.calphad.provenance import BinaryRecord, Provenance, read_provenance, read_provenance_blocks
from mixcalphad.calphad.redlich_kister import fit_redlich_kister, kaptay, rk_excess
from mixcalphad.calphad.tdb_merge import fill_plan, merge_into_tdb
from mixcalphad.calphad.liquidus import melting_points
from mixcalphad.calphad.tdb_write import write_tdb
from mixcalphad.calphad.unary import ghser_name, unary
from mixcalphad.chem.elements import element_table
from mixcalphad.chem.miedema import miedema_hmix
from mixcalphad.data.harvest import harvest_tdb
from mixcalphad.errors import MixcalphadError, OutputExistsError, TDBError, UnknownElementError

from calphad_common import (CUMG, DATA, GRID, R, TEN, calphad_io_problems, default_double, g_value,  # noqa: F401
                            ten, ten_db)
from conftest import MiedemaDouble


@pytest.fixture(scope="module")
def all_elements_db(tmp_path_factory):
    """The TDB mixcalphad writes for its 70 elements (no binaries), read back by pycalphad."""
    from mixcalphad.chem.elements import supported_elements

    elements = supported_elements()
    path = write_tdb(to_database({}, elements=elements), tmp_path_factory.mktemp("unary") / "all.tdb")
    return elements, Database(str(path))


#: Melting points (K) of Dinsdale's SGTE 1991 paper (Calphad 15 (1991) 317) of the five elements with
#: magnetic terms, an anchor independent of the element table.
DINSDALE_T_MELT = {"CO": 1768.0, "CR": 2180.0, "FE": 1811.0, "MN": 1519.0, "NI": 1728.0}


def test_every_element_melts_at_sgtes_melting_point_in_the_written_tdb(all_elements_db):
    # without the magnetic terms Fe melted at 1801 K in our TDB (Co, Ni, Cr, Mn off too)
    elements, db = all_elements_db
    table = element_table()
    assert len(elements) == 70
    off = {}
    for el in elements:
        tm = float(table.loc[el, "T_melt_K"])
        found = melting_points(db, el, np.arange(tm - 100.0, tm + 100.0, 0.01))
        if len(found) != 1 or abs(found[0] - tm) > 0.5:
            off[el] = (tm, [round(float(t), 2) for t in found])
    assert not off, f"melting points (SGTE, pycalphad from our TDB) differ: {off}"
    for el, tm in DINSDALE_T_MELT.items():
        assert float(table.loc[el, "T_melt_K"]) == pytest.approx(tm, abs=0.5), el
    with pytest.raises(TDBError, match="CU has no LIQUID or no solid phase"):
        melting_points(to_database({}, elements=["CU"], solids="none"), "cu", [1300.0, 1400.0])


def test_magnetic_phases_are_written_with_the_ihj_model(all_elements_db, tmp_path):
    _, db = all_elements_db
    for phase, hints in (("BCC_A2", (-1.0, 0.4)), ("FCC_A1", (-3.0, 0.28)), ("HCP_A3", (-3.0, 0.28)),
                         ("CBCC_A12", (-3.0, 0.28))):
        got = db.phases[phase].model_hints
        assert (got["ihj_magnetic_afm_factor"], got["ihj_magnetic_structure_factor"]) == hints, phase
    assert "ihj_magnetic_afm_factor" not in db.phases["LIQUID"].model_hints

    def value(ptype, phase, el):
        (p,) = db.search(lambda r: r["parameter_type"] == ptype and r["phase_name"] == phase
                         and [s.name for s in r["constituent_array"][0]] == [el])
        return float(p["parameter"].subs({v.T: 1000.0}))

    assert (value("TC", "BCC_A2", "FE"), value("BMAGN", "BCC_A2", "FE")) == (1043.0, 2.22)
    assert (value("TC", "FCC_A1", "NI"), value("BMAGN", "FCC_A1", "NI")) == (633.0, 0.52)
    # one-element phases ("pure") carry the model too, and the SGTE reference key is on TC/BMAGN
    path = write_tdb(to_database({}, elements=["FE", "CU"], solids="pure"), tmp_path / "fe.tdb")
    text = path.read_text()
    assert "BCC_A2_FE MAGNETIC -1.0 0.4" in text and "FCC_A1_CU" in text
    assert re.search(r"PARAMETER TC\(BCC_A2_FE,FE;0\) 298.15 1043.0; 10000.0 N SGTE91 !", text)
    assert "MAGNETIC" not in "".join(line for line in text.splitlines() if "FCC_A1_CU" in line)


def test_magnetic_table_is_the_one_pycalphads_sgte_based_tdbs_give():
    """data/sgte_magnetic.csv equals the TC and BMAGN of the SGTE unary data in COST507.tdb (Cr, Fe,
    Mn, Ni) and alcocrni.tdb (Co) shipped with pycalphad, and every phase is an SGTE phase."""
    from espei.refdata import SGTE91

    from mixcalphad.calphad.unary import ihj_hints, magnetic_parameters

    table = magnetic_parameters()
    sources = {"COST507.tdb": ("CR", "FE", "MN", "NI"), "alcocrni.tdb": ("CO",)}
    seen = {}
    for name, elements in sources.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # type characters COST507.tdb leaves unused
            db = Database(str(CUMG.parent / name))
        for p in db.search(lambda r: r["parameter_type"] in ("TC", "BMAGN") and len(r["constituent_array"][0]) == 1):
            el = p["constituent_array"][0][0].name
            if el in elements and p["phase_name"] in ("BCC_A2", "FCC_A1", "HCP_A3", "CBCC_A12"):
                seen.setdefault((el, p["phase_name"]), {})[p["parameter_type"]] = float(p["parameter"].subs({v.T: 1000.0}))
    assert {k: (d["TC"], d["BMAGN"]) for k, d in seen.items()} == table
    # the IHJ factors: COST507's TYPE_DEF lines (pycalphad does not apply its CBCC_A12 one: no phase
    # carries its type character)
    typedefs = re.findall(r"AMEND_PHASE_DESCRIPTION\s+(\w+)\s+MAGNETIC\s+(\S+)\s+([\d.]+)",
                          (CUMG.parent / "COST507.tdb").read_text(errors="replace"))
    factors = {phase: (float(afm), float(p)) for phase, afm, p in typedefs}
    for phase in {ph for _, ph in table}:
        assert factors[phase] == tuple(ihj_hints(phase).values()), phase
    assert all(key in SGTE91 for key in table)
    assert unary("FE").magnetic == {"BCC_A2": (1043.0, 2.22), "FCC_A1": (-201.0, -2.1)} and unary("CU").magnetic == {}


@pytest.mark.parametrize("row, message", [
    ("FE,BCC_A2,1043,x", "line 2: cannot read"),
    ("FE,BCC_A2,1043,-2.22", "line 2: TC = 1043 K and BMAGN = -2.22 must be"),
    ("FE,BCC_A2,0,0", "line 2: TC = 0 K"),
    ("FE,BCC_A2,1043\n", "line 2: cannot read"),
    ("FE,BCC_A2,1043,2.22\nfe,bcc_a2,1043,2.22", "line 3: FE BCC_A2 is listed twice"),
])
def test_a_malformed_magnetic_table_names_the_line(row, message):
    import io

    from mixcalphad.calphad.unary import read_magnetic_table
    from mixcalphad.errors import DatasetError

    with pytest.raises(DatasetError, match=re.escape("magnetic.csv " + message)):
        read_magnetic_table(io.StringIO("element,phase,TC_K,BMAGN\n" + row + "\n"), label="magnetic.csv")


def test_eu_overlapping_ranges_are_made_contiguous():
    from pycalphad.io.tdb import TCPrinter

    liquid = unary("EU").liquid
    TCPrinter().doprint(liquid)  # the raw espei data cannot be printed
    db = to_database({}, elements=["EU", "CU"])
    for T in (400.0, 1095.0):
        below = g_value(db, "LIQUID", "EU", T - 1e-6)
        above = g_value(db, "LIQUID", "EU", T + 1e-6)
        assert above == pytest.approx(below, abs=0.01)


def _breakpoints(expr):
    import symengine as se

    out = set()
    if isinstance(expr, se.Piecewise):
        for cond in expr.args[1::2]:
            out |= {float(a) for rel in (cond.args if isinstance(cond, se.And) else (cond,))
                    for a in rel.args if a.is_Number}
    return out


def test_liquid_gibbs_energy_of_every_element_is_finite_and_continuous_through_6000_K(all_elements_db):
    # pycalphad evaluates a FUNCTION outside its ranges as 0 and reads a range as lo <= T < hi:
    # SGTE 1991 ends Cd at 1600 K, Rh at 2500 K… (G(LIQUID) jumped by 120-509 kJ/mol there), and
    # a GHSERxx ending at 6000 K dropped G(LIQUID) of 22 elements at exactly 6000 K (Cs -1.32 MJ/mol
    # at 5999.9 K, -0.04 MJ/mol at 6000 K)
    elements, db = all_elements_db
    step = 0.5
    grid = 6000.0 - step * np.arange(int((6000.0 - 298.15) / step) + 1)[::-1]  # uniform, ends at 6000 K
    for el in elements:
        u = unary(el)
        edges = sorted(t for t in _breakpoints(u.liquid) | _breakpoints(u.ghser) if 298.15 < t <= 6000.0)
        T = np.concatenate([[298.15], grid, [t - 1e-6 for t in edges], [t + 1e-6 for t in edges]])
        G = calculate(db, [el], "LIQUID", T=T, P=101325, N=1, output="GM").GM.values.ravel()
        assert np.all(np.isfinite(G)), el
        # on the uniform grid the second difference is Cp/T*step^2 (< 0.1 J/mol); a jump of J J/mol
        # shows as J, so 1 J/mol tolerates no jump. G(6000 K) is the grid's last point.
        uniform = G[1:len(grid) + 1]
        assert np.abs(np.diff(uniform, 2)).max() < 1.0, (el, float(np.abs(np.diff(uniform, 2)).max()))
        # at every range boundary (6000 K included for a range that ended there) G is continuous
        # to 1 J/mol: 2e-6 K apart, the slope -S (< 400 J/mol/K) moves G by < 0.001 J/mol
        n = len(edges)
        jumps = np.abs(G[len(grid) + 1 + n:] - G[len(grid) + 1:len(grid) + 1 + n])
        assert np.all(jumps < 1.0), (el, dict(zip(edges, jumps)))
    # every range of the unaries now ends at T_UPPER_K > 6000 K
    from mixcalphad.calphad.unary import T_UPPER_K

    assert max(_breakpoints(unary("CD").ghser)) == max(_breakpoints(unary("RH").liquid)) == T_UPPER_K > 6000.0


def test_element_lines_and_reference_phases():
    from mixcalphad.chem.elements import supported_elements

    elements = supported_elements()
    db = to_database({}, elements=elements, solids="sgte")
    for el in elements:
        ref = db.refstates[el]
        assert el in {s.name for s in db.phases[ref["phase"]].constituents[0]}, (el, ref["phase"])
        assert ref["S298"] > 0, el
    assert db.refstates["CO"]["H298"] == 4765.567 and db.refstates["HF"]["S298"] == 43.56
    assert db.refstates["TI"]["phase"] == "HCP_A3" and "TI" in {s.name for s in db.phases["BCC_A2"].constituents[0]}
    # S298 = -dGHSER/dT at 298.15 K: checked against SGTE's own value where it gives one (non-magnetic)
    from mixcalphad.calphad.unary import _s298

    for el in ("CU", "AL", "W", "TI", "CE", "LA", "ND", "HF", "P"):
        assert _s298(unary(el).ghser) == pytest.approx(unary(el).ser["S298"], abs=0.4), el
