"""aimd.vasp and aimd.vasp_outputs: inputs for the paper's systems, POTCAR handling, INCAR check,
and reading synthetic vasprun.xml/OUTCAR/OSZICAR files with designed contents."""
import json
import shutil

import numpy as np
import pytest
from ase.io import read

from mixcalphad.aimd.analysis import analyze_run
from mixcalphad.errors import (AIMDParseError, MissingRunFilesError, OptionalDependencyError, ProtocolError,
                                    SettingsMismatchError)
from mixcalphad.aimd.incar import check_incar, incar_tags, verify_incar
from mixcalphad.aimd.plan import paper_systems
from mixcalphad.aimd.protocol import vegard_volume_A3
from mixcalphad.aimd.settings import KBAR_PER_EV_A3, RunSettings
from mixcalphad.aimd.vasp import prepare_vasp_runs, random_packing, read_manifest
from mixcalphad.aimd.workflows import to_jobflow_flow
from mixcalphad.aimd.outcar import parse_oszicar, parse_outcar
from mixcalphad.aimd.trajectory import read_incar
from mixcalphad.aimd.vasp_outputs import read_outputs
from mixcalphad.aimd.vasprun import parse_vasprun

from helpers import load_fixtures


fx = load_fixtures()


# ---------------------------------------------------------------------- inputs for the paper's systems
@pytest.fixture(scope="module")
def paper_runs(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.delenv("VASP_PP_PATH", raising=False)
    out = tmp_path_factory.mktemp("paper") / "runs"
    result = prepare_vasp_runs(paper_systems(), out)
    mp.undo()
    return out, result


def test_paper_systems_need_fewer_than_87_runs(paper_runs):
    out, result = paper_runs
    assert len(result.plan.binaries) == 29
    assert result.plan.n_runs == 63 < 87 and result.plan.runs_saved == 24
    manifest = read_manifest(out)
    assert manifest["n_runs"] == 63 and manifest["n_runs_unshared"] == 87 and manifest["runs_saved"] == 24
    assert sorted(manifest["runs"]) == sorted(p.name for p in out.iterdir() if p.is_dir())
    assert len(manifest["binaries"]) == 29


def test_paper_inputs_pass_the_incar_check(paper_runs):
    out, _ = paper_runs
    manifest = read_manifest(out)
    ir = manifest["runs"]["AL50IR50_2750K"]
    # 3 ps stages; 10 ps kept production + 2 ps for the equilibration the analysis discards, at 3 fs
    assert (ir["nsw_stage"], ir["nsw_production"]) == (1000, 4000)
    checked = 0
    for rid, meta in manifest["runs"].items():
        settings = RunSettings.from_dict(meta["settings"])
        nsw_stage, nsw_prod = meta["nsw_stage"], meta["nsw_production"]
        assert nsw_prod * settings.potim_fs >= 12000 - 1e-6
        stages = sorted((out / rid / "volume").iterdir())
        assert [s.name for s in stages] == ["s00_v0.960", "s01_v1.000", "s02_v1.040"]
        for folder, nsw in [*((s, nsw_stage) for s in stages), (out / rid / "production", nsw_prod)]:
            assert check_incar(folder / "INCAR", settings, nsw=nsw, nelect=meta["nelect"]) == []
            tags = read_incar(folder / "INCAR")
            assert tags["ISIF"] == "2" and tags["IBRION"] == "0" and tags["MDALGO"] == "2"
            assert float(tags["TEBEG"]) == settings.T_K == float(tags["TEEND"])
            assert float(tags["SIGMA"]) == pytest.approx(8.617333e-5 * settings.T_K, abs=1e-4)
            assert "Gamma" in (folder / "KPOINTS").read_text()
            assert (folder / "POTCAR.spec").is_file() and not (folder / "POTCAR").exists()
            checked += 1
        assert not (out / rid / "production" / "POSCAR").exists()
    assert checked == 63 * 4
    ir = manifest["runs"]["AL50IR50_2750K"]
    assert ir["settings"]["encut_eV"] == 400 and ir["settings"]["potim_fs"] == 3.0
    assert (out / "AL50IR50_2750K" / "volume" / "s00_v0.960" / "POTCAR.spec").read_text() == "Al\nIr\n"


def test_paper_poscars_random_packing_at_vegard_volume(paper_runs):
    out, _ = paper_runs
    for scale in ("0.960", "1.000", "1.040"):
        atoms = read(out / "AL50IR50_2750K" / "volume" / f"s0{['0.960', '1.000', '1.040'].index(scale)}_v{scale}"
                     / "POSCAR", format="vasp")
        assert atoms.get_chemical_formula() == "Al50Ir50"
        assert atoms.get_volume() == pytest.approx(vegard_volume_A3({"AL": 50, "IR": 50}) * float(scale), rel=1e-6)
        d = atoms.get_all_distances(mic=True)
        np.fill_diagonal(d, np.inf)
        assert d.min() >= 0.8 * (atoms.get_volume() / 100) ** (1 / 3) * 0.96 ** (1 / 3) - 1e-6
    symbols = read(out / "AL50IR50_2750K/volume/s00_v0.960/POSCAR", format="vasp").get_chemical_symbols()
    assert symbols == ["Al"] * 50 + ["Ir"] * 50       # grouped by species, POTCAR order


def test_scheduler_files(paper_runs):
    out, _ = paper_runs
    jobs = (out / "volume_jobs.txt").read_text().split()
    assert len(jobs) == 63 * 3 and all((out / j / "INCAR").is_file() for j in jobs)
    script = (out / "slurm_volume.sh").read_text()
    assert "SLURM_ARRAY_TASK_ID" in script and "volume_jobs.txt" in script and "vasp_gam" in script
    assert "chunk_" in (out / "slurm_production.sh").read_text()


def test_incar_check_catches_the_traps(tmp_path):
    settings = RunSettings(T_K=2750, potim_fs=3.0)
    tags = {k: str(v) for k, v in incar_tags(settings, 100).items()}
    assert check_incar(tags, settings, nsw=100) == []
    bad = {**tags, "ISIF": "0", "ENCUT": "520"}
    del bad["MDALGO"]
    problems = check_incar(bad, settings, nsw=100)
    assert "ISIF: expected 2, found 0" in problems and "ENCUT: expected 400, found 520" in problems
    assert any(p.startswith("MDALGO: missing") for p in problems)
    (tmp_path / "INCAR").write_text("ISIF = 0 ; ENCUT = 400 # comment\n")
    with pytest.raises(SettingsMismatchError, match=r"INCAR does not match the protocol: .*ISIF: expected 2"):
        verify_incar(tmp_path / "INCAR", settings)
    with pytest.raises(ProtocolError):
        incar_tags(RunSettings(T_K=2750, potim_fs=3.0, thermostat="langevin"), 10)
    with pytest.raises(ProtocolError, match="no time step"):
        incar_tags(RunSettings(T_K=2750), 10)


def test_random_packing_minimum_distance():
    atoms = random_packing({"CU": 40, "NI": 24}, 64 * 12.0, seed=3)
    d = atoms.get_all_distances(mic=True)
    np.fill_diagonal(d, np.inf)
    assert d.min() >= 0.8 * 12.0 ** (1 / 3) - 1e-9
    assert atoms.get_chemical_symbols()[:40] == ["Cu"] * 40
    with pytest.raises(ProtocolError, match="could not place"):
        random_packing({"CU": 20}, 20.0, min_distance_A=3.0, max_tries_per_atom=20)


def test_potcar_from_fake_vasp_pp_path(tmp_path, monkeypatch):
    pp = fx.make_potcar_tree(tmp_path / "pp", ["Al", "Ir"])
    monkeypatch.setenv("VASP_PP_PATH", str(pp))
    res = prepare_vasp_runs(["AL-IR"], tmp_path / "runs", n_atoms=10)
    assert res.potcar_written and res.missing_potcars == ()
    folder = tmp_path / "runs" / "AL5IR5_2750K" / "volume" / "s00_v0.960"
    text = (folder / "POTCAR").read_text()
    assert text.index("TITEL  = PAW_PBE Al 04Jan2001") < text.index("TITEL  = PAW_PBE Ir 06Sep2000")
    assert (folder / "POTCAR.spec").read_text() == "Al\nIr\n"
    meta = read_manifest(tmp_path / "runs")["runs"]["AL5IR5_2750K"]["potcars"]
    assert meta["IR"]["titel"] == "PAW_PBE Ir 06Sep2000" and len(meta["IR"]["sha256"]) == 64
    # a potential missing from the library: no POTCAR anywhere in that run, POTCAR.spec still written
    shutil.rmtree(pp / "potpaw_PBE.54" / "Ir")
    res = prepare_vasp_runs(["CU-IR"], tmp_path / "runs2", n_atoms=10)
    assert not res.potcar_written and set(res.missing_potcars) == {"Cu", "Ir"}
    assert not list((tmp_path / "runs2").rglob("POTCAR")) and list((tmp_path / "runs2").rglob("POTCAR.spec"))


def test_prepare_extends_a_folder_and_refuses_other_settings(tmp_path, monkeypatch):
    monkeypatch.delenv("VASP_PP_PATH", raising=False)
    out = tmp_path / "runs"
    first = prepare_vasp_runs(["AL-IR"], out, n_atoms=10)
    marker = out / "IR10_2750K" / "production" / "marker"
    marker.write_text("keep")
    second = prepare_vasp_runs(["IR-TI"], out, n_atoms=10)
    assert set(second.kept) == {"IR10_2750K"} and set(second.written) == {"IR5TI5_2750K", "TI10_2750K"}
    assert marker.read_text() == "keep"
    manifest = read_manifest(out)
    assert manifest["n_runs"] == 5 and len(manifest["binaries"]) == 2 and manifest["runs_saved"] == 1
    assert len(first.written) == 3
    with pytest.raises(SettingsMismatchError, match="other settings"):
        prepare_vasp_runs(["AL-IR"], out, n_atoms=10, settings=RunSettings(encut_eV=520))


def test_jobflow_export_needs_atomate2(tmp_path):
    prepare_vasp_runs(["AL-IR"], tmp_path / "runs", n_atoms=10)
    try:
        import atomate2  # noqa: F401
        import jobflow  # noqa: F401
        from pymatgen.core import Structure
    except ImportError:
        with pytest.raises(OptionalDependencyError, match="atomate2"):
            to_jobflow_flow(tmp_path / "runs")
        pytest.skip("atomate2/jobflow not installed: only the clear error is tested")
    flow = to_jobflow_flow(tmp_path / "runs")
    assert len(flow.jobs) == 9  # three runs × three volume stages
    from mixcalphad.aimd.workflows import _typed

    for job in flow.jobs:
        run_id, stage = job.name.split()
        folder = tmp_path / "runs" / run_id / "volume" / stage
        ours = {k: _typed(v) for k, v in read_incar(folder / "INCAR").items() if k != "SYSTEM"}
        inputs = job.maker.input_set_generator.get_input_set(job.function_args[0], potcar_spec=True)
        theirs = dict(inputs.incar)
        # the INCAR atomate2 would write is ours, tag for tag (strings compared as VASP does, case-blind)
        assert set(theirs) == set(ours)
        for tag, value in ours.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                assert float(theirs[tag]) == pytest.approx(value), tag
            else:
                assert str(theirs[tag]).upper() == str(value).upper(), tag
        assert inputs.kpoints.style.name == "Gamma" and tuple(inputs.kpoints.kpts[0]) == (1, 1, 1)
        assert job.function_args[0].composition == Structure.from_file(folder / "POSCAR").composition
    settings = RunSettings()
    generator = flow.jobs[0].maker.input_set_generator
    assert generator.user_potcar_settings == {"Al": settings.potcar_label("AL"), "Ir": settings.potcar_label("IR")}
    assert generator.user_potcar_functional == "PBE_54"


# ---------------------------------------------------------------------- reading outputs
@pytest.fixture(scope="module")
def one_run(tmp_path_factory):
    """A production folder of the AL5IR5 run with designed outputs in all three formats."""
    root = tmp_path_factory.mktemp("one")
    prepare_vasp_runs(["AL-IR"], root / "runs", n_atoms=10, production_ps=1.2, stage_ps=0.3, equilibration_ps=0)
    folder = root / "runs" / "AL5IR5_2750K" / "production"
    shutil.copy(root / "runs" / "AL5IR5_2750K" / "volume" / "s01_v1.000" / "POSCAR", folder / "POSCAR")
    info = fx.fake_vasp(folder, fx.Model(), seed=7)
    return folder, info


def test_the_three_formats_agree(one_run):
    folder, info = one_run
    vr = parse_vasprun(folder / "vasprun.xml")
    oc = parse_outcar(folder / "OUTCAR")
    oz = parse_oszicar(folder / "OSZICAR", symbols=vr.symbols, volume_A3=float(vr.volume[0]))
    assert vr.n_steps == oc.n_steps == oz.n_steps == 400 and not vr.truncated and vr.steps_lost == 0
    assert vr.symbols == oc.symbols == ("AL",) * 5 + ("IR",) * 5
    np.testing.assert_allclose(vr.e_wo_entrp, oc.e_wo_entrp, atol=1e-6)   # not the SCF-step energies (+5 eV)
    np.testing.assert_allclose(vr.e_free, oc.e_free, atol=1e-6)
    np.testing.assert_allclose(oz.e_wo_entrp, vr.e_wo_entrp, atol=2e-5)   # 2·E0 − F from 8 digits
    np.testing.assert_allclose(oz.ekin, vr.ekin, atol=1e-3)
    np.testing.assert_allclose(vr.energy(), vr.e_wo_entrp + vr.ekin)
    # pressure = virial + kinetic; vasprun's stress is the virial part only
    np.testing.assert_allclose(vr.p_kin_kbar, 2 * vr.ekin / (3 * vr.volume) * KBAR_PER_EV_A3)
    assert 15 < vr.p_kin_kbar.mean() < 40
    np.testing.assert_allclose(vr.pressure_kbar, oc.pressure_kbar, atol=0.01)
    assert oz.pressure_kbar is None
    assert vr.positions.shape == (400, 10, 3) and oc.positions.shape == (400, 10, 3)
    np.testing.assert_allclose(vr.positions, oc.positions, atol=1e-4)
    assert vr.version == "6.4.2" and oc.version == "6.4.2"
    assert vr.potcars == (("AL", "PAW_PBE Al 04Jan2001"), ("IR", "PAW_PBE Ir 06Sep2000"))
    assert vr.settings().key() == oc.settings().key()
    s = vr.settings()
    assert (s.T_K, s.encut_eV, s.smearing, s.thermostat, s.xc, s.potim_fs) == (2750.0, 400.0, "fermi-kT",
                                                                              "nose-hoover", "PBE", 3.0)
    assert vr.warnings == () and oc.warnings == () and oz.warnings == ()


def test_truncated_outputs_keep_complete_steps(one_run, tmp_path):
    folder, _ = one_run
    for name in ("INCAR", "POSCAR", "POTCAR.spec"):
        shutil.copy(folder / name, tmp_path / name)
    info = fx.fake_vasp(tmp_path, fx.Model(), seed=7, truncate_at=0.6)
    vr = parse_vasprun(tmp_path / "vasprun.xml")
    assert vr.truncated and vr.steps_lost == 1 and vr.n_steps == info["kept"]["vasprun.xml"]
    assert 200 < vr.n_steps < 260
    full = parse_vasprun(folder / "vasprun.xml")
    np.testing.assert_allclose(vr.e_wo_entrp, full.e_wo_entrp[:vr.n_steps])
    assert any("truncated: kept" in w for w in vr.warnings)
    oc = parse_outcar(tmp_path / "OUTCAR")
    assert oc.truncated and oc.steps_lost == 1 and oc.n_steps == info["kept"]["OUTCAR"]
    oz = parse_oszicar(tmp_path / "OSZICAR", symbols=vr.symbols, volume_A3=100.0)
    assert oz.n_steps == info["kept"]["OSZICAR"]
    assert read_outputs(tmp_path).n_steps == vr.n_steps      # vasprun.xml is preferred


def test_restart_chunks_are_concatenated(one_run, tmp_path):
    folder, _ = one_run
    for name in ("INCAR", "POSCAR", "POTCAR.spec"):
        shutil.copy(folder / name, tmp_path / name)
    (tmp_path / "chunk_01").mkdir()
    for name in ("INCAR", "POSCAR", "POTCAR.spec"):
        shutil.copy(folder / name, tmp_path / "chunk_01" / name)
    fx.fake_vasp(tmp_path / "chunk_01", fx.Model(), seed=1, nsteps=150, files=("vasprun.xml",))
    fx.fake_vasp(tmp_path, fx.Model(), seed=2, nsteps=100, files=("vasprun.xml",))
    traj = read_outputs(tmp_path)
    assert traj.n_steps == 250 and len(traj.files) == 2 and traj.files[0].endswith("chunk_01/vasprun.xml")


def test_oszicar_only_folder(one_run, tmp_path):
    folder, _ = one_run
    for name in ("INCAR", "POSCAR", "POTCAR.spec", "OSZICAR"):
        shutil.copy(folder / name, tmp_path / name)
    traj = read_outputs(tmp_path)
    assert traj.source == "OSZICAR" and traj.n_steps == 400 and traj.pressure_kbar is None
    assert traj.volume[0] == pytest.approx(read(tmp_path / "POSCAR", format="vasp").get_volume())
    run = analyze_run(traj)
    assert "no_pressure" in run.flags


def test_bookkeeping_error_is_flagged(one_run, tmp_path):
    folder, _ = one_run
    for name in ("INCAR", "POSCAR", "POTCAR.spec"):
        shutil.copy(folder / name, tmp_path / name)
    fx.fake_vasp(tmp_path, fx.Model(etotal_sign=-1.0), seed=3, nsteps=200)
    traj = parse_vasprun(tmp_path / "vasprun.xml")
    assert any("differs from ETOTAL" in w for w in traj.warnings)
    assert any("differs from ETOTAL" in w for w in parse_outcar(tmp_path / "OUTCAR").warnings)
    assert "energy_bookkeeping" in analyze_run(traj).flags


def test_missing_and_broken_files(tmp_path):
    with pytest.raises(MissingRunFilesError, match="does not exist"):
        read_outputs(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MissingRunFilesError, match="has none of vasprun.xml, OUTCAR, OSZICAR"):
        read_outputs(tmp_path / "empty")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "vasprun.xml").write_text("this is not xml")
    with pytest.raises(AIMDParseError, match=r"bad/vasprun.xml"):
        parse_vasprun(bad / "vasprun.xml")
    with pytest.raises(AIMDParseError, match="no readable MD steps"):
        read_outputs(bad)
    (bad / "OUTCAR").write_text(" vasp.6.4.2\n nothing here\n")
    with pytest.raises(AIMDParseError, match="no POTCAR titles"):
        parse_outcar(bad / "OUTCAR")


