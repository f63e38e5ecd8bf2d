from dataclasses import replace
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

from mixcalphad.data.corpus import (EXTRA_TABLES, aimd_observations, build_dataset, build_store,
                                    extra_assessed_observations)
from mixcalphad.data.harvest import default_corpus_paths
from mixcalphad.data.schema import EXCESS_COLUMNS, OBSERVATION_COLUMNS
from mixcalphad.data.store import Store
from mixcalphad.errors import DatasetError, TDBError

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"  # shared/ lies beside the checkout
USER_TDB = """
ELEMENT /-   ELECTRON_GAS 0 0 0 !
ELEMENT VA VACUUM 0 0 0 !
ELEMENT AG FCC_A1 107.87 5744.6 42.551 !
ELEMENT PB FCC_A1 207.2 6878.5 64.785 !
PHASE LIQUID % 1 1.0 !
CONSTITUENT LIQUID :AG,PB: !
PARAMETER G(LIQUID,AG;0) 298.15 0; 6000 N !
PARAMETER G(LIQUID,PB;0) 298.15 0; 6000 N !
PARAMETER L(LIQUID,AG,PB;0) 298.15 +{L0}; 6000 N !
"""


def test_aimd_table_is_the_papers_table_1():
    obs, flags = aimd_observations()
    assert len(obs) == 29 and obs["system"].nunique() == 29
    assert len(flags) == 8 and set(flags["flag"]) == {"immiscible"}
    assert set(flags["system"]) == {"CA-OS", "CA-RE", "CA-W", "MG-OS", "MG-RE", "MG-W", "MO-RE", "SC-W"}
    row = obs.set_index("system").loc["AL-IR"]
    assert (row["HM_MIX_J"], row["T_K"], row["x_B"]) == (-70400.0, 2750.0, 0.5)
    assert obs.set_index("system").loc["W-ZR", "HM_MIX_J"] == pytest.approx(1710.0)
    assert obs.groupby("T_K").size().to_dict() == {2750.0: 10, 3300.0: 7, 3500.0: 6, 3700.0: 6}


def test_extra_table_has_109_binaries_with_provenance():
    extra = extra_assessed_observations()
    assert list(extra.columns) == [*OBSERVATION_COLUMNS, "caution", *EXCESS_COLUMNS]
    # the table itself flags nothing; only our own source caution (GA-ND) is added
    assert set(extra.loc[extra["caution"].notna(), "system"]) == {"GA-ND"}
    assert extra["system"].nunique() == 109
    assert (extra["T_K"] == 1873.0).all()
    assert extra["source"].str.contains(":").all()
    assert extra["reference"].str.contains("independent files").all()


def test_second_extra_table_keeps_its_cautions():
    extra2 = extra_assessed_observations("assessed-extra2")
    assert extra2["system"].nunique() == 28 and len(extra2) == 28 * 9
    assert (extra2["collection"] == "assessed-extra2").all()
    assert extra2["reference"].str.startswith("mixcalphad assessed_hmix_extra2.csv: ").all()
    cautions = extra2.groupby("system")["caution"].first()
    assert cautions["FE-N"].startswith("nitrogen liquid fitted for dilute N only")
    assert cautions["AL-PT"].startswith("a second public description differs")
    assert pd.isna(cautions["AG-BI"])
    assert not set(extra2["system"]) & set(extra_assessed_observations()["system"])
    with pytest.raises(DatasetError, match="no packaged assessed table"):
        extra_assessed_observations("nope")


def test_third_extra_table_and_its_cautions():
    extra3 = extra_assessed_observations("assessed-extra3")
    assert extra3["system"].nunique() == 15 and len(extra3) == 15 * 9
    assert (extra3["collection"] == "assessed-extra3").all()
    cautions = extra3.groupby("system")["caution"].first()
    assert sorted(cautions[cautions.isna()].index) == ["AL-CA", "C-TA", "CA-MG", "CA-ZN", "P-SI"]
    assert cautions["N-ZR"].startswith("dilute-type N in liquid Zr")
    earlier = set(extra_assessed_observations()["system"]) | set(extra_assessed_observations("assessed-extra2")["system"])
    assert not set(extra3["system"]) & earlier


