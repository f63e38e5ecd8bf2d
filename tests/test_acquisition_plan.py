"""The acquisition plan: score → filter → select → annotate; report, record, map, CLI, main job."""
import argparse
import json

import numpy as np
import pandas as pd
import pytest

from acquisition_helpers import FAST, RANK, PredictorDouble, synthetic_observations
from mixcalphad.acquisition.feasibility import element_volatility
from mixcalphad.acquisition.gp import VarianceGP
from mixcalphad.acquisition.plan import PlanOptions, rank_binaries
from mixcalphad.errors import AcquisitionError, UnknownElementError
from mixcalphad.model.pair_features import GP_FEATURES

#: A ranking set with feasible unknowns (refractory, Al, Si, Zr) and infeasible ones (K, Cs, P, U).
SET = ["CO", "CU", "FE", "NI", "AL", "SI", "ZR", "IR", "W", "K", "CS", "P", "U"]


@pytest.fixture(scope="module")
def observations():
    return synthetic_observations()


@pytest.fixture(scope="module")
def plan(observations):
    return rank_binaries(observations, n=5, elements=SET, model=PredictorDouble())


def test_plan_columns_feasibility_and_exclusions(plan):
    table = plan.plan
    assert list(table.columns) == ["rank", "system", "value_J2", "value_per_core_h", "T_run_K", "liquidus_K",
                                   "cost_core_h", "cluster", "n_observations", "miedema_J", "model_J",
                                   "model_sigma_J", "notes"]
    assert table["rank"].tolist() == [1, 2, 3, 4, 5]
    assert not set(" ".join(table["system"]).replace("-", " ").split()) & {"K", "CS", "P", "U"}
    assert (table["value_J2"] > 0).all() and (table["cost_core_h"] > 0).all()
    assert np.allclose(table["value_per_core_h"], table["value_J2"] / table["cost_core_h"])
    reasons = plan.binaries.set_index("system")["excluded"]
    assert "boiling point of CS" in reasons["CS-IR"] and "P forms a molecular liquid" in reasons["CU-P"]
    assert "U is an f-element" in reasons["NI-U"] and reasons["CU-NI"] == ""
    assert reasons["AL-IR"].startswith("T_run 2750 K > boiling point of AL (2792 K) − 100 K margin")
    assert "possible high-melting compound" in plan.binaries.set_index("system").at["IR-ZR", "exclusion_kinds"]
    assert set(plan.exclusions["system"]) == set(reasons[reasons != ""].index)
    assert plan.total_core_hours == pytest.approx(table["cost_core_h"].sum())
    assert plan.binaries["selected"].sum() == 5 and len(plan.binaries) == 78
    assert plan.timings["total"] > 0 and plan.clustering.k == plan.clusters["cluster"].nunique()


def test_report_prints_the_plan_and_its_exclusions(plan):
    text = plan.report()
    assert "plan (integrated-variance" in text and "core-hours for 5 binaries" in text
    assert "by reason:" in text and "above boiling point" in text and "f-element" in text
    assert plan.plan["system"].iloc[0] in text
    json.dumps(plan.to_dict())


def test_max_sigma_strategy_is_the_papers_option(observations):
    gp = VarianceGP(random_state=0, **FAST)
    plan = rank_binaries(observations, n=3, elements=SET, model=PredictorDouble(), strategy="max-sigma",
                         gp=gp, per_element=1)
    assert {"score_J", "batch_score_J", "x_at_max", "cost_core_h"} <= set(plan.plan.columns)
    assert plan.scorer["model"].startswith("PHYSBO")
    counts = pd.Series([el for s in plan.plan["system"] for el in s.split("-")]).value_counts()
    assert counts.max() == 1


def test_options_are_one_frozen_object():
    options = PlanOptions().replace(exclude=["K"], allow_f_elements=True, per_element=3)
    assert options.feasibility.exclude_elements == ("K",) and options.feasibility.allow_f_elements
    assert options.per_element == 3
    with pytest.raises(AcquisitionError, match="unknown plan option 'colour'"):
        PlanOptions().replace(colour="red")
    with pytest.raises(AcquisitionError, match="strategy"):
        PlanOptions(strategy="greedy")
    with pytest.raises(AcquisitionError, match="per_element"):
        PlanOptions(per_element=0)
    with pytest.raises(UnknownElementError, match="XX"):
        PlanOptions(elements=("FE", "XX"))


