"""aimd.settings: one settings base class for VASP and local runs; every numeric option checked in the
library, so the CLI and Python get the same ProtocolError naming the option (issue 10, bug 8)."""
import hashlib
import json
import time

import pytest

from mixcalphad.aimd.local import run_local_md
from mixcalphad.aimd.settings import LocalSettings, MDSettings, RunSettings, check_fraction, check_positive
from mixcalphad.aimd.vasp import prepare_vasp_runs
from mixcalphad.errors import ProtocolError

from helpers import run_cli


def test_one_base_class_for_vasp_and_local_settings():
    vasp, local = RunSettings(T_K=2750, potim_fs=3.0), LocalSettings(T_K=1900, n_atoms=32)
    assert isinstance(vasp, MDSettings) and isinstance(local, MDSettings)
    # identity, copies and round trips come from the base class
    for s in (vasp, local):
        assert len(s.key_hash()) == 12 and s.replace(T_K=3000).T_K == 3000.0
        assert type(s).from_dict(s.to_dict()) == s
    with pytest.raises(ProtocolError, match="unknown LocalSettings field"):
        LocalSettings.from_dict({"T_K": 1, "timestep": 2})
    # a local run's key is the same JSON as before the base class: stored source labels stay valid
    old = json.dumps({"T_K": 1900.0, "calculator": "emt", "calculator_version": "", "damping_fs": 100.0,
                      "energy": "epot+ekin", "n_atoms": 32, "thermostat": "langevin", "timestep_fs": 3.0},
                     sort_keys=True, separators=(",", ":"))
    assert local.key() == old and local.key_hash() == hashlib.sha256(old.encode()).hexdigest()[:12]


@pytest.mark.parametrize("cls, field, value", [
    (RunSettings, "encut_eV", -1), (RunSettings, "encut_eV", 0), (RunSettings, "potim_fs", 0),
    (RunSettings, "ediff_eV", -1e-5), (RunSettings, "T_K", -5), (RunSettings, "n_atoms", 0),
    (RunSettings, "ispin", 3), (RunSettings, "encut_eV", float("inf")), (RunSettings, "n_atoms", 2.5),
    (LocalSettings, "timestep_fs", 0), (LocalSettings, "timestep_fs", -1), (LocalSettings, "damping_fs", 0),
    (LocalSettings, "T_K", -1), (LocalSettings, "n_atoms", -4),
])
def test_bad_numbers_raise_naming_the_option(cls, field, value):
    with pytest.raises(ProtocolError, match=field):
        cls(**{field: value})


def test_option_checks():
    assert check_positive("3", "ps") == 3.0 and check_positive(0, "margin_K", allow_zero=True) == 0.0
    for bad in (0, -1, float("nan"), "x"):
        with pytest.raises(ProtocolError, match="production_ps"):
            check_positive(bad, "production_ps")
    for bad in (0, 1, 1.5, -0.2):
        with pytest.raises(ProtocolError, match="x_B must lie strictly between 0 and 1"):
            check_fraction(bad)


@pytest.mark.parametrize("kwargs, option", [
    ({"production_ps": 0}, "production_ps"), ({"stage_ps": -3}, "stage_ps"),
    ({"settings": None, "ranks": 0}, "ranks"), ({"volume_scales": (0.96, -1.0)}, "volume_scales"),
    ({"T_K": -100}, "T_K"), ({"n_atoms": 0}, "n_atoms"), ({"x_B": 1.5}, "x_B"), ({"grid_K": -50}, "grid_K"),
])
def test_prepare_refuses_bad_numbers_and_writes_nothing(tmp_path, kwargs, option):
    with pytest.raises(ProtocolError, match=option):
        prepare_vasp_runs(["AL-IR"], tmp_path / "runs", **kwargs)
    assert not (tmp_path / "runs" / "manifest.json").exists()


def test_cli_prepare_encut_and_production_length(tmp_path, capsys):
    """Before the fix: ENCUT = -1 and NSW = 0 were written and the command exited 0."""
    code = run_cli(["aimd", "prepare", "--systems", "AL-IR", "-o", str(tmp_path / "a"), "--encut", "-1"])
    err = capsys.readouterr().err
    assert code == 2 and "encut_eV must be > 0, got -1.0" in err
    code = run_cli(["aimd", "prepare", "--systems", "AL-IR", "-o", str(tmp_path / "b"), "--production-ps", "0"])
    assert code == 2 and "production_ps must be > 0" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() or not any((tmp_path / "a").rglob("INCAR"))
    assert not (tmp_path / "b").exists() or not any((tmp_path / "b").rglob("INCAR"))


@pytest.mark.parametrize("argv, option", [
    (["--ps", "-1"], "ps must be > 0"), (["--timestep", "0"], "timestep_fs must be > 0"),
    (["--x", "1.5", "--parallel", "dask"], "x_B must lie strictly between 0 and 1"),
    (["--stage-ps", "0"], "stage_ps must be > 0"), (["--atoms", "0"], "n_atoms must be"),
    (["--T", "-10"], "T_K must be > 0"),
])
def test_cli_md_refuses_bad_numbers_at_once(argv, option, capsys):
    """Before the fix: --ps -1 ran, --x 1.5 hung under dask, --timestep 0 raised ZeroDivisionError."""
    start = time.perf_counter()
    code = run_cli(["md", "CU", "NI", "--no-store", *argv])
    assert code == 2 and option in capsys.readouterr().err
    assert time.perf_counter() - start < 10


def test_python_gets_the_same_error_as_the_cli():
    with pytest.raises(ProtocolError, match="x_B must lie strictly between 0 and 1"):
        run_local_md("CU", "NI", x_B=1.5, parallel="dask")
    with pytest.raises(ProtocolError, match="timestep_fs must be > 0"):
        run_local_md("CU", "NI", timestep_fs=0)
