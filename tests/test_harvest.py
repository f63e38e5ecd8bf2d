"""Tests of mixcalphad.data.harvest: ΔH_mix of binary liquids read from TDB files."""
import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

from mixcalphad.errors import TDBError
from mixcalphad.data.harvest import (COLUMNS, DEFAULT_X, CorpusHarvest, HarvestResult, default_corpus_paths,
                                harvest_corpus, harvest_tdb)

DATA = Path(__file__).parent / "data"
RK = DATA / "harvest_rk.tdb"
X = np.array(DEFAULT_X)

HEADER = """ELEMENT VA VACUUM 0 0 0 !
ELEMENT AL FCC_A1 26.982 4577.3 28.322 !
ELEMENT CU FCC_A1 63.546 5004.1 33.15 !
PHASE LIQUID % 1 1.0 !
CONSTITUENT LIQUID :AL,CU: !
PARAMETER G(LIQUID,AL;0) 298.15 +11005.0-11.8*T; 6000 N !
"""
UNARY_CU = "PARAMETER G(LIQUID,CU;0) 298.15 +12964.7-9.51*T; 6000 N !\n"


def rk(x_b, *terms):
    """Closed-form Redlich–Kister excess x_A x_B Σ L_n (x_A − x_B)^n, J/mol."""
    x_a = 1 - x_b
    return x_a * x_b * sum(L * (x_a - x_b) ** n for n, L in enumerate(terms))


def write(tmp_path, name, body):
    path = tmp_path / name
    path.write_text(HEADER + body)
    return path


def curve(result, system, T=1873.0):
    rows = result.observations
    rows = rows[(rows["system"] == system) & (rows["T_K"] == T)].sort_values("x_B")
    return rows["x_B"].to_numpy(), rows["HM_MIX_J"].to_numpy()


def test_rk_closed_form_and_sorted_order():
    result = harvest_tdb(RK)
    assert isinstance(result, HarvestResult)
    assert result.systems == ["AL-CU", "AL-ZN", "CU-ZN"]  # ternary ignored, ideal pairs not data
    assert result.skipped == []
    x, hm = curve(result, "AL-CU")
    np.testing.assert_allclose(x, X)
    np.testing.assert_allclose(hm, rk(X, -40000), rtol=0, atol=1e-8)
    assert hm[4] == pytest.approx(-10000.0, abs=1e-8)
    # H_ex of -30000 + 5T is -30000; odd and even terms fix the orientation of x_B
    np.testing.assert_allclose(curve(result, "AL-ZN")[1], rk(X, -30000, 6000, -3000), rtol=0, atol=1e-8)
    # written L(LIQUID,ZN,CU;1): pycalphad reads it for the sorted pair CU-ZN, x_B = x_ZN
    np.testing.assert_allclose(curve(result, "CU-ZN")[1], rk(X, -20000, 8000), rtol=0, atol=1e-8)


def test_matches_pycalphad_calculate():
    from pycalphad import Database, calculate

    x, hm = curve(harvest_tdb(RK), "CU-ZN")
    ref = calculate(Database(str(RK)), ["CU", "ZN"], "LIQUID", T=1873, P=101325, N=1, output="HM_MIX",
                    points=np.column_stack([1 - x, x]))
    np.testing.assert_allclose(hm, np.squeeze(ref.HM_MIX.values), rtol=0, atol=1e-8)


def test_columns_and_provenance():
    obs = harvest_tdb(RK).observations
    assert tuple(obs.columns) == COLUMNS
    assert len(obs) == 3 * len(X)
    assert obs["sigma_J"].isna().all() and (obs["kind"] == "assessed").all()
    assert (obs["source"] == "harvest_rk.tdb").all() and (obs["T_K"] == 1873.0).all()
    sha = hashlib.sha256(RK.read_bytes()).hexdigest()
    assert set(obs["reference"]) == {f"{RK.resolve()} sha256:{sha[:12]}"}
    assert set(obs["checksum"]) == {f"sha256:{sha}"}


def test_old_style_g_equals_l(tmp_path):
    terms = "PARAMETER {t}(LIQUID,AL,CU;0) 298.15 -40000+3*T; 6000 N !\n" \
            "PARAMETER {t}(LIQUID,AL,CU;1) 298.15 +7000; 6000 N !\n"
    with_l = harvest_tdb(write(tmp_path, "l.tdb", UNARY_CU + terms.format(t="L")))
    with_g = harvest_tdb(write(tmp_path, "g.tdb", UNARY_CU + terms.format(t="G")))
    np.testing.assert_array_equal(with_l.observations["HM_MIX_J"], with_g.observations["HM_MIX_J"])
    np.testing.assert_allclose(curve(with_g, "AL-CU")[1], rk(X, -40000, 7000), rtol=0, atol=1e-8)


