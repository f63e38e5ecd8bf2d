"""aimd.incar, aimd.scheduler and the time-step rule: NBANDS, MAXMIX, NCORE/KPAR against the SLURM ranks,
POTIM from the lightest mass and T, ≥ 10 ps kept after equilibration, restarts that continue."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mixcalphad.aimd.incar import check_incar, electron_count, nbands, parallel_tags
from mixcalphad.aimd.plan import plan_runs
from mixcalphad.aimd.protocol import md_timestep_fs
from mixcalphad.aimd.settings import K_B_EV
from mixcalphad.aimd.vasp import prepare_vasp_runs, read_manifest
from mixcalphad.aimd.trajectory import read_incar
from mixcalphad.aimd.vasp_outputs import scan_steps

from helpers import load_fixtures


fx = load_fixtures()


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    root = tmp_path_factory.mktemp("incar")
    pp = fx.make_potcar_tree(root / "pp", ["Al", "Ir", "Be", "Cu"])
    out = root / "runs"
    prepare_vasp_runs(["AL-IR", "BE-CU"], out, pp_path=pp)
    return out


def test_nbands_reaches_ten_kT_above_the_fermi_level(prepared):
    manifest = read_manifest(prepared)
    meta = manifest["runs"]["AL50IR50_2750K"]
    assert meta["nelect"] == 50 * 3 + 50 * 9            # from the POTCARs' ZVAL
    tags = read_incar(prepared / "AL50IR50_2750K" / "production" / "INCAR")
    bands = int(tags["NBANDS"])
    default = max(600 / 2 + 100 / 2, 0.6 * 600)          # VASP's default leaves too few empty bands
    empty_per_atom = (bands - 600 / 2) / 100
    assert bands > default and empty_per_atom >= 10 * K_B_EV * 2750 * 0.5
    assert bands % (32 // 4) == 0                        # a multiple of the band groups VASP would round to
    assert nbands(600, 100, 1000.0) < nbands(600, 100, 3000.0)     # hotter needs more empty bands


def test_electron_count_from_potcar_or_recommended_table():
    assert electron_count({"AL": 50, "IR": 50}, {"AL": {"label": "Al"}, "IR": {"label": "Ir"}}) == 600
    assert electron_count({"IR": 10}, {"IR": {"label": "Ir_pv", "zval": 15.0}}) == 150
    with pytest.raises(Exception, match="ZVAL"):
        electron_count({"IR": 10}, {"IR": {"label": "Ir_pv"}})


def test_maxmix_algo_and_ncore_match_the_slurm_ranks(prepared, tmp_path):
    tags = read_incar(prepared / "AL50IR50_2750K" / "volume" / "s00_v0.960" / "INCAR")
    assert int(tags["MAXMIX"]) >= 40 and tags["ALGO"] == "Fast"
    script = (prepared / "slurm_production.sh").read_text()
    ranks = int(next(ln.split("=")[1] for ln in script.splitlines() if ln.startswith("#SBATCH --ntasks-per-node")))
    assert ranks % (int(tags["NCORE"]) * int(tags["KPAR"])) == 0 and int(tags["KPAR"]) == 1
    assert parallel_tags(48) == {"NCORE": 6, "KPAR": 1}
    out = tmp_path / "r48"
    prepare_vasp_runs(["AL-IR"], out, n_atoms=10, ranks=48)
    assert "--ntasks-per-node=48" in (out / "slurm_volume.sh").read_text()
    assert read_incar(out / "AL5IR5_2750K" / "production" / "INCAR")["NCORE"] == "6"


def test_potim_from_the_lightest_mass_and_T(prepared):
    assert md_timestep_fs(["BE", "CU"], 1600.0) <= 1.5
    assert md_timestep_fs(["AL", "W"], 3700.0) == md_timestep_fs(["AL", "IR"], 2750.0) == 3.0
    plan = plan_runs(["BE-CU", "AL-IR"])
    job = {b.system: b for b in plan.binaries}
    assert job["BE-CU"].potim_fs <= 1.5 and "lightest element BE" in job["BE-CU"].timestep_note
    assert any("POTIM = 1.5 fs" in w for w in plan.warnings)           # said in the run plan
    be = read_incar(prepared / job["BE-CU"].alloy / "production" / "INCAR")
    assert float(be["POTIM"]) <= 1.5 and job["BE-CU"].alloy.endswith("_dt1.5")
    assert float(read_incar(prepared / "AL50IR50_2750K" / "production" / "INCAR")["POTIM"]) == 3.0


def test_production_keeps_ten_ps_after_equilibration(prepared):
    manifest = read_manifest(prepared)
    for meta in manifest["runs"].values():
        potim = meta["potim_fs"]
        nsw = int(read_incar(prepared / meta["run_id"] / "production" / "INCAR")["NSW"])
        assert nsw == meta["nsw_production"]
        assert nsw * potim / 1000 >= 10.0 + manifest["protocol"]["equilibration_ps"] - 1e-9
        assert manifest["protocol"]["equilibration_ps"] >= 2.0


def _restart(folder: Path, runs: Path, vasp_cmd: str) -> subprocess.CompletedProcess:
    (runs / "production_jobs.txt").write_text(f"{folder.relative_to(runs)}\n")
    env = {**os.environ, "SLURM_ARRAY_TASK_ID": "1", "SLURM_SUBMIT_DIR": str(runs), "VASP_CMD": vasp_cmd}
    return subprocess.run(["bash", str(runs / "slurm_production.sh")], env=env, capture_output=True, text=True)


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_slurm_restart_continues_and_fails_loudly_without_contcar(tmp_path):
    runs = tmp_path / "runs"
    prepare_vasp_runs(["AL-IR"], runs, n_atoms=10, production_ps=0.6, stage_ps=0.3, equilibration_ps=0)
    prod = runs / "AL5IR5_2750K" / "production"
    shutil.copy(runs / "AL5IR5_2750K" / "volume" / "s01_v1.000" / "POSCAR", prod / "POSCAR")
    total = int(read_incar(prod / "INCAR")["NSW"])
    assert total == 200
    # a first part killed after 120 of 200 steps
    fx.fake_vasp(prod, fx.Model(), nsteps=120)
    exe = f"{sys.executable} {Path(__file__).parent / 'data' / 'aimd' / 'fake_vasp_exe.py'}"
    done = _restart(prod, runs, exe)
    assert done.returncode == 0, done.stderr
    assert int(read_incar(prod / "INCAR")["NSW"]) == 80            # continues: 80 left, not 200 again
    assert (prod / "chunk_01" / "OSZICAR").is_file() and (prod / "OSZICAR").is_file()
    assert scan_steps(prod)["n_steps"] == 200
    assert check_incar(prod / "INCAR", fx_settings(runs), nsw=80, nelect=read_manifest(runs)["runs"]["AL5IR5_2750K"]["nelect"]) == []
    # a second restart finds nothing left to do and does not start VASP
    (prod / "CONTCAR").write_text((prod / "POSCAR").read_text())
    again = _restart(prod, runs, "false")
    assert again.returncode == 0 and "all 200 steps done" in again.stdout
    # a part that left no CONTCAR: loud failure, nothing moved
    other = tmp_path / "other"
    prepare_vasp_runs(["AL-IR"], other, n_atoms=10, production_ps=0.6, stage_ps=0.3, equilibration_ps=0)
    prod2 = other / "AL5IR5_2750K" / "production"
    shutil.copy(other / "AL5IR5_2750K" / "volume" / "s01_v1.000" / "POSCAR", prod2 / "POSCAR")
    fx.fake_vasp(prod2, fx.Model(), nsteps=50)
    (prod2 / "CONTCAR").unlink()
    failed = _restart(prod2, other, exe)
    assert failed.returncode == 1 and "no CONTCAR" in failed.stderr
    assert not list(prod2.glob("chunk_*")) and (prod2 / "OSZICAR").is_file()


def fx_settings(runs):
    from mixcalphad.aimd.settings import RunSettings

    return RunSettings.from_dict(read_manifest(runs)["runs"]["AL5IR5_2750K"]["settings"])
