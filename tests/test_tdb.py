"""TDB output: round trips through pycalphad, provenance, unaries/liquidus, filling a user's TDB, CLI."""
import argparse
import difflib
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pycalphad
import pytest
from pycalphad import Database, calculate, equilibrium
from pycalphad import variables as v
from scipy.optimize import brentq

from mixcalphad.calphad import redlich_kister as rk
from mixcalphad.calphad import tdb
from mixcalphad.chem.elements import element_table
from mixcalphad.errors import MixcalphadError, OutputExistsError, TDBError, UnknownElementError
from mixcalphad.data.harvest import harvest_tdb
from mixcalphad.chem.miedema import miedema_hmix
from mixcalphad.calphad.redlich_kister import fit_binaries, fit_redlich_kister, kaptay
from mixcalphad.calphad.tdb import (fill_plan, merge_into_tdb, read_provenance, read_provenance_blocks, to_database,
                            unary, write_tdb)

from conftest import MiedemaDouble

DATA = Path(__file__).parent / "data"
CUMG = Path(pycalphad.__file__).parent / "tests" / "databases" / "cumg.tdb"
TEN = ("AG", "AL", "CU", "FE", "MG", "NI", "SI", "TI", "W", "ZR")
GRID = np.round(np.arange(0.05, 0.951, 0.05), 2)
R = float(v.R)  # J/mol/K, the gas constant as pycalphad has it (8.3145)


@pytest.fixture(scope="module")
def ten(tmp_path_factory):
    fits = fit_binaries(TEN, predictor=MiedemaDouble(), progress=False)
    path = write_tdb(fits, tmp_path_factory.mktemp("ten") / "ten.tdb")
    return fits, path


@pytest.fixture(scope="module")
def ten_db(ten):
    return Database(str(ten[1]))


# ------------------------------------------------------------------ round trip (acceptance)
def test_round_trip_for_every_binary_of_ten_elements(ten):
    fits, path = ten
    assert len(fits) == 45
    harvested = harvest_tdb(path, T=1873.0, x=GRID)  # pycalphad's HM_MIX of the written file
    assert harvested.systems == sorted(fits) and not harvested.skipped
    for name, rows in harvested.observations.groupby("system"):
        fit = fits[name]
        x = rows["x_B"].to_numpy()
        hm = rows["HM_MIX_J"].to_numpy()
        assert np.abs(hm - fit.evaluate(x)).max() < 1.0, name
        predicted = miedema_hmix(*name.split("-"), x)
        assert np.sqrt(np.mean((hm - predicted) ** 2)) <= fit.fit.rms_J + 1.0, name
        assert np.abs(hm - predicted).max() <= fit.fit.max_abs_residual_J + 1.0, name


def test_pycalphad_calculate_gives_the_fit(ten, ten_db):
    fits, _ = ten
    fit = fits["AL-NI"]
    x = np.array([0.2, 0.5, 0.7])
    res = calculate(ten_db, ["AL", "NI"], "LIQUID", T=1500.0, P=101325, N=1, output="HM_MIX",
                    points=np.column_stack([1 - x, x]))
    assert np.asarray(res.HM_MIX).ravel() == pytest.approx(fit.evaluate(x), abs=1e-6)


def test_provenance_header_survives_and_reads_back(ten):
    fits, path = ten
    text = path.read_text(encoding="ascii")
    prov = read_provenance(path)
    assert prov.mixcalphad_version == __import__("mixcalphad").__version__
    assert prov.model == "MiedemaDouble miedema-double-1"
    assert prov.temperature_model.startswith("enthalpy-only")
    assert [b.system for b in prov.binaries] == sorted(fits)
    first = prov.binaries[0]
    assert first.origin == "predicted" and first.sigma_J == 4000.0 and first.n_points == 19
    assert first.sources == ("model:MiedemaDouble miedema-double-1",)
    assert first.rms_J == round(fits[first.system].fit.rms_J, 1)
    assert prov.data_sources == ("model:MiedemaDouble miedema-double-1 (45 binaries)",)
    assert text.index("mixcalphad provenance") < text.index("ELEMENT")
    assert all(len(line) <= 78 for line in text.splitlines())
    df = prov.to_dataframe()
    assert len(df) == 45 and set(df["origin"]) == {"predicted"}
    assert tdb.Provenance.from_dict(json.loads(json.dumps(prov.to_dict()))) == prov


