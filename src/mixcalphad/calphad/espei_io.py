"""ESPEI input from mixcalphad fits: HM_MIX datasets, phase models, input YAML files, and running ESPEI.

:func:`export_espei` writes a folder ESPEI can run from::

    DIR/datasets/<A-B>-<kind>-<source>-<T>K.json   HM_MIX of LIQUID, one file per source, T and σ bin
    DIR/phases.json                               the LIQUID phase model (one sublattice)
    DIR/mixcalphad-liquid.tdb                     our TDB (VV#### coefficients), the MCMC start
    DIR/espei-generate.yaml                       generate_parameters from the datasets (SGTE91 unaries)
    DIR/espei-mcmc.yaml                           MCMC seeded with our TDB (mcmc.input_db)

and ``cd DIR && espei --input espei-mcmc.yaml`` runs it (paths in the YAML files are relative to
``DIR``). :func:`run_espei_input` runs one of them from Python with the paths made absolute.

Weights
-------
ESPEI's likelihood σ of enthalpy data is 500 J/mol divided by the dataset ``weight``, so a dataset
with uncertainty σ gets ``weight = 500/σ`` (:data:`ESPEI_ENTHALPY_SCALE_J`). σ is the evidence
rule's (:mod:`mixcalphad.data.evidence`, :attr:`BinaryFit.points` ``fit_sigma_J``): an
observation's own σ or its kind's default, times √m for a curve of m compositions, so that every
curve — an assessment, an AIMD value, the model's predicted curve — weighs as one measurement, and
repeated rows (merged into one point) change neither the datasets nor their weights. A weight is per
dataset, so the points of one source and temperature are split into bins within which σ varies by
less than 25 % (:data:`SIGMA_BIN_RATIO`); the bin's weight uses the geometric mean of its σ, so no
point's weight is off by more than about 12 % (a model σ varying fivefold over x gives about eight
datasets per binary instead of nineteen).

Predicted points have no temperature; they are written at :data:`PREDICTION_T_K` (1873 K).
Points at x_B = 0 or 1 carry no information on mixing and are left out.
"""
from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np

from mixcalphad.chem.binaries import normalize_symbol
from mixcalphad.errors import DatasetError, MixcalphadError, OutputExistsError
from mixcalphad._io import write_text
from mixcalphad.calphad.binary_fit import PREDICTED, as_fits
from mixcalphad.calphad.espei_check import input_yaml, phase_models_json

logger = logging.getLogger(__name__)

#: ESPEI's likelihood σ of enthalpy data at weight 1, J/mol (weight = this / σ).
ESPEI_ENTHALPY_SCALE_J = 500.0
#: Temperature written for predicted points, K.
PREDICTION_T_K = 1873.0
#: Largest ratio of σ within one dataset.
SIGMA_BIN_RATIO = 1.25
#: Marker in the ``comment`` of every dataset mixcalphad writes (used by ``force`` to clean up).
MARKER = "written by mixcalphad"
#: File names inside an export folder.
DATASETS_DIR, PHASES_JSON, TDB_NAME = "datasets", "phases.json", "mixcalphad-liquid.tdb"
GENERATE_YAML, MCMC_YAML = "espei-generate.yaml", "espei-mcmc.yaml"


def espei_weight(sigma_J: float) -> float:
    """ESPEI dataset weight for 1σ uncertainty ``sigma_J`` (J/mol): ``500/σ``.

    >>> espei_weight(2000.0)
    0.25
    """
    sigma_J = float(sigma_J)
    if not (math.isfinite(sigma_J) and sigma_J > 0):
        raise DatasetError(f"sigma must be finite and > 0 J/mol, got {sigma_J}")
    return ESPEI_ENTHALPY_SCALE_J / sigma_J


