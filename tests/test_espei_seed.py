"""mixcalphad.workflow.espei_seed and ``mixcalphad espei-seed``: an ESPEI run seeded with our liquid.

The datasets are a small subset of the public Cu–Mg ESPEI datasets (PhasesResearchLab/ESPEI-datasets,
CC-BY-4.0): Sommer et al. 1983 liquid calorimetry (Table 1), Zhou et al. 2007 Laves HM_FORM (DFT),
Bagnoud & Feschotte 1978 Laves/liquid boundary (three points).
"""
from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from mixcalphad.errors import DatasetError, MixcalphadError, OutputExistsError, UnknownElementError
from mixcalphad.workflow import espei_seed as es

HMIX = {"components": ["CU", "MG"], "phases": ["LIQUID"], "output": "HM_MIX",
        "solver": {"mode": "manual", "sublattice_site_ratios": [1],
                   "sublattice_occupancies": [[[0.13, 0.87]], [[0.33, 0.67]], [[0.515, 0.485]]],
                   "sublattice_configurations": [[["CU", "MG"]]] * 3},
        "conditions": {"P": 101325, "T": 1125}, "values": [[[-3200, -7000, -8600]]],
        "reference": "sommer1983calorimetric_investigations"}
LAVES = {"components": ["CU", "MG", "VA"], "phases": ["LAVES_C15"], "output": "HM_FORM",
         "solver": {"mode": "manual", "sublattice_site_ratios": [2, 1],
                    "sublattice_configurations": [["CU", "MG"], ["MG", "CU"], ["MG", "MG"], ["CU", "CU"]]},
         "conditions": {"P": 101325, "T": 298.15}, "values": [[[-15720, 34720, 7000, 15500]]],
         "reference": "Zhou2007"}
LAVES_FEUFEL = {**LAVES, "solver": {**LAVES["solver"], "sublattice_configurations": [["CU", "MG"]]},
                "values": [[[-12700]]], "conditions": {"P": 101325, "T": 299}, "reference": "Feufel1995"}
LAVES_OTHER_RATIOS = {**LAVES, "solver": {**LAVES["solver"], "sublattice_site_ratios": [1, 2]},
                      "reference": "other-ratios"}
ZPF = {"components": ["CU", "MG", "VA"], "phases": ["LIQUID", "LAVES_C15"], "output": "ZPF",
       "conditions": {"P": 101325, "T": [1056.11423, 1069.057, 1049.95383]}, "broadcast_conditions": False,
       "values": [[["LIQUID", ["MG"], [0.29042]], ["LAVES_C15", ["MG"], [None]]],
                  [["LIQUID", ["MG"], [0.33098]], ["LAVES_C15", ["MG"], [None]]],
                  [["LIQUID", ["MG"], [0.36806]], ["LAVES_C15", ["MG"], [None]]]],
       "reference": "Bagnoud1978"}


class RegularSolution:
    """A predictor with ΔH = L x(1−x) and a constant σ (J/mol)."""

    version_ = "test"

    def __init__(self, L=-40000.0, sigma=5000.0):
        self.L, self.sigma = L, sigma

    def predict(self, a, b, x_B, return_std=True):
        x = np.asarray(x_B, dtype=float)
        return self.L * x * (1 - x), np.full(x.shape, self.sigma)


@pytest.fixture
def cumg(tmp_path):
    root = tmp_path / "datasets"
    for rel, data in {"liquid/CU-MG-HM_MIX-LIQUID.json": HMIX, "laves/CU-MG-HM_FORM-LAVES.json": LAVES,
                      "laves/CU-MG-HM_FORM-LAVES-Feufel.json": LAVES_FEUFEL,
                      "laves/CU-MG-HM_FORM-LAVES-other.json": LAVES_OTHER_RATIOS,
                      "zpf/CU-MG-ZPF-LAVES_C15-LIQUID.json": ZPF}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(json.dumps(data))
    (root / "ignored.json.disabled").write_text("{not json")
    return root


