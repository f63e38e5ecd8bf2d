"""Analysis of one MD run: H(p = 0) with its SEM, the pressure window, N_eff, temperature, liquidity
(MSD and g(r)) and phase separation — every raw quantity kept, flags where a check fails.

Units: eV/atom, Å³/atom, kbar and GPa inside; ΔH_mix in J/mol of atoms is :mod:`.mixing`'s.

* H(p = 0) (:func:`analyze_series`): ``H0 = ⟨E⟩ + (∂E/∂V)_T · V · p̄ / K_T`` with (∂E/∂V)_T and
  K_T from the volume search's linear fits, carried to the run's volume (:mod:`.volume`, which also
  bounds the error of this correction and accepts the volume by it); its SEM comes from the per-step series
  ``E_t + (∂E/∂V)·V·p_t/K_T``, so the correlation of E and p within the run is accounted for. The raw
  ⟨E⟩ and ⟨E⟩ + p̄V are kept beside it (the latter is H at p̄, not at 0, and noisier).
* Equilibration and SEM: :mod:`.statistics`. The *kept* production (after the detected
  equilibration) must reach ``min_kept_ps`` (the protocol's 10 ps), else ``short``.
* Liquidity and phase separation: :mod:`.structure`.
"""
from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from mixcalphad.errors import AIMDParseError
from mixcalphad.aimd.protocol import PROTOCOL
from mixcalphad.aimd.settings import KBAR_PER_EV_A3, check_positive
from mixcalphad.aimd.statistics import series_stats
from mixcalphad.aimd.structure import (liquid_msd_min_A2, mean_square_displacement, stage_is_liquid,
                                       structure_check)
from mixcalphad.aimd.volume import VolumeFit, VolumePoint, acceptance_limits

log = logging.getLogger(__name__)

#: Flags that keep a run (and the ΔH_mix made from it) out of the store unless forced.
BLOCKING_FLAGS = ("pressure_window", "no_pressure", "short", "not_liquid", "crystalline", "phase_separated",
                  "energy_bookkeeping", "temperature_off", "top_band_occupied", "no_steps")
#: Occupation (of 1) of the highest band above which there are too few empty bands (raise NBANDS).
TOP_BAND_OCCUPATION_MAX = 1e-4


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
    kept_ps: float | None = None
    structure: Mapping | None = None

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