def hm_mix_dataset(a: str, b: str, x_B, values_J, *, T_K: float, sigma_J: float, reference: str,
                   comment: str = "", P_Pa: float = 101325.0) -> dict:
    """One ESPEI dataset of ΔH_mix of the binary LIQUID at one temperature.

    Parameters
    ----------
    a, b : str
        The elements; ``x_B`` is the mole fraction of ``b``. Written for the sorted pair.
    x_B : array_like
        Mole fractions of ``b``, strictly inside (0, 1).
    values_J : array_like
        ΔH_mix, J/mol of atoms.
    T_K : float
        Temperature, K.
    sigma_J : float
        1σ of the values, J/mol (weight = 500/σ).
    reference, comment : str
        Where the data come from; free text.

    Returns
    -------
    dict
        ESPEI's dataset layout (``values`` shaped (P, T, configurations) = (1, 1, n)).

    Raises
    ------
    DatasetError
        Empty input, mismatched lengths, x outside (0, 1), non-finite values, σ ≤ 0.
    """
    from mixcalphad.chem.binaries import sorted_pair

    a, b = normalize_symbol(a), normalize_symbol(b)
    A, B = sorted_pair(a, b)
    x = np.atleast_1d(np.asarray(x_B, dtype=float))
    h = np.atleast_1d(np.asarray(values_J, dtype=float))
    if x.size == 0 or x.size != h.size:
        raise DatasetError(f"{A}-{B}: x_B and values must be non-empty and of equal length")
    if np.any((x <= 0) | (x >= 1)) or not np.all(np.isfinite(h)):
        raise DatasetError(f"{A}-{B}: need 0 < x_B < 1 and finite values for an ESPEI HM_MIX dataset")
    if not (math.isfinite(T_K) and T_K > 0):
        raise DatasetError(f"{A}-{B}: T must be a positive temperature in K, got {T_K}")
    xb = x if (a, b) == (A, B) else 1.0 - x   # fraction of the second element of the sorted pair
    return {
        "components": [A, B],
        "phases": ["LIQUID"],
        "output": "HM_MIX",
        "solver": {
            "mode": "manual",
            "sublattice_site_ratios": [1],
            "sublattice_configurations": [[[A, B]] for _ in xb],
            "sublattice_occupancies": [[[round(1.0 - float(v), 12), round(float(v), 12)]] for v in xb],
        },
        "conditions": {"P": float(P_Pa), "T": float(T_K)},
        "values": [[[float(v) for v in h]]],
        "excluded_model_contributions": ["idmix"],
        "reference": str(reference),
        "comment": (f"{MARKER}; sigma = {float(sigma_J):.1f} J/mol, weight = 500/sigma"
                    + (f"; {comment}" if comment else "")),
        "weight": espei_weight(sigma_J),
    }


def _slug(text: str, limit: int = 40) -> str:
    slug = re.sub(r"[^A-Za-z0-9._]+", "_", str(text)).strip("_.")
    return (slug[:limit].rstrip("_.") or "source")


def _sigma_bins(sigma: np.ndarray) -> np.ndarray:
    return np.floor(np.log(sigma) / math.log(SIGMA_BIN_RATIO)).astype(int)


def binary_datasets(fit, *, prediction_T_K: float = PREDICTION_T_K) -> list[tuple[str, dict]]:
    """``[(file stem, dataset)]`` for the points of one :class:`~mixcalphad.calphad.binary_fit.BinaryFit`.

    Raises
    ------
    DatasetError
        The fit carries no points (e.g. read back with ``from_dict``).
    """
    points = fit.points
    if points is None or not len(points):
        raise DatasetError(f"{fit.system}: the fit carries no points to export (fit it with fit_binary)")
    a, b = fit.system.split("-")
    points = points[(points["x_B"] > 0) & (points["x_B"] < 1)].copy()
    points["T_K"] = points["T_K"].astype(float).fillna(prediction_T_K)
    points["bin"] = _sigma_bins(points["fit_sigma_J"].to_numpy(dtype=float))
    out = []
    for (kind, source, T, _), rows in points.groupby(["kind", "source", "T_K", "bin"], sort=True):
        sigma = float(np.exp(np.mean(np.log(rows["fit_sigma_J"].to_numpy(dtype=float)))))
        note = f"kind {kind}"
        if kind == PREDICTED:
            note += (f"; model sigma {float(rows['sigma_J'].mean()):.0f} J/mol, the curve weighing as one "
                     "measurement (mixcalphad.data.evidence); T is nominal (the model has none)")
        data = hm_mix_dataset(a, b, rows["x_B"].to_numpy(), rows["HM_MIX_J"].to_numpy(), T_K=float(T),
                              sigma_J=sigma, reference=str(source), comment=note)
        out.append((f"{fit.system}-{kind}-{_slug(source)}-{T:.0f}K", data))
    stems = [s for s, _ in out]
    counts: dict[str, int] = {}
    result = []
    for stem, data in out:
        if stems.count(stem) > 1:
            counts[stem] = counts.get(stem, 0) + 1
            stem = f"{stem}-{counts[stem]}"
        result.append((stem, data))
    return result


