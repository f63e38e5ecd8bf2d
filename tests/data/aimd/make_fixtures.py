"""Synthetic VASP MD outputs with designed answers: a stand-in for VASP in the tests.

:func:`fake_vasp` reads a run folder's INCAR, POSCAR and POTCAR.spec as VASP would and writes
vasprun.xml, OUTCAR, OSZICAR and CONTCAR of an NVT run whose averages follow a designed
:class:`Model`:

* total pressure of a liquid, Murnaghan's ``p = (K_T/K′)·((v0/v)^K′ − 1)`` (+ ``p_offset_kbar``) with
  the zero-pressure volume ``v0 = Σ x_i v0_i`` and K′ = ``K_prime`` (5), *including* the kinetic term:
  the virial part written to vasprun's ``stress`` and OUTCAR's ``external pressure`` is
  ``p − 2·EKIN/(3V)``;
* per atom, ``⟨e_wo_entrp + EKIN⟩/N = Σ x_i E0_i + 4 x_A x_B W + A·(v − v0) − ∫_{v0}^{v} p dv`` with a
  thermal pressure ``A = T(∂p/∂T)_V = alpha_T · K_T``, so that (∂E/∂V)_T = A − p as thermodynamics asks;
* F = e_wo_entrp − N·TS_el with a composition-dependent electronic T·S (so the wrong energy,
  F instead of e_wo_entrp, gives a ΔH_mix off by ``TS_mix_extra``), E0 = (F + e_wo_entrp)/2, and
  ETOTAL = F + EKIN + ES + EPS as in VASP;
* AR(1) noise, centred over the production window so the designed mean is exact, plus an initial
  transient that the equilibration detection must cut;
* positions: a random walk (liquid) or small vibrations about the start (crystal).

So H(p=0) of each run is its designed ``Σ x_i E0_i + 4 x_A x_B W`` and ΔH_mix is ``4 x_A x_B W``
(J/mol: :func:`designed_hmix_J`).

As a script: ``python tests/data/aimd/make_fixtures.py OUT`` prepares an AL–IR campaign (10 atoms)
in OUT and runs it to the end with the fake VASP.
"""
from __future__ import annotations

import io
import math
import sys
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mixcalphad.aimd.protocol import liquid_molar_volume_cm3
from mixcalphad.aimd.settings import A3_PER_CM3_MOL, EV_TO_J_PER_MOL, KBAR_PER_EV_A3, K_B_EV
from mixcalphad.aimd.trajectory import read_incar

SEED_OFFSET = 0
POTCAR_DATES = {"Al": "04Jan2001", "Ir": "06Sep2000", "Cu": "22Jun2005", "Ni": "02Aug2007"}
#: ZVAL written into the fake POTCARs (the real PBE.54 values; Al_GW is a made-up odd one).
ZVAL = {"Al": 3.0, "Ir": 9.0, "Cu": 11.0, "Ni": 10.0, "Al_GW": 3.0, "Ir_pv": 15.0}


@dataclass(frozen=True)
class Model:
    """Designed thermodynamics of a binary (eV/atom, GPa, kbar, Å³)."""

    E0: dict = field(default_factory=lambda: {"AL": -3.70, "IR": -8.60, "CU": -3.90})
    v0_scale: dict = field(default_factory=lambda: {"AL": 1.05, "IR": 0.97, "CU": 1.02})
    K_GPa: dict = field(default_factory=lambda: {"AL": 50.0, "IR": 200.0, "CU": 120.0})
    TS_el: dict = field(default_factory=lambda: {"AL": 0.010, "IR": 0.030, "CU": 0.015})
    TS_mix_extra: float = 0.05
    W_eV: float = -70.40e3 / EV_TO_J_PER_MOL  # ΔH_mix(0.5) = −70.40 kJ/mol (the paper's Ir–Al)
    alpha_T: float = 0.3
    sigma_E: float = 0.02
    phi_E: float = 0.8
    sigma_p: float = 8.0
    phi_p: float = 0.6
    transient_eV: float = 0.1
    transient_steps: float = 30.0
    p_offset_kbar: float = 0.0
    K_prime: float = 5.0
    liquid: bool = True
    msd_per_step_A2: float = 0.01
    top_occupation: float = 0.0
    stress: bool = True
    etotal_sign: float = 1.0  # −1: a file whose ETOTAL subtracts EKIN (bookkeeping error)


