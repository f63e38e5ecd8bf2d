"""The provenance block: written, wrapped, read back."""
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
from mixcalphad.calphad.tdb_write import write_tdb
from mixcalphad.calphad.unary import ghser_name, unary
from mixcalphad.chem.elements import element_table
from mixcalphad.chem.miedema import miedema_hmix
from mixcalphad.data.harvest import harvest_tdb
from mixcalphad.errors import MixcalphadError, OutputExistsError, TDBError, UnknownElementError

from calphad_common import (CUMG, DATA, GRID, R, TEN, calphad_io_problems, default_double, g_value,  # noqa: F401
                            ten, ten_db)
from conftest import MiedemaDouble


def test_provenance_header_survives_and_reads_back(ten):
    fits, path = ten
    text = path.read_text(encoding="ascii")
    prov = read_provenance(path)
    assert prov.mixcalphad_version == __import__("mixcalphad").__version__
    assert prov.model == "MiedemaDouble miedema-double-1"
    assert prov.temperature_model.startswith("per binary: L_n = a_n + b_n*T, b_n = -kappa*a_n")
    assert f"excess entropy (learned, form class): {len(fits)}" in prov.temperature_model
    for record in prov.binaries:  # each binary's kappa as fitted, and its sigma of S_ex
        tm = fits[record.system].temperature_model
        assert record.kappa_per_K == pytest.approx(tm.kappa, rel=1e-5)
        assert record.sigma_S_J_K == pytest.approx(tm.sigma_S_J_K, rel=2e-3)
    assert [b.system for b in prov.binaries] == sorted(fits)
    first = prov.binaries[0]
    assert first.origin == "predicted" and first.sigma_J == 4000.0 and first.n_points == 19
    assert first.sources == ("model:MiedemaDouble miedema-double-1",)
    assert first.rms_J == round(fits[first.system].fit.rms_J, 1)
    assert prov.data_sources == ("model:MiedemaDouble miedema-double-1 (45 binaries)",)
    assert text.index("mixcalphad provenance") < text.index("ELEMENT")
    df = prov.to_dataframe()
    block = text[:text.index("end of mixcalphad provenance")].splitlines()
    assert all(len(line) <= 78 for line in block)
    # DATABASE_INFO, a reference on every PARAMETER, and the list of references
    assert " DATABASE_INFO 'mixcalphad" in text and "solids, where present, are IDEAL" in text
    statements = re.findall(r"PARAMETER[^!]*!", text)
    assert statements and all(re.search(r" N (SGTE91|MC\d{4}) !$", st) for st in statements)
    refs = dict(re.findall(r"^   (\w+)  '([^']*)'$", text.split("LIST_OF_REFERENCES")[1], re.MULTILINE))
    for b in prov.binaries:
        key = next(k for k, v in refs.items() if v.startswith(f"mixcalphad {b.system} LIQUID"))
        assert f"sigma {b.sigma_J:.0f} J/mol" in refs[key]
        assert re.search(rf"L\(LIQUID,{b.system.replace('-', ',')};\d\)[^!]* N {key} !", text)
    # the table binary -> symbols -> origin -> sigma
    assert list(df.columns[:4]) == ["system", "symbols", "origin", "sigma_J"]
    written = re.findall(r"L\(LIQUID,AL,CU;\d\) 298.15 T\*(VV\d{4})\+(VV\d{4})", text)  # a_n + b_n*T
    assert df.set_index("system").loc["AL-CU", "symbols"].split() == [s for b, a in written for s in (a, b)]
    assert len(prov.to_dataframe()) == 45 and set(prov.to_dataframe()["origin"]) == {"predicted"}
    assert Provenance.from_dict(json.loads(json.dumps(prov.to_dict()))) == prov

def test_provenance_wrapping_round_trips():
    long = "x" * 200 + " and words " * 20
    prov = Provenance(mixcalphad_version="0.1", created="now", model="m " + long, temperature_model="t",
                          fit="f", data_sources=(long,), notes=("ΔH σ τ",),
                          binaries=(BinaryRecord("AL-CU", "aimd+predicted", 123.456, 2, 0.04, 20,
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


def test_sources_with_tdb_statement_characters_are_written_readably(tmp_path):
    """A source inside an archive (``x.tar.gz!tdbs/a.tdb``, as in assessed_hmix_extra3) must not end
    the LIST_OF_REFERENCES statement: pycalphad reads the file back."""
    from mixcalphad.calphad.binary_fit import BinaryFit
    from mixcalphad.calphad.redlich_kister import RKFit

    fit = BinaryFit(system="AL-CA", fit=RKFit((-30000.0,), ((0.0,),), 0.0, 0.0, 0, 9), origin="assessed",
                    sigma_J=2000.0, sources=("owner/repo:contrib.tar.gz!tdbs/AlCa-x's.tdb@abc $1",))
    path = write_tdb({"AL-CA": fit}, tmp_path / "archive.tdb", solids=False)
    Database(str(path))
    text = path.read_text()
    assert "contrib.tar.gz/tdbs/AlCa-xs.tdb@abc 1" in text.split("LIST_OF_REFERENCES")[1]
