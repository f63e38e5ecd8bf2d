"""ASE calculators and integrators of local MD runs: EMT (a pipeline stand-in) and the universal
potentials CHGNet and SevenNet, whose weights ship in their wheels and load offline (optional:
``pip install chgnet`` / ``pip install sevenn``, on a CPU torch); the thermostats; the pressure with its
kinetic term; recorded MD segments.

EMT: ``emt`` is ASE's Python EMT with ``asap_cutoff=True`` (the global cutoff from the largest atom
present, as ASAP and the EMT literature do; ASE's default takes it from the largest atom of its table and
shifts Cu/Ni energies by 7–13 meV/atom). ``asap3`` is the same potential in ASAP (optional:
``pip install asap3``, a C++ build of a few minutes): energies agree with ``emt`` to 10⁻⁵ eV/atom and a
64-atom step costs ~0.3 ms instead of ~25 ms, which is what long enough runs of the reference case need.

SevenNet: ``sevenn`` 0.13.0 (py3-none-any wheel, 43 MB) ships SevenNet-0 (``7net-0``, the default),
``7net-l3i5`` and the multi-fidelity ``7net-mf-0`` checkpoints; it needs e3nn and torch_geometric and
accepts torch 2.13.0+cpu (``pip install sevenn`` leaves torch as it is; checked offline here).

MLIPs run on the CPU with one torch thread (two threads made CHGNet ten times slower on a small
shared machine; ``shared/reference/aimd.md``).
"""
from __future__ import annotations

import os
import warnings
from typing import Iterable

import numpy as np

from mixcalphad.chem.binaries import normalize_symbol
from mixcalphad.errors import OptionalDependencyError, ProtocolError
from mixcalphad.aimd.settings import CALCULATORS, EMT_CALCULATORS, KBAR_PER_EV_A3, LocalSettings

#: SevenNet models whose checkpoints ship in the sevenn wheel (single-fidelity; 7net-mf-0 needs a modal).
SEVENNET_OFFLINE_MODELS = ("7net-0", "7net-0_11jul2024", "7net-0_22may2024", "7net-l3i5")
#: Elements ASE's EMT has parameters for (metals).
EMT_ELEMENTS = ("AL", "CU", "AG", "AU", "NI", "PD", "PT")