def test_file_layout(ten, ten_db):
    _, path = ten
    text = path.read_text()
    assert "ELEMENT /-" not in text
    assert all(len(name) <= 8 for name in ten_db.symbols)
    for el in TEN:
        assert tdb.ghser_name(el) in ten_db.symbols
    vv = sorted(n for n in ten_db.symbols if n.startswith("VV"))
    assert vv[0] == "VV0000" and all(re.fullmatch(r"VV\d{4}", n) for n in vv)
    for a, b in re.findall(r"PARAMETER L\(LIQUID,(\w+),(\w+);\d\)", text):
        assert a < b  # sorted constituents
    params = re.findall(r"PARAMETER L\(LIQUID,\w+,\w+;\d\) 298.15 (VV\d{4}); 6000.0 N !", text)
    assert len(params) == len(vv)
    phases = {name: sorted(s.name for s in ten_db.phases[name].constituents[0]) for name in ten_db.phases}
    assert phases["LIQUID"] == sorted(TEN)
    assert phases["FCC_A1"] == ["AG", "AL", "CU", "NI"]
    assert phases["BCC_A2"] == ["FE", "TI", "W", "ZR"]
    assert phases["HCP_A3"] == ["MG"] and phases["DIAMOND_A4"] == ["SI"]


def _g(db, phase, el, T):
    cache = {}
    params = db.search(lambda p: p["phase_name"] == phase and p["parameter_type"] == "G"
                       and [s.name for s in p["constituent_array"][0]] == [el])
    return tdb._evaluate(params[0]["parameter"], db.symbols, T, cache, v.T)


def test_unary_data_give_the_sgte_melting_points(ten_db):
    table = element_table()
    for el in TEN:
        solid = unary(el).solid_phase
        tm = float(table.loc[el, "T_melt_K"])
        T = brentq(lambda t: _g(ten_db, "LIQUID", el, t) - _g(ten_db, solid, el, t), tm - 150, tm + 150)
        # the espei copy of SGTE has no magnetic terms: Fe melts 10 K low
        assert T == pytest.approx(tm, abs=12.0), el


def test_pycalphad_computes_a_liquidus_with_it(ten_db):
    eq = equilibrium(ten_db, ["CU", "NI"], ["LIQUID", "FCC_A1"],
                     {v.X("NI"): 0.5, v.T: [1000.0, 2200.0], v.P: 101325, v.N: 1})
    phases = [set(p for p in np.asarray(eq.Phase)[0, 0, i, 0].ravel() if p) for i in range(2)]
    assert phases[0] == {"FCC_A1"} and phases[1] == {"LIQUID"}


def test_pure_solids_do_not_dissolve_each_other(ten):
    fits, _ = ten
    db = to_database({"CU-NI": fits["CU-NI"]}, solids="pure")
    assert set(db.phases) == {"LIQUID", "FCC_A1_CU", "FCC_A1_NI"}
    eq = equilibrium(db, ["CU", "NI"], list(db.phases), {v.X("NI"): 0.5, v.T: 1000.0, v.P: 101325, v.N: 1})
    assert set(p for p in np.asarray(eq.Phase).ravel() if p) == {"FCC_A1_CU", "FCC_A1_NI"}
    assert set(to_database({"CU-NI": fits["CU-NI"]}, solids="none").phases) == {"LIQUID"}
    with pytest.raises(TDBError, match="solids"):
        to_database({"CU-NI": fits["CU-NI"]}, solids="ideal")


