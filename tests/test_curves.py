import numpy as np
import pandas as pd
import pytest

from mixcalphad.chem.miedema import miedema_pairs
from mixcalphad.model.curves import curve_coefficients, curve_index, fit_curve, oriented_points, rk_powers

X = np.round(np.arange(0.1, 0.91, 0.1), 2)


def sorted_curve(system, L, x=X, source="s", T_K=1873.0, kind="assessed"):
    """ΔH of the sorted pair A-B = Miedema + x_A x_B Σ L_n (x_A − x_B)^n (J/mol)."""
    a, b = system.split("-")
    t = 1 - 2 * x
    excess = x * (1 - x) * (rk_powers(t) @ np.asarray(L, dtype=float))
    h = miedema_pairs(np.full(x.size, a), np.full(x.size, b), x) + excess
    return pd.DataFrame({"system": system, "x_B": x, "T_K": T_K, "HM_MIX_J": h, "kind": kind, "source": source})


def test_fit_curve_recovers_known_coefficients():
    t = np.linspace(-0.8, 0.8, 9)
    xx = (1 - t**2) / 4
    c = np.array([-40000.0, 12000.0, -5000.0])
    np.testing.assert_allclose(fit_curve(t, xx, xx * (rk_powers(t) @ c)), c, rtol=1e-9)


def test_order_follows_the_distinct_compositions():
    t = np.array([0.0, 0.0])
    out = fit_curve(t, np.full(2, 0.25), np.array([-1000.0, -1200.0]))
    assert out[0] == pytest.approx(-1100.0 / 0.25) and np.isnan(out[1:]).all()
    two = fit_curve(np.array([-0.2, 0.2]), np.full(2, 0.24), np.array([-1000.0, -1200.0]))
    assert np.isfinite(two[:2]).all() and np.isnan(two[2])


def test_orientation_rule_maps_odd_terms():
    # AL (φ* 4.20) before NI (5.20): the sorted pair is already oriented
    # MG (φ* 3.45) before CU (4.55): CU-MG is swapped, t = x_MG − x_CU = −(x_A − x_B)
    L = [-30000.0, 9000.0, 4000.0]
    rows = pd.concat([sorted_curve("AL-NI", L), sorted_curve("CU-MG", L)], ignore_index=True)
    curves = curve_coefficients(rows).set_index("system")
    assert not curves.loc["AL-NI", "swapped"] and curves.loc["CU-MG", "swapped"]
    assert (curves.loc["CU-MG", "P"], curves.loc["CU-MG", "Q"]) == ("MG", "CU")
    np.testing.assert_allclose(curves.loc["AL-NI", ["c0", "c1", "c2"]].to_numpy(float), L, rtol=1e-8)
    np.testing.assert_allclose(curves.loc["CU-MG", ["c0", "c1", "c2"]].to_numpy(float), [L[0], -L[1], L[2]],
                               rtol=1e-8)


def test_aimd_point_fixes_c0_only_and_weights_count_curves():
    rows = pd.concat([sorted_curve("AL-NI", [-40000.0, 0, 0]), sorted_curve("AL-NI", [-30000.0, 0, 0], source="t"),
                      sorted_curve("IR-W", [-20000.0, 0, 0], x=np.array([0.5]), kind="aimd", T_K=3700.0)],
                     ignore_index=True)
    curves = curve_coefficients(rows).set_index(["system", "source"])
    assert curves.loc[("IR-W", "s"), "order"] == 0
    assert curves.loc[("IR-W", "s"), "c0"] == pytest.approx(-20000.0)
    assert curves.loc[("AL-NI", "s"), "weight"] == 0.5 and curves.loc[("IR-W", "s"), "weight"] == 1.0
    index = curve_index(rows)
    assert index.max() == 2 and len(set(index[:9])) == 1


def test_oriented_points():
    frame = oriented_points(pd.DataFrame({"system": ["CU-MG"], "x_B": [0.2]}))
    assert frame["t"].iloc[0] == pytest.approx(0.2 - 0.8)  # x_MG − x_CU
    assert frame["xx"].iloc[0] == pytest.approx(0.16)
