"""The temperature model of each written binary: a rule resolved per pair, admissible to 6000 K.

A command chooses one *rule* (``--temperature-model``); :func:`pair_temperature_model` turns it
into the :class:`~mixcalphad.calphad.redlich_kister.TemperatureModel` of one binary, and
:func:`admissible_temperature_model` makes sure it does not create a liquid miscibility gap the
enthalpy alone would not have. Every rule makes ``S_ex = κ H_ex`` (``L_n = a_n + b_n T``,
``b_n = −κ a_n``):

* ``"enthalpy"``: κ = 0 (a regular solution);
* ``"kaptay"`` / ``"kaptay-<τ>"``: κ = 1/τ, τ = 3000 K or the τ given (K);
* ``"kaptay-<k>Tm"``: τ = k × the mean SGTE melting point of the pair (:class:`KaptayMelting`);
* ``"learned"`` (the default): κ of the pair from the excess-entropy model learned on assessed
  liquids (:class:`LearnedEntropy`, :mod:`mixcalphad.model.entropy`), with its σ.

Why κ may be reduced: with ``b = −κa`` a strongly bonded liquid (a ≪ 0) turns positive-excess
above ``T = 1/κ`` and can demix far above its liquidus (COST507's Al–W L0 = −70000 + 35·T alone gives
a spinodal at 6000 K). The enthalpy is the better-known half of the liquid, so when the
enthalpy-only fit is convex on ``[T_low, 6000 K]`` and the rule's κ makes it concave somewhere,
κ is scaled toward 0 (bisection) to the largest value that keeps the curvature ratio ≥
:data:`~mixcalphad.calphad.convexity.MARGIN`; the label of the returned model says so.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

import numpy as np

from mixcalphad.calphad.convexity import MARGIN, T_HIGH_K, min_curvature_ratio
from mixcalphad.calphad.redlich_kister import ENTHALPY_ONLY, TemperatureModel, kaptay
from mixcalphad.errors import MixcalphadError

#: The rule commands use when none is given.
DEFAULT_RULE = "learned"
#: Names :func:`temperature_rule` accepts (``<τ>`` a temperature in K, ``<k>`` a factor).
RULE_NAMES = ("learned", "enthalpy", "kaptay", "kaptay-<tau_K>", "kaptay-<k>Tm")


@dataclass(frozen=True)
class KaptayMelting:
    """Kaptay's linear model with τ = ``factor`` × the mean SGTE melting point of the pair (K)."""

    factor: float = 3.0

    def for_pair(self, a: str, b: str) -> TemperatureModel:
        from mixcalphad.chem.elements import element_property

        t_mean = float(np.mean(element_property([a, b], "T_melt_K", needed_by="the kaptay-Tm rule")))
        return kaptay(self.factor * t_mean, label=f"tau = {self.factor:g}*mean Tm")

    def describe(self) -> str:
        return f"kaptay-linear: L_n = a_n*(1-T/tau), tau = {self.factor:g}*mean Tm of the pair"


class LearnedEntropy:
    """κ of each pair from an :class:`~mixcalphad.model.entropy.ExcessEntropyModel` (default: the shipped one)."""

    def __init__(self, model=None):
        if model is None:
            from mixcalphad.model.entropy import load_default_entropy_model

            model = load_default_entropy_model()
        self.model = model

    def for_pair(self, a: str, b: str) -> TemperatureModel:
        return TemperatureModel("entropy", kappa_per_K=self.model.kappa(a, b), label=f"learned, form {self.model.form}")

    def sigma_S(self, a: str, b: str, H_half_J: float) -> float:
        """σ of S_ex at x_B = 0.5 (J/(mol K)) where the fitted excess enthalpy is ``H_half_J`` (J/mol)."""
        return float(self.model.for_pair(a, b).sigma(0.5, H_half_J))

    def describe(self) -> str:
        return self.model.describe()


def temperature_rule(name: str | None = None):
    """The rule named ``name`` (see the module docstring; None: :data:`DEFAULT_RULE`).

    Raises
    ------
    MixcalphadError
        An unknown name or a τ / factor that is not a positive number.
    """
    name = (DEFAULT_RULE if name is None else str(name)).strip()
    low = name.lower()
    if low == "learned":
        return LearnedEntropy()
    if low == "enthalpy":
        return ENTHALPY_ONLY
    if low == "kaptay":
        return kaptay()
    match = re.fullmatch(r"kaptay-([0-9.]+)(tm)?", low)
    if match:
        value = float(match.group(1)) if match.group(1).replace(".", "", 1).isdigit() else float("nan")
        if not (math.isfinite(value) and value > 0):
            raise MixcalphadError(f"temperature model {name!r}: the number must be positive")
        return KaptayMelting(value) if match.group(2) else kaptay(value)
    raise MixcalphadError(f"unknown temperature model {name!r}; choose one of {list(RULE_NAMES)}")


def pair_temperature_model(rule, a: str, b: str) -> TemperatureModel:
    """The :class:`TemperatureModel` ``rule`` gives the pair (a TemperatureModel is its own rule)."""
    if isinstance(rule, TemperatureModel):
        return rule
    if callable(getattr(rule, "for_pair", None)):
        tm = rule.for_pair(a, b)
        if isinstance(tm, TemperatureModel):
            return tm
    raise MixcalphadError(f"temperature model must be a TemperatureModel or a rule with for_pair(a, b), "
                          f"got {type(rule).__name__}")


def admissible_temperature_model(coefficients, tm: TemperatureModel, T_low_K: float,
                                 T_high_K: float = T_HIGH_K) -> TemperatureModel:
    """``tm`` with κ scaled toward 0 as little as needed for a convex liquid (see the module docstring).

    Unchanged when κ = 0, when the liquid is already convex on ``[T_low_K, T_high_K]``, or when
    even the enthalpy-only liquid is not (then the enthalpy is what must change, not the entropy).
    """
    kappa = tm.kappa
    if kappa == 0.0 or min_curvature_ratio(coefficients, T_low_K, T_high_K, tm) >= 0.0:
        return tm
    if min_curvature_ratio(coefficients, T_low_K, T_high_K, ENTHALPY_ONLY) < MARGIN:
        return tm

    def ok(scale: float) -> bool:
        trial = TemperatureModel("entropy", kappa_per_K=kappa * scale)
        return min_curvature_ratio(coefficients, T_low_K, T_high_K, trial) >= MARGIN

    lo, hi = 0.0, 1.0
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    note = f"kappa x{lo:.3f} for a convex liquid to {T_high_K:g} K"
    label = f"{tm.label}; {note}" if tm.label else note
    if tm.kind == "kaptay":
        return kaptay(tm.tau_K / lo, label=label) if lo > 0 else replace(ENTHALPY_ONLY, label=label)
    return replace(tm, kappa_per_K=kappa * lo, label=label)
