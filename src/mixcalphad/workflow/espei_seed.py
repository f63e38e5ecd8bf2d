"""Seed an ESPEI assessment of one binary with mixcalphad's liquid: from a datasets folder to a runnable folder.

:func:`seed_espei` reads the user's ESPEI datasets folder and writes, for one binary::

    OUT/datasets/liquid/...        the user's datasets that involve LIQUID (copied, relative paths kept)
    OUT/datasets/liquid/mixcalphad/  predicted HM_MIX of the LIQUID, one dataset per x_B, weight W·500/σ
    OUT/datasets/other/...         every other dataset of the binary (solids, ZPF without LIQUID)
    OUT/phases.json                phase models: read from the datasets' sublattice models, or the user's
    OUT/mixcalphad-start.tdb       LIQUID only (SGTE91 unaries) with L0 = VV_a0 + VV_b0·T, L1 = VV_a1 …
    OUT/espei-generate.yaml        generate_parameters on all datasets, ``input_db`` = the start TDB
    OUT/espei-mcmc.yaml            MCMC on ``espei-generated.tdb``, ``symbols`` = the liquid's VV symbols,
                                   datasets = ``datasets/liquid`` only
    OUT/initial-chains.npy         (``start="none"`` only) a broad initial walker cloud (restart_trace)

Run ``espei --input espei-generate.yaml`` then ``espei --input espei-mcmc.yaml`` inside ``OUT``, or
:func:`run_seeded`. ESPEI's ``generate_parameters`` skips every parameter already in its ``input_db``,
so the solids are fitted to the solid data while the liquid keeps mixcalphad's start; the MCMC then
refines only the liquid. Datasets that cannot depend on the liquid (solid thermochemistry, phase
boundaries without LIQUID) add a constant to the log-probability of those symbols, so the MCMC reads
``datasets/liquid`` only.

The liquid's start (``start``):

- ``"prediction"``: an RK fit of the predicted ΔH_mix gives the enthalpy terms ``a_n``; the entropy
  term of L0 starts from Kaptay's relation ``b_0 = −a_0/τ`` (τ = 3000 K), since the prediction says
  nothing on it.
- ``"datasets"``: the same, from the HM_MIX datasets of the LIQUID in the folder (the measured case).
- ``"none"``: no information: placeholders in the TDB and a broad walker cloud (σ 20 kJ/mol on
  ``a_n``, 5 J/mol/K on ``b_0``, centred on 0) written as ``initial-chains.npy`` for the MCMC.

Weights: ESPEI's likelihood σ for enthalpy data is 500 J/mol divided by the dataset weight; each
predicted point gets ``weight·500/σ`` (ESPEI σ = σ_model/weight) with σ the model's 1σ at that x.
:data:`DEFAULT_WEIGHT` was chosen in ``benchmarks/espei_seeding.py``: where the phase boundaries pull
the liquid away from a good prediction (solids not yet refined), a weaker weight let them.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np

from mixcalphad._io import atomic_path, write_text
from mixcalphad.calphad.espei_check import input_yaml, phase_models_json
from mixcalphad.calphad.espei_io import (check_mcmc_iterations, generate_input, hm_mix_dataset, mcmc_input,
                                        run_espei_input)
from mixcalphad.calphad.excess_entropy import DEFAULT_RULE, pair_temperature_model, temperature_rule
from mixcalphad.calphad.redlich_kister import KAPTAY_DEFAULT_TAU_K, rk_basis
from mixcalphad.chem.binaries import check_elements
from mixcalphad.errors import DatasetError, MixcalphadError, OutputExistsError

logger = logging.getLogger(__name__)

LIQUID = "LIQUID"
#: Multiplier of 500/σ for each predicted point: of 1/3, 1 and 3, 3 kept the seeded liquid closest to
#: the held-back calorimetry (benchmarks/espei_seeding.py; weak evidence, see benchmarks/README.md).
DEFAULT_WEIGHT = 3.0
#: Compositions of the predicted points, x_B.
X_GRID = tuple(round(0.1 * i, 1) for i in range(1, 10))
#: Nominal temperature of predicted points, K (the model has none; HM_MIX of a + b·T terms ignores b).
PREDICTION_T_K = 1873.0
#: Widths of the uninformed initial walker cloud: a_n in J/mol, b_0 in J/mol/K.
NONE_SPREAD = (20000.0, 5.0)
STARTS = ("prediction", "datasets", "none")
#: Smallest magnitude of a start value, J/mol (ESPEI cannot move a symbol that starts at 0).
MIN_START_J = 100.0
#: Smallest |b0| a start takes, J/(mol K).
MIN_START_B_J_K = 0.01
PHASES_JSON, START_TDB, GENERATED_TDB, MCMC_TDB = ("phases.json", "mixcalphad-start.tdb",
                                                   "espei-generated.tdb", "espei-mcmc.tdb")
GENERATE_YAML, MCMC_YAML, INITIAL_CHAINS = "espei-generate.yaml", "espei-mcmc.yaml", "initial-chains.npy"
#: Sublattice models for phases that appear only in phase-boundary data.
DEFAULT_MODELS = {LIQUID: ([1], False), "FCC_A1": ([1, 1], True), "BCC_A2": ([1, 3], True),
                  "HCP_A3": ([1, 0.5], True)}


@dataclass(frozen=True)
class SeedResult:
    """What :func:`seed_espei` wrote (paths inside :attr:`folder`)."""

    folder: Path
    binary: str
    datasets: tuple[Path, ...]
    predicted: tuple[Path, ...]
    left_out: tuple[tuple[str, str], ...]
    phase_models: Path
    generate_yaml: Path
    mcmc_yaml: Path
    start_tdb: Path | None
    symbols: tuple[str, ...] = ()
    start_values: Mapping[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"folder": str(self.folder), "binary": self.binary, "datasets": [str(p) for p in self.datasets],
                "predicted": [str(p) for p in self.predicted], "left_out": [list(x) for x in self.left_out],
                "phase_models": str(self.phase_models), "generate_yaml": str(self.generate_yaml),
                "mcmc_yaml": str(self.mcmc_yaml), "start_tdb": None if self.start_tdb is None else str(self.start_tdb),
                "symbols": list(self.symbols), "start_values": dict(self.start_values)}


def _species(entry) -> list[str]:
    return [entry] if isinstance(entry, str) else list(entry)


def read_binary_datasets(datasets_dir, a: str, b: str) -> list[tuple[Path, dict]]:
    """The ESPEI datasets of the binary a–b (and of its pure elements) under ``datasets_dir``.

    Raises
    ------
    DatasetError
        The folder does not exist, a JSON file cannot be read, or no dataset describes the binary.
    UnknownElementError
        ``a`` or ``b`` is not an element.
    """
    A, B = check_elements([a, b], minimum=2, needed_by="espei-seed")
    root = Path(datasets_dir)
    if not root.is_dir():
        raise DatasetError(f"ESPEI datasets folder {root} does not exist")
    kept, pairs = [], set()
    for path in sorted(root.rglob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            comps = {str(c).upper() for c in data["components"]} - {"VA"}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DatasetError(f"{path}: not an ESPEI dataset ({exc})") from None
        if len(comps) == 2:
            pairs.add("-".join(sorted(comps)))
        if comps and comps <= {A, B}:
            kept.append((path, data))
    if not any({str(c).upper() for c in d["components"]} - {"VA"} == {A, B} for _, d in kept):
        found = ", ".join(sorted(pairs)) or "none"
        raise DatasetError(f"{root} holds no dataset of the binary {A}-{B} (binaries found: {found})")
    return kept


def is_liquid_calorimetry(data: Mapping) -> bool:
    """True for a thermochemical enthalpy dataset of the LIQUID alone (HM, HM_MIX, HM_FORM…)."""
    return list(data.get("phases", [])) == [LIQUID] and str(data.get("output", "")).startswith("HM")


def infer_phase_models(datasets: Iterable[Mapping], a: str, b: str) -> dict:
    """ESPEI phase models of the binary from the sublattice models its datasets use.

    Per phase, the site ratios used by most thermochemical datasets win and each sublattice holds
    every species those datasets put there. Phases seen only in phase-boundary data get the models of
    :data:`DEFAULT_MODELS` (LIQUID, FCC_A1, BCC_A2, HCP_A3).

    Raises
    ------
    DatasetError
        A phase has no thermochemical dataset and no default model (give a phase-models JSON).
    """
    A, B = sorted((a.upper(), b.upper()))
    allowed = {A, B, "VA"}
    phases: dict[str, dict] = {}
    for data in datasets:
        for phase in data.get("phases", []):
            groups = phases.setdefault(phase, {})
            solver = data.get("solver") or {}
            if len(data["phases"]) != 1 or "sublattice_site_ratios" not in solver:
                continue
            ratios = tuple(float(r) for r in solver["sublattice_site_ratios"])
            count, subl = groups.get(ratios, (0, [set() for _ in ratios]))
            for config in solver.get("sublattice_configurations", []):
                for i, entry in enumerate(config[:len(ratios)]):
                    subl[i].update(s for s in _species(entry) if s in allowed)
            groups[ratios] = (count + 1, subl)
    models = {}
    for phase, groups in sorted(phases.items()):
        if groups:
            ratios, (_, subl) = max(groups.items(), key=lambda kv: (kv[1][0], -len(kv[0])))
            models[phase] = {"sublattice_model": [sorted(s) for s in subl],
                             "sublattice_site_ratios": [int(r) if r == int(r) else r for r in ratios]}
        elif phase in DEFAULT_MODELS:
            ratios, vacancies = DEFAULT_MODELS[phase]
            models[phase] = {"sublattice_model": [[A, B]] + ([["VA"]] if vacancies else []),
                             "sublattice_site_ratios": ratios}
        else:
            raise DatasetError(f"phase {phase} of {A}-{B} has no thermochemical dataset to read its sublattice "
                               "model from; give a phase-models JSON (--phase-models)")
    models.setdefault(LIQUID, {"sublattice_model": [[A, B]], "sublattice_site_ratios": [1]})
    return {"components": [A, B, "VA"], "phases": models}


def _matches_model(data: Mapping, models: Mapping) -> bool:
    solver = data.get("solver") or {}
    if len(data.get("phases", [])) != 1 or "sublattice_site_ratios" not in solver:
        return True
    model = models["phases"].get(data["phases"][0])
    return model is None or [float(r) for r in solver["sublattice_site_ratios"]] == \
        [float(r) for r in model["sublattice_site_ratios"]]


def liquid_hmix_points(datasets: Iterable[Mapping], a: str, b: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(x_B, T_K, HM_MIX_J)`` of the HM_MIX datasets of the LIQUID (B the later element of the sorted pair)."""
    A, B = sorted((a.upper(), b.upper()))
    xs, ts, hs = [], [], []
    for data in datasets:
        if not (is_liquid_calorimetry(data) and data.get("output") == "HM_MIX"):
            continue
        solver, temps = data["solver"], np.atleast_1d(data["conditions"]["T"]).astype(float)
        values = np.asarray(data["values"], dtype=float)
        for k, (config, occ) in enumerate(zip(solver["sublattice_configurations"], solver["sublattice_occupancies"])):
            species, fractions = _species(config[0]), np.atleast_1d(occ[0]).astype(float)
            x_b = float(dict(zip(species, fractions)).get(B, 0.0))
            for j, T in enumerate(temps):
                xs.append(x_b), ts.append(T), hs.append(values[0, j, k])
    return np.array(xs), np.array(ts), np.array(hs)


