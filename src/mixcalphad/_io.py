"""File output that never leaves a half-written file, and a portable lock.

* :func:`atomic_path` / :func:`write_text`: write to a temporary file beside the target
  (``.<name>.<random>.tmp``) and rename it into place.
* :func:`file_lock`: an exclusive lock on ``<path>.lock`` held across a read–modify–write, through
  the ``filelock`` package (works on Linux, macOS and Windows, unlike ``fcntl``).
* :func:`remove_stale_temporaries`: delete the temporary files a killed writer left behind.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path
from typing import Iterator

import filelock

from mixcalphad.errors import OutputExistsError

#: A temporary file untouched for this long (s) whose lock is free is a killed writer's leftover.
STALE_AFTER_S = 60.0


def temporary_prefix(path: str | Path) -> str:
    """Prefix of the temporary files :func:`atomic_path` creates for ``path`` (``.<name>.``)."""
    return f".{Path(path).name}."


@contextlib.contextmanager
def atomic_path(path: str | Path, *, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success rename it to ``path``.

    The file gets the permissions of the file it replaces, or the usual ones for a new file.

    Nothing is left behind if the body raises. With ``overwrite=False`` an existing ``path`` raises
    :class:`OutputExistsError` before anything is written.
    """
    path = Path(path)
    if not overwrite and path.exists():
        raise OutputExistsError(f"{path} exists; pass --force (overwrite=True) to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=temporary_prefix(path), suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text(path: str | Path, text: str, *, overwrite: bool = True) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns the path."""
    with atomic_path(path, overwrite=overwrite) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def lock_path(path: str | Path) -> Path:
    """The lock file that guards ``path``: ``<path>.lock``."""
    path = Path(path)
    return path.with_name(path.name + ".lock")


@contextlib.contextmanager
def file_lock(path: str | Path, *, timeout: float = -1) -> Iterator[None]:
    """Hold an exclusive, inter-process lock on ``<path>.lock`` for the body.

    Parameters
    ----------
    path : str or Path
        The file guarded (the lock file sits beside it).
    timeout : float
        Seconds to wait for the lock; negative waits forever.

    Raises
    ------
    filelock.Timeout
        The lock was not acquired within ``timeout`` seconds.
    PermissionError
        The lock file cannot be created (a read-only folder).
    """
    with filelock.FileLock(str(lock_path(path)), timeout=timeout):
        yield


def remove_stale_temporaries(path: str | Path, *, older_than_s: float = STALE_AFTER_S,
                             lock_held: bool = False) -> list[Path]:
    """Delete the temporary files of ``path`` that a killed writer left behind.

    A temporary file (``.<name>.*.tmp`` beside ``path``) is stale when it is older than
    ``older_than_s`` seconds and nobody holds the lock of ``path``: every writer holds that lock
    while its temporary file exists. Does nothing when the lock is taken or cannot be created.

    Parameters
    ----------
    path : str or Path
        The file whose temporaries are looked for.
    older_than_s : float
        Age (s, by modification time) beyond which a temporary file counts as stale.
    lock_held : bool
        The caller already holds :func:`file_lock` of ``path`` (do not try to take it).

    Returns
    -------
    list of Path
        The files removed.
    """
    path = Path(path)
    pattern = f"{temporary_prefix(path)}*.tmp"
    if not path.parent.is_dir() or not any(path.parent.glob(pattern)):
        return []
    if lock_held:
        return _remove_older(path.parent.glob(pattern), older_than_s)
    try:
        with file_lock(path, timeout=0):
            return _remove_older(path.parent.glob(pattern), older_than_s)
    except (filelock.Timeout, OSError):
        return []


def _remove_older(files, older_than_s: float) -> list[Path]:
    now, removed = time.time(), []
    for tmp in files:
        with contextlib.suppress(OSError):
            if now - tmp.stat().st_mtime > older_than_s:
                tmp.unlink()
                removed.append(tmp)
    return removed


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
