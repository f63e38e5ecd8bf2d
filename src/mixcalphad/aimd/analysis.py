"""Statistics of MD runs and ΔH_mix: equilibration, N_eff, SEM, the volume search, H(p = 0),
liquidity, and the combination of three runs with an error bar.

Units: inside, eV/atom, Å³, kbar and GPa; :class:`MixingResult` gives ΔH_mix and σ in J/mol of
atoms (``HM_MIX_J``, ``sigma_J``) as every public interface of mixcalphad does.

Estimators
----------
* Equilibration (:func:`detect_equilibration`): Chodera's rule — discard the first t0 samples with
  t0 = argmax (N − t0)/g(t0), g the statistical inefficiency of the rest (J. Chem. Theory Comput.
  12 (2016) 1799; as pymbar's ``detect_equilibration``, own implementation). Candidates t0 lie in
  the first half of the run.
* Statistical inefficiency g = 1 + 2 Σ (1 − t/N) C(t), summed until the autocorrelation C(t) first
  drops to ≤ 0; N_eff = N/g; SEM = sqrt(var/N_eff) = sqrt(var·g/N).
* H(p = 0) (:func:`analyze_series`): ``H0 = ⟨E⟩ + (∂E/∂V)_T · V · p̄ / K_T`` with (∂E/∂V)_T and
  K_T from the volume search's linear fits; its SEM comes from the per-step series
  ``E_t + (∂E/∂V)·V·p_t/K_T``, so the correlation of E and p within the run is accounted for. The raw
  ⟨E⟩ and ⟨E⟩ + p̄V are kept beside it (the latter is H at p̄, not at 0, and noisier).
* Liquidity: mean-square displacement over the analysed window, centre of mass removed, against
  (½·d_nn)² with d_nn = 1.122·(V/N)^(1/3) (the fcc nearest-neighbour distance at that density) —
  ten times what a crystal reaches (Lindemann: rms ≈ 0.1–0.15·d_nn at melting). A 10 ps liquid run
  gives 10–30 Å².
"""
from __future__ import annotations

import dataclasses
import json
import logging
import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from mixcalphad.chem.binaries import sorted_pair
from mixcalphad.errors import AIMDParseError, SettingsMismatchError
from mixcalphad.aimd.protocol import EV_TO_J_PER_MOL, KBAR_PER_EV_A3, PROTOCOL, settings_diff

log = logging.getLogger(__name__)

#: Flags that keep a run (and the ΔH_mix made from it) out of the store unless forced.
BLOCKING_FLAGS = ("pressure_window", "no_pressure", "short", "not_liquid", "energy_bookkeeping",
                  "temperature_off", "top_band_occupied", "no_steps")
#: Fraction of the band occupation above which the top band counts as occupied (raise NBANDS).
TOP_BAND_OCCUPATION_MAX = 1e-3


# ---------------------------------------------------------------------- time series
@dataclass(frozen=True)
class SeriesStats:
    """Mean of a correlated time series after equilibration.

    Attributes
    ----------
    mean, sem, std : float
        In the series' unit.
    g : float
        Statistical inefficiency (≥ 1).
    t0 : int
        Samples discarded as equilibration.
    n : int
        Samples used (after t0).
    n_eff : float
        Effectively independent samples, n/g.
    """

    mean: float
    sem: float
    std: float
    g: float
    t0: int
    n: int
    n_eff: float

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _autocorrelation(x: np.ndarray) -> np.ndarray:
    """Normalised autocorrelation C(t), t = 0…N−1 (unbiased per-lag normalisation), via FFT."""
    n = len(x)
    dx = x - x.mean()
    size = 1 << (2 * n - 1).bit_length()
    f = np.fft.rfft(dx, size)
    acov = np.fft.irfft(f * np.conj(f), size)[:n] / np.arange(n, 0, -1)
    return acov / acov[0]


def statistical_inefficiency(x: Sequence[float], *, mintime: int = 3) -> float:
    """Statistical inefficiency g of a time series (1 for uncorrelated samples).

    Parameters
    ----------
    x : array_like
    mintime : int
        The sum runs at least to this lag even if C(t) dips below zero earlier.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> round(statistical_inefficiency(rng.normal(size=20000)), 1)
    1.0
    """
    x = np.asarray(x, dtype=float)
    n = len(x)
    if n < 3 or np.var(x) == 0:
        return 1.0
    c = _autocorrelation(x)
    g = 1.0
    for t in range(1, n - 1):
        if c[t] <= 0 and t > mintime:
            break
        g += 2.0 * c[t] * (1.0 - t / n)
    return max(g, 1.0)