def write_espei_datasets(fits, out_dir, *, force: bool = False,
                         prediction_T_K: float = PREDICTION_T_K) -> list[Path]:
    """Write ESPEI HM_MIX datasets (one JSON per source, T and σ bin) for every fit.

    Parameters
    ----------
    fits : mapping or iterable of BinaryFit
        Fits made by :func:`~mixcalphad.calphad.binary_fit.fit_binary` (they carry their points).
    out_dir : str or os.PathLike
        Folder for the JSON files (created).
    force : bool
        Replace existing files; JSON files in ``out_dir`` that mixcalphad wrote before (marked in
        their ``comment``) are removed first so that no stale dataset stays behind. Without it, a
        folder that already holds JSON files is refused.

    Returns
    -------
    list of Path

    Raises
    ------
    OutputExistsError
        ``out_dir`` holds JSON files and ``force`` is False.
    DatasetError
        A fit has no points.
    """
    out_dir = Path(out_dir)
    fits = as_fits(fits)
    planned = [(stem, data) for fit in fits.values() for stem, data in binary_datasets(fit, prediction_T_K=prediction_T_K)]
    existing = sorted(out_dir.glob("*.json")) if out_dir.is_dir() else []
    if existing and not force:
        raise OutputExistsError(f"{out_dir} already holds {len(existing)} JSON file(s); pass --force "
                                "(force=True) to replace mixcalphad's datasets there")
    for path in existing:
        if _is_ours(path):
            path.unlink()
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for stem, data in planned:
        path = out_dir / f"{stem}.json"
        write_text(path, dataset_json(data), overwrite=force)
        paths.append(path)
    logger.info("wrote %d ESPEI datasets to %s", len(paths), out_dir)
    return paths


def dataset_json(data: Mapping) -> str:
    """A dataset as JSON text: one top-level key per line, values compact."""
    body = ",\n".join(f" {json.dumps(key)}: {json.dumps(value)}" for key, value in data.items())
    return "{\n" + body + "\n}\n"


def _is_ours(path: Path) -> bool:
    try:
        return MARKER in str(json.loads(path.read_text(encoding="utf-8")).get("comment", ""))
    except (OSError, ValueError, AttributeError):
        return False


def check_espei_datasets(folder) -> list[str]:
    """Validate every ``*.json`` under ``folder`` with ESPEI's own checker; returns the error messages.

    An empty list means ``espei --check-datasets folder`` would pass.
    """
    from espei.datasets import DatasetError as EspeiDatasetError
    from espei.datasets import load_datasets, recursive_glob

    files = sorted(recursive_glob(str(folder), "*.json"))
    if not files:
        return [f"no .json datasets in {folder}"]
    errors = []
    for name in files:
        try:
            load_datasets([name])
        except (ValueError, EspeiDatasetError) as exc:
            errors.append(str(exc))
    return errors


def phase_models(elements: Iterable[str]) -> dict:
    """ESPEI phase-models dict for a one-sublattice LIQUID of ``elements`` (sorted)."""
    els = sorted({normalize_symbol(e) for e in elements})
    if len(els) < 2:
        raise MixcalphadError(f"a phase model needs at least two elements, got {els}")
    return {"components": els,
            "phases": {"LIQUID": {"sublattice_model": [els], "sublattice_site_ratios": [1]}}}


def generate_input(*, phase_models_path: str = PHASES_JSON, datasets: str = DATASETS_DIR,
                   output_db: str = "espei-generated.tdb", ref_state: str = "SGTE91") -> dict:
    """ESPEI input for ``generate_parameters`` (linear excess model, SGTE91 unaries)."""
    return {"system": {"phase_models": phase_models_path, "datasets": datasets},
            "generate_parameters": {"excess_model": "linear", "ref_state": ref_state},
            "output": {"output_db": output_db, "verbosity": 1}}


def check_mcmc_iterations(iterations) -> None:
    """Refuse fewer than 2 MCMC iterations: after one, ESPEI 0.9 writes zeros as the optimal parameters
    into the output database (``espei.utils.optimal_parameters`` scans ``range(last iteration index)``).

    Raises
    ------
    MixcalphadError
        ``iterations`` < 2.
    """
    if int(iterations) < 2:
        raise MixcalphadError(f"MCMC iterations = {iterations}: use at least 2 (after a single iteration ESPEI "
                              "0.9 writes all refined parameters as 0 into the output database)")