def test_temperature_dependent_parameter(tmp_path):
    a, b, c = -30000.0, 12.0, -2.5
    path = write(tmp_path, "t.tdb", UNARY_CU + f"PARAMETER L(LIQUID,AL,CU;0) 298.15 {a}+{b}*T{c}*T*LN(T); 6000 N !\n")
    result = harvest_tdb(path, T=[1000.0, 1873.0], x=[0.25, 0.5])
    assert len(result.observations) == 4
    for T in (1000.0, 1873.0):
        x, hm = curve(result, "AL-CU", T)
        np.testing.assert_allclose(hm, (a - c * T) * x * (1 - x), rtol=1e-12)


def excess(result, system, T=1873.0):
    rows = result.observations
    rows = rows[(rows["system"] == system) & (rows["T_K"] == T)].sort_values("x_B")
    return rows["x_B"].to_numpy(), rows["GE_J"].to_numpy(), rows["SE_J"].to_numpy()


def test_excess_gibbs_energy_and_entropy_of_a_linear_l0(tmp_path):
    """L0 = a + bT: G_ex = x_A x_B (a + bT), S_ex = −b x_A x_B, at every T and x (pure ends 0)."""
    a, b = -30000.0, 8.0
    path = write(tmp_path, "lin.tdb", UNARY_CU + f"PARAMETER L(LIQUID,AL,CU;0) 298.15 {a}+{b}*T; 6000 N !\n")
    result = harvest_tdb(path, T=[1000.0, 1873.0], x=[0.0, 0.1, 0.25, 0.5, 0.9, 1.0])
    for T in (1000.0, 1873.0):
        x, ge, se = excess(result, "AL-CU", T)
        np.testing.assert_allclose(ge, x * (1 - x) * (a + b * T), rtol=0, atol=1e-8)
        np.testing.assert_allclose(se, -b * x * (1 - x), rtol=0, atol=1e-11)
        assert ge[0] == ge[-1] == se[0] == se[-1] == 0.0
        np.testing.assert_allclose(curve(result, "AL-CU", T)[1], ge + T * se, rtol=0, atol=1e-8)


def test_excess_entropy_of_a_t_ln_t_term(tmp_path):
    """L0 = a + bT + cT ln T: S_ex = −(b + c(1 + ln T)) x_A x_B, G_ex = (a + bT + cT ln T) x_A x_B."""
    a, b, c = -30000.0, 12.0, -2.5
    path = write(tmp_path, "t.tdb", UNARY_CU + f"PARAMETER L(LIQUID,AL,CU;0) 298.15 {a}+{b}*T{c}*T*LN(T); 6000 N !\n")
    result = harvest_tdb(path, T=[1000.0, 1873.0], x=[0.25, 0.5])
    for T in (1000.0, 1873.0):
        x, ge, se = excess(result, "AL-CU", T)
        np.testing.assert_allclose(ge, (a + b * T + c * T * np.log(T)) * x * (1 - x), rtol=1e-12)
        np.testing.assert_allclose(se, -(b + c * (1 + np.log(T))) * x * (1 - x), rtol=1e-10)


def test_excess_entropy_of_the_rk_fixture():
    result = harvest_tdb(RK)
    x, ge, se = excess(result, "AL-ZN")  # L0 = -30000 + 5T: S_ex = -5 x_A x_B
    np.testing.assert_allclose(se, -5.0 * X * (1 - X), rtol=0, atol=1e-11)
    np.testing.assert_allclose(ge, rk(X, -30000 + 5 * 1873.0, 6000, -3000), rtol=0, atol=1e-8)
    assert np.all(np.abs(excess(result, "CU-ZN")[2]) < 1e-12)  # no T terms: S_ex = 0


def test_excess_gibbs_energy_matches_pycalphad_gm_mix():
    from pycalphad import Database, calculate

    x, ge, _ = excess(harvest_tdb(RK), "AL-ZN")
    ref = calculate(Database(str(RK)), ["AL", "ZN"], "LIQUID", T=1873, P=101325, N=1, output="GM_MIX",
                    points=np.column_stack([1 - x, x]))
    ideal = 8.3145 * 1873 * (x * np.log(x) + (1 - x) * np.log(1 - x))
    np.testing.assert_allclose(ge, np.squeeze(ref.GM_MIX.values) - ideal, rtol=0, atol=1e-6)


