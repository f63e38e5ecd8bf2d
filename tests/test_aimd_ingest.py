"""A whole synthetic campaign: prepare → (fake VASP) → status/advance → hmix → ingest, with designed
ΔH_mix; mixed settings, flagged runs and store conflicts write nothing."""
import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from mixcalphad.errors import IngestError, MissingRunFilesError, SettingsMismatchError
from mixcalphad.aimd.ingest import COLLECTION, RUNS_TABLE, hmix_from_folders, ingest_vasp_runs
from mixcalphad.aimd.status import advance_runs, runs_status, volume_fit_of
from mixcalphad.aimd.vasp import prepare_vasp_runs, read_manifest
from mixcalphad.data.store import Store

from helpers import load_fixtures, run_cli


fx = load_fixtures()
MODEL = dataclasses.replace(fx.Model(), sigma_p=4.0)
DESIGNED = fx.designed_hmix_J(MODEL)          # −70 400 J/mol for AL–IR and CU–IR at x = 0.5
SMALL = {"n_atoms": 10, "production_ps": 2.4, "stage_ps": 0.6, "equilibration_ps": 1.2}


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    """AL–IR and CU–IR at 2750 K, 10 atoms per run, run to the end by the fake VASP."""
    mp = pytest.MonkeyPatch()
    mp.delenv("VASP_PP_PATH", raising=False)
    runs = tmp_path_factory.mktemp("campaign") / "runs"
    prepare_vasp_runs(["AL-IR", "CU-IR"], runs, **SMALL)
    fx.run_campaign(runs, MODEL, production_files=("vasprun.xml",))
    mp.undo()
    return runs


def copy_of(campaign, tmp_path) -> Path:
    dest = tmp_path / "runs"
    shutil.copytree(campaign, dest)
    return dest


def cli_json(capsys, *argv):
    code = run_cli(list(argv))
    out = capsys.readouterr()
    return code, (json.loads(out.out) if out.out.strip().startswith("{") else out.out), out.err


def test_campaign_runs_share_the_ir_reference_and_finish(campaign):
    manifest = read_manifest(campaign)
    assert manifest["n_runs"] == 5 and manifest["n_runs_unshared"] == 6 and manifest["runs_saved"] == 1
    statuses = {s.run_id: s for s in runs_status(campaign)}
    assert set(statuses) == {"AL10_2750K", "IR10_2750K", "CU10_2750K", "AL5IR5_2750K", "CU5IR5_2750K"}
    for s in statuses.values():
        assert s.state == "production-done", s
        assert len(s.stages) >= 4 and s.accepted_stage      # the search had to step from the Vegard guess
        accepted = next(st for st in s.stages if st.name == s.accepted_stage)
        assert abs(accepted.p_kbar) < 2 and accepted.p_sem_kbar < 1
    # the Vegard start is 5 % too small for the designed Al: the search found v0 = 1.05 × start
    assert statuses["AL10_2750K"].accepted_stage[5:] in ("1.049", "1.050", "1.051")
    assert statuses["IR10_2750K"].accepted_stage[5:] in ("0.969", "0.970", "0.971")
    assert (campaign / "production_jobs.txt").read_text() == "" and (campaign / "volume_jobs.txt").read_text() == ""