def test_phase_models_read_from_datasets(cumg):
    records = es.read_binary_datasets(cumg, "mg", "Cu")
    assert len(records) == 5
    models = es.infer_phase_models([d for _, d in records], "MG", "CU")
    assert models["components"] == ["CU", "MG", "VA"]
    # the site ratios most datasets use win; each sublattice holds what the data put there
    assert models["phases"]["LAVES_C15"] == {"sublattice_model": [["CU", "MG"], ["CU", "MG"]],
                                             "sublattice_site_ratios": [2, 1]}
    assert models["phases"]["LIQUID"] == {"sublattice_model": [["CU", "MG"]], "sublattice_site_ratios": [1]}


def test_phase_without_data_or_default_is_refused(cumg):
    sigma = {**ZPF, "phases": ["LIQUID", "SIGMA"], "values": [[["LIQUID", ["MG"], [0.3]], ["SIGMA", ["MG"], [None]]]],
             "conditions": {"P": 101325, "T": [1000.0]}}
    (cumg / "zpf" / "sigma.json").write_text(json.dumps(sigma))
    with pytest.raises(DatasetError, match="SIGMA"):
        es.infer_phase_models([d for _, d in es.read_binary_datasets(cumg, "CU", "MG")], "CU", "MG")


def test_predicted_datasets_weights_and_espei_check(tmp_path):
    from espei.datasets import check_dataset

    data = es.predicted_hmix_datasets("MG", "CU", RegularSolution(sigma=2500.0), weight=0.5, x_grid=[0.25, 0.5])
    assert [stem for stem, _ in data] == ["CU-MG-HM_MIX-LIQUID-mixcalphad-x0.25", "CU-MG-HM_MIX-LIQUID-mixcalphad-x0.50"]
    for _, d in data:
        check_dataset(d)
        assert d["weight"] == pytest.approx(0.5 * 500 / 2500.0)
    assert data[1][1]["values"][0][0][0] == pytest.approx(-10000.0)
    with pytest.raises(Exception, match="weight"):
        es.predicted_hmix_datasets("CU", "MG", RegularSolution(), weight=0.0)


