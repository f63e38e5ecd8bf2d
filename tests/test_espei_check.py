"""ESPEI's own validation of what we write: phase models (PhaseModelSpecification) and input YAML
(get_run_settings) are refused before anything is written."""
import pytest
import yaml

from mixcalphad.calphad.espei_check import input_yaml, phase_models_json
from mixcalphad.calphad.espei_io import generate_input, mcmc_input, phase_models
from mixcalphad.errors import EspeiInputError


def test_valid_structures_pass_through_unchanged():
    assert yaml.safe_load(input_yaml(mcmc_input(symbols=["VV0001"]), "# header\n")) == mcmc_input(symbols=["VV0001"])
    assert input_yaml(generate_input(), "# header\n").startswith("# header\n")
    assert phase_models_json(phase_models(["AL", "NI"])).endswith("}\n")


@pytest.mark.parametrize("models, message", [
    ({"components": "AL", "phases": {}}, "components: Input should be a valid list"),
    ({"components": ["AL", "NI"], "phases": {"LIQUID": {"sublattice_model": [["AL", "NI"]],
                                                        "sublattice_site_ratios": "one"}}},
     "phases.LIQUID.sublattice_site_ratios: Input should be a valid list"),
    ({"components": ["AL", "NI"]}, "phases: Field required"),
])
def test_an_invalid_phase_model_structure_is_refused(models, message):
    with pytest.raises(EspeiInputError, match=f"my.json: ESPEI refuses this phase-model structure: .*{message}"):
        phase_models_json(models, label="my.json")


@pytest.mark.parametrize("change, message", [
    (lambda s: s["mcmc"].update(iterations=-5), "min value is 0"),
    (lambda s: s["mcmc"].pop("input_db"), "input_db"),
    (lambda s: s["output"].update(verbosity="loud"), "verbosity"),
])
def test_invalid_input_settings_are_refused(change, message):
    settings = mcmc_input(symbols=["VV0001"])
    change(settings)
    with pytest.raises(EspeiInputError, match=f"ESPEI refuses these input settings: .*{message}"):
        input_yaml(settings, "# header\n")