def test_errors(observations):
    model = PredictorDouble()
    with pytest.raises(AcquisitionError, match="too few to cluster"):
        rank_binaries(observations, n=1, elements=["FE", "NI"], model=model)
    with pytest.raises(AcquisitionError, match="larger than the pool"):
        rank_binaries(observations, n=25, elements=RANK, model=model)
    with pytest.raises(AcquisitionError, match="positive integer"):
        rank_binaries(observations, n=0, elements=RANK, model=model)


def test_record_in_store(plan, store):
    report = plan.record(store)
    assert report.added == 5
    rows = store.records("selections")
    assert set(rows["selection_id"]) == {plan.selection_id} and set(rows["strategy"]) == {"integrated-variance"}
    assert rows.sort_values("rank")["system"].tolist() == plan.plan["system"].tolist()
    assert plan.record(store).unchanged == 5


def test_periodic_map_shows_selected_and_excluded(plan, tmp_path):
    from mixcalphad.plot import periodic_uncertainty_map

    svg = periodic_uncertainty_map(plan.binaries, tmp_path / "map.svg", score="model_sigma_J")
    assert "<svg" in svg.read_text()[:2000]


def test_cli_acquire_with_store(tmp_path, capsys, monkeypatch):
    import mixcalphad.model.predictor as predictor
    from mixcalphad.cli import build_parser, main
    from mixcalphad.data.store import Store

    monkeypatch.setattr(predictor, "load_default_model", lambda: PredictorDouble())
    subs = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert "acquire" in subs.choices
    store = Store(tmp_path / "store.json")
    store.add_observations(synthetic_observations(["CO", "CU", "FE", "NI"]))
    out, figure = tmp_path / "plan.csv", tmp_path / "map.svg"
    argv = ["acquire", "--n", "3", "--elements", "CO", "CU", "FE", "NI", "AL", "W", "K", "--store", str(store.path),
            "--out", str(out), "--map", str(figure), "--json"]
    assert main(argv) == 0
    payload = json.loads(capsys.readouterr().out)
    assert len(payload["plan"]) == 3 and payload["recorded"]["added"] == 3
    assert payload["exclusion_reasons"]["above boiling point"] >= 1
    assert pd.read_csv(out)["system"].tolist() == [r["system"] for r in payload["plan"]]
    assert figure.exists() and len(store.records("selections")) == 3
    assert main(argv) == 2 and "exists" in capsys.readouterr().err
    assert main(["acquire", "--n", "3", "--elements", "FE", "XX", "NI", "--store", str(store.path)]) == 2
    assert "XX" in capsys.readouterr().err
    text_argv = ["acquire", "--n", "2", "--elements", "CO", "CU", "FE", "NI", "AL", "W", "K", "--store",
                 str(store.path), "--no-record"]
    assert main(text_argv) == 0
    printed = capsys.readouterr().out
    assert "excluded" in printed and "boiling point of K" in printed