@dataclass(frozen=True)
class AcceptanceLimits:
    """Limits a production run is flagged against (:func:`analyze_series`); checked on construction.

    Attributes
    ----------
    p_window_kbar : float
        ``pressure_window`` when |p̄| ≥ this, kbar.
    h0_bias_max_J : float
        ``pressure_window`` too when, with a volume fit, the first-order H(p = 0) correction may be
        off by more than this at |p̄| + 2·SEM (:meth:`~mixcalphad.aimd.volume.VolumeFit.h0_bias_J`), J/mol.
    min_n_eff : float
        ``short`` below this many effective samples.
    min_msd_A2 : float, optional
        ``not_liquid`` below this mean-square displacement, Å² (default (½·d_nn)²).
    T_tolerance : float
        ``temperature_off`` when the mean temperature is off by more than 3 SEM + this fraction of T.
    min_kept_ps : float, optional
        ``short`` when less production than this is kept after the equilibration, ps.

    Raises
    ------
    ProtocolError
        A limit that is not a positive number (≥ 0 for ``min_msd_A2`` and ``T_tolerance``).
    """

    p_window_kbar: float = PROTOCOL["p_window_kbar"]
    h0_bias_max_J: float = PROTOCOL["h0_bias_max_J"]
    min_n_eff: float = PROTOCOL["min_n_eff"]
    min_msd_A2: float | None = None
    T_tolerance: float = 0.02
    min_kept_ps: float | None = None

    def __post_init__(self):
        for name in ("p_window_kbar", "h0_bias_max_J", "min_n_eff", "min_kept_ps"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, check_positive(getattr(self, name), name))
        for name in ("min_msd_A2", "T_tolerance"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, check_positive(getattr(self, name), name, allow_zero=True))

    @classmethod
    def from_protocol(cls, protocol: Mapping | None = None, **changes) -> "AcceptanceLimits":
        """The limits of a runs manifest's protocol (defaults filled in); a protocol with a production
        length must keep it after the equilibration (``min_kept_ps``)."""
        merged = dict(PROTOCOL, **(protocol or {}))
        base = {**acceptance_limits(merged), "min_n_eff": merged["min_n_eff"]}
        if protocol and "production_ps" in protocol:
            base["min_kept_ps"] = protocol["production_ps"]
        return cls(**{**base, **changes})

    def replace(self, **changes) -> "AcceptanceLimits":
        """A copy with ``changes`` (checked again)."""
        return dataclasses.replace(self, **changes)

    def volume_search(self) -> dict:
        """The two limits the volume search accepts a stage by (:func:`~mixcalphad.aimd.volume.fit_volume`)."""
        return {"p_window_kbar": self.p_window_kbar, "h0_bias_max_J": self.h0_bias_max_J}

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True, eq=False)
class ProductionSeries:
    """Per-step arrays of one NVT production run (the input of :func:`analyze_series`).

    Attributes
    ----------
    energy_eV : array
        Per-step energy of the whole cell, eV (``e_wo_entrp + EKIN`` for VASP, E_pot + E_kin for an
        ASE calculator).
    n_atoms : int
    volume_A3 : float
        Cell volume (NVT), Å³.
    T_K : float
        Thermostat temperature, K.
    symbols : sequence of str
        One upper-case symbol per atom.
    pressure_kbar : array, optional
        Per-step total pressure *including the kinetic term*, kbar.
    p_ext_kbar, p_kin_kbar : array, optional
        Its virial and kinetic parts (kept as raw quantities), kbar.
    temperature_K : array, optional
        Per-step temperature, K.
    positions, cell, fractional
        Per-step positions (fractional, or Å with ``fractional=False``) and the cell (Å), for the
        liquidity check (see :func:`mean_square_displacement`).
    timestep_fs : float, optional
        Time between two samples, fs.
    steps_lost : int
        Partial steps dropped from a truncated output.

    Raises
    ------
    ProtocolError
        ``n_atoms`` not a positive whole number, ``volume_A3`` not > 0, ``T_K`` negative,
        ``timestep_fs`` not > 0, ``steps_lost`` negative.
    """

    energy_eV: np.ndarray
    n_atoms: int
    volume_A3: float
    T_K: float
    symbols: Sequence[str]
    pressure_kbar: np.ndarray | None = None
    p_ext_kbar: np.ndarray | None = None
    p_kin_kbar: np.ndarray | None = None
    temperature_K: np.ndarray | None = None
    positions: np.ndarray | None = None
    cell: np.ndarray | None = None
    fractional: bool = True
    timestep_fs: float | None = None
    steps_lost: int = 0

    def __post_init__(self):
        object.__setattr__(self, "n_atoms", check_positive(self.n_atoms, "n_atoms", integer=True))
        object.__setattr__(self, "volume_A3", check_positive(self.volume_A3, "volume_A3"))
        object.__setattr__(self, "T_K", check_positive(self.T_K, "T_K", allow_zero=True))
        object.__setattr__(self, "steps_lost", check_positive(self.steps_lost, "steps_lost", allow_zero=True,
                                                              integer=True))
        if self.timestep_fs is not None:
            object.__setattr__(self, "timestep_fs", check_positive(self.timestep_fs, "timestep_fs"))


@dataclass(frozen=True)
class RunOrigin:
    """Where a run comes from, kept with its analysis.

    Attributes
    ----------
    label : str
        Name in messages and tables.
    path : str
        Its folder or file.
    energy : str
        The energy definition used (e.g. ``e_wo_entrp+ekin``).
    source : str
        Which output was read (``vasprun.xml``, ``ase emt``…).
    files : tuple of str
        The files read.
    code_version : str
        VASP's or the calculator's version.
    """

    label: str = ""
    path: str = ""
    energy: str = ""
    source: str = ""
    files: tuple[str, ...] = ()
    code_version: str = ""


