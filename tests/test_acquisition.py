"""Active learning: GP max-σ ranking, batches, exclusions, clustering, map, store record, CLI."""
import argparse
import itertools
import json

import numpy as np
import pandas as pd
import pytest

from mixcalphad.acquisition.plan import (
    AcquisitionError, VarianceGP, _fallback_aimd_temperature_K, aimd_temperature_K, binaries_of,
    cluster_features, rank_binaries, select_batch,
)
from mixcalphad.errors import UnknownElementError
from mixcalphad.chem.miedema import miedema_pairs

#: Training elements: 3d transition metals; the ranking set adds alkali and refractory elements.
TRAIN = ["CO", "CR", "CU", "FE", "MN", "NI", "TI", "V"]
RANK = ["CO", "CU", "FE", "NI", "K", "CS", "IR", "W"]
FAST = dict(max_epoch=20, num_init_params_search=1, max_epoch_init_params_search=10)


def synthetic_observations(elements=TRAIN, xs=np.arange(1, 10) / 10):
    """Miedema's ΔH_mix plus a smooth, composition-dependent offset, on every binary of ``elements``."""
    rows = []
    for a, b in itertools.combinations(sorted(elements), 2):
        x = np.asarray(xs)
        h = miedema_pairs(np.full(len(x), a), np.full(len(x), b), x) - 3000.0 * x * (1 - x) * (1 + x)
        rows.append(pd.DataFrame({"system": f"{a}-{b}", "x_B": x, "T_K": 1873.0, "HM_MIX_J": h,
                                  "sigma_J": np.nan, "kind": "assessed", "source": "synthetic",
                                  "reference": "unit test", "collection": "test"}))
    return pd.concat(rows, ignore_index=True)


@pytest.fixture(scope="module")
def observations():
    return synthetic_observations()


@pytest.fixture(scope="module")
def gp(observations):
    return VarianceGP(random_state=0, **FAST).fit(observations)


@pytest.fixture(scope="module")
def plan(observations, gp):
    return rank_binaries(observations, n=6, elements=RANK, gp=gp, progress=False)


# ---------------------------------------------------------------------- GP and ranking
def test_gp_reports_training(gp, observations):
    info = gp.describe()
    assert info["n_train"] == len(observations) and info["n_systems"] == 28
    assert info["fit_time_s"] > 0 and info["hyperparameters"]["width"] > 0
    # refitting with the same seed gives the same hyperparameters (PHYSBO uses numpy's global RNG)
    again = VarianceGP(random_state=0, **FAST).fit(observations)
    assert again.hyperparameters_ == pytest.approx(gp.hyperparameters_)
    residual = VarianceGP(target="residual", max_train=100, random_state=0, **FAST).fit(observations)
    assert residual.n_train_ == 100 and residual.describe()["target"] == "residual"
    assert residual.y_std_ < gp.y_std_  # Miedema explains most of the synthetic ΔH_mix
    with pytest.raises(AcquisitionError, match="target"):
        VarianceGP(target="HM").fit(observations)


def test_far_binary_scores_higher_than_known_one(gp):
    scores = gp.max_std(["FE-NI", "CO-CU", "CS-IR", "K-W"], progress=False).set_index("system")["score_J"]
    assert scores["CS-IR"] > 3 * scores["FE-NI"]
    assert scores["K-W"] > 3 * scores["CO-CU"]
    mean, std = gp.predict_pairs(["FE"], ["NI"], [0.5], return_std=True)
    assert std[0] == pytest.approx(gp.max_std(["FE-NI"], grid=[0.5])["score_J"][0])
    truth = synthetic_observations(["FE", "NI"], [0.5])["HM_MIX_J"][0]
    assert mean[0] == pytest.approx(truth, abs=0.2 * abs(truth) + 1000)


