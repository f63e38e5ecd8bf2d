"""A binary's ΔH_mix conditioned on its own observations: a Bayesian linear update of the prior.

The regressor is a prior over pair features: it never looks at a binary's own data when it predicts.
For a binary (A, B) (sorted pair, x = x_B, t = x_A − x_B) with observations, the posterior corrects
the prior's curve m(x) by a Redlich–Kister polynomial::

    ΔH(x) = m(x) + x_A x_B (δ0 + δ1 t + δ2 t²),        δ ~ N(0, Σ0)          (J/mol of atoms)

with Σ0 the prior's own uncertainty of its coefficients: ``diag(σ_L²)`` from ``predict_rk`` for
mixcalphad's regressor (so the prior σ at every x is exactly the regressor's σ), and for any other
predictor ``diag(s², s², s²)`` with s = σ(0.5)/0.25 (its σ at x = 0.5 matched). Each observation is
``y_i = m(x_i) + x_i(1−x_i) φ(t_i)·δ + ε_i`` with φ = (1, t, t²); the observations enter as the
evidence points of :func:`~mixcalphad.data.evidence.evidence_points` — one point per composition of a
curve, σ_eff = σ·√m — so a curve from one source is one piece of evidence, not m. The update is the
closed-form Gaussian one (Kalman form, which also admits a zero prior variance)::

    K = Σ0 Hᵀ (H Σ0 Hᵀ + R)⁻¹,    δ̂ = K (y − m),    Σ = Σ0 − K H Σ0

with H_i = x_i(1−x_i) φ(t_i) and R = diag(σ_eff²). The posterior predicts
``m(x) + x(1−x) φ(t)·δ̂`` with variance ``(x(1−x))² φᵀ Σ φ``: its mean moves to the data and its σ
shrinks where data exist; a binary without data keeps the prior exactly.

:class:`ConditionedPredictor` wraps any predictor with a store's observations and is itself a
predictor, so every command that fits, writes, fills, exports or ranks uses the same posterior.

Example
-------
>>> posterior = ConditionedPredictor(load_default_model(), store.observations())    # doctest: +SKIP
>>> mean, sigma = posterior.predict("AL", "NI", [0.5], return_std=True)             # doctest: +SKIP
>>> posterior.estimate("AL", "NI"), posterior.estimate("AL", "TC")                   # doctest: +SKIP
('posterior', 'prior')
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mixcalphad.chem.binaries import normalize_symbol, sorted_pair, system_name
from mixcalphad.chem.elements import supported_elements
from mixcalphad.data.evidence import evidence_points
from mixcalphad.data.schema import OBSERVED_KINDS
from mixcalphad.errors import CompositionError, MixcalphadError

#: Highest power of t in the posterior's correction (δ0, δ1, δ2).
CORRECTION_ORDER = 2
#: x_A x_B at x_B = 0.5: converts a σ at x = 0.5 into a coefficient σ.
EQUIMOLAR_XX = 0.25


def correction_basis(x_B) -> np.ndarray:
    """``x(1−x)·(1, t, t²)`` at each x_B (t = 1 − 2x_B), shape (n, 3): the design of the correction."""
    x = np.asarray(x_B, dtype=float).reshape(-1)
    t = 1.0 - 2.0 * x
    return (x * (1.0 - x))[:, None] * np.column_stack([t**n for n in range(CORRECTION_ORDER + 1)])


def gaussian_update(prior_cov: np.ndarray, design: np.ndarray, residual: np.ndarray,
                    noise_sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and covariance of δ ~ N(0, prior_cov) given ``residual = design·δ + ε``.

    Parameters
    ----------
    prior_cov : (k, k) array
        Prior covariance of δ.
    design : (n, k) array
        H.
    residual : (n,) array
        Observed minus prior mean.
    noise_sigma : (n,) array
        Independent σ of ε (> 0).

    Returns
    -------
    mean, cov : numpy.ndarray
        (k,) and (k, k).
    """
    S = design @ prior_cov @ design.T + np.diag(np.asarray(noise_sigma, dtype=float) ** 2)
    gain = np.linalg.solve(S, design @ prior_cov).T
    cov = prior_cov - gain @ design @ prior_cov
    return gain @ residual, 0.5 * (cov + cov.T)


@dataclass(frozen=True)
class BinaryPosterior:
    """The correction δ of one binary's prior and its covariance (sorted pair, J/mol of atoms).

    Attributes
    ----------
    system : str
        ``"AL-NI"``.
    mean_J : numpy.ndarray
        δ̂ (3,).
    cov_J2 : numpy.ndarray
        Σ (3, 3), (J/mol)².
    prior_cov_J2 : numpy.ndarray
        Σ0 (3, 3), (J/mol)².
    n_curves, n_points : int
        Curves (pieces of evidence) and evidence points conditioned on.
    sources : tuple of str
        ``"kind:source"`` of each curve.
    """

    system: str
    mean_J: np.ndarray
    cov_J2: np.ndarray
    prior_cov_J2: np.ndarray
    n_curves: int
    n_points: int
    sources: tuple[str, ...]

    def shift(self, x_B) -> tuple[np.ndarray, np.ndarray]:
        """Mean correction (J/mol) and posterior σ (J/mol) at x_B of the sorted pair's B."""
        H = correction_basis(x_B)
        return H @ self.mean_J, np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", H, self.cov_J2, H), 0.0))


