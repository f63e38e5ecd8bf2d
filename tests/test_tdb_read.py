"""Tests of mixcalphad.data.tdb_read: the one TDB reader and the one usable-liquid rule."""
from pathlib import Path

import pytest

from mixcalphad.data.tdb_read import (checksum, interaction_pairs, liquid_elements, liquid_phases, liquid_problem,
                                      read_database)
from mixcalphad.errors import TDBError

DATA = Path(__file__).parent / "data"
BASE = """ELEMENT VA VACUUM 0 0 0 !
ELEMENT AL FCC_A1 26.982 4577.3 28.322 !
ELEMENT CU FCC_A1 63.546 5004.1 33.15 !
ELEMENT ZN HCP_A3 65.38 5657 41.63 !
"""
SUBSTITUTIONAL = BASE + """PHASE LIQUID % 1 1.0 !
CONSTITUENT LIQUID :AL,CU,ZN,VA: !
PARAMETER G(LIQUID,AL;0) 298.15 +11005.0-11.8*T; 6000 N !
PARAMETER L(LIQUID,AL,CU;0) 298.15 -40000; 6000 N !
PARAMETER G(LIQUID,CU,ZN;0) 298.15 -20000; 6000 N !
PARAMETER L(LIQUID,AL,VA;0) 298.15 +1000; 6000 N !
PARAMETER L(LIQUID,AL,CU,ZN;0) 298.15 -5000; 6000 N !
"""


def test_read_text_path_and_bytes_agree(tmp_path):
    path = tmp_path / "sub.tdb"
    path.write_bytes(SUBSTITUTIONAL.replace("\n", "\r\n").encode())  # Windows line ends
    for source in (SUBSTITUTIONAL, path, str(path), path.read_bytes()):
        db = read_database(source)
        assert {"AL", "CU", "ZN"} <= set(db.elements)
        assert interaction_pairs(db) == [("AL", "CU"), ("CU", "ZN")]  # ternary and VA left out
    assert read_database(db) is db
    assert checksum(b"x").startswith("sha256:") and len(checksum(b"x")) == 7 + 64


def test_read_errors_name_the_file(tmp_path):
    with pytest.raises(TDBError, match="missing.tdb: no such TDB file"):
        read_database(tmp_path / "missing.tdb")
    with pytest.raises(TDBError, match="my label: pycalphad cannot parse it") as info:
        read_database("PARAMETER G(LIQUID,AL;0) 298.15 +1 6000 N !\n\x1b[2J", label="my label")
    assert str(info.value).isprintable()


def test_a_file_that_is_not_tdb_is_named_with_its_line_not_echoed(tmp_path):
    """``liquidus /etc/passwd``: the error names the file, line and column, never the file's text."""
    passwd = tmp_path / "passwd"
    passwd.write_text("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:secret-token:/usr/sbin\n")
    with pytest.raises(TDBError) as info:
        read_database(passwd)
    assert str(info.value) == f"{passwd}: pycalphad cannot parse it: invalid TDB syntax at line 1, column 5"
    notes = tmp_path / "notes.tdb"
    notes.write_text(BASE + "$ a comment\n\nmy private notes\n")
    with pytest.raises(TDBError, match=r"notes.tdb: pycalphad cannot parse it: invalid TDB syntax at line 7, "
                                       r"column 3$"):
        read_database(notes)


def test_usable_liquid():
    db = read_database(SUBSTITUTIONAL)
    assert liquid_phases(db) == ["LIQUID"]
    assert liquid_problem(db) is None
    assert liquid_elements(db) == ["AL", "CU", "ZN"]


@pytest.mark.parametrize("source, reason", [
    (DATA / "harvest_ionic.tdb", "2 sublattices"),
    (DATA / "harvest_associate.tdb", "associates or molecular species (ALO)"),
    (BASE + "SPECIES CU+2 CU1/+2 !\nPHASE LIQUID % 1 1 !\nCONSTITUENT LIQUID :AL,CU+2: !\n", "charged species (CU+2)"),
    (BASE + "SPECIES AL2 AL2 !\nPHASE LIQUID % 1 1 !\nCONSTITUENT LIQUID :AL,AL2: !\n", "molecular species (AL2)"),
    (BASE + "PHASE FCC_A1 % 1 1 !\nCONSTITUENT FCC_A1 :AL,CU: !\n", "no phase named LIQUID"),
    (BASE + "PHASE LIQUID_X % 1 1 !\nCONSTITUENT LIQUID_X :AL,CU: !\n", "liquid-like phases: LIQUID_X"),
])
def test_unusable_liquids_give_a_reason(source, reason):
    db = read_database(source)
    problem = liquid_problem(db)
    assert problem is not None and reason in problem
    with pytest.raises(TDBError, match="LIQUID"):
        liquid_elements(db)


def test_other_liquid_phase_names():
    db = read_database(BASE + "PHASE LIQUID_X % 1 1 !\nCONSTITUENT LIQUID_X :AL,CU: !\n"
                       "PARAMETER L(LIQUID_X,AL,CU;0) 298.15 -1000; 6000 N !\n")
    assert liquid_phases(db) == ["LIQUID_X"]
    assert liquid_problem(db, "LIQUID_X") is None
    assert interaction_pairs(db, "LIQUID_X") == [("AL", "CU")]


def test_ionic_liquid_model_hint_is_refused():
    db = read_database(SUBSTITUTIONAL)
    db.phases["LIQUID"].model_hints["ionic_liquid_2SL"] = True
    assert "ionic liquid model" in liquid_problem(db)