def mcmc_input(*, input_db: str = TDB_NAME, symbols: Iterable[str] | None = None, iterations: int = 1000,
               chains_per_parameter: int = 2, chain_std_deviation: float = 0.1,
               phase_models_path: str = PHASES_JSON, datasets: str = DATASETS_DIR,
               output_db: str = "espei-mcmc.tdb", scheduler: str | None = None) -> dict:
    """ESPEI input for MCMC seeded with our TDB (``mcmc.input_db``).

    ``symbols`` lists the VV#### FUNCTIONs to refine (default: all that ESPEI finds);
    ``chain_std_deviation`` is a fraction of each start value; ``scheduler`` None runs on one
    core (``"dask"`` for all cores); ``iterations`` ≥ 2 (see :func:`check_mcmc_iterations`).
    """
    check_mcmc_iterations(iterations)
    mcmc = {"iterations": int(iterations), "input_db": input_db, "save_interval": 1,
            "chains_per_parameter": int(chains_per_parameter), "chain_std_deviation": float(chain_std_deviation),
            "scheduler": scheduler}
    if symbols is not None:
        mcmc["symbols"] = list(symbols)
    return {"system": {"phase_models": phase_models_path, "datasets": datasets}, "mcmc": mcmc,
            "output": {"output_db": output_db, "verbosity": 1, "tracefile": "trace.npy", "probfile": "lnprob.npy"}}


@dataclass(frozen=True)
class EspeiExport:
    """Paths written by :func:`export_espei` (all inside :attr:`folder`)."""

    folder: Path
    datasets: tuple[Path, ...]
    phase_models: Path
    generate_yaml: Path
    mcmc_yaml: Path | None = None
    tdb: Path | None = None
    symbols: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict:
        return {"folder": str(self.folder), "datasets": [str(p) for p in self.datasets],
                "phase_models": str(self.phase_models), "generate_yaml": str(self.generate_yaml),
                "mcmc_yaml": None if self.mcmc_yaml is None else str(self.mcmc_yaml),
                "tdb": None if self.tdb is None else str(self.tdb), "symbols": list(self.symbols)}


def export_espei(fits, out_dir, *, force: bool = False, tdb: bool = True,
                 temperature_model=None, iterations: int = 1000,
                 chains_per_parameter: int = 2, chain_std_deviation: float = 0.1,
                 prediction_T_K: float = PREDICTION_T_K, notes: Iterable[str] = (),
                 binaries: Iterable | None = None, seed_tdb=None) -> EspeiExport:
    """Write datasets, phase models, our TDB and the two ESPEI input files into ``out_dir``.

    Parameters
    ----------
    fits : mapping or iterable of BinaryFit
        Fits with their points (:func:`~mixcalphad.calphad.binary_fit.fit_binaries`).
    out_dir : str or os.PathLike
        Folder to write (created).
    force : bool
        Replace files written before (see :func:`write_espei_datasets`).
    tdb : bool
        Also write :data:`TDB_NAME` and the MCMC input seeded with it (default True).
    temperature_model : TemperatureModel or rule, optional
        For the TDB: None (default): each fit's own :attr:`BinaryFit.temperature_model`
        (enthalpy-only where it has none); a TemperatureModel or rule overrides every fit.
    iterations, chains_per_parameter, chain_std_deviation
        MCMC settings written into :data:`MCMC_YAML`.
    prediction_T_K : float
        Temperature written for predicted points, K.
    notes : iterable of str
        Extra provenance notes for the TDB.
    binaries : iterable, optional
        The binaries to refine (``"AL-CU"`` or pairs): the datasets, the phase model and the MCMC
        ``symbols:`` cover only these (the seed TDB keeps every fit). Default: all fits. An MCMC
        over thousands of symbols sets up two chains per symbol and never finishes an iteration.
    seed_tdb : str or os.PathLike, optional
        An existing mixcalphad TDB (e.g. the shipped ``tdb/mixcalphad-liquid.tdb``) to start the
        MCMC from instead of writing one from ``fits``; copied into the folder, its symbols read
        from its provenance (:meth:`~mixcalphad.calphad.provenance.Provenance.symbols_of`).

    Returns
    -------
    EspeiExport

    Raises
    ------
    TDBError
        ``seed_tdb`` has no mixcalphad provenance, or lacks one of ``binaries``.
    MixcalphadError
        No fits, a binary without a fit, or fewer than 2 ``iterations`` with ``tdb``.
    """
    from mixcalphad.calphad.database import interaction_symbols
    from mixcalphad.calphad.tdb_write import write_tdb

    from mixcalphad.calphad.provenance import read_provenance
    from mixcalphad.chem.binaries import parse_system, system_name
    from mixcalphad.errors import TDBError

    out = Path(out_dir)
    fits = as_fits(fits)
    if not fits:
        raise MixcalphadError("nothing to export: no fits")
    chosen = sorted(fits) if binaries is None else sorted(
        {system_name(*(parse_system(b) if isinstance(b, str) else b)) for b in binaries})
    unknown = [b for b in chosen if b not in fits]
    if unknown:
        raise MixcalphadError(f"no fit for {', '.join(unknown)}: fit the binaries you want to refine")
    if tdb:
        check_mcmc_iterations(iterations)
    targets = [out / PHASES_JSON, out / GENERATE_YAML] + ([out / MCMC_YAML, out / TDB_NAME] if tdb else [])
    taken = [p for p in targets if p.exists()]
    if taken and not force:
        raise OutputExistsError(f"{taken[0]} exists; pass --force (force=True) to replace it")
    seed_provenance = None
    if seed_tdb is not None:
        seed_provenance = read_provenance(seed_tdb)
        if seed_provenance is None:
            raise TDBError(f"{seed_tdb}: no mixcalphad provenance block: cannot tell its symbols")
        seed_provenance.symbols_of(chosen)  # raises when the seed lacks a binary
    elements = sorted({e for name in chosen for e in name.split("-")})
    phases_text = phase_models_json(phase_models(elements))  # ESPEI validates what we write, before writing
    generate_text = input_yaml(generate_input(), _yaml_header("generate_parameters"))
    symbols: tuple[str, ...] = ()
    if tdb:
        if seed_provenance is not None:
            symbols = seed_provenance.symbols_of(chosen)
        else:
            by_binary = interaction_symbols(fits, temperature_model=temperature_model)
            symbols = tuple(s for name in chosen for s in by_binary.get(name, ()))
        settings = mcmc_input(symbols=symbols, iterations=iterations, chains_per_parameter=chains_per_parameter,
                              chain_std_deviation=chain_std_deviation)
        mcmc_text = input_yaml(settings, _yaml_header("MCMC seeded with our TDB"))
    datasets = write_espei_datasets({b: fits[b] for b in chosen}, out / DATASETS_DIR, force=force,
                                    prediction_T_K=prediction_T_K)
    phases = write_text(out / PHASES_JSON, phases_text, overwrite=force)
    gen = write_text(out / GENERATE_YAML, generate_text, overwrite=force)
    mcmc_path = tdb_path = None
    if tdb:
        if seed_provenance is not None:
            tdb_path = write_text(out / TDB_NAME, Path(seed_tdb).read_text(encoding="utf-8", errors="replace"),
                                  overwrite=force)
        else:
            tdb_path = write_tdb(fits, out / TDB_NAME, force=force, temperature_model=temperature_model,
                                 notes=tuple(notes))
        mcmc_path = write_text(out / MCMC_YAML, mcmc_text, overwrite=force)
    return EspeiExport(folder=out, datasets=tuple(datasets), phase_models=phases, generate_yaml=gen,
                       mcmc_yaml=mcmc_path, tdb=tdb_path, symbols=symbols)


