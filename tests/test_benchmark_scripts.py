"""The helpers of benchmark scripts whose numbers benchmarks/README.md quotes."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmark_helpers import ROOT, load_script
from mixcalphad.calphad.provenance import BinaryRecord, Provenance
from mixcalphad.errors import TDBError
from mixcalphad.model.learners import CoefficientGP


@pytest.fixture(scope="module")
def variants():
    return load_script("benchmarks/predictor_variants.py")


@pytest.fixture(scope="module")
def gap_scan():
    return load_script("benchmarks/gap_scan.py")


def test_v1_corpus_leaves_out_every_table_added_after_v1(variants):
    observations = pd.DataFrame({"collection": ["pycalphad-tdbs", "assessed-extra", "assessed-extra2",
                                                "assessed-extra3", "bizot2026"]})
    kept = variants.v1_corpus(observations)["collection"].tolist()
    assert kept == ["pycalphad-tdbs", "assessed-extra", "bizot2026"]


def test_proximity_is_high_at_the_training_systems_and_vanishes_far_from_them(variants):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1.0, 1.0, (40, 2))
    C = np.column_stack([10000.0 * np.sin(2 * X[:, 0]) + 200.0 * rng.standard_normal(40), 3000.0 * X[:, 1]])
    gp = CoefficientGP([0, 1], 2).fit(X, C, np.array([f"S{i}" for i in range(40)]))
    near, far = variants.proximity(gp, X), variants.proximity(gp, X + 1000.0)
    assert near.shape == (40, 2)
    assert np.all(near[:, 0] > 0.5)
    np.testing.assert_allclose(far, 0.0, atol=1e-6)


def _provenance_tdb(tmp_path, records):
    provenance = Provenance(mixcalphad_version="0", created="2026-12-07", model="m", temperature_model="enthalpy",
                            fit="f", binaries=tuple(records))
    path = tmp_path / "fits.tdb"
    path.write_text(provenance.text() + "\n")
    return path


def test_fit_stats_counts_the_convexity_record_and_the_constraint_change(gap_scan, tmp_path):
    records = [BinaryRecord("AL-CU", "predicted", 2000.0, 2, 10.0, 19, convexity="convex"),
               BinaryRecord("AL-NI", "predicted", 1000.0, 2, 10.0, 19, convexity="constrained", constraint_rms_J=100.0),
               BinaryRecord("CU-NI", "predicted", 1000.0, 2, 10.0, 19, convexity="constrained", constraint_rms_J=300.0),
               BinaryRecord("CS-W", "predicted", 5000.0, 3, 10.0, 19, convexity="gap")]
    text = gap_scan.fit_statistics(_provenance_tdb(tmp_path, records))
    assert "| 4 | 1 | 2 | 1 | 0 |" in text
    assert "(2 binaries): median 200 J/mol, 90 % 280, max 300 (CU-NI)" in text
    assert "median 0.200, max 0.30" in text


def test_fit_stats_of_a_file_without_provenance_names_the_file(gap_scan):
    path = ROOT / "tests" / "data" / "tdb_no_liquid.tdb"
    with pytest.raises(TDBError, match="tdb_no_liquid.tdb: no mixcalphad provenance"):
        gap_scan.fit_statistics(path)
