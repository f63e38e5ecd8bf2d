"""The main job (``mixcalphad run``) as a Python call, on a reduced element set."""
import json

from pycalphad import Database

from mixcalphad.data.store import Store
from mixcalphad.model.regressor import HMixRegressor
from mixcalphad.workflow.main_job import run_main_job

ELEMENTS = ["AL", "CU", "NI", "TI", "W", "ZR"]


def fast_estimator():
    return HMixRegressor(inner_folds=3, random_state=0, progress=False,
                         lgbm_params={"num_leaves": 7, "min_child_samples": 10, "learning_rate": 0.1, "n_estimators": 60})


def test_main_job_fills_the_store_fits_writes_and_plans(tmp_path):
    store = Store(tmp_path / "store.json")
    steps = []
    result = run_main_job(tmp_path / "out", store, evaluate=False, plan_size=2, elements=ELEMENTS,
                          estimator=fast_estimator, step=lambda n, total, text: steps.append((n, total)))
    assert steps[0] == (1, 4) and steps[-1] == (4, 4)
    observations = store.observations()
    assert result.counts["store_observations"] == len(observations) > 1000
    assert {"assessed", "aimd"} <= set(observations["kind"])
    db = Database(str(result.campaign.files["tdb"]))
    assert set(ELEMENTS) <= set(db.elements)
    assert len(result.campaign.plan) == 2 and result.vasp_runs is not None
    assert (tmp_path / "out" / "vasp-runs").is_dir()
    # without the evaluation there is no model parity plot; every other figure is drawn, as a PNG
    out = tmp_path / "out"
    assert result.figures == {"miedema_parity": out / "miedema_parity.png",
                              "periodic_map": out / "campaign" / "periodic_map.png",
                              "hmix_curves": out / "hmix_curves.png"}  # AL-NI, CU-ZR, AL-CU are in ELEMENTS
    for figure in result.figures.values():
        assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and figure.stat().st_size > 10_000
    text = result.text()
    assert str(store.path) in text and "Miedema vs assessed" in text
    json.dumps(result.to_dict())  # a JSON-able summary
    # the same store and folder again: nothing to redo, nothing to overwrite
    again = run_main_job(tmp_path / "out", store, evaluate=False, plan_size=2, elements=ELEMENTS,
                         estimator=fast_estimator)
    assert not again.campaign.retrained