def split_zpf_regions(data: Mapping) -> dict[str, dict | None]:
    """``{"liquid": …, "other": …}``: a dataset by whether it can depend on the LIQUID (``None`` = as is).

    A ZPF dataset is split by phase region: regions with a LIQUID vertex go to ``"liquid"``, the others
    (which add only a constant to the log-probability of the liquid's symbols) to ``"other"``. Other
    datasets go whole to ``"liquid"`` when they involve LIQUID, else to ``"other"``.
    """
    if LIQUID not in data.get("phases", []):
        return {"other": None}
    if data.get("output") != "ZPF":
        return {"liquid": None}
    values = list(data["values"])
    with_liquid = [any(vertex[0] == LIQUID for vertex in region) for region in values]
    if all(with_liquid):
        return {"liquid": None}
    out = {}
    for group, keep in (("liquid", True), ("other", False)):
        idx = [i for i, w in enumerate(with_liquid) if w == keep]
        if not idx:
            continue
        part = json.loads(json.dumps(data))
        part["values"] = [values[i] for i in idx]
        for key, cond in data["conditions"].items():
            if isinstance(cond, list) and len(cond) == len(values):
                part["conditions"][key] = [cond[i] for i in idx]
        phases = {vertex[0] for i in idx for vertex in values[i]}
        part["phases"] = [ph for ph in data["phases"] if ph in phases]
        part["comment"] = (str(data.get("comment", "")) + "; " if data.get("comment") else "") + \
            f"phase regions {'with' if keep else 'without'} LIQUID of the original file (mixcalphad espei-seed)"
        out[group] = part
    return out