def test_seed_writes_a_folder_espei_runs(cumg, tmp_path):
    from pycalphad import Database, calculate

    out = tmp_path / "run"
    result = es.seed_espei(cumg, "MG", "CU", out, predictor=RegularSolution(), exclude_liquid_calorimetry=True,
                           iterations=2)
    left = dict(result.left_out)
    assert left == {"liquid/CU-MG-HM_MIX-LIQUID.json": "liquid calorimetry excluded",
                    "laves/CU-MG-HM_FORM-LAVES-other.json": "site ratios differ from the phase model"}
    assert len(result.predicted) == len(es.X_GRID)
    assert (out / "datasets" / "liquid" / "zpf" / "CU-MG-ZPF-LAVES_C15-LIQUID.json").exists()
    assert (out / "datasets" / "other" / "laves" / "CU-MG-HM_FORM-LAVES.json").exists()
    assert result.symbols == ("VV0000", "VV0001", "VV0002")
    # the start: L0 = -40 kJ/mol from the regular solution, b0 = -kappa*a0 with the learned kappa of CU-MG
    from mixcalphad.model.entropy import load_default_entropy_model

    kappa = load_default_entropy_model().kappa("CU", "MG")
    assert kappa > 0
    assert result.start_values["VV0000"] == pytest.approx(-40000.0, rel=1e-6)
    assert result.start_values["VV0001"] == pytest.approx(40000.0 * kappa, rel=1e-6)
    db = Database(str(result.start_tdb))
    hm = calculate(db, ["CU", "MG"], "LIQUID", T=1500, P=101325, N=1, output="HM_MIX", points=[[0.5, 0.5]])
    assert float(hm.HM_MIX.squeeze()) == pytest.approx(-10000.0, abs=30.0)
    mcmc = yaml.safe_load(result.mcmc_yaml.read_text())
    assert mcmc["mcmc"]["symbols"] == list(result.symbols)
    assert mcmc["mcmc"]["input_db"] == es.GENERATED_TDB and mcmc["system"]["datasets"] == "datasets/liquid"
    gen = yaml.safe_load(result.generate_yaml.read_text())
    assert gen["generate_parameters"]["input_db"] == es.START_TDB

    run = es.run_seeded(out, iterations=2)
    generated = Database(str(run["generated"]))
    # ESPEI fitted the Laves phase and kept our liquid symbols
    from espei.utils import unpack_piecewise

    assert float(unpack_piecewise(generated.symbols["VV0000"])) == pytest.approx(-40000.0, rel=1e-6)
    assert any(p["phase_name"] == "LAVES_C15" and p["parameter_type"] == "G" for p in generated._parameters.all())
    trace, lnprob = run["trace"], run["lnprob"]
    assert trace.shape == (6, 2, 3) and lnprob.shape == (6, 2) and np.isfinite(lnprob).all()
    # the walkers start at the symbols' start values ± chain_std_deviation (10 %) and stay near them
    start = np.array([result.start_values[s] for s in result.symbols])
    assert np.all(np.abs(trace - start) <= 0.5 * np.abs(start))
    # ESPEI writes the best sample of the trace into the MCMC database
    chain, step = np.unravel_index(np.argmax(lnprob), lnprob.shape)
    refined = Database(str(run["mcmc"]))
    assert [float(unpack_piecewise(refined.symbols[s])) for s in result.symbols] == pytest.approx(trace[chain, step])


def test_fewer_than_two_mcmc_iterations_are_refused_before_anything_is_written(cumg, tmp_path):
    """After one iteration ESPEI 0.9 writes every refined parameter as 0 into the MCMC database."""
    with pytest.raises(MixcalphadError, match="at least 2"):
        es.seed_espei(cumg, "CU", "MG", tmp_path / "one", predictor=RegularSolution(), iterations=1)
    assert not (tmp_path / "one").exists()
    es.seed_espei(cumg, "CU", "MG", tmp_path / "two", predictor=RegularSolution(), iterations=2)
    with pytest.raises(MixcalphadError, match="at least 2"):
        es.run_seeded(tmp_path / "two", iterations=1)
    assert not (tmp_path / "two" / es.GENERATED_TDB).exists()


def test_start_from_measurements_and_uninformed_start(cumg, tmp_path):
    measured = es.seed_espei(cumg, "CU", "MG", tmp_path / "m", start="datasets", hmix_datasets=False)
    assert not measured.predicted and not measured.left_out[1:]
    x, _, h = es.liquid_hmix_points([HMIX], "CU", "MG")
    assert x == pytest.approx([0.87, 0.67, 0.485]) and h == pytest.approx([-3200, -7000, -8600])
    assert measured.start_values["VV0000"] < -20000  # L0 of the Sommer points
    none = es.seed_espei(cumg, "CU", "MG", tmp_path / "n", start="none", hmix_datasets=False,
                         exclude_liquid_calorimetry=True)
    chains = np.load(tmp_path / "n" / es.INITIAL_CHAINS)
    assert chains.shape == (6, 1, 3) and chains[:, 0, 0].std() > 5000
    mcmc = yaml.safe_load(none.mcmc_yaml.read_text())["mcmc"]
    assert mcmc["restart_trace"] == es.INITIAL_CHAINS and "chains_per_parameter" not in mcmc


