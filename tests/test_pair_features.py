import numpy as np
import pytest

from mixcalphad.chem.miedema import miedema_hmix
from mixcalphad.errors import CompositionError, MixcalphadError, UnknownElementError
from mixcalphad.model.pair_features import GP_FEATURES, PAIR_FEATURES, feature_columns, orient_pairs, pair_features


def test_orientation_rule_lower_work_function_first():
    p, q, swapped = orient_pairs(["CU", "AL", "MG"], ["MG", "NI", "CU"])
    assert p.tolist() == ["MG", "AL", "MG"] and q.tolist() == ["CU", "NI", "CU"]
    assert swapped.tolist() == [True, False, False]


def test_features_do_not_depend_on_order():
    X = pair_features(["AL", "NI", "W"], ["NI", "AL", "IR"])
    assert X.shape == (3, len(PAIR_FEATURES))
    np.testing.assert_array_equal(X[0], X[1])


def test_miedema_terms_and_counts():
    row = dict(zip(PAIR_FEATURES, pair_features(["AL"], ["NI"])[0]))
    assert row["miedema_4h05"] == pytest.approx(4 * float(miedema_hmix("AL", "NI", 0.5)))
    assert row["miedema_dphi2"] == pytest.approx((5.20 - 4.20)**2)
    assert row["diff_valence"] == 10 - 3 and row["mean_valence"] == 6.5
    assert (row["n_p"], row["n_d"], row["n_transition"]) == (1, 1, 1)
    assert row["miedema_hybrid"] > 0


def test_missing_boiling_point_stays_nan():
    row = dict(zip(PAIR_FEATURES, pair_features(["P"], ["FE"])[0]))
    assert np.isnan(row["mean_boiling_point_K"])
    assert np.isfinite([row[f] for f in GP_FEATURES]).all()


def test_bad_pairs():
    with pytest.raises(CompositionError, match="AL twice"):
        orient_pairs(["AL"], ["al"])
    with pytest.raises(UnknownElementError, match="QQ"):
        pair_features(["AL"], ["QQ"])
    with pytest.raises(MixcalphadError, match="nope"):
        feature_columns(["nope"])