def predicted_hmix_datasets(a: str, b: str, predictor, *, weight: float = DEFAULT_WEIGHT,
                            x_grid: Iterable[float] = X_GRID) -> list[tuple[str, dict]]:
    """``[(file stem, dataset)]``: one HM_MIX dataset of the LIQUID per x_B, weight ``weight·500/σ``."""
    from mixcalphad.model.predictor import predictor_label

    A, B = sorted((a.upper(), b.upper()))
    if not weight > 0:
        raise MixcalphadError(f"weight must be > 0, got {weight}")
    x = np.asarray(list(x_grid), dtype=float)
    mean, std = (np.asarray(v, dtype=float) for v in predictor.predict(A, B, x, return_std=True))
    label = predictor_label(predictor)
    out = []
    for xb, h, s in zip(x, mean, std):
        data = hm_mix_dataset(A, B, [xb], [h], T_K=PREDICTION_T_K, sigma_J=float(s), reference=f"mixcalphad {label}",
                              comment=f"predicted; weight = {weight:g} x 500/sigma; T nominal")
        data["weight"] = float(data["weight"]) * float(weight)
        out.append((f"{A}-{B}-HM_MIX-LIQUID-mixcalphad-x{xb:.2f}", data))
    return out


def start_values(x_B, H_J, *, order: int = 1, sigma_J=None,
                 kappa_per_K: float = 1.0 / KAPTAY_DEFAULT_TAU_K) -> dict[str, float]:
    """Start of the liquid's symbols: ``a0 … a_order`` from a weighted RK fit (J/mol), ``b0 = −κ a0``
    (J/mol/K; κ the pair's S_ex/H_ex, 1/K, from :mod:`mixcalphad.calphad.excess_entropy`; a start
    never closer to 0 than :data:`MIN_START_B_J_K`, ESPEI spreads its walkers by a fraction of it).

    Raises
    ------
    DatasetError
        Fewer distinct compositions than coefficients.
    """
    x, h = np.asarray(x_B, dtype=float), np.asarray(H_J, dtype=float)
    if np.unique(x).size < order + 1:
        raise DatasetError(f"too few HM_MIX points of the LIQUID ({np.unique(x).size} compositions) for "
                           f"L0…L{order}")
    w = 1.0 / np.broadcast_to(np.asarray(1.0 if sigma_J is None else sigma_J, dtype=float), x.shape)
    coefficients = np.linalg.lstsq(rk_basis(x, order) * w[:, None], h * w, rcond=None)[0]
    # ESPEI's MCMC spreads its walkers by a fraction of each start: a start must not be ~0
    values = {f"a{n}": float(np.copysign(max(abs(c), MIN_START_J), c)) for n, c in enumerate(coefficients)}
    b0 = -values["a0"] * float(kappa_per_K)
    values["b0"] = float(np.copysign(max(abs(b0), MIN_START_B_J_K), b0 if b0 != 0.0 else -values["a0"]))
    return values