def test_errors(cumg, tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        es.seed_espei(tmp_path / "missing", "CU", "MG", tmp_path / "o", predictor=RegularSolution())
    with pytest.raises(DatasetError, match=r"no dataset of the binary AL-NI.*CU-MG"):
        es.seed_espei(cumg, "AL", "NI", tmp_path / "o", predictor=RegularSolution())
    with pytest.raises(UnknownElementError, match="XX"):
        es.seed_espei(cumg, "CU", "XX", tmp_path / "o", predictor=RegularSolution())
    (cumg / "bad.json").write_text("{")
    with pytest.raises(DatasetError, match="bad.json"):
        es.read_binary_datasets(cumg, "CU", "MG")
    (cumg / "bad.json").unlink()
    es.seed_espei(cumg, "CU", "MG", tmp_path / "o", start="datasets", hmix_datasets=False)
    with pytest.raises(OutputExistsError):
        es.seed_espei(cumg, "CU", "MG", tmp_path / "o", start="datasets", hmix_datasets=False)
    es.seed_espei(cumg, "CU", "MG", tmp_path / "o", start="datasets", hmix_datasets=False, force=True)
    with pytest.raises(DatasetError, match="too few"):
        es.seed_espei(cumg, "CU", "MG", tmp_path / "p", start="datasets", hmix_datasets=False,
                      exclude_liquid_calorimetry=True)


def test_a_phase_model_espei_refuses_is_not_written(cumg, tmp_path):
    from mixcalphad.errors import EspeiInputError

    bad = tmp_path / "phases.json"
    bad.write_text('{"components": ["CU", "MG"], "phases": {"LIQUID": {"sublattice_model": "CU,MG"}}}')
    with pytest.raises(EspeiInputError, match=r"phases.json: ESPEI refuses this phase-model structure: "
                                              r"phases.LIQUID.sublattice_model: Input should be a valid list"):
        es.seed_espei(cumg, "CU", "MG", tmp_path / "o", predictor=RegularSolution(), phase_models=bad)
    assert not (tmp_path / "o").exists()
    with pytest.raises(EspeiInputError, match="ESPEI refuses these input settings"):
        es.seed_espei(cumg, "CU", "MG", tmp_path / "o", start="datasets", hmix_datasets=False,
                      chains_per_parameter=-2)
    assert not (tmp_path / "o").exists()


def test_cli(cumg, tmp_path, capsys):
    from mixcalphad.cli import main

    out = tmp_path / "cli"
    assert main(["espei-seed", str(cumg), "--binary", "CU", "MG", "-o", str(out), "--no-hmix-datasets",
                 "--start", "datasets", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["binary"] == "CU-MG" and payload["symbols"] == ["VV0000", "VV0001", "VV0002"]
    assert (out / es.MCMC_YAML).exists() and (out / es.PHASES_JSON).exists()
    assert main(["espei-seed", str(tmp_path / "nowhere"), "--binary", "CU", "MG", "-o", str(out)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["espei-seed", str(cumg), "--binary", "CU", "QQ", "-o", str(tmp_path / "q")]) == 2
    assert "QQ" in capsys.readouterr().err


def test_zpf_regions_without_liquid_are_split_off():
    solid_region = [["LAVES_C15", ["MG"], [0.36]], ["CUMG2", ["MG"], [None]]]
    data = {**ZPF, "phases": ["LIQUID", "LAVES_C15", "CUMG2"], "values": ZPF["values"] + [solid_region],
            "conditions": {"P": 101325, "T": ZPF["conditions"]["T"] + [800.0]}}
    parts = es.split_zpf_regions(data)
    assert parts["liquid"]["values"] == ZPF["values"] and parts["liquid"]["conditions"]["T"] == ZPF["conditions"]["T"]
    assert parts["liquid"]["phases"] == ["LIQUID", "LAVES_C15"]
    assert parts["other"]["values"] == [solid_region] and parts["other"]["conditions"] == {"P": 101325, "T": [800.0]}
    assert es.split_zpf_regions(ZPF) == {"liquid": None}
    assert es.split_zpf_regions(LAVES) == {"other": None} and es.split_zpf_regions(HMIX) == {"liquid": None}
