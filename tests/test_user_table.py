"""The user's own ΔH_mix from a CSV file: defaults, orientation, errors named by line; data add."""
import json

import numpy as np
import pytest

from mixcalphad.cli import main
from mixcalphad.data.store import Store
from mixcalphad.data.user_table import read_user_table
from mixcalphad.errors import DatasetError, MixcalphadError


def test_a_table_with_a_and_b_columns_and_defaults(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("A,B,x_B,T_K,HM_MIX_J,sigma_J\nNI,AL,0.25,1873,-40000,\nAL,NI,0.5,1873,-49000,1500\n")
    rows = read_user_table(path)
    assert rows["system"].tolist() == ["AL-NI", "AL-NI"]
    assert rows["x_B"].tolist() == pytest.approx([0.75, 0.5])  # NI-AL at x_AL 0.25 is AL-NI at x_NI 0.75
    assert np.isnan(rows["sigma_J"].iloc[0]) and rows["sigma_J"].iloc[1] == 1500.0
    assert set(rows["kind"]) == {"user"} and set(rows["source"]) == {"mine.csv"}
    assert set(rows["collection"]) == {"user"} and set(rows["reference"]) == {str(path)}


@pytest.mark.parametrize("text, message", [
    ("x_B,T_K\n0.5,1873\n", "missing column(s) ['system', 'HM_MIX_J']"),
    ("system,x_B,T_K,HM_MIX_J\n", "no rows"),
    ("system,x_B,T_K,HM_MIX_J\nAL-NI,0.5,1873,-4e4\nAL-NI,1.5,1873,-4e4\n", "row 3 (AL-NI), column 'x_B'"),
    ("system,x_B,T_K,HM_MIX_J\nAL-QQ,0.5,1873,-4e4\n", "QQ"),
])
def test_bad_tables_are_named(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(MixcalphadError) as err:
        read_user_table(path)
    assert message in str(err.value)
    if message != "QQ":  # an unknown element is named by the element table's own error
        assert str(path) in str(err.value)


def test_only_observed_kinds():
    with pytest.raises(DatasetError, match="not a kind of observation"):
        read_user_table("x.csv", kind="predicted")


def test_data_add_then_predict_uses_the_value(tmp_path, capsys):
    store = Store(tmp_path / "store.json")
    store.add_observations(read_user_table(_write(tmp_path / "seed.csv", "CU-NI,0.5,1873,2000,1000\n")))
    path = _write(tmp_path / "mine.csv", "AL-TC,0.5,1873,-30000,1500\nAL-TC,0.5,1873,-30000,1500\n")
    assert main(["data", "add", str(path), "--store", str(store.path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["added"] == 1 and report["unchanged"] == 0 and report["systems"] == ["AL-TC"]
    assert main(["predict", "AL", "TC", "--x", "0.5", "--store", str(store.path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["estimate"] == "posterior" and out["conditioned_on"] == ["user:mine.csv"]
    assert abs(out["HM_MIX_J"][0] + 30000.0) < 1500.0 and out["sigma_J"][0] < 1500.0
    # a changed value is refused without --replace, and nothing is written
    _write(path, "AL-TC,0.5,1873,-20000,1500\n")
    assert main(["data", "add", str(path), "--store", str(store.path)]) == 2
    assert store.observations(system="AL-TC")["HM_MIX_J"].tolist() == [-30000.0]


def _write(path, body):
    path.write_text("system,x_B,T_K,HM_MIX_J,sigma_J\n" + body)
    return path
