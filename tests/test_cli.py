import json

import numpy as np
import pytest

from mixcalphad.cli import main

USER_TDB = """
ELEMENT /-   ELECTRON_GAS 0 0 0 !
ELEMENT VA VACUUM 0 0 0 !
ELEMENT CU FCC_A1 63.546 5004.1 33.15 !
ELEMENT NI FCC_A1 58.69 4787.0 29.796 !
PHASE LIQUID % 1 1.0 !
CONSTITUENT LIQUID :CU,NI: !
PARAMETER G(LIQUID,CU;0) 298.15 0; 6000 N !
PARAMETER G(LIQUID,NI;0) 298.15 0; 6000 N !
PARAMETER L(LIQUID,CU,NI;0) 298.15 +12000; 6000 N !
PARAMETER L(LIQUID,CU,NI;1) 298.15 -1000; 6000 N !
"""


def run_json(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_miedema_json(capsys):
    out = run_json(capsys, ["miedema", "al", "ni", "--x", "0.5", "--json"])
    assert out["unit"] == "J/mol" and out["class"] == "mixed"
    assert out["HM_MIX_J"][0] == pytest.approx(-22700, abs=300)


def test_miedema_grid(capsys):
    out = run_json(capsys, ["miedema", "CU", "ZR", "--x", "0.1:0.9:0.2", "--json"])
    assert out["x"] == pytest.approx([0.1, 0.3, 0.5, 0.7, 0.9])


def test_elements_json(capsys):
    out = run_json(capsys, ["elements", "cu", "W", "--json"])
    assert [row["element"] for row in out] == ["CU", "W"]
    assert out[0]["T_melt_K"] == pytest.approx(1357.77, abs=0.5)


@pytest.mark.parametrize("argv, message", [
    (["miedema", "AL", "QQ"], "unknown element 'QQ'"),
    (["elements", "XX"], "unknown element 'XX'"),
])
def test_bad_input_is_one_line_error(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_bad_grid_is_a_usage_error(capsys):
    assert main(["miedema", "AL", "NI", "--x", "a:b"]) == 2
    assert "cannot read compositions" in capsys.readouterr().err


def test_data_build_and_summary_on_a_user_tdb(tmp_path, capsys):
    tdb = tmp_path / "cuni.tdb"
    tdb.write_text(USER_TDB)
    store = tmp_path / "store.json"
    built = run_json(capsys, ["data", "build", "--no-default", "--tdb", str(tdb), "--store", str(store), "--json"])
    assert built["counts"]["user-tdbs"] == {"systems": 1, "points": 9}
    assert built["counts"]["bizot2026"]["systems"] == 29
    summary = run_json(capsys, ["data", "summary", "--store", str(store), "--json"])
    assert summary["by_collection"]["user-tdbs"]["points"] == 9
    assert summary["flags"] == {"immiscible": 8}
    again = run_json(capsys, ["data", "build", "--no-default", "--tdb", str(tdb), "--store", str(store), "--json"])
    assert again["inserted"]["observations"]["added"] == 0


def test_data_build_reports_a_malformed_file_and_goes_on(tmp_path, capsys):
    good, bad = tmp_path / "cuni.tdb", tmp_path / "broken.tdb"
    good.write_text(USER_TDB)
    bad.write_text("PHASE LIQUID % 1 1.0 !\nPARAMETER L(LIQUID,CU,NI;0) 298.15 +12000; 6000 N\nGARBAGE (((\n")
    built = run_json(capsys, ["data", "build", "--no-default", "--tdb", str(tmp_path), "--store",
                              str(tmp_path / "s.json"), "--json"])
    assert built["counts"]["user-tdbs"]["systems"] == 1
    assert [f["file"].endswith("broken.tdb") for f in built["files_failed"]] == [True]


def test_data_build_on_empty_folder_is_an_error(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["data", "build", "--no-default", "--tdb", str(empty), "--store", str(tmp_path / "s.json")]) == 2
    assert "empty" in capsys.readouterr().err
    assert not (tmp_path / "s.json").exists()


def test_summary_of_a_new_store_fills_it_with_the_default_corpus(tmp_path, capsys):
    out = run_json(capsys, ["data", "summary", "--store", str(tmp_path / "new.json"), "--json"])
    assert (tmp_path / "new.json").exists()
    assert {"assessed", "aimd"} <= set(out["by_kind"]) and out["systems"] > 200


def test_predict_with_the_shipped_model(capsys):
    out = run_json(capsys, ["predict", "ni", "al", "--x", "0,0.5,1", "--prior", "--json"])
    assert out["unit"] == "J/mol" and out["a"] == "NI" and out["estimate"] == "prior"
    assert out["HM_MIX_J"][0] == 0 and out["HM_MIX_J"][2] == 0
    assert out["HM_MIX_J"][1] < -20000 and out["sigma_J"][1] > 0
    assert out["miedema_J"][1] == pytest.approx(-22700, abs=300)


def test_predict_all_writes_every_binary(tmp_path, capsys):
    import pandas as pd

    out = tmp_path / "pred.csv"
    summary = run_json(capsys, ["predict", "--all", "--elements", "AL", "CU", "NI", "W", "--out", str(out), "--prior",
                                "--json"])
    table = pd.read_csv(out)
    assert summary["binaries"] == 6 and table["system"].nunique() == 6
    assert len(table) == 6 * 19 and (table["sigma_J"] >= 0).all()
    assert sorted(set(table["x_B"])) == pytest.approx(list(np.arange(1, 20) / 20))
    assert (table["estimate"] == "prior").all()
    assert main(["predict", "--all", "--elements", "AL", "CU", "--out", str(out), "--prior"]) == 2  # exists
    assert "--force" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["predict", "AL", "QQ"], "unknown element 'QQ'"),
    (["predict", "AL"], "two elements"),
    (["predict", "AL", "NI", "--x", "1.5"], "[0, 1]"),
    (["predict", "AL", "NI", "--prior", "--model", "/nonexistent/model.json.gz"], "no model file"),
])
def test_predict_bad_input(capsys, argv, message):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_predict_conditions_on_the_stores_data_and_says_so(tmp_path, capsys):
    from conftest import make_observations

    from mixcalphad.data.store import Store
    from mixcalphad.model.predictor import load_default_model

    store = Store(tmp_path / "store.json")
    store.add_observations(make_observations(system="AL-NI", xs=(0.5,), values=(-60000.0,), kind="aimd",
                                             sigma=2000.0, source="my-run"))
    argv = ["predict", "NI", "AL", "--x", "0.5", "--store", str(store.path), "--json"]
    post = run_json(capsys, argv)
    prior = run_json(capsys, argv + ["--prior"])
    model_mean, model_sigma = load_default_model().predict("NI", "AL", [0.5], return_std=True)
    assert prior["estimate"] == "prior" and prior["HM_MIX_J"][0] == pytest.approx(model_mean[0], rel=1e-12)
    assert post["estimate"] == "posterior" and post["conditioned_on"] == ["aimd:my-run"]
    # one equimolar point: the precision-weighted mean of the model's prediction and the run
    w_model, w_run = model_sigma[0] ** -2, 2000.0 ** -2
    assert post["HM_MIX_J"][0] == pytest.approx((model_mean[0] * w_model - 60000.0 * w_run) / (w_model + w_run))
    assert post["sigma_J"][0] == pytest.approx((w_model + w_run) ** -0.5)
    # a binary without data in the store: the prior, and the output says why
    assert main(["predict", "AL", "TC", "--x", "0.5", "--store", str(store.path)]) == 0
    assert "estimate: prior (no observations of this binary in the store)" in capsys.readouterr().out


