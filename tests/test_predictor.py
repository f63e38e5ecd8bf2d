import numpy as np

from mixcalphad.model.predictor import (BatchPredictions, describe_predictor, load_default_model,
                                        predictor_label)
from mixcalphad.model.regressor import dataset_hash, training_rows


def test_default_model_is_current(default_build):
    model = load_default_model()
    assert model.training_hash_ == dataset_hash(training_rows(default_build.observations))
    mean, std = model.predict("AL", "NI", [0.5], return_std=True)
    assert mean[0] < -20000 and 0 < std[0] < 20000
    L, sigma = model.predict_rk("AL", "NI")
    assert L.shape == sigma.shape == (3,)


def test_default_model_is_a_copy():
    first = load_default_model()
    first.scale_["all"] = -1.0
    first.boosters_ = None
    second = load_default_model()
    assert second.scale_["all"] > 0 and second.boosters_ is not None


def test_batch_predictions_serve_the_batch_and_fall_back():
    model = load_default_model()
    x = np.array([0.25, 0.5, 0.75])
    batch = BatchPredictions(model, [("AL", "NI"), ("CU", "ZR")], x)
    mean, std = batch.predict("CU", "ZR", x)
    # equal to rounding: the GP's matrix products differ in the last bit with the batch size
    np.testing.assert_allclose(mean, model.predict("CU", "ZR", x), rtol=1e-12)
    np.testing.assert_allclose(std, model.predict("CU", "ZR", x, return_std=True)[1], rtol=1e-12)
    other = batch.predict("AL", "CU", np.array([0.5]))  # not in the batch: asks the model
    np.testing.assert_allclose(other[0], model.predict("AL", "CU", [0.5]), rtol=1e-12)
    info = describe_predictor(batch)
    assert info["class"] == "HMixRegressor" and info["version"] == model.version_
    assert predictor_label(model).startswith("HMixRegressor ")