@pytest.mark.parametrize("collection", sorted(EXTRA_TABLES))
def test_packaged_tables_carry_excess_gibbs_energy_and_entropy(collection):
    """Every packaged point has G_ex (J/mol) and S_ex (J/(mol K)) that satisfy H = G_ex + T S_ex to
    the tables' rounding (0.1 J, 1e-4 J/(mol K)), and the observations carry them unchanged."""
    table = extra_assessed_observations(collection)
    raw = pd.read_csv(resources.files("mixcalphad.data").joinpath(EXTRA_TABLES[collection]).open())
    assert table[list(EXCESS_COLUMNS)].notna().all().all()
    assert table["GE_J"].tolist() == raw["GE_J"].tolist() and table["SE_J"].tolist() == raw["SE_J"].tolist()
    gap = (table["HM_MIX_J"] - table["GE_J"] - table["T_K"] * table["SE_J"]).abs()
    assert gap.max() < 0.1


def test_training_leaves_out_the_elements_without_fusion_data():
    """extra3's H, N and S binaries serve provenance and TDB output: the predictor cannot train on them."""
    from mixcalphad.model.regressor import training_rows

    extra3 = extra_assessed_observations("assessed-extra3")
    trained = set(training_rows(extra3)["system"])
    assert set(extra3["system"]) - trained == {"CO-H", "CU-H", "H-LA", "H-MN", "H-NI", "N-ZR", "S-TI"}


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared reference data are not here")
@pytest.mark.parametrize("name", sorted(EXTRA_TABLES.values()))
def test_packaged_tables_are_the_shared_ones(name):
    packaged = resources.files("mixcalphad.data").joinpath(name).read_bytes()
    assert packaged == (SHARED / name).read_bytes()


def test_our_source_cautions_flag_rows_and_keep_the_numbers():
    ours = pd.read_csv(resources.files("mixcalphad.data").joinpath("source_cautions.csv").open())
    tables = pd.concat([extra_assessed_observations(c) for c in EXTRA_TABLES], ignore_index=True)
    raw = pd.concat([pd.read_csv(resources.files("mixcalphad.data").joinpath(t).open()) for t in EXTRA_TABLES.values()],
                    ignore_index=True)
    for row in ours.itertuples():
        hit = (tables["system"] == row.system) & (tables["source"] == row.source)
        assert hit.sum() == 9, f"{row.system}: a source caution must match a packaged curve"  # no typo goes unseen
        assert (tables.loc[hit, "caution"] == row.caution).all()
        same = (raw["system"] == row.system) & (raw["source"] == row.source)
        assert sorted(tables.loc[hit, "HM_MIX_J"]) == sorted(raw.loc[same, "HM_MIX_J"])  # numbers untouched
    ga_nd = tables[tables["system"] == "GA-ND"]
    assert ga_nd["caution"].str.contains("placeholder").all()
    # a caution a packaged table gives itself is kept, never replaced
    assert extra_assessed_observations("assessed-extra2").groupby("system")["caution"].first()["FE-N"].startswith(
        "nitrogen liquid")


def test_cautions_reach_the_store(tmp_path):
    build = build_dataset(default_corpus=False, aimd=False, progress=False)
    store = Store(tmp_path / "s.json")
    build_store(store, build)
    obs = store.observations(system="N-W")
    assert len(obs) == 9 and obs["caution"].str.contains("round-number L0").all()
    summary = store.summary()
    assert summary["by_collection"]["assessed-extra2"]["systems"] == 28
    # the five hydrogen binaries of extra3 cannot be stored (H is not in the element table): reported
    assert summary["by_collection"]["assessed-extra3"]["systems"] == 10
    assert [what for what, _ in build.skipped] == [f"assessed_hmix_extra3.csv: {s}"
                                                   for s in ("CO-H", "CU-H", "H-LA", "H-MN", "H-NI")]
    assert all("element(s) H not in the element table" in why for _, why in build.skipped)
    assert store.observations(system="N-ZR")["caution"].str.contains("dilute-type N").all()
    # every packaged curve carries its excess entropy into the store
    assert summary["excess_entropy"]["by_collection"] == {
        "assessed-extra": {"curves": 109, "with_SE": 109}, "assessed-extra2": {"curves": 28, "with_SE": 28},
        "assessed-extra3": {"curves": 10, "with_SE": 10}}