def analyze_series(series: ProductionSeries, settings, *, volume_fit: VolumeFit | None = None,
                   origin: RunOrigin = RunOrigin(), limits: AcceptanceLimits = AcceptanceLimits(),
                   extra_flags: Sequence[tuple[str, str]] = ()) -> RunAnalysis:
    """Analyse one production run given as per-step arrays.

    Parameters
    ----------
    series : ProductionSeries
        The per-step data (energies eV, pressures kbar, temperatures K, positions).
    settings
        The run's settings: an object with ``key(elements)`` and ``to_dict()``.
    volume_fit : VolumeFit, optional
        Source of K_T and (∂E/∂V)_T for H(p = 0); without it H0 = ⟨E⟩ and ``no_volume_fit`` is flagged.
    origin : RunOrigin
        Label, path and provenance kept with the result.
    limits : AcceptanceLimits
        What is flagged: the pressure (``pressure_window``) when |p̄| ≥ ``p_window_kbar`` or, with a
        volume fit, when the error that the first-order H(p = 0) correction may make at |p̄| + 2·SEM
        exceeds ``h0_bias_max_J``; a production shorter than ``min_kept_ps`` once the detected
        equilibration is discarded (``short``, with the time still needed); and the rest of
        :class:`AcceptanceLimits`.
    extra_flags : sequence of (flag, note)
        Flags found while reading (truncation, bookkeeping…).

    Returns
    -------
    RunAnalysis

    Raises
    ------
    AIMDParseError
        No complete MD step.
    """
    energy_eV, n_atoms, volume_A3, T_K = series.energy_eV, series.n_atoms, series.volume_A3, series.T_K
    symbols, label, path = series.symbols, origin.label, origin.path
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
        # K_T and (∂E/∂V)_T at this run's volume (carried from the stages' mean volume, :mod:`.volume`)
        K, dEdV = volume_fit.K_T_kbar_at(volume_A3) / 10.0, volume_fit.dE_dV_at(volume_A3)
        if not K > 0:
            K, dEdV = volume_fit.K_T_GPa, volume_fit.dE_dV_eV_A3
    p = None if series.pressure_kbar is None else np.asarray(series.pressure_kbar, float)
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
    if ps is not None and not abs(ps.mean) < limits.p_window_kbar:
        flag("pressure_window", f"{label}: p̄ = {ps.mean:.2f} ± {ps.sem:.2f} kbar is outside the window "
                                f"|p̄| < {limits.p_window_kbar:g} kbar")
    elif ps is not None and K is not None:
        bias = volume_fit.h0_bias_J(abs(ps.mean) + 2 * ps.sem, volume_A3)
        if not bias <= limits.h0_bias_max_J:
            flag("pressure_window", f"{label}: p̄ = {ps.mean:.2f} ± {ps.sem:.2f} kbar: at |p̄| + 2·SEM the H(p=0) "
                                    f"correction may be off by {bias:.0f} J/mol > {limits.h0_bias_max_J:g} J/mol "
                                    "(volume-fit uncertainty); refine the volume or extend the run")
    n_eff = min(hs.n_eff, ps.n_eff) if ps is not None else hs.n_eff
    if n_eff < limits.min_n_eff:
        flag("short", f"{label}: N_eff = {n_eff:.0f} < {limits.min_n_eff:g} after discarding {hs.t0} "
                      "equilibration steps; extend the run")
    kept_ps = (len(e_atom) - hs.t0) * series.timestep_fs / 1000.0 if series.timestep_fs else None
    min_kept_ps = limits.min_kept_ps
    if min_kept_ps and kept_ps is not None and kept_ps < min_kept_ps - 1e-9:
        flag("short", f"{label}: {kept_ps:.2f} ps kept after discarding {hs.t0} equilibration steps, "
                      f"fewer than the {min_kept_ps:g} ps production; extend the run by "
                      f"{min_kept_ps - kept_ps:.2f} ps (restart from CONTCAR)")
    T_mean = None
    if series.temperature_K is not None and len(series.temperature_K):
        ts = series_stats(np.asarray(series.temperature_K, float), t0=hs.t0)
        T_mean = ts.mean
        # a thermostat failure is a systematic offset: beyond 3 SEM of the (noisy, small-cell) mean
        # and beyond T_tolerance of the target
        if T_K and abs(T_mean - T_K) > 3 * ts.sem + limits.T_tolerance * T_K:
            flag("temperature_off", f"{label}: mean temperature {T_mean:.0f} ± {ts.sem:.0f} K differs from "
                                    f"the thermostat's {T_K:.0f} K by more than 3 SEM + {limits.T_tolerance:.0%}")
    msd_min = float(limits.min_msd_A2) if limits.min_msd_A2 is not None else liquid_msd_min_A2(v_atom)
    msd = liquid = structure = None
    positions, cell, fractional = series.positions, series.cell, series.fractional
    if positions is not None and len(positions) > hs.t0 + 1:
        window = np.asarray(positions)[hs.t0:]
        msd = mean_square_displacement(window, cell, fractional=fractional)
        liquid = msd >= msd_min
        if not liquid:
            flag("not_liquid", f"{label}: MSD = {msd:.2f} Å² over the analysed window is below "
                               f"{msd_min:.2f} Å² = (½·d_nn)²; the run is not a liquid (crystallised or "
                               "arrested) — check g(r) and raise T")
        if cell is not None:
            structure = structure_check(window, cell, symbols, fractional=fractional)
            _structure_flags(structure, label, flag)
            liquid = bool(liquid and not structure.crystalline)
    else:
        notes.append(f"{label}: no positions in the output; liquidity not checked")
    if series.steps_lost:
        notes.append(f"{label}: {series.steps_lost} partial step(s) dropped from a truncated output")
    element_keys = {el: settings.key([el]) for el in elements}
    sdict = settings.to_dict() if hasattr(settings, "to_dict") else dict(settings)
    return RunAnalysis(
        label=label, path=str(path), composition=comp, n_atoms=int(n_atoms), T_K=float(T_K),
        T_mean_K=T_mean, n_steps=int(len(e_atom)), steps_lost=series.steps_lost, E_eV=es.mean,
        E_sem_eV=es.sem, H0_eV=hs.mean, H0_sem_eV=hs.sem,
        H_pV_eV=(es.mean + ps.mean / KBAR_PER_EV_A3 * v_atom) if ps is not None else None,
        correction_eV=float(correction), p_kbar=ps.mean if ps else None, p_sem_kbar=ps.sem if ps else None,
        p_ext_kbar=float(np.mean(np.asarray(series.p_ext_kbar)[hs.t0:])) if series.p_ext_kbar is not None else None,
        p_kin_kbar=float(np.mean(np.asarray(series.p_kin_kbar)[hs.t0:])) if series.p_kin_kbar is not None else None,
        volume_A3=v_atom, K_T_GPa=K, dE_dV_eV_A3=dEdV, t0=hs.t0, g=hs.g, n_eff=float(n_eff),
        msd_A2=msd, msd_min_A2=msd_min, liquid=liquid, settings=sdict, element_keys=element_keys,
        energy=origin.energy, source=origin.source, files=tuple(origin.files), code_version=origin.code_version,
        volume_fit=volume_fit.to_dict() if volume_fit is not None else None, flags=tuple(flags),
        notes=tuple(notes), kept_ps=kept_ps, structure=structure.to_dict() if structure else None)


