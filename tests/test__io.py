import os
import stat
import time

import filelock
import pytest

from mixcalphad.errors import OutputExistsError
from mixcalphad._io import STALE_AFTER_S, atomic_path, file_lock, lock_path, remove_stale_temporaries, write_text


def test_write_is_atomic_and_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    write_text(target, "first")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash mid-write")
    assert target.read_text() == "first"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_existing_output_is_not_overwritten_unless_asked(tmp_path):
    target = write_text(tmp_path / "out.txt", "keep")
    with pytest.raises(OutputExistsError, match="--force"):
        write_text(target, "new", overwrite=False)
    assert target.read_text() == "keep"
    write_text(target, "new", overwrite=True)
    assert target.read_text() == "new"


def test_new_files_get_ordinary_permissions(tmp_path):
    mask = os.umask(0o022)
    try:
        target = write_text(tmp_path / "out.txt", "x")
    finally:
        os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_file_lock_excludes_a_second_holder(tmp_path):
    target = tmp_path / "store.json"
    with file_lock(target):
        assert lock_path(target).exists()
        with pytest.raises(filelock.Timeout):
            with file_lock(target, timeout=0.05):
                pass
    with file_lock(target, timeout=0):
        pass


def test_only_stale_temporaries_are_removed(tmp_path):
    target = write_text(tmp_path / "store.json", "{}")
    stale = tmp_path / ".store.json.abc123.tmp"
    fresh = tmp_path / ".store.json.def456.tmp"
    other = tmp_path / ".other.json.abc123.tmp"
    for f in (stale, fresh, other):
        f.write_text("half")
    old = time.time() - 2 * STALE_AFTER_S
    for f in (stale, other):
        os.utime(f, (old, old))
    with file_lock(target):  # a live writer holds the lock: nothing is touched
        assert remove_stale_temporaries(target) == []
    assert remove_stale_temporaries(target) == [stale]
    assert not stale.exists() and fresh.exists() and other.exists()