def test_predict_from_the_default_store_sits_on_its_data(default_build, tmp_path, capsys):
    """Issue 21's acceptance: AL-NI within 3 kJ/mol of its assessments' mean, AL-IR within 2σ of
    its AIMD value, σ(AL-NI) at most half of σ(AL-TC), a pair with no data."""
    from mixcalphad.data.corpus import build_store
    from mixcalphad.data.store import Store

    store = Store(tmp_path / "store.json")
    build_store(store, default_build)
    obs = store.observations()

    def predict(a, b, *extra):
        return run_json(capsys, ["predict", a, b, "--x", "0.5", "--store", str(store.path), "--json", *extra])

    al_ni = obs[(obs["system"] == "AL-NI") & np.isclose(obs["x_B"], 0.5) & (obs["kind"] == "assessed")]
    assessed_mean = al_ni.groupby("source")["HM_MIX_J"].mean().mean()
    assert al_ni["source"].nunique() >= 3
    ni, ir, tc = predict("AL", "NI"), predict("AL", "IR"), predict("AL", "TC")
    assert abs(ni["HM_MIX_J"][0] - assessed_mean) < 3000.0
    aimd = obs[(obs["system"] == "AL-IR") & (obs["kind"] == "aimd")]["HM_MIX_J"].iloc[0]
    assert abs(ir["HM_MIX_J"][0] - aimd) < 2 * ir["sigma_J"][0]
    assert tc["estimate"] == "prior" and ni["sigma_J"][0] <= 0.5 * tc["sigma_J"][0]
    assert abs(predict("AL", "NI", "--prior")["HM_MIX_J"][0] - assessed_mean) > 3000.0  # the prior alone is off


