import errno
import json
import multiprocessing as mp
import os
import time

import pandas as pd
import pytest

from conftest import make_observations
from mixcalphad.errors import DatasetError, StoreConflictError, StoreError, UnknownElementError
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
    ("x_B", 1.5, r"'x_B' = 1.5: a mole fraction must lie within \[0, 1\]"),
    ("x_B", -0.1, "within"),
    ("T_K", -3.0, "'T_K' = -3.0: a temperature must be finite and > 0"),
    ("kind", "guess", "'kind' = 'guess': unknown kind"),
    ("sigma_J", -100.0, "'sigma_J' = -100.0: sigma must be finite and > 0"),
    ("sigma_J", 0.0, "sigma must be finite and > 0"),
    ("sigma_J", float("inf"), "sigma must be finite"),
    ("HM_MIX_J", float("nan"), "'HM_MIX_J'"),
    ("x_B", 0.0, "'HM_MIX_J' = -5000.0: ΔH_mix of a pure element"),
    ("x_B", 1.0, "ΔH_mix of a pure element"),
    ("source", "", "'source' = '': a non-empty name"),
])
def test_bad_rows_are_refused(store, column, value, message):
    rows = make_observations()
    rows.loc[0, column] = value
    with pytest.raises(DatasetError, match=message) as info:
        store.add_observations(rows)
    assert "row 0" in str(info.value)
    assert not store.path.exists() or store.observations().empty


@pytest.mark.parametrize("system, bad", [("XX-YY", "XX"), ("AL-QQ", "QQ")])
def test_unknown_elements_are_refused(store, system, bad):
    rows = make_observations(system=system)
    with pytest.raises(UnknownElementError, match=f"row 0.*'{bad}'"):
        store.add_observations(rows)
    assert not store.path.exists()


def test_pure_ends_with_zero_and_missing_sigma_are_accepted(store):
    rows = make_observations(xs=(0.0, 0.5, 1.0), values=(0.0, -8000.0, 0.0))
    assert store.add_observations(rows).added == 3
    assert store.observations()["sigma_J"].isna().all()  # NaN sigma: the kind's default applies


def test_predicted_rows_must_carry_sigma(store):
    with pytest.raises(DatasetError, match="must carry its sigma"):
        store.add_observations(make_observations(kind="predicted"))
    assert store.add_observations(make_observations(kind="predicted", sigma=3000.0)).added == 3


def test_reversed_system_flips_x(store):
    # x_B is the fraction of the second element as named: 10 % Al in Ni-Al is x_NI = 0.9 in AL-NI
    store.add_observations(make_observations(system="NI-AL", xs=(0.1, 0.3), values=(-1000.0, -3000.0)))
    obs = store.observations()
    assert obs["system"].tolist() == ["AL-NI", "AL-NI"]
    assert obs["x_B"].tolist() == pytest.approx([0.7, 0.9])
    assert obs.set_index("x_B")["HM_MIX_J"].to_dict() == pytest.approx({0.7: -3000.0, 0.9: -1000.0})
    # the same points named in sorted order are the same observations
    same = make_observations(system="AL-NI", xs=(0.9, 0.7), values=(-1000.0, -3000.0))
    assert store.add_observations(same).unchanged == 2


def test_files_with_one_name_and_different_content_do_not_collide(store):
    a = make_observations(source="db.tdb").assign(checksum="sha256:" + "a" * 64)
    b = make_observations(source="db.tdb", values=(-1.0, -2.0, -3.0)).assign(checksum="sha256:" + "b" * 64)
    assert store.add_observations(pd.concat([a, b])).added == 6
    assert store.add_observations(b.assign(HM_MIX_J=[-7.0, -8.0, -9.0]), replace=True).replaced == 3
    obs = store.observations()
    assert sorted(obs.loc[obs["checksum"] == "sha256:" + "a" * 64, "HM_MIX_J"]) == [-8000.0, -6000.0, -5000.0]


def test_caution_is_kept(store):
    store.add_observations(make_observations().assign(caution=["dilute only", None, ""]))
    obs = store.observations()
    assert obs["caution"].tolist() == ["dilute only", None, None]


def test_schema_1_store_is_migrated_to_checksum_keys(tmp_path):
    path = tmp_path / "old.json"
    row = {"system": "AL-CU", "x_B": 0.5, "T_K": 1873.0, "HM_MIX_J": -8000.0, "sigma_J": None, "kind": "assessed",
           "source": "db.tdb", "reference": "/x/db.tdb sha256:0123456789ab", "collection": "user-tdbs"}
    row["key"] = "assessed|db.tdb|AL-CU|1873.000|0.500000"
    path.write_text(json.dumps({"meta": {"1": {"schema_version": 1}}, "observations": {"1": row}}))
    store = Store(path)
    assert len(store.observations()) == 1  # a schema 1 store can be read
    again = pd.DataFrame([{**row, "sigma_J": float("nan"), "checksum": "sha256:0123456789ab" + "c" * 52}])
    assert store.add_observations(again.drop(columns="key")).unchanged == 1
    assert json.loads(path.read_text())["meta"]["1"]["schema_version"] == SCHEMA_VERSION


@pytest.mark.parametrize("error", [PermissionError(errno.EACCES, "Permission denied"),
                                   OSError(errno.EROFS, "Read-only file system")])
