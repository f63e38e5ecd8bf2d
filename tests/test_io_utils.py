import os
import stat

import pytest

from mixcalphad.errors import OutputExistsError
from mixcalphad._io import atomic_path, write_text


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