def test_status_progression(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("VASP_PP_PATH", raising=False)
    runs = tmp_path / "runs"
    prepare_vasp_runs(["AL-IR"], runs, **SMALL)
    assert {s.state for s in runs_status(runs)} == {"missing"}
    run = runs / "AL10_2750K"
    for stage in sorted((run / "volume").iterdir())[:2]:
        fx.fake_vasp(stage, MODEL, files=("vasprun.xml",))
    st = {s.run_id: s for s in runs_status(runs)}["AL10_2750K"]
    assert st.state == "volume-search" and "s02_v1.040" in st.reason
    fx.fake_vasp(run / "volume" / "s02_v1.040", MODEL, files=("vasprun.xml",))
    st = {s.run_id: s for s in runs_status(runs)}["AL10_2750K"]
    assert st.state == "volume-search" and st.next_volume_A3 and "next stage at" in st.reason
    code, out, _ = cli_json(capsys, "aimd", "status", str(runs), "--advance", "--json")
    assert code == 0 and any("new stage s03" in a for a in out["actions"])
    (new,) = [p for p in (run / "volume").iterdir() if p.name.startswith("s03_")]
    assert new.name[5:] in ("1.049", "1.050", "1.051")                                  # v0 = 1.05 × start
    assert f"AL10_2750K/volume/{new.name}" in (runs / "volume_jobs.txt").read_text().split()
    fx.fake_vasp(new, MODEL, files=("vasprun.xml",))
    advance_runs(runs)
    st = {s.run_id: s for s in runs_status(runs)}["AL10_2750K"]
    assert st.state == "production-ready" and (run / "production" / "POSCAR").is_file()
    assert (runs / "production_jobs.txt").read_text().split() == ["AL10_2750K/production"]
    # a wall-time kill: truncated output, complete steps kept, the partial one counted
    fx.fake_vasp(run / "production", MODEL, files=("vasprun.xml",), truncate_at=0.5)
    st = {s.run_id: s for s in runs_status(runs)}["AL10_2750K"]
    assert st.state == "production-running" and st.steps_lost == 1 and "restart from CONTCAR" in st.reason
    assert 0 < st.production_steps < 800
    # an INCAR edited away from the protocol makes the run fail, with the reason
    incar = run / "production" / "INCAR"
    incar.write_text(incar.read_text().replace("ISIF   = 2", "ISIF   = 0"))
    st = {s.run_id: s for s in runs_status(runs)}["AL10_2750K"]
    assert st.state == "failed" and "ISIF: expected 2, found 0" in st.reason
    code, text, _ = cli_json(capsys, "aimd", "status", str(runs))
    assert code == 0 and "failed" in text and "2 missing" in text


def test_hmix_cli_returns_the_designed_value(campaign, capsys):
    code, out, err = cli_json(capsys, "aimd", "hmix", "--pure-a", str(campaign / "IR10_2750K"),
                              "--pure-b", str(campaign / "AL10_2750K"), "--alloy", str(campaign / "AL5IR5_2750K"),
                              "--json")
    assert code == 0 and err == ""
    assert out["system"] == "AL-IR" and out["x_B"] == 0.5 and out["T_K"] == 2750 and out["unit"] == "J/mol of atoms"
    assert 50 < out["sigma_J"] < 600
    assert abs(out["HM_MIX_J"] - DESIGNED) < out["sigma_J"]
    assert out["flags"] == []
    for role in ("pure_a", "pure_b", "alloy"):
        run = out["runs"][role]
        assert abs(run["p_kbar"]) < 2 and run["p_sem_kbar"] < 1 and run["n_eff"] >= 50 and run["msd_A2"] > 2
    assert out["runs"]["pure_a"]["composition"] == {"AL": 10}      # sorted pair, whatever the order given
    code, text, _ = cli_json(capsys, "aimd", "hmix", "--pure-a", str(campaign / "CU10_2750K"), "--pure-b",
                             str(campaign / "IR10_2750K"), "--alloy", str(campaign / "CU5IR5_2750K"))
    assert code == 0 and "CU-IR" in text and "ΔH_mix = -70." in text and "p̄ ± SEM" in text


def test_the_energy_definition_matters(campaign):
    """F instead of e_wo_entrp would miss the designed value by the electronic-entropy term."""
    from mixcalphad.aimd.analysis import ProductionSeries, analyze_series
    from mixcalphad.aimd.settings import EV_TO_J_PER_MOL
    from mixcalphad.aimd.vasp_outputs import read_outputs

    def h(run_id, energy):
        traj = read_outputs(campaign / run_id / "production")
        series = ProductionSeries(energy_eV=traj.energy(energy), n_atoms=10, volume_A3=traj.volume[0], T_K=2750,
                                  symbols=traj.symbols)
        return analyze_series(series, traj.settings()).E_eV

    def dh(energy):
        return (h("AL5IR5_2750K", energy) - 0.5 * h("AL10_2750K", energy)
                - 0.5 * h("IR10_2750K", energy)) * EV_TO_J_PER_MOL

    wrong, right = dh("e_free+ekin"), dh("e_wo_entrp+ekin")
    res = hmix_from_folders(campaign / "AL10_2750K", campaign / "IR10_2750K", campaign / "AL5IR5_2750K")
    assert abs(wrong - DESIGNED) > 8 * res.sigma_J
    assert abs(right - DESIGNED) < 2 * res.sigma_J
    assert wrong - right == pytest.approx(-MODEL.TS_mix_extra * EV_TO_J_PER_MOL, rel=1e-6)


def test_ingest_is_idempotent_and_records_the_source(campaign, tmp_path, capsys):
    store = Store(tmp_path / "store.json")
    first = ingest_vasp_runs(campaign, store)
    assert set(first.added) == {"AL-IR_x0.500_2750K", "CU-IR_x0.500_2750K"} and not first.failed
    obs = store.observations()
    assert list(obs["kind"]) == ["aimd", "aimd"] and set(obs["collection"]) == {COLLECTION}
    for _, row in obs.iterrows():
        assert abs(row["HM_MIX_J"] - DESIGNED) < 3 * row["sigma_J"] and row["T_K"] == 2750 and row["x_B"] == 0.5
        ref = json.loads(row["reference"])
        assert ref["code"] == "vasp" and ref["version"] == "6.4.2" and ref["settings_key"]["encut_eV"] == 400
        files = ref["runs"]["alloy"]["files"]
        assert any(f.endswith("production/vasprun.xml") for f in files) and all(len(h) == 64 for h in files.values())
    assert row["source"].startswith("aimd-vasp/")
    runs = store.records(RUNS_TABLE)
    assert sorted(runs["run_id"]) == sorted(["AL10_2750K", "AL5IR5_2750K", "CU10_2750K", "CU5IR5_2750K", "IR10_2750K"])
    before = store.path.read_bytes()
    code, out, _ = cli_json(capsys, "aimd", "ingest", str(campaign), "--store", str(store.path), "--json")
    assert code == 0 and set(out["unchanged"]) == set(first.added) and out["added"] == []
    assert len(store.observations()) == 2 and len(store.records(RUNS_TABLE)) == 5
    assert json.loads(before)["observations"] == json.loads(store.path.read_bytes())["observations"]


def test_changed_files_conflict_and_write_nothing(campaign, tmp_path):
    runs = copy_of(campaign, tmp_path)
    store = Store(tmp_path / "store.json")
    ingest_vasp_runs(runs, store)
    before = store.path.read_bytes()
    fx.fake_vasp(runs / "AL5IR5_2750K" / "production", MODEL, seed=12345)   # a re-run: other numbers
    report = ingest_vasp_runs(runs, store)
    assert [j for j, _ in report.failed] == ["AL-IR_x0.500_2750K"]
    assert "store conflict, nothing written" in report.failed[0][1]
    assert report.unchanged == ("CU-IR_x0.500_2750K",)
    assert store.path.read_bytes() == before
    replaced = ingest_vasp_runs(runs, store, replace=True)
    assert replaced.replaced == ("AL-IR_x0.500_2750K",)


def test_mixed_settings_fail_that_binary_only(campaign, tmp_path, capsys):
    runs = copy_of(campaign, tmp_path)
    # the Cu reference re-run with ENCUT = 450: its INCAR and outputs no longer match
    prod = runs / "CU10_2750K" / "production"
    (prod / "INCAR").write_text((prod / "INCAR").read_text().replace("ENCUT  = 400", "ENCUT  = 450"))
    fx.fake_vasp(prod, MODEL)
    store = Store(tmp_path / "store.json")
    report = ingest_vasp_runs(runs, store)
    assert report.added == ("AL-IR_x0.500_2750K",)
    assert [j for j, _ in report.failed] == ["CU-IR_x0.500_2750K"] and "ENCUT: expected 400, found 450" in report.failed[0][1]
    assert list(store.observations()["system"]) == ["AL-IR"]
    assert "CU10_2750K" not in set(store.records(RUNS_TABLE)["run_id"])
    assert "CU5IR5_2750K" not in set(store.records(RUNS_TABLE)["run_id"])
    # the outputs themselves disagree too: hmix refuses to combine them
    with pytest.raises(SettingsMismatchError, match=r"encut_eV: 400.0 vs 450.0"):
        hmix_from_folders(runs / "CU10_2750K", runs / "IR10_2750K", runs / "CU5IR5_2750K")
    code, _, err = cli_json(capsys, "aimd", "hmix", "--pure-a", str(runs / "CU10_2750K"), "--pure-b",
                            str(runs / "IR10_2750K"), "--alloy", str(runs / "CU5IR5_2750K"))
    assert code == 2 and err.startswith("error: alloy run CU5IR5_2750K and pure CU run CU10_2750K differ")
    assert err.count("\n") == 1
    code, _, _ = cli_json(capsys, "aimd", "ingest", str(runs), "--store", str(tmp_path / "s2.json"))
    assert code == 1


def plain_folder(campaign, tmp_path, name, model, nsteps=None) -> Path:
    """A plain output folder (no volume stages) next to copies of a production run's inputs."""
    folder = tmp_path / name
    folder.mkdir()
    for f in ("INCAR", "POSCAR", "POTCAR.spec"):
        shutil.copy(campaign / "AL5IR5_2750K" / "production" / f, folder / f)
    fx.fake_vasp(folder, model, nsteps=nsteps)
    return folder


@pytest.mark.parametrize("flaw, model, nsteps, flag", [
    ("pressure", dataclasses.replace(MODEL, p_offset_kbar=6.0), None, "pressure_window"),
    ("short", MODEL, 60, "short"),
    ("solid", dataclasses.replace(MODEL, liquid=False), None, "not_liquid"),
])
def test_flawed_runs_are_flagged_not_accepted(campaign, tmp_path, capsys, flaw, model, nsteps, flag):
    alloy = plain_folder(campaign, tmp_path, flaw, model, nsteps)
    code, out, err = cli_json(capsys, "aimd", "hmix", "--pure-a", str(campaign / "AL10_2750K"), "--pure-b",
                              str(campaign / "IR10_2750K"), "--alloy", str(alloy), "--json")
    assert code == 0
    assert f"alloy:{flag}" in out["flags"] and flag in out["runs"]["alloy"]["flags"]
    assert "alloy:no_volume_fit" in out["flags"]          # a plain folder has no volume search
    assert "warning: flagged" in err and flag in err


def test_flagged_binary_is_not_ingested_unless_asked(campaign, tmp_path):
    runs = copy_of(campaign, tmp_path)
    fx.fake_vasp(runs / "AL5IR5_2750K" / "production", dataclasses.replace(MODEL, liquid=False))
    store = Store(tmp_path / "store.json")
    report = ingest_vasp_runs(runs, store)
    assert [j for j, _ in report.flagged] == ["AL-IR_x0.500_2750K"] and "alloy:not_liquid" in report.flagged[0][1]
    assert list(store.observations()["system"]) == ["CU-IR"]
    forced = ingest_vasp_runs(runs, store, include_flagged=True)
    assert forced.added == ("AL-IR_x0.500_2750K",)
    ref = json.loads(store.observations(system="AL-IR")["reference"].iloc[0])
    assert "alloy:not_liquid" in ref["flags"]


def test_pending_and_missing(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("VASP_PP_PATH", raising=False)
    prepare_vasp_runs(["AL-IR"], tmp_path / "runs", **SMALL)
    report = ingest_vasp_runs(tmp_path / "runs", Store(tmp_path / "store.json"))
    assert report.pending and not report.added and "not finished" in report.pending[0][1]
    with pytest.raises(IngestError, match="no manifest.json"):
        ingest_vasp_runs(tmp_path, Store(tmp_path / "s.json"))
    with pytest.raises(MissingRunFilesError):
        hmix_from_folders(tmp_path / "runs" / "AL10_2750K", tmp_path / "runs" / "IR10_2750K",
                          tmp_path / "runs" / "AL5IR5_2750K")
    code, _, err = cli_json(capsys, "aimd", "ingest", str(tmp_path), "--store", str(tmp_path / "s.json"))
    assert code == 2 and "has no manifest.json" in err


def test_prepare_cli(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("VASP_PP_PATH", raising=False)
    plan = tmp_path / "plan.csv"
    plan.write_text("system,T_K,score\nIR-AL,,1\nIR-TI,,2\nOS-AL,,3\n")
    code, out, _ = cli_json(capsys, "aimd", "prepare", "--plan", str(plan), "-o", str(tmp_path / "runs"),
                            "--atoms", "20", "--json")
    assert code == 0 and out["n_runs"] == 8 and out["n_runs_unshared"] == 9 and out["runs_saved"] == 1
    assert not out["potcar_written"] and "Ir" in out["missing_potcars"]
    code, text, _ = cli_json(capsys, "aimd", "prepare", "--systems", "CU-NI", "-o", str(tmp_path / "r2"),
                             "--atoms", "20")
    assert code == 0 and "1 binary point(s) need 3 runs" in text and "POTCAR not written" in text


def test_a_vasp_stage_that_crystallised_is_not_fitted_and_the_next_starts_fresh(tmp_path, monkeypatch, capsys):
    """`aimd status` judges each finished stage of ≥ 2 ps by its MSD: a stage whose atoms only vibrate
    is named in the status and left out of the fit, the next stage continues a liquid stage, and once
    every stage crystallised the next one is a fresh random packing."""
    monkeypatch.delenv("VASP_PP_PATH", raising=False)
    runs = tmp_path / "runs"
    prepare_vasp_runs(["AL-IR"], runs, **{**SMALL, "stage_ps": 2.1})
    run = runs / "AL10_2750K"
    first = sorted((run / "volume").iterdir())
    crystal = dataclasses.replace(MODEL, liquid=False)
    for stage, model in zip(first, (MODEL, MODEL, crystal)):
        fx.fake_vasp(stage, model, files=("vasprun.xml",))
    st = {s.run_id: s for s in runs_status(runs)}["AL10_2750K"]
    assert [s.liquid for s in st.stages] == [True, True, False]
    assert st.state == "volume-search" and f"not liquid, not fitted: {first[2].name}" in st.reason
    liquid_only = volume_fit_of(run)
    assert liquid_only.fitted_points == liquid_only.points[:2]
    code, out, _ = cli_json(capsys, "aimd", "status", str(runs), "--advance", "--json")
    assert code == 0 and any("new stage s03" in a and "fresh packing" not in a for a in out["actions"])
    # every stage crystallised: no fit, and a fresh packing at the volume nearest p = 0
    runs2 = tmp_path / "runs2"
    prepare_vasp_runs(["AL-IR"], runs2, **{**SMALL, "stage_ps": 2.1})
    for stage in sorted((runs2 / "AL10_2750K" / "volume").iterdir()):
        fx.fake_vasp(stage, crystal, files=("vasprun.xml",))
    st = {s.run_id: s for s in runs_status(runs2)}["AL10_2750K"]
    assert [s.liquid for s in st.stages] == [False, False, False] and st.next_volume_A3
    actions = advance_runs(runs2)
    assert any("new stage s03" in a and "fresh packing: every stage so far crystallised" in a for a in actions)