@pytest.mark.parametrize("name, reason", [
    ("harvest_ionic.tdb", "2 sublattices"),
    ("harvest_associate.tdb", "associates or molecular species (ALO)"),
])
def test_unusable_liquids_are_skipped(name, reason):
    result = harvest_tdb(DATA / name)
    assert result.observations.empty and tuple(result.observations.columns) == COLUMNS
    assert len(result.skipped) == 1
    what, why = result.skipped[0]
    assert what == "LIQUID" and reason in why


@pytest.mark.parametrize("body, reason", [
    ("PARAMETER L(LIQUID,AL,CU;0) 298.15 -40000; 6000 N !\n", "unary G(LIQUID,CU;0) is missing"),
    (UNARY_CU + "PARAMETER L(LIQUID,AL,CU;0) 298.15 -40000; 1000 N !\n", "outside the temperature range"),
    (UNARY_CU + "PARAMETER L(LIQUID,AL,CU;0) 298.15 +VNOWHERE#; 6000 N !\n", "undefined symbols"),
])
def test_unusable_binaries_are_skipped(tmp_path, body, reason):
    result = harvest_tdb(write(tmp_path, "bad.tdb", body))
    assert result.observations.empty
    assert [what for what, _ in result.skipped] == ["LIQUID AL-CU"]
    assert reason in result.skipped[0][1]


def test_no_liquid_and_no_interaction(tmp_path):
    no_liquid = tmp_path / "solid.tdb"
    no_liquid.write_text(HEADER.replace("LIQUID", "FCC_A1"))
    assert harvest_tdb(no_liquid).skipped == [("LIQUID", "no liquid phase")]
    ideal = harvest_tdb(write(tmp_path, "ideal.tdb", UNARY_CU))
    assert ideal.observations.empty and ideal.skipped == [("LIQUID", "no binary interaction parameter")]


def test_malformed_file_raises_naming_it():
    bad = DATA / "harvest_malformed.tdb"
    with pytest.raises(TDBError, match="harvest_malformed.tdb: pycalphad cannot parse it: invalid TDB syntax at line"):
        harvest_tdb(bad)
    with pytest.raises(TDBError, match="nowhere.tdb"):
        harvest_tdb(DATA / "nowhere.tdb")


def test_corpus_goes_on_after_a_failure():
    corpus = harvest_corpus([DATA / "harvest_malformed.tdb", RK], progress=False)
    assert isinstance(corpus, CorpusHarvest)
    assert corpus.files_read == [RK.resolve()]
    assert [p.name for p, _ in corpus.failed] == ["harvest_malformed.tdb"]
    assert "invalid TDB syntax at line 5, column 33" in corpus.failed[0][1]
    assert corpus.systems == ["AL-CU", "AL-ZN", "CU-ZN"]


def test_corpus_folder_duplicates_and_distinct_assessments(tmp_path):
    shutil.copy(RK, tmp_path / "a.tdb")
    shutil.copy(RK, tmp_path / "b.TDB")
    write(tmp_path, "c.tdb", UNARY_CU + "PARAMETER L(LIQUID,AL,CU;0) 298.15 -30000; 6000 N !\n")
    (tmp_path / "notes.txt").write_text("not a TDB")
    corpus = harvest_corpus(tmp_path, progress=False)
    assert [p.name for p in corpus.files_read] == ["a.tdb", "b.TDB", "c.tdb"]
    assert sorted((d.system, d.dropped.name, d.kept.name) for d in corpus.duplicates) == [
        ("AL-CU", "b.TDB", "a.tdb"), ("AL-ZN", "b.TDB", "a.tdb"), ("CU-ZN", "b.TDB", "a.tdb")]
    obs = corpus.observations
    assert tuple(obs.columns) == COLUMNS
    assert obs.groupby("system")["source"].unique().map(sorted).to_dict() == {
        "AL-CU": ["a.tdb", "c.tdb"], "AL-ZN": ["a.tdb"], "CU-ZN": ["a.tdb"]}
    assert len(obs) == 4 * len(X)


