import pytest

from mixcalphad.data.corpus import aimd_observations, build_dataset, build_store, extra_assessed_observations
from mixcalphad.data.store import OBSERVATION_COLUMNS, Store


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
    assert list(extra.columns) == list(OBSERVATION_COLUMNS)
    assert extra["system"].nunique() == 109
    assert (extra["T_K"] == 1873.0).all()
    assert extra["source"].str.contains(":").all()
    assert extra["reference"].str.contains("independent files").all()


def test_default_build_counts(default_build):
    counts = default_build.counts()
    assert counts["pycalphad-tdbs"]["systems"] >= 90
    assert counts["bizot2026"] == {"systems": 29, "points": 29}
    assert counts["immiscible_flags"] == 8
    extra = extra_assessed_observations()
    # every binary of the extra table is there, taken from the table unless a TDB already has it
    assert set(extra["system"]) <= set(default_build.observations["system"])
    assert counts["assessed-extra"]["systems"] == 109 - len(default_build.extra_skipped)


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
    tdb.write_text("""
ELEMENT /-   ELECTRON_GAS 0 0 0 !
ELEMENT VA VACUUM 0 0 0 !
ELEMENT AG FCC_A1 107.87 5744.6 42.551 !
ELEMENT PB FCC_A1 207.2 6878.5 64.785 !
PHASE LIQUID % 1 1.0 !
CONSTITUENT LIQUID :AG,PB: !
PARAMETER G(LIQUID,AG;0) 298.15 0; 6000 N !
PARAMETER G(LIQUID,PB;0) 298.15 0; 6000 N !
PARAMETER L(LIQUID,AG,PB;0) 298.15 +4000; 6000 N !
""")
    build = build_dataset([tdb], default_corpus=False, extra_table=False, aimd=False, progress=False)
    obs = build.observations
    assert set(obs["collection"]) == {"user-tdbs"} and set(obs["system"]) == {"AG-PB"}
    x = obs["x_B"].to_numpy()
    assert obs["HM_MIX_J"].to_numpy() == pytest.approx(4000 * x * (1 - x), abs=1e-6)
