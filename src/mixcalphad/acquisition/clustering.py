"""Families of binaries: K-means on equimolar feature vectors, K by elbow + silhouette, GMM check.

The paper clusters the binaries of its element set by K-means on the standardized equimolar feature
vectors (K = 6 by elbow and silhouette) and compares with a Gaussian mixture (adjusted Rand index
0.43). Every ranked binary carries its cluster, so a plan says *which family* is uncertain, and the
retrospective benchmark leaves one cluster out to test whether a strategy fills empty families.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from mixcalphad.acquisition._util import split_systems
from mixcalphad.chem.binaries import parse_system
from mixcalphad.errors import AcquisitionError

log = logging.getLogger(__name__)

#: Candidate numbers of clusters for the automatic choice.
DEFAULT_K_RANGE = tuple(range(2, 11))


@dataclass(frozen=True)
class Clustering:
    """K-means clusters of feature vectors, the choice of K and a Gaussian-mixture comparison.

    Attributes
    ----------
    labels : ndarray of int
        Cluster of each row, numbered by decreasing cluster size (0 = largest).
    k : int
        The number of clusters used.
    k_elbow : int
        The elbow of the inertia curve (largest distance below the chord, K from 1 to the largest).
    k_silhouette : int
        The K of highest silhouette score.
    method : str
        ``"elbow+silhouette"`` (the highest silhouette within ±1 of the elbow) or ``"given"``.
    scores : DataFrame
        ``k``, ``inertia`` (sum of squared distances, standardized units) and ``silhouette``.
    gmm_labels : ndarray of int
        Labels of a full-covariance Gaussian mixture with the same K.
    gmm_ari : float
        Adjusted Rand index between the K-means and the mixture labels (1 = same partition).
    systems : tuple of str
        The binary of each row, when clustered from systems.
    """

    labels: np.ndarray
    k: int
    k_elbow: int
    k_silhouette: int
    method: str
    scores: pd.DataFrame
    gmm_labels: np.ndarray
    gmm_ari: float
    systems: tuple = field(default_factory=tuple)

    def to_dict(self) -> dict:
        """JSON-ready summary (scores per K; labels per system when known)."""
        out = {"k": self.k, "k_elbow": self.k_elbow, "k_silhouette": self.k_silhouette, "method": self.method,
               "gmm_ari": self.gmm_ari, "scores": self.scores.to_dict("records"),
               "sizes": np.bincount(self.labels, minlength=self.k).tolist()}
        if self.systems:
            out["labels"] = dict(zip(self.systems, self.labels.tolist()))
        return out

    def to_dataframe(self) -> pd.DataFrame:
        """One row per clustered item: ``system`` (if known), ``cluster``, ``gmm_cluster``."""
        frame = pd.DataFrame({"cluster": self.labels, "gmm_cluster": self.gmm_labels})
        if self.systems:
            frame.insert(0, "system", list(self.systems))
        return frame


def _elbow(ks: np.ndarray, inertia: np.ndarray) -> int:
    """Kneedle: the K farthest below the chord of the normalized, decreasing inertia curve."""
    x = (ks - ks[0]) / (ks[-1] - ks[0])
    span = inertia[0] - inertia[-1]
    y = (inertia - inertia[-1]) / span if span > 0 else np.zeros_like(inertia)
    return int(ks[int(np.argmax((1.0 - x) - y))])


def _relabel_by_size(labels: np.ndarray) -> np.ndarray:
    sizes = np.bincount(labels)
    order = np.argsort(-sizes, kind="stable")
    new = np.empty_like(order)
    new[order] = np.arange(len(order))
    return new[labels]


def cluster_features(X: np.ndarray, n_clusters: int | str = "auto",
                     k_range: Sequence[int] = DEFAULT_K_RANGE, *, systems: Sequence[str] = (),
                     random_state: int = 0) -> Clustering:
    """K-means on standardized feature vectors, K by elbow + silhouette, vs a Gaussian mixture.

    Parameters
    ----------
    X : array (n, d)
        Feature vectors (standardized here, column by column).
    n_clusters : int or "auto"
        K, or ``"auto"``: the elbow of the inertia curve over ``k_range`` (with K = 1 added), then the
        K of highest silhouette within ±1 of it.
    k_range : sequence of int
        Candidate K for ``"auto"``; values ≥ n are dropped.
    systems : sequence of str
        Row names, kept in the result.

    Raises
    ------
    AcquisitionError
        Too few rows to cluster (at least 3, and more than K), or a bad K.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> X, _ = make_blobs(240, centers=4, n_features=10, center_box=(-15, 15), random_state=3)
    >>> cluster_features(X, random_state=0).k
    4
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score, silhouette_score
    from sklearn.mixture import GaussianMixture

    X = np.asarray(X, dtype=float)
    n = len(X)
    if n < 3:
        raise AcquisitionError(f"{n} binaries are too few to cluster; give at least 3 elements (3 binaries)")
    scale = X.std(axis=0)
    Xs = (X - X.mean(axis=0)) / np.where(scale > 0, scale, 1.0)
    n_distinct = len(np.unique(np.round(Xs, 12), axis=0))

    def kmeans(k):
        return KMeans(n_clusters=k, n_init=10, random_state=random_state).fit(Xs)

    if n_clusters == "auto":
        ks = sorted({int(k) for k in k_range if 2 <= int(k) < min(n, n_distinct)})
        if not ks:
            raise AcquisitionError(f"{n} binaries ({n_distinct} distinct feature vectors) are too few to "
                                   f"choose K from {list(k_range)}; give more elements or a fixed n_clusters")
        fits = {k: kmeans(k) for k in ks}
        inertia = {k: float(f.inertia_) for k, f in fits.items()}
        silhouette = {k: float(silhouette_score(Xs, f.labels_)) for k, f in fits.items()}
        curve_k = np.array([1, *ks], dtype=float)
        curve_i = np.array([float(np.sum((Xs - Xs.mean(axis=0))**2)), *(inertia[k] for k in ks)])
        k_elbow = _elbow(curve_k, curve_i) if len(ks) >= 2 else ks[0]
        k_elbow = max(k_elbow, ks[0])
        k_sil = max(ks, key=lambda k: silhouette[k])
        near = [k for k in ks if abs(k - k_elbow) <= 1]
        k = max(near, key=lambda k: silhouette[k])
        method = "elbow+silhouette"
        model = fits[k]
        scores = pd.DataFrame({"k": ks, "inertia": [inertia[k] for k in ks],
                               "silhouette": [silhouette[k] for k in ks]})
    else:
        try:
            k = int(n_clusters)
        except (TypeError, ValueError):
            raise AcquisitionError(f"n_clusters must be a positive integer or 'auto', got {n_clusters!r}") from None
        if k < 1:
            raise AcquisitionError(f"n_clusters must be at least 1, got {k}")
        if k >= n or k > n_distinct:
            raise AcquisitionError(f"{n} binaries ({n_distinct} distinct) are too few for {k} clusters")
        model = kmeans(k)
        sil = float(silhouette_score(Xs, model.labels_)) if 1 < k < n else float("nan")
        scores = pd.DataFrame({"k": [k], "inertia": [float(model.inertia_)], "silhouette": [sil]})
        k_elbow = k_sil = k
        method = "given"
    labels = _relabel_by_size(model.labels_)
    gmm = GaussianMixture(n_components=k, covariance_type="full", reg_covar=1e-4, n_init=3,
                          random_state=random_state).fit(Xs)
    gmm_labels = _relabel_by_size(gmm.predict(Xs))
    ari = float(adjusted_rand_score(labels, gmm_labels))
    log.info("clustering: K = %d (%s; elbow %d, best silhouette %d), GMM adjusted Rand index %.2f",
             k, method, k_elbow, k_sil, ari)
    return Clustering(labels=labels, k=int(k), k_elbow=int(k_elbow), k_silhouette=int(k_sil), method=method,
                      scores=scores, gmm_labels=gmm_labels, gmm_ari=ari, systems=tuple(systems))


