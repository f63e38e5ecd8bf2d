"""The embedded default data: which tables and files make the ΔH_mix dataset, and building it.

Three sources, in order of precedence for a binary:

1. **Assessed TDBs** — the TDB files installed with pycalphad (plus any the user adds), harvested by
   :mod:`mixcalphad.data.harvest` at x_B = 0.1…0.9 and 1873 K.
2. **Extra assessed tables** — ``data/assessed_hmix_extra.csv``: ΔH_mix of 109 further binaries computed
   from published assessments (same grid and temperature), ``data/assessed_hmix_extra2.csv``: 28
   more from other public repositories, with a ``caution`` where a value deserves a lower weight
   (nitrogen liquids fitted for dilute N only, large T terms fitted to phase diagrams only, no
   citation, two public descriptions that disagree), carried into the store's ``caution`` column,
   and ``data/assessed_hmix_extra3.csv``: 15 more, 10 of them with a caution (hydrogen, nitrogen and
   phosphorus-rich curves are dilute descriptions extrapolated to the whole range; N and S lack the
   fusion data the predictor needs, so their binaries serve provenance and TDB output, and
   :func:`mixcalphad.model.regressor.training_rows` leaves them out of training). Every table gives
   the liquid's excess Gibbs energy ``GE_J`` (J/mol of atoms) and excess entropy ``SE_J``
   (J/(mol·K)) at each point, computed from the same file as ``HM_MIX_J``. A table's binary with an
   element that the element table does not know (hydrogen: SGTE gives it no unary data) cannot be
   stored; it is left out of the build and listed in ``skipped`` with the reason.
   ``data/source_cautions.csv`` adds our own cautions to rows the tables leave unflagged, each
   with the source's evidence (GA-ND: a round-number placeholder liquid in a database whose header
   says its Ga parameters are not assessed); the numbers themselves are never changed.
   A binary already harvested from a TDB, or taken from an earlier table, is *not* taken again (the
   harvested file wins), so no binary counts twice.
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
from mixcalphad.chem.elements import element_table
from mixcalphad.data.schema import EXCESS_COLUMNS, FLAG_COLUMNS, OBSERVATION_COLUMNS
from mixcalphad.data.store import AddReport, Store
from mixcalphad.errors import DatasetError, TDBError

log = logging.getLogger(__name__)

EXTRA_TABLE = "assessed_hmix_extra.csv"
EXTRA_TABLE_2 = "assessed_hmix_extra2.csv"
EXTRA_TABLE_3 = "assessed_hmix_extra3.csv"
#: The packaged assessed tables by collection name, in order of precedence.
EXTRA_TABLES = {"assessed-extra": EXTRA_TABLE, "assessed-extra2": EXTRA_TABLE_2, "assessed-extra3": EXTRA_TABLE_3}
#: Cautions mixcalphad adds to packaged rows (system, source, caution), with the evidence in the text.
SOURCE_CAUTIONS = "source_cautions.csv"
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


def extra_assessed_observations(collection: str = "assessed-extra") -> pd.DataFrame:
    """A packaged assessed table as observations (J/mol of atoms, x_B of the sorted pair, K).

    Parameters
    ----------
    collection : str
        A key of :data:`EXTRA_TABLES`: ``"assessed-extra"`` (109 binaries), ``"assessed-extra2"``
        (28 binaries, with cautions) or ``"assessed-extra3"`` (15 binaries, with cautions).

    Returns
    -------
    pandas.DataFrame
        :data:`OBSERVATION_COLUMNS`, ``caution`` (the table's, else that of :data:`SOURCE_CAUTIONS`,
        else None), ``GE_J`` (excess Gibbs energy, J/mol of atoms) and ``SE_J`` (excess entropy,
        J/(mol·K)) as the table gives them.

    Raises
    ------
    DatasetError
        An unknown collection, a table without a required column or with an unsorted system.
    """
    if collection not in EXTRA_TABLES:
        raise DatasetError(f"no packaged assessed table {collection!r}; known: {list(EXTRA_TABLES)}")
    table = EXTRA_TABLES[collection]
    raw = _read_package_csv(table, ("system", "x_B", "T", "HM_MIX_J", "source", "n_sources", "spread_x05_J",
                                    *EXCESS_COLUMNS))
    pairs = [parse_system(s) for s in raw["system"]]
    unsorted = raw["system"][[system_name(*p) != s for p, s in zip(pairs, raw["system"])]]
    if len(unsorted):
        raise DatasetError(f"{table}: system {unsorted.iloc[0]!r} is not a sorted pair")
    caution = raw["caution"] if "caution" in raw.columns else pd.Series(None, index=raw.index, dtype=object)
    ours = _read_package_csv(SOURCE_CAUTIONS, ("system", "source", "caution")).set_index(["system", "source"])["caution"]
    added = pd.Series([ours.get((s, src)) for s, src in zip(raw["system"], raw["source"])], index=raw.index,
                      dtype=object)
    caution = caution.where(caution.notna(), added)
    spread = raw["spread_x05_J"].map(lambda v: "" if pd.isna(v) else f", spread at x=0.5: {v:.0f} J/mol")
    return pd.DataFrame({
        "system": raw["system"],
        "x_B": raw["x_B"].astype(float),
        "T_K": raw["T"].astype(float),
        "HM_MIX_J": raw["HM_MIX_J"].astype(float),
        "sigma_J": float("nan"),
        "kind": "assessed",
        "source": raw["source"],
        "reference": ("mixcalphad " + table + ": " + raw["source"]
                      + " (independent files: " + raw["n_sources"].astype(str) + spread + ")"),
        "collection": collection,
        "caution": caution.where(caution.notna(), None),
        "GE_J": raw["GE_J"].astype(float),
        "SE_J": raw["SE_J"].astype(float),
    }, columns=[*OBSERVATION_COLUMNS, "caution", *EXCESS_COLUMNS])


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
    "assessed-extra2": f"the packaged table {EXTRA_TABLE_2} (with cautions)",
    "assessed-extra3": f"the packaged table {EXTRA_TABLE_3} (with cautions)",
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
        Liquids or binaries inside readable files that were skipped, with the reason; also the
        binaries of a packaged table with an element the element table does not know (the store
        refuses them): ``("assessed_hmix_extra3.csv: H-LA", reason)``.
    duplicates : list
        Assessments present in several files, counted once (as reported by the harvest).
    extra_skipped : list of str
        Systems of the extra tables left out because a harvested TDB (or an earlier table) already
        describes them.
    assessed_liquids : list of AssessedLiquid
        The full interaction parameters of the harvested TDB binaries (for :meth:`Store.add_assessed_liquids`).
    """

    observations: pd.DataFrame
    flags: pd.DataFrame
    files_read: list = field(default_factory=list)
    files_failed: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    duplicates: list = field(default_factory=list)
    extra_skipped: list = field(default_factory=list)
    assessed_liquids: list = field(default_factory=list)

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
        The user's own TDB files or folders (read recursively), harvested together with the default
        corpus (an assessment present in both counts once).
    default_corpus : bool
        Include the TDB files installed with pycalphad.
    extra_table, aimd : bool
        Include the packaged extra assessed tables (:data:`EXTRA_TABLES`) / the paper's AIMD table.
    T : float
        Harvest temperature in K (default 1873 K, the extra table's temperature).
    progress : bool or None
        Progress bar over TDB files; None shows it only on a terminal.

    Raises
    ------
    TDBError
        A TDB file named explicitly in ``tdb_paths`` (not found in a folder) cannot be read or
        parsed: the message names each such file and why. Files found in folders that fail are
        listed in ``files_failed`` instead.

    Examples
    --------
    >>> build = build_dataset()                    # doctest: +SKIP
    >>> build.counts()["systems_total"]            # doctest: +SKIP
    """
    from mixcalphad.data.harvest import default_corpus_paths, harvest_corpus

    defaults = default_corpus_paths() if default_corpus else []
    paths = [*defaults, *map(Path, tdb_paths)]
    parts, flags = [], pd.DataFrame(columns=list(FLAG_COLUMNS))
    files_read, failed, skipped, duplicates, liquids = [], [], [], [], []
    if paths:
        harvest = harvest_corpus(paths, T=T, progress=progress)
        named = {Path(p).resolve() for p in tdb_paths if Path(p).is_file()}
        bad = [f"{path}: {why}" for path, why in harvest.failed if Path(path).resolve() in named]
        if bad:
            raise TDBError(f"{len(bad)} TDB file(s) you named cannot be used; nothing was built: " + "; ".join(bad))
        tdb_obs = harvest.observations.assign(  # the reference of a file installed with pycalphad says so
            collection=["pycalphad-tdbs" if r.startswith("pycalphad ") else "user-tdbs"
                        for r in harvest.observations["reference"]])
        parts.append(tdb_obs)
        files_read, failed = list(map(str, harvest.files_read)), list(harvest.failed)
        skipped, duplicates = list(harvest.skipped), list(harvest.duplicates)
        liquids = list(harvest.liquids)
    known_systems = set(parts[0]["system"]) if parts else set()
    extra_skipped: list[str] = []
    for collection in (EXTRA_TABLES if extra_table else ()):
        extra = extra_assessed_observations(collection)
        overlap = extra["system"].isin(known_systems)
        skipped_here = sorted(set(extra.loc[overlap, "system"]))
        if skipped_here:
            log.info("%s: %d systems already described, not counted twice: %s",
                     EXTRA_TABLES[collection], len(skipped_here), ", ".join(skipped_here))
        extra_skipped += skipped_here
        unknown = _unknown_elements(extra["system"])
        for system, elements in sorted(unknown.items()):
            skipped.append((f"{EXTRA_TABLES[collection]}: {system}",
                            f"element(s) {', '.join(elements)} not in the element table (no SGTE unary data): "
                            "the curve cannot be stored"))
            log.info("%s: %s left out: element(s) %s not in the element table", EXTRA_TABLES[collection], system,
                     ", ".join(elements))
        parts.append(extra[~overlap & ~extra["system"].isin(unknown)])
        known_systems |= set(extra["system"])
    if aimd:
        aimd_obs, flags = aimd_observations()
        parts.append(aimd_obs)
    observations = (pd.concat(parts, ignore_index=True) if parts
                    else pd.DataFrame(columns=list(OBSERVATION_COLUMNS)))
    return DatasetBuild(observations=observations, flags=flags, files_read=files_read,
                        files_failed=failed, skipped=skipped, duplicates=duplicates,
                        extra_skipped=sorted(set(extra_skipped)), assessed_liquids=liquids)


def _unknown_elements(systems: pd.Series) -> dict[str, list[str]]:
    """``{system: [elements the element table does not know]}`` for the systems that have any."""
    known = set(element_table().index)
    out = {}
    for system in sorted(set(systems)):
        missing = [el for el in parse_system(system) if el not in known]
        if missing:
            out[system] = missing
    return out


def build_store(store: Store, build: DatasetBuild, *, replace: bool = False) -> dict[str, AddReport]:
    """Write a :class:`DatasetBuild` into ``store`` idempotently; returns the insert reports.

    Rows already stored without ``GE_J``/``SE_J`` (a store built before they were kept) are
    completed from the build's identical rows — same key (kind, file checksum or source, system,
    T_K, x_B) and same ΔH_mix, σ, reference, collection and caution — and nothing else of them
    changes (``observations`` report: ``completed``). A stored non-empty ``GE_J``/``SE_J`` that the
    build contradicts raises :class:`~mixcalphad.errors.StoreConflictError` and writes nothing,
    unless ``replace``.
    """
    return {"observations": store.add_observations(build.observations, replace=replace),
            "flags": store.add_flags(build.flags, replace=replace),
            "assessed_liquids": store.add_assessed_liquids(build.assessed_liquids, replace=replace)}