def test_main_job_top_20_passes_every_filter(default_build):
    """The main job's plan (default data, all supported elements, 20 picks, 2 per element): every row
    checked against the element data — boiling points with the margin, critical points, liquid class,
    f-elements, carbon, flags, and the run temperature above the equimolar liquidus where the
    assessed table knows one (else no strong compound former by Miedema) — and the exclusions
    printed with reasons that name the element, T_run and T_b."""
    from mixcalphad.acquisition.feasibility import (DEFAULT_BOILING_MARGIN_K, DEFAULT_COMPOUND_HMIX_J, assessed_liquidus,
                                                    valence_compound_former)
    from mixcalphad.chem.miedema import miedema_hmix
    from mixcalphad.errors import MixcalphadError
    from mixcalphad.model.predictor import load_default_model

    try:
        model = load_default_model()
    except MixcalphadError:  # a model file of an older format: the main job refits anyway
        from mixcalphad.model.regressor import HMixRegressor

        model = HMixRegressor(random_state=0, progress=False).fit(default_build.observations)
    plan = rank_binaries(default_build.observations, n=20, model=model, flags=default_build.flags, per_element=2)
    data, liquidus = element_volatility(), assessed_liquidus()
    immiscible = set(default_build.flags.loc[default_build.flags["flag"] == "immiscible", "system"])
    assert len(plan.plan) == 20
    for row in plan.plan.to_dict("records"):
        a, b = row["system"].split("-")
        T = row["T_run_K"]
        for el in (a, b):
            assert el != "C"
            assert T <= data.at[el, "boiling_point_K"] - DEFAULT_BOILING_MARGIN_K, (row["system"], el)
            assert not T > 0.6 * data.at[el, "critical_T_K"], (row["system"], el)  # NaN: none reported
            assert data.at[el, "liquid_class"] == "metal" and not data.at[el, "f_element"], (row["system"], el)
        if row["system"] in liquidus.index:
            assert T > liquidus.at[row["system"], "liquidus_K"] and row["liquidus_K"] == liquidus.at[
                row["system"], "liquidus_K"], row["system"]
        else:
            assert float(miedema_hmix(a, b, 0.5)) > DEFAULT_COMPOUND_HMIX_J and np.isnan(row["liquidus_K"]), row["system"]
            assert not valence_compound_former(a, b), row["system"]
        assert row["system"] not in immiscible
    counts = pd.Series([el for s in plan.plan["system"] for el in s.split("-")]).value_counts()
    assert counts.max() <= 2
    text = plan.report()
    for kind in ("above boiling point", "f-element", "molecular liquid", "element excluded",
                 "possible high-melting compound"):
        assert kind in text
    reasons = plan.binaries.set_index("system")["excluded"]
    assert reasons["BE-LI"] == "T_run 1600 K > boiling point of LI (1615 K) − 100 K margin"


def test_cli_feasibility_options_reach_the_rules(monkeypatch):
    """--boiling-margin, --no-assessed-liquidus and --unknown-liquidus end up in FeasibilityRules."""
    import argparse

    from mixcalphad.acquisition import plan as plan_module
    from mixcalphad.cli import acquire

    seen = {}

    def fake_rank(observations, n, *, options, **_):
        seen["rules"] = options.feasibility
        raise SystemExit(0)

    monkeypatch.setattr(plan_module, "rank_binaries", fake_rank)
    parser = argparse.ArgumentParser()
    acquire.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["acquire", "--boiling-margin", "50", "--no-assessed-liquidus",
                              "--unknown-liquidus", "note"])
    with pytest.raises(SystemExit):
        args.func(args)
    rules = seen["rules"]
    assert (rules.boiling_margin_K, rules.assessed_liquidus, rules.unknown_liquidus) == (50.0, False, "note")


class RegularSolution:
    """Predictor double: ΔH_mix = Ω x (1 − x) for every pair (J/mol)."""

    version_ = "regular-solution"
    gp_features = GP_FEATURES  # the residual GP's feature space (integrated-variance strategy)

    def __init__(self, omega):
        self.omega = omega

    def predict_pairs(self, a, b, x_B, return_std=False):
        x = np.asarray(x_B, dtype=float)
        mean = self.omega * x * (1 - x)
        return (mean, np.full_like(x, 1000.0)) if return_std else mean


def test_predicted_spinodal_is_the_regular_solution_one():
    from mixcalphad.acquisition.plan import GAP_GRID, predicted_spinodals
    from mixcalphad.calphad.convexity import R_J

    omega, T = 40000.0, 1500.0  # critical T = Ω/2R = 2406 K
    gaps = predicted_spinodals(RegularSolution(omega), ["CU-NI", "AG-CU"], np.array([T, 3000.0]))
    # closed form: x(1 − x) = RT/(2Ω) on the spinodal; none above T_c
    x_sp = 0.5 - np.sqrt(0.25 - R_J * T / (2 * omega))
    step = GAP_GRID[1] - GAP_GRID[0]
    assert gaps[0][0] == pytest.approx(x_sp, abs=step) and gaps[0][1] == pytest.approx(1 - x_sp, abs=step)
    assert gaps[1] is None
    assert predicted_spinodals(RegularSolution(-40000.0), ["CU-NI"], np.array([300.0])) == [None]


def test_plan_warns_where_the_predicted_liquid_separates(observations):
    separating = rank_binaries(observations, n=3, elements=SET, model=RegularSolution(200000.0))
    assert separating.plan["notes"].str.contains("predicted liquid miscibility gap at").all()
    mixing = rank_binaries(observations, n=3, elements=SET, model=RegularSolution(-20000.0))
    assert not mixing.plan["notes"].str.contains("miscibility gap").any()
