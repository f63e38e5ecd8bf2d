"""The observation store: a TinyDB file that keeps every ΔH_mix number with where it came from.

Tables
------
``observations``
    one row per (source, system, T, x_B): ΔH_mix in J/mol of atoms with its σ when known
    (columns :data:`~mixcalphad.data.schema.STORED_COLUMNS`, checked by
    :func:`~mixcalphad.data.schema.validate_observations`). A row read from a file (a TDB) is keyed
    by the file's SHA-256 checksum, not its name, so two different files named ``db.tdb`` never
    collide; the name stays in ``source`` for display.
``flags``
    qualitative facts about a system that are not numbers (``immiscible`` in an AIMD run…).
``assessed_liquids``
    the interaction parameters L_n(T) of each assessed binary liquid harvested from a TDB
    (:class:`~mixcalphad.data.assessed_liquid.AssessedLiquid`), keyed like its observations by
    the file's checksum and the system, so that written TDBs carry the assessment whole. A store
    made before they were kept has none; ``data build`` adds them.
``meta``
    the schema version.
Later stages (AIMD runs, fits, acquisition selections) add their own tables through
:meth:`Store.add_records`.

Guarantees
----------
* Idempotent: adding the same observation twice keeps one; adding a *different* value under an
  existing key raises :class:`~mixcalphad.errors.StoreConflictError` unless ``replace=True``. An
  empty ``GE_J``/``SE_J`` is filled by a row that is otherwise the same (every other compared value
  equal); a stored non-empty one that differs is a conflict like any other value, and a new row
  without them leaves the stored ones as they are.
* Safe against two processes writing at once: every write holds an exclusive lock on
  ``<store>.lock`` (the portable ``filelock`` package) for its whole read–modify–write. Reads take
  no lock: the file is only ever replaced whole.
* Atomic: the JSON file is written to a temporary file and renamed, so a crash never leaves a
  half-written store; the temporary files of a killed writer are removed when the store is next
  opened (:func:`mixcalphad._io.remove_stale_temporaries`). A corrupted file raises
  :class:`~mixcalphad.errors.StoreError` and is never overwritten; so does a store that cannot be
  read or written (permissions), naming the file.
* Schema 1 stores (keyed by file name) are migrated to schema 2 on their first write.

Example
-------
>>> store = Store("mixcalphad-store.json")                       # doctest: +SKIP
>>> store.add_observations(df)                                   # doctest: +SKIP
>>> store.observations(kind="aimd")                              # doctest: +SKIP
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Mapping

import numpy as np
import pandas as pd
from tinydb import TinyDB
from tinydb.storages import Storage

from mixcalphad.chem.binaries import parse_system, system_name
from mixcalphad.data.assessed_liquid import AssessedLiquid
from mixcalphad.data.schema import (EXCESS_COLUMNS, FLAG_COLUMNS, KINDS, OBSERVATION_COLUMNS, STORED_COLUMNS,
                                    validate_flags, validate_observations)
from mixcalphad.errors import DatasetError, StoreConflictError, StoreError
from mixcalphad._io import atomic_path, file_lock, remove_stale_temporaries

__all__ = ["Store", "AddReport", "SCHEMA_VERSION", "default_store_path", "observation_key", "flag_key",
           "OBSERVATION_COLUMNS", "FLAG_COLUMNS", "KINDS"]

#: Version 2: observations read from a file are keyed by the file's checksum (version 1: its name).
SCHEMA_VERSION = 2
#: Characters of a ``checksum`` (``"sha256:"`` + 12 hex digits) that identify a file in a key.
_KEY_CHECKSUM_CHARS = len("sha256:") + 12
_REFERENCE_SHA = re.compile(r"sha256:([0-9a-f]{12})")


def default_store_path() -> Path:
    """``$MIXCALPHAD_STORE`` if set, else ``~/.mixcalphad/store.json``."""
    env = os.environ.get("MIXCALPHAD_STORE")
    return Path(env) if env else Path.home() / ".mixcalphad" / "store.json"


class _AtomicJSONStorage(Storage):
    """TinyDB storage that refuses corrupted files and replaces the file atomically on write."""

    def __init__(self, path: str):
        self.path = Path(path)

    def read(self):
        if not self.path.exists() or self.path.stat().st_size == 0:
            return None
        try:
            with open(self.path, encoding="utf-8") as fh:
                data = json.load(fh)
        except OSError as exc:
            raise StoreError(f"cannot read store file {self.path}: {exc.strerror or exc}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise StoreError(
                f"store file {self.path} is corrupted ({exc}); it was left untouched — "
                "restore it from a backup or move it aside and rebuild with 'mixcalphad data build'"
            ) from None
        if not isinstance(data, dict):
            raise StoreError(f"store file {self.path} is not a mixcalphad store (top level is not an object)")
        return data

    def write(self, data) -> None:
        with atomic_path(self.path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, allow_nan=False)
            fh.flush()
            os.fsync(fh.fileno())

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class AddReport:
    """What an insert did: rows newly added, rows already present with the same value, rows
    overwritten (``replace``) and stored rows whose empty ``GE_J``/``SE_J`` were filled in."""

    added: int
    unchanged: int
    replaced: int = 0
    completed: int = 0

    def to_dict(self) -> dict:
        return {"added": self.added, "unchanged": self.unchanged, "replaced": self.replaced,
                "completed": self.completed}


def _clean(value):
    """JSON-safe scalar: numpy types to Python, NaN to None."""
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def observation_key(row: Mapping) -> str:
    """Identity of an observation: kind, origin, system, T (mK) and x_B (1e-6).

    The origin is the checksum of the file the value was read from when there is one (``checksum``,
    its first 12 hex digits), else the ``source`` name.
    """
    checksum = row.get("checksum")
    origin = checksum[:_KEY_CHECKSUM_CHARS] if isinstance(checksum, str) and checksum else row["source"]
    return (f"{row['kind']}|{origin}|{row['system']}|"
            f"{float(row['T_K']):.3f}|{float(row['x_B']):.6f}")


def flag_key(row: Mapping) -> str:
    """Identity of a flag: source kind, source, system and flag name."""
    return f"{row['kind']}|{row['source']}|{row['system']}|{row['flag']}"


def _migrate_v1(db: TinyDB) -> None:
    """Schema 1 → 2: observations harvested from a TDB get the checksum their reference names."""
    tab = db.table("observations")
    for doc in tab.all():
        found = _REFERENCE_SHA.search(str(doc.get("reference") or ""))
        if doc.get("checksum") is None and found and str(doc.get("collection", "")).endswith("-tdbs"):
            checksum = f"sha256:{found.group(1)}"
            tab.update({"checksum": checksum, "key": observation_key({**doc, "checksum": checksum})},
                       doc_ids=[doc.doc_id])
    db.table("meta").update({"schema_version": SCHEMA_VERSION, "migrated": utc_timestamp()})


class Store:
    """A TinyDB-backed record of ΔH_mix observations, flags and later-stage records.

    Parameters
    ----------
    path : str or Path, optional
        The JSON file; created on first write. Defaults to :func:`default_store_path`.
    """

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path is not None else default_store_path()
        if self.path.is_dir():
            raise StoreError(f"store path {self.path} is a folder; give a file name such as {self.path / 'store.json'}")
        remove_stale_temporaries(self.path)

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    # ------------------------------------------------------------------ low level
    @contextlib.contextmanager
    def _open(self, write: bool) -> Iterator[TinyDB]:
        if not write:  # writers replace the file whole: a reader never sees a partial one
            db = TinyDB(str(self.path), storage=_AtomicJSONStorage)
            self._check_schema(db, write=False)
            yield db
            return
        if self.path.exists() and not os.access(self.path, os.W_OK):
            raise StoreError(f"the store {self.path} is read-only (no write permission); make it writable or "
                             "choose another with --store or $MIXCALPHAD_STORE")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with file_lock(self.path):
                remove_stale_temporaries(self.path, lock_held=True)
                db = TinyDB(str(self.path), storage=_AtomicJSONStorage)
                self._check_schema(db, write=True)
                yield db
        except OSError as exc:  # read-only folder or file system, no permission, disk full…
            hint = (" — the store or its folder is read-only: choose another with --store or $MIXCALPHAD_STORE"
                    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS) else "")
            raise StoreError(f"cannot write the store {self.path}: {exc.strerror or exc} "
                             f"({exc.filename or self.path}){hint}") from None

    def _check_schema(self, db: TinyDB, write: bool) -> None:
        meta = db.table("meta").all()
        if not meta:
            if len(db.tables()) > 0:
                raise StoreError(f"{self.path} is a TinyDB file but not a mixcalphad store (no schema record)")
            if write:
                db.table("meta").insert({"schema_version": SCHEMA_VERSION, "created": utc_timestamp()})
            return
        version = meta[0].get("schema_version")
        if version == 1 and write:
            _migrate_v1(db)
        elif version not in (1, SCHEMA_VERSION):
            raise StoreError(f"{self.path} has store schema version {version}; this mixcalphad reads "
                             f"version {SCHEMA_VERSION}")

    def _add(self, table: str, docs: list[dict], key_of, replace: bool,
             compare: Iterable[str], fillable: Iterable[str] = ()) -> AddReport:
        """Insert ``docs`` keyed by ``key_of``; ``compare`` values must match a stored row's, and
        ``fillable`` ones too unless stored empty (then filled: completed) or given empty (kept)."""
        compare, fillable = tuple(compare), tuple(fillable)
        with self._open(write=True) as db:
            tab = db.table(table)
            existing = {doc["key"]: doc for doc in tab.all()}
            new, changed, completed, unchanged = [], [], [], 0
            seen: dict[str, dict] = {}
            for doc in docs:
                key = key_of(doc)
                doc = {**doc, "key": key}
                if key in seen:
                    if not _same(seen[key], doc, compare + fillable):
                        raise StoreConflictError(f"two rows of the same insert share the key {key} "
                                                 "with different values")
                    continue
                seen[key] = doc
                old = existing.get(key)
                if old is None:
                    new.append({**doc, "added": utc_timestamp()})
                    continue
                present = [c for c in fillable if old.get(c) is not None and doc.get(c) is not None]
                if not _same(old, doc, compare + tuple(present)):
                    changed.append((old, doc))
                elif any(old.get(c) is None and doc.get(c) is not None for c in fillable):
                    completed.append((old, {c: doc[c] for c in fillable if old.get(c) is None}))
                else:
                    unchanged += 1
            if changed and not replace:
                old, doc = changed[0]
                diffs = {c: (old.get(c), doc.get(c)) for c in compare + fillable if old.get(c) != doc.get(c)}
                raise StoreConflictError(
                    f"{len(changed)} row(s) of table {table!r} in {self.path} would change an existing value, "
                    f"first: {doc['key']} {diffs} (stored → new); nothing was written. "
                    "Use replace=True (CLI: --replace) to overwrite on purpose.")
            updates = {old["key"]: {**doc, "added": utc_timestamp()} for old, doc in changed}
            updates.update({old["key"]: fill for old, fill in completed})
            if updates:  # one write for all of them
                tab.update(lambda stored: stored.update(updates[stored["key"]]),
                           doc_ids=[existing[key].doc_id for key in updates])
            if new:
                tab.insert_multiple(new)
        return AddReport(added=len(new), unchanged=unchanged, replaced=len(changed), completed=len(completed))

    # ------------------------------------------------------------------ observations
    def add_observations(self, rows: pd.DataFrame, *, replace: bool = False) -> AddReport:
        """Add ΔH_mix observations (a DataFrame with :data:`OBSERVATION_COLUMNS`).

        ``x_B`` is the mole fraction of the second element of ``system`` *as written*: ``NI-AL`` at
        ``x_B = 0.1`` is stored as ``AL-NI`` at ``x_B = 0.9``. Every row is checked by
        :func:`~mixcalphad.data.schema.validate_observations` before anything is written.

        Rows already stored with the same value are skipped; a different value under an existing
        key raises :class:`StoreConflictError` and writes nothing, unless ``replace``. A stored row
        without ``GE_J``/``SE_J`` that the new row repeats with them is completed (only those two
        fields are written; counted in :attr:`AddReport.completed`).

        Raises
        ------
        DatasetError, UnknownElementError
            A bad row (named); nothing is written.
        StoreConflictError
            A changed value without ``replace``.
        StoreError
            The store cannot be read or written.
        """
        rows = validate_observations(rows)
        docs = [{c: _clean(v) for c, v in rec.items()} for rec in rows.to_dict("records")]
        return self._add("observations", docs, observation_key, replace,
                         compare=("HM_MIX_J", "sigma_J", "reference", "collection", "caution"),
                         fillable=EXCESS_COLUMNS)

    def observations(self, *, kind: str | None = None, system: str | None = None,
                     source: str | None = None) -> pd.DataFrame:
        """Stored observations as a DataFrame (:data:`STORED_COLUMNS` + ``added``), filtered.

        ``caution`` and ``checksum`` are None where not given; ``sigma_J``, ``GE_J`` (J/mol of
        atoms) and ``SE_J`` (J/(mol·K)) NaN.
        """
        with self._open(write=False) as db:
            docs = db.table("observations").all()
        frame = pd.DataFrame(docs, columns=[*STORED_COLUMNS, "added"])
        for col in ("sigma_J", *EXCESS_COLUMNS):
            frame[col] = frame[col].astype(float)
        frame[["caution", "checksum"]] = frame[["caution", "checksum"]].astype(object).where(
            frame[["caution", "checksum"]].notna(), None)
        if kind is not None:
            frame = frame[frame["kind"] == kind]
        if system is not None:
            frame = frame[frame["system"] == system_name(*parse_system(system))]
        if source is not None:
            frame = frame[frame["source"] == source]
        return frame.sort_values(["system", "kind", "source", "T_K", "x_B"]).reset_index(drop=True)

    # ------------------------------------------------------------------ flags
    def add_flags(self, rows: pd.DataFrame, *, replace: bool = False) -> AddReport:
        """Add qualitative flags (a DataFrame with :data:`FLAG_COLUMNS`), idempotently."""
        docs = [{c: _clean(v) for c, v in rec.items()} for rec in validate_flags(rows).to_dict("records")]
        return self._add("flags", docs, flag_key, replace, compare=("T_K", "reference"))

    def flags(self, flag: str | None = None) -> pd.DataFrame:
        """Stored flags as a DataFrame (:data:`FLAG_COLUMNS` + ``added``)."""
        with self._open(write=False) as db:
            docs = db.table("flags").all()
        frame = pd.DataFrame(docs, columns=[*FLAG_COLUMNS, "added"])
        if flag is not None:
            frame = frame[frame["flag"] == flag]
        return frame.sort_values(["system", "flag", "source"]).reset_index(drop=True)

    # ------------------------------------------------------------------ assessed liquids
    def add_assessed_liquids(self, liquids: Iterable[AssessedLiquid], *, replace: bool = False) -> AddReport:
        """Keep the interaction parameters of assessed binaries (idempotent, keyed by checksum and system)."""
        docs = [liquid.to_record() for liquid in liquids]
        return self._add("assessed_liquids", docs, lambda d: f"{d['checksum']}|{d['system']}", replace,
                         compare=("terms", "reference", "source"))

    def assessed_liquids(self) -> dict[str, list[AssessedLiquid]]:
        """``{"AL-CU": [AssessedLiquid, …]}``: the assessments kept whole, sorted by source and checksum."""
        with self._open(write=False) as db:
            docs = db.table("assessed_liquids").all()
        out: dict[str, list[AssessedLiquid]] = {}
        for doc in sorted(docs, key=lambda d: (d["system"], d["source"], d["checksum"])):
            out.setdefault(doc["system"], []).append(AssessedLiquid.from_record(doc))
        return out

    # ------------------------------------------------------------------ generic records
    def add_records(self, table: str, records: list[dict], *, key_fields: Iterable[str],
                    replace: bool = False) -> AddReport:
        """Add records to a named table (runs, fits, selections…), keyed by ``key_fields``."""
        if table in ("observations", "flags", "meta", "assessed_liquids"):
            raise StoreError(f"use the dedicated method for table {table!r}")
        key_fields = tuple(key_fields)
        docs = [{k: _clean(v) for k, v in rec.items()} for rec in records]
        for doc in docs:
            absent = [k for k in key_fields if k not in doc]
            if absent:
                raise DatasetError(f"record for table {table!r} lacks key field(s) {absent}: {doc}")
        compare = sorted({k for doc in docs for k in doc} - set(key_fields))
        return self._add(table, docs, lambda d: "|".join(str(d[k]) for k in key_fields), replace, compare)

    def records(self, table: str) -> pd.DataFrame:
        """All records of a named table as a DataFrame (empty if the table does not exist)."""
        with self._open(write=False) as db:
            return pd.DataFrame(db.table(table).all())

    # ------------------------------------------------------------------ summary
    def summary(self) -> dict:
        """Counts of systems, points and sources per source kind and per collection, and flags.

        A plain, JSON-ready dict. ``excess_entropy`` counts curves — one (system, source, checksum)
        each — and how many of them carry an excess entropy (``SE_J`` at some point), in all and
        per collection.
        """
        obs, flags = self.observations(), self.flags()
        per_kind = {
            kind: {"systems": int(g["system"].nunique()), "points": int(len(g)),
                   "sources": int(g["source"].nunique())}
            for kind, g in obs.groupby("kind")
        }
        per_collection = {
            name: {"systems": int(g["system"].nunique()), "points": int(len(g)),
                   "sources": int(g["source"].nunique())}
            for name, g in obs.groupby("collection")
        }
        per_flag = {flag: int(g["system"].nunique()) for flag, g in flags.groupby("flag")}
        return {"store": str(self.path), "schema_version": SCHEMA_VERSION,
                "systems": int(obs["system"].nunique()), "points": int(len(obs)),
                "by_kind": per_kind, "by_collection": per_collection, "flags": per_flag,
                "excess_entropy": _excess_entropy_curves(obs)}


def _excess_entropy_curves(obs: pd.DataFrame) -> dict:
    """``{"curves": n, "with_SE": m, "by_collection": {name: {"curves": …, "with_SE": …}}}``."""
    curves = (obs.assign(checksum=obs["checksum"].fillna(""), has_se=obs["SE_J"].notna())
              .groupby(["collection", "system", "source", "checksum"])["has_se"].any().reset_index())

    def count(frame: pd.DataFrame) -> dict:
        return {"curves": int(len(frame)), "with_SE": int(frame["has_se"].sum())}

    return {**count(curves), "by_collection": {name: count(g) for name, g in curves.groupby("collection")}}


def _same(old: Mapping, new: Mapping, compare: Iterable[str]) -> bool:
    for col in compare:
        a, b = old.get(col), new.get(col)
        if isinstance(a, float) and isinstance(b, float):
            if not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9):
                return False
        elif a != b:
            return False
    return True


def utc_timestamp() -> str:
    """The current UTC time, ISO 8601 to the second (``2026-01-31T12:00:00+00:00``): when a record was
    added, a store created, a TDB written."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