def equimolar_features(systems: Sequence[str], features: str | Sequence[str] = "paper10") -> np.ndarray:
    """Feature vectors of binaries at x = 0.5 (rows in the order of ``systems``)."""
    from mixcalphad.model.features import BinaryFeaturizer

    a, b = split_systems(systems)
    return BinaryFeaturizer(features).transform_pairs(a, b, np.full(len(systems), 0.5))


def cluster_binaries(systems: Sequence[str], n_clusters: int | str = "auto",
                     k_range: Sequence[int] = DEFAULT_K_RANGE, *, features: str | Sequence[str] = "paper10",
                     random_state: int = 0) -> Clustering:
    """:func:`cluster_features` of the equimolar feature vectors of binaries (the paper's K-means)."""
    systems = list(systems)
    return cluster_features(equimolar_features(systems, features), n_clusters, k_range, systems=systems,
                            random_state=random_state)


def cluster_summary(binaries: pd.DataFrame, top: int = 4, score: str = "model_sigma_J") -> pd.DataFrame:
    """Per cluster: size, candidates, observed and selected binaries, mean and max σ, typical elements.

    ``score`` names the column summarised as ``mean_sigma_J``/``max_sigma_J`` (J/mol; default the
    refitted model's σ at x = 0.5); ``highest`` is the binary of the cluster with the largest one.
    ``top_elements`` are the elements whose binaries fall most often in the cluster (share of the
    element's binaries that are in it), which names the family; ``groups`` is the median of the lower
    and of the higher periodic-table group of the cluster's pairs (``"1-13"``: alkali with group 13).
    """
    from mixcalphad.chem.elements import element_property

    elements = sorted({el for s in binaries["system"] for el in parse_system(s)})
    group = dict(zip(elements, element_property(elements, "group")))
    pairs = [parse_system(s) for s in binaries["system"]]
    low = np.array([min(group[a], group[b]) for a, b in pairs])
    high = np.array([max(group[a], group[b]) for a, b in pairs])
    all_counts = pd.Series([el for p in pairs for el in p]).value_counts()
    rows = []
    for k, sub in binaries.groupby("cluster"):
        counts = pd.Series([el for s in sub["system"] for el in parse_system(s)]).value_counts()
        share = (counts / all_counts[counts.index])[counts >= min(2, len(sub))]
        share = share.sort_values(ascending=False, kind="stable")
        best = sub.sort_values(score, ascending=False, kind="stable")
        members = (binaries["cluster"] == k).to_numpy()
        rows.append({
            "cluster": int(k), "binaries": int(len(sub)),
            "candidates": int((sub["excluded"] == "").sum()),
            "observed": int((sub["n_observations"] > 0).sum()),
            "selected": int(sub["selected"].sum()),
            "mean_sigma_J": float(sub[score].mean()), "max_sigma_J": float(sub[score].max()),
            "groups": f"{np.median(low[members]):g}-{np.median(high[members]):g}",
            "top_elements": " ".join(share.index[:top]),
            "highest": best["system"].iloc[0],
        })
    return pd.DataFrame(rows)