def _yaml_header(what: str) -> str:
    from mixcalphad import __version__

    return (f"# ESPEI input ({what}) written by mixcalphad {__version__}.\n"
            "# Paths are relative to this folder: run `espei --input <this file>` from here.\n")


def _absolute(settings: dict, base: Path) -> dict:
    """A copy of ESPEI settings with every file path made absolute against ``base``."""
    out = json.loads(json.dumps(settings))
    for section, keys in (("system", ("phase_models", "datasets")), ("generate_parameters", ("input_db",)),
                          ("mcmc", ("input_db", "restart_trace")),
                          ("output", ("output_db", "logfile", "tracefile", "probfile"))):
        block = out.get(section) or {}
        for key in keys:
            value = block.get(key)
            if isinstance(value, str) and value != "None" and not Path(value).is_absolute():
                block[key] = str(base / value)
    return out


def run_espei_input(yaml_path, *, overrides: Mapping | None = None):
    """Run ESPEI on an input file written here, with its relative paths resolved against its folder.

    Parameters
    ----------
    yaml_path : str or os.PathLike
        :data:`GENERATE_YAML` or :data:`MCMC_YAML` of an export folder.
    overrides : mapping, optional
        Settings merged into the file's sections, e.g. ``{"mcmc": {"iterations": 5}}``.

    Returns
    -------
    What ``espei.espei_script.run_espei`` returns: the generated Database, or
    ``(Database, sampler)`` after MCMC.

    Raises
    ------
    MixcalphadError
        Fewer than 2 MCMC iterations (:func:`check_mcmc_iterations`).
    """
    import yaml
    from espei.espei_script import run_espei

    path = Path(yaml_path)
    settings = yaml.safe_load(path.read_text(encoding="utf-8"))
    for section, values in (overrides or {}).items():
        settings.setdefault(section, {}).update(values)
    if "iterations" in settings.get("mcmc", {}):
        check_mcmc_iterations(settings["mcmc"]["iterations"])
    return run_espei(_absolute(settings, path.parent.resolve()))