def test_default_build_counts(default_build):
    counts = default_build.counts()
    assert counts["pycalphad-tdbs"]["systems"] >= 90
    assert counts["bizot2026"] == {"systems": 29, "points": 29}
    assert counts["immiscible_flags"] == 8
    extra = extra_assessed_observations()
    # every binary of the extra table is there, taken from the table unless a TDB already has it
    assert set(extra["system"]) <= set(default_build.observations["system"])
    assert counts["assessed-extra"]["systems"] == 109 - len(default_build.extra_skipped)
    # no binary of the three tables is among pycalphad's TDBs or an earlier table: all are kept
    assert default_build.extra_skipped == []
    assert counts["assessed-extra2"] == {"systems": 28, "points": 252}
    assert counts["assessed-extra3"] == {"systems": 10, "points": 90}  # without the 5 H binaries
    assert counts["systems_total"] == 268
    # every assessed curve (harvested or packaged) has an excess entropy at every point, AIMD none
    obs = default_build.observations
    assessed = obs["kind"] == "assessed"
    assert obs.loc[assessed, "SE_J"].notna().all() and obs.loc[~assessed, "SE_J"].isna().all()


def test_no_binary_counted_twice_between_tdbs_and_extra_table(default_build):
    obs = default_build.observations
    tdb_systems = set(obs.loc[obs["collection"] == "pycalphad-tdbs", "system"])
    extra_systems = set(obs.loc[obs["collection"] == "assessed-extra", "system"])
    assert not tdb_systems & extra_systems
    assert set(default_build.extra_skipped) <= tdb_systems


def test_build_store_is_idempotent(default_build, tmp_path):
    store = Store(tmp_path / "s.json")
    first = build_store(store, default_build)
    again = build_store(store, default_build)
    assert first["observations"].added == len(default_build.observations)
    assert again["observations"].added == 0 and again["flags"].added == 0
    summary = store.summary()
    assert summary["by_kind"]["aimd"]["systems"] == 29
    assert summary["flags"] == {"immiscible": 8}


def test_user_tdb_is_its_own_collection(tmp_path):
    tdb = tmp_path / "user.tdb"
    tdb.write_text(USER_TDB.format(L0=4000))
    build = build_dataset([tdb], default_corpus=False, extra_table=False, aimd=False, progress=False)
    obs = build.observations
    assert set(obs["collection"]) == {"user-tdbs"} and set(obs["system"]) == {"AG-PB"}
    x = obs["x_B"].to_numpy()
    assert obs["HM_MIX_J"].to_numpy() == pytest.approx(4000 * x * (1 - x), abs=1e-6)


def test_user_file_named_like_a_pycalphad_one_is_another_source(tmp_path):
    """Bug 6: a user 'pbsn.tdb' and pycalphad's 'pbsn.tdb', and two different 'db.tdb', coexist."""
    pbsn = next(p for p in default_corpus_paths() if p.name == "pbsn.tdb")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    user_pbsn = USER_TDB.format(L0=4000).replace("AG", "SN").replace("SN FCC_A1 107.87 5744.6 42.551", "SN BCT_A5 118.71 6322 51.195")
    (tmp_path / "a" / "pbsn.tdb").write_text(user_pbsn)  # a Pb-Sn liquid unlike pycalphad's
    (tmp_path / "a" / "db.tdb").write_text(USER_TDB.format(L0=-2000))
    (tmp_path / "b" / "db.tdb").write_text(USER_TDB.format(L0=-9000))
    build = build_dataset([pbsn, tmp_path], default_corpus=False, extra_table=False, aimd=False,
                          progress=False)
    store = Store(tmp_path / "s.json")
    build_store(store, build)
    obs = store.observations()
    assert obs.groupby("source")["checksum"].nunique().to_dict() == {"db.tdb": 2, "pbsn.tdb": 2}
    assert set(obs.loc[obs["source"] == "pbsn.tdb", "collection"]) == {"pycalphad-tdbs", "user-tdbs"}
    assert obs.loc[obs["system"] == "PB-SN"].groupby("collection").size().to_dict() == {"pycalphad-tdbs": 9,
                                                                                     "user-tdbs": 9}
    before = obs.set_index(["checksum", "system", "x_B"])["HM_MIX_J"]
    # a changed user file replaces its own rows only, never the other file of the same name
    (tmp_path / "b" / "db.tdb").write_text(USER_TDB.format(L0=-9000) + "$ edited\n")
    again = build_dataset([tmp_path / "b"], default_corpus=False, extra_table=False, aimd=False, progress=False)
    assert build_store(store, again, replace=True)["observations"].added == 9
    after = store.observations().set_index(["checksum", "system", "x_B"])["HM_MIX_J"]
    assert after.loc[before.index].equals(before)


