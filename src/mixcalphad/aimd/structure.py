"""Is the run a homogeneous liquid? Mean-square displacement, the pair distribution g(r) with a
crystallinity indicator, and chemical short-range order that detects phase separation.

* **Diffusion**: the mean-square displacement over the analysed window, centre of mass removed,
  against (½·d_nn)² with d_nn = 1.122·(V/N)^(1/3) (the fcc nearest-neighbour distance at that
  density) — ten times what a crystal reaches (Lindemann: rms ≈ 0.1–0.15·d_nn at melting).
* **Crystallinity** (:func:`pair_distribution`): the total g(r) averaged over frames of the analysed
  window and its Wendt–Abraham ratio R = g(r_min)/g(r_max) of the first minimum to the first peak
  (Wendt & Abraham, Phys. Rev. Lett. 41 (1978) 1244): a liquid has R ≈ 0.2–0.4, a solid (crystal
  or glass) R < :data:`WENDT_ABRAHAM_SOLID` = 0.14, because its first coordination shell is sharp and
  well separated from the second. Computed only where g(r) has a first peak above 1.5 (a cell with
  shell structure).
* **Phase separation** (the paper's "immiscible"): the Warren–Cowley parameter of the first shell
  (cut at the first minimum of g(r)), α = 1 − Z_AB/(x_B·Z_A), averaged over both centre species:
  0 for random mixing, > 0 for like-neighbour preference, 1 for complete separation, < 0 for
  ordering. A cell is flagged ``phase_separated`` when α > :data:`PHASE_SEPARATION_ALPHA` = 0.3; for a
  random 100-atom 50/50 cell the standard error of α is ≈ 0.05, so this is > 5σ.
* **A volume-search stage** (:func:`stage_is_liquid`): the same MSD test over the stage's last
  :data:`STAGE_LIQUID_MIN_PS` (a liquid metal near melting, D ≈ 0.2–0.5 Å²/ps, moves 2.4–6 Å² in 2 ps,
  beyond (½·d_nn)² ≈ 1.6 Å²; a crystal stays near 0.3 Å² however long it runs). The end of the stage,
  not the whole of it: a long stage that crystallised half-way has a large MSD over its length but
  ends as a crystal, and its p̄ and ⟨E⟩ are a mixture. Shorter stages are not judged. A stage that
  crystallised is left out of the equation-of-state fit (:mod:`.volume`) and the next stage starts
  from a fresh packing.
* Cells below :data:`MIN_ATOMS_STRUCTURE` atoms are not judged (g(r) too noisy); g(r) uses 0.1 Å
  bins, smoothed over three bins. α of the first and second half of the
  window is kept, so a growing α (separation in progress) shows.

Units: Å, Å², Å³.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

#: Wendt–Abraham ratio below which g(r) is that of a solid (crystal or glass).
WENDT_ABRAHAM_SOLID = 0.14
#: Warren–Cowley α of the first shell above which a cell counts as phase separated.
PHASE_SEPARATION_ALPHA = 0.3
#: Fewest atoms for which crystallinity and phase separation are judged (and of each species, a quarter
#: of it, for phase separation): below, g(r) is too noisy.
MIN_ATOMS_STRUCTURE = 32
#: First-peak height of g(r) below which the cell has no shell structure to judge.
MIN_PEAK_HEIGHT = 1.5
#: Frames of the analysed window used for g(r).
N_FRAMES = 20
#: Shortest volume-search stage whose liquidity is judged, ps.
STAGE_LIQUID_MIN_PS = 2.0


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


def stage_is_liquid(positions: np.ndarray | None, volume_per_atom_A3: float, length_ps: float | None,
                    cell: np.ndarray | None = None, *, fractional: bool = False,
                    min_ps: float = STAGE_LIQUID_MIN_PS) -> bool | None:
    """Did a volume-search stage stay liquid? MSD over its last ``min_ps`` ps ≥ (½·d_nn)² (module docstring).

    ``positions`` are the stage's frames, evenly spaced over ``length_ps``. None (not judged) without
    positions or for a stage shorter than ``min_ps`` ps.

    >>> rng = np.random.default_rng(0)
    >>> walk = np.cumsum(rng.normal(0, 0.1, (1000, 50, 3)), axis=0)        # diffusing: MSD ≈ 30 Å²
    >>> lattice = rng.normal(0, 0.2, (1000, 50, 3))                       # vibrating: MSD ≈ 0.2 Å²
    >>> stage_is_liquid(walk, 12.0, 3.0), stage_is_liquid(lattice, 12.0, 3.0), stage_is_liquid(walk, 12.0, 0.5)
    (True, False, None)
    """
    if positions is None or len(positions) < 2 or not length_ps or length_ps < min_ps:
        return None
    frames = max(int(math.ceil(len(positions) * min_ps / length_ps)), 2)
    msd = mean_square_displacement(np.asarray(positions)[-frames:], cell, fractional=fractional)
    return bool(msd >= liquid_msd_min_A2(volume_per_atom_A3))


def liquid_msd_min_A2(volume_per_atom_A3: float) -> float:
    """The MSD a liquid exceeds, (½·d_nn)², Å² (module docstring)."""
    return (0.5 * nearest_neighbour_distance(volume_per_atom_A3)) ** 2


def nearest_neighbour_distance(volume_per_atom_A3: float) -> float:
    """fcc nearest-neighbour distance at this atomic volume, Å (1.122·V^(1/3))."""
    return float((4.0 * volume_per_atom_A3) ** (1.0 / 3.0) / math.sqrt(2.0))


# ---------------------------------------------------------------------- g(r)
@dataclass(frozen=True)
class PairDistribution:
    """Total and partial pair distribution functions averaged over frames.

    Attributes
    ----------
    r_A : ndarray
        Bin centres, Å.
    g : ndarray
        Total g(r).
    partial : dict
        ``"A-B"`` (sorted species) → partial g_AB(r).
    counts : dict
        Species → atom count.
    volume_A3 : float
        Cell volume, Å³.
    """

    r_A: np.ndarray
    g: np.ndarray
    partial: Mapping[str, np.ndarray]
    counts: Mapping[str, int]
    volume_A3: float
    coordination: Mapping[str, np.ndarray] = field(default_factory=dict)

    def first_peak(self) -> tuple[float, float]:
        """(r, g) of the highest point of g(r) — the first coordination shell in a dense liquid."""
        i = int(np.argmax(self.g))
        return float(self.r_A[i]), float(self.g[i])

    def first_minimum(self) -> tuple[float, float]:
        """(r, g) of the first minimum after the first peak (within 1.7 × r_peak)."""
        i = int(np.argmax(self.g))
        r_peak = self.r_A[i]
        window = np.flatnonzero((self.r_A > r_peak) & (self.r_A <= 1.7 * r_peak))
        if not len(window):
            return float(self.r_A[-1]), float(self.g[-1])
        j = window[int(np.argmin(self.g[window]))]
        return float(self.r_A[j]), float(self.g[j])

    def coordination_within(self, r_cut_A: float) -> dict[str, float]:
        """Mean number of ``B`` neighbours of an ``A`` atom within ``r_cut_A``, per ``"A>B"``."""
        k = int(np.searchsorted(self.r_A, r_cut_A))
        return {pair: float(cum[k - 1]) if k else 0.0 for pair, cum in self.coordination.items()}


def _fractional(frames: np.ndarray, cell: np.ndarray, fractional: bool) -> np.ndarray:
    frames = np.asarray(frames, float)
    return frames if fractional else frames @ np.linalg.inv(cell)


def pair_distribution(frames, cell, symbols: Sequence[str], *, fractional: bool = False,
                      r_max_A: float | None = None, bin_A: float = 0.1) -> PairDistribution:
    """Total and partial g(r) of periodic frames (minimum image), averaged over the frames.

    Parameters
    ----------
    frames : array (n_frames, N, 3)
        Positions: Cartesian Å (wrapped or not), or fractional with ``fractional=True``.
    cell : array (3, 3)
        Cell vectors (rows), Å.
    symbols : sequence of str
        One species per atom.
    r_max_A : float, optional
        Largest distance, Å (default and upper bound: half the smallest cell width).
    bin_A : float
        Bin width, Å.

    Examples
    --------
    >>> from ase.build import bulk
    >>> fcc = bulk("Cu", "fcc", a=3.6, cubic=True).repeat(3)
    >>> gr = pair_distribution([fcc.positions], fcc.cell[:], fcc.get_chemical_symbols())
    >>> round(gr.first_peak()[0], 1)        # d_nn = a/√2 = 2.55 Å
    2.5
    """
    cell = np.asarray(cell, float)
    frac = _fractional(np.asarray(frames, float).reshape(-1, len(symbols), 3), cell, fractional)
    volume = abs(float(np.linalg.det(cell)))
    widths = volume / np.linalg.norm(np.cross(cell[[1, 2, 0]], cell[[2, 0, 1]]), axis=1)
    r_max = min(r_max_A or np.inf, 0.5 * float(widths.min()))
    edges = np.arange(0.0, r_max + 1e-12, bin_A)
    species = sorted(set(symbols))
    idx = {s: np.flatnonzero(np.asarray(symbols) == s) for s in species}
    counts = {s: len(i) for s, i in idx.items()}
    n = len(symbols)
    hist = {f"{a}>{b}": np.zeros(len(edges) - 1) for a in species for b in species}
    for f in frac:
        d = f[:, None, :] - f[None, :, :]
        d -= np.round(d)
        dist = np.linalg.norm(d @ cell, axis=-1)
        np.fill_diagonal(dist, np.inf)
        for a in species:
            for b in species:
                block = dist[np.ix_(idx[a], idx[b])].ravel()
                hist[f"{a}>{b}"] += np.histogram(block[block < r_max], bins=edges)[0]
    n_frames = max(len(frac), 1)
    shell = 4.0 / 3.0 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    r = 0.5 * (edges[1:] + edges[:-1])
    coordination = {k: np.cumsum(v) / (n_frames * counts[k.split(">")[0]]) for k, v in hist.items()}
    partial = {}
    for i, a in enumerate(species):
        for b in species[i:]:
            rho_b = counts[b] / volume
            partial[f"{a}-{b}"] = hist[f"{a}>{b}"] / (n_frames * counts[a] * rho_b * shell)
    total = sum(hist.values()) / (n_frames * n * (n / volume) * shell)
    return PairDistribution(r, total, partial, counts, volume, coordination)


@dataclass(frozen=True)
class StructureCheck:
    """Liquid-state indicators of one run (see the module docstring).

    Attributes
    ----------
    r_peak_A, g_peak : float
        First peak of the total g(r).
    r_min_A, g_min : float
        First minimum after it (the first-shell cut-off).
    wendt_abraham : float or None
        g_min/g_peak; None without shell structure (g_peak < 1.5).
    crystalline : bool
        ``wendt_abraham`` < :data:`WENDT_ABRAHAM_SOLID`.
    alpha_wc, alpha_wc_first, alpha_wc_last : float or None
        Warren–Cowley α of the first shell over the window, its first half and its second half
        (binary cells only).
    phase_separated : bool or None
        α > :data:`PHASE_SEPARATION_ALPHA`; None when not judged (pure, or too few atoms).
    n_frames : int
    """

    r_peak_A: float
    g_peak: float
    r_min_A: float
    g_min: float
    wendt_abraham: float | None
    crystalline: bool
    alpha_wc: float | None
    alpha_wc_first: float | None
    alpha_wc_last: float | None
    phase_separated: bool | None
    n_frames: int

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def warren_cowley(gr: PairDistribution, r_cut_A: float) -> float | None:
    """First-shell Warren–Cowley α of a binary, averaged over both centre species (None if not binary)."""
    if len(gr.counts) != 2:
        return None
    a, b = sorted(gr.counts)
    n = sum(gr.counts.values())
    z = gr.coordination_within(r_cut_A)
    alphas = []
    for c, o in ((a, b), (b, a)):
        z_c = z[f"{c}>{c}"] + z[f"{c}>{o}"]
        if z_c <= 0:
            return None
        alphas.append(1.0 - z[f"{c}>{o}"] / (gr.counts[o] / n * z_c))
    return float(np.mean(alphas))


def structure_check(positions, cell, symbols: Sequence[str], *, fractional: bool = False,
                    n_frames: int = N_FRAMES) -> StructureCheck:
    """g(r), crystallinity and phase separation of a run's analysed window (see the module docstring).

    Parameters
    ----------
    positions : array (steps, N, 3)
        The window's positions (Cartesian Å, or fractional with ``fractional=True``).
    cell : array (3, 3)
        Cell vectors, Å.
    symbols : sequence of str
    n_frames : int
        Frames used, evenly spread over the window.
    """
    pos = np.asarray(positions, float)
    take = np.unique(np.linspace(0, len(pos) - 1, min(n_frames, len(pos))).astype(int))
    gr = pair_distribution(pos[take], cell, symbols, fractional=fractional)
    smooth = np.convolve(gr.g, np.ones(3) / 3.0, mode="same")
    gr = dataclasses.replace(gr, g=smooth)
    r_peak, g_peak = gr.first_peak()
    r_min, g_min = gr.first_minimum()
    shells = g_peak >= MIN_PEAK_HEIGHT and len(symbols) >= MIN_ATOMS_STRUCTURE
    ratio = g_min / g_peak if shells and g_peak > 0 else None
    crystalline = bool(ratio is not None and ratio < WENDT_ABRAHAM_SOLID)
    alpha = warren_cowley(gr, r_min) if shells else None
    halves = [None, None]
    if alpha is not None and len(take) >= 4:
        mid = len(take) // 2
        halves = [warren_cowley(pair_distribution(pos[t], cell, symbols, fractional=fractional), r_min)
                  for t in (take[:mid], take[mid:])]
    judged = alpha is not None and min(gr.counts.values()) >= MIN_ATOMS_STRUCTURE // 4
    separated = bool(alpha > PHASE_SEPARATION_ALPHA) if judged else None
    return StructureCheck(r_peak, g_peak, r_min, g_min, ratio, crystalline, alpha, halves[0], halves[1],
                          separated, len(take))
