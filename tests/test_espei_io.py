"""ESPEI input written by mixcalphad, checked by running ESPEI itself (briefly)."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pycalphad
import pytest
import yaml
from pycalphad import Database, calculate
from pycalphad import variables as v

from mixcalphad.calphad import binary_fit as bf
from mixcalphad.errors import DatasetError, MixcalphadError, OutputExistsError
from mixcalphad.calphad.espei_io import (check_espei_datasets, export_espei, hm_mix_dataset, phase_models,
                                 run_espei_input, write_espei_datasets)
from mixcalphad.data.harvest import harvest_tdb
from mixcalphad.calphad.binary_fit import fit_binaries
from mixcalphad.calphad.database import interaction_symbols
from mixcalphad.calphad.tdb_write import write_tdb

from conftest import MiedemaDouble
from helpers import run_cli

CUMG = Path(pycalphad.__file__).parent / "tests" / "databases" / "cumg.tdb"


@pytest.fixture(scope="module")
def cumg_observations():
    """Assessed ΔH_mix of the Cu–Mg liquid of cumg.tdb (L0 = -36984, L1 = -8191.29 J/mol)."""
    return harvest_tdb(CUMG).observations.assign(collection="test")


# ------------------------------------------------------------------ datasets
def test_dataset_layout_and_weight():
    data = hm_mix_dataset("NI", "CU", [0.2, 0.6], [-1000.0, -2000.0], T_K=1873.0, sigma_J=2000.0,
                          reference="r")
    assert data["components"] == ["CU", "NI"]  # sorted
    # x of CU (the second element given) is 0.2 and 0.6: occupancies of (CU, NI) (0.2, 0.8), (0.6, 0.4)
    assert data["solver"]["sublattice_occupancies"] == [[[0.2, 0.8]], [[0.6, 0.4]]]
    assert data["solver"]["sublattice_configurations"] == [[["CU", "NI"]]] * 2
    assert data["values"] == [[[-1000.0, -2000.0]]]
    assert data["weight"] == pytest.approx(0.25)  # 500/σ
    flipped = hm_mix_dataset("CU", "NI", [0.2], [-1.0], T_K=1000.0, sigma_J=500.0, reference="r")
    assert flipped["solver"]["sublattice_occupancies"] == [[[0.8, 0.2]]] and flipped["weight"] == 1.0
    from espei.datasets import check_dataset

    check_dataset(data)
    with pytest.raises(DatasetError):
        hm_mix_dataset("CU", "NI", [0.0], [0.0], T_K=1000.0, sigma_J=1.0, reference="r")
    with pytest.raises(DatasetError):
        hm_mix_dataset("CU", "NI", [0.5], [0.0], T_K=1000.0, sigma_J=0.0, reference="r")


def test_a_curve_weighs_as_one_measurement_and_duplicated_rows_change_nothing(cumg_observations):
    from mixcalphad.calphad.espei_io import binary_datasets

    fit = bf.fit_binary("CU", "MG", predictor=MiedemaDouble(sigma=4000.0), observations=cumg_observations)
    datasets = binary_datasets(fit)
    assessed = [d for stem, d in datasets if "-assessed-" in stem]
    n = sum(len(d["solver"]["sublattice_occupancies"]) for d in assessed)
    assert n == (cumg_observations["x_B"].between(0, 1, inclusive="neither")).sum()
    # each point at σ·√n: the curve's weight is that of one measurement of 2000 J/mol
    assert all(d["weight"] == pytest.approx(500.0 / (2000.0 * np.sqrt(n))) for d in assessed)
    predicted = [d for stem, d in datasets if "-predicted-" in stem]
    sigma = np.concatenate([np.full(len(d["solver"]["sublattice_occupancies"]), 500.0 / d["weight"])
                            for d in predicted])
    # the predicted curve too (its bins' geometric-mean σ are within 12 % of each point's)
    assert np.sum(sigma ** -2.0) == pytest.approx(4000.0 ** -2.0, rel=0.15)
    doubled = bf.fit_binary("CU", "MG", predictor=MiedemaDouble(sigma=4000.0),
                            observations=pd.concat([cumg_observations, cumg_observations]))
    assert binary_datasets(doubled) == datasets
    assert doubled.fit.coefficients == fit.fit.coefficients


def test_datasets_pass_espei_checks(tmp_path, cumg_observations):
    aimd = pd.DataFrame({"system": "AL-CU", "x_B": [0.5], "T_K": 2000.0, "HM_MIX_J": [-15000.0],
                         "sigma_J": [np.nan], "kind": "aimd", "source": "run 1/2", "reference": "t",
                         "collection": "t"})
    obs = pd.concat([cumg_observations, aimd], ignore_index=True)
    fits = fit_binaries(["AL", "CU", "MG"], predictor=MiedemaDouble(slope=3.0), observations=obs, progress=False)
    paths = write_espei_datasets(fits, tmp_path / "datasets")
    names = sorted(p.name for p in paths)
    assert "CU-MG-assessed-cumg.tdb-1873K.json" in names
    assert "AL-CU-aimd-run_1_2-2000K.json" in names
    assert check_espei_datasets(tmp_path / "datasets") == []
    # σ of the prediction grows with x: several σ bins, each weighted 500/σ
    predicted = [json.loads(p.read_text()) for p in paths if p.name.startswith("AL-MG-predicted")]
    assert len(predicted) > 3
    for data in predicted:
        sigma = float(data["comment"].split("sigma = ")[1].split(" J/mol")[0])
        assert data["weight"] == pytest.approx(500.0 / sigma, rel=1e-3)
    assert sum(len(d["values"][0][0]) for d in predicted) == 19
    aimd_data = json.loads((tmp_path / "datasets" / "AL-CU-aimd-run_1_2-2000K.json").read_text())
    assert aimd_data["weight"] == pytest.approx(500.0 / bf.DEFAULT_SIGMA_J["aimd"])
    espei = Path(sys.executable).with_name("espei")
    if espei.exists():  # the command line users run
        done = subprocess.run([str(espei), "--check-datasets", str(tmp_path / "datasets")],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr


def test_a_broken_dataset_is_reported_by_the_checker(tmp_path):
    data = hm_mix_dataset("CU", "NI", [0.5], [-1.0], T_K=1000.0, sigma_J=500.0, reference="r")
    data["values"] = [[[-1.0, -2.0]]]  # two values for one configuration
    (tmp_path / "bad.json").write_text(json.dumps(data))
    assert check_espei_datasets(tmp_path) != []


def test_datasets_are_not_overwritten_without_force(tmp_path):
    fits = fit_binaries(["AL", "CU"], predictor=MiedemaDouble(), progress=False)
    folder = tmp_path / "d"
    write_espei_datasets(fits, folder)
    with pytest.raises(OutputExistsError):
        write_espei_datasets(fits, folder)
    stale = folder / "OLD-predicted-x-1873K.json"
    (ours,) = folder.glob("AL-CU-predicted-*.json")
    stale.write_text(ours.read_text())
    foreign = folder / "mine.json"
    foreign.write_text('{"comment": "my own dataset"}')
    write_espei_datasets(fits, folder, force=True)
    assert not stale.exists() and foreign.exists()


def test_phase_models():
    assert phase_models(["ni", "AL"]) == {"components": ["AL", "NI"], "phases": {
        "LIQUID": {"sublattice_model": [["AL", "NI"]], "sublattice_site_ratios": [1]}}}
    with pytest.raises(MixcalphadError):
        phase_models(["AL"])


# ------------------------------------------------------------------ ESPEI runs
def test_generate_parameters_reproduces_an_assessed_binary(tmp_path, cumg_observations):
    fits = fit_binaries([("CU", "MG")], observations=cumg_observations, progress=False)
    export = export_espei(fits, tmp_path / "espei", tdb=False)
    assert export.mcmc_yaml is None and export.tdb is None
    settings = yaml.safe_load(export.generate_yaml.read_text())
    assert settings["generate_parameters"] == {"excess_model": "linear", "ref_state": "SGTE91"}
    db = run_espei_input(export.generate_yaml)
    x = np.linspace(0.1, 0.9, 9)
    res = calculate(db, ["CU", "MG"], "LIQUID", T=1873.0, P=101325, N=1, output="HM_MIX",
                    points=np.column_stack([1 - x, x]))
    assessed = x * (1 - x) * (-36984.0 - 8191.29 * (1 - 2 * x))
    assert np.asarray(res.HM_MIX).ravel() == pytest.approx(assessed, abs=1.0)
    assert (tmp_path / "espei" / "espei-generated.tdb").exists()


def test_mcmc_starts_from_our_tdb_and_refines_vv_symbols(tmp_path, cumg_observations):
    # data: the assessed Cu–Mg curve; start: a TDB from predictions only, so there is room to move
    data_fits = fit_binaries([("CU", "MG")], observations=cumg_observations, progress=False)
    export = export_espei(data_fits, tmp_path / "espei", iterations=3)
    settings = yaml.safe_load(export.mcmc_yaml.read_text())
    assert settings["mcmc"]["input_db"] == "mixcalphad-liquid.tdb"
    # a0, b0, a1, b1: the learned excess entropy gives every order a T term that ESPEI refines
    assert settings["mcmc"]["symbols"] == list(export.symbols) == ["VV0000", "VV0001", "VV0002", "VV0003"]
    start_fits = fit_binaries([("CU", "MG")], predictor=MiedemaDouble(), progress=False)
    write_tdb(start_fits, export.tdb, force=True)
    symbols = list(interaction_symbols(start_fits)["CU-MG"])
    start = Database(str(export.tdb))
    dbf, sampler = run_espei_input(export.mcmc_yaml, overrides={"mcmc": {"iterations": 3, "symbols": symbols}})
    trace = np.load(tmp_path / "espei" / "trace.npy")
    assert trace.shape == (2 * len(symbols), 3, len(symbols))
    start_values = np.array([float(start.symbols[s].args[0]) for s in symbols])
    assert np.abs(trace[:, 0, :] - start_values).max() <= 0.5 * np.abs(start_values).max()  # chains start there
    refined = np.array([float(dbf.symbols[s]) for s in symbols])
    assert np.any(np.abs(refined - start_values) > 1e-6 * np.abs(start_values))
    b_symbol = symbols[1]  # L0 = VV0000 + VV0001*T: the b of L0
    from tinydb import where

    L0 = start._parameters.search((where("parameter_type") == "L") & (where("parameter_order") == 0))
    assert "VV0000+T*VV0001" in str(L0[0]["parameter"]).replace(" ", "")
    assert abs(refined[1] - start_values[1]) > 1e-9 * abs(start_values[1]), f"{b_symbol} was not refined"
    lnprob = np.load(tmp_path / "espei" / "lnprob.npy")
    assert np.isfinite(lnprob).all()
    assert (tmp_path / "espei" / "espei-mcmc.tdb").exists()


def test_espei_input_files_validate_against_espei_schema(tmp_path):
    from espei.espei_script import get_run_settings

    fits = fit_binaries(["AL", "NI"], predictor=MiedemaDouble(), progress=False)
    export = export_espei(fits, tmp_path / "e")
    for path in (export.generate_yaml, export.mcmc_yaml):
        get_run_settings(yaml.safe_load(path.read_text()))
    assert json.loads(export.phase_models.read_text())["components"] == ["AL", "NI"]
    with pytest.raises(OutputExistsError):
        export_espei(fits, tmp_path / "e")
    export_espei(fits, tmp_path / "e", force=True)


def test_an_input_espei_refuses_is_not_written(tmp_path):
    from mixcalphad.errors import EspeiInputError

    fits = fit_binaries(["AL", "NI"], predictor=MiedemaDouble(), progress=False)
    with pytest.raises(EspeiInputError, match="ESPEI refuses these input settings: .*chains_per_parameter.*min value is 2"):
        export_espei(fits, tmp_path / "e", chains_per_parameter=-2)
    assert not (tmp_path / "e").exists()
    with pytest.raises(MixcalphadError, match="MCMC iterations = 1: use at least 2"):  # our own check comes first
        export_espei(fits, tmp_path / "e", iterations=1)
    assert not (tmp_path / "e").exists()


# ------------------------------------------------------------------ command line
def test_cli_espei_datasets(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(bf, "load_default_predictor", lambda: MiedemaDouble())
    out = tmp_path / "espei"
    assert run_cli(["espei-datasets", "--elements", "cu", "NI", "AL", "-o", str(out), "--no-store", "--json",
                    "--iterations", "50"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert len(result["datasets"]) == 3 and result["tdb"].endswith("mixcalphad-liquid.tdb")
    assert yaml.safe_load((out / "espei-mcmc.yaml").read_text())["mcmc"]["iterations"] == 50
    assert check_espei_datasets(out / "datasets") == []
    assert run_cli(["espei-datasets", "--elements", "CU", "NI", "-o", str(out), "--no-store"]) == 2
    assert "--force" in capsys.readouterr().err
    # one MCMC iteration would leave ESPEI 0.9 writing every refined parameter as 0
    one = tmp_path / "one"
    assert run_cli(["espei-datasets", "--elements", "CU", "NI", "-o", str(one), "--no-store", "--iterations", "1"]) == 2
    assert "MCMC iterations = 1: use at least 2" in capsys.readouterr().err and not one.exists()


def test_binaries_restrict_the_mcmc_symbols_and_a_seed_tdb_is_used(tmp_path):
    fits = fit_binaries(["AL", "CU", "NI"], predictor=MiedemaDouble(), progress=False)
    export = export_espei(fits, tmp_path / "e", binaries=["CU-NI"])
    settings = yaml.safe_load(export.mcmc_yaml.read_text())
    assert settings["mcmc"]["symbols"] == list(interaction_symbols(fits)["CU-NI"])
    assert all("CU-NI" in p.name for p in export.datasets)
    # seeded from an existing mixcalphad TDB: symbols from its provenance
    seed = write_tdb(fits, tmp_path / "seed.tdb")
    from mixcalphad.calphad.provenance import read_provenance

    export = export_espei(fits, tmp_path / "s", binaries=["AL-NI"], seed_tdb=seed)
    assert list(export.symbols) == list(read_provenance(seed).symbols_of(["AL-NI"]))
    assert export.tdb.read_text() == seed.read_text()
    with pytest.raises(MixcalphadError, match="AL-ZR"):
        export_espei(fits, tmp_path / "x", binaries=["AL-ZR"])


def test_mcmc_on_one_binary_of_the_shipped_tdb_runs_from_our_yaml(tmp_path):
    """The hand-off of tdb/README.md: datasets + MCMC YAML for AL-TC (a predicted binary, so its liquid
    is VV symbols) seeded from tdb/mixcalphad-liquid.tdb (2415 binaries), run by ESPEI for two
    iterations on only that binary's VV symbols (~50 s)."""
    from mixcalphad.calphad.espei_io import run_espei_input
    from mixcalphad.calphad.provenance import read_provenance
    from mixcalphad.cli import main
    from mixcalphad.data.store import Store

    shipped = Path(__file__).resolve().parents[1] / "tdb" / "mixcalphad-liquid.tdb"
    assert {b.system: b for b in read_provenance(shipped).binaries}["AL-TC"].origin == "predicted"
    store = Store(tmp_path / "store.json")  # a measured Al-Tc curve to refine against
    x = np.round(np.arange(0.1, 0.91, 0.1), 2)
    store.add_observations(pd.DataFrame({"system": "AL-TC", "x_B": x, "T_K": 1873.0,
                                         "HM_MIX_J": -80000.0 * x * (1 - x), "sigma_J": 1000.0, "kind": "user",
                                         "source": "synthetic", "reference": "test", "collection": "test"}))
    out = tmp_path / "espei-altc"
    assert main(["espei-datasets", "--store", str(store.path), "--binaries", "AL-TC", "--seed-tdb", str(shipped),
                 "-o", str(out), "--iterations", "2"]) == 0
    settings = yaml.safe_load((out / "espei-mcmc.yaml").read_text())
    symbols = list(read_provenance(shipped).symbols_of(["AL-TC"]))
    assert settings["mcmc"]["symbols"] == symbols and settings["mcmc"]["input_db"] == "mixcalphad-liquid.tdb"
    dbf, _ = run_espei_input(out / "espei-mcmc.yaml")
    trace = np.load(out / "trace.npy")
    assert trace.shape == (2 * len(symbols), 2, len(symbols)) and np.isfinite(np.load(out / "lnprob.npy")).all()
    start = Database(str(shipped))
    def value(expr) -> float:  # a FUNCTION read from a TDB is a Piecewise in T; ESPEI's refined ones are floats
        return float(expr.subs({v.T: 1000.0})) if hasattr(expr, "subs") else float(expr)

    assert all(np.isfinite(value(dbf.symbols[s])) for s in symbols)
    assert value(dbf.symbols["VV0000"]) == value(start.symbols["VV0000"])  # other binaries are not refined
