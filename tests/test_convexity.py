"""Admissible fits: convex liquid G_mix from T_low to 6000 K unless the data show a gap."""
import numpy as np
import pandas as pd
import pytest
from pycalphad import Database, calculate

from mixcalphad.calphad.binary_fit import fit_binaries, fit_binary, gap_reasons, regular_solution_gap
from mixcalphad.calphad.convexity import (R_J, X_GRID, curvature_ratio, fit_convex, min_curvature_ratio,
                                          rk_excess_d2, spinodal_report)
from mixcalphad.calphad.provenance import read_provenance
from mixcalphad.calphad.redlich_kister import ENTHALPY_ONLY, fit_redlich_kister, kaptay, rk_excess
from mixcalphad.calphad.tdb_write import write_tdb
from mixcalphad.errors import DatasetError

GRID = np.round(np.arange(0.05, 0.951, 0.05), 2)
#: Like the AL-NI fit of the issue (L0 = -177, L2 = +109, L3 = -112 kJ/mol): ΔH_mix < 0 at every x,
#: spinodals near the ends.
AL_NI = [-177000.0, 50000.0, 109000.0, -112000.0]


class CurvePredictor:
    """A predictor returning one fixed RK curve for every binary (σ in J/mol)."""

    version_ = "curve-1"

    def __init__(self, coefficients, sigma=3000.0):
        self.coefficients, self.sigma = coefficients, sigma

    def predict(self, a, b, x_B, return_std=True):
        x = np.asarray(x_B, dtype=float)
        if a > b:  # the curve is for the sorted pair
            x = 1.0 - x
        return rk_excess(x, self.coefficients), np.full(x.shape, self.sigma)


def test_second_derivative_matches_finite_differences():
    x, e = np.linspace(0.1, 0.9, 9), 1e-4
    numeric = (rk_excess(x + e, AL_NI) - 2 * rk_excess(x, AL_NI) + rk_excess(x - e, AL_NI)) / e**2
    assert rk_excess_d2(x, AL_NI) == pytest.approx(numeric, rel=1e-5, abs=1.0)


def test_curvature_ratio_of_a_regular_solution():
    # L0 = 2RT is the critical point of a regular solution: ratio 0 at x = 0.5
    T = 1000.0
    assert curvature_ratio([0.5], [T], [2 * R_J * T])[0, 0] == pytest.approx(0.0, abs=1e-12)
    assert min_curvature_ratio([2.2 * R_J * T], T) < 0 < min_curvature_ratio([1.8 * R_J * T], T)
    assert min_curvature_ratio([-50000.0], 300.0) > 1.0


def test_the_issue_al_ni_fit_has_spinodals_and_the_constrained_fit_has_none(tmp_path):
    assert max(rk_excess(X_GRID, AL_NI)) < 0 and spinodal_report(AL_NI, 1873.0) is not None
    fit, check = fit_convex(GRID, rk_excess(GRID, AL_NI), 3000.0, T_low_K=700.0)
    assert check.constrained and check.min_ratio_unconstrained < 0 <= check.min_ratio
    assert spinodal_report(fit.coefficients, 700.0) is None and spinodal_report(fit.coefficients, 6000.0) is None
    change = np.sqrt(np.mean((fit.evaluate(GRID) - rk_excess(GRID, AL_NI)) ** 2))
    assert check.rms_change_J == pytest.approx(change) and 0 < change < 5000.0
    # pycalphad agrees: GM_MIX of the written liquid is convex at 700 K; of the raw fit it is not
    x = np.linspace(0.002, 0.998, 499)
    for coefficients, convex in ((fit.coefficients, True), (AL_NI, False)):
        raw = fit_redlich_kister([0.5], [-1.0])
        raw = type(raw)(coefficients=tuple(coefficients), covariance=((0.0,) * len(coefficients),) * len(coefficients),
                        rms_J=0.0, max_abs_residual_J=0.0, order=len(coefficients) - 1, n_points=1)
        path = write_tdb({"AL-NI": raw}, tmp_path / f"alni-{convex}.tdb", solids="none")
        gm = calculate(Database(str(path)), ["AL", "NI"], "LIQUID", T=700.0, P=101325, N=1, output="GM_MIX",
                       points=np.column_stack([1 - x, x]))
        d2 = np.diff(np.asarray(gm.GM_MIX).ravel(), 2)
        assert bool(d2.min() >= 0) == convex