def limit_threads() -> None:
    """One OpenMP and one torch thread per process (local MD runs in parallel processes)."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover - only with the MLIP extras
        pass


def make_calculator(name: str, *, model: str | None = None):
    """An ASE calculator and its version label.

    Parameters
    ----------
    name : str
        ``emt``, ``asap3``, ``chgnet`` or ``sevennet``.
    model : str, optional
        CHGNet model version (``0.3.0``, ``0.2.0``, ``r2scan``) or SevenNet model (``7net-0``,
        ``7net-l3i5``…).

    Returns
    -------
    (calculator, version) : (ase.calculators.calculator.Calculator, str)

    Raises
    ------
    OptionalDependencyError
        asap3, chgnet or sevenn is not installed.
    """
    if name == "emt":
        import ase
        from ase.calculators.emt import EMT

        return EMT(asap_cutoff=True), f"ase {ase.__version__} asap_cutoff"
    if name == "asap3":
        try:
            import asap3
        except ImportError:
            raise OptionalDependencyError("the asap3 calculator needs 'pip install asap3' (builds from source, "
                                          "a few minutes); 'emt' is the same potential in ASE") from None
        return asap3.EMT(), f"asap3 {asap3.__version__}"
    if name == "chgnet":
        try:
            import chgnet
            from chgnet.model import CHGNet
            from chgnet.model.dynamics import CHGNetCalculator
        except ImportError:
            raise OptionalDependencyError("the chgnet calculator needs 'pip install chgnet' (weights ship in "
                                          "the wheel)") from None
        limit_threads()
        mdl = CHGNet.load(model_name=model, verbose=False) if model else CHGNet.load(verbose=False)
        return CHGNetCalculator(model=mdl, use_device="cpu"), f"chgnet {chgnet.__version__} {model or 'default'}"
    if name == "sevennet":
        try:
            import sevenn
            from sevenn.calculator import SevenNetCalculator
        except ImportError as exc:
            raise OptionalDependencyError(f"the sevennet calculator needs 'pip install sevenn' (weights ship in "
                                          f"the wheel; it needs torch, e3nn and torch_geometric): {exc}") from None
        limit_threads()
        mdl = model or "7net-0"
        if mdl.lower() not in SEVENNET_OFFLINE_MODELS and not os.path.isfile(mdl):
            raise ProtocolError(f"SevenNet model {mdl!r} is not in the sevenn wheel (offline: "
                                f"{', '.join(SEVENNET_OFFLINE_MODELS)}); the others (7net-omat, 7net-omni…) are "
                                "downloaded on first use — pass the path of a downloaded checkpoint instead")
        with warnings.catch_warnings():
            # its CUDA tensor-product accelerators do not apply to a CPU run
            warnings.filterwarnings("ignore", message="No tensor product accelerator")
            calc = SevenNetCalculator(model=mdl, device="cpu")
        return calc, f"sevenn {sevenn.__version__} {mdl}"
    raise ProtocolError(f"unknown calculator {name!r}; use one of {CALCULATORS}")


def calculator_version(name: str, model: str | None = None) -> str:
    """The version label of a calculator without building it (EMT) or by building it (MLIPs)."""
    if name == "emt":
        import ase

        return f"ase {ase.__version__} asap_cutoff"
    return make_calculator(name, model=model)[1]


def check_calculator_elements(calculator: str, elements: Iterable[str]) -> None:
    """Raise :class:`ProtocolError` for elements EMT has no parameters for."""
    if calculator in EMT_CALCULATORS:
        bad = sorted({normalize_symbol(e) for e in elements} - set(EMT_ELEMENTS))
        if bad:
            raise ProtocolError(f"EMT has no parameters for {', '.join(bad)}; it covers "
                                f"{', '.join(EMT_ELEMENTS)} (use --calculator chgnet or sevennet)")


# ---------------------------------------------------------------------- dynamics
def make_dynamics(atoms, settings: LocalSettings, rng: np.random.Generator):
    """The ASE NVT integrator of ``settings`` (Langevin, Bussi or Nosé–Hoover chain) at T_K, time step in fs."""
    from ase import units

    dt = settings.timestep_fs * units.fs
    if settings.thermostat == "langevin":
        from ase.md.langevin import Langevin

        return Langevin(atoms, dt, temperature_K=settings.T_K, friction=1.0 / (settings.damping_fs * units.fs),
                        fixcm=False, rng=rng)
    if settings.thermostat == "bussi":
        from ase.md.bussi import Bussi

        return Bussi(atoms, dt, temperature_K=settings.T_K, taut=settings.damping_fs * units.fs, rng=rng)
    try:
        from ase.md.nose_hoover_chain import NoseHooverChainNVT
    except ImportError:  # pragma: no cover - old ASE
        raise OptionalDependencyError("the nose-hoover thermostat needs ASE ≥ 3.24") from None
    return NoseHooverChainNVT(atoms, dt, temperature_K=settings.T_K, tdamp=settings.damping_fs * units.fs)


def thermalize(atoms, T_K: float, rng: np.random.Generator) -> None:
    """Maxwell–Boltzmann momenta at ``T_K`` (K), centre-of-mass motion removed."""
    try:
        from ase.md import thermalize_momenta

        thermalize_momenta(atoms, T_K, rng=rng)
    except ImportError:  # ASE < 3.29
        from ase.md.velocitydistribution import MaxwellBoltzmannDistribution

        MaxwellBoltzmannDistribution(atoms, temperature_K=T_K, rng=rng)
    from ase.md.velocitydistribution import Stationary

    Stationary(atoms)


def pressure_kbar(atoms) -> tuple[float, float]:
    """(total, kinetic) pressure of an ASE Atoms with momenta, kbar.

    Total = −trace(stress)/3 with ``include_ideal_gas=True`` (the kinetic term included);
    kinetic = total minus the virial part, which equals 2·E_kin/(3V).
    """
    static = atoms.get_stress(voigt=True, include_ideal_gas=False)
    full = atoms.get_stress(voigt=True, include_ideal_gas=True)
    p_tot = -float(np.mean(full[:3])) * KBAR_PER_EV_A3
    p_ext = -float(np.mean(static[:3])) * KBAR_PER_EV_A3
    return p_tot, p_tot - p_ext


def run_segment(atoms, dyn, n_steps: int, *, positions: bool = False, every: int = 1) -> dict:
    """Run ``n_steps`` of ``dyn`` sampling every ``every`` steps: arrays ``e`` (total energy, eV),
    ``p`` and ``p_kin`` (kbar), ``T`` (K) and, with ``positions``, ``pos`` (Å)."""
    rec: dict[str, list] = {"e": [], "p": [], "p_kin": [], "T": [], "pos": []}

    def sample():
        epot = atoms.get_potential_energy()
        ekin = atoms.get_kinetic_energy()
        p, pk = pressure_kbar(atoms)
        rec["e"].append(epot + ekin)
        rec["p"].append(p)
        rec["p_kin"].append(pk)
        rec["T"].append(atoms.get_temperature())
        if positions:
            rec["pos"].append(atoms.get_positions(wrap=False))

    dyn.attach(sample, interval=every)
    try:
        dyn.run(n_steps)
    finally:
        dyn.observers.clear()
    return {k: np.asarray(v) for k, v in rec.items()}