def test_plan_ranks_unknown_families_first(plan):
    table = plan.plan
    assert list(table.columns) == ["rank", "system", "score_J", "batch_score_J", "x_at_max", "cluster",
                                   "n_observations", "miedema_J", "model_J", "model_sigma_J", "T_aimd_K"]
    assert table["rank"].tolist() == list(range(1, 7))
    # every pick involves an element the GP never saw; the known 3d pairs stay at the bottom
    assert all(set(s.split("-")) & {"K", "CS", "IR", "W"} for s in table["system"])
    binaries = plan.binaries.set_index("system")
    assert binaries.loc["FE-NI", "n_observations"] == 9 and binaries.loc["CS-K", "n_observations"] == 0
    assert binaries.loc["FE-NI", "score_J"] < binaries["score_J"].median()
    assert len(plan.binaries) == 28 and plan.binaries["selected"].sum() == 6
    assert np.all(table["batch_score_J"] <= table["score_J"] + 1e-6)
    assert table["batch_score_J"].iloc[0] == pytest.approx(table["score_J"].iloc[0])
    assert table["model_sigma_J"].gt(0).all() and table["T_aimd_K"].gt(300).all()
    assert plan.timings["total"] > 0 and plan.clustering.k == plan.clusters["cluster"].nunique()


def test_conditional_batch_matches_refit_gp_with_fantasized_points(gp):
    """The conditional σ of pick 2 equals the σ of a GP whose training set includes pick 1's grid."""
    import physbo

    grid = np.array([0.25, 0.5, 0.75])
    scores = gp.max_std(["CS-K", "K-RB", "IR-W"], grid=grid, progress=False)
    picks = select_batch(gp, scores, 2, grid=grid)
    first, second = picks["system"]
    a, b = first.split("-")
    Z1 = gp._design(np.full(3, a, dtype=object), np.full(3, b, dtype=object), grid)
    a2, b2 = second.split("-")
    Z2 = gp._design(np.full(3, a2, dtype=object), np.full(3, b2, dtype=object), grid)
    X = np.vstack([gp.X_train_, Z1])
    model = physbo.gp.Model(lik=physbo.gp.lik.Gauss(), mean=physbo.gp.mean.Const(),
                            cov=physbo.gp.cov.Gauss(X.shape[1]))
    model.set_params(gp.gp_.params)
    model.prepare(X, np.zeros(len(X)))  # the variance does not depend on the values
    expected = gp.y_std_ * np.sqrt(np.max(model.get_post_fcov(X, Z2)))
    assert picks["batch_score_J"].iloc[1] == pytest.approx(expected, rel=1e-4)
    assert picks["batch_score_J"].iloc[1] < picks["score_J"].iloc[1]


def test_conditional_batch_is_more_diverse_than_independent(gp):
    # far from the 3d training data all these binaries sit at the prior σ; an independent batch takes
    # the ties in order (one element over and over), a conditional one spreads over the pool
    pool = binaries_of(["CS", "K", "RB", "NA", "IR", "OS", "W", "RE"])
    scores = gp.max_std(pool, progress=False)

    def most_repeated(frame):
        return pd.Series([el for s in frame["system"] for el in s.split("-")]).value_counts().max()

    independent = select_batch(gp, scores, 4, batch="independent")
    conditional = select_batch(gp, scores, 4, batch="conditional")
    assert independent["system"].tolist() == scores.nlargest(4, "score_J")["system"].tolist()
    assert most_repeated(independent) >= 3
    assert most_repeated(conditional) < most_repeated(independent)


