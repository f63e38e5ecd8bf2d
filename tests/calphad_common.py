"""Shared fixtures and helpers of the Calphad-layer tests (test_database, test_tdb_write, …)."""
from pathlib import Path

import numpy as np
import pycalphad
import pytest
import symengine as se
from pycalphad import Database, Model
from pycalphad import variables as v

from mixcalphad.calphad.binary_fit import fit_binaries
from mixcalphad.calphad.tdb_write import write_tdb

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


def g_value(db, phase, el, T):
    """G (J/mol) of the pure-element parameter G(phase,el;0) of ``db`` at ``T``, FUNCTIONs resolved."""
    params = db.search(lambda p: p["phase_name"] == phase and p["parameter_type"] == "G"
                       and [s.name for s in p["constituent_array"][0]] == [el])
    expr = Model.symbol_replace(params[0]["parameter"], {se.Symbol(k): e for k, e in db.symbols.items()})
    return float(se.sympify(expr).subs({v.T: T}))


@pytest.fixture
def default_double(monkeypatch):
    from mixcalphad.calphad import binary_fit

    monkeypatch.setattr(binary_fit, "load_default_predictor", lambda: MiedemaDouble())



def calphad_io_problems(path):
    """Errors and warnings of the independent validator ``calphad-io`` (PyPI) on a TDB file, as
    ``["SEVERITY code: message", …]`` (info-level findings are left out)."""
    import calphad_io

    findings = calphad_io.validate(calphad_io.load(str(path)))
    return [f"{f.severity} {f.code} [{f.location}]: {f.message}" for f in findings
            if str(getattr(f.severity, "value", f.severity)).lower() in ("error", "warning")]
