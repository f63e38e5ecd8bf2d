"""The observation store: a TinyDB file that keeps every ΔH_mix number with where it came from.

Tables
------
``observations``
    one row per (source, system, T, x_B): ΔH_mix in J/mol of atoms with its σ when known
    (columns :data:`OBSERVATION_COLUMNS`).
``flags``
    qualitative facts about a system that are not numbers (``immiscible`` in an AIMD run…).
``meta``
    the schema version.
Later stages (AIMD runs, fits, acquisition selections) add their own tables through
:meth:`Store.add_records`.

Guarantees
----------
* Idempotent: adding the same observation twice keeps one; adding a *different* value under an
  existing key raises :class:`~mixcalphad.errors.StoreConflictError` unless ``replace=True``.
* Safe against two processes writing at once: every operation holds an exclusive lock on
  ``<store>.lock`` for its whole read–modify–write.
* Atomic: the JSON file is written to a temporary file and renamed, so a crash never leaves a
  half-written store. A corrupted file raises :class:`~mixcalphad.errors.StoreError` and is never
  overwritten.

Example
-------
>>> store = Store("mixcalphad-store.json")                       # doctest: +SKIP
>>> store.add_observations(df)                                   # doctest: +SKIP
>>> store.observations(kind="aimd")                              # doctest: +SKIP
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Mapping

import numpy as np
import pandas as pd
from tinydb import TinyDB
from tinydb.storages import Storage

from mixcalphad.chem.binaries import parse_system, system_name
from mixcalphad.errors import DatasetError, StoreConflictError, StoreError
from mixcalphad._io import atomic_path

SCHEMA_VERSION = 1

#: Columns of an observation, with units in their names (x_B: mole fraction of the second element
#: of the sorted pair; T_K: kelvin; HM_MIX_J and sigma_J: J/mol of atoms). ``kind`` is the kind of
#: source (:data:`KINDS`), ``source`` the file or citation key, ``reference`` the full provenance and
#: ``collection`` the named body of data it came with (``pycalphad-tdbs``, ``assessed-extra``…).
OBSERVATION_COLUMNS = ("system", "x_B", "T_K", "HM_MIX_J", "sigma_J", "kind", "source", "reference",
                       "collection")
#: Columns of a flag (a qualitative observation about a system, e.g. ``immiscible``).
FLAG_COLUMNS = ("system", "flag", "T_K", "kind", "source", "reference", "collection")
#: Source kinds a store accepts.
KINDS = ("assessed", "aimd", "user", "prediction", "mlip", "md")


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
    """What an insert did: rows newly added and rows already present with the same value."""

    added: int
    unchanged: int
    replaced: int = 0

    def to_dict(self) -> dict:
        return {"added": self.added, "unchanged": self.unchanged, "replaced": self.replaced}


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
    """Identity of an observation: source kind, source, system, T (mK) and x_B (1e-6)."""
    return (f"{row['kind']}|{row['source']}|{row['system']}|"
            f"{float(row['T_K']):.3f}|{float(row['x_B']):.6f}")


def flag_key(row: Mapping) -> str:
    """Identity of a flag: source kind, source, system and flag name."""
    return f"{row['kind']}|{row['source']}|{row['system']}|{row['flag']}"


def _validated_observations(rows: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in OBSERVATION_COLUMNS if c not in rows.columns]
    if missing:
        raise DatasetError(f"observations lack column(s) {missing}; expected {list(OBSERVATION_COLUMNS)}")
    rows = rows.loc[:, list(OBSERVATION_COLUMNS)].copy()
    rows["system"] = [system_name(*parse_system(s)) for s in rows["system"]]
    for col in ("x_B", "T_K", "HM_MIX_J", "sigma_J"):
        rows[col] = pd.to_numeric(rows[col], errors="raise").astype(float)
    bad = rows[~rows["x_B"].between(0.0, 1.0) | ~(rows["T_K"] > 0) | ~np.isfinite(rows["HM_MIX_J"])]
    if len(bad):
        first = bad.iloc[0]
        raise DatasetError(
            f"{len(bad)} observation(s) out of range, first: {first['system']} x_B={first['x_B']} "
            f"T_K={first['T_K']} HM_MIX_J={first['HM_MIX_J']} (need 0 ≤ x_B ≤ 1, T_K > 0, finite value)")
    unknown = sorted(set(rows["kind"]) - set(KINDS))
    if unknown:
        raise DatasetError(f"unknown observation kind(s) {unknown}; expected one of {list(KINDS)}")
    return rows


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

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    # ------------------------------------------------------------------ low level
    @contextlib.contextmanager
    def _open(self, write: bool) -> Iterator[TinyDB]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX if write else fcntl.LOCK_SH)
            try:
                db = TinyDB(str(self.path), storage=_AtomicJSONStorage)
                try:
                    self._check_schema(db, write)
                    yield db
                finally:
                    db.close()
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _check_schema(self, db: TinyDB, write: bool) -> None:
        meta = db.table("meta").all()
        if not meta:
            if len(db.tables()) > 0:
                raise StoreError(f"{self.path} is a TinyDB file but not a mixcalphad store (no schema record)")
            if write:
                db.table("meta").insert({"schema_version": SCHEMA_VERSION, "created": _now()})
            return
        version = meta[0].get("schema_version")
        if version != SCHEMA_VERSION:
            raise StoreError(f"{self.path} has store schema version {version}; this mixcalphad reads "
                             f"version {SCHEMA_VERSION}")

    def _add(self, table: str, docs: list[dict], key_of, replace: bool,
             compare: Iterable[str]) -> AddReport:
        compare = tuple(compare)
        with self._open(write=True) as db:
            tab = db.table(table)
            existing = {doc["key"]: doc for doc in tab.all()}
            new, changed, unchanged = [], [], 0
            seen: dict[str, dict] = {}
            for doc in docs:
                key = key_of(doc)
                doc = {**doc, "key": key}
                if key in seen:
                    if not _same(seen[key], doc, compare):
                        raise StoreConflictError(f"two rows of the same insert share the key {key} "
                                                 "with different values")
                    continue
                seen[key] = doc
                old = existing.get(key)
                if old is None:
                    new.append({**doc, "added": _now()})
                elif _same(old, doc, compare):
                    unchanged += 1
                else:
                    changed.append((old, doc))
            if changed and not replace:
                old, doc = changed[0]
                diffs = {c: (old.get(c), doc.get(c)) for c in compare if old.get(c) != doc.get(c)}
                raise StoreConflictError(
                    f"{len(changed)} row(s) of table {table!r} in {self.path} would change an existing value, "
                    f"first: {doc['key']} {diffs} (stored → new); nothing was written. "
                    "Use replace=True (CLI: --replace) to overwrite on purpose.")
            for old, doc in changed:
                tab.update({**doc, "added": _now()}, doc_ids=[old.doc_id])
            if new:
                tab.insert_multiple(new)
        return AddReport(added=len(new), unchanged=unchanged, replaced=len(changed))

    # ------------------------------------------------------------------ observations
    def add_observations(self, rows: pd.DataFrame, *, replace: bool = False) -> AddReport:
        """Add ΔH_mix observations (a DataFrame with :data:`OBSERVATION_COLUMNS`).

        Rows already stored with the same value are skipped; a different value under an existing
        key raises :class:`StoreConflictError` and writes nothing, unless ``replace``.
        """
        rows = _validated_observations(rows)
        docs = [{c: _clean(v) for c, v in rec.items()} for rec in rows.to_dict("records")]
        return self._add("observations", docs, observation_key, replace,
                         compare=("HM_MIX_J", "sigma_J", "reference", "collection"))

    def observations(self, *, kind: str | None = None, system: str | None = None,
                     source: str | None = None) -> pd.DataFrame:
        """Stored observations as a DataFrame (:data:`OBSERVATION_COLUMNS` + ``added``), filtered."""
        with self._open(write=False) as db:
            docs = db.table("observations").all()
        frame = pd.DataFrame(docs, columns=[*OBSERVATION_COLUMNS, "added"])
        frame["sigma_J"] = frame["sigma_J"].astype(float)
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
        missing = [c for c in FLAG_COLUMNS if c not in rows.columns]
        if missing:
            raise DatasetError(f"flags lack column(s) {missing}; expected {list(FLAG_COLUMNS)}")
        docs = [{c: _clean(v) for c, v in rec.items()}
                for rec in rows.loc[:, list(FLAG_COLUMNS)].to_dict("records")]
        for doc in docs:
            doc["system"] = system_name(*parse_system(doc["system"]))
        return self._add("flags", docs, flag_key, replace, compare=("T_K", "reference"))

    def flags(self, flag: str | None = None) -> pd.DataFrame:
        """Stored flags as a DataFrame (:data:`FLAG_COLUMNS` + ``added``)."""
        with self._open(write=False) as db:
            docs = db.table("flags").all()
        frame = pd.DataFrame(docs, columns=[*FLAG_COLUMNS, "added"])
        if flag is not None:
            frame = frame[frame["flag"] == flag]
        return frame.sort_values(["system", "flag", "source"]).reset_index(drop=True)

    # ------------------------------------------------------------------ generic records
    def add_records(self, table: str, records: list[dict], *, key_fields: Iterable[str],
                    replace: bool = False) -> AddReport:
        """Add records to a named table (runs, fits, selections…), keyed by ``key_fields``."""
        if table in ("observations", "flags", "meta"):
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

        A plain, JSON-ready dict.
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
                "by_kind": per_kind, "by_collection": per_collection, "flags": per_flag}


def _same(old: Mapping, new: Mapping, compare: Iterable[str]) -> bool:
    for col in compare:
        a, b = old.get(col), new.get(col)
        if isinstance(a, float) and isinstance(b, float):
            if not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9):
                return False
        elif a != b:
            return False
    return True


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