def test_a_named_file_that_fails_stops_the_build(tmp_path):
    bad = tmp_path / "broken.tdb"
    bad.write_bytes(b"PARAMETER G(LIQUID,AL;0) 298.15 +1 6000 N !\n\x1b[31m\xff")
    good = tmp_path / "good"
    good.mkdir()
    (good / "user.tdb").write_text(USER_TDB.format(L0=4000))
    with pytest.raises(TDBError, match="broken.tdb: pycalphad cannot parse it") as info:
        build_dataset([bad, good], default_corpus=False, extra_table=False, aimd=False, progress=False)
    assert str(info.value).isprintable()
    # found in a folder, the same file is reported and the build goes on
    (good / "broken.tdb").write_bytes(bad.read_bytes())
    build = build_dataset([good], default_corpus=False, extra_table=False, aimd=False, progress=False)
    assert [Path(f).name for f, _ in build.files_failed] == ["broken.tdb"]
    assert set(build.observations["system"]) == {"AG-PB"}


def test_cli_data_build_fails_on_a_named_broken_file(tmp_path, capsys):
    from mixcalphad.cli import main

    bad = tmp_path / "broken.tdb"
    bad.write_bytes(b"\x00\x01\x02 binary \x1b[31m")
    store = tmp_path / "s.json"
    assert main(["data", "build", "--no-default", "--tdb", str(bad), "--store", str(store)]) == 2
    err = capsys.readouterr().err
    assert "broken.tdb: not a TDB text file (binary content)" in err and "\x1b" not in err
    assert not store.exists()


def test_data_build_completes_a_store_built_before_excess_entropies(tmp_path, capsys):
    """A store whose rows lack GE_J/SE_J (built before they were kept) is completed by `data build`,
    changing nothing else; a second build does nothing; a stored value that disagrees is a conflict."""
    import json

    from mixcalphad.cli import main
    from mixcalphad.errors import StoreConflictError

    tdb = tmp_path / "user.tdb"
    tdb.write_text(USER_TDB.format(L0="4000-2*T"))
    path = tmp_path / "s.json"
    argv = ["data", "build", "--no-default", "--tdb", str(tdb), "--store", str(path), "--json"]
    build = build_dataset([tdb], default_corpus=False, progress=False)
    build_store(Store(path), replace(build, observations=build.observations.drop(columns=list(EXCESS_COLUMNS))))
    old = Store(path).observations()
    assert old["SE_J"].isna().all()
    with_se = int(build.observations["SE_J"].notna().sum())
    assert build.extra_skipped == ["AG-PB"]  # taken from the user's file, not the second table
    assert with_se == 9 + (109 + 28 - 1 + 10) * 9  # the user's curve and the three tables; AIMD rows have none

    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)["inserted"]["observations"]
    assert report == {"added": 0, "unchanged": len(old) - with_se, "replaced": 0, "completed": with_se}
    new = Store(path).observations()
    same = [c for c in new.columns if c not in EXCESS_COLUMNS]
    pd.testing.assert_frame_equal(new[same], old[same])  # HM_MIX_J, provenance, timestamps untouched
    user = new[new["collection"] == "user-tdbs"].sort_values("x_B")
    x = user["x_B"].to_numpy()
    assert user["GE_J"].to_numpy() == pytest.approx((4000 - 2 * 1873.0) * x * (1 - x), abs=1e-9)
    assert user["SE_J"].to_numpy() == pytest.approx(2 * x * (1 - x), abs=1e-12)

    assert main(argv) == 0  # idempotent
    again = json.loads(capsys.readouterr().out)["inserted"]["observations"]
    assert again == {"added": 0, "unchanged": len(old), "replaced": 0, "completed": 0}

    data = json.loads(path.read_text())
    doc = next(d for d in data["observations"].values() if d["collection"] == "user-tdbs" and d["x_B"] == 0.5)
    doc["GE_J"] += 500.0
    path.write_text(json.dumps(data))
    before = path.read_bytes()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "would change an existing value" in err and "'GE_J'" in err and "--replace" in err
    assert path.read_bytes() == before  # nothing written
    with pytest.raises(StoreConflictError, match="GE_J"):
        build_store(Store(path), build)
    assert main([*argv, "--replace"]) == 0
    assert json.loads(capsys.readouterr().out)["inserted"]["observations"]["replaced"] == 1
