"""The embedded default data: which tables and files make the ΔH_mix dataset, and building it.

Three sources, in order of precedence for a binary:

1. **Assessed TDBs** — the TDB files installed with pycalphad (plus any the user adds), harvested by
   :mod:`mixcalphad.data.harvest` at x_B = 0.1…0.9 and 1873 K.
2. **Extra assessed table** — ``data/assessed_hmix_extra.csv``: ΔH_mix of 109 further binaries computed
   from published assessments (same grid and temperature). A binary already harvested from a TDB is
   *not* taken from this table (the harvested file wins), so no binary counts twice.
3. **AIMD** — the founding paper's Table 1 (``data/aimd_bizot2026.csv``): 29 equimolar values and 8
   systems observed immiscible (stored as flags, not numbers).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Sequence

import pandas as pd

from mixcalphad.chem.binaries import parse_system, system_name
from mixcalphad.errors import DatasetError
from mixcalphad.data.store import FLAG_COLUMNS, OBSERVATION_COLUMNS, AddReport, Store

log = logging.getLogger(__name__)

EXTRA_TABLE = "assessed_hmix_extra.csv"
AIMD_TABLE = "aimd_bizot2026.csv"
AIMD_SOURCE = "Bizot2026-Table1"
AIMD_REFERENCE = ("Bizot, Tamura, Deffrennes, Comput. Mater. Sci. (2026) 114568, Table 1: "
                  "VASP PAW-PBE AIMD, NVT, 100 atoms, x = 0.5")


def _read_package_csv(name: str, required: Sequence[str]) -> pd.DataFrame:
    with resources.files("mixcalphad.data").joinpath(name).open("r", encoding="utf-8") as fh:
        frame = pd.read_csv(fh)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DatasetError(f"package table {name} lacks column(s) {missing}")
    return frame


def extra_assessed_observations() -> pd.DataFrame:
    """The extra assessed table as observations (J/mol of atoms, x_B of the sorted pair, K)."""
    raw = _read_package_csv(EXTRA_TABLE, ("system", "x_B", "T", "HM_MIX_J", "source", "n_sources",
                                          "spread_x05_J"))
    pairs = [parse_system(s) for s in raw["system"]]
    unsorted = raw["system"][[system_name(*p) != s for p, s in zip(pairs, raw["system"])]]
    if len(unsorted):
        raise DatasetError(f"{EXTRA_TABLE}: system {unsorted.iloc[0]!r} is not a sorted pair")
    spread = raw["spread_x05_J"].map(lambda v: "" if pd.isna(v) else f", spread at x=0.5: {v:.0f} J/mol")
    return pd.DataFrame({
        "system": raw["system"],
        "x_B": raw["x_B"].astype(float),
        "T_K": raw["T"].astype(float),
        "HM_MIX_J": raw["HM_MIX_J"].astype(float),
        "sigma_J": float("nan"),
        "kind": "assessed",
        "source": raw["source"],
        "reference": ("mixcalphad " + EXTRA_TABLE + ": " + raw["source"]
                      + " (independent files: " + raw["n_sources"].astype(str) + spread + ")"),
        "collection": "assessed-extra",
    }, columns=list(OBSERVATION_COLUMNS))


def aimd_observations() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The paper's AIMD values as observations and its immiscible systems as flags.

    Returns
    -------
    observations : DataFrame
        29 equimolar points (``x_B = 0.5``), HM_MIX_J in J/mol of atoms; the paper gives no σ.
    flags : DataFrame
        8 systems with ``flag = "immiscible"``.
    """
    raw = _read_package_csv(AIMD_TABLE, ("pair", "T_K", "HM_MIX_kJ", "status"))
    raw["system"] = [system_name(*parse_system(p)) for p in raw["pair"]]
    bad = set(raw["status"]) - {"value", "immiscible"}
    if bad:
        raise DatasetError(f"{AIMD_TABLE}: unknown status {sorted(bad)}")
    values = raw[raw["status"] == "value"]
    if values["HM_MIX_kJ"].isna().any():
        raise DatasetError(f"{AIMD_TABLE}: a row with status 'value' has no HM_MIX_kJ")
    observations = pd.DataFrame({
        "system": values["system"], "x_B": 0.5, "T_K": values["T_K"].astype(float),
        "HM_MIX_J": values["HM_MIX_kJ"].astype(float) * 1000.0, "sigma_J": float("nan"),
        "kind": "aimd", "source": AIMD_SOURCE, "reference": AIMD_REFERENCE, "collection": "bizot2026",
    }, columns=list(OBSERVATION_COLUMNS)).reset_index(drop=True)
    immiscible = raw[raw["status"] == "immiscible"]
    flags = pd.DataFrame({
        "system": immiscible["system"], "flag": "immiscible", "T_K": immiscible["T_K"].astype(float),
        "kind": "aimd", "source": AIMD_SOURCE, "reference": AIMD_REFERENCE + " (phase separation observed)",
        "collection": "bizot2026",
    }, columns=list(FLAG_COLUMNS)).reset_index(drop=True)
    return observations, flags


