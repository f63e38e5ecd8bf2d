import pandas as pd
import pytest

from mixcalphad.workflow.campaign import Campaign
from mixcalphad.model.regressor import HMixRegressor
from mixcalphad.data.store import Store

ELEMENTS = ["AL", "CU", "FE", "IR", "MG", "NI", "SI", "TI", "W", "ZR"]


def fast_estimator():
    return HMixRegressor(inner_folds=3, random_state=0, progress=False,
                         lgbm_params={"num_leaves": 7, "min_child_samples": 10, "learning_rate": 0.1, "n_estimators": 100})


@pytest.fixture
def campaign_store(default_build, tmp_path):
    obs = default_build.observations
    keep = obs["system"].map(lambda s: set(s.split("-")) <= set(ELEMENTS))
    store = Store(tmp_path / "store.json")
    store.add_observations(obs[keep])
    return store


def aimd_point(system, value):
    return pd.DataFrame({"system": [system], "x_B": [0.5], "T_K": [3700.0], "HM_MIX_J": [value],
                         "sigma_J": [500.0], "kind": ["aimd"], "source": ["synthetic-vasp"],
                         "reference": ["test"], "collection": ["aimd-runs"]})


def test_refit_moves_the_new_binary_and_leaves_assessed_ones_untouched(campaign_store, tmp_path):
    out = tmp_path / "campaign"
    camp = Campaign(campaign_store, out, elements=ELEMENTS, estimator=fast_estimator, plan_size=0)
    first = camp.refit(progress=False)
    assert first.files["tdb"].exists() and (out / "state.json").exists()
    state_l0 = pd.read_json(out / "state.json", typ="series")["L0"]
    # a refractory binary with no data gets a strongly exothermic AIMD point
    campaign_store.add_observations(aimd_point("TI-W", -40000.0))
    second = camp.refit(progress=False)
    assert second.retrained and list(second.new_points["system"]) == ["TI-W"]
    after = pd.read_json(out / "state.json", typ="series")["L0"]
    target_l0 = 4 * -40000.0
    assert abs(after["TI-W"] - target_l0) < abs(state_l0["TI-W"] - target_l0)
    assert "TI-W" in set(second.moved["system"])
    # assessed binaries (full curves in the store): their posterior sits on their own data, so the
    # retrained prior moves them by a sliver of what the new point moves TI-W (the data, σ 2000
    # J/mol per curve, outweigh the prior, σ ≈ 10 kJ/mol at x = 0.5, about 25 to 1)
    moved_ti_w = abs(after["TI-W"] - state_l0["TI-W"])
    for system in ("AL-CU", "CU-MG", "AL-NI"):
        assert abs(after[system] - state_l0[system]) < 0.02 * moved_ti_w, system
        assert system not in set(second.moved["system"])
    new = second.new_points.iloc[0]
    assert abs(new["after_J"] - new["HM_MIX_J"]) < abs(new["before_J"] - new["HM_MIX_J"])


def test_rerun_without_new_data_changes_nothing(campaign_store, tmp_path):
    out = tmp_path / "campaign"
    camp = Campaign(campaign_store, out, elements=ELEMENTS, estimator=fast_estimator, plan_size=0)
    camp.refit(progress=False)
    before = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != "report.txt"}
    report = camp.refit(progress=False)
    assert not report.retrained and report.moved.empty
    after = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != "report.txt"}
    assert after == before


def test_empty_store_is_a_clear_error(tmp_path):
    from mixcalphad.errors import MixcalphadError

    with pytest.raises(MixcalphadError, match="no observations"):
        Campaign(Store(tmp_path / "s.json"), tmp_path / "c", plan_size=0).refit()


def test_campaign_refit_command(campaign_store, tmp_path, capsys):
    import json

    from mixcalphad.cli import main

    out = tmp_path / "camp"
    argv = ["campaign", "refit", "--store", str(campaign_store.path), "--out", str(out), "--elements", *ELEMENTS,
            "--plan", "3", "--json"]
    assert main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    assert len(first["plan"]) == 3 and (out / "plan.csv").exists() and (out / "periodic_map.png").exists()
    assert not {row["system"] for row in first["plan"]} & {"AL-CU", "CU-MG"}  # well-known systems are not asked for
    assert main(argv) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["retrained"] is False and again["moved"] == []