def test_train_and_evaluate_on_a_small_store(tmp_path, capsys):
    from test_regressor import ELEMENTS, synthetic_observations

    from mixcalphad.data.store import Store

    store = tmp_path / "store.json"
    Store(store).add_observations(synthetic_observations(ELEMENTS[:9], noise=300.0))
    model = tmp_path / "model.json.gz"
    trained = run_json(capsys, ["train", "--store", str(store), "--out", str(model), "--json"])
    assert trained["n_systems"] == 36 and model.exists()
    out = run_json(capsys, ["predict", "AL", "CU", "--x", "0.5", "--model", str(model), "--prior", "--json"])
    assert out["model"] == trained["version"]
    result = run_json(capsys, ["evaluate", "--store", str(store), "--outer-folds", "3", "--jobs", "1",
                               "--plot", str(tmp_path / "parity.png"), "--json"])
    assert result["accuracy"][0]["group"] == "all" and result["accuracy"][0]["points"] == 36 * 9
    assert (tmp_path / "parity.png").stat().st_size > 10000
    for folds in ("1", "37"):  # below 2, more than the 36 systems
        assert main(["evaluate", "--store", str(store), "--outer-folds", folds]) == 2
        err = capsys.readouterr().err
        assert f"outer_folds must be an integer from 2 to the number of usable binary systems (36), got {folds}" in err
        assert "Traceback" not in err


def test_every_command_uses_the_one_store_rule(tmp_path, monkeypatch, capsys):
    """--store, else $MIXCALPHAD_STORE; the path and count are announced; train reads that store."""
    from conftest import make_observations

    from mixcalphad.data.store import Store

    env_store = Store(tmp_path / "env.json")
    env_store.add_observations(make_observations(system="AL-CU"))
    monkeypatch.setenv("MIXCALPHAD_STORE", str(env_store.path))
    assert main(["data", "summary", "--json"]) == 0
    captured = capsys.readouterr()
    assert f"store: {env_store.path} (3 observations)" in captured.err
    other = Store(tmp_path / "other.json")
    other.add_observations(make_observations(system="CU-NI", xs=(0.5,), values=(2000.0,)))
    assert main(["data", "summary", "--store", str(other.path), "--json"]) == 0
    assert f"store: {other.path} (1 observations)" in capsys.readouterr().err
    # train reads that store too: $MIXCALPHAD_STORE's 11 systems / 93 points …
    from test_regressor import ELEMENTS, synthetic_observations

    env_store.add_observations(synthetic_observations(ELEMENTS[:5]))  # 10 systems × 9 points
    assert main(["train", "--out", str(tmp_path / "model.json.gz"), "--json"]) == 0
    captured = capsys.readouterr()
    assert f"store: {env_store.path} (93 observations)" in captured.err
    trained = json.loads(captured.out)
    assert (trained["n_systems"], trained["n_points"]) == (11, 93)
    # … and --store's single system, too few to train on
    assert main(["train", "--store", str(other.path), "--out", str(tmp_path / "other.json.gz")]) == 2
    captured = capsys.readouterr()
    assert f"store: {other.path} (1 observations)" in captured.err
    assert "need at least 5 binary systems to fit, got 1" in captured.err
    assert not (tmp_path / "other.json.gz").exists()


