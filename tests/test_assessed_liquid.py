"""Assessments carried whole: L_n(T) kept from the TDB, stored, and written back unchanged."""
import math
from pathlib import Path

import numpy as np
import pycalphad
import pytest
from pycalphad import Database, calculate

from mixcalphad.calphad.binary_fit import fit_binaries
from mixcalphad.calphad.fill_solids import plan_solids
from mixcalphad.calphad.provenance import read_provenance
from mixcalphad.calphad.tdb_write import write_tdb
from mixcalphad.data.assessed_liquid import AssessedLiquid, extract_assessed_liquid
from mixcalphad.data.corpus import build_dataset, build_store
from mixcalphad.data.harvest import harvest_tdb
from mixcalphad.data.store import Store
from mixcalphad.data.tdb_read import read_database
from mixcalphad.errors import TDBError

from calphad_common import CUMG, calphad_io_problems
from helpers import run_cli

DATABASES = Path(pycalphad.__file__).parent / "tests" / "databases"
CRFE = DATABASES / "CrFeNb_Jacob2016.tdb"

# A liquid whose interactions use FUNCTIONs, two temperature ranges that end at 3000 K, and a
# pressure-dependent term: every case the extraction must handle or refuse.
SYNTHETIC = """
ELEMENT VA VACUUM 0 0 0 !
ELEMENT AL FCC_A1 26.98 4577.3 28.322 !
ELEMENT CU FCC_A1 63.546 5004.1 33.15 !
ELEMENT NI FCC_A1 58.69 4787.0 29.796 !
FUNCTION GA 298.15 -1000+2*T; 1000 Y -1500+2.5*T; 3000 N !
FUNCTION GB 298.15 -20000; 6000 N !
PHASE LIQUID % 1 1 !
CONSTITUENT LIQUID :AL,CU,NI: !
PARAMETER G(LIQUID,AL;0) 298.15 -100*T; 6000 N !
PARAMETER G(LIQUID,CU;0) 298.15 -110*T; 6000 N !
PARAMETER G(LIQUID,NI;0) 298.15 -120*T; 6000 N !
PARAMETER L(LIQUID,AL,CU;0) 298.15 GB+GA+3*T*LN(T); 3000 N !
PARAMETER L(LIQUID,AL,CU;1) 298.15 5000; 3000 N !
PARAMETER L(LIQUID,CU,NI;0) 298.15 1000+1E-5*P; 6000 N !
"""


def test_extraction_inlines_functions_and_merges_ranges():
    db = read_database(SYNTHETIC, label="synthetic")
    liquid = extract_assessed_liquid(db, "LIQUID", ("CU", "AL"), source="s.tdb", reference="r", checksum="sha256:x")
    assert liquid.system == "AL-CU" and liquid.order == 1
    (n0, pieces0), (n1, pieces1) = liquid.terms
    assert (n0, [(lo, hi) for lo, hi, _ in pieces0]) == (0, [(298.15, 1000.0), (1000.0, 3000.0)])
    assert (n1, [(lo, hi) for lo, hi, _ in pieces1]) == (1, [(298.15, 3000.0)])
    # closed form: L0 = -21000 + 2T + 3 T ln T below 1000 K, -21500 + 2.5T + 3 T ln T above
    for T, a, b in ((500.0, -21000.0, 2.0), (2000.0, -21500.0, 2.5)):
        assert liquid.coefficients(T) == pytest.approx([a + b * T + 3 * T * np.log(T), 5000.0])
    # the last range is carried to 6000 K when written, like the unaries
    assert liquid.coefficients(4000.0)[1] == pytest.approx(5000.0)
    assert AssessedLiquid.from_record(liquid.to_record()) == liquid
    with pytest.raises(TDBError, match="depends on P"):
        extract_assessed_liquid(db, "LIQUID", ("CU", "NI"), source="s.tdb", reference="r", checksum="sha256:x")


def test_harvested_enthalpy_follows_from_the_kept_parameters():
    """H = G − T dG/dT of the kept L_n(T) reproduces pycalphad's HM_MIX of the source file."""
    result = harvest_tdb(DATABASES / "COST507.tdb")
    kept = {liquid.system: liquid for liquid in result.liquids}
    assert len(kept) == result.observations["system"].nunique()
    for name in ("AL-CU", "CU-MG", "AL-SI"):
        rows = result.observations[result.observations["system"] == name]
        x, T = rows["x_B"].to_numpy(), 1873.0
        g = lambda t: kept[name].excess_gibbs(x, t)  # noqa: E731
        assert g(T) - T * (g(T + 0.5) - g(T - 0.5)) == pytest.approx(rows["HM_MIX_J"].to_numpy(), abs=0.05)