def _structure_flags(s, label: str, flag) -> None:
    """Flags of a :class:`~mixcalphad.aimd.structure.StructureCheck`."""
    if s.crystalline:
        flag("crystalline", f"{label}: g(r) is that of a solid (Wendt–Abraham ratio g_min/g_max = "
                            f"{s.wendt_abraham:.3f} < 0.14); the cell crystallised — raise T")
    if s.phase_separated:
        trend = ""
        if s.alpha_wc_first is not None and s.alpha_wc_last is not None:
            trend = f" (first half {s.alpha_wc_first:.2f}, second half {s.alpha_wc_last:.2f})"
        flag("phase_separated", f"{label}: first-shell Warren–Cowley α = {s.alpha_wc:.2f}{trend} > 0.3: like "
                                "neighbours cluster, the liquid separates — report the pair as immiscible, "
                                "not as a ΔH_mix of one homogeneous liquid")


def analyze_run(traj, *, volume_fit: VolumeFit | None = None, label: str = "",
                limits: AcceptanceLimits = AcceptanceLimits()) -> RunAnalysis:
    """Analyse a VASP :class:`~mixcalphad.aimd.vasp_outputs.MDTrajectory` (see :func:`analyze_series`)."""
    from mixcalphad.aimd.trajectory import ENERGY_DEFINITION

    settings = traj.settings()
    extra = []
    if any("ETOTAL" in w for w in traj.warnings):
        extra.append(("energy_bookkeeping", next(w for w in traj.warnings if "ETOTAL" in w)))
    if traj.top_band_occupation is not None and traj.top_band_occupation > TOP_BAND_OCCUPATION_MAX:
        extra.append(("top_band_occupied", f"{label}: the highest band holds {traj.top_band_occupation:.2e} "
                                           "of its capacity at the last step (limit 1e-4): too few empty "
                                           "bands, raise NBANDS"))
    teend = traj.incar.get("TEEND")
    if teend is not None and abs(float(teend) - settings.T_K) > 1e-6:
        extra.append(("temperature_off", f"{label}: TEBEG = {settings.T_K:g} K but TEEND = {teend} K "
                                         "(a temperature ramp is not an equilibrium run)"))
    volume = float(np.mean(traj.volume))
    series = ProductionSeries(
        energy_eV=traj.energy(ENERGY_DEFINITION), n_atoms=traj.n_atoms, volume_A3=volume, T_K=settings.T_K,
        symbols=traj.symbols, pressure_kbar=traj.pressure_kbar, p_ext_kbar=traj.p_ext_kbar,
        p_kin_kbar=traj.p_kin_kbar, temperature_K=traj.temperature_K, positions=traj.positions, cell=traj.cell,
        fractional=True, timestep_fs=traj.timestep_fs, steps_lost=traj.steps_lost)
    origin = RunOrigin(label=label or str(traj.path), path=str(traj.path), energy=ENERGY_DEFINITION,
                       source=traj.source, files=tuple(traj.files), code_version=traj.version)
    return analyze_series(series, settings, volume_fit=volume_fit, origin=origin, limits=limits,
                          extra_flags=extra)


