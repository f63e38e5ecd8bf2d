"""fill_plan / merge_into_tdb: filling a user's TDB without touching it."""
import argparse
import json
import math
import difflib
import re
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
from mixcalphad.errors import (MixcalphadError, OutputExistsError, TDBError, UnknownElementError,
                               UnsupportedElementError)

from calphad_common import (CUMG, DATA, GRID, R, TEN, calphad_io_problems, default_double, g_value,  # noqa: F401
                            ten, ten_db)
from conftest import MiedemaDouble
from helpers import run_cli


def _gm(db, comps, phase, T=(900.0, 1500.0, 2500.0)):
    res = calculate(db, comps, phase, T=list(T), P=101325, N=1, output="GM", pdens=50)
    return np.asarray(res.GM)


@pytest.fixture(scope="module")
def filled_cumg(tmp_path_factory):
    plan = fill_plan(CUMG, ["ag"])
    fits = fit_binaries(plan.to_add, predictor=MiedemaDouble(), progress=False)
    out = tmp_path_factory.mktemp("fill") / "filled.tdb"
    report = merge_into_tdb(fits, CUMG, out, elements=["AG"])
    return plan, fits, report, out

def test_fill_cumg_with_ag(filled_cumg):
    plan, fits, report, out = filled_cumg
    assert plan.liquid_elements == ("CU", "MG") and plan.new_elements == ("AG",)
    assert plan.existing == ("CU-MG",) and plan.to_add == ("AG-CU", "AG-MG")
    assert [b.system for b in report.added] == ["AG-CU", "AG-MG"]
    assert {b.origin for b in report.added} == {"predicted"}
    # AG joins the file's FCC_A1 (CU,MG : VA) with its SGTE end-member: never a liquid-only element
    assert report.solids == ("AG added to FCC_A1 (ideal, no interaction with the file's elements)",)
    assert any("AG added to FCC_A1" in n for n in read_provenance_blocks(out)[0].notes)
    old, new = Database(str(CUMG)), Database(str(out))
    assert {s.name for s in new.phases["FCC_A1"].constituents[0]} == {"AG", "CU", "MG"}
    for T, phase in ((1200.0, "FCC_A1"), (1250.0, "LIQUID")):  # SGTE: Ag melts at 1234.93 K
        eq = equilibrium(new, ["AG", "VA"], ["LIQUID", "FCC_A1"], {v.T: T, v.P: 101325, v.N: 1})
        assert [p for p in np.asarray(eq.Phase).ravel() if p] == [phase]
    # every pre-existing binary, every phase: energies unchanged to 1e-9 J/mol
    for phase in sorted(old.phases):
        assert np.abs(_gm(new, ["CU", "MG", "VA"], phase) - _gm(old, ["CU", "MG", "VA"], phase)).max() <= 1e-9, phase
    # Ag-Cu and Ag-Mg are the fits; the ternary liquid computes (equimolar: only L0 terms count)
    harvested = harvest_tdb(out, x=[0.3, 0.5]).observations
    for name in ("AG-CU", "AG-MG"):
        rows = harvested[harvested["system"] == name]
        assert rows["HM_MIX_J"].to_numpy() == pytest.approx(fits[name].evaluate([0.3, 0.5]), abs=1e-6)
    third = np.full((1, 3), 1 / 3)
    hm = calculate(new, ["AG", "CU", "MG"], "LIQUID", T=1500.0, P=101325, N=1, output="HM_MIX", points=third)
    expected = (fits["AG-CU"].fit.coefficients[0] + fits["AG-MG"].fit.coefficients[0] - 36984.0) / 9
    assert float(np.asarray(hm.HM_MIX).ravel()[0]) == pytest.approx(expected, abs=1e-6)

def test_fill_keeps_the_users_text(filled_cumg):
    *_, out = filled_cumg
    old, new = CUMG.read_text(), out.read_text()
    matcher = difflib.SequenceMatcher(None, old.splitlines(), new.splitlines(), autojunk=False)
    changes = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    kinds = [op[0] for op in changes]
    assert set(kinds) <= {"insert", "replace"} and kinds.count("replace") == 2
    replaced = [(old.splitlines()[i1:i2], new.splitlines()[j1:j2]) for op, i1, i2, j1, j2 in changes if op == "replace"]
    assert replaced == [(["  CONSTITUENT LIQUID:L :CU,MG :  !"], ["  CONSTITUENT LIQUID:L :CU,MG,AG :  !"]),
                        (["  CONSTITUENT FCC_A1  :CU,MG : VA :  !"], ["  CONSTITUENT FCC_A1  :CU,MG,AG : VA :  !"])]
    assert new.index(" ELEMENT AG") < new.index("CONSTITUENT LIQUID")
    blocks = read_provenance_blocks(out)
    assert len(blocks) == 1 and [b.system for b in blocks[0].binaries] == ["AG-CU", "AG-MG"]
    assert calphad_io_problems(out) == calphad_io_problems(CUMG) == []  # the independent validator