def test_read_only_store_gives_a_store_error(store, monkeypatch, error):
    store.add_observations(make_observations())

    def denied(path, **kwargs):
        error.filename = str(path) + ".lock"
        raise error

    monkeypatch.setattr("mixcalphad.data.store.file_lock", denied)
    with pytest.raises(StoreError, match=r"cannot write the store .*store.json.lock\) — the store or its folder is read-only"):
        store.add_observations(make_observations(source="other"))
    assert len(store.observations()) == 3  # reading needs no lock


def test_a_store_file_without_write_permission_is_not_replaced(store, monkeypatch):
    store.add_observations(make_observations())
    before = store.path.read_bytes()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(store.path) else real_access(p, mode))
    with pytest.raises(StoreError, match="store.json is read-only"):
        store.add_observations(make_observations(source="other"))
    assert store.path.read_bytes() == before


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_folder_gives_a_store_error(tmp_path):
    store = Store(tmp_path / "ro" / "store.json")
    store.add_observations(make_observations())
    os.chmod(tmp_path / "ro", 0o555)
    try:
        with pytest.raises(StoreError, match="cannot write the store"):
            store.add_observations(make_observations(source="other"))
        assert len(store.observations()) == 3
    finally:
        os.chmod(tmp_path / "ro", 0o755)


def test_stale_temporary_files_are_removed_on_open(store):
    store.add_observations(make_observations())
    stale = store.path.with_name(f".{store.path.name}.dead1234.tmp")
    fresh = store.path.with_name(f".{store.path.name}.live5678.tmp")
    stale.write_text("{half")
    fresh.write_text("{half")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    Store(store.path)
    assert not stale.exists() and fresh.exists()  # a recent one may belong to a live writer
    stale.write_text("{half")
    os.utime(stale, (old, old))
    store.add_observations(make_observations(source="again"))  # a writer cleans up under its lock
    assert not stale.exists() and fresh.exists()


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


def _with_excess(rows, ge):
    """Rows with G_ex (J/mol) given and S_ex derived at their T."""
    return rows.assign(GE_J=list(ge), SE_J=[(h - g) / t for h, g, t in zip(rows["HM_MIX_J"], ge, rows["T_K"])])


def test_excess_gibbs_energy_and_entropy_round_trip(store):
    rows = _with_excess(make_observations(), ge=(-4000.0, -7000.0, -5500.0))
    store.add_observations(rows)
    obs = store.observations()
    assert obs["GE_J"].tolist() == [-4000.0, -7000.0, -5500.0]
    assert obs["SE_J"].tolist() == pytest.approx([-1000.0 / 1873.0, -1000.0 / 1873.0, -500.0 / 1873.0])
    assert store.add_observations(rows).unchanged == 3
    # a row without them says nothing new: the stored ones stay
    assert store.add_observations(make_observations()).unchanged == 3
    assert store.observations()["GE_J"].notna().all()


def test_rows_stored_without_excess_are_completed_and_nothing_else_changes(store):
    old = make_observations().assign(caution=["dilute only", None, None])
    store.add_observations(old)  # the columns of a store built before GE_J/SE_J were kept
    before = store.observations()
    new = _with_excess(old, ge=(-4000.0, -7000.0, -5500.0))
    report = store.add_observations(pd.concat([new, make_observations(xs=(0.9,), values=(-1000.0,))]))
    assert (report.added, report.unchanged, report.replaced, report.completed) == (1, 0, 0, 3)
    after = store.observations()
    kept = after[after["x_B"] < 0.9]
    others = [c for c in after.columns if c not in ("GE_J", "SE_J")]
    pd.testing.assert_frame_equal(kept[others], before[others])  # HM_MIX_J, caution, timestamps
    assert kept["GE_J"].tolist() == [-4000.0, -7000.0, -5500.0]
    again = store.add_observations(new)
    assert (again.added, again.unchanged, again.completed) == (0, 3, 0)


def test_a_stored_excess_that_disagrees_is_a_conflict(store):
    store.add_observations(_with_excess(make_observations(), ge=(-4000.0, -7000.0, -5500.0)))
    before = store.path.read_bytes()
    other = _with_excess(make_observations(), ge=(-4000.0, -6000.0, -5500.0))
    with pytest.raises(StoreConflictError, match=r"1 row.*'GE_J': \(-7000.0, -6000.0\)"):
        store.add_observations(other)
    assert store.path.read_bytes() == before
    assert store.add_observations(other, replace=True).replaced == 1
    assert store.observations()["GE_J"].tolist() == [-4000.0, -6000.0, -5500.0]


def test_an_empty_excess_with_another_change_is_a_conflict_not_a_completion(store):
    store.add_observations(make_observations())
    changed = _with_excess(make_observations(values=(-5000.0, -9000.0, -6000.0)), ge=(-4000.0, -7000.0, -5500.0))
    with pytest.raises(StoreConflictError, match="HM_MIX_J"):
        store.add_observations(changed)
    assert store.observations()["GE_J"].isna().all()


def test_summary_counts_curves_with_an_excess_entropy(store):
    store.add_observations(_with_excess(make_observations(collection="c1"), ge=(-4000.0, -7000.0, -5500.0)))
    store.add_observations(make_observations(source="other.tdb", collection="c1"))
    store.add_observations(make_observations(system="IR-W", kind="aimd", source="p", xs=(0.5,), values=(1.0,),
                                             collection="c2"))
    assert store.summary()["excess_entropy"] == {
        "curves": 3, "with_SE": 1,
        "by_collection": {"c1": {"curves": 2, "with_SE": 1}, "c2": {"curves": 1, "with_SE": 0}}}
