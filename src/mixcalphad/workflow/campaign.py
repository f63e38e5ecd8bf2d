"""The loop: new data in the store → model retrained → binaries refitted → TDB, ESPEI files and the
next acquisition plan regenerated, with a report of what changed.

A campaign lives in one output folder. ``state.json`` there remembers what the last refit used (a
key over everything that determines the outputs, the model file, every binary's L0 and the
observation keys), so that a refit can say what moved, how the model did on the points that are new
since then, and — when neither the store nor any option changed — reuse everything and change
nothing. A folder that holds files a campaign did not write is never overwritten without ``force``.

Example
-------
>>> report = Campaign(Store("store.json"), "campaign/").refit()      # doctest: +SKIP
>>> print(report.text())                                               # doctest: +SKIP
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from mixcalphad.chem.elements import supported_elements
from mixcalphad import __version__
from mixcalphad.errors import DatasetError, MixcalphadError, OutputExistsError
from mixcalphad._io import write_text
from mixcalphad.model.metrics import regression_errors
from mixcalphad.model.regressor import HMixRegressor, dataset_hash, training_rows
from mixcalphad.model.predictor import load_default_model
from mixcalphad.data.schema import OBSERVED_KINDS, STORED_COLUMNS
from mixcalphad.data.store import Store, observation_key

log = logging.getLogger(__name__)

STATE_FILE = "state.json"
MODEL_FILE = "model.json.gz"
TDB_FILE = "mixcalphad-liquid.tdb"
#: Everything a refit writes into its folder (besides ``state.json``).
OUTPUTS = (MODEL_FILE, TDB_FILE, "report.txt", "plan.csv", "periodic_map.png", "espei-datasets")


@dataclass(frozen=True)
class CampaignReport:
    """What a refit did and what changed (J/mol in the frames, kJ/mol in :meth:`text`).

    Attributes
    ----------
    retrained : bool
        False when the store held no new data since the previous refit and its model was reused.
    model_before, model_after : str
        Model versions.
    moved : DataFrame
        Binaries whose L0 moved by more than the threshold: ``system``, ``L0_before_J``,
        ``L0_after_J``, ``origin``.
    new_points : DataFrame
        Observations new since the previous refit, with the old and new models' predictions.
    accuracy : DataFrame
        Grouped inner-CV RMSE of both models and their RMSE on the new points (kJ/mol).
    plan : DataFrame or None
        The next acquisition plan.
    files : dict
        Paths written.
    """

    retrained: bool
    model_before: str
    model_after: str
    moved: pd.DataFrame
    new_points: pd.DataFrame
    accuracy: pd.DataFrame
    plan: pd.DataFrame | None
    files: dict = field(default_factory=dict)

    def text(self) -> str:
        fmt = "{:.2f}".format
        lines = [f"model: {self.model_before or '(none)'} → {self.model_after}"
                 + ("" if self.retrained else " (no new data: previous model reused, nothing changed)")]
        if len(self.new_points):
            lines += ["", f"new observations since the previous refit: {len(self.new_points)} "
                          f"in {self.new_points['system'].nunique()} systems (kJ/mol):",
                      (self.new_points[["system", "x_B", "kind", "HM_MIX_J", "before_J", "after_J"]]
                       .assign(HM_MIX_J=lambda f: f["HM_MIX_J"] / 1000, before_J=lambda f: f["before_J"] / 1000,
                               after_J=lambda f: f["after_J"] / 1000)
                       .rename(columns={"HM_MIX_J": "observed", "before_J": "old model", "after_J": "new model"})
                       .to_string(index=False, float_format=fmt))]
        lines += ["", "accuracy (kJ/mol):", self.accuracy.to_string(index=False, float_format=fmt)]
        if len(self.moved):
            lines += ["", f"binaries whose L0 moved (kJ/mol), {len(self.moved)}:",
                      (self.moved.assign(L0_before=self.moved["L0_before_J"] / 1000,
                                         L0_after=self.moved["L0_after_J"] / 1000)
                       [["system", "origin", "L0_before", "L0_after"]].to_string(index=False, float_format=fmt))]
        else:
            lines += ["", "no binary's L0 moved by more than the threshold"]
        if self.plan is not None and len(self.plan):
            lines += ["", "next acquisition plan (top 10):",
                      self.plan.head(10).to_string(index=False, float_format=fmt)]
        lines += ["", "files:"] + [f"  {name}: {path}" for name, path in self.files.items()]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"retrained": self.retrained, "model_before": self.model_before, "model_after": self.model_after,
                "moved": self.moved.to_dict("records"), "new_points": self.new_points.to_dict("records"),
                "accuracy": self.accuracy.to_dict("records"),
                "plan": None if self.plan is None else self.plan.to_dict("records"),
                "files": {k: str(v) for k, v in self.files.items()}}


def _canonical(value):
    """``value`` as plain JSON types, keys sorted (objects by their repr)."""
    return json.loads(json.dumps(value, sort_keys=True, default=repr))


def observations_hash(observations: pd.DataFrame) -> str:
    """SHA-256 of every stored column of the observations (:data:`~mixcalphad.data.schema.STORED_COLUMNS`:
    values, σ, kind, source, provenance, cautions, excess quantities), independent of row order.

    Each decides an output: σ and kind weight the fits and the ESPEI datasets, kind and source group
    the training curves, the references and checksums are written into the TDB.
    """
    columns = [c for c in STORED_COLUMNS if c in observations.columns]
    frame = observations[columns].astype(object).where(observations[columns].notna(), None)
    rows = sorted(json.dumps(row, sort_keys=True, default=repr) for row in frame.to_dict("records"))
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


class Campaign:
    """Refit everything from a store into an output folder.

    Parameters
    ----------
    store : Store
        Where observations come from (and where the campaign's runs are recorded).
    out : str or Path
        The campaign folder.
    elements : sequence of str, optional
        Element set of the TDB, the ESPEI datasets and the plan (default: every supported element).
    l0_threshold_J : float
        Report binaries whose L0 moved by more than this (J/mol).
    estimator : callable, optional
        Returns an unfitted regressor (default: ``HMixRegressor(random_state=0)``).
    plan_size : int
        Binaries in the next acquisition plan (0: no plan).
    per_element : int, optional
        At most this many plan binaries per element (spreads a batch over elements).
    fit_options : mapping, optional
        Keyword arguments of :func:`~mixcalphad.calphad.binary_fit.fit_binaries` (``max_order``,
        ``temperature_model``…).
    force : bool
        Overwrite outputs in ``out`` that no earlier campaign wrote (a folder without ``state.json``).
    """

    def __init__(self, store: Store, out: str | Path, *, elements: Sequence[str] | None = None,
                 l0_threshold_J: float = 1000.0, estimator: Callable[[], HMixRegressor] | None = None,
                 plan_size: int = 20, per_element: int | None = 2, fit_options: dict | None = None,
                 force: bool = False):
        self.store = store
        self.out = Path(out)
        self.elements = None if elements is None else sorted({e.upper() for e in elements})
        self.l0_threshold_J = l0_threshold_J
        self.estimator = estimator or (lambda: HMixRegressor(random_state=0))
        self.plan_size = plan_size
        self.per_element = per_element
        self.fit_options = dict(fit_options or {})
        self.force = force

    @staticmethod
    def entropy_rule(observations: pd.DataFrame):
        """The learned excess-entropy rule refitted on the store's assessed excess entropies (the
        shipped model when the store has none)."""
        from mixcalphad.calphad.excess_entropy import LearnedEntropy
        from mixcalphad.model.entropy import DEFAULT_FORM, ExcessEntropyModel, entropy_targets

        try:
            entropy_targets(observations)
        except DatasetError:
            return LearnedEntropy()
        return LearnedEntropy(ExcessEntropyModel(form=DEFAULT_FORM).fit(observations))

    def _estimator_params(self) -> dict:
        """The estimator's parameters as plain JSON values (for keys and the state file)."""
        return _canonical(self.estimator().get_params())

    def inputs_key(self, observations: pd.DataFrame, flags: pd.DataFrame, assessed: Mapping | None = None,
                   entropy=None) -> str:
        """SHA-256 over everything that determines the outputs: the observations, every stored column
        (:func:`observations_hash`), the store's flags
        and assessments kept whole, the element set, the estimator's parameters, the excess-entropy
        model (``entropy``: the :class:`LearnedEntropy` rule of these observations, fitted here when
        not given), the fit and plan options and the code version."""
        flag_rows = sorted(json.dumps(r, sort_keys=True, default=str) for r in flags.to_dict("records"))
        kept = sorted(f"{x.system}|{x.checksum}" for group in (assessed or {}).values() for x in group)
        if "temperature_model" in self.fit_options:
            entropy = None
        else:  # the learned excess-entropy rule of these observations (given, or fitted here)
            entropy = (entropy or self.entropy_rule(observations)).model.to_dict()
        inputs = {"version": __version__, "observations": observations_hash(observations),
                  "entropy_model": _canonical(entropy),
                  "flags": flag_rows, "assessed_whole": kept, "elements": list(self.elements or supported_elements()),
                  "estimator": self._estimator_params(), "fit_options": _canonical(self.fit_options),
                  "plan_size": self.plan_size, "per_element": self.per_element,
                  "l0_threshold_J": self.l0_threshold_J}
        return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()

    def _check_folder(self) -> None:
        """Refuse to overwrite outputs in a folder that no campaign wrote, unless ``force``."""
        if self.force or (self.out / STATE_FILE).exists():
            return
        found = [name for name in OUTPUTS if (self.out / name).exists()]
        if found:
            raise OutputExistsError(f"{self.out} already holds {', '.join(found)} not written by a campaign; "
                                    "choose another folder or pass force=True (--force) to overwrite")

    # ------------------------------------------------------------------ state
    def _state(self) -> dict:
        path = self.out / STATE_FILE
        if not path.exists():
            return {}
        try:
            return json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise MixcalphadError(f"campaign state {path} is corrupted ({exc}); move it aside to start afresh") from None

    def _model(self, observations: pd.DataFrame, state: dict) -> tuple[HMixRegressor, bool]:
        """The model for these observations: the previous one if its data are unchanged, the
        shipped default if the store holds exactly the default data, else a new fit."""
        digest = dataset_hash(training_rows(observations))
        params = self._estimator_params()
        path = self.out / MODEL_FILE
        if state.get("training_hash") == digest and state.get("estimator") == params and path.exists():
            return HMixRegressor.load(path), False
        default = load_default_model()
        if default.training_hash_ == digest and params == _canonical(HMixRegressor(random_state=0).get_params()):
            return default, True
        log.info("training the model on %d observations", len(observations))
        return self.estimator().fit(observations), True

    # ------------------------------------------------------------------ the loop
    def refit(self, *, progress: bool | None = None) -> CampaignReport:
        """Retrain, refit every binary, rewrite TDB/ESPEI/plan and report what changed."""
        from mixcalphad.calphad.espei_io import write_espei_datasets
        from mixcalphad.calphad.binary_fit import fit_binaries, gap_reasons
        from mixcalphad.calphad.tdb_write import write_tdb

        observations = self.store.observations()
        observations = observations[observations["kind"].isin(OBSERVED_KINDS)]
        if observations.empty:
            raise MixcalphadError(f"the store {self.store.path} holds no observations; run 'mixcalphad data build' first")
        self._check_folder()
        state = self._state()
        flags, assessed = self.store.flags(), self.store.assessed_liquids()
        entropy = self.entropy_rule(observations)
        key = self.inputs_key(observations, flags, assessed, entropy)
        self.out.mkdir(parents=True, exist_ok=True)
        old_model = HMixRegressor.load(self.out / MODEL_FILE) if (self.out / MODEL_FILE).exists() else None
        model, retrained = self._model(observations, state)
        if (not retrained and state.get("inputs_key") == key
                and all(Path(p).exists() for p in state.get("files", {}).values())):
            return self._unchanged(model, state)
        if retrained or not (self.out / MODEL_FILE).exists():
            model.save(self.out / MODEL_FILE, force=True)
        elements = self.elements or supported_elements()
        known = set(elements)
        relevant = observations[observations["system"].map(lambda s: set(s.split("-")) <= known)]
        fits = fit_binaries(elements, predictor=model, observations=relevant, progress=progress,
                            gaps=gap_reasons(flags), assessed_liquids=assessed,
                            **{"temperature_model": entropy, **self.fit_options})
        files = {"model": self.out / MODEL_FILE,
                 "tdb": write_tdb(fits, self.out / TDB_FILE, force=True, elements=elements,
                                  notes=[f"campaign refit from store {self.store.path}"])}
        observed_fits = {k: f for k, f in fits.items() if f.n_observed}
        espei_dir = self.out / "espei-datasets"
        write_espei_datasets(observed_fits, espei_dir, force=True)
        files["espei_datasets"] = espei_dir
        l0 = {system: float(fit.fit.L[0]) for system, fit in fits.items()}
        moved = self._moved(state.get("L0", {}), l0, fits)
        new_points = self._new_points(observations, state, old_model, model)
        accuracy = self._accuracy(old_model, model, new_points)
        plan = self._plan(model, observations, flags, elements, files)
        keys = sorted(observation_key(r) for r in observations.to_dict("records"))
        write_text(self.out / STATE_FILE, json.dumps({
            "inputs_key": key, "training_hash": dataset_hash(training_rows(observations)),
            "estimator": self._estimator_params(),
            "model": model.version_,
            "L0": l0, "observation_keys": keys, "elements": list(elements),
            "files": {k: str(v) for k, v in files.items()}}, indent=1, sort_keys=True))
        report = CampaignReport(retrained=retrained,
                                model_before=old_model.version_ if old_model else "", model_after=model.version_,
                                moved=moved, new_points=new_points, accuracy=accuracy, plan=plan, files=files)
        files["report"] = write_text(self.out / "report.txt", report.text() + "\n")
        self.store.add_records("campaigns", [{"out": str(self.out.resolve()), "model": model.version_,
                                              "training_hash": dataset_hash(training_rows(observations)),
                                              "binaries": len(fits), "moved": len(moved)}],
                               key_fields=("out", "training_hash"), replace=True)
        return report

    def _unchanged(self, model, state) -> CampaignReport:
        """The report of a refit with no new data: every output is left as it is."""
        empty = pd.DataFrame(columns=["system", "L0_before_J", "L0_after_J", "origin"])
        plan_path = self.out / "plan.csv"
        plan = pd.read_csv(plan_path) if plan_path.exists() else None
        files = {k: Path(v) for k, v in state.get("files", {}).items()}
        report = CampaignReport(retrained=False, model_before=model.version_, model_after=model.version_,
                                moved=empty, new_points=pd.DataFrame(), accuracy=self._accuracy(None, model, pd.DataFrame(
                                    {"HM_MIX_J": [], "after_J": []})), plan=plan, files=files)
        log.info("no new observations since the previous refit: nothing changed")
        return report

    def _moved(self, before: dict, after: dict, fits) -> pd.DataFrame:
        rows = [{"system": s, "L0_before_J": before[s], "L0_after_J": v, "origin": fits[s].origin}
                for s, v in after.items() if s in before and abs(v - before[s]) > self.l0_threshold_J]
        return pd.DataFrame(rows, columns=["system", "L0_before_J", "L0_after_J", "origin"])

    @staticmethod
    def _new_points(observations, state, old_model, model) -> pd.DataFrame:
        columns = ["system", "x_B", "kind", "source", "HM_MIX_J", "before_J", "after_J"]
        if not state:
            return pd.DataFrame(columns=columns)
        seen = set(state.get("observation_keys", []))
        new = training_rows(observations[[observation_key(r) not in seen
                                          for r in observations.to_dict("records")]])
        if new.empty:
            return pd.DataFrame(columns=columns)
        before = old_model.predict(new) if old_model is not None else np.full(len(new), np.nan)
        return new.assign(before_J=before, after_J=model.predict(new))[columns].reset_index(drop=True)

    @staticmethod
    def _accuracy(old_model, model, new_points) -> pd.DataFrame:
        rows = []
        for label, m, column in (("before", old_model, "before_J"), ("after", model, "after_J")):
            if m is None:
                continue
            on_new = regression_errors(new_points["HM_MIX_J"] / 1000, new_points[column] / 1000)
            rows.append({"model": label, "version": m.version_, "inner CV RMSE": m.inner_rmse_ / 1000,
                         "new points": on_new["n"], "RMSE on new points": on_new["rmse"]})
        return pd.DataFrame(rows)

    def _plan(self, model, observations, flags, elements, files) -> pd.DataFrame | None:
        """Rank the next binaries to compute, record the selection, write the plan and its map."""
        if not self.plan_size:
            return None
        from mixcalphad.acquisition.plan import rank_binaries
        from mixcalphad._io import atomic_path
        from mixcalphad.plot import periodic_uncertainty_map

        plan = rank_binaries(observations, n=self.plan_size, elements=elements, model=model,
                             flags=flags, per_element=self.per_element)
        plan.record(self.store)
        table = plan.to_dataframe()
        with atomic_path(self.out / "plan.csv") as tmp:
            table.to_csv(tmp, index=False)
        files["plan"] = self.out / "plan.csv"
        files["periodic_map"] = periodic_uncertainty_map(plan.binaries, self.out / "periodic_map.png",
                                                         score="model_sigma_J",
                                                         title="model σ at x = 0.5 per binary; colour: cluster",
                                                         force=True)
        return table
