import json
import multiprocessing as mp

import pandas as pd
import pytest

from conftest import make_observations
from mixcalphad.errors import DatasetError, StoreConflictError, StoreError
from mixcalphad.data.store import SCHEMA_VERSION, Store


def test_add_and_query_round_trip(store):
    report = store.add_observations(make_observations())
    assert (report.added, report.unchanged) == (3, 0)
    obs = store.observations()
    assert list(obs["x_B"]) == [0.25, 0.5, 0.75]
    assert list(obs["HM_MIX_J"]) == [-5000.0, -8000.0, -6000.0]
    assert obs["sigma_J"].isna().all()
    assert set(obs["collection"]) == {"test"}


def test_inserts_are_idempotent(store):
    store.add_observations(make_observations())
    report = store.add_observations(make_observations())
    assert (report.added, report.unchanged) == (0, 3)
    assert len(store.observations()) == 3


def test_duplicate_rows_in_one_insert_keep_one(store):
    rows = pd.concat([make_observations(), make_observations()])
    assert store.add_observations(rows).added == 3


def test_changed_value_is_a_conflict_and_writes_nothing(store):
    store.add_observations(make_observations())
    changed = make_observations(values=(-5000.0, -9000.0, -6000.0), xs=(0.25, 0.5, 0.75))
    extra = make_observations(xs=(0.9,), values=(-1000.0,))
    with pytest.raises(StoreConflictError, match="AL-CU"):
        store.add_observations(pd.concat([changed, extra]))
    obs = store.observations()
    assert len(obs) == 3 and obs.loc[obs["x_B"] == 0.5, "HM_MIX_J"].item() == -8000.0
    report = store.add_observations(changed, replace=True)
    assert report.replaced == 1
    assert store.observations().loc[lambda f: f["x_B"] == 0.5, "HM_MIX_J"].item() == -9000.0


def test_same_point_from_two_sources_is_two_observations(store):
    store.add_observations(make_observations(source="a.tdb"))
    store.add_observations(make_observations(source="b.tdb", values=(-1.0, -2.0, -3.0)))
    assert len(store.observations()) == 6
    assert len(store.observations(source="b.tdb")) == 3


def test_system_names_are_sorted_and_filters_work(store):
    store.add_observations(make_observations(system="cu-al"))
    store.add_observations(make_observations(system="W-IR", kind="aimd", source="paper", xs=(0.5,), values=(1.0,)))
    assert set(store.observations()["system"]) == {"AL-CU", "IR-W"}
    assert len(store.observations(kind="aimd")) == 1
    assert len(store.observations(system="CU-AL")) == 3


@pytest.mark.parametrize("column, value, message", [
    ("x_B", 1.5, "out of range"), ("T_K", -3.0, "out of range"), ("kind", "guess", "unknown observation kind")])
def test_bad_rows_are_refused(store, column, value, message):
    rows = make_observations()
    rows.loc[0, column] = value
    with pytest.raises(DatasetError, match=message):
        store.add_observations(rows)
    assert not store.path.exists() or store.observations().empty


def test_missing_column_is_refused(store):
    with pytest.raises(DatasetError, match="collection"):
        store.add_observations(make_observations().drop(columns="collection"))


def test_corrupted_store_raises_and_is_left_untouched(store):
    store.add_observations(make_observations())
    text = store.path.read_text()
    store.path.write_text(text[: len(text) // 2])  # truncated on disk
    damaged = store.path.read_bytes()
    with pytest.raises(StoreError, match="corrupted"):
        store.observations()
    with pytest.raises(StoreError, match="corrupted"):
        store.add_observations(make_observations(source="other"))
    assert store.path.read_bytes() == damaged


def test_foreign_json_and_newer_schema_are_refused(tmp_path):
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps({"_default": {"1": {"a": 1}}}))
    with pytest.raises(StoreError, match="not a mixcalphad store"):
        Store(foreign).observations()
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps({"meta": {"1": {"schema_version": SCHEMA_VERSION + 1}}}))
    with pytest.raises(StoreError, match="schema version"):
        Store(newer).observations()


def test_store_path_that_is_a_folder(tmp_path):
    with pytest.raises(StoreError, match="folder"):
        Store(tmp_path)


def _writer(path, source, n):
    store = Store(path)
    for i in range(n):
        store.add_observations(make_observations(source=source, xs=(i / (n + 1),), values=(float(-i),)))


def test_concurrent_writers_lose_nothing(tmp_path):
    path = tmp_path / "store.json"
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(path, f"proc{k}", 15)) for k in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert all(p.exitcode == 0 for p in procs)
    obs = Store(path).observations()
    assert len(obs) == 45
    assert obs.groupby("source").size().to_dict() == {"proc0": 15, "proc1": 15, "proc2": 15}


def test_flags_and_generic_records(store):
    flags = pd.DataFrame({"system": ["W-MG"], "flag": ["immiscible"], "T_K": [3700.0], "kind": ["aimd"],
                          "source": ["paper"], "reference": ["Table 1"], "collection": ["test"]})
    assert store.add_flags(flags).added == 1
    assert store.add_flags(flags).unchanged == 1
    assert store.flags()["system"].tolist() == ["MG-W"]
    rep = store.add_records("runs", [{"run": "IR-2750", "T_K": 2750.0}], key_fields=["run"])
    assert rep.added == 1
    with pytest.raises(StoreConflictError):
        store.add_records("runs", [{"run": "IR-2750", "T_K": 2800.0}], key_fields=["run"])
    assert store.records("runs")["T_K"].tolist() == [2750.0]


def test_summary_counts(store):
    store.add_observations(make_observations(collection="c1"))
    store.add_observations(make_observations(system="IR-W", kind="aimd", source="p", xs=(0.5,), values=(1.0,),
                                             collection="c2"))
    summary = store.summary()
    assert summary["systems"] == 2 and summary["points"] == 4
    assert summary["by_kind"]["aimd"] == {"systems": 1, "points": 1, "sources": 1}
    assert summary["by_collection"]["c1"]["points"] == 3