def test_eu_overlapping_ranges_are_made_contiguous():
    from pycalphad.io.tdb import TCPrinter

    liquid = unary("EU").liquid
    TCPrinter().doprint(liquid)  # the raw espei data cannot be printed
    db = to_database({}, elements=["EU", "CU"])
    for T in (400.0, 1095.0):
        below = _g(db, "LIQUID", "EU", T - 1e-6)
        above = _g(db, "LIQUID", "EU", T + 1e-6)
        assert above == pytest.approx(below, abs=0.01)


# ------------------------------------------------------------------ building and writing details
def test_unsorted_rkfit_mapping_keeps_the_meaning_of_odd_terms(tmp_path):
    x = np.linspace(0.1, 0.9, 9)
    fit = fit_redlich_kister(x, x * (1 - x) * (-30000 + 12000 * (1 - 2 * x)))  # for AL-CU, x = x_CU
    path = write_tdb({"CU-AL": fit}, tmp_path / "alcu.tdb")
    hm = harvest_tdb(path, x=[0.25]).observations["HM_MIX_J"].iloc[0]
    assert hm == pytest.approx(0.1875 * (-30000 + 12000 * 0.5), abs=1e-6)
    assert read_provenance(path).binaries[0].origin == "given"


def test_the_in_memory_database_has_the_same_meaning(ten):
    fits, _ = ten
    db = to_database({"AL-CU": fits["AL-CU"]}, solids=False)
    x = np.array([0.2, 0.7])
    res = calculate(db, ["AL", "CU"], "LIQUID", T=1500.0, P=101325, N=1, output="HM_MIX",
                    points=np.column_stack([1 - x, x]))
    assert np.asarray(res.HM_MIX).ravel() == pytest.approx(fits["AL-CU"].evaluate(x), abs=1e-6)
    assert abs(fits["AL-CU"].fit.coefficients[1]) > 1000.0  # an odd term that would show a flip


def test_kaptay_model_keeps_the_enthalpy_and_scales_the_gibbs_energy(tmp_path):
    fits = fit_binaries(["CU", "ZR"], predictor=MiedemaDouble(), progress=False)
    path = write_tdb(fits, tmp_path / "k.tdb", temperature_model=kaptay(2500.0), solids=False)
    assert "tau = 2500 K" in read_provenance(path).temperature_model
    hm = harvest_tdb(path, x=[0.3, 0.5]).observations["HM_MIX_J"].to_numpy()
    assert hm == pytest.approx(fits["CU-ZR"].evaluate([0.3, 0.5]), abs=1e-6)
    db = Database(str(path))
    assert set(db.phases) == {"LIQUID"}
    T = 1250.0
    gm = calculate(db, ["CU", "ZR"], "LIQUID", T=T, P=101325, N=1, output="GM_MIX", points=np.array([[0.5, 0.5]]))
    L0 = fits["CU-ZR"].fit.coefficients[0]
    assert float(np.asarray(gm.GM_MIX).ravel()[0]) == pytest.approx(0.25 * L0 * 0.5 + R * T * math.log(0.5), abs=1e-3)


def test_existing_output_is_never_replaced_without_force(tmp_path, ten):
    fits, _ = ten
    small = {k: fits[k] for k in ("AL-CU",)}
    path = write_tdb(small, tmp_path / "out.tdb", solids=False)
    before = path.read_text()
    with pytest.raises(OutputExistsError, match="--force"):
        write_tdb(small, path)
    assert path.read_text() == before
    write_tdb({k: fits[k] for k in ("AL-NI",)}, path, force=True, solids=False)
    assert read_provenance(path).binaries[0].system == "AL-NI"


def test_a_failed_check_leaves_nothing_behind(tmp_path, monkeypatch, ten):
    fits, _ = ten

    def broken(*args, **kwargs):
        raise TDBError("re-read differs")

    monkeypatch.setattr(tdb, "_verify_written", broken)
    with pytest.raises(TDBError):
        write_tdb({"AL-CU": fits["AL-CU"]}, tmp_path / "x.tdb")
    assert list(tmp_path.iterdir()) == []


