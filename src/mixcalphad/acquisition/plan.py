"""Active learning: which binary liquids most need new ΔH_mix data, in which family, and at what T.

Recipe (Bizot, Tamura, Deffrennes 2026)
---------------------------------------
1. A Gaussian process (PHYSBO: Gaussian likelihood, constant mean, Gaussian kernel) on the ten
   active-learning features (:data:`mixcalphad.model.features.PAPER10`), features and target standardized,
   trained on the current observations (:class:`VarianceGP`).
2. For every binary of an element set, the score is the **largest predictive standard deviation of
   the latent function over a composition grid** (J/mol; ranking by σ or by variance is the same).
3. K-means on the standardized equimolar feature vectors, K by elbow + silhouette, compared with a
   Gaussian mixture by the adjusted Rand index (:func:`cluster_features`); every ranked binary carries
   its cluster, so the plan says *which family* of liquids is uncertain.
4. The plan (:func:`rank_binaries`): exclusions (carbon liquids by default — a liquid only under high
   pressure, where pV is not negligible —, systems flagged immiscible, user lists), an optional cap of
   picks per element, Miedema and model ΔH_mix with σ at x = 0.5 and the AIMD run temperature.

Batches
-------
Independent top-n picks from a max-variance ranking tend to be near-duplicates (ten partners of one
refractory element). ``batch="conditional"`` (default) picks greedily and, after each pick, conditions
the GP on fantasized observations of the picked binary over the whole grid: the posterior variance
does not depend on the observed values, so this is exact for the variance. The next pick is the binary
whose *conditional* maximum σ is largest (lazy greedy: conditioning only lowers variances).
``batch="independent"`` is the paper's plain ranking.

Speed
-----
PHYSBO's defaults (500 Adam epochs, 20 random restarts) are slow; :class:`VarianceGP` uses 100 epochs
and 5 restarts (the reference's settings) and — the larger gain — runs the training with BLAS limited
to one thread: the 64-point mini-batch matrices are so small that multi-threaded OpenBLAS spends most
of its time synchronising (112 s → 15 s for 1991 points on 2 cores).

Example
-------
>>> plan = rank_binaries(observations, n=20, per_element=2)          # doctest: +SKIP
>>> plan.plan[["rank", "system", "score_J", "cluster", "T_aimd_K"]]  # doctest: +SKIP
>>> plan.record(Store("store.json"))                                 # doctest: +SKIP
"""
from __future__ import annotations

import contextlib
import hashlib
import heapq
import itertools
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
import scipy.linalg
from sklearn.base import BaseEstimator
from tqdm.auto import tqdm

from mixcalphad.chem.binaries import normalize_symbol, parse_system, system_name
from mixcalphad.errors import MixcalphadError, UnknownElementError

log = logging.getLogger(__name__)

#: Composition grid (mole fraction of the second element of the sorted pair) of the score.
DEFAULT_GRID = tuple(np.round(np.arange(1, 10) / 10, 10))
#: Elements left out of the plan by default: carbon liquids exist only under high pressure.
DEFAULT_EXCLUDE = ("C",)
#: Store flags that take a system out of the plan.
DEFAULT_SKIP_FLAGS = ("immiscible",)
#: Candidate numbers of clusters for the automatic choice.
DEFAULT_K_RANGE = tuple(range(2, 11))
#: Store table that keeps selections.
SELECTIONS_TABLE = "selections"
#: Candidate grid points scored per chunk (bounds memory: chunk × training points doubles).
_CHUNK = 4000


class AcquisitionError(MixcalphadError, ValueError):
    """Bad input to the acquisition: too few elements or binaries, n larger than the pool, …"""


# ---------------------------------------------------------------------------------------------------
# helpers