@pytest.fixture(scope="module")
def crfe_store(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("store") / "store.json")
    build = build_dataset([CRFE], default_corpus=False, extra_table=False, aimd=False, progress=False)
    assert [x.system for x in build.assessed_liquids] == ["CR-FE", "CR-NB", "FE-NB"]
    build_store(store, build)
    again = store.add_assessed_liquids(build.assessed_liquids)  # idempotent
    assert (again.added, again.unchanged) == (0, 3)
    return store


def _gm_mix(path, T=1873.0):
    res = calculate(Database(str(path)), ["CR", "FE"], "LIQUID", T=T, P=101325, points=[[0.5, 0.5]], output="GM_MIX")
    return float(np.asarray(res.GM_MIX).ravel()[0])


def test_write_tdb_carries_the_assessment_whole(crfe_store, tmp_path):
    """CR–FE at 1873 K: G_mix as assessed (−11.5 kJ/mol), not the enthalpy-only refit (−15.2 kJ/mol)."""
    observations, kept = crfe_store.observations(), crfe_store.assessed_liquids()
    whole = fit_binaries(["CR", "FE"], observations=observations, assessed_liquids=kept)["CR-FE"]
    refit = fit_binaries(["CR", "FE"], observations=observations, temperature_model="enthalpy")["CR-FE"]
    learned = fit_binaries(["CR", "FE"], observations=observations)["CR-FE"]  # the default: learned S_ex
    assert whole.origin == "assessed-whole" and whole.assessed.source == CRFE.name and refit.assessed is None
    path_whole = write_tdb({"CR-FE": whole}, tmp_path / "whole.tdb")
    path_refit = write_tdb({"CR-FE": refit}, tmp_path / "refit.tdb")
    path_learned = write_tdb({"CR-FE": learned}, tmp_path / "learned.tdb")
    assessed = _gm_mix(CRFE)
    assert assessed == pytest.approx(-11484.0, abs=5.0)
    assert _gm_mix(path_whole) == pytest.approx(assessed, abs=1e-6)
    assert _gm_mix(path_refit) == pytest.approx(-15230.0, abs=50.0)
    # the same enthalpies with the learned excess entropy: G_mix = H (1 - κT) + RT Σ x ln x, between
    # the enthalpy-only refit and the assessment
    kappa = learned.temperature_model.kappa
    expected = float(learned.evaluate([0.5])[0]) * (1 - kappa * 1873.0) + 8.3145 * 1873.0 * math.log(0.5)
    assert _gm_mix(path_learned) == pytest.approx(expected, abs=1e-3)  # pycalphad's R = 8.3145
    assert -15230.0 + 1000.0 < _gm_mix(path_learned) < assessed
    record = read_provenance(path_whole).binaries[0]
    assert (record.origin, record.order, record.symbols) == ("assessed-whole", 1, ())
    assert CRFE.name in record.sources[0]
    text = path_whole.read_text()
    assert "PARAMETER L(LIQUID,CR,FE;0) 298.15 -17737.0+7.996546*T; 10000.0 N MC0001 !" in text
    assert "CrFeNb_Jacob2016.tdb" in text.split("LIST_OF_REFERENCES")[1]
    assert calphad_io_problems(path_whole) == []


def test_cli_write_tdb_from_the_store_and_refit_option(crfe_store, tmp_path):
    out = tmp_path / "crfe.tdb"
    assert run_cli(["write-tdb", "--store", str(crfe_store.path), "--elements", "CR", "FE", "-o", str(out),
                    "--no-model"]) == 0
    assert _gm_mix(out) == pytest.approx(_gm_mix(CRFE), abs=1e-6)
    refit = tmp_path / "refit.tdb"
    assert run_cli(["write-tdb", "--store", str(crfe_store.path), "--elements", "CR", "FE", "-o", str(refit),
                    "--no-model", "--refit-assessed"]) == 0
    assert read_provenance(refit).binaries[0].origin == "assessed"
    # the refit of the same enthalpies with the learned entropy (default): -13.5 kJ/mol against the
    # assessed -11.5 (enthalpy-only: -15.2, see above)
    assert _gm_mix(refit) == pytest.approx(-13496.0, abs=50.0)


def test_fill_solids_plan():
    """An element whose structure the file has joins it; a file phase that cannot take it gives P_X."""
    db = read_database(CUMG)
    plan = {(s.element, s.phase, s.action) for s in plan_solids(db, ["AG", "W", "ZN"])}
    assert ("AG", "FCC_A1", "extend") in plan           # FCC_A1 (CU,MG : VA)
    assert ("W", "BCC_A2", "new") in plan               # cumg.tdb has no BCC_A2
    assert ("ZN", "HCP_ZN", "new") in plan or ("ZN", "HCP_A3", "extend") in plan
    alcocrni = read_database(DATABASES / "alcocrni.tdb")
    fe = [s for s in plan_solids(alcocrni, ["FE"]) if s.structure == "BCC_A2"]
    assert fe and fe[0].phase == "BCC_A2_FE" and "order-disorder" in fe[0].reason