def test_verification_catches_a_lost_header(tmp_path, monkeypatch, ten):
    fits, _ = ten
    monkeypatch.setattr(tdb.Provenance, "text", lambda self, newline="\n": "")
    with pytest.raises(TDBError, match="provenance header"):
        write_tdb({"AL-CU": fits["AL-CU"]}, tmp_path / "x.tdb")
    assert not (tmp_path / "x.tdb").exists()


def test_a_database_can_be_written_as_is(tmp_path, ten):
    fits, _ = ten
    db = to_database({"AL-CU": fits["AL-CU"]}, solids="none")
    path = write_tdb(db, tmp_path / "db.tdb", notes=["hand-made"])
    prov = read_provenance(path)
    assert prov.model == "unknown" and prov.notes == ("hand-made",) and prov.binaries == ()
    assert harvest_tdb(path, x=[0.5]).observations["HM_MIX_J"].iloc[0] == pytest.approx(
        fits["AL-CU"].evaluate([0.5])[0], abs=1e-6)


def test_unknown_elements_and_bad_fits():
    with pytest.raises(UnknownElementError):
        to_database({}, elements=["AL", "XX"])
    with pytest.raises(TDBError, match="no elements"):
        to_database({})
    with pytest.raises(TDBError, match="expected BinaryFit or RKFit"):
        to_database({"AL-CU": [1, 2]})


def test_provenance_wrapping_round_trips():
    long = "x" * 200 + " and words " * 20
    prov = tdb.Provenance(mixcalphad_version="0.1", created="now", model="m " + long, temperature_model="t",
                          fit="f", data_sources=(long,), notes=("ΔH σ τ",),
                          binaries=(tdb.BinaryRecord("AL-CU", "aimd+predicted", 123.456, 2, 0.04, 20,
                                                     ("a.tdb", "b; c")),))
    lines = prov.lines()
    assert all(len(line) <= 78 for line in lines)
    back = read_provenance("\n".join(["ELEMENT CU FCC_A1 63.5 0 0 !", *lines, ""]))
    assert back == prov
    assert back.binaries[0].sigma_J == 123.5 and back.binaries[0].sources == ("a.tdb", "b, c")
    assert back.notes == ("dH sigma tau",)
    with pytest.raises(TDBError, match="not closed"):
        read_provenance("\n".join(lines[:-1]) + "\n")
    assert read_provenance("$ nothing here\nELEMENT CU FCC_A1 1 0 0 !\n") is None


# ------------------------------------------------------------------ filling a user's TDB (acceptance)
def _gm(db, comps, phase, T=(900.0, 1500.0, 2500.0)):
    res = calculate(db, comps, phase, T=list(T), P=101325, N=1, output="GM", pdens=50)
    return np.asarray(res.GM)


@pytest.fixture(scope="module")
def filled_cumg(tmp_path_factory):
    plan = fill_plan(CUMG, ["ag"])
    fits = fit_binaries(plan.to_add, predictor=MiedemaDouble(), progress=False)
    out = tmp_path_factory.mktemp("fill") / "filled.tdb"
    report = merge_into_tdb(CUMG, fits, out, elements=["AG"])
    return plan, fits, report, out


def test_fill_cumg_with_ag(filled_cumg):
    plan, fits, report, out = filled_cumg
    assert plan.liquid_elements == ("CU", "MG") and plan.new_elements == ("AG",)
    assert plan.existing == ("CU-MG",) and plan.to_add == ("AG-CU", "AG-MG")
    assert [b.system for b in report.added] == ["AG-CU", "AG-MG"]
    assert {b.origin for b in report.added} == {"predicted"}
    old, new = Database(str(CUMG)), Database(str(out))
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
    assert set(kinds) <= {"insert", "replace"} and kinds.count("replace") == 1
    (_, i1, i2, j1, j2), = [op for op in changes if op[0] == "replace"]
    assert old.splitlines()[i1:i2] == ["  CONSTITUENT LIQUID:L :CU,MG :  !"]
    assert new.splitlines()[j1:j2] == ["  CONSTITUENT LIQUID:L :CU,MG,AG :  !"]
    assert new.index(" ELEMENT AG") < new.index("CONSTITUENT LIQUID")
    blocks = read_provenance_blocks(out)
    assert len(blocks) == 1 and [b.system for b in blocks[0].binaries] == ["AG-CU", "AG-MG"]