@contextlib.contextmanager
def _numpy_global_seed(seed: int):
    """PHYSBO draws from numpy's global generator: seed it for the block, then restore it."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def _one_blas_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def resolve_elements(elements: Iterable[str] | None = None) -> list[str]:
    """Sorted, validated element symbols (default: every supported element).

    Raises
    ------
    UnknownElementError
        A symbol the element table does not know.
    AcquisitionError
        A known element without the properties the features and Miedema's model need.
    """
    from mixcalphad.chem.elements import element_table, supported_elements

    supported = supported_elements()
    if elements is None:
        return list(supported)
    table = element_table()
    out = sorted({normalize_symbol(e) for e in elements})
    for el in out:
        if el not in table.index:
            raise UnknownElementError(el, supported)
        if el not in supported:
            raise AcquisitionError(f"element {el} lacks fusion data or Miedema parameters needed for the "
                                   f"features; supported elements: {', '.join(supported)}")
    return out


def _known_elements(symbols: Iterable[str]) -> list[str]:
    """Sorted symbols, each checked against the element table (support not required)."""
    from mixcalphad.chem.elements import element_table

    index = element_table().index
    out = sorted({normalize_symbol(e) for e in symbols})
    for el in out:
        if el not in index:
            raise UnknownElementError(el)
    return out


def binaries_of(elements: Sequence[str]) -> list[str]:
    """Every binary system (sorted pair name) of an element set, in sorted order."""
    return [system_name(a, b) for a, b in itertools.combinations(sorted(elements), 2)]


def _split(systems: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    pairs = [parse_system(s) for s in systems]
    return np.array([p[0] for p in pairs], dtype=object), np.array([p[1] for p in pairs], dtype=object)


def aimd_temperature_K(a: str, b: str) -> float:
    """Run temperature (K) the AIMD protocol would use for the binary A–B.

    Uses :func:`mixcalphad.aimd.protocol.run_temperature` when that module is importable, else
    :func:`_fallback_aimd_temperature_K` (the same rule: the higher SGTE melting point snapped up to
    the next multiple of 50 K, strictly above both melting points).
    """
    try:
        from mixcalphad.aimd.protocol import run_temperature
    except ImportError:
        return _fallback_aimd_temperature_K(a, b)
    return float(run_temperature(a, b).T_K)


def _fallback_aimd_temperature_K(a: str, b: str, grid_K: float = 50.0) -> float:
    """max(T_melt) snapped up to ``grid_K`` and strictly above it (K); stand-in for the protocol."""
    from mixcalphad.chem.elements import element_property

    t_melt = float(np.max(element_property([a, b], "T_melt_K", needed_by="the AIMD temperature")))
    T = np.ceil(round(t_melt / grid_K, 9)) * grid_K
    return float(T + grid_K if T <= t_melt else T)


# ---------------------------------------------------------------------------------------------------
# the Gaussian process


class VarianceGP(BaseEstimator):
    """PHYSBO Gaussian process of ΔH_mix on composition features, for its predictive σ (J/mol).

    Parameters
    ----------
    features : str or sequence of str
        Feature set (default ``"paper10"``, the paper's ten active-learning features).
    target : {"HM_MIX_J", "residual"}
        What the GP models: ΔH_mix itself (the paper) or its difference from Miedema's model, which
        is what :class:`~mixcalphad.model.HMixRegressor` learns. Only the hyperparameters depend on it.
    max_train : int
        Largest number of training points; a seeded random subsample above it bounds the time.
    max_epoch, num_init_params_search, max_epoch_init_params_search, batch_size : int
        PHYSBO's Adam settings (its defaults are 500, 20, 50, 64).
    random_state : int
        Seed of the subsample and of PHYSBO's random restarts (numpy's global generator is seeded
        for the fit and restored afterwards).

    Attributes
    ----------
    gp_ : physbo.gp.Model
        The trained, prepared PHYSBO model (standardized units).
    hyperparameters_ : dict
        ``noise_std``, ``width``, ``scale`` (standardized units) and ``mean``.
    fit_time_s_ : float
        Wall time of the hyperparameter training, s.
    n_train_, n_systems_ : int
        Training points (after subsampling) and their binary systems.
    y_mean_, y_std_ : float
        Standardization of the target, J/mol.
    training_hash_ : str
        :func:`mixcalphad.model.dataset_hash` of the usable observations.

    Examples
    --------
    >>> gp = VarianceGP(random_state=0).fit(observations)              # doctest: +SKIP
    >>> mean, std = gp.predict_pairs(["AL"], ["W"], [0.5], return_std=True)  # J/mol  # doctest: +SKIP
    """

    def __init__(self, features: str | Sequence[str] = "paper10", target: str = "HM_MIX_J",
                 max_train: int = 2000, max_epoch: int = 100, num_init_params_search: int = 5,
                 max_epoch_init_params_search: int = 50, batch_size: int = 64, random_state: int = 0):
        self.features = features
        self.target = target
        self.max_train = max_train
        self.max_epoch = max_epoch
        self.num_init_params_search = num_init_params_search
        self.max_epoch_init_params_search = max_epoch_init_params_search
        self.batch_size = batch_size
        self.random_state = random_state

    # ------------------------------------------------------------------ fitting
    def fit(self, observations: pd.DataFrame, y=None) -> "VarianceGP":
        """Train on observations (``system``, ``x_B``, ``HM_MIX_J`` in J/mol of atoms)."""
        import physbo

        from mixcalphad.model.features import BinaryFeaturizer, pairs_of, resolve_feature_set
        from mixcalphad.chem.miedema import miedema_pairs
        from mixcalphad.model.regressor import dataset_hash, training_rows

        if self.target not in ("HM_MIX_J", "residual"):
            raise AcquisitionError(f"target must be 'HM_MIX_J' or 'residual', got {self.target!r}")
        if self.max_train < 10:
            raise AcquisitionError(f"max_train must be at least 10, got {self.max_train}")
        rows = training_rows(observations)
        if len(rows) < 10 or rows["system"].nunique() < 2:
            raise AcquisitionError(f"the GP needs at least 10 usable observations of 2 systems, got "
                                   f"{len(rows)} of {rows['system'].nunique()}")
        self.features_ = list(resolve_feature_set(self.features))
        a, b, x = pairs_of(rows)
        X = BinaryFeaturizer(self.features_).transform_pairs(a, b, x)
        y = rows["HM_MIX_J"].to_numpy(float)
        if self.target == "residual":
            y = y - miedema_pairs(a, b, x)
        rng = np.random.default_rng(self.random_state)
        if len(y) > self.max_train:
            keep = np.sort(rng.choice(len(y), self.max_train, replace=False))
            log.info("GP: training on a random %d of %d points", self.max_train, len(y))
            X, y, systems = X[keep], y[keep], rows["system"].to_numpy()[keep]
        else:
            systems = rows["system"].to_numpy()
        self.x_mean_ = X.mean(axis=0)
        scale = X.std(axis=0)
        self.x_scale_ = np.where(scale > 0, scale, 1.0)
        self.y_mean_ = float(y.mean())
        self.y_std_ = float(y.std()) or 1.0
        Xs = (X - self.x_mean_) / self.x_scale_
        t = (y - self.y_mean_) / self.y_std_

        config = physbo.misc.SetConfig()
        config.learning.is_disp = False
        config.learning.max_epoch = int(self.max_epoch)
        config.learning.num_init_params_search = int(self.num_init_params_search)
        config.learning.max_epoch_init_params_search = int(self.max_epoch_init_params_search)
        config.learning.batch_size = int(self.batch_size)
        gp = physbo.gp.Model(lik=physbo.gp.lik.Gauss(), mean=physbo.gp.mean.Const(),
                             cov=physbo.gp.cov.Gauss(Xs.shape[1]))
        start = time.perf_counter()
        with _numpy_global_seed(self.random_state), _one_blas_thread():
            try:
                gp.fit(Xs, t, config)
                gp.prepare(Xs, t)
            except np.linalg.LinAlgError as exc:
                raise AcquisitionError(f"GP training failed ({exc}); try other settings or more data") from None
        self.fit_time_s_ = time.perf_counter() - start
        if not np.all(np.isfinite(gp.params)):
            raise AcquisitionError("GP training diverged (non-finite hyperparameters)")
        self.gp_, self.X_train_ = gp, Xs
        self.n_train_, self.n_systems_ = int(len(t)), int(len(set(systems)))
        self.training_hash_ = dataset_hash(rows)
        self.hyperparameters_ = {
            "noise_std": float(np.ravel(gp.lik.std)[0]),
            "width": float(np.exp(np.ravel(gp.prior.cov.params)[0])),
            "scale": float(np.exp(np.ravel(gp.prior.cov.params)[1])),
            "mean": float(np.ravel(gp.prior.mean.params)[0]) if np.size(gp.prior.mean.params) else 0.0,
        }
        log.info("GP trained on %d points of %d systems in %.1f s: %s", self.n_train_, self.n_systems_,
                 self.fit_time_s_, self.hyperparameters_)
        return self

    def _check_fitted(self):
        if not hasattr(self, "gp_"):
            raise AcquisitionError("this VarianceGP is not fitted yet: call fit()")

    def describe(self) -> dict:
        """Settings, hyperparameters, training size, time and data hash (JSON-ready)."""
        self._check_fitted()
        import physbo

        return {"model": "PHYSBO GP (Gauss likelihood, constant mean, Gauss kernel)",
                "physbo": getattr(physbo, "__version__", "?"), "features": self.features_,
                "target": self.target, "n_train": self.n_train_, "n_systems": self.n_systems_,
                "fit_time_s": round(self.fit_time_s_, 3), "y_std_J": self.y_std_,
                "hyperparameters": self.hyperparameters_, "training_hash": self.training_hash_,
                "settings": {k: v for k, v in self.get_params().items() if k != "features"}}

    # ------------------------------------------------------------------ prediction
    def _design(self, a, b, x_b) -> np.ndarray:
        from mixcalphad.model.features import BinaryFeaturizer

        X = BinaryFeaturizer(self.features_).transform_pairs(a, b, x_b)
        return (X - self.x_mean_) / self.x_scale_

    def _v(self, Z: np.ndarray) -> np.ndarray:
        """U⁻ᵀ k(X, Z): the training-data part of the posterior covariance."""
        G = self.gp_.prior.get_cov(self.X_train_, Z)
        return scipy.linalg.solve_triangular(self.gp_.stats[0].T, G, lower=True, check_finite=False)

    def _prior_cov(self, Z1: np.ndarray, Z2: np.ndarray | None = None) -> np.ndarray:
        return self.gp_.prior.get_cov(Z1, Z2)

    def predict_pairs(self, a, b, x_b, return_std: bool = False):
        """Posterior mean of the target (J/mol) for pairs (row i: a[i]–b[i] at x_b[i]), σ if asked.

        σ is the standard deviation of the latent function (no observation noise), J/mol.
        """
        self._check_fitted()
        Z = self._design(a, b, x_b)
        mean = np.empty(len(Z))
        var = np.empty(len(Z))
        with _one_blas_thread():
            for start in range(0, len(Z), _CHUNK):
                part = Z[start:start + _CHUNK]
                mean[start:start + len(part)] = self.gp_.get_post_fmean(self.X_train_, part)
                var[start:start + len(part)] = self.gp_.get_post_fcov(self.X_train_, part)
        mean = self.y_mean_ + self.y_std_ * mean
        if not return_std:
            return mean
        return mean, self.y_std_ * np.sqrt(np.clip(var, 0.0, None))

    def max_std(self, systems: Sequence[str], grid: Sequence[float] = DEFAULT_GRID,
                progress: bool | None = None, bar=None) -> pd.DataFrame:
        """Largest predictive σ (J/mol) of each binary over the composition grid.

        Returns
        -------
        DataFrame
            ``system``, ``score_J`` (max σ over the grid, J/mol) and ``x_at_max`` (x_B where it is).
        """
        self._check_fitted()
        grid = _check_grid(grid)
        systems = list(systems)
        a, b = _split(systems)
        g = len(grid)
        per_chunk = max(1, _CHUNK // g)
        score = np.empty(len(systems))
        where = np.empty(len(systems))
        starts = range(0, len(systems), per_chunk)
        own_bar = bar is None
        if own_bar:
            bar = tqdm(total=len(starts), desc="GP σ", unit="chunk", leave=False,
                       disable=None if progress is None else not progress)
        try:
            with _one_blas_thread():
                for start in starts:
                    stop = min(start + per_chunk, len(systems))
                    m = stop - start
                    Z = self._design(np.repeat(a[start:stop], g), np.repeat(b[start:stop], g), np.tile(grid, m))
                    var = self.gp_.get_post_fcov(self.X_train_, Z).reshape(m, g)
                    k = np.argmax(var, axis=1)
                    score[start:stop] = self.y_std_ * np.sqrt(np.clip(var[np.arange(m), k], 0.0, None))
                    where[start:stop] = grid[k]
                    bar.update(1)
        finally:
            if own_bar:
                bar.close()
        return pd.DataFrame({"system": systems, "score_J": score, "x_at_max": where})


def _check_grid(grid) -> np.ndarray:
    grid = np.asarray(grid, dtype=float).reshape(-1)
    if grid.size == 0 or np.any(~np.isfinite(grid)) or np.any((grid <= 0) | (grid >= 1)):
        raise AcquisitionError(f"the composition grid needs mole fractions strictly between 0 and 1, got {grid}")
    return grid


# ---------------------------------------------------------------------------------------------------
# batch selection


def _cap_ok(system: str, counts: dict, per_element: int | None) -> bool:
    if per_element is None:
        return True
    return all(counts.get(el, 0) < per_element for el in parse_system(system))


def select_batch(gp: VarianceGP, scores: pd.DataFrame, n: int, *, grid: Sequence[float] = DEFAULT_GRID,
                 batch: str = "conditional", per_element: int | None = None) -> pd.DataFrame:
    """Pick ``n`` binaries from scored candidates (output of :meth:`VarianceGP.max_std`).

    Parameters
    ----------
    gp : VarianceGP
        The fitted GP that scored them.
    scores : DataFrame
        ``system`` and ``score_J`` (J/mol) of the candidates (the pool).
    n : int
        Batch size.
    batch : {"conditional", "independent"}
        Greedy picks conditioned on the earlier picks of the batch (see the module docstring), or the
        plain top of the ranking.
    per_element : int, optional
        At most this many picks containing any one element.

    Returns
    -------
    DataFrame
        The picks in order: ``system``, ``score_J``, ``batch_score_J`` (max σ given the earlier
        picks, J/mol; equal to ``score_J`` for independent batches) and ``x_at_max`` when given.

    Raises
    ------
    AcquisitionError
        ``n`` larger than the pool, or than what ``per_element`` allows.
    """
    with _one_blas_thread():  # small matrices: threads only add synchronisation (10 s → 1 s)
        return _select_batch(gp, scores, n, grid=grid, batch=batch, per_element=per_element)


def _select_batch(gp, scores, n, *, grid, batch, per_element) -> pd.DataFrame:
    if batch not in ("conditional", "independent"):
        raise AcquisitionError(f"batch must be 'conditional' or 'independent', got {batch!r}")
    if per_element is not None and per_element < 1:
        raise AcquisitionError(f"per_element must be at least 1, got {per_element}")
    if n < 1:
        raise AcquisitionError(f"n must be at least 1, got {n}")
    if n > len(scores):
        raise AcquisitionError(f"n = {n} is larger than the pool of {len(scores)} candidate binaries")
    grid = _check_grid(grid)
    systems = scores["system"].tolist()
    base = scores["score_J"].to_numpy(float)
    conditional = batch == "conditional"
    if conditional:
        gp._check_fitted()
        noise = gp.hyperparameters_["noise_std"] ** 2
        # the prior variance k(z, z) is constant for the Gauss kernel
        picked_Z = np.empty((0, gp.X_train_.shape[1]))
        picked_V = np.empty((gp.X_train_.shape[0], 0))
        chol = None
        cache: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def grid_of(i):
        if i not in cache:
            a, b = parse_system(systems[i])
            Z = gp._design(np.full(len(grid), a, dtype=object), np.full(len(grid), b, dtype=object), grid)
            V = gp._v(Z)
            var0 = np.diag(gp._prior_cov(Z)) - np.einsum("ij,ij->j", V, V)
            cache[i] = (Z, V, var0)
        return cache[i]

    def conditional_score(i):
        Z, V, var0 = grid_of(i)
        if chol is None:
            var = var0
        else:
            C = gp._prior_cov(Z, picked_Z) - V.T @ picked_V           # posterior cov(grid_i, picks)
            W = scipy.linalg.cho_solve(chol, C.T, check_finite=False)
            var = var0 - np.einsum("ij,ji->i", C, W)
        return gp.y_std_ * float(np.sqrt(max(np.max(var), 0.0)))

    heap = [(-s, i, 0) for i, s in enumerate(base)]
    heapq.heapify(heap)
    picks: list[tuple[int, float]] = []
    counts: dict[str, int] = {}
    while heap and len(picks) < n:
        neg, i, version = heapq.heappop(heap)
        if not _cap_ok(systems[i], counts, per_element):
            continue  # caps only tighten: never eligible again
        if conditional and version != len(picks):
            heapq.heappush(heap, (-conditional_score(i), i, len(picks)))
            continue
        picks.append((i, -neg))
        for el in parse_system(systems[i]):
            counts[el] = counts.get(el, 0) + 1
        if conditional and len(picks) < n:
            Z, V, _ = grid_of(i)
            picked_Z = np.vstack([picked_Z, Z])
            picked_V = np.hstack([picked_V, V])
            C_pp = gp._prior_cov(picked_Z) - picked_V.T @ picked_V + noise * np.eye(len(picked_Z))
            chol = scipy.linalg.cho_factor(C_pp + 1e-10 * np.eye(len(C_pp)), lower=True, check_finite=False)
    if len(picks) < n:
        raise AcquisitionError(f"only {len(picks)} of the n = {n} requested binaries can be picked with at most "
                               f"{per_element} per element from a pool of {len(scores)}; lower n or raise per_element")
    idx = [i for i, _ in picks]
    out = scores.iloc[idx].reset_index(drop=True).copy()
    out["batch_score_J"] = [s for _, s in picks] if conditional else out["score_J"].to_numpy()
    return out


# ---------------------------------------------------------------------------------------------------
# clustering


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

    a, b = _split(systems)
    return BinaryFeaturizer(features).transform_pairs(a, b, np.full(len(systems), 0.5))


def cluster_binaries(systems: Sequence[str], n_clusters: int | str = "auto",
                     k_range: Sequence[int] = DEFAULT_K_RANGE, *, features: str | Sequence[str] = "paper10",
                     random_state: int = 0) -> Clustering:
    """:func:`cluster_features` of the equimolar feature vectors of binaries (the paper's K-means)."""
    systems = list(systems)
    return cluster_features(equimolar_features(systems, features), n_clusters, k_range, systems=systems,
                            random_state=random_state)


def cluster_summary(binaries: pd.DataFrame, top: int = 4) -> pd.DataFrame:
    """Per cluster: size, candidates, observed and selected binaries, σ scores, typical elements.

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
        best = sub.sort_values("score_J", ascending=False)
        members = (binaries["cluster"] == k).to_numpy()
        rows.append({
            "cluster": int(k), "binaries": int(len(sub)),
            "candidates": int((sub["excluded"] == "").sum()),
            "observed": int((sub["n_observations"] > 0).sum()),
            "selected": int(sub["selected"].sum()),
            "mean_score_J": float(sub["score_J"].mean()), "max_score_J": float(sub["score_J"].max()),
            "groups": f"{np.median(low[members]):g}-{np.median(high[members]):g}",
            "top_elements": " ".join(share.index[:top]),
            "highest": best["system"].iloc[0],
        })
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------------
# the plan


PLAN_COLUMNS = ("rank", "system", "score_J", "batch_score_J", "x_at_max", "cluster", "n_observations",
                "miedema_J", "model_J", "model_sigma_J", "T_aimd_K")


@dataclass(frozen=True)
class AcquisitionPlan:
    """A ranked selection of binaries to compute next, and everything needed to see why.

    Attributes
    ----------
    plan : DataFrame
        The selection in order, columns :data:`PLAN_COLUMNS`: ``rank``; ``system``; ``score_J`` (max
        GP σ over the grid, J/mol); ``batch_score_J`` (the same given the earlier picks); ``x_at_max``;
        ``cluster``; ``n_observations`` (stored rows of the system); ``miedema_J``, ``model_J``,
        ``model_sigma_J`` (ΔH_mix at x = 0.5 by Miedema and the regressor with its σ, J/mol);
        ``T_aimd_K`` (run temperature of the AIMD protocol, K).
    binaries : DataFrame
        Every binary of the element set: ``system``, ``score_J``, ``x_at_max``, ``cluster``,
        ``n_observations``, ``excluded`` (the reason, or ``""`` for candidates), ``selected``.
    clusters : DataFrame
        :func:`cluster_summary` of ``binaries``.
    clustering : Clustering
    gp : dict
        :meth:`VarianceGP.describe` (training size, time, hyperparameters, data hash).
    model_version : str
        Version of the ΔH_mix regressor that gave ``model_J``.
    settings : dict
        The arguments of :func:`rank_binaries` that shaped the plan.
    timings : dict
        Wall times in s: ``gp_fit``, ``score``, ``cluster``, ``plan``, ``total``.
    """

    plan: pd.DataFrame
    binaries: pd.DataFrame
    clusters: pd.DataFrame
    clustering: Clustering
    gp: dict
    model_version: str
    settings: dict
    timings: dict

    @property
    def selection_id(self) -> str:
        """Content hash of the selection (settings, model and GP data, picked systems), 12 hex digits."""
        payload = json.dumps({"settings": self.settings, "model": self.model_version,
                              "gp_data": self.gp.get("training_hash"), "systems": self.plan["system"].tolist()},
                             sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:12]

    def to_dataframe(self) -> pd.DataFrame:
        """The ranked plan (a copy)."""
        return self.plan.copy()

    def to_dict(self) -> dict:
        """JSON-ready: plan rows, cluster summary, clustering scores, GP description, settings, times."""
        return {"selection_id": self.selection_id, "model_version": self.model_version,
                "settings": self.settings, "n_binaries": int(len(self.binaries)),
                "n_candidates": int((self.binaries["excluded"] == "").sum()),
                "plan": _records(self.plan), "clusters": _records(self.clusters),
                "clustering": {k: v for k, v in self.clustering.to_dict().items() if k != "labels"},
                "gp": self.gp, "timings": self.timings}

    def record(self, store) -> "object":
        """Record the selection in ``store`` (table :data:`SELECTIONS_TABLE`), one row per system.

        Each row carries the selection id, rank, scores, cluster, the regressor's version and the
        GP's training-data hash. Recording the same plan twice changes nothing.

        Returns
        -------
        mixcalphad.data.store.AddReport
        """
        sid = self.selection_id
        settings = json.dumps(self.settings, sort_keys=True, default=str)
        records = [{"selection_id": sid, "rank": int(r["rank"]), "system": r["system"],
                    "score_J": float(r["score_J"]), "batch_score_J": float(r["batch_score_J"]),
                    "cluster": int(r["cluster"]), "T_aimd_K": float(r["T_aimd_K"]),
                    "model_version": self.model_version, "gp_training_hash": self.gp.get("training_hash"),
                    "settings": settings}
                   for r in self.plan.to_dict("records")]
        return store.add_records(SELECTIONS_TABLE, records, key_fields=("selection_id", "system"))


def _records(frame: pd.DataFrame) -> list[dict]:
    return json.loads(frame.to_json(orient="records"))


def rank_binaries(observations: pd.DataFrame | None = None, n: int = 20, *,
                  elements: Iterable[str] | None = None, exclude: Iterable[str] = DEFAULT_EXCLUDE,
                  exclude_systems: Iterable[str] = (), flags: pd.DataFrame | None = None,
                  skip_flags: Iterable[str] = DEFAULT_SKIP_FLAGS, per_element: int | None = None,
                  batch: str = "conditional", grid: Sequence[float] = DEFAULT_GRID,
                  n_clusters: int | str = "auto", k_range: Sequence[int] = DEFAULT_K_RANGE,
                  model=None, gp: VarianceGP | None = None, random_state: int = 0,
                  progress: bool | None = None) -> AcquisitionPlan:
    """Rank the binaries of an element set by how much new ΔH_mix data would teach the model.

    Parameters
    ----------
    observations : DataFrame, optional
        Current observations (``system``, ``x_B``, ``HM_MIX_J`` in J/mol); default: the embedded
        default dataset (:func:`mixcalphad.data.corpus.build_dataset`, with its flags).
    n : int
        Number of binaries to pick.
    elements : iterable of str, optional
        Element set (default: every supported element, 70 → 2415 binaries).
    exclude : iterable of str
        Elements whose binaries are not picked (default carbon). They are still scored and clustered.
    exclude_systems : iterable of str
        Binaries not to pick (``"AL-NI"``, any order or case).
    flags : DataFrame, optional
        Store flags (``system``, ``flag``); systems with a flag in ``skip_flags`` are not picked.
    per_element : int, optional
        At most this many picks per element (spreads a batch over elements).
    batch : {"conditional", "independent"}
        See :func:`select_batch`.
    grid : sequence of float
        Mole fractions x_B (0 < x < 1) over which the maximum σ is taken.
    n_clusters : int or "auto"
        K of the K-means clustering (``"auto"``: elbow + silhouette over ``k_range``).
    model : HMixRegressor, optional
        Regressor for the ``model_J`` columns (default: the shipped model).
    gp : VarianceGP, optional
        A fitted GP to reuse, or an unfitted one with other settings (fitted here on ``observations``).
    random_state : int
        Seed of the GP and the clustering.
    progress : bool or None
        Progress bar; None shows it only on a terminal.

    Returns
    -------
    AcquisitionPlan

    Raises
    ------
    UnknownElementError
        An element of ``elements`` or ``exclude`` is unknown.
    AcquisitionError
        Too few elements to cluster, ``n`` larger than the candidate pool, bad options.

    Examples
    --------
    >>> plan = rank_binaries(obs, n=10, elements=["AL", "IR", "OS", "W", "TI", "NI"])  # doctest: +SKIP
    >>> plan.plan[["rank", "system", "score_J", "cluster"]]                            # doctest: +SKIP
    """
    from mixcalphad.chem.miedema import miedema_pairs

    t_start = time.perf_counter()
    if batch not in ("conditional", "independent"):
        raise AcquisitionError(f"batch must be 'conditional' or 'independent', got {batch!r}")
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise AcquisitionError(f"n must be a positive integer, got {n!r}")
    if per_element is not None and per_element < 1:
        raise AcquisitionError(f"per_element must be at least 1, got {per_element}")
    grid = _check_grid(grid)
    element_set = resolve_elements(elements)
    if len(element_set) < 3:
        raise AcquisitionError(f"the element set {element_set} gives {len(element_set) * (len(element_set) - 1) // 2} "
                               "binaries, too few to cluster; give at least 3 elements")
    excluded_elements = _known_elements(exclude)
    excluded_systems = {system_name(*parse_system(s)) for s in exclude_systems}
    skip_flags = tuple(skip_flags)
    if observations is None:
        from mixcalphad.data.corpus import build_dataset

        build = build_dataset(progress=progress)
        observations = build.observations
        flags = build.flags if flags is None else flags
    systems = binaries_of(element_set)
    settings = {"n": int(n), "elements": element_set, "exclude": excluded_elements,
                "exclude_systems": sorted(excluded_systems), "skip_flags": list(skip_flags),
                "per_element": per_element, "batch": batch, "grid": [float(v) for v in grid],
                "n_clusters": n_clusters if n_clusters == "auto" else int(n_clusters),
                "random_state": int(random_state)}

    n_chunks = -(-len(systems) // max(1, _CHUNK // len(grid)))
    timings = {}
    with tqdm(total=n_chunks + 3, desc="acquire", unit="step", disable=None if progress is None else not progress,
              leave=False) as bar:
        bar.set_postfix_str("training GP")
        if gp is None:
            gp = VarianceGP(random_state=random_state)
        t0 = time.perf_counter()
        if not hasattr(gp, "gp_"):
            gp.fit(observations)
        timings["gp_fit"] = time.perf_counter() - t0
        bar.update(1)
        bar.set_postfix_str("scoring")
        t0 = time.perf_counter()
        binaries = gp.max_std(systems, grid, bar=bar)
        timings["score"] = time.perf_counter() - t0
        bar.set_postfix_str("clustering")
        t0 = time.perf_counter()
        clustering = cluster_binaries(systems, n_clusters, k_range, features=gp.features_, random_state=random_state)
        timings["cluster"] = time.perf_counter() - t0
        bar.update(1)

        bar.set_postfix_str("plan")
        t0 = time.perf_counter()
        binaries["cluster"] = clustering.labels
        counts = observations["system"].map(lambda s: system_name(*parse_system(s))).value_counts()
        binaries["n_observations"] = binaries["system"].map(counts).fillna(0).astype(int)
        flagged: dict[str, str] = {}
        if flags is not None and len(flags) and skip_flags:
            for s, f in zip(flags["system"], flags["flag"]):
                if f in skip_flags:
                    flagged.setdefault(system_name(*parse_system(s)), f)
        reasons = []
        for s in binaries["system"]:
            pair = parse_system(s)
            bad = [el for el in pair if el in excluded_elements]
            if bad:
                reasons.append(f"element {bad[0]} excluded")
            elif s in flagged:
                reasons.append(f"flagged {flagged[s]}")
            elif s in excluded_systems:
                reasons.append("excluded by user")
            else:
                reasons.append("")
        binaries["excluded"] = reasons
        pool = binaries[binaries["excluded"] == ""]
        if n > len(pool):
            raise AcquisitionError(
                f"n = {n} is larger than the pool: {len(pool)} of the {len(binaries)} binaries of "
                f"{len(element_set)} elements remain after exclusions ({len(binaries) - len(pool)} excluded)")
        picks = select_batch(gp, pool[["system", "score_J", "x_at_max"]].reset_index(drop=True), n, grid=grid,
                             batch=batch, per_element=per_element)
        binaries["selected"] = binaries["system"].isin(set(picks["system"]))
        if model is None:
            from mixcalphad.model.predictor import load_default_model

            model = load_default_model()
        a, b = _split(picks["system"].tolist())
        half = np.full(len(picks), 0.5)
        model_mean, model_std = model.predict_pairs(a, b, half, return_std=True)
        plan = picks.assign(rank=np.arange(1, len(picks) + 1),
                            cluster=picks["system"].map(dict(zip(binaries["system"], binaries["cluster"]))),
                            n_observations=picks["system"].map(counts).fillna(0).astype(int),
                            miedema_J=miedema_pairs(a, b, half), model_J=model_mean, model_sigma_J=model_std,
                            T_aimd_K=[aimd_temperature_K(x, y) for x, y in zip(a, b)])
        plan = plan.loc[:, list(PLAN_COLUMNS)]
        timings["plan"] = time.perf_counter() - t0
        bar.update(1)
    timings["total"] = time.perf_counter() - t_start
    timings = {k: round(v, 3) for k, v in timings.items()}
    log.info("ranked %d binaries (%d candidates) in %.1f s", len(binaries), len(pool), timings["total"])
    return AcquisitionPlan(plan=plan, binaries=binaries, clusters=cluster_summary(binaries), clustering=clustering,
                           gp=gp.describe(), model_version=getattr(model, "version_", "unknown"),
                           settings=settings, timings=timings)


def record_selection(store, plan: AcquisitionPlan):
    """Record ``plan``'s selection in ``store`` (see :meth:`AcquisitionPlan.record`)."""
    return plan.record(store)