#: Collection names: the named bodies of data an observation can come with.
COLLECTIONS = {
    "pycalphad-tdbs": "assessed TDB files installed with pycalphad (the default corpus)",
    "user-tdbs": "TDB files given by the user",
    "assessed-extra": f"the packaged table {EXTRA_TABLE}",
    "bizot2026": f"the founding paper's AIMD Table 1 ({AIMD_TABLE})",
}


@dataclass(frozen=True)
class DatasetBuild:
    """The assembled default dataset and what went into it.

    Attributes
    ----------
    observations, flags : DataFrame
        Ready for :meth:`Store.add_observations` / :meth:`Store.add_flags`; the ``collection``
        column says which of :data:`COLLECTIONS` each row came with.
    files_read : list of str
        TDB files harvested.
    files_failed : list of (str, str)
        TDB files that could not be read, with the reason.
    skipped : list of (str, str)
        Liquids or binaries inside readable files that were skipped, with the reason.
    duplicates : list
        Assessments present in several files, counted once (as reported by the harvest).
    extra_skipped : list of str
        Systems of the extra table left out because a harvested TDB already describes them.
    """

    observations: pd.DataFrame
    flags: pd.DataFrame
    files_read: list = field(default_factory=list)
    files_failed: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    duplicates: list = field(default_factory=list)
    extra_skipped: list = field(default_factory=list)

    def counts(self) -> dict:
        """Systems and points per collection, immiscible flags and the total of distinct systems."""
        obs = self.observations
        out = {name: {"systems": int(g["system"].nunique()), "points": int(len(g))}
               for name, g in obs.groupby("collection")}
        out["immiscible_flags"] = int((self.flags["flag"] == "immiscible").sum())
        out["systems_total"] = int(obs["system"].nunique())
        return out


def build_dataset(tdb_paths: Sequence[str | Path] = (), *, default_corpus: bool = True,
                  extra_table: bool = True, aimd: bool = True, T: float = 1873.0,
                  progress: bool | None = None) -> DatasetBuild:
    """Assemble observations from TDB files, the extra assessed table and the AIMD table.

    Parameters
    ----------
    tdb_paths : sequence of path
        The user's own TDB files or folders, harvested together with the default corpus (an
        assessment present in both counts once).
    default_corpus : bool
        Include the TDB files installed with pycalphad.
    extra_table, aimd : bool
        Include the packaged extra assessed table / the paper's AIMD table.
    T : float
        Harvest temperature in K (default 1873 K, the extra table's temperature).
    progress : bool or None
        Progress bar over TDB files; None shows it only on a terminal.

    Examples
    --------
    >>> build = build_dataset()                    # doctest: +SKIP
    >>> build.counts()["systems_total"]            # doctest: +SKIP
    """
    from mixcalphad.data.harvest import default_corpus_paths, harvest_corpus

    defaults = default_corpus_paths() if default_corpus else []
    paths = [*defaults, *map(Path, tdb_paths)]
    parts, flags = [], pd.DataFrame(columns=list(FLAG_COLUMNS))
    files_read, failed, skipped, duplicates = [], [], [], []
    if paths:
        harvest = harvest_corpus(paths, T=T, progress=progress)
        default_names = {p.name for p in defaults}
        tdb_obs = harvest.observations.assign(
            collection=["pycalphad-tdbs" if s in default_names and r.startswith("pycalphad") else "user-tdbs"
                        for s, r in zip(harvest.observations["source"], harvest.observations["reference"])])
        parts.append(tdb_obs)
        files_read, failed = list(map(str, harvest.files_read)), list(harvest.failed)
        skipped, duplicates = list(harvest.skipped), list(harvest.duplicates)
    harvested_systems = set(parts[0]["system"]) if parts else set()
    extra_skipped: list[str] = []
    if extra_table:
        extra = extra_assessed_observations()
        overlap = extra["system"].isin(harvested_systems)
        extra_skipped = sorted(set(extra.loc[overlap, "system"]))
        if extra_skipped:
            log.info("extra table: %d systems already harvested from TDBs, not counted twice: %s",
                     len(extra_skipped), ", ".join(extra_skipped))
        parts.append(extra[~overlap])
    if aimd:
        aimd_obs, flags = aimd_observations()
        parts.append(aimd_obs)
    observations = (pd.concat(parts, ignore_index=True) if parts
                    else pd.DataFrame(columns=list(OBSERVATION_COLUMNS)))
    return DatasetBuild(observations=observations, flags=flags, files_read=files_read,
                        files_failed=failed, skipped=skipped, duplicates=duplicates,
                        extra_skipped=extra_skipped)


def build_store(store: Store, build: DatasetBuild, *, replace: bool = False) -> dict[str, AddReport]:
    """Write a :class:`DatasetBuild` into ``store`` idempotently; returns the insert reports."""
    return {"observations": store.add_observations(build.observations, replace=replace),
            "flags": store.add_flags(build.flags, replace=replace)}