def designed_hmix_J(model: Model, x_B: float = 0.5) -> float:
    """The designed ΔH_mix, J/mol of atoms."""
    return 4 * x_B * (1 - x_B) * model.W_eV * EV_TO_J_PER_MOL


def designed_H_eV(model: Model, composition: dict) -> float:
    """Designed H(p=0) per atom, eV."""
    n = sum(composition.values())
    x = {el: c / n for el, c in composition.items()}
    h = sum(x[el] * model.E0[el] for el in x)
    if len(x) == 2:
        xa, xb = x.values()
        h += 4 * xa * xb * model.W_eV
    return h


def _ar1(rng, n, sigma, phi):
    out = np.empty(n)
    out[0] = rng.normal() * sigma
    scale = sigma * math.sqrt(1 - phi ** 2)
    eps = rng.normal(size=n) * scale
    for t in range(1, n):
        out[t] = phi * out[t - 1] + eps[t]
    return out


def fortran_e(x: float, digits: int) -> str:
    """Fortran E format with a 0.d mantissa, as OSZICAR prints (``-.56487654E+03``)."""
    if x == 0:
        return f"0.{'0' * digits}E+00"
    exp = int(math.floor(math.log10(abs(x)))) + 1
    mant = abs(x) / 10 ** exp
    if round(mant, digits) >= 1.0:
        mant /= 10
        exp += 1
    body = f"{mant:.{digits}f}"[1:]  # ".xxxx"
    return f"{'-' if x < 0 else '0'}{body}E{exp:+03d}"