def volume_point(analysis_or_traj, label: str = "") -> VolumePoint:
    """A :class:`VolumePoint` from a stage run (an MDTrajectory or a RunAnalysis of one)."""
    from mixcalphad.aimd.trajectory import ENERGY_DEFINITION, MDTrajectory

    if isinstance(analysis_or_traj, MDTrajectory):
        traj = analysis_or_traj
        p = traj.pressure_kbar
        if p is None:
            raise AIMDParseError(traj.path, "stage run has no pressure (ISIF = 0?); the volume search needs it")
        e = traj.energy(ENERGY_DEFINITION) / traj.n_atoms
        es = series_stats(e)
        ps = series_stats(p, t0=es.t0)
        dt_ps = traj.timestep_fs / 1000.0 if traj.timestep_fs else None
        length = len(e) * dt_ps if dt_ps else None
        volume = float(np.mean(traj.volume))
        liquid = stage_is_liquid(traj.positions, volume / traj.n_atoms, length, traj.cell, fractional=True)
        return VolumePoint(label or str(traj.path), volume, ps.mean, ps.sem, es.mean, es.sem,
                           min(es.n_eff, ps.n_eff), length, ps.g * dt_ps / 2 if dt_ps else None, liquid)
    a = analysis_or_traj
    return VolumePoint(label or a.label, a.volume_A3 * a.n_atoms, a.p_kbar, a.p_sem_kbar, a.E_eV,
                       a.E_sem_eV, a.n_eff)