def test_unreadable_number_names_the_step(one_run, tmp_path):
    folder, _ = one_run
    text = (folder / "vasprun.xml").read_text(encoding="latin-1")
    marker = '<i name="kinetic">'
    first = text.index(marker)
    second = text.index(marker, first + 1)
    end = text.index("</i>", second)
    (tmp_path / "vasprun.xml").write_text(text[:second + len(marker)] + " ********** " + text[end:], encoding="latin-1")
    with pytest.raises(AIMDParseError, match=r"MD step 2: unreadable number '\*+'"):
        parse_vasprun(tmp_path / "vasprun.xml")


def test_no_stress_without_isif(one_run, tmp_path):
    folder, _ = one_run
    for name in ("POSCAR", "POTCAR.spec"):
        shutil.copy(folder / name, tmp_path / name)
    (tmp_path / "INCAR").write_text((folder / "INCAR").read_text().replace("ISIF   = 2", "ISIF   = 0"))
    fx.fake_vasp(tmp_path, fx.Model(), seed=3, nsteps=100)
    traj = parse_vasprun(tmp_path / "vasprun.xml")
    assert traj.pressure_kbar is None and parse_outcar(tmp_path / "OUTCAR").pressure_kbar is None
    assert "no_pressure" in analyze_run(traj).flags
    json.dumps(analyze_run(traj).to_dict())