def simulate(folder: Path, model: Model, seed: int, nsteps: int | None = None) -> dict:
    """Per-step arrays of a designed run for the inputs in ``folder``."""
    from ase.io import read

    atoms = read(folder / "POSCAR", format="vasp")
    incar = read_incar(folder / "INCAR")
    n = len(atoms)
    symbols = [s.upper() for s in atoms.get_chemical_symbols()]
    comp = {el: symbols.count(el) for el in dict.fromkeys(symbols)}
    x = {el: c / n for el, c in comp.items()}
    T = float(incar["TEBEG"])
    steps = int(nsteps or int(float(incar["NSW"])))
    V = atoms.get_volume()
    v = V / n
    v0 = sum(x[el] * liquid_molar_volume_cm3(el) * A3_PER_CM3_MOL * model.v0_scale[el] for el in x)
    K = sum(x[el] * model.K_GPa[el] for el in x)
    K_eV = K * 10 / KBAR_PER_EV_A3
    dEdV = model.alpha_T * K_eV
    kp = model.K_prime
    work = K_eV / kp * (v0 ** kp * (v ** (1 - kp) - v0 ** (1 - kp)) / (1 - kp) - (v - v0))   # ∫ p dv, eV
    e_mean = designed_H_eV(model, comp) + dEdV * (v - v0) - work
    p_mean = K * 10 / kp * ((v0 / v) ** kp - 1) + model.p_offset_kbar
    rng = np.random.default_rng(seed)
    start = min(int(5 * model.transient_steps), steps // 4) if model.transient_eV else 0
    noise_e = _ar1(rng, steps, model.sigma_E, model.phi_E)
    noise_e -= noise_e[start:].mean()
    noise_p = _ar1(rng, steps, model.sigma_p, model.phi_p)
    noise_p -= noise_p[start:].mean()
    t = np.arange(steps)
    e_tot = e_mean + noise_e + model.transient_eV * np.exp(-t / model.transient_steps)
    dof = 3 * n - 3
    ekin = 0.5 * dof * K_B_EV * T + _ar1(rng, steps, math.sqrt(dof / 2) * K_B_EV * T, 0.5)
    e_wo = n * e_tot - ekin
    ts = sum(x[el] * model.TS_el[el] for el in x) + (model.TS_mix_extra if len(x) == 2 else 0.0)
    e_free = e_wo - n * ts
    e0 = 0.5 * (e_free + e_wo)
    nose_pot = np.cumsum(rng.normal(size=steps)) * 1e-3
    nose_kin = np.abs(rng.normal(size=steps)) * 1e-3
    etotal = e_free + model.etotal_sign * ekin + nose_pot + nose_kin
    p_total = p_mean + noise_p
    p_kin = 2 * ekin / (3 * V) * KBAR_PER_EV_A3
    p_ext = p_total - p_kin
    cell = np.array(atoms.get_cell())
    frac0 = atoms.get_scaled_positions()
    if model.liquid:
        step = rng.normal(size=(steps, n, 3)) * math.sqrt(model.msd_per_step_A2 / 3)
        cart = frac0 @ cell + np.cumsum(step, axis=0)
    else:
        cart = frac0 @ cell + rng.normal(size=(steps, n, 3)) * 0.08
    frac = np.mod(cart @ np.linalg.inv(cell), 1.0)
    return {"atoms": atoms, "incar": incar, "symbols": symbols, "comp": comp, "T": T, "steps": steps,
            "V": V, "cell": cell, "e_wo": e_wo, "e_free": e_free, "e0": e0, "ekin": ekin, "nose_pot": nose_pot,
            "nose_kin": nose_kin, "etotal": etotal, "p_total": p_total, "p_kin": p_kin, "p_ext": p_ext,
            "frac": frac, "rng": rng, "labels": _labels(folder, comp)}


def _labels(folder: Path, comp: dict) -> list[str]:
    spec = folder / "POTCAR.spec"
    labels = spec.read_text().split() if spec.is_file() else [el.capitalize() for el in comp]
    return [f"PAW_PBE {lab} {POTCAR_DATES.get(lab.split('_')[0], '08Apr2002')}" for lab in labels]


# ---------------------------------------------------------------------- writers
def _incar_xml(incar: dict) -> str:
    lines = []
    for k, v in incar.items():
        s = v.strip()
        if s.upper() in (".TRUE.", ".FALSE.", "T", "F"):
            lines.append(f'  <i type="logical" name="{k}"> {"T" if s.upper().strip(".").startswith("T") else "F"}  </i>')
            continue
        try:
            int(s)
            lines.append(f'  <i type="int" name="{k}">{int(s):6d}</i>')
            continue
        except ValueError:
            pass
        try:
            lines.append(f'  <i name="{k}">{float(s):16.8f}</i>')
        except ValueError:
            lines.append(f'  <i type="string" name="{k}">{s}</i>')
    return "\n".join(lines)


def _varray(name: str, rows) -> str:
    body = "".join(f"   <v>{' '.join(f'{v:16.8f}' for v in r)} </v>\n" for r in rows)
    return f'  <varray name="{name}" >\n{body}  </varray>\n'


def write_vasprun(path: Path, sim: dict, *, truncate_at: float | None = None) -> int:
    """Write vasprun.xml; with ``truncate_at`` (0–1) cut the file at that fraction of its length,
    inside a ``<calculation>``. Returns the number of complete steps left."""
    inc, T = sim["incar"], sim["T"]
    out = io.StringIO()
    w = out.write
    w('<?xml version="1.0" encoding="ISO-8859-1"?>\n<modeling>\n <generator>\n'
      '  <i name="program" type="string">vasp </i>\n  <i name="version" type="string">6.4.2  </i>\n'
      ' </generator>\n <incar>\n' + _incar_xml(inc) + '\n </incar>\n')
    w(' <kpoints>\n  <generation param="Gamma">\n   <v type="int" name="divisions">       1        1        1 </v>\n'
      '  </generation>\n </kpoints>\n')
    w(' <parameters>\n  <separator name="general" >\n   <i type="string" name="SYSTEM">fake</i>\n  </separator>\n'
      '  <separator name="electronic" >\n   <i type="string" name="PREC">normal</i>\n'
      f'   <i name="ENCUT">{float(inc.get("ENCUT", 400)):16.8f}</i>\n   <i name="EDIFF">      0.00001000</i>\n'
      '   <i type="int" name="ISPIN">     1</i>\n   <separator name="electronic smearing" >\n'
      f'    <i type="int" name="ISMEAR">    -1</i>\n    <i name="SIGMA">{float(inc.get("SIGMA", 0.1)):16.8f}</i>\n'
      '   </separator>\n  </separator>\n  <separator name="ionic" >\n'
      f'   <i type="int" name="NSW">{int(float(inc["NSW"])):8d}</i>\n   <i type="int" name="IBRION">     0</i>\n'
      f'   <i type="int" name="ISIF">{int(float(inc.get("ISIF", 0))):6d}</i>\n'
      f'   <i name="POTIM">{float(inc.get("POTIM", 0.5)):16.8f}</i>\n  </separator>\n  <separator name="ionic md" >\n'
      f'   <i name="SMASS">{float(inc.get("SMASS", -3)):16.8f}</i>\n   <i name="TEBEG">{T:16.8f}</i>\n'
      f'   <i name="TEEND">{float(inc.get("TEEND", T)):16.8f}</i>\n'
      f'   <i type="int" name="MDALGO">{int(float(inc.get("MDALGO", 0))):6d}</i>\n  </separator>\n </parameters>\n')
    symbols, comp, labels = sim["symbols"], sim["comp"], sim["labels"]
    w(f' <atominfo>\n  <atoms>{len(symbols):8d} </atoms>\n  <types>{len(comp):8d} </types>\n'
      '  <array name="atoms" >\n   <dimension dim="1">ion</dimension>\n   <dimension dim="2">field</dimension>\n'
      '   <field type="string">element</field>\n   <field type="int">atomtype</field>\n   <set>\n')
    types = list(comp)
    for s in symbols:
        w(f'    <rc><c>{s.capitalize():2s}</c><c>{types.index(s) + 1:4d}</c></rc>\n')
    w('   </set>\n  </array>\n  <array name="atomtypes" >\n   <dimension dim="1">type</dimension>\n'
      '   <field type="int">atomspertype</field>\n   <field type="string">element</field>\n   <field>mass</field>\n'
      '   <field>valence</field>\n   <field type="string">pseudopotential</field>\n   <set>\n')
    for el, lab in zip(types, labels):
        w(f'    <rc><c>{comp[el]:4d}</c><c>{el.capitalize():2s}</c><c>     26.98200000</c><c>      3.00000000</c>'
          f'<c>  {lab}                    </c></rc>\n')
    w('   </set>\n  </array>\n </atominfo>\n')
    cell, V = sim["cell"], sim["V"]

    def structure(name, frac):
        s = f' <structure{f" name={chr(34)}{name}{chr(34)}" if name else ""} >\n  <crystal>\n' + _varray("basis", cell)
        s += f'   <i name="volume">{V:16.8f} </i>\n' + _varray("rec_basis", np.linalg.inv(cell).T) + '  </crystal>\n'
        return s + _varray("positions", frac) + ' </structure>\n'

    w(structure("initialpos", sim["frac"][0]))
    rng = np.random.default_rng(1)
    starts = []
    n = sim["steps"]
    for k in range(n):
        starts.append(out.tell())
        w(' <calculation>\n')
        for j in range(2):  # electronic steps with their own <energy>: must not be mistaken for the step's
            w('  <scstep>\n   <time name="dav">    0.10    0.10</time>\n   <energy>\n'
              f'    <i name="e_fr_energy">{sim["e_free"][k] + 5.0 / (j + 1):16.8f} </i>\n'
              f'    <i name="e_wo_entrp">{sim["e_wo"][k] + 5.0 / (j + 1):16.8f} </i>\n'
              f'    <i name="e_0_energy">{sim["e0"][k] + 5.0 / (j + 1):16.8f} </i>\n   </energy>\n  </scstep>\n')
        w(structure(None, sim["frac"][k]).replace(" <structure", "  <structure", 1))
        w(_varray("forces", rng.normal(size=(len(symbols), 3))))
        a, b = rng.normal(size=2) * 2.0
        pe = sim["p_ext"][k]
        stress = [[pe + a, 0.3, -0.2], [0.3, pe + b, 0.1], [-0.2, 0.1, pe - a - b]]
        if sim["incar"].get("ISIF", "0").strip() not in ("0", "1") and sim.get("stress", True):
            w(_varray("stress", stress))
        w('  <energy>\n'
          f'   <i name="e_fr_energy">{sim["e_free"][k]:16.8f} </i>\n'
          f'   <i name="e_wo_entrp">{sim["e_wo"][k]:16.8f} </i>\n'
          f'   <i name="e_0_energy">{sim["e0"][k]:16.8f} </i>\n'
          f'   <i name="kinetic">{sim["ekin"][k]:16.8f} </i>\n'
          '   <i name="lattice kinetic">      0.00000000 </i>\n'
          f'   <i name="nosepot">{sim["nose_pot"][k]:16.8f} </i>\n'
          f'   <i name="nosekinetic">{sim["nose_kin"][k]:16.8f} </i>\n'
          f'   <i name="total">{sim["etotal"][k]:16.8f} </i>\n'
          '  </energy>\n  <time name="totalsc">    1.00    1.00</time>\n')
        if k == n - 1:
            occ = sim.get("top_occupation", 0.0)
            w('  <eigenvalues>\n   <array>\n    <set>\n     <set comment="spin 1">\n      <set comment="kpoint 1">\n'
              '       <r>   -5.0000    1.0000 </r>\n       <r>    1.0000    0.5000 </r>\n'
              f'       <r>    4.0000    {occ:.6f} </r>\n      </set>\n     </set>\n    </set>\n   </array>\n'
              '  </eigenvalues>\n')
        w(' </calculation>\n')
    w(structure("finalpos", sim["frac"][-1]))
    w('</modeling>\n')
    text = out.getvalue()
    kept = n
    if truncate_at is not None:
        cut = int(len(text) * truncate_at)
        kept = sum(1 for s in starts if s < cut) - 1  # the step being written at the cut is partial
        text = text[:cut]
    path.write_text(text, encoding="latin-1")
    return kept


def write_outcar(path: Path, sim: dict, *, truncate_at: float | None = None) -> int:
    inc, T = sim["incar"], sim["T"]
    comp, labels, cell, V = sim["comp"], sim["labels"], sim["cell"], sim["V"]
    n = len(sim["symbols"])
    out = io.StringIO()
    w = out.write
    w(" vasp.6.4.2 20Jul23 (build Jan 01 2024 00:00:00) gamma-only\n executed on  LinuxIFC date 2026.01.01\n")
    for lab in labels:
        w(f" POTCAR:    {lab}\n")
    for el, lab in zip(comp, labels):
        w(f"   VRHFIN ={el.capitalize()}: s2p1\n   LEXCH  = PE\n   TITEL  = {lab}\n")
    w(f"   ions per type =  {'  '.join(str(c) for c in comp.values())}\n")
    w(f"   number of dos      NEDOS =    301   number of ions     NIONS = {n:6d}\n")
    sigma = float(inc.get("SIGMA", 0.1))
    w(" Startparameter for this run:\n   PREC   = normal    normal or accurate\n   ISPIN  =      1    spin polarized calculation?\n"
      f"   ENCUT  = {float(inc.get('ENCUT', 400)):6.1f} eV  29.40 Ry    5.42 a.u.\n"
      "   EDIFF  = 0.1E-04   stopping-criterion for ELM\n   EDIFFG = 0.1E-03   stopping-criterion for IOM\n"
      f"   NSW    = {int(float(inc['NSW'])):6d}    number of steps for IOM\n"
      "   IBRION =      0    ionic relax: 0-MD 1-quasi-New 2-CG\n"
      f"   ISIF   = {int(float(inc.get('ISIF', 0))):6d}    stress and relaxation\n"
      f"   POTIM  = {float(inc.get('POTIM', 0.5)):6.4f}    time-step for ionic-motion\n   TEIN   =    0.0    initial temperature\n"
      f"   TEBEG  = {T:8.1f};   TEEND  = {float(inc.get('TEEND', T)):8.1f} temperature during run\n"
      f"   SMASS  = {float(inc.get('SMASS', -3)):5.2f}    Nose mass-parameter (am)\n"
      f"   MDALGO = {int(float(inc.get('MDALGO', 0))):6d}\n"
      f"   ISMEAR = {int(float(inc.get('ISMEAR', 1))):6d};   SIGMA  = {sigma:6.2f} broadening in eV -4-tet -1-fermi 0-gaus\n"
      "   GGA    =    PE    GGA type\n")
    w("      direct lattice vectors                 reciprocal lattice vectors\n")
    rec = np.linalg.inv(cell).T
    for i in range(3):
        w("   " + "".join(f"{v:13.9f}" for v in cell[i]) + "   " + "".join(f"{v:13.9f}" for v in rec[i]) + "\n")
    w(f"\n  volume of cell : {V:12.2f}\n\n")
    starts = []
    stress_on = sim["incar"].get("ISIF", "0").strip() not in ("0", "1")
    for k in range(sim["steps"]):
        starts.append(out.tell())
        # an electronic step (lowercase block) that must not be read as the ionic step's energy
        w("  Free energy of the ion-electron system (eV)\n  ---------------------------------------------------\n"
          f"  free energy    TOTEN  = {sim['e_free'][k] + 3.0:18.8f} eV\n\n"
          f"  energy without entropy = {sim['e_wo'][k] + 3.0:18.8f}  energy(sigma->0) = {sim['e0'][k] + 3.0:18.8f}\n\n")
        if stress_on:
            pe, pk, pt = sim["p_ext"][k], sim["p_kin"][k], sim["p_total"][k]
            w("  FORCE on cell =-STRESS in cart. coord.  units (eV):\n  Direction    XX          YY          ZZ          XY          YZ          ZX\n"
              "  --------------------------------------------------------------------------------------\n"
              f"  in kB  {pe:12.5f}{pe:12.5f}{pe:12.5f}     0.30000     0.10000    -0.20000\n"
              f"  external pressure = {pe:13.2f} kB  Pullay stress =        0.00 kB\n"
              f"  kinetic pressure (ideal gas correction) = {pk:10.2f} kB\n"
              f"  total pressure  = {pt:13.2f} kB\n")
        w("\n  VOLUME and BASIS-vectors are now :\n -----------------------------------------------------------------------------\n"
          f"  energy-cutoff  :      400.00\n  volume of cell : {V:12.2f}\n"
          "      direct lattice vectors                 reciprocal lattice vectors\n")
        for i in range(3):
            w("   " + "".join(f"{v:13.9f}" for v in cell[i]) + "   " + "".join(f"{v:13.9f}" for v in rec[i]) + "\n")
        w("\n POSITION                                       TOTAL-FORCE (eV/Angst)\n"
          " -----------------------------------------------------------------------------------\n")
        for r in sim["frac"][k] @ cell:
            w(f"  {r[0]:12.5f} {r[1]:12.5f} {r[2]:12.5f}      0.100000     -0.200000      0.050000\n")
        w(" -----------------------------------------------------------------------------------\n"
          "    total drift:                                0.000000      0.000000      0.000000\n\n")
        ek = sim["ekin"][k]
        w("  FREE ENERGIE OF THE ION-ELECTRON SYSTEM (eV)\n  ---------------------------------------------------\n"
          f"  free  energy   TOTEN  = {sim['e_free'][k]:18.8f} eV\n\n"
          f"  energy  without entropy= {sim['e_wo'][k]:18.8f}  energy(sigma->0) = {sim['e0'][k]:18.8f}\n\n"
          "  ENERGIE OF THE ELECTRON-ION-THERMOSTAT SYSTEM (eV)\n  ---------------------------------------------------\n"
          f"% ion-electron   TOTEN  = {sim['e_free'][k]:18.8f}  see above\n"
          f"  kinetic energy EKIN   = {ek:16.6f}  (temperature {2 * ek / (K_B_EV * (3 * n - 3)):8.2f} K)\n"
          "  kinetic energy EKIN_LAT=         0.000000  (temperature    0.00 K)\n"
          f"  nose potential ES     = {sim['nose_pot'][k]:16.6f}\n  nose kinetic   EPS    = {sim['nose_kin'][k]:16.6f}\n"
          "  ---------------------------------------------------\n"
          f"  total energy   ETOTAL = {sim['etotal'][k]:18.8f} eV\n\n")
    text = out.getvalue()
    kept = sim["steps"]
    if truncate_at is not None:
        cut = int(len(text) * truncate_at)
        kept = sum(1 for s in starts if s < cut) - 1
        text = text[:cut]
    path.write_text(text)
    return kept


def write_oszicar(path: Path, sim: dict, *, truncate_at: float | None = None) -> int:
    lines = []
    for k in range(sim["steps"]):
        lines.append("       N       E                     dE             d eps       ncg     rms          rms(c)\n"
                     f"RMM:   1    {fortran_e(sim['e_free'][k] + 1, 14)}   -0.123E-04   -0.456E-06    80   0.1E-02    0.2E-03\n")
        lines.append(f"{k + 1:4d} T= {sim['T']:5.0f}. E= {fortran_e(sim['etotal'][k], 8)} F= {fortran_e(sim['e_free'][k], 8)} "
                     f"E0= {fortran_e(sim['e0'][k], 8)}  EK= {fortran_e(sim['ekin'][k], 5)} "
                     f"SP= {fortran_e(sim['nose_pot'][k], 2)} SK= {fortran_e(sim['nose_kin'][k], 2)}\n")
    text = "".join(lines)
    kept = sim["steps"]
    if truncate_at is not None:
        cut = int(len(text) * truncate_at)
        text = text[:cut]
        kept = sum(1 for ln in text.split("\n")[:-1] if " T= " in ln)
    path.write_text(text)
    return kept


def fake_vasp(folder: str | Path, model: Model = Model(), *, seed: int | None = None, nsteps: int | None = None,
              files=("vasprun.xml", "OUTCAR", "OSZICAR"), truncate_at: float | None = None) -> dict:
    """Run the designed model in a prepared folder: write the output files VASP would (and CONTCAR)."""
    folder = Path(folder)
    if seed is None:  # deterministic: from the folder's place in the runs tree, not its absolute path
        seed = zlib.crc32("/".join(folder.resolve().parts[-3:]).encode()) + SEED_OFFSET
    sim = simulate(folder, model, seed, nsteps)
    sim["top_occupation"] = model.top_occupation
    sim["stress"] = model.stress
    kept = {}
    writers = {"vasprun.xml": write_vasprun, "OUTCAR": write_outcar, "OSZICAR": write_oszicar}
    for name in files:
        kept[name] = writers[name](folder / name, sim, truncate_at=truncate_at)
    (folder / "CONTCAR").write_text((folder / "POSCAR").read_text())
    return {"steps": sim["steps"], "kept": kept, "V": sim["V"], "comp": sim["comp"]}


def make_potcar_tree(root: str | Path, labels, folder: str = "potpaw_PBE.54") -> Path:
    """A fake VASP_PP_PATH: ``root/folder/<label>/POTCAR`` with a TITEL line each."""
    root = Path(root)
    for lab in labels:
        d = root / folder / lab
        d.mkdir(parents=True, exist_ok=True)
        title = f"PAW_PBE {lab} {POTCAR_DATES.get(lab.split('_')[0], '08Apr2002')}"
        zval = ZVAL.get(lab, 3.0)
        (d / "POTCAR").write_text(f"  {title}\n {zval:.14f}\n parameters from PSCTR are:\n"
                                  f"   VRHFIN ={lab}: fake\n   TITEL  = {title}\n"
                                  f"   POMASS =   26.982; ZVAL   =    {zval:.3f}    mass and valenz\n"
                                  "   ENMAX  =  240.300\n End of Dataset\n")
    return root


def run_campaign(runs_dir: str | Path, model: Model = Model(), *, models: dict | None = None,
                 max_rounds: int = 12, stage_files=("vasprun.xml",),
                 production_files=("vasprun.xml", "OUTCAR", "OSZICAR")) -> int:
    """Run a prepared runs folder to the end with the fake VASP, advancing the volume search.

    ``models`` maps run ids to a Model for that run (default ``model``). Returns the rounds used.
    """
    from mixcalphad.aimd.status import advance_runs, refresh_job_lists

    runs_dir = Path(runs_dir)
    refresh_job_lists(runs_dir)
    for rounds in range(1, max_rounds + 1):
        jobs = [ln for name in ("volume_jobs.txt", "production_jobs.txt")
                for ln in (runs_dir / name).read_text().split()]
        for job in jobs:
            run_id = job.split("/")[0]
            fake_vasp(runs_dir / job, (models or {}).get(run_id, model),
                      files=production_files if job.endswith("production") else stage_files)
        actions = advance_runs(runs_dir)
        if not jobs and not actions:
            return rounds
    return max_rounds


if __name__ == "__main__":  # pragma: no cover
    from mixcalphad.aimd.vasp import prepare_vasp_runs

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "aimd-fixture-runs")
    prepare_vasp_runs(["AL-IR"], out, n_atoms=10, production_ps=6.0, stage_ps=1.8)
    print(f"rounds: {run_campaign(out)}; designed ΔH_mix = {designed_hmix_J(Model()):.1f} J/mol")
