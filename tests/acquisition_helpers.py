"""Shared test data of the acquisition tests: synthetic observations and a predictor double."""
import itertools

import numpy as np
import pandas as pd

from mixcalphad.chem.miedema import miedema_pairs
from mixcalphad.model.pair_features import GP_FEATURES

#: Training elements: 3d transition metals; ranking sets add alkali and refractory elements.
TRAIN = ["CO", "CR", "CU", "FE", "MN", "NI", "TI", "V"]
RANK = ["CO", "CU", "FE", "NI", "K", "CS", "IR", "W"]
FAST = dict(max_epoch=20, num_init_params_search=1, max_epoch_init_params_search=10)


def synthetic_observations(elements=TRAIN, xs=np.arange(1, 10) / 10):
    """Miedema's ΔH_mix plus a smooth, composition-dependent offset, on every binary of ``elements``."""
    rows = []
    for a, b in itertools.combinations(sorted(elements), 2):
        x = np.asarray(xs, dtype=float)
        h = miedema_pairs(np.full(len(x), a), np.full(len(x), b), x) - 3000.0 * x * (1 - x) * (1 + x)
        rows.append(pd.DataFrame({"system": f"{a}-{b}", "x_B": x, "T_K": 1873.0, "HM_MIX_J": h,
                                  "sigma_J": np.nan, "kind": "assessed", "source": "synthetic",
                                  "reference": "unit test", "collection": "test"}))
    return pd.concat(rows, ignore_index=True)


class PredictorDouble:
    """Predictor protocol double: Miedema's ΔH_mix, σ growing with the distance from known elements.

    σ = 4 x (1 − x) (2000 + 6000 · number of the pair's elements outside ``known``), J/mol.
    """

    version_ = "predictor-double-1"
    gp_features = GP_FEATURES  # the feature space of its residual GP, as HMixRegressor declares it

    def __init__(self, known=TRAIN):
        self.known = set(known)

    def predict_pairs(self, a, b, x_B, return_std=False):
        a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
        x = np.asarray(x_B, dtype=float)
        mean = miedema_pairs(a, b, x)
        unknown = np.array([(p not in self.known) + (q not in self.known) for p, q in zip(a, b)], dtype=float)
        std = 4 * x * (1 - x) * (2000.0 + 6000.0 * unknown)
        return (mean, std) if return_std else mean

    def predict(self, a, b, x_B, return_std=False):
        n = len(np.atleast_1d(x_B))
        return self.predict_pairs(np.full(n, a, dtype=object), np.full(n, b, dtype=object), np.atleast_1d(x_B),
                                  return_std=return_std)