def test_fill_renumbers_vv_symbols_and_skips_what_exists(tmp_path):
    user = DATA / "tdb_user_vv.tdb"
    plan = fill_plan(user, ["AL"])
    assert plan.existing == ("CU-FE", "CU-NI")  # old-style G(LIQUID,CU,FE;0) counts
    assert plan.to_add == ("AL-CU", "AL-FE", "AL-NI", "FE-NI")
    fits = fit_binaries(plan.to_add + ("CU-NI",), predictor=MiedemaDouble(), progress=False)
    report = merge_into_tdb(fits, user, tmp_path / "filled.tdb", elements=["AL"])
    assert report.first_symbol == "VV0006"
    assert ("CU-NI", "already in the file (never altered)") in report.skipped
    used = [s for names in report.symbols.values() for s in names]
    assert used[0] == "VV0006" and len(set(used)) == len(used)
    old, new = Database(str(user)), Database(str(tmp_path / "filled.tdb"))
    for name in ("VV0000", "VV0001", "VV0005", "V0009", "GHSERCU"):
        assert str(new.symbols[name]) == str(old.symbols[name])
    for phase in ("LIQUID", "FCC_A1"):
        for comps in (["CU", "NI", "VA"], ["CU", "FE", "VA"]):  # the binaries the file had
            assert np.abs(_gm(new, comps, phase) - _gm(old, comps, phase)).max() <= 1e-9, (phase, comps)
    # the binary the file lacked is the fit, in the same liquid
    hm = calculate(new, ["FE", "NI"], "LIQUID", T=1800.0, P=101325, N=1, output="HM_MIX",
                   points=np.array([[0.4, 0.6]]))
    assert float(np.asarray(hm.HM_MIX).ravel()[0]) == pytest.approx(fits["FE-NI"].evaluate([0.6])[0], abs=1e-6)
    text = (tmp_path / "filled.tdb").read_text()
    assert "$ KEEP THIS COMMENT: the merge must not touch it." in text
    assert "FUNCTION GHSERAL" in text and "FUNCTION GHSERCU" not in text.split("mixcalphad provenance")[1]
    df = report.to_dataframe()
    assert set(df[df.status == "added"].system) == {"AL-CU", "AL-FE", "AL-NI", "FE-NI"}
    # filling the filled file again finds nothing to add
    again = fill_plan(tmp_path / "filled.tdb", ["AL"])
    assert again.to_add == () and again.new_elements == ()

def test_fill_preserves_crlf_and_refuses_to_overwrite(tmp_path):
    user = tmp_path / "user.tdb"
    user.write_bytes((DATA / "tdb_user_vv.tdb").read_bytes().replace(b"\n", b"\r\n"))
    fits = fit_binaries(["FE-NI"], predictor=MiedemaDouble(), progress=False)
    out = tmp_path / "out.tdb"
    merge_into_tdb(fits, user, out)
    data = out.read_bytes()
    assert data.count(b"\n") == data.count(b"\r\n")
    Database(str(out))
    with pytest.raises(OutputExistsError):
        merge_into_tdb(fits, user, out)
    merge_into_tdb(fits, user, user, force=True)  # in place, on purpose
    assert fill_plan(user).to_add == ()


@pytest.mark.parametrize("name, message", [
    ("tdb_ionic_liquid.tdb", "2 sublattices"),
    ("tdb_associate_liquid.tdb", "associates"),
    ("tdb_no_liquid.tdb", "no phase named LIQUID"),
])

def test_fill_refuses_liquids_it_cannot_extend(tmp_path, name, message):
    with pytest.raises(TDBError, match=message) as exc:
        merge_into_tdb({}, DATA / name, tmp_path / "out.tdb", elements=["AG"])
    assert name in str(exc.value)
    assert not (tmp_path / "out.tdb").exists()

def test_fill_plan_skips_unsupported_elements():
    plan = fill_plan(DATA / "tdb_user_vv.tdb", supported=["CU", "NI"])
    assert plan.to_add == () and plan.skipped == (("FE-NI", "FE not in mixcalphad's supported element set"),)
    with pytest.raises(UnknownElementError):
        fill_plan(DATA / "tdb_user_vv.tdb", ["QQ"])

