"""The INCAR of a protocol run, its check against a folder's INCAR, and the POTCARs.

INCAR (VASP 6; the paper's settings and the practice of ``shared/reference/aimd.md``)
-----------------------------------------------------------------------------------
* The paper: PBE (``GGA = PE``), ENCUT 400 eV, Γ only, ISYM = 0, Nosé–Hoover (MDALGO = 2, SMASS = 0),
  ISMEAR = −1 with SIGMA = k_B·T; ``ISIF = 2`` so the stress (the pressure) is computed — IBRION = 0
  alone defaults to ISIF = 0, no stress.
* ``ALGO = Fast``: Davidson for the first steps, then RMM-DIIS — VASP's recommendation for MD, where
  each ionic step starts from the previous wave functions, so the robust but slower ``Normal``
  (Davidson throughout) is not needed; ``NELMIN = 4`` keeps at least four electronic steps per ionic
  step so RMM-DIIS does not stop early.
* ``MAXMIX = 60``: the Broyden mixer keeps its history across ionic steps (by default it restarts at
  every step), which cuts the SCF steps per MD step; 40–80 is the usual range for MD.
* ``NBANDS`` (:func:`nbands`): VASP's default (max(NELECT/2 + NIONS/2, 0.6·NELECT)) leaves too few
  empty bands at SIGMA = k_B·T ≈ 0.2–0.3 eV. The Fermi–Dirac occupation 10·k_B·T above E_F is
  e⁻¹⁰ ≈ 5·10⁻⁵, below the 10⁻⁴ limit the ingest checks (``top_band_occupied``), so the bands must
  reach 10·k_B·T above E_F: NBANDS = NELECT/2 + N·10·k_B·T·:data:`EMPTY_BANDS_PER_EV_ATOM`, with
  0.5 bands per eV per atom (a density of states of 1 state/eV/atom for both spins above E_F —
  generous for sp metals, about right above a filled d band), never below VASP's default, and
  rounded up to a multiple of the band groups as VASP would (so the INCAR says what runs).
* ``NCORE``/``KPAR`` (:func:`parallel_tags`): Γ only means one k-point, so KPAR = 1; NCORE is the
  largest divisor of the job's MPI ranks not above √ranks (4 for the template's 32 ranks), so the
  ranks split evenly into band groups. The SLURM template asks for the same ranks
  (:mod:`.scheduler`).
"""
from __future__ import annotations

import gzip
import hashlib
import math
import os
import re
from pathlib import Path
from typing import Iterable, Mapping

from mixcalphad.errors import ProtocolError, SettingsMismatchError
from mixcalphad.aimd.settings import K_B_EV, RECOMMENDED_POTCARS, ZVAL_RECOMMENDED, RunSettings, smearing_tags
from mixcalphad.aimd.trajectory import read_incar

#: Sub-folders of ``$VASP_PP_PATH`` searched for PBE potentials, in order.
PBE_FOLDERS = ("potpaw_PBE.54", "potpaw_PBE_54", "POT_GGA_PAW_PBE_54", "potpaw_PBE.64", "potpaw_PBE_64",
               "potpaw_PBE", "POT_GGA_PAW_PBE")
#: INCAR tags whose values :func:`check_incar` compares as numbers.
_NUMERIC = {"ENCUT", "EDIFF", "SIGMA", "POTIM", "TEBEG", "TEEND", "SMASS", "NSW", "ISIF", "ISYM", "IBRION",
            "MDALGO", "ISPIN", "ISMEAR", "NBLOCK", "NELMIN", "NBANDS", "MAXMIX", "NCORE", "KPAR"}
#: MPI ranks of the SLURM template (one node of 32 cores).
DEFAULT_RANKS = 32
#: Broyden mixer history kept across MD steps.
MAXMIX = 60
#: Empty bands per eV above E_F per atom that NBANDS provides (see the module docstring).
EMPTY_BANDS_PER_EV_ATOM = 0.5
#: Bands must reach this many k_B·T above the Fermi level (occupation e⁻¹⁰ < 10⁻⁴).
BANDS_KT_ABOVE_EF = 10.0


# ---------------------------------------------------------------------- NBANDS, NCORE
def parallel_tags(ranks: int = DEFAULT_RANKS) -> dict[str, int]:
    """NCORE and KPAR for a Γ-only run on ``ranks`` MPI ranks (see the module docstring).

    >>> parallel_tags(32), parallel_tags(48)
    ({'NCORE': 4, 'KPAR': 1}, {'NCORE': 6, 'KPAR': 1})
    """
    if int(ranks) != ranks or ranks < 1:
        raise ProtocolError(f"ranks must be a whole number >= 1, got {ranks!r}")
    ranks = int(ranks)
    ncore = max(d for d in range(1, int(math.isqrt(ranks)) + 1) if ranks % d == 0)
    return {"NCORE": ncore, "KPAR": 1}