def test_fill_renumbers_vv_symbols_and_skips_what_exists(tmp_path):
    user = DATA / "tdb_user_vv.tdb"
    plan = fill_plan(user, ["AL"])
    assert plan.existing == ("CU-FE", "CU-NI")  # old-style G(LIQUID,CU,FE;0) counts
    assert plan.to_add == ("AL-CU", "AL-FE", "AL-NI", "FE-NI")
    fits = fit_binaries(plan.to_add + ("CU-NI",), predictor=MiedemaDouble(), progress=False)
    report = merge_into_tdb(user, fits, tmp_path / "filled.tdb", elements=["AL"])
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
    merge_into_tdb(user, fits, out)
    data = out.read_bytes()
    assert data.count(b"\n") == data.count(b"\r\n")
    Database(str(out))
    with pytest.raises(OutputExistsError):
        merge_into_tdb(user, fits, out)
    merge_into_tdb(user, fits, user, force=True)  # in place, on purpose
    assert fill_plan(user).to_add == ()


@pytest.mark.parametrize("name, message", [
    ("tdb_ionic_liquid.tdb", "2 sublattices"),
    ("tdb_associate_liquid.tdb", "associates"),
    ("tdb_no_liquid.tdb", "no phase named LIQUID"),
])
def test_fill_refuses_liquids_it_cannot_extend(tmp_path, name, message):
    with pytest.raises(TDBError, match=message) as exc:
        merge_into_tdb(DATA / name, {}, tmp_path / "out.tdb", elements=["AG"])
    assert name in str(exc.value)
    assert not (tmp_path / "out.tdb").exists()


def test_fill_plan_skips_unsupported_elements():
    plan = fill_plan(DATA / "tdb_user_vv.tdb", supported=["CU", "NI"])
    assert plan.to_add == () and plan.skipped == (("FE-NI", "FE not in mixcalphad's supported element set"),)
    with pytest.raises(UnknownElementError):
        fill_plan(DATA / "tdb_user_vv.tdb", ["QQ"])


# ------------------------------------------------------------------ command line
def run_cli(argv):
    from mixcalphad.cli import calphad

    parser = argparse.ArgumentParser(prog="mixcalphad")
    calphad.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except MixcalphadError as exc:
        print(f"error: {exc}")
        return 2


@pytest.fixture
def default_double(monkeypatch):
    monkeypatch.setattr(rk, "load_default_predictor", lambda: MiedemaDouble())