def test_a_missing_default_store_is_filled_with_the_default_corpus(tmp_path, monkeypatch, capsys):
    from mixcalphad.cli.common import open_store

    path = tmp_path / "fresh" / "store.json"
    monkeypatch.setenv("MIXCALPHAD_STORE", str(path))

    class Args:
        store = None

    store = open_store(Args())
    assert store.path == path and path.exists()
    kinds = set(store.observations()["kind"])
    assert {"assessed", "aimd"} <= kinds
    assert "does not exist yet" in capsys.readouterr().err


@pytest.mark.parametrize("grid", ["0.9:0.1:0.1", "1.5", "-0.1,0.5", "0.1:0.9:0"])
def test_an_empty_or_out_of_range_grid_is_refused(grid, capsys):
    assert main(["miedema", "AL", "NI", "--x", grid]) == 2
    assert "--x" in capsys.readouterr().err


def test_every_argument_of_every_command_has_help():
    """A user reading `mixcalphad CMD --help` sees what every positional and option means."""
    import argparse

    from mixcalphad.cli import build_parser

    missing = []

    def walk(parser, path):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{path} {name}")
            elif not isinstance(action, argparse._HelpAction) and not action.help:
                missing.append(f"{path} {action.option_strings or action.dest}")

    walk(build_parser(), "mixcalphad")
    assert not missing, missing


def test_python_dash_m_runs_the_command_line():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "mixcalphad", "miedema", "AL", "NI", "--x", "0.5", "--json"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["HM_MIX_J"][0] == pytest.approx(-22700, abs=300)


def test_an_unwritable_output_folder_is_one_line_naming_the_path(capsys):
    assert main(["aimd", "prepare", "--systems", "AL-IR", "-o", "/proc/forbidden"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: /proc/forbidden: ") and err.count("\n") == 1 and "Traceback" not in err


def test_a_full_disk_leaves_nothing_half_written(tmp_path, monkeypatch, capsys):
    import errno

    import mixcalphad._io

    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device", str(dst))

    out = tmp_path / "pred.csv"
    monkeypatch.setattr(mixcalphad._io.os, "replace", full)
    assert main(["predict", "--all", "--elements", "AL", "CU", "--out", str(out), "--prior"]) == 2
    assert capsys.readouterr().err.strip() == f"error: {out}: No space left on device"
    assert list(tmp_path.iterdir()) == []


def test_a_plot_replaces_an_existing_file_only_with_force(tmp_path, capsys):
    """liquidus --plot, evaluate --plot and acquire --map: one rule, checked before any work."""
    tdb = tmp_path / "cuni.tdb"
    tdb.write_text(USER_TDB)
    plot = tmp_path / "liq.png"
    plot.write_bytes(b"mine")
    for argv in (["liquidus", str(tdb), "--elements", "CU", "NI", "--x", "0.5", "--plot", str(plot)],
                 ["evaluate", "--store", str(tmp_path / "none.json"), "--plot", str(plot)],
                 ["acquire", "--n", "1", "--map", str(plot)]):
        assert main(argv) == 2
        assert capsys.readouterr().err == f"error: {plot} exists; pass --force to replace it\n"
        assert plot.read_bytes() == b"mine"
    assert not (tmp_path / "none.json").exists()
    assert main(["liquidus", str(tdb), "--elements", "CU", "NI", "--x", "0.5", "--plot", str(plot), "--force"]) == 0
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_a_plot_function_refuses_an_existing_file_without_force(tmp_path):
    from mixcalphad.errors import OutputExistsError
    from mixcalphad.plot import parity_plot

    import pandas as pd

    points = pd.DataFrame({"system": ["AL-NI"], "obs": [-10.0], "pred": [-9.0]})
    path = tmp_path / "parity.png"
    path.write_bytes(b"mine")
    with pytest.raises(OutputExistsError, match="parity.png exists"):
        parity_plot(points, "obs", "pred", path)
    assert path.read_bytes() == b"mine"
    assert parity_plot(points, "obs", "pred", path, force=True) == path and path.stat().st_size > 1000