def nbands(nelect: float, n_atoms: int, T_K: float, *, ranks: int = DEFAULT_RANKS, ispin: int = 1) -> int:
    """Bands for an MD run at ``T_K`` with SIGMA = k_B·T (see the module docstring).

    Parameters
    ----------
    nelect : float
        Valence electrons of the cell (:func:`electron_count`).
    n_atoms : int
    T_K : float
        Electronic (= ionic) temperature, K.
    ranks : int
        MPI ranks: the result is a multiple of the band groups ranks/(NCORE·KPAR).

    Examples
    --------
    >>> nbands(600, 100, 2750.0)          # Al50Ir50: VASP's default would be 360
    424
    """
    occupied = nelect / (2.0 if ispin == 1 else 1.0)
    default = max(nelect / 2 + n_atoms / 2, 0.6 * nelect)
    extra = n_atoms * BANDS_KT_ABOVE_EF * K_B_EV * T_K * EMPTY_BANDS_PER_EV_ATOM
    bands = math.ceil(max(default, occupied + extra))
    par = parallel_tags(ranks)
    groups = max(ranks // (par["NCORE"] * par["KPAR"]), 1)
    return int(math.ceil(bands / groups) * groups)


def electron_count(composition: Mapping[str, int], potcars: Mapping[str, Mapping]) -> float:
    """Valence electrons of a cell: Σ count × ZVAL, ZVAL from the POTCAR file where found, else from
    :data:`~mixcalphad.aimd.settings.ZVAL_RECOMMENDED` (recommended labels only).

    Raises
    ------
    ProtocolError
        A non-recommended potential whose POTCAR is not at hand (its ZVAL is unknown).
    """
    total = 0.0
    for el, count in composition.items():
        entry = potcars.get(el, {})
        zval = entry.get("zval")
        if zval is None:
            if entry.get("label", RECOMMENDED_POTCARS.get(el)) != RECOMMENDED_POTCARS.get(el) or el not in ZVAL_RECOMMENDED:
                raise ProtocolError(f"the valence (ZVAL) of potential {entry.get('label')!r} for {el} is unknown "
                                    "without its POTCAR; set VASP_PP_PATH so NBANDS can be set")
            zval = ZVAL_RECOMMENDED[el]
        total += int(count) * float(zval)
    return total


# ---------------------------------------------------------------------- INCAR
def incar_tags(settings: RunSettings, nsw: int | None, *, system: str = "", nelect: float | None = None,
               ranks: int = DEFAULT_RANKS) -> dict[str, object]:
    """The INCAR of a protocol run (see the module docstring for each choice).

    Parameters
    ----------
    settings : RunSettings
        With T_K and potim_fs decided.
    nsw : int or None
        MD steps (left out when None).
    nelect : float, optional
        Valence electrons of the cell; with it NBANDS is set.
    ranks : int
        MPI ranks of the job script (NCORE, KPAR, and NBANDS rounding).
    """
    if settings.thermostat != "nose-hoover":
        raise ProtocolError(f"VASP inputs support the nose-hoover thermostat (MDALGO = 2), not "
                            f"{settings.thermostat!r}")
    if settings.T_K <= 0:
        raise ProtocolError("run settings have no temperature (T_K = 0)")
    if settings.potim_fs is None:
        raise ProtocolError("run settings have no time step (potim_fs = None); plan_runs chooses it")
    for name in ("encut_eV", "ediff_eV", "potim_fs"):
        if not math.isfinite(getattr(settings, name)):
            raise ProtocolError(f"{name} must be a finite number > 0, got {getattr(settings, name)}")
    ismear, sigma = smearing_tags(settings.smearing, settings.T_K)
    gga = {"PBE": "PE", "PBESOL": "PS", "PW91": "91", "RPBE": "RP"}.get(settings.xc.upper())
    if gga is None:
        raise ProtocolError(f"unknown functional {settings.xc!r} for VASP (PBE, PBEsol, PW91, RPBE)")
    tags: dict[str, object] = {}
    if system:
        tags["SYSTEM"] = system
    tags.update({
        "PREC": settings.prec, "ENCUT": settings.encut_eV, "EDIFF": settings.ediff_eV, "ALGO": "Fast",
        "LREAL": "Auto", "GGA": gga, "ISPIN": settings.ispin, "ISMEAR": ismear, "SIGMA": sigma,
        "ISYM": 0, "IBRION": 0, "MDALGO": 2, "SMASS": settings.smass, "POTIM": settings.potim_fs,
        "TEBEG": settings.T_K, "TEEND": settings.T_K, "ISIF": 2, "NBLOCK": 1, "NELMIN": 4,
        "MAXMIX": MAXMIX, "LWAVE": False, "LCHARG": False,
    })
    tags.update(parallel_tags(ranks))
    if nelect is not None:
        tags["NBANDS"] = nbands(nelect, settings.n_atoms, settings.T_K, ranks=ranks, ispin=settings.ispin)
    if nsw is not None:
        tags["NSW"] = int(nsw)
    return tags


def _fmt(value) -> str:
    if isinstance(value, bool):
        return ".TRUE." if value else ".FALSE."
    if isinstance(value, float):
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e6):
            return f"{value:.0E}".replace("E-0", "E-").replace("E+0", "E+")
        return f"{value:g}"
    return str(value)


