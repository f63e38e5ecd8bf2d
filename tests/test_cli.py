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
    out = run_json(capsys, ["predict", "ni", "al", "--x", "0,0.5,1", "--json"])
    assert out["unit"] == "J/mol" and out["a"] == "NI"
    assert out["HM_MIX_J"][0] == 0 and out["HM_MIX_J"][2] == 0
    assert out["HM_MIX_J"][1] < -20000 and out["sigma_J"][1] > 0
    assert out["miedema_J"][1] == pytest.approx(-22700, abs=300)


def test_predict_all_writes_every_binary(tmp_path, capsys):
    import pandas as pd

    out = tmp_path / "pred.csv"
    summary = run_json(capsys, ["predict", "--all", "--elements", "AL", "CU", "NI", "W", "--out", str(out), "--json"])
    table = pd.read_csv(out)
    assert summary["binaries"] == 6 and table["system"].nunique() == 6
    assert len(table) == 6 * 19 and (table["sigma_J"] >= 0).all()
    assert sorted(set(table["x_B"])) == pytest.approx(list(np.arange(1, 20) / 20))
    assert main(["predict", "--all", "--elements", "AL", "CU", "--out", str(out)]) == 2  # exists, no --force
    assert "--force" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["predict", "AL", "QQ"], "unknown element 'QQ'"),
    (["predict", "AL"], "two elements"),
    (["predict", "AL", "NI", "--x", "1.5"], "[0, 1]"),
    (["predict", "AL", "NI", "--model", "/nonexistent/model.json.gz"], "no model file"),
])
def test_predict_bad_input(capsys, argv, message):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_train_and_evaluate_on_a_small_store(tmp_path, capsys):
    from test_regressor import ELEMENTS, synthetic_observations

    from mixcalphad.data.store import Store

    store = tmp_path / "store.json"
    Store(store).add_observations(synthetic_observations(ELEMENTS[:9], noise=300.0))
    model = tmp_path / "model.json.gz"
    trained = run_json(capsys, ["train", "--store", str(store), "--out", str(model), "--json"])
    assert trained["n_systems"] == 36 and model.exists()
    out = run_json(capsys, ["predict", "AL", "CU", "--x", "0.5", "--model", str(model), "--json"])
    assert out["model"] == trained["version"]
    result = run_json(capsys, ["evaluate", "--store", str(store), "--outer-folds", "3", "--jobs", "1",
                               "--plot", str(tmp_path / "parity.png"), "--json"])
    assert result["accuracy"][0]["group"] == "all" and result["accuracy"][0]["points"] == 36 * 9
    assert (tmp_path / "parity.png").stat().st_size > 10000


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