class ConditionedPredictor:
    """A predictor whose binaries with observations return their posterior, the others the prior.

    Parameters
    ----------
    prior : predictor
        Any object of the predictor protocol (:mod:`mixcalphad.model.predictor`); with ``predict_rk``
        its coefficient σ give Σ0, else its σ at x = 0.5 does.
    observations : pandas.DataFrame
        A store's observations; rows of kinds outside
        :data:`~mixcalphad.data.schema.OBSERVED_KINDS` (predictions), of binaries with an element
        outside :func:`~mixcalphad.chem.elements.supported_elements` (no prior) and at x_B = 0 or 1
        are ignored.
    sigma_defaults : mapping, optional
        σ (J/mol) by kind for observations without one.

    Attributes
    ----------
    prior : predictor
    version_ : str
        ``"<prior version>+data:<first 8 hex of the evidence hash>"``.
    """

    def __init__(self, prior, observations: pd.DataFrame | None, sigma_defaults=None):
        if isinstance(prior, ConditionedPredictor):
            raise MixcalphadError("the predictor is already conditioned on observations")
        self.prior = prior
        obs = observations if observations is not None else pd.DataFrame()
        evidence = evidence_points(obs[obs["kind"].isin(OBSERVED_KINDS)] if len(obs) else obs, sigma_defaults)
        known = set(supported_elements())
        inside = evidence["system"].map(lambda s: set(s.split("-")) <= known).astype(bool)
        evidence = evidence[inside]
        self._evidence = {system: rows for system, rows in evidence.groupby("system", sort=True)}
        decisive = evidence[["system", "kind", "source", "x_B", "HM_MIX_J", "fit_sigma_J"]]
        digest = hashlib.sha256(decisive.round({"x_B": 9, "HM_MIX_J": 3, "fit_sigma_J": 3})
                                .to_csv(index=False).encode()).hexdigest()
        base = getattr(prior, "wrapped", prior)  # a BatchPredictions serves its wrapped predictor
        self.version_ = f"{getattr(base, 'version_', None) or 'unversioned'}+data:{digest[:8]}"
        self._posteriors = self._condition_all()

    # ---------------------------------------------------------------- the update
    def _prior_cov(self, systems: list[str]) -> np.ndarray:
        base = getattr(self.prior, "wrapped", self.prior)
        pairs = [s.split("-") for s in systems]
        if callable(getattr(base, "predict_rk", None)):
            _, sd = base.predict_rk(np.array([p[0] for p in pairs], dtype=object),
                                    np.array([p[1] for p in pairs], dtype=object), return_std=True)
            sd = np.asarray(sd, dtype=float).reshape(len(systems), -1)[:, : CORRECTION_ORDER + 1]
        else:
            half = pd.DataFrame({"system": systems, "x_B": 0.5})
            sigma = np.concatenate(self._prior_at([half[half["system"] == s] for s in systems], "std"))
            sd = sigma[:, None] / EQUIMOLAR_XX * np.ones(CORRECTION_ORDER + 1)
        return np.array([np.diag(s**2) for s in sd])

    def _prior_at(self, frames: list[pd.DataFrame], which: str = "mean") -> list[np.ndarray]:
        """The prior's mean (or ``"std"``) at the ``x_B`` of each frame of one system (J/mol)."""
        base = getattr(self.prior, "wrapped", self.prior)
        pairs = [rows["system"].iloc[0].split("-") for rows in frames]
        k = 0 if which == "mean" else 1
        if callable(getattr(base, "predict_pairs", None)):  # one call for every system
            a = np.concatenate([np.full(len(r), p[0], dtype=object) for r, p in zip(frames, pairs)])
            b = np.concatenate([np.full(len(r), p[1], dtype=object) for r, p in zip(frames, pairs)])
            x = np.concatenate([r["x_B"].to_numpy(float) for r in frames])
            flat = np.broadcast_to(np.asarray(base.predict_pairs(a, b, x, return_std=True)[k], dtype=float), x.shape)
            return np.split(np.array(flat), np.cumsum([len(r) for r in frames])[:-1])
        return [np.broadcast_to(np.asarray(base.predict(p[0], p[1], r["x_B"].to_numpy(float), return_std=True)[k],
                                           dtype=float).reshape(-1), (len(r),)).copy()
                for r, p in zip(frames, pairs)]

    def _condition_all(self) -> dict[str, BinaryPosterior]:
        systems = list(self._evidence)
        if not systems:
            return {}
        frames = [self._evidence[s] for s in systems]
        covs, means = self._prior_cov(systems), self._prior_at(frames)
        out = {}
        for system, rows, cov0, m in zip(systems, frames, covs, means):
            mean, cov = gaussian_update(cov0, correction_basis(rows["x_B"]),
                                        rows["HM_MIX_J"].to_numpy(float) - m, rows["fit_sigma_J"].to_numpy(float))
            curves = rows.drop_duplicates(["kind", "source"])
            out[system] = BinaryPosterior(system=system, mean_J=mean, cov_J2=cov, prior_cov_J2=cov0,
                                          n_curves=len(curves), n_points=len(rows),
                                          sources=tuple(f"{k}:{s}" for k, s in zip(curves["kind"], curves["source"])))
        return out

    # ---------------------------------------------------------------- queries
    def posterior(self, a: str, b: str) -> BinaryPosterior | None:
        """The posterior of a binary (any order), or None when it has no observations."""
        return self._posteriors.get(system_name(a, b))

    def estimate(self, a: str, b: str) -> str:
        """``"posterior"`` for a binary with observations, else ``"prior"``."""
        return "posterior" if self.posterior(a, b) is not None else "prior"

    def conditioned_systems(self) -> list[str]:
        """Binaries with a posterior (sorted names)."""
        return list(self._posteriors)

    def predict(self, a, b=None, x_B=None, return_std: bool = False):
        """ΔH_mix (J/mol of atoms) of a–b at ``x_B`` (mole fraction of b): posterior or prior."""
        if b is None or x_B is None:
            raise MixcalphadError("predict needs (a, b, x_B)")
        xs = np.asarray(x_B, dtype=float)
        mean, std = self.prior.predict(a, b, xs.reshape(-1), return_std=True)
        mean = np.asarray(mean, dtype=float).reshape(-1)
        std = np.broadcast_to(np.asarray(std, dtype=float), mean.shape).astype(float)
        post = self.posterior(a, b)
        if post is not None:
            x_sorted = xs.reshape(-1) if sorted_pair(a, b)[1] == normalize_symbol(b) else 1.0 - xs.reshape(-1)
            shift, std = post.shift(x_sorted)
            mean = mean + shift
        mean, std = mean.reshape(xs.shape), std.reshape(xs.shape)
        return (mean, std) if return_std else mean

    def predict_pairs(self, a, b, x_B, return_std: bool = False):
        """ΔH_mix (J/mol of atoms) for arrays of pairs (row i: a[i]–b[i] at x_B[i] of b[i])."""
        a = np.array([normalize_symbol(s) for s in np.atleast_1d(np.asarray(a, dtype=object))], dtype=object)
        b = np.array([normalize_symbol(s) for s in np.atleast_1d(np.asarray(b, dtype=object))], dtype=object)
        x = np.broadcast_to(np.asarray(x_B, dtype=float), a.shape).astype(float)
        if np.any(~np.isfinite(x)) or np.any((x < 0) | (x > 1)):
            raise CompositionError(f"mole fractions must lie in [0, 1], got {x[~((x >= 0) & (x <= 1))][:5]}")
        if callable(getattr(self.prior, "predict_pairs", None)):
            mean, std = self.prior.predict_pairs(a, b, x, return_std=True)
        else:
            parts = [self.prior.predict(ai, bi, [xi], return_std=True) for ai, bi, xi in zip(a, b, x)]
            mean, std = np.array([p[0] for p in parts]).reshape(-1), np.array([p[1] for p in parts]).reshape(-1)
        mean, std = np.array(mean, dtype=float), np.array(std, dtype=float)
        names = np.array([system_name(p, q) for p, q in zip(a, b)], dtype=object)
        for system in set(names) & set(self._posteriors):
            rows = names == system
            x_sorted = np.where(a[rows] < b[rows], x[rows], 1.0 - x[rows])
            shift, sd = self._posteriors[system].shift(x_sorted)
            mean[rows] += shift
            std[rows] = sd
        return (mean, std) if return_std else mean

    def describe(self) -> dict:
        """Provenance: the prior's, plus what the posterior is conditioned on."""
        from mixcalphad.model.predictor import describe_predictor

        return {"prior": describe_predictor(self.prior),
                "conditioned_on": {"binaries": len(self._posteriors),
                                   "curves": int(sum(p.n_curves for p in self._posteriors.values()))},
                "evidence_rule": "mixcalphad.data.evidence"}


def conditioned(predictor, observations: pd.DataFrame | None, sigma_defaults=None):
    """``predictor`` conditioned on ``observations`` (returned as is when already conditioned or None)."""
    if predictor is None or isinstance(getattr(predictor, "wrapped", predictor), ConditionedPredictor):
        return predictor
    return ConditionedPredictor(predictor, observations, sigma_defaults)