def test_one_enthalpy_with_two_excess_entropies_is_two_assessments(tmp_path):
    write(tmp_path, "a.tdb", UNARY_CU + "PARAMETER L(LIQUID,AL,CU;0) 298.15 -30000; 6000 N !\n")
    write(tmp_path, "b.tdb", UNARY_CU + "PARAMETER L(LIQUID,AL,CU;0) 298.15 -30000+4*T; 6000 N !\n")
    corpus = harvest_corpus(tmp_path, progress=False)
    assert corpus.duplicates == []
    obs = corpus.observations
    assert obs.groupby("source")["HM_MIX_J"].apply(list).map(np.array).pipe(
        lambda c: np.allclose(c["a.tdb"], c["b.tdb"]))
    assert obs.groupby("source")["SE_J"].apply(lambda s: s.abs().max()).to_dict() == pytest.approx(
        {"a.tdb": 0.0, "b.tdb": 1.0})


def test_corpus_reads_subfolders(tmp_path):
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    shutil.copy(RK, tmp_path / "sub" / "deeper" / "rk.tdb")
    write(tmp_path, "top.tdb", UNARY_CU + "PARAMETER L(LIQUID,AL,CU;0) 298.15 -30000; 6000 N !\n")
    corpus = harvest_corpus(tmp_path, progress=False)
    assert [p.name for p in corpus.files_read] == ["rk.tdb", "top.tdb"]


def test_same_name_different_content_are_two_sources(tmp_path):
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    write(tmp_path / "one", "db.tdb", UNARY_CU + "PARAMETER L(LIQUID,AL,CU;0) 298.15 -30000; 6000 N !\n")
    write(tmp_path / "two", "db.tdb", UNARY_CU + "PARAMETER L(LIQUID,AL,CU;0) 298.15 -10000; 6000 N !\n")
    obs = harvest_corpus(tmp_path, progress=False).observations
    assert set(obs["source"]) == {"db.tdb"} and obs["checksum"].nunique() == 2
    assert len(obs) == 2 * len(X)


def test_binary_file_is_refused_without_garbage(tmp_path):
    junk = tmp_path / "junk.tdb"
    junk.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(TDBError, match="junk.tdb: not a TDB text file") as info:
        harvest_tdb(junk)
    assert str(info.value).isprintable()
    latin = tmp_path / "latin.tdb"
    latin.write_bytes(b"ELEMENT AL FCC_A1 26.98 0 0 !\nPHASE LIQUID % 1 1 !\n\xe9\xff\x1b[31m garbage \x07 ( !\n")
    with pytest.raises(TDBError, match="latin.tdb: pycalphad cannot parse it") as info:
        harvest_tdb(latin)
    assert str(info.value).isprintable() and len(str(info.value)) < 400


def test_corpus_path_errors(tmp_path):
    with pytest.raises(TDBError, match="missing"):
        harvest_corpus([RK, tmp_path / "missing"])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(TDBError, match="no TDB files in .*empty"):
        harvest_corpus(empty)
    assert harvest_corpus([empty, RK], progress=False).files_read == [RK.resolve()]


def test_grid_is_validated():
    with pytest.raises(ValueError, match="mole fractions"):
        harvest_tdb(RK, x=[0.5, 1.5])
    with pytest.raises(ValueError, match="temperatures"):
        harvest_tdb(RK, T=-5)


def test_default_corpus():
    """The TDB files installed with pycalphad (~25 s on 2 cores)."""
    paths = default_corpus_paths()
    assert len(paths) >= 30 and all(p.suffix == ".tdb" for p in paths)
    corpus = harvest_corpus(paths, progress=False)
    assert not corpus.failed
    assert len(corpus.systems) >= 90
    obs = corpus.observations
    assert obs["reference"].str.match(r"pycalphad \S+: tests/databases/\S+\.tdb sha256:[0-9a-f]{12}").all()
    assert not obs.duplicated(["system", "source", "x_B", "T_K"]).any()
    assert all(d.dropped != d.kept for d in corpus.duplicates)
    # cumg.tdb's Cu-Mg liquid is COST507's up to coefficient rounding: one assessment, kept once
    assert {(d.system, d.dropped.name, d.kept.name) for d in corpus.duplicates} >= {
        ("CU-MG", "cumg.tdb", "COST507.tdb")}
    cumg = obs[(obs["source"] == "COST507.tdb") & (obs["system"] == "CU-MG") & (obs["x_B"] == 0.5)]["HM_MIX_J"]
    assert cumg.item() == pytest.approx(0.25 * -36984.0, abs=10)  # cumg: L0 = -36984 + 4.75612 T
