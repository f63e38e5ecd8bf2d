"""The campaign as a jobflow Flow run end to end against a fake VASP executable, then ingested; status
of a campaign synchronised back from a cluster, partial or complete; truncated outputs (issue 10, bug 9)."""
import shutil
import sys
from pathlib import Path

import pytest

from mixcalphad.aimd.ingest import ingest_vasp_runs
from mixcalphad.aimd.status import runs_status
from mixcalphad.aimd.vasp import prepare_vasp_runs
from mixcalphad.data.store import Store

from helpers import load_fixtures


fx = load_fixtures()
SMALL = {"n_atoms": 10, "production_ps": 2.4, "stage_ps": 0.6, "equilibration_ps": 1.2}
FAKE_VASP = f"{sys.executable} {Path(__file__).parent / 'data' / 'aimd' / 'fake_vasp_exe.py'} --files vasprun.xml"


@pytest.fixture(scope="module")
def flow_run(tmp_path_factory):
    """AL–IR and CU–IR (pure Ir shared) run by jobflow's local manager with the fake VASP."""
    pytest.importorskip("jobflow")
    from jobflow.managers.local import run_locally

    from mixcalphad.aimd.workflows import campaign_flow

    root = tmp_path_factory.mktemp("flow")
    mp = pytest.MonkeyPatch()
    mp.delenv("VASP_PP_PATH", raising=False)
    runs = root / "runs"
    prepare_vasp_runs(["AL-IR", "CU-IR"], runs, **SMALL)
    flow = campaign_flow(runs, FAKE_VASP, store=root / "store.json")
    responses = run_locally(flow, log=False, ensure_success=True)
    mp.undo()
    return runs, root / "store.json", flow, responses


def test_flow_runs_the_campaign_end_to_end_and_ingests(flow_run):
    runs, store_path, flow, responses = flow_run
    # 5 runs (Ir shared): 3 stages + 1 advance each, then one ingest job
    assert len(flow.jobs) == 5 * 4 + 1
    assert {s.state for s in runs_status(runs)} == {"production-done"}
    store = Store(store_path)
    obs = store.observations(kind="aimd")
    assert sorted(obs["system"]) == ["AL-IR", "CU-IR"]
    designed = fx.designed_hmix_J(fx.Model())
    for _, row in obs.iterrows():                          # the hidden answer comes back within σ-ish
        assert abs(row["HM_MIX_J"] - designed) < 3 * row["sigma_J"]
    ingest_out = [r for per in responses.values() for r in per.values()
                  if isinstance(r.output, dict) and "added" in r.output]
    assert ingest_out and sorted(ingest_out[-1].output["added"]) == ["AL-IR_x0.500_2750K", "CU-IR_x0.500_2750K"]
    again = ingest_vasp_runs(runs, store)                  # idempotent after the flow
    assert sorted(again.unchanged) == ["AL-IR_x0.500_2750K", "CU-IR_x0.500_2750K"]


def test_status_of_a_partially_synchronised_campaign(flow_run, tmp_path):
    runs, _, _, _ = flow_run
    part = tmp_path / "runs"
    shutil.copytree(runs, part)
    shutil.rmtree(part / "CU10_2750K")                     # not copied back yet
    prod = part / "AL5IR5_2750K" / "production"
    text = (prod / "vasprun.xml").read_text(encoding="latin-1")
    (prod / "vasprun.xml").write_text(text[: len(text) // 2], encoding="latin-1")   # copy in progress
    (prod / ".vasprun.xml.Xy12ab").write_text("rsync temporary")                   # ignored
    st = {s.run_id: s for s in runs_status(part)}
    assert st["CU10_2750K"].state == "missing" and "not synchronised" in st["CU10_2750K"].reason
    assert st["AL5IR5_2750K"].state == "production-running" and st["AL5IR5_2750K"].steps_lost == 1
    assert st["IR10_2750K"].state == st["AL10_2750K"].state == st["CU5IR5_2750K"].state == "production-done"
    report = ingest_vasp_runs(part, Store(tmp_path / "s.json"))
    pending = dict(report.pending)
    assert set(pending) == {"AL-IR_x0.500_2750K", "CU-IR_x0.500_2750K"} and not report.failed


@pytest.mark.parametrize("cut", ["empty", "header"])
def test_truncated_outcar_is_reported_as_truncated(tmp_path, cut):
    """Before the fix: an empty or cut OUTCAR beside a complete OSZICAR (no vasprun.xml) showed as
    production-done, and ingest failed with a misleading POTCAR-label mismatch."""
    runs = tmp_path / "runs"
    prepare_vasp_runs(["AL-IR"], runs, **SMALL)
    fx.run_campaign(runs, fx.Model(), production_files=("OUTCAR", "OSZICAR"))
    outcar = runs / "AL5IR5_2750K" / "production" / "OUTCAR"
    outcar.write_text("" if cut == "empty" else outcar.read_text()[:300])
    st = {s.run_id: s for s in runs_status(runs)}["AL5IR5_2750K"]
    assert st.state == "failed" and "truncated" in st.reason and "OUTCAR" in st.reason
    report = ingest_vasp_runs(runs, Store(tmp_path / "s.json"))
    (job, reason), = report.failed
    assert "truncated" in reason and "POTCAR" not in reason.split("truncated")[0]
    from mixcalphad.aimd.vasp_outputs import read_outputs
    from mixcalphad.errors import AIMDParseError
    with pytest.raises(AIMDParseError, match="the output is truncated"):
        read_outputs(outcar.parent)


@pytest.mark.parametrize("occupation, flagged", [(5e-4, True), (5e-5, False)])
def test_top_band_occupation_above_1e_4_is_flagged(tmp_path, occupation, flagged):
    """The limit was 1e-3; NBANDS is now set for 1e-4 (aimd.md) and the ingest checks that."""
    from mixcalphad.aimd.analysis import analyze_run
    from mixcalphad.aimd.vasp_outputs import read_outputs

    runs = tmp_path / "runs"
    prepare_vasp_runs(["AL-IR"], runs, n_atoms=10, production_ps=0.6, stage_ps=0.3)
    folder = runs / "AL5IR5_2750K" / "production"
    shutil.copy(runs / "AL5IR5_2750K" / "volume" / "s01_v1.000" / "POSCAR", folder / "POSCAR")
    fx.fake_vasp(folder, fx.Model(top_occupation=occupation), files=("vasprun.xml",))
    run = analyze_run(read_outputs(folder), label="alloy")
    assert ("top_band_occupied" in run.blocking_flags) is flagged