def detect_equilibration(x: Sequence[float], *, n_candidates: int = 100) -> tuple[int, float, float]:
    """Chodera's equilibration detection: the t0 that maximises N_eff of ``x[t0:]``.

    Returns
    -------
    t0 : int
        Samples to discard.
    g : float
        Statistical inefficiency of ``x[t0:]``.
    n_eff : float
        (N − t0)/g.
    """
    x = np.asarray(x, dtype=float)
    n = len(x)
    if n < 4:
        return 0, 1.0, float(n)
    candidates = np.unique(np.linspace(0, n // 2, min(n_candidates, n // 2 + 1)).astype(int))
    best = (0, 1.0, -1.0)
    for t0 in candidates:
        g = statistical_inefficiency(x[t0:])
        n_eff = (n - t0) / g
        if n_eff > best[2]:
            best = (int(t0), g, n_eff)
    return best


def series_stats(x: Sequence[float], *, t0: int | None = None) -> SeriesStats:
    """Mean, SEM, g and N_eff of ``x`` after equilibration (detected unless ``t0`` is given)."""
    x = np.asarray(x, dtype=float)
    if len(x) == 0:
        return SeriesStats(float("nan"), float("nan"), float("nan"), float("nan"), 0, 0, 0.0)
    if t0 is None:
        t0, g, _ = detect_equilibration(x)
    else:
        g = statistical_inefficiency(x[t0:])
    y = x[t0:]
    n = len(y)
    n_eff = n / g
    std = float(np.std(y, ddof=1)) if n > 1 else float("nan")
    sem = math.sqrt(float(np.var(y)) / n_eff) if n > 1 else float("nan")
    return SeriesStats(float(np.mean(y)), sem, std, float(g), int(t0), n, float(n_eff))


# ---------------------------------------------------------------------- volume search
@dataclass(frozen=True)
class VolumePoint:
    """One volume-search stage: cell volume (Å³), p̄ ± SEM (kbar), ⟨E⟩ ± SEM (eV/atom)."""

    label: str
    volume_A3: float
    p_kbar: float
    p_sem_kbar: float
    e_eV: float
    e_sem_eV: float
    n_eff: float

    def accepted(self, p_window_kbar: float = PROTOCOL["p_window_kbar"],
                 p_sem_max_kbar: float = PROTOCOL["p_sem_max_kbar"]) -> bool:
        """|p̄| < window and SEM(p̄) < limit."""
        return bool(abs(self.p_kbar) < p_window_kbar and self.p_sem_kbar < p_sem_max_kbar)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class VolumeFit:
    """Linear p(V) and E(V) over the volume-search stages, and the next volume to try.

    Attributes
    ----------
    points : tuple of VolumePoint
    n_atoms : int
    dp_dV_kbar_A3 : float
        Slope of p̄ against the cell volume, kbar/Å³.
    K_T_GPa : float
        Isothermal bulk modulus −V·dp/dV at the zero-pressure volume, GPa.
    dE_dV_eV_A3 : float or None
        (∂E/∂V)_T of the per-atom energy against the per-atom volume, eV/Å³ (None with one volume).
    V_zero_A3 : float
        Cell volume where the fitted p̄ is 0, Å³.
    next_volume_A3 : float
        The next stage's cell volume: V_zero, clipped to ±``clip`` around the best stage.
    clipped : bool
    accepted : str or None
        Label of the accepted stage (|p̄| < window, SEM < limit, smallest |p̄|), if any.
    from_guess : bool
        True when K_T is the guess, not a fit (one volume, or a non-negative slope).
    """

    points: tuple[VolumePoint, ...]
    n_atoms: int
    dp_dV_kbar_A3: float
    K_T_GPa: float
    dE_dV_eV_A3: float | None
    V_zero_A3: float
    next_volume_A3: float
    clipped: bool
    accepted: str | None
    from_guess: bool = False

    @property
    def accepted_point(self) -> VolumePoint | None:
        for p in self.points:
            if p.label == self.accepted:
                return p
        return None

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["points"] = [p.to_dict() for p in self.points]
        return out


def _wls(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Weighted least-squares line y = a + b·x; returns (a, b)."""
    W = w.sum()
    xm, ym = (w * x).sum() / W, (w * y).sum() / W
    sxx = (w * (x - xm) ** 2).sum()
    b = (w * (x - xm) * (y - ym)).sum() / sxx
    return ym - b * xm, b


def fit_volume(points: Sequence[VolumePoint], *, n_atoms: int, clip: float = PROTOCOL["volume_clip"],
               p_window_kbar: float = PROTOCOL["p_window_kbar"],
               p_sem_max_kbar: float = PROTOCOL["p_sem_max_kbar"], k_guess_GPa: float = 100.0) -> VolumeFit:
    """Fit p̄(V) and ⟨E⟩(V) linearly over the stages and propose the next volume.

    Parameters
    ----------
    points : sequence of VolumePoint
        Finished stages (cell volumes in Å³, pressures in kbar including the kinetic term).
    n_atoms : int
    clip : float
        Largest relative step from the best stage (0.10: ±10 %).
    p_window_kbar, p_sem_max_kbar : float
        Acceptance: |p̄| < window and SEM(p̄) < limit.
    k_guess_GPa : float
        Bulk modulus used when the stages do not determine the slope.

    Examples
    --------
    >>> pts = [VolumePoint(str(v), v, -0.5 * (v - 1000.0), 0.5, -5 + 1e-3 * v / 100, 1e-3, 100)
    ...        for v in (960.0, 1000.0, 1040.0)]
    >>> fit = fit_volume(pts, n_atoms=100)
    >>> round(fit.V_zero_A3, 1), round(fit.K_T_GPa, 1)
    (1000.0, 50.0)
    """
    if not points:
        raise ValueError("no volume-search stage to fit")
    pts = tuple(points)
    V = np.array([p.volume_A3 for p in pts])
    P = np.array([p.p_kbar for p in pts])
    E = np.array([p.e_eV for p in pts])
    wp = 1.0 / np.maximum([p.p_sem_kbar if np.isfinite(p.p_sem_kbar) else 10.0 for p in pts], 0.1) ** 2
    we = 1.0 / np.maximum([p.e_sem_eV if np.isfinite(p.e_sem_eV) else 1.0 for p in pts], 1e-5) ** 2
    best = min(pts, key=lambda p: abs(p.p_kbar))
    from_guess = False
    dE_dV = None
    if len(np.unique(np.round(V, 6))) >= 2:
        a, slope = _wls(V, P, wp)
        _, de = _wls(V / n_atoms, E, we)
        dE_dV = float(de)
        if slope < 0:
            V_zero = -a / slope
            K_kbar = -V_zero * slope
        else:
            from_guess = True
    else:
        from_guess = True
    if from_guess:
        K_kbar = 10.0 * k_guess_GPa
        V_zero = best.volume_A3 * (1.0 + best.p_kbar / K_kbar)
        slope = -K_kbar / best.volume_A3
    lo, hi = best.volume_A3 * (1 - clip), best.volume_A3 * (1 + clip)
    nxt = float(min(max(V_zero, lo), hi))
    ok = [p for p in pts if p.accepted(p_window_kbar, p_sem_max_kbar)]
    accepted = min(ok, key=lambda p: abs(p.p_kbar)).label if ok else None
    return VolumeFit(pts, int(n_atoms), float(slope), float(K_kbar / 10.0), dE_dV, float(V_zero), nxt,
                     bool(nxt != V_zero), accepted, from_guess)


def volume_step(volumes_A3, pressures_kbar, sems_kbar=None, *, n_atoms: int = 100,
                clip: float = PROTOCOL["volume_clip"], k_guess_GPa: float = 100.0) -> float:
    """Next cell volume (Å³) from stage volumes and mean pressures: linear p(V) → p = 0, ±``clip``."""
    sems = sems_kbar if sems_kbar is not None else [1.0] * len(volumes_A3)
    pts = [VolumePoint(str(i), float(v), float(p), float(s), 0.0, 1.0, 100.0)
           for i, (v, p, s) in enumerate(zip(volumes_A3, pressures_kbar, sems))]
    return fit_volume(pts, n_atoms=n_atoms, clip=clip, k_guess_GPa=k_guess_GPa).next_volume_A3


# ---------------------------------------------------------------------- liquidity
def unwrap_fractional(frac: np.ndarray) -> np.ndarray:
    """Unwrap wrapped fractional positions (steps, N, 3) by the smallest jump between steps."""
    d = np.diff(frac, axis=0)
    d -= np.round(d)
    return np.concatenate([frac[:1], frac[:1] + np.cumsum(d, axis=0)])


def mean_square_displacement(positions: np.ndarray, cell: np.ndarray | None = None, *,
                             fractional: bool = True) -> float:
    """MSD between the first and last frame, Å², centre-of-mass drift removed.

    Parameters
    ----------
    positions : ndarray (steps, N, 3)
        Wrapped fractional positions (``fractional=True``, as VASP writes them; ``cell`` needed) or
        unwrapped Cartesian positions in Å.
    """
    pos = np.asarray(positions, dtype=float)
    if len(pos) < 2:
        return 0.0
    if fractional:
        pos = unwrap_fractional(pos) @ np.asarray(cell, dtype=float)
    disp = pos[-1] - pos[0]
    disp -= disp.mean(axis=0)
    return float(np.mean(np.sum(disp ** 2, axis=1)))


def nearest_neighbour_distance(volume_per_atom_A3: float) -> float:
    """fcc nearest-neighbour distance at this atomic volume, Å (1.122·V^(1/3))."""
    return float((4.0 * volume_per_atom_A3) ** (1.0 / 3.0) / math.sqrt(2.0))


# ---------------------------------------------------------------------- one run
@dataclass(frozen=True)
class RunAnalysis:
    """What one run gives to ΔH_mix, with every raw quantity kept.

    Energies eV/atom, volumes Å³/atom, pressures kbar, K_T GPa, MSD Å². ``H0_eV`` is the
    H(p = 0) estimate used for ΔH_mix; ``E_eV`` (⟨E⟩ at the run's volume) and ``H_pV_eV``
    (⟨E⟩ + p̄V) are the raw alternatives.
    """

    label: str
    path: str
    composition: Mapping[str, int]
    n_atoms: int
    T_K: float
    T_mean_K: float | None
    n_steps: int
    steps_lost: int
    E_eV: float
    E_sem_eV: float
    H0_eV: float
    H0_sem_eV: float
    H_pV_eV: float | None
    correction_eV: float
    p_kbar: float | None
    p_sem_kbar: float | None
    p_ext_kbar: float | None
    p_kin_kbar: float | None
    volume_A3: float
    K_T_GPa: float | None
    dE_dV_eV_A3: float | None
    t0: int
    g: float
    n_eff: float
    msd_A2: float | None
    msd_min_A2: float
    liquid: bool | None
    settings: Mapping
    element_keys: Mapping[str, str]
    energy: str
    source: str = ""
    files: tuple[str, ...] = ()
    code_version: str = ""
    volume_fit: Mapping | None = None
    flags: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def blocking_flags(self) -> tuple[str, ...]:
        return tuple(f for f in self.flags if f in BLOCKING_FLAGS)

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["composition"] = dict(self.composition)
        out["element_keys"] = dict(self.element_keys)
        out["files"] = list(self.files)
        out["flags"], out["notes"] = list(self.flags), list(self.notes)
        return out


def analyze_series(*, energy_eV: np.ndarray, n_atoms: int, volume_A3: float, T_K: float,
                   settings, symbols: Sequence[str], pressure_kbar: np.ndarray | None = None,
                   p_ext_kbar: np.ndarray | None = None, p_kin_kbar: np.ndarray | None = None,
                   temperature_K: np.ndarray | None = None, positions: np.ndarray | None = None,
                   cell: np.ndarray | None = None, fractional: bool = True,
                   volume_fit: VolumeFit | None = None, label: str = "", path: str = "",
                   energy: str = "", source: str = "", files: Sequence[str] = (), code_version: str = "",
                   steps_lost: int = 0, extra_flags: Sequence[tuple[str, str]] = (),
                   p_window_kbar: float = PROTOCOL["p_window_kbar"],
                   p_sem_max_kbar: float = PROTOCOL["p_sem_max_kbar"],
                   min_n_eff: float = PROTOCOL["min_n_eff"], min_msd_A2: float | None = None,
                   T_tolerance: float = 0.02) -> RunAnalysis:
    """Analyse one production run given as per-step arrays.

    Parameters
    ----------
    energy_eV : array
        Per-step energy of the whole cell, eV (``e_wo_entrp + EKIN`` for VASP, E_pot + E_kin for
        an ASE calculator).
    n_atoms : int
    volume_A3 : float
        Cell volume (NVT), Å³.
    T_K : float
        Thermostat temperature, K.
    settings
        The run's settings: an object with ``key(elements)`` and ``to_dict()``.
    symbols : sequence of str
        One upper-case symbol per atom.
    pressure_kbar : array, optional
        Per-step total pressure *including the kinetic term*, kbar.
    p_ext_kbar, p_kin_kbar : array, optional
        Its virial and kinetic parts (kept as raw quantities).
    positions, cell, fractional
        For the liquidity check (see :func:`mean_square_displacement`).
    volume_fit : VolumeFit, optional
        Source of K_T and (∂E/∂V)_T for H(p = 0); without it H0 = ⟨E⟩ and ``no_volume_fit`` is flagged.
    extra_flags : sequence of (flag, note)
        Flags found while reading (truncation, bookkeeping…).
    p_window_kbar, p_sem_max_kbar, min_n_eff, min_msd_A2, T_tolerance
        Acceptance limits; ``min_msd_A2`` defaults to (½·d_nn)².

    Returns
    -------
    RunAnalysis
    """
    flags: list[str] = []
    notes: list[str] = []

    def flag(name: str, note: str) -> None:
        if name not in flags:
            flags.append(name)
        notes.append(note)

    for name, note in extra_flags:
        flag(name, note)
    e_atom = np.asarray(energy_eV, float) / n_atoms
    if len(e_atom) == 0:
        raise AIMDParseError(path or label, "no complete MD step to analyse")
    v_atom = float(volume_A3) / n_atoms
    elements = sorted(set(symbols))
    comp = {el: int(sum(1 for s in symbols if s == el)) for el in elements}
    K = dEdV = None
    if volume_fit is not None and not volume_fit.from_guess and volume_fit.dE_dV_eV_A3 is not None:
        K, dEdV = volume_fit.K_T_GPa, volume_fit.dE_dV_eV_A3
    p = None if pressure_kbar is None else np.asarray(pressure_kbar, float)
    if p is not None and K is not None:
        c = dEdV * v_atom / (K * 10.0 / KBAR_PER_EV_A3)  # eV/atom per (eV/Å³)
        h = e_atom + c * p / KBAR_PER_EV_A3
    else:
        c = 0.0
        h = e_atom
    hs = series_stats(h)
    es = series_stats(e_atom, t0=hs.t0)
    ps = series_stats(p, t0=hs.t0) if p is not None else None
    correction = hs.mean - es.mean
    if p is None:
        flag("no_pressure", f"{label}: no pressure in the output (ISIF = 0 computes no stress); the "
                            "volume cannot be checked and H(p=0) cannot be corrected")
    elif K is None:
        flag("no_volume_fit", f"{label}: no volume-search fit (K_T, ∂E/∂V); H0 = ⟨E⟩ without the "
                              f"first-order correction for p̄ = {ps.mean:.2f} kbar")
    if ps is not None and not (abs(ps.mean) < p_window_kbar and ps.sem < p_sem_max_kbar):
        flag("pressure_window", f"{label}: p̄ = {ps.mean:.2f} ± {ps.sem:.2f} kbar is outside the window "
                                f"|p̄| < {p_window_kbar:g} kbar with SEM < {p_sem_max_kbar:g} kbar")
    n_eff = min(hs.n_eff, ps.n_eff) if ps is not None else hs.n_eff
    if n_eff < min_n_eff:
        flag("short", f"{label}: N_eff = {n_eff:.0f} < {min_n_eff:g} after discarding {hs.t0} "
                      "equilibration steps; extend the run")
    T_mean = None
    if temperature_K is not None and len(temperature_K):
        ts = series_stats(np.asarray(temperature_K, float), t0=hs.t0)
        T_mean = ts.mean
        # a thermostat failure is a systematic offset: beyond 3 SEM of the (noisy, small-cell) mean
        # and beyond T_tolerance of the target
        if T_K and abs(T_mean - T_K) > 3 * ts.sem + T_tolerance * T_K:
            flag("temperature_off", f"{label}: mean temperature {T_mean:.0f} ± {ts.sem:.0f} K differs from "
                                    f"the thermostat's {T_K:.0f} K by more than 3 SEM + {T_tolerance:.0%}")
    d_nn = nearest_neighbour_distance(v_atom)
    msd_min = float(min_msd_A2) if min_msd_A2 is not None else (0.5 * d_nn) ** 2
    msd = liquid = None
    if positions is not None and len(positions) > hs.t0 + 1:
        msd = mean_square_displacement(np.asarray(positions)[hs.t0:], cell, fractional=fractional)
        liquid = msd >= msd_min
        if not liquid:
            flag("not_liquid", f"{label}: MSD = {msd:.2f} Å² over the analysed window is below "
                               f"{msd_min:.2f} Å² = (½·d_nn)²; the run is not a liquid (crystallised or "
                               "arrested) — check g(r) and raise T")
    else:
        notes.append(f"{label}: no positions in the output; liquidity not checked")
    if steps_lost:
        notes.append(f"{label}: {steps_lost} partial step(s) dropped from a truncated output")
    element_keys = {el: settings.key([el]) for el in elements}
    sdict = settings.to_dict() if hasattr(settings, "to_dict") else dict(settings)
    return RunAnalysis(
        label=label, path=str(path), composition=comp, n_atoms=int(n_atoms), T_K=float(T_K),
        T_mean_K=T_mean, n_steps=int(len(e_atom)), steps_lost=int(steps_lost), E_eV=es.mean,
        E_sem_eV=es.sem, H0_eV=hs.mean, H0_sem_eV=hs.sem,
        H_pV_eV=(es.mean + ps.mean / KBAR_PER_EV_A3 * v_atom) if ps is not None else None,
        correction_eV=float(correction), p_kbar=ps.mean if ps else None, p_sem_kbar=ps.sem if ps else None,
        p_ext_kbar=float(np.mean(np.asarray(p_ext_kbar)[hs.t0:])) if p_ext_kbar is not None else None,
        p_kin_kbar=float(np.mean(np.asarray(p_kin_kbar)[hs.t0:])) if p_kin_kbar is not None else None,
        volume_A3=v_atom, K_T_GPa=K, dE_dV_eV_A3=dEdV, t0=hs.t0, g=hs.g, n_eff=float(n_eff),
        msd_A2=msd, msd_min_A2=msd_min, liquid=liquid, settings=sdict, element_keys=element_keys,
        energy=energy, source=source, files=tuple(files), code_version=code_version,
        volume_fit=volume_fit.to_dict() if volume_fit is not None else None, flags=tuple(flags),
        notes=tuple(notes))


def analyze_run(traj, *, volume_fit: VolumeFit | None = None, label: str = "", **limits) -> RunAnalysis:
    """Analyse a VASP :class:`~mixcalphad.aimd.vasp_outputs.MDTrajectory` (see :func:`analyze_series`)."""
    from mixcalphad.aimd.vasp_outputs import ENERGY_DEFINITION

    settings = traj.settings()
    extra = []
    if any("ETOTAL" in w for w in traj.warnings):
        extra.append(("energy_bookkeeping", next(w for w in traj.warnings if "ETOTAL" in w)))
    if traj.top_band_occupation is not None and traj.top_band_occupation > TOP_BAND_OCCUPATION_MAX:
        extra.append(("top_band_occupied", f"{label}: the highest band holds {traj.top_band_occupation:.2e} "
                                           "electrons at the last step; raise NBANDS"))
    teend = traj.incar.get("TEEND")
    if teend is not None and abs(float(teend) - settings.T_K) > 1e-6:
        extra.append(("temperature_off", f"{label}: TEBEG = {settings.T_K:g} K but TEEND = {teend} K "
                                         "(a temperature ramp is not an equilibrium run)"))
    volume = float(np.mean(traj.volume))
    return analyze_series(
        energy_eV=traj.energy(ENERGY_DEFINITION), n_atoms=traj.n_atoms, volume_A3=volume,
        T_K=settings.T_K, settings=settings, symbols=traj.symbols, pressure_kbar=traj.pressure_kbar,
        p_ext_kbar=traj.p_ext_kbar, p_kin_kbar=traj.p_kin_kbar, temperature_K=traj.temperature_K,
        positions=traj.positions, cell=traj.cell, fractional=True, volume_fit=volume_fit,
        label=label or str(traj.path), path=str(traj.path), energy=ENERGY_DEFINITION,
        source=traj.source, files=traj.files, code_version=traj.version, steps_lost=traj.steps_lost,
        extra_flags=extra, **limits)


def volume_point(analysis_or_traj, label: str = "") -> VolumePoint:
    """A :class:`VolumePoint` from a stage run (an MDTrajectory or a RunAnalysis of one)."""
    from mixcalphad.aimd.vasp_outputs import ENERGY_DEFINITION, MDTrajectory

    if isinstance(analysis_or_traj, MDTrajectory):
        traj = analysis_or_traj
        p = traj.pressure_kbar
        if p is None:
            raise AIMDParseError(traj.path, "stage run has no pressure (ISIF = 0?); the volume search needs it")
        e = traj.energy(ENERGY_DEFINITION) / traj.n_atoms
        es = series_stats(e)
        ps = series_stats(p, t0=es.t0)
        return VolumePoint(label or str(traj.path), float(np.mean(traj.volume)), ps.mean, ps.sem, es.mean,
                           es.sem, min(es.n_eff, ps.n_eff))
    a = analysis_or_traj
    return VolumePoint(label or a.label, a.volume_A3 * a.n_atoms, a.p_kbar, a.p_sem_kbar, a.E_eV,
                       a.E_sem_eV, a.n_eff)


# ---------------------------------------------------------------------- ΔH_mix
@dataclass(frozen=True)
class MixingResult:
    """ΔH_mix of one binary point from an alloy run and its two pure references.

    Attributes
    ----------
    system : str
        Sorted pair, ``"AL-IR"``.
    x_B : float
        Mole fraction of the second element of the sorted pair.
    T_K : float
    HM_MIX_J, sigma_J : float
        ΔH_mix from H(p = 0) and its standard error, J/mol of atoms.
    HM_MIX_raw_J : float
        From ⟨E⟩ without the pressure correction, J/mol (raw).
    HM_MIX_pV_J : float or None
        From ⟨E⟩ + p̄V, J/mol (raw; H at each run's p̄, not at 0).
    runs : dict
        ``pure_a``, ``pure_b``, ``alloy`` → :class:`RunAnalysis`.
    flags : tuple of str
        ``<role>:<flag>`` per run, and ``indistinguishable_from_zero`` when |ΔH| < 2σ.
    """

    system: str
    x_B: float
    T_K: float
    HM_MIX_J: float
    sigma_J: float
    HM_MIX_raw_J: float
    HM_MIX_pV_J: float | None
    runs: Mapping[str, RunAnalysis]
    flags: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def blocking_flags(self) -> tuple[str, ...]:
        return tuple(f for f in self.flags if f.split(":")[-1] in BLOCKING_FLAGS)

    @property
    def settings_key(self) -> str:
        """Settings key of the alloy run (all its elements)."""
        alloy = self.runs["alloy"]
        keys = [json.loads(k) for k in alloy.element_keys.values()]
        merged = dict(keys[0])
        if "potcars" in merged:
            merged["potcars"] = {k: v for d in keys for k, v in d.get("potcars", {}).items()}
        return json.dumps(merged, sort_keys=True, separators=(",", ":"))

    def to_dict(self) -> dict:
        return {"system": self.system, "x_B": self.x_B, "T_K": self.T_K, "HM_MIX_J": self.HM_MIX_J,
                "sigma_J": self.sigma_J, "HM_MIX_raw_J": self.HM_MIX_raw_J, "HM_MIX_pV_J": self.HM_MIX_pV_J,
                "flags": list(self.flags), "notes": list(self.notes),
                "runs": {role: r.to_dict() for role, r in self.runs.items()}}

    def summary(self) -> dict:
        """A short JSON-ready dict: value, σ, T, and p̄ ± SEM, N_eff, flags per run."""
        return {"system": self.system, "x_B": round(self.x_B, 6), "T_K": self.T_K,
                "HM_MIX_J": self.HM_MIX_J, "sigma_J": self.sigma_J, "flags": list(self.flags),
                "runs": {role: {"path": r.path, "composition": dict(r.composition), "T_K": r.T_K,
                                "T_mean_K": r.T_mean_K, "p_kbar": r.p_kbar, "p_sem_kbar": r.p_sem_kbar,
                                "n_eff": r.n_eff, "n_steps": r.n_steps, "msd_A2": r.msd_A2,
                                "H0_eV_atom": r.H0_eV, "flags": list(r.flags)}
                         for role, r in self.runs.items()}}


def check_compatible(pure_a: RunAnalysis, pure_b: RunAnalysis, alloy: RunAnalysis) -> tuple[str, str]:
    """Check that three runs can be combined; returns the sorted pair (A, B).

    Raises
    ------
    SettingsMismatchError
        Wrong compositions, or settings that differ in any non-composition field (T, N, code,
        functional, POTCAR, ENCUT, smearing, time step, thermostat, energy definition…).
    """
    if len(alloy.composition) != 2:
        raise SettingsMismatchError(f"alloy run {alloy.label} has {len(alloy.composition)} element(s) "
                                    f"{sorted(alloy.composition)}; a binary alloy needs two")
    a, b = sorted_pair(*alloy.composition)
    pures = {}
    for run in (pure_a, pure_b):
        if len(run.composition) != 1:
            raise SettingsMismatchError(f"pure reference run {run.label} contains {sorted(run.composition)}")
        pures[next(iter(run.composition))] = run
    if set(pures) != {a, b}:
        raise SettingsMismatchError(f"pure runs are {sorted(pures)} but the alloy {alloy.label} is {a}-{b}")
    for el in (a, b):
        ka, kp = alloy.element_keys[el], pures[el].element_keys[el]
        if ka != kp:
            diff = settings_diff(json.loads(ka), json.loads(kp))
            shown = ", ".join(f"{k}: {v[0]!r} vs {v[1]!r}" for k, v in diff.items())
            raise SettingsMismatchError(
                f"alloy run {alloy.label} and pure {el} run {pures[el].label} differ in {shown}; ΔH_mix "
                "needs identical T, N, code, functional, POTCARs, ENCUT, smearing, time step, thermostat "
                "and energy definition")
    return a, b


def mixing_enthalpy(pure_a: RunAnalysis, pure_b: RunAnalysis, alloy: RunAnalysis) -> MixingResult:
    """ΔH_mix = H_AB − x_A·H_A − x_B·H_B with σ, from three analysed runs (any order of the pures).

    Returns
    -------
    MixingResult
        In J/mol of atoms; σ = sqrt(σ_AB² + x_A²σ_A² + x_B²σ_B²) (independent runs).

    Raises
    ------
    SettingsMismatchError
        See :func:`check_compatible`.
    """
    a, b = check_compatible(pure_a, pure_b, alloy)
    pures = {next(iter(r.composition)): r for r in (pure_a, pure_b)}
    ra, rb = pures[a], pures[b]
    xb = alloy.composition[b] / alloy.n_atoms
    xa = 1.0 - xb

    def combine(attr):
        vals = [getattr(r, attr) for r in (alloy, ra, rb)]
        if any(v is None for v in vals):
            return None
        return (vals[0] - xa * vals[1] - xb * vals[2]) * EV_TO_J_PER_MOL

    dh = combine("H0_eV")
    sigma = math.sqrt(alloy.H0_sem_eV ** 2 + (xa * ra.H0_sem_eV) ** 2 + (xb * rb.H0_sem_eV) ** 2) * EV_TO_J_PER_MOL
    flags, notes = [], []
    for role, run in (("pure_a", ra), ("pure_b", rb), ("alloy", alloy)):
        flags += [f"{role}:{f}" for f in run.flags]
        notes += list(run.notes)
    if abs(dh) < 2 * sigma:
        flags.append("indistinguishable_from_zero")
        notes.append(f"|ΔH_mix| = {abs(dh):.0f} J/mol < 2σ = {2 * sigma:.0f} J/mol: compatible with 0")
    return MixingResult(f"{a}-{b}", float(xb), float(alloy.T_K), float(dh), float(sigma),
                        float(combine("E_eV")), combine("H_pV_eV"),
                        {"pure_a": ra, "pure_b": rb, "alloy": alloy}, tuple(flags), tuple(notes))
