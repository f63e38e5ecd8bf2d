"""The evidence rule: one curve weighs as one point, repeated rows add nothing."""
import numpy as np
import pandas as pd
import pytest

from mixcalphad.data.evidence import evidence_points
from mixcalphad.data.schema import DEFAULT_SIGMA_J
from mixcalphad.errors import DatasetError


def frame(xs, values, sigma=float("nan"), kind="assessed", source="a.tdb", T=1873.0, system="AL-NI"):
    return pd.DataFrame({"system": system, "kind": kind, "source": source, "x_B": list(xs), "T_K": T,
                         "HM_MIX_J": list(values), "sigma_J": sigma})


def test_a_curve_of_m_points_weighs_as_one():
    points = evidence_points(frame([0.1, 0.3, 0.5, 0.7], [-1e4, -2e4, -3e4, -2e4]))
    assert points["n_points"].tolist() == [4] * 4
    assert points["fit_sigma_J"].to_numpy() == pytest.approx(DEFAULT_SIGMA_J["assessed"] * 2.0)
    assert np.sum(1 / points["fit_sigma_J"] ** 2) == pytest.approx(1 / DEFAULT_SIGMA_J["assessed"] ** 2)


def test_repeated_rows_and_temperatures_are_one_point():
    rows = pd.concat([frame([0.5, 0.25], [-3e4, -2e4], T=1800.0), frame([0.5], [-3.2e4], T=2000.0)])
    points = evidence_points(rows)
    assert len(points) == 2
    half = points[points["x_B"] == 0.5].iloc[0]
    assert half["HM_MIX_J"] == pytest.approx(-3.1e4) and half["T_K"] == pytest.approx(1900.0)
    assert half["n_rows"] == 2 and half["n_points"] == 2
    # duplicating every row, in any order, changes nothing
    twice = evidence_points(pd.concat([rows, rows]).iloc[::-1])
    pd.testing.assert_frame_equal(points.drop(columns="n_rows"), twice.drop(columns="n_rows"))


def test_curves_are_separate_pieces_of_evidence():
    rows = pd.concat([frame([0.5], [-3e4], sigma=1000.0, kind="aimd", source="run"),
                      frame([0.25, 0.5, 0.75], [-2e4, -3e4, -2e4], source="b.tdb")])
    points = evidence_points(rows)
    aimd = points[points["kind"] == "aimd"].iloc[0]
    assert aimd["fit_sigma_J"] == 1000.0 and aimd["n_points"] == 1
    assert (points[points["kind"] == "assessed"]["fit_sigma_J"] == 2000.0 * np.sqrt(3)).all()


def test_a_bad_sigma_names_its_source():
    with pytest.raises(DatasetError, match="bad.tdb"):
        evidence_points(frame([0.5], [-1e4], sigma=-5.0, source="bad.tdb"))
    with pytest.raises(DatasetError, match="model"):
        evidence_points(frame([0.5], [-1e4], kind="predicted", source="model"))


def test_pure_elements_are_not_evidence():
    points = evidence_points(frame([0.0, 0.5, 1.0], [0.0, -3e4, 0.0]))
    assert points["x_B"].tolist() == [0.5] and points["n_points"].tolist() == [1]


def test_no_rows_give_an_empty_table_with_the_columns():
    empty = evidence_points(frame([], []))
    assert len(empty) == 0 and "fit_sigma_J" in empty.columns