def format_incar(tags: Mapping[str, object]) -> str:
    """INCAR text, one ``TAG = value`` per line."""
    width = max(len(k) for k in tags)
    return "".join(f"{k:<{width}} = {_fmt(v)}\n" for k, v in tags.items())


def _same(expected, found: str, tag: str) -> bool:
    if isinstance(expected, bool):
        return found.strip().upper().strip(".").startswith("T" if expected else "F")
    if tag in _NUMERIC:
        try:
            return math.isclose(float(expected), float(found.replace("d", "e").replace("D", "E")),
                                rel_tol=1e-6, abs_tol=1e-12)
        except ValueError:
            return False
    return str(expected).strip().lower() == found.strip().lower()


def check_incar(incar: str | Path | Mapping[str, str], settings: RunSettings, *,
                nsw: int | None = None, nelect: float | None = None, ranks: int = DEFAULT_RANKS) -> list[str]:
    """Problems of an INCAR against the protocol (an empty list when it matches).

    Parameters
    ----------
    incar : path or mapping
        An INCAR file, or its tags (upper-case names to raw strings).
    settings : RunSettings
    nsw : int, optional
        Expected NSW (not checked when None).
    nelect, ranks
        Valence electrons (NBANDS checked when given) and MPI ranks, as in :func:`incar_tags`.

    Returns
    -------
    list of str
        One line per missing or differing tag, ``"ISIF: expected 2, found 0"``.
    """
    tags = read_incar(incar) if isinstance(incar, (str, Path)) else {k.upper(): str(v) for k, v in incar.items()}
    problems = []
    for tag, expected in incar_tags(settings, nsw, nelect=nelect, ranks=ranks).items():
        if tag not in tags:
            problems.append(f"{tag}: missing (expected {_fmt(expected)})")
        elif not _same(expected, tags[tag], tag):
            problems.append(f"{tag}: expected {_fmt(expected)}, found {tags[tag]}")
    return problems


def verify_incar(path: str | Path, settings: RunSettings, *, nsw: int | None = None, **kwargs) -> None:
    """Raise :class:`SettingsMismatchError` naming the file if its INCAR breaks the protocol."""
    problems = check_incar(path, settings, nsw=nsw, **kwargs)
    if problems:
        raise SettingsMismatchError(f"{path}: INCAR does not match the protocol: " + "; ".join(problems))


# ---------------------------------------------------------------------- POTCAR
_ZVAL_RE = re.compile(r"ZVAL\s*=\s*([0-9.]+)")


def find_potcar(label: str, *, xc: str = "PBE", pp_path: str | Path | None = None) -> Path | None:
    """The POTCAR of a potential label under ``$VASP_PP_PATH`` (or ``pp_path``), or None."""
    root = pp_path or os.environ.get("VASP_PP_PATH")
    if not root:
        return None
    if xc.upper() != "PBE":
        return None
    for sub in PBE_FOLDERS:
        for name in ("POTCAR", "POTCAR.gz"):
            candidate = Path(root) / sub / label / name
            if candidate.is_file():
                return candidate
    return None


def read_potcar(path: Path) -> str:
    """Text of a POTCAR file, plain or gzipped."""
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as fh:
            return fh.read()
    return path.read_text(encoding="utf-8", errors="replace")


def potcar_info(settings: RunSettings, elements: Iterable[str], *,
                pp_path: str | Path | None = None) -> dict[str, dict]:
    """Per element: label, and where found, the file, its TITEL, ZVAL and SHA-256."""
    info = {}
    for el in elements:
        label = settings.potcar_label(el)
        path = find_potcar(label, xc=settings.xc, pp_path=pp_path)
        entry = {"label": label, "path": None, "titel": None, "zval": None, "sha256": None}
        if path is not None:
            text = read_potcar(path)
            titel = next((ln.split("=", 1)[1].strip() for ln in text.splitlines() if "TITEL" in ln), None)
            zval = _ZVAL_RE.search(text)
            entry.update(path=str(path), titel=titel, zval=float(zval.group(1)) if zval else None,
                         sha256=hashlib.sha256(text.encode()).hexdigest())
        info[el] = entry
    return info
