"""Finished run folders → ΔH_mix and the store.

* :func:`analyze_run_folder` — one run folder (prepared layout or plain output folder) analysed.
* :func:`hmix_from_folders` — ΔH_mix from three run folders.
* :func:`ingest_vasp_runs` — every finished binary of a runs folder into a :class:`~mixcalphad.data.store.Store`:
  idempotent (the reference records SHA-256 checksums of the files read), all-or-nothing per binary
  (everything is computed and checked against the store before anything is written), with the
  source (code, version, settings key, files). Binaries with blocking flags (pressure window, short,
  not liquid, crystalline, phase separated, top band occupied…) are reported and left out unless
  ``include_flagged``.

Status and the volume search are :mod:`.status`'s (re-exported here).
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from mixcalphad.errors import MissingRunFilesError, MixcalphadError, StoreConflictError
from mixcalphad.aimd.analysis import AcceptanceLimits, RunAnalysis, analyze_run
from mixcalphad.aimd.mixing import MixingResult, mixing_enthalpy
from mixcalphad.aimd.protocol import PROTOCOL
from mixcalphad.aimd.status import output_signature, stage_folders, runs_status, volume_fit_of
from mixcalphad.aimd.vasp import read_manifest
from mixcalphad.aimd.vasp_outputs import output_folders, read_outputs

log = logging.getLogger(__name__)

COLLECTION = "aimd-runs"
RUNS_TABLE = "aimd_runs"


# ---------------------------------------------------------------------- one run folder → analysis
def analyze_run_folder(folder: str | Path, *, label: str | None = None, protocol: Mapping | None = None,
                       limits: AcceptanceLimits | None = None) -> RunAnalysis:
    """Analyse one run folder: a prepared run (``volume/`` stages + ``production/``) or a plain folder
    with vasprun.xml and/or OUTCAR/OSZICAR (then without a volume fit, flagged ``no_volume_fit``).

    ``limits`` default to the protocol's (:meth:`AcceptanceLimits.from_protocol`: a prepared run must
    keep its production length after the equilibration is discarded).

    Raises
    ------
    MissingRunFilesError
        No output files.
    AIMDParseError
        Unreadable output.
    """
    folder = Path(folder)
    limits = limits or AcceptanceLimits.from_protocol(protocol)
    protocol = dict(PROTOCOL, **(protocol or {}))
    if not folder.is_dir():
        raise MissingRunFilesError(f"run folder {folder} does not exist")
    prod = folder / "production" if (folder / "production").is_dir() else folder
    # cached on the files' sizes and modification times: a re-ingest re-reads only what changed
    key = (str(folder.resolve()), output_signature(prod), tuple(output_signature(s) for s in stage_folders(folder)),
           label, json.dumps(limits.to_dict(), sort_keys=True), json.dumps(protocol, sort_keys=True, default=str))
    if key not in _ANALYSES:
        traj = read_outputs(prod)
        fit = volume_fit_of(folder, protocol, traj.n_atoms) if (folder / "volume").is_dir() else None
        if len(_ANALYSES) > 1024:
            _ANALYSES.clear()
        _ANALYSES[key] = analyze_run(traj, volume_fit=fit, label=label or folder.name, limits=limits)
    return _ANALYSES[key]


_ANALYSES: dict[tuple, RunAnalysis] = {}


def hmix_from_folders(pure_a: str | Path, pure_b: str | Path, alloy: str | Path, *,
                      limits: AcceptanceLimits | None = None) -> MixingResult:
    """ΔH_mix (J/mol of atoms) with σ from three finished run folders (see :func:`analyze_run_folder`;
    ``limits`` default to the protocol's).

    Raises
    ------
    SettingsMismatchError
        The runs differ in a non-composition setting.
    MissingRunFilesError, AIMDParseError
        A folder lacks outputs or has unreadable ones.
    """
    runs = [analyze_run_folder(p, limits=limits) for p in (pure_a, pure_b, alloy)]
    return mixing_enthalpy(*runs)


# ---------------------------------------------------------------------- ingest
def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _files_used(run_dir: Path) -> list[Path]:
    files = []
    for folder in [*stage_folders(run_dir), run_dir / "production"]:
        for part in output_folders(folder):
            for name in ("vasprun.xml", "OUTCAR", "OSZICAR"):
                if (part / name).is_file():
                    files.append(part / name)
                    break
    return files


@dataclass(frozen=True)
class IngestReport:
    """What :func:`ingest_vasp_runs` did, per binary point (job id)."""

    store: str
    added: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    replaced: tuple[str, ...] = ()
    pending: tuple[tuple[str, str], ...] = ()
    flagged: tuple[tuple[str, str], ...] = ()
    failed: tuple[tuple[str, str], ...] = ()
    results: Mapping[str, Mapping] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"store": self.store, "added": list(self.added), "unchanged": list(self.unchanged),
                "replaced": list(self.replaced),
                "pending": [{"job": j, "reason": r} for j, r in self.pending],
                "flagged": [{"job": j, "reason": r} for j, r in self.flagged],
                "failed": [{"job": j, "reason": r} for j, r in self.failed],
                "results": dict(self.results)}


def _run_record(run_id: str, analysis: RunAnalysis, files: Mapping[str, str], runs_dir: Path) -> dict:
    ident = {"runs_dir": str(runs_dir.resolve()), "run_id": run_id, "composition": dict(analysis.composition),
             "keys": dict(analysis.element_keys)}
    return {"run_key": hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:16],
            "run_id": run_id, "runs_dir": str(runs_dir.resolve()), "composition": dict(analysis.composition),
            "T_K": analysis.T_K, "n_atoms": analysis.n_atoms, "code": "vasp", "version": analysis.code_version,
            "settings": json.dumps(analysis.settings, sort_keys=True), "H0_eV": analysis.H0_eV,
            "H0_sem_eV": analysis.H0_sem_eV, "E_eV": analysis.E_eV, "H_pV_eV": analysis.H_pV_eV,
            "p_kbar": analysis.p_kbar, "p_sem_kbar": analysis.p_sem_kbar, "volume_A3": analysis.volume_A3,
            "K_T_GPa": analysis.K_T_GPa, "dE_dV_eV_A3": analysis.dE_dV_eV_A3, "n_eff": analysis.n_eff,
            "n_steps": analysis.n_steps, "msd_A2": analysis.msd_A2, "flags": list(analysis.flags),
            "files": dict(files)}


def _reference(result: MixingResult, version: str, settings_key: str, files: Mapping[str, Mapping]) -> str:
    runs = {role: {"run": r.label, "H0_eV": r.H0_eV, "H0_sem_eV": r.H0_sem_eV, "p_kbar": r.p_kbar,
                   "n_eff": r.n_eff, "files": dict(files[role])} for role, r in result.runs.items()}
    return json.dumps({"code": "vasp", "version": version, "settings_key": json.loads(settings_key),
                       "estimator": "H(p=0) = <E> + (dE/dV)_T V p/K_T, E = e_wo_entrp + EKIN",
                       "HM_MIX_raw_J": result.HM_MIX_raw_J, "HM_MIX_pV_J": result.HM_MIX_pV_J,
                       "flags": list(result.flags), "runs": runs}, sort_keys=True)


def ingest_vasp_runs(runs_dir: str | Path, store=None, *, replace: bool = False, include_flagged: bool = False,
                     collection: str = COLLECTION, progress: bool | None = None) -> IngestReport:
    """Put every finished binary of a prepared runs folder into the store.

    Parameters
    ----------
    runs_dir : path
        A folder written by :func:`~mixcalphad.aimd.vasp.prepare_vasp_runs`.
    store : Store or path, optional
        Default :func:`~mixcalphad.data.store.default_store_path`.
    replace : bool
        Overwrite a stored value that changed (e.g. after extending a run).
    include_flagged : bool
        Also ingest points with blocking flags (their flags are kept in the reference).
    collection : str
        Collection name of the observations.
    progress : bool, optional
        Progress bar over the binaries (default: on a terminal only).

    Returns
    -------
    IngestReport
        Per binary: added / unchanged / replaced / pending (runs not finished) / flagged / failed
        (with reasons). A failed or flagged binary writes nothing.
    """
    from tqdm.auto import tqdm

    from mixcalphad.data.store import Store

    runs_dir = Path(runs_dir)
    store = store if isinstance(store, Store) else Store(store)
    manifest = read_manifest(runs_dir)
    statuses = {s.run_id: s for s in runs_status(runs_dir)}
    analyses: dict[str, RunAnalysis | Exception] = {}
    out: dict[str, list] = {k: [] for k in ("added", "unchanged", "replaced", "pending", "flagged", "failed")}
    results = {}
    binaries = manifest["binaries"]
    # progress=None: a bar on a terminal only (tqdm's own rule)
    for job in tqdm(binaries, desc="ingest", disable=None if progress is None else not progress, leave=False):
        jid = job["job_id"]
        roles = {"pure_a": job["pure_a"], "pure_b": job["pure_b"], "alloy": job["alloy"]}
        states = {rid: statuses[rid] for rid in roles.values()}
        failed = [f"{rid}: {s.reason}" for rid, s in states.items() if s.state == "failed"]
        if failed:
            out["failed"].append((jid, "; ".join(failed)))
            continue
        waiting = [f"{rid} ({s.state})" for rid, s in states.items() if s.state != "production-done"]
        if waiting:
            out["pending"].append((jid, "not finished: " + ", ".join(waiting)))
            continue
        try:
            for rid in roles.values():
                if rid not in analyses:
                    try:
                        analyses[rid] = analyze_run_folder(runs_dir / rid, label=rid, protocol=manifest["protocol"])
                    except MixcalphadError as exc:
                        analyses[rid] = exc
                if isinstance(analyses[rid], Exception):
                    raise analyses[rid]
            result = mixing_enthalpy(analyses[roles["pure_a"]], analyses[roles["pure_b"]], analyses[roles["alloy"]])
        except MixcalphadError as exc:
            out["failed"].append((jid, str(exc)))
            continue
        results[jid] = result.summary()
        if result.blocking_flags and not include_flagged:
            out["flagged"].append((jid, ", ".join(result.blocking_flags)))
            continue
        files = {role: {str(p.relative_to(runs_dir)): _sha256(p) for p in _files_used(runs_dir / rid)}
                 for role, rid in roles.items()}
        skey = result.settings_key
        shash = hashlib.sha256(skey.encode()).hexdigest()[:12]
        version = result.runs["alloy"].code_version
        obs = pd.DataFrame([{
            "system": result.system, "x_B": result.x_B, "T_K": result.T_K, "HM_MIX_J": result.HM_MIX_J,
            "sigma_J": result.sigma_J, "kind": "aimd", "source": f"aimd-vasp/{shash}",
            "reference": _reference(result, version, skey, files), "collection": collection}])
        records = [_run_record(rid, analyses[rid], files[role], runs_dir) for role, rid in roles.items()]
        try:
            _precheck(store, obs, records, replace)
            rep = store.add_observations(obs, replace=replace)
            store.add_records(RUNS_TABLE, records, key_fields=("run_key",), replace=replace)
        except StoreConflictError as exc:
            out["failed"].append((jid, f"store conflict, nothing written: {exc}"))
            continue
        out["added" if rep.added else "replaced" if rep.replaced else "unchanged"].append(jid)
    return IngestReport(str(store.path), *(tuple(out[k]) for k in ("added", "unchanged", "replaced")),
                        *(tuple(out[k]) for k in ("pending", "flagged", "failed")), results)


def _equal(a, b) -> bool:
    """Store-like equality: floats to 1e-9 relative, NaN and None alike."""
    missing = (lambda v: v is None or (isinstance(v, float) and np.isnan(v)))
    if missing(a) or missing(b):
        return missing(a) and missing(b)
    if isinstance(a, (float, int, np.floating, np.integer)) and isinstance(b, (float, int, np.floating, np.integer)) \
            and not isinstance(a, bool) and not isinstance(b, bool):
        return bool(np.isclose(float(a), float(b), rtol=1e-9, atol=1e-9))
    return a == b


def _precheck(store, obs: pd.DataFrame, records: list[dict], replace: bool) -> None:
    """Raise StoreConflictError before anything is written if either insert would conflict."""
    if replace or not store.path.exists():
        return
    from mixcalphad.data.store import observation_key

    row = obs.iloc[0].to_dict()
    stored = store.observations(kind="aimd", system=row["system"], source=row["source"])
    for _, old in stored.iterrows():
        if observation_key(old) == observation_key(row) and not all(
                _equal(old[c], row[c]) for c in ("HM_MIX_J", "sigma_J", "reference", "collection")):
            raise StoreConflictError(f"{row['system']} x_B={row['x_B']:.3f} T={row['T_K']:.0f} K is stored "
                                     f"from {row['source']} with another value or other files; use replace")
    table = store.records(RUNS_TABLE)
    if table.empty:
        return
    by_key = {r["run_key"]: r for r in table.to_dict("records")}
    for rec in records:
        old = by_key.get(rec["run_key"])
        if old is not None and not all(_equal(old.get(k), v) for k, v in rec.items()):
            raise StoreConflictError(f"run {rec['run_id']} is stored with other results or files; use replace")