def test_a_convex_fit_is_left_alone_and_bad_input_is_refused():
    h = rk_excess(GRID, [-40000.0, 5000.0])
    fit, check = fit_convex(GRID, h, T_low_K=500.0)
    assert not check.constrained and check.rms_change_J == 0.0 and check.describe() == "convex"
    assert fit.coefficients == fit_redlich_kister(GRID, h).coefficients
    with pytest.raises(DatasetError, match="T_low_K"):
        fit_convex(GRID, h, T_low_K=7000.0)


def test_kaptay_is_checked_at_both_ends():
    # with tau = 3000 K a negative excess turns positive above tau: at 6000 K it is -L0
    model = kaptay(3000.0)
    L = [-150000.0]
    assert min_curvature_ratio(L, 1000.0, 6000.0, model) < 0 <= min_curvature_ratio(L, 1000.0, 6000.0, ENTHALPY_ONLY)
    fit, check = fit_convex(GRID, rk_excess(GRID, L), T_low_K=1000.0, temperature_model=model)
    assert check.constrained and min_curvature_ratio(fit.coefficients, 1000.0, 6000.0, model) >= 0


def test_fit_binary_makes_negative_curves_convex_and_records_it(tmp_path):
    fit = fit_binary("AL", "NI", predictor=CurvePredictor(AL_NI))
    assert fit.convexity.constrained and fit.convexity.min_ratio >= 0
    assert fit.convexity.T_low_K == pytest.approx(0.5 * 933.47, abs=0.01)  # half the lower melting point
    rec = read_provenance(write_tdb({"AL-NI": fit}, tmp_path / "a.tdb", solids="none")).binaries[0]
    assert rec.convexity == "constrained" and rec.constraint_rms_J == round(fit.convexity.rms_change_J, 1) > 0


def test_a_gap_is_kept_only_where_the_data_show_one():
    big = [40000.0, 0.0, 20000.0, -30000.0]  # a large positive excess: a regular solution demixes
    assert "positive excess" in regular_solution_gap(GRID, rk_excess(GRID, big), None, 600.0)
    fit = fit_binary("AG", "FE", predictor=CurvePredictor(big))
    assert fit.convexity.gap_allowed.startswith("positive excess") and fit.convexity.describe() == "gap"
    assert fit.fit.coefficients == fit_redlich_kister(GRID, rk_excess(GRID, big), 3000.0 * np.sqrt(19)).coefficients
    # a small positive excess is not a gap: the fit is made convex instead
    small = [6000.0, 0.0, 9000.0, -12000.0]
    assert regular_solution_gap(GRID, rk_excess(GRID, small), None, 600.0) == ""
    # an immiscible flag keeps whatever spinodal the positive data give
    flags = pd.DataFrame({"system": ["CU-PB"], "flag": ["immiscible"], "T_K": [1400.0], "kind": ["aimd"],
                          "source": ["run7"], "reference": [""], "collection": [""]})
    gaps = gap_reasons(flags)
    assert gaps == {"CU-PB": "immiscible flag (run7)"}
    fits = fit_binaries(["CU-PB", "AL-NI"], predictor=CurvePredictor(small), gaps=gaps, progress=False, T_low_K=600.0)
    assert fits["CU-PB"].convexity.gap_allowed == "immiscible flag (run7)" and fits["CU-PB"].convexity.min_ratio < 0
    assert fits["AL-NI"].convexity.constrained and fits["AL-NI"].convexity.min_ratio >= 0
    # negative everywhere: never a gap, whatever the flag
    fit = fit_binary("AL", "NI", predictor=CurvePredictor(AL_NI), gap="immiscible flag")
    assert fit.convexity.constrained and not fit.convexity.gap_allowed