def start_database(a: str, b: str, values: Mapping[str, float]):
    """pycalphad Database: the LIQUID of a–b (SGTE91 unaries) with ``L_n = VV(a_n) [+ VV(b_0)·T]``.

    Returns ``(db, {symbol name: role})`` with roles ``a0, b0, a1 …`` in symbol order.
    """
    import symengine
    from espei.database_utils import initialize_database
    from espei.refdata import SGTE91
    from pycalphad import variables as v

    A, B = sorted((a.upper(), b.upper()))
    models = {"components": [A, B], "phases": {LIQUID: {"sublattice_model": [[A, B]], "sublattice_site_ratios": [1]}}}
    espei_log = logging.getLogger("espei")
    level = espei_log.level
    espei_log.setLevel(logging.ERROR)  # "reference phase not in the phase models" is expected here
    try:
        db = initialize_database(models, "SGTE91")
    finally:
        espei_log.setLevel(level)
    for el in (A, B):
        db.add_parameter("G", LIQUID, [[el]], 0, SGTE91[(el, LIQUID)])
    roles = ["a0", "b0"] + sorted((k for k in values if k.startswith("a") and k != "a0"), key=lambda k: int(k[1:]))
    names = {f"VV{i:04d}": role for i, role in enumerate(roles)}
    sym = {role: symengine.Symbol(name) for name, role in names.items()}
    for name, role in names.items():
        db.symbols[name] = float(values[role])
    for role in roles:
        if role == "b0":
            continue
        expr = sym[role] + (sym["b0"] * v.T if role == "a0" else 0)
        db.add_parameter("L", LIQUID, [[A, B]], int(role[1:]), expr)
    return db, names