def test_rerun_with_another_plan_size_regenerates_the_plan(campaign_store, tmp_path):
    out = tmp_path / "campaign"
    Campaign(campaign_store, out, elements=ELEMENTS, estimator=fast_estimator, plan_size=0).refit(progress=False)
    assert not (out / "plan.csv").exists()
    report = Campaign(campaign_store, out, elements=ELEMENTS, estimator=fast_estimator, plan_size=3).refit(progress=False)
    assert report.plan is not None and len(report.plan) == 3
    assert len(pd.read_csv(out / "plan.csv")) == 3


def test_a_new_flag_is_not_answered_with_stale_outputs(campaign_store, tmp_path):
    out = tmp_path / "campaign"
    first = Campaign(campaign_store, out, elements=ELEMENTS, estimator=fast_estimator, plan_size=3).refit(progress=False)
    top = first.plan["system"].iloc[0]
    campaign_store.add_flags(pd.DataFrame({"system": [top], "flag": ["immiscible"], "T_K": [2000.0], "kind": ["aimd"],
                                           "source": ["synthetic"], "reference": ["test"], "collection": ["test"]}))
    second = Campaign(campaign_store, out, elements=ELEMENTS, estimator=fast_estimator, plan_size=3).refit(progress=False)
    assert top not in set(second.plan["system"])
    assert top not in set(pd.read_csv(out / "plan.csv")["system"])


def test_inputs_key_covers_every_option(campaign_store, tmp_path):
    obs, flags = campaign_store.observations(), campaign_store.flags()

    def key(**options):
        base = dict(elements=ELEMENTS, estimator=fast_estimator, plan_size=3)
        return Campaign(campaign_store, tmp_path / "c", **{**base, **options}).inputs_key(obs, flags)

    reference = key()
    assert key() == reference
    for options in ({"plan_size": 4}, {"per_element": 1}, {"l0_threshold_J": 10.0}, {"elements": ELEMENTS[:-1]},
                    {"fit_options": {"max_order": 1}},
                    {"estimator": lambda: HMixRegressor(random_state=1, progress=False)}):
        assert key(**options) != reference, options


def test_inputs_key_covers_every_column_that_decides_an_output(campaign_store, tmp_path):
    """A σ or kind change (``aimd ingest --replace``) must not be answered with the stale TDB and weights."""
    obs, flags = campaign_store.observations(), campaign_store.flags()
    campaign = Campaign(campaign_store, tmp_path / "c", elements=ELEMENTS, estimator=fast_estimator, plan_size=3)
    entropy = Campaign.entropy_rule(obs)
    reference = campaign.inputs_key(obs, flags, entropy=entropy)
    assert campaign.inputs_key(obs.sample(frac=1.0, random_state=0), flags, entropy=entropy) == reference
    row = obs.index[0]
    for column, value in (("sigma_J", 123.0), ("kind", "user"), ("source", "other"), ("reference", "other"),
                          ("caution", "dilute only"), ("SE_J", 1.5), ("GE_J", -99.0)):
        changed = obs.copy()
        changed[column] = changed[column].astype(object)
        changed.loc[row, column] = value
        assert campaign.inputs_key(changed, flags, entropy=entropy) != reference, column


def test_refit_does_not_overwrite_a_users_files(campaign_store, tmp_path):
    from mixcalphad.errors import OutputExistsError

    out = tmp_path / "mine"
    out.mkdir()
    (out / "mixcalphad-liquid.tdb").write_text("$ my own database\n")
    (out / "report.txt").write_text("my notes\n")
    camp = Campaign(campaign_store, out, elements=ELEMENTS, estimator=fast_estimator, plan_size=0)
    with pytest.raises(OutputExistsError, match="mixcalphad-liquid.tdb"):
        camp.refit(progress=False)
    assert (out / "mixcalphad-liquid.tdb").read_text() == "$ my own database\n"
    assert (out / "report.txt").read_text() == "my notes\n"
    Campaign(campaign_store, out, elements=ELEMENTS, estimator=fast_estimator, plan_size=0, force=True).refit(progress=False)
    assert "my own database" not in (out / "mixcalphad-liquid.tdb").read_text()
    # the folder is now a campaign's: a rerun needs no force
    Campaign(campaign_store, out, elements=ELEMENTS, estimator=fast_estimator, plan_size=0).refit(progress=False)