def test_cli_fill_with_report(tmp_path, capsys, default_double):
    out, report = tmp_path / "filled.tdb", tmp_path / "report.csv"
    argv = ["fill", str(CUMG), "--elements", "AG", "-o", str(out), "--report", str(report), "--no-store"]
    assert run_cli(argv) == 0
    text = capsys.readouterr().out
    assert "2 binaries added" in text and "AG-CU" in text
    table = pd.read_csv(report)
    assert list(table["system"]) == ["AG-CU", "AG-MG"] and set(table["status"]) == {"added"}
    assert run_cli(argv) == 2  # both outputs exist
    assert "exists" in capsys.readouterr().err
    assert run_cli(argv + ["--force", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["new_elements"] == ["AG"]
    assert run_cli(["fill", str(DATA / "tdb_ionic_liquid.tdb"), "-o", str(tmp_path / "i.tdb"), "--no-store"]) == 2


def test_fill_refuses_an_element_the_model_cannot_describe(tmp_path, capsys, default_double):
    # O has SGTE unary data but is outside the supported set: it used to be added to the LIQUID
    # with no interaction at all (an ideal Cu-O liquid), exit 0
    unary("O")
    with pytest.raises(UnsupportedElementError, match="element O is not supported") as exc:
        fill_plan(CUMG, ["O"])
    assert "--elements O" in str(exc.value) and "not added" in str(exc.value)
    out = tmp_path / "filled.tdb"
    assert run_cli(["fill", str(CUMG), "--elements", "O", "-o", str(out), "--no-store"]) == 2
    assert "element O is not supported" in capsys.readouterr().err
    assert not out.exists()


def test_fill_gives_new_elements_sgtes_magnetic_terms(tmp_path):
    # cumg.tdb: FCC_A1 has the IHJ model (type character &), HCP_A3 has none, there is no BCC_A2.
    # Without the magnetic terms Fe melted at 1801 K and Co at 1749 K in the filled file.
    out = tmp_path / "filled.tdb"
    report = merge_into_tdb({}, CUMG, out, elements=["CO", "FE", "NI"])
    assert set(report.solids) == {
        "CO added to FCC_A1 (ideal, no interaction with the file's elements)",
        "CO in new phase HCP_A3_CO (HCP_A3 of the file lacks the magnetic model MAGNETIC -3 0.28 the element needs)",
        "FE in new phase BCC_A2", "NI added to FCC_A1 (ideal, no interaction with the file's elements)"}
    db = Database(str(out))
    table = element_table()
    for el in ("CO", "FE", "NI"):
        tm = float(table.loc[el, "T_melt_K"])
        found = melting_points(db, el, np.arange(tm - 100.0, tm + 100.0, 0.01))
        assert len(found) == 1 and found[0] == pytest.approx(tm, abs=0.5), (el, found)
    assert db.phases["BCC_A2"].model_hints == {"ihj_magnetic_afm_factor": -1.0, "ihj_magnetic_structure_factor": 0.4}
    assert db.phases["HCP_A3_CO"].model_hints["ihj_magnetic_afm_factor"] == -3.0
    # the new phases' type characters are not the file's own (%, &): no phase of the file changes model
    text = out.read_text()
    added = text[text.index("mixcalphad provenance"):]
    chars = re.findall(r"TYPE_DEFINITION (\S) GES AMEND_PHASE_DESCRIPTION (\w+) MAGNETIC", added)
    assert sorted(phase for _, phase in chars) == ["BCC_A2", "HCP_A3_CO"]
    assert not {c for c, _ in chars} & {"%", "&"} and len({c for c, _ in chars}) == 2
    assert "HCP_A3" in db.phases and "ihj_magnetic_afm_factor" not in db.phases["HCP_A3"].model_hints
    assert re.search(r"PARAMETER TC\(FCC_A1,NI:VA;0\) 298.15 633.0; 10000.0 N", added)


def test_fill_picks_type_characters_the_file_does_not_use(tmp_path):
    # a file whose phases already use the first characters pycalphad hands out
    text = CUMG.read_text().replace("%&", "%^&*")
    text = text.replace(" TYPE_DEFINITION % SEQ *!", " TYPE_DEFINITION % SEQ *!\n TYPE_DEFINITION ^ SEQ *!\n"
                        " TYPE_DEFINITION * SEQ *!")
    user = tmp_path / "user.tdb"
    user.write_text(text)
    out = tmp_path / "filled.tdb"
    merge_into_tdb({}, user, out, elements=["FE", "MN"])
    added = out.read_text()[out.read_text().index("mixcalphad provenance"):]
    chars = dict((phase, c) for c, phase in re.findall(r"TYPE_DEFINITION (\S) GES AMEND_PHASE_DESCRIPTION (\w+)", added))
    assert set(chars) == {"BCC_A2", "CBCC_A12"} and set(chars.values()) == {"(", ")"}
    for phase, c in chars.items():
        assert re.search(rf"PHASE {phase} %{re.escape(c)} ", added)
    db = Database(str(out))
    assert db.phases["CBCC_A12"].model_hints["ihj_magnetic_structure_factor"] == 0.28
    assert db.phases["FCC_A1"].model_hints["ihj_magnetic_afm_factor"] == -3.0  # the file's, unchanged
