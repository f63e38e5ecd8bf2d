"""Clustering of binaries: K by elbow + silhouette, Gaussian-mixture comparison, summaries."""
import numpy as np
import pandas as pd
import pytest

from mixcalphad.acquisition.clustering import cluster_features, cluster_summary
from mixcalphad.errors import AcquisitionError


@pytest.mark.parametrize("k_true", [3, 4, 6])
def test_k_from_elbow_and_silhouette_on_blobs(k_true):
    from sklearn.datasets import make_blobs

    X, truth = make_blobs(n_samples=60 * k_true, centers=k_true, n_features=10, cluster_std=1.0,
                          center_box=(-15, 15), random_state=3)
    result = cluster_features(X, random_state=0)
    assert result.k == k_true and result.k_silhouette == k_true
    assert result.scores["k"].tolist() == list(range(2, 11))
    assert result.gmm_ari > 0.9
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(truth, result.labels) > 0.95
    sizes = np.bincount(result.labels)
    assert np.all(np.diff(sizes) <= 0)  # numbered by decreasing size
    assert set(result.to_dict()) >= {"k", "k_elbow", "k_silhouette", "gmm_ari", "scores"}


def test_clustering_given_k_and_too_few():
    X = np.random.default_rng(0).normal(size=(20, 3))
    assert cluster_features(X, n_clusters=3).k == 3
    with pytest.raises(AcquisitionError, match="too few"):
        cluster_features(X[:2])
    with pytest.raises(AcquisitionError, match="n_clusters"):
        cluster_features(X, n_clusters="many")


def test_cluster_summary_names_families():
    binaries = pd.DataFrame({"system": ["CS-K", "K-RB", "CS-RB", "IR-W", "OS-W", "IR-OS"],
                             "cluster": [0, 0, 0, 1, 1, 1], "excluded": ["x", "x", "", "", "", ""],
                             "n_observations": [0, 0, 0, 9, 0, 0], "selected": [False, False, True, False, True, False],
                             "model_sigma_J": [30e3, 20e3, 25e3, 5e3, 8e3, 6e3]})
    summary = cluster_summary(binaries).set_index("cluster")
    assert summary.at[0, "candidates"] == 1 and summary.at[1, "observed"] == 1
    assert summary.at[0, "highest"] == "CS-K" and summary.at[0, "max_sigma_J"] == 30e3
    assert set(summary.at[0, "top_elements"].split()) == {"CS", "K", "RB"} and summary.at[0, "groups"] == "1-1"