def _prepare(out: Path, force: bool) -> None:
    if out.exists() and any(out.iterdir()):
        if not force:
            raise OutputExistsError(f"{out} is not empty; pass --force (force=True) to replace what espei-seed wrote")
        import shutil

        for name in ("datasets", PHASES_JSON, START_TDB, GENERATE_YAML, MCMC_YAML, INITIAL_CHAINS,
                     GENERATED_TDB, MCMC_TDB, "trace.npy", "lnprob.npy"):
            target = out / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    out.mkdir(parents=True, exist_ok=True)


def _yaml_header(what: str) -> str:
    return (f"# ESPEI input ({what}) written by mixcalphad espei-seed; run `espei --input <this file>` "
            "from this folder.\n")


def seed_espei(datasets_dir, a: str, b: str, out_dir, *, predictor=None, weight: float = DEFAULT_WEIGHT,
               hmix_datasets: bool = True, start_tdb: bool = True, start: str = "prediction",
               exclude_liquid_calorimetry: bool = False, phase_models=None, order: int = 1,
               iterations: int = 50, chains_per_parameter: int = 2, chain_std_deviation: float = 0.1,
               force: bool = False) -> SeedResult:
    """Write an ESPEI run of the binary a–b seeded with mixcalphad's liquid into ``out_dir``.

    Parameters
    ----------
    datasets_dir : path
        The user's ESPEI datasets folder (searched recursively for ``*.json``).
    a, b : str
        The binary's elements (any order).
    out_dir : path
        Folder to write (created; must be empty unless ``force``).
    predictor : object, optional
        ``predict(a, b, x_B, return_std=True)`` in J/mol; default mixcalphad's default model. Pass a
        model trained without this binary to benchmark.
    weight : float
        Multiplier of 500/σ for the predicted points (see module docstring).
    hmix_datasets, start_tdb : bool
        Write the predicted HM_MIX datasets / the start TDB (without it ESPEI generates the liquid
        from the HM_MIX datasets and the MCMC refines every VV symbol on all datasets).
    start : {"prediction", "datasets", "none"}
        Where the liquid's start comes from (module docstring).
    exclude_liquid_calorimetry : bool
        Leave the user's enthalpy datasets of the LIQUID out (to benchmark against them).
    phase_models : path or dict, optional
        ESPEI phase models; default read from the datasets (:func:`infer_phase_models`).
    order : int
        Highest RK order of the liquid (L0 carries the T term).
    iterations, chains_per_parameter, chain_std_deviation
        MCMC settings written into :data:`MCMC_YAML`.
    force : bool
        Replace what a previous call wrote in ``out_dir``.

    Returns
    -------
    SeedResult

    Raises
    ------
    DatasetError, UnknownElementError, OutputExistsError, MixcalphadError
        The last also for fewer than 2 ``iterations`` (:func:`~mixcalphad.calphad.espei_io.check_mcmc_iterations`).
    """
    check_mcmc_iterations(iterations)
    if start not in STARTS:
        raise MixcalphadError(f"start must be one of {STARTS}, got {start!r}")
    if not (hmix_datasets or start_tdb):
        raise MixcalphadError("nothing of mixcalphad's to seed with: hmix_datasets and start_tdb are both off")
    root = Path(datasets_dir)
    records = read_binary_datasets(root, a, b)
    A, B = sorted((a.upper(), b.upper()))
    if isinstance(phase_models, (str, Path)):
        try:
            models = json.loads(Path(phase_models).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DatasetError(f"cannot read the phase models {phase_models}: {exc}") from None
    else:
        models = phase_models or infer_phase_models([d for _, d in records], A, B)
    label = str(phase_models) if isinstance(phase_models, (str, Path)) else "phase models"
    phases_text = phase_models_json(models, label=label)  # ESPEI validates what we write, before writing
    left_out = []
    kept = []
    for path, data in records:
        rel = str(path.relative_to(root))
        if exclude_liquid_calorimetry and is_liquid_calorimetry(data):
            left_out.append((rel, "liquid calorimetry excluded"))
        elif not _matches_model(data, models):
            left_out.append((rel, "site ratios differ from the phase model"))
        else:
            kept.append((path, data))
    need_prediction = hmix_datasets or (start_tdb and start == "prediction")
    if need_prediction and predictor is None:
        from mixcalphad.model.predictor import load_default_predictor

        predictor = load_default_predictor()
    split = start_tdb  # the MCMC reads datasets/liquid only when it refines the liquid alone
    symbols: tuple[str, ...] = ()
    values: dict[str, float] = {}
    db = chains = None
    if start_tdb:
        kappa = pair_temperature_model(temperature_rule(DEFAULT_RULE), A, B).kappa
        if start == "prediction":
            x = np.asarray(X_GRID)
            mean, std = predictor.predict(A, B, x, return_std=True)
            roles = start_values(x, mean, order=order, sigma_J=std, kappa_per_K=kappa)
        elif start == "datasets":
            x, _, h = liquid_hmix_points([d for _, d in kept], A, B)
            if not x.size:
                raise DatasetError(f"{root}: too few HM_MIX points of the LIQUID of {A}-{B} to start from "
                                   "(none kept); use start='prediction'")
            roles = start_values(x, h, order=order, kappa_per_K=kappa)
        else:
            roles = {**{f"a{n}": -1.0 for n in range(order + 1)}, "b0": -1e-3}
        db, names = start_database(A, B, roles)
        symbols = tuple(names)
        values = {name: float(roles[role]) for name, role in names.items()}
    gen = generate_input(phase_models_path=PHASES_JSON, datasets="datasets", output_db=GENERATED_TDB)
    if start_tdb:
        gen["generate_parameters"]["input_db"] = START_TDB
    mcmc = mcmc_input(input_db=GENERATED_TDB, symbols=symbols or None, iterations=iterations,
                      chains_per_parameter=chains_per_parameter, chain_std_deviation=chain_std_deviation,
                      phase_models_path=PHASES_JSON, datasets="datasets/liquid" if split else "datasets",
                      output_db=MCMC_TDB)
    mcmc["mcmc"]["deterministic"] = True
    if start_tdb and start == "none":
        rng = np.random.default_rng(0)
        spread = np.array([NONE_SPREAD[1] if names[s] == "b0" else NONE_SPREAD[0] for s in symbols])
        chains = rng.normal(0.0, spread, size=(chains_per_parameter * len(symbols), 1, len(symbols)))
        mcmc["mcmc"]["restart_trace"] = INITIAL_CHAINS
        for key in ("chains_per_parameter", "chain_std_deviation"):
            mcmc["mcmc"].pop(key, None)
    generate_text = input_yaml(gen, _yaml_header("generate_parameters"))
    mcmc_text = input_yaml(mcmc, _yaml_header("MCMC of the liquid" if split else "MCMC"))
    out = Path(out_dir)
    _prepare(out, force)
    written = []
    for path, data in kept:
        rel = path.relative_to(root)
        parts = split_zpf_regions(data) if split else {"liquid": None}
        for group, part in parts.items():
            text = path.read_text(encoding="utf-8") if part is None else json.dumps(part, indent=1) + "\n"
            written.append(write_text(out / "datasets" / group / rel, text))
    predicted = []
    if hmix_datasets:
        for stem, data in predicted_hmix_datasets(A, B, predictor, weight=weight):
            predicted.append(write_text(out / "datasets" / "liquid" / "mixcalphad" / f"{stem}.json",
                                        json.dumps(data, indent=1) + "\n"))
    phases = write_text(out / PHASES_JSON, phases_text)
    start_path = write_text(out / START_TDB, db.to_string(fmt="tdb")) if db is not None else None
    if chains is not None:
        with atomic_path(out / INITIAL_CHAINS) as tmp, open(tmp, "wb") as fh:
            np.save(fh, chains)
    generate_yaml = write_text(out / GENERATE_YAML, generate_text)
    mcmc_yaml = write_text(out / MCMC_YAML, mcmc_text)
    logger.info("espei-seed %s-%s: %d datasets kept, %d left out, %d predicted", A, B, len(written),
                len(left_out), len(predicted))
    return SeedResult(folder=out, binary=f"{A}-{B}", datasets=tuple(written), predicted=tuple(predicted),
                      left_out=tuple(left_out), phase_models=phases, generate_yaml=generate_yaml, mcmc_yaml=mcmc_yaml,
                      start_tdb=start_path, symbols=symbols, start_values=values)


def run_seeded(folder, *, iterations: int | None = None) -> dict:
    """Run ``generate_parameters`` then the MCMC of a folder written by :func:`seed_espei`.

    Returns ``{"generated": Path, "mcmc": Path, "trace": ndarray, "lnprob": ndarray}`` (trace shaped
    (chains, iterations, symbols); lnprob (chains, iterations)).
    """
    folder = Path(folder)
    if iterations is not None:
        check_mcmc_iterations(iterations)
    for name in (GENERATE_YAML, MCMC_YAML):
        if not (folder / name).exists():
            raise MixcalphadError(f"{folder / name} is missing: write the folder with seed_espei first")
    for name in (GENERATED_TDB, MCMC_TDB, "trace.npy", "lnprob.npy"):
        (folder / name).unlink(missing_ok=True)
    run_espei_input(folder / GENERATE_YAML)
    overrides = {"mcmc": {"iterations": int(iterations)}} if iterations is not None else None
    run_espei_input(folder / MCMC_YAML, overrides=overrides)
    return {"generated": folder / GENERATED_TDB, "mcmc": folder / MCMC_TDB,
            "trace": np.load(folder / "trace.npy"), "lnprob": np.load(folder / "lnprob.npy")}