# ---------------------------------------------------------------------- exclusions and spreading
def test_exclusions(observations, gp):
    flags = pd.DataFrame({"system": ["CS-IR"], "flag": ["immiscible"]})
    plan = rank_binaries(observations, n=4, elements=RANK, exclude=["K"], exclude_systems=["w-cs"],
                         flags=flags, gp=gp, progress=False)
    picked = set(plan.plan["system"])
    assert not any("K" in s.split("-") for s in picked)
    assert not picked & {"CS-W", "CS-IR"}
    reasons = plan.binaries.set_index("system")["excluded"]
    assert reasons["CS-K"] == "element K excluded"
    assert reasons["CS-IR"] == "flagged immiscible" and reasons["CS-W"] == "excluded by user"
    assert reasons["FE-NI"] == ""
    # without the exclusions those systems are at the top
    free = rank_binaries(observations, n=4, elements=RANK, exclude=[], gp=gp, progress=False)
    assert set(free.plan["system"]) & ({s for s in free.binaries["system"] if "K" in s.split("-")}
                                       | {"CS-W", "CS-IR"})


def test_carbon_is_excluded_by_default(observations, gp):
    plan = rank_binaries(observations, n=3, elements=["C", "FE", "K", "W"], gp=gp, progress=False)
    assert not any("C" in s.split("-") for s in plan.plan["system"])
    assert (plan.binaries["excluded"] == "element C excluded").sum() == 3


def test_per_element_spreads_the_batch(observations, gp):
    free = rank_binaries(observations, n=4, elements=RANK, gp=gp, batch="independent", progress=False)
    counts = pd.Series([el for s in free.plan["system"] for el in s.split("-")]).value_counts()
    assert counts.max() > 1  # the constraint below has something to do
    spread = rank_binaries(observations, n=4, elements=RANK, gp=gp, batch="independent", per_element=1,
                           progress=False)
    counts = pd.Series([el for s in spread.plan["system"] for el in s.split("-")]).value_counts()
    assert counts.max() == 1
    with pytest.raises(AcquisitionError, match="per element"):
        rank_binaries(observations, n=5, elements=RANK, gp=gp, per_element=1, progress=False)


# ---------------------------------------------------------------------- errors
def test_errors(observations, gp):
    with pytest.raises(UnknownElementError, match="XX"):
        rank_binaries(observations, n=2, elements=["FE", "NI", "XX"], gp=gp, progress=False)
    with pytest.raises(UnknownElementError, match="QQ"):
        rank_binaries(observations, n=2, elements=RANK, exclude=["QQ"], gp=gp, progress=False)
    with pytest.raises(AcquisitionError, match="too few to cluster"):
        rank_binaries(observations, n=1, elements=["FE", "NI"], gp=gp, progress=False)
    with pytest.raises(AcquisitionError, match="larger than the pool"):
        rank_binaries(observations, n=27, elements=RANK, gp=gp, progress=False, exclude=["K"])
    with pytest.raises(AcquisitionError, match="positive integer"):
        rank_binaries(observations, n=0, elements=RANK, gp=gp, progress=False)
    with pytest.raises(AcquisitionError, match="composition grid"):
        rank_binaries(observations, n=2, elements=RANK, gp=gp, grid=[0.0, 0.5], progress=False)
    with pytest.raises(AcquisitionError, match="too few"):
        rank_binaries(observations, n=2, elements=["FE", "NI", "CO"], gp=gp, n_clusters=3, progress=False)
    with pytest.raises(AcquisitionError, match="not fitted"):
        VarianceGP().max_std(["FE-NI"])
    with pytest.raises(AcquisitionError, match="at least 10"):
        VarianceGP(**FAST).fit(observations.iloc[:5])


# ---------------------------------------------------------------------- clustering
@pytest.mark.parametrize("k_true", [3, 4, 6])
def test_k_from_elbow_and_silhouette_on_blobs(k_true):
    from sklearn.datasets import make_blobs

    X, truth = make_blobs(n_samples=60 * k_true, centers=k_true, n_features=10, cluster_std=1.0,
                          center_box=(-15, 15), random_state=3)
    result = cluster_features(X, random_state=0)
    assert result.k == k_true and result.k_silhouette == k_true
    assert result.scores["k"].tolist() == list(range(2, 11))
    assert result.gmm_ari > 0.9
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(truth, result.labels) > 0.95
    sizes = np.bincount(result.labels)
    assert np.all(np.diff(sizes) <= 0)  # numbered by decreasing size
    assert set(result.to_dict()) >= {"k", "k_elbow", "k_silhouette", "gmm_ari", "scores"}


