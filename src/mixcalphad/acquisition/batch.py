"""Which binaries go in a batch: greedy value per core-hour with diversity, or the paper's max σ.

* :func:`select_by_value` (default) — greedy on the integrated-variance objective
  (:class:`mixcalphad.acquisition.value.VarianceReduction`): each step picks the candidate with the
  largest expected variance reduction per marginal core-hour (its alloy run plus the pure references
  the batch does not have yet, :class:`mixcalphad.acquisition.cost.SharedReferences`), at most
  ``per_element`` picks per element, then conditions the GP on the pick (exact rank-one update).
  Greedy maximisation of a monotone submodular objective under a cost ratio rule is the standard
  near-optimal heuristic (Krause & Guestrin 2005; Leskovec et al. 2007).
* :func:`select_max_sigma` — the paper's ranking by the PHYSBO GP's max σ over composition, either
  the plain top-n (``batch="independent"``) or greedy picks conditioned on fantasized observations
  of the earlier picks over the whole grid (``batch="conditional"``, lazy greedy: conditioning only
  lowers variances).
"""
from __future__ import annotations

import heapq
from typing import Sequence

import numpy as np
import pandas as pd
import scipy.linalg

from mixcalphad.acquisition._util import DEFAULT_GRID, check_grid, one_blas_thread
from mixcalphad.acquisition.cost import SharedReferences
from mixcalphad.acquisition.gp import VarianceGP
from mixcalphad.acquisition.value import VarianceReduction
from mixcalphad.chem.binaries import parse_system
from mixcalphad.errors import AcquisitionError

#: Columns of :func:`select_by_value`.
VALUE_COLUMNS = ("system", "value_J2", "cost_core_h", "value_per_core_h")


def _check_n(n, pool: int, per_element) -> None:
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise AcquisitionError(f"n must be a positive integer, got {n!r}")
    if per_element is not None and per_element < 1:
        raise AcquisitionError(f"per_element must be at least 1, got {per_element}")
    if n > pool:
        raise AcquisitionError(f"n = {n} is larger than the pool of {pool} candidate binaries")


def _too_few(found: int, n: int, per_element, pool: int) -> AcquisitionError:
    return AcquisitionError(f"only {found} of the n = {n} requested binaries can be picked with at most "
                            f"{per_element} per element from a pool of {pool}; lower n or raise per_element")


def select_by_value(state: VarianceReduction, costs: pd.DataFrame, n: int, *, per_element: int | None = None,
                    per_cost: bool = True, shared: SharedReferences | None = None) -> pd.DataFrame:
    """Greedy batch on expected variance reduction per marginal core-hour.

    Parameters
    ----------
    state : VarianceReduction
        The objective over the candidates (changed in place: it ends conditioned on the picks).
    costs : DataFrame
        :func:`mixcalphad.acquisition.cost.binary_costs` of ``state.candidates``, same order.
    n : int
        Batch size.
    per_element : int, optional
        At most this many picks containing any one element.
    per_cost : bool
        Rank by value per core-hour (default) or by value alone.
    shared : SharedReferences, optional
        References already available (e.g. from earlier batches).

    Returns
    -------
    DataFrame
        :data:`VALUE_COLUMNS` in pick order: ``value_J2`` (expected reduction of the summed
        variance given the earlier picks, (J/mol)²), ``cost_core_h`` (marginal core-hours),
        ``value_per_core_h``.

    Raises
    ------
    AcquisitionError
        ``n`` larger than the pool or than ``per_element`` allows.
    """
    candidates = state.candidates
    if list(costs["system"]) != list(candidates):
        raise AcquisitionError("costs must list the candidates of the objective, in the same order")
    _check_n(n, len(candidates), per_element)
    shared = shared or SharedReferences()
    elements = [parse_system(s) for s in candidates]
    open_ = np.ones(len(candidates), dtype=bool)
    counts: dict[str, int] = {}
    rows = []
    while len(rows) < n:
        cost = shared.marginal_costs(costs)
        score = state.value_J2 / cost if per_cost else state.value_J2.copy()
        score[~open_] = -np.inf
        i = int(np.argmax(score))
        if not np.isfinite(score[i]):
            raise _too_few(len(rows), n, per_element, len(candidates))
        value = state.pick(i)
        rows.append({"system": candidates[i], "value_J2": value, "cost_core_h": float(cost[i]),
                     "value_per_core_h": value / float(cost[i])})
        shared.add(costs.iloc[i])
        open_[i] = False
        for el in elements[i]:
            counts[el] = counts.get(el, 0) + 1
        if per_element is not None:
            full = {el for el, c in counts.items() if c >= per_element}
            open_ &= np.array([not (set(p) & full) for p in elements], dtype=bool)
    return pd.DataFrame(rows, columns=list(VALUE_COLUMNS))


def _cap_ok(system: str, counts: dict, per_element: int | None) -> bool:
    if per_element is None:
        return True
    return all(counts.get(el, 0) < per_element for el in parse_system(system))


def select_max_sigma(gp: VarianceGP, scores: pd.DataFrame, n: int, *, grid: Sequence[float] = DEFAULT_GRID,
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
    with one_blas_thread():  # small matrices: threads only add synchronisation (10 s → 1 s)
        return _select_max_sigma(gp, scores, n, grid=grid, batch=batch, per_element=per_element)


def _select_max_sigma(gp, scores, n, *, grid, batch, per_element) -> pd.DataFrame:
    if batch not in ("conditional", "independent"):
        raise AcquisitionError(f"batch must be 'conditional' or 'independent', got {batch!r}")
    _check_n(n, len(scores), per_element)
    grid = check_grid(grid)
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
        raise _too_few(len(picks), n, per_element, len(scores))
    idx = [i for i, _ in picks]
    out = scores.iloc[idx].reset_index(drop=True).copy()
    out["batch_score_J"] = [s for _, s in picks] if conditional else out["score_J"].to_numpy()
    return out