def test_cli_write_tdb(tmp_path, capsys, default_double):
    out = tmp_path / "alcuni.tdb"
    assert run_cli(["write-tdb", "--elements", "al", "Cu", "NI", "-o", str(out), "--no-store", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["binaries"] == 3 and result["origins"] == {"predicted": 3}
    prov = read_provenance(out)
    assert "command: mixcalphad write-tdb --elements AL CU NI --no-store" in prov.notes
    assert run_cli(["write-tdb", "--elements", "AL", "CU", "-o", str(out), "--no-store"]) == 2
    assert "exists" in capsys.readouterr().out
    assert run_cli(["write-tdb", "--elements", "AL", "CU", "-o", str(out), "--no-store", "--force",
                    "--temperature-model", "kaptay", "--tau", "2800"]) == 0
    assert "tau = 2800 K" in read_provenance(out).temperature_model
    assert run_cli(["write-tdb", "--elements", "AL", "CU", "-o", str(out), "--no-store", "--force",
                    "--solids", "pure"]) == 0
    assert set(Database(str(out)).phases) == {"LIQUID", "FCC_A1_AL", "FCC_A1_CU"}
    assert any(n.startswith("solids: SGTE solid stable below Tm of each element as its own")
               for n in read_provenance(out).notes)
    assert run_cli(["write-tdb", "--elements", "AL", "-o", str(tmp_path / "x.tdb"), "--no-store"]) == 2
    assert run_cli(["write-tdb", "--all", "--elements", "AL", "CU", "-o", str(tmp_path / "x.tdb")]) == 2
    assert run_cli(["write-tdb", "--elements", "AL", "CU", "--tau", "9", "-o", str(tmp_path / "x.tdb")]) == 2


def test_cli_write_tdb_uses_store_observations(tmp_path, capsys, store):
    x = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    store.add_observations(pd.DataFrame({
        "system": "CU-NI", "x_B": x, "T_K": 1873.0, "HM_MIX_J": rk.rk_excess(x, [10000.0]), "sigma_J": np.nan,
        "kind": "assessed", "source": "cuni.tdb", "reference": "test", "collection": "test"}))
    out = tmp_path / "cuni.tdb"
    assert run_cli(["write-tdb", "--elements", "CU", "NI", "-o", str(out), "--store", str(store.path),
                    "--no-model"]) == 0
    rec = read_provenance(out).binaries[0]
    assert (rec.origin, rec.sigma_J, rec.sources) == ("assessed", 2000.0, ("cuni.tdb",))


def test_cli_fill_with_report(tmp_path, capsys, default_double):
    out, report = tmp_path / "filled.tdb", tmp_path / "report.csv"
    argv = ["fill", str(CUMG), "--elements", "AG", "-o", str(out), "--report", str(report), "--no-store"]
    assert run_cli(argv) == 0
    text = capsys.readouterr().out
    assert "2 binaries added" in text and "AG-CU" in text
    table = pd.read_csv(report)
    assert list(table["system"]) == ["AG-CU", "AG-MG"] and set(table["status"]) == {"added"}
    assert run_cli(argv) == 2  # both outputs exist
    assert "exists" in capsys.readouterr().out
    assert run_cli(argv + ["--force", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["new_elements"] == ["AG"]
    assert run_cli(["fill", str(DATA / "tdb_ionic_liquid.tdb"), "-o", str(tmp_path / "i.tdb"), "--no-store"]) == 2


# ------------------------------------------------------------------ the shipped database
SHIPPED = sorted((Path(__file__).resolve().parents[1] / "tdb").glob("*.tdb"))


@pytest.mark.skipif(not SHIPPED, reason="no TDB shipped under tdb/ yet")
@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_tdb_loads_and_matches_fresh_predictions(path):
    prov = read_provenance(path)
    assert prov is not None, f"{path.name} has no mixcalphad provenance header"
    db = Database(str(path))
    records = {b.system: b for b in prov.binaries}
    assert len(records) >= 1 and "LIQUID" in db.phases
    try:
        model = rk.load_default_predictor()
    except MixcalphadError as exc:
        pytest.skip(f"default model unavailable: {exc}")
    label = rk.predictor_label(model)
    assert label in prov.model, (f"{path.name} was made with {prov.model}, the default model is {label}: "
                                 "regenerate it (see tdb/README.md)")
    predicted = sorted(name for name, rec in records.items() if rec.origin == "predicted")
    # a few spread-out binaries: each calculate() on the full 70-element file takes seconds
    sample = [predicted[i] for i in np.linspace(0, len(predicted) - 1, min(4, len(predicted))).astype(int)]
    x = np.asarray(rk.PREDICTION_GRID)
    for name in sample:
        a, b = name.split("-")
        mean, _ = model.predict(a, b, x, return_std=True)
        res = calculate(db, [a, b], "LIQUID", T=1873.0, P=101325, N=1, output="HM_MIX",
                        points=np.column_stack([1 - x, x]))
        hm = np.asarray(res.HM_MIX).ravel()
        assert np.sqrt(np.mean((hm - mean) ** 2)) <= records[name].rms_J + 1.0, name