def test_clustering_given_k_and_too_few():
    X = np.random.default_rng(0).normal(size=(20, 3))
    assert cluster_features(X, n_clusters=3).k == 3
    with pytest.raises(AcquisitionError, match="too few"):
        cluster_features(X[:2])
    with pytest.raises(AcquisitionError, match="n_clusters"):
        cluster_features(X, n_clusters="many")


# ---------------------------------------------------------------------- outputs
def test_aimd_temperature():
    assert aimd_temperature_K("IR", "AL") == 2750.0
    for a, b in [("IR", "AL"), ("W", "TI"), ("CU", "NI"), ("AL", "MG")]:
        assert _fallback_aimd_temperature_K(a, b) == aimd_temperature_K(a, b)


def test_periodic_map_png_and_svg(plan, tmp_path):
    from mixcalphad.plot import periodic_uncertainty_map

    png = periodic_uncertainty_map(plan.binaries, tmp_path / "map.png")
    svg = periodic_uncertainty_map(plan.binaries, tmp_path / "map.svg")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    assert "<svg" in svg.read_text()[:2000]
    assert not list(tmp_path.glob(".*.tmp"))


def test_record_in_store(plan, store):
    report = plan.record(store)
    assert report.added == 6
    rows = store.records("selections")
    assert len(rows) == 6 and set(rows["selection_id"]) == {plan.selection_id}
    assert set(rows["model_version"]) == {plan.model_version} and plan.model_version != "unknown"
    assert rows.sort_values("rank")["system"].tolist() == plan.plan["system"].tolist()
    again = plan.record(store)
    assert again.added == 0 and again.unchanged == 6
    assert json.dumps(plan.to_dict())  # JSON-ready


# ---------------------------------------------------------------------- command line
def _run_cli(argv):
    """Run through ``mixcalphad.cli.main`` once ``acquire`` is registered there, else a bare parser."""
    from mixcalphad.cli import build_parser, main

    parser = build_parser()
    subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    if "acquire" in subs.choices:
        return main(argv)
    from mixcalphad.cli import acquire
    from mixcalphad.errors import MixcalphadError

    bare = argparse.ArgumentParser(prog="mixcalphad")
    acquire.register(bare.add_subparsers(dest="command", required=True))
    args = bare.parse_args(argv)
    try:
        return args.func(args)
    except MixcalphadError as exc:
        import sys

        print(f"error: {exc}", file=sys.stderr)
        return 2


def test_cli_acquire_with_store(tmp_path, capsys):
    from mixcalphad.data.store import Store

    store = Store(tmp_path / "store.json")
    store.add_observations(synthetic_observations(["CO", "CU", "FE", "NI"]))
    out, figure = tmp_path / "plan.csv", tmp_path / "map.svg"
    argv = ["acquire", "--n", "3", "--elements", "CO", "CU", "FE", "NI", "K", "W", "--store", str(store.path),
            "--out", str(out), "--map", str(figure), "--max-train", "100", "--json"]
    assert _run_cli(argv) == 0
    payload = json.loads(capsys.readouterr().out)
    assert len(payload["plan"]) == 3 and payload["gp"]["n_train"] == 54
    assert payload["recorded"]["added"] == 3
    assert pd.read_csv(out)["system"].tolist() == [r["system"] for r in payload["plan"]]
    assert figure.exists()
    assert len(store.records("selections")) == 3
    # existing outputs are not overwritten without --force; bad input is one clear line
    assert _run_cli(argv) == 2
    assert "exists" in capsys.readouterr().err
    assert _run_cli(["acquire", "--n", "3", "--elements", "FE", "XX", "NI", "--store", str(store.path)]) == 2
    assert "unknown element 'XX'" in capsys.readouterr().err
