"""Tests of mixcalphad.data.schema: the excess Gibbs energy and entropy columns."""
import numpy as np
import pandas as pd
import pytest

from conftest import make_observations
from mixcalphad.data.schema import (DEFAULT_SIGMA_SE_J_K, EXCESS_COLUMNS, OPTIONAL_COLUMNS, STORED_COLUMNS,
                                    validate_observations)
from mixcalphad.errors import DatasetError

NAN = float("nan")


def rows(ge, se, xs=(0.25, 0.5, 0.75), values=(-5000.0, -8000.0, -6000.0), system="AL-CU"):
    return make_observations(system=system, xs=xs, values=values).assign(GE_J=list(ge), SE_J=list(se))


def test_excess_columns_are_optional_and_stored():
    assert set(EXCESS_COLUMNS) <= set(OPTIONAL_COLUMNS) <= set(STORED_COLUMNS)
    out = validate_observations(make_observations())  # the columns of a store before they existed
    assert out[list(EXCESS_COLUMNS)].isna().all().all()
    assert DEFAULT_SIGMA_SE_J_K == {"assessed": 2.8}  # scripts/measure_excess_entropy_spread.py: 2.76


def test_both_given_are_kept_and_one_given_derives_the_other():
    T = 1873.0
    out = validate_observations(rows(ge=(-4000.0, NAN, NAN), se=((-5000.0 + 4000.0) / T, 2.0, NAN)))
    assert out["GE_J"].tolist() == pytest.approx([-4000.0, -8000.0 - T * 2.0, NAN], nan_ok=True)
    assert out["SE_J"].tolist() == pytest.approx([-1000.0 / T, 2.0, NAN], nan_ok=True)
    only_ge = validate_observations(rows(ge=(-4000.0, -6000.0, NAN), se=(NAN, NAN, NAN)))
    assert only_ge["SE_J"].tolist() == pytest.approx([-1000.0 / T, -2000.0 / T, NAN], nan_ok=True)


def test_table_rounding_is_accepted():
    """GE rounded to 0.1 J and SE to 1e-4 J/(mol K), as the shared tables are, still agree with H."""
    se = np.array([-2.34567, 1.23456, 0.5])
    ge = np.array([-5000.0, -8000.0, -6000.0]) - 1873.0 * se
    out = validate_observations(rows(ge=np.round(ge, 1), se=np.round(se, 4)))
    assert out["SE_J"].tolist() == pytest.approx(np.round(se, 4).tolist())


@pytest.mark.parametrize("ge, se, column, message", [
    ((-4000.0,) * 3, (0.0,) * 3, "SE_J", "HM_MIX_J − GE_J − T_K·SE_J"),  # 1000 J/mol off
    ((float("inf"), NAN, NAN), (NAN,) * 3, "GE_J", "G_ex must be a finite number"),
    ((NAN,) * 3, (NAN, -float("inf"), NAN), "SE_J", "S_ex must be a finite number"),
    (("abc", NAN, NAN), (NAN,) * 3, "GE_J", "not a number"),
])
def test_bad_excess_values_are_refused(ge, se, column, message):
    with pytest.raises(DatasetError, match=f"column '{column}'.*{message}"):
        validate_observations(rows(ge=ge, se=se))


def test_a_pure_element_has_no_excess():
    with pytest.raises(DatasetError, match="G_ex of a pure element"):
        validate_observations(rows(ge=(5.0, NAN, NAN), se=(NAN,) * 3, xs=(0.0, 0.5, 1.0), values=(0.0, -8000.0, 0.0)))
    ok = validate_observations(rows(ge=(0.0, -7000.0, 0.0), se=(NAN,) * 3, xs=(0.0, 0.5, 1.0),
                                    values=(0.0, -8000.0, 0.0)))
    assert ok["SE_J"].tolist() == pytest.approx([0.0, -1000.0 / 1873.0, 0.0])


def test_reversed_system_flips_x_and_keeps_the_excess_with_its_row():
    """NI-AL at x_B = 0.1 is AL-NI at x_B = 0.9: G_ex and S_ex are scalars of that composition."""
    given = rows(system="NI-AL", xs=(0.1, 0.3), values=(-1000.0, -3000.0), ge=(-400.0, -2000.0),
                 se=((-1000.0 + 400.0) / 1873.0, NAN))
    out = validate_observations(given)
    assert out["system"].tolist() == ["AL-NI", "AL-NI"]
    assert out["x_B"].tolist() == pytest.approx([0.9, 0.7])
    assert out["GE_J"].tolist() == [-400.0, -2000.0]
    assert out["SE_J"].tolist() == pytest.approx([-600.0 / 1873.0, -1000.0 / 1873.0])
    pd.testing.assert_frame_equal(out.drop(columns=["x_B"]),
                                  validate_observations(given.assign(system="AL-NI", x_B=[0.9, 0.7])).drop(
                                      columns=["x_B"]))
