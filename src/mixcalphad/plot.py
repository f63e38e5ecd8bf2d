"""Figures. Every function writes a PNG (or any format matplotlib knows from the suffix) and returns
the path; matplotlib's non-interactive Agg backend is used so no display is needed. Like every
writer of mixcalphad, a figure replaces an existing file only with ``force=True``
(:class:`~mixcalphad.errors.OutputExistsError` otherwise, raised before anything is drawn)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _new_figure(path: str | Path, force: bool, **subplots):
    """``plt.subplots(**subplots)`` once ``path`` may be written (absent, or ``force``)."""
    from mixcalphad.errors import OutputExistsError

    if not force and Path(path).exists():
        raise OutputExistsError(f"{path} exists; pass --force (force=True) to replace it")
    return _pyplot().subplots(**subplots)


def _save(fig, path: str | Path) -> Path:
    from mixcalphad._io import atomic_path

    path = Path(path)
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=150, bbox_inches="tight", format=path.suffix.lstrip(".") or "png")
    finally:
        _pyplot().close(fig)
    return path


def parity_plot(points: pd.DataFrame, truth: str, prediction: str, path: str | Path, *,
                hue: str | None = None, highlight: pd.Series | None = None, title: str = "",
                unit: str = "kJ/mol", force: bool = False) -> Path:
    """Predicted against observed ΔH_mix, coloured by ``hue``, with ``highlight`` rows drawn as stars.

    Parameters
    ----------
    points : DataFrame
        One row per point with the ``truth`` and ``prediction`` columns (in ``unit``).
    hue : str, optional
        Column to colour by (e.g. ``miedema_class``).
    highlight : boolean Series, optional
        Rows to emphasise (e.g. AIMD points), aligned with ``points``.
    """
    fig, ax = _new_figure(path, force, figsize=(5.5, 5.2))
    highlight = (pd.Series(False, index=points.index) if highlight is None
                 else highlight.reindex(points.index, fill_value=False))
    base = points[~highlight]
    groups = base.groupby(hue) if hue else [("observations", base)]
    for name, sub in groups:
        ax.scatter(sub[truth], sub[prediction], s=10, alpha=0.6, label=f"{name} ({sub['system'].nunique()} systems)"
                   if "system" in sub else str(name))
    if highlight.any():
        star = points[highlight]
        ax.scatter(star[truth], star[prediction], s=70, marker="*", color="black", label=f"AIMD ({len(star)})")
    values = np.concatenate([points[truth].to_numpy(float), points[prediction].to_numpy(float)])
    lo, hi = np.nanmin(values), np.nanmax(values)
    pad = 0.05 * (hi - lo or 1.0)
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="grey", lw=1, zorder=0)
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_aspect("equal")
    ax.set_xlabel(f"observed ΔH_mix ({unit})")
    ax.set_ylabel(f"predicted ΔH_mix ({unit})")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=7, loc="upper left")
    return _save(fig, path)


def hmix_curves(predictor, systems, observations: pd.DataFrame, path: str | Path, *, ncols: int = 3,
                force: bool = False) -> Path:
    """ΔH_mix(x) of several binaries: prediction ± 2σ band, Miedema, and the observations.

    Parameters
    ----------
    predictor
        An object with ``predict(a, b, x, return_std=True)`` in J/mol (e.g. :class:`HMixRegressor`).
    systems : sequence of str
        System names such as ``"AL-NI"``.
    observations : DataFrame
        Store observations (``system``, ``x_B``, ``HM_MIX_J``, ``kind``); drawn where present.
    """
    from mixcalphad.chem.binaries import parse_system
    from mixcalphad.chem.miedema import miedema_hmix

    systems = list(systems)
    nrows = -(-len(systems) // ncols)
    fig, axes = _new_figure(path, force, nrows=nrows, ncols=ncols, figsize=(3.3 * ncols, 2.7 * nrows),
                            squeeze=False)
    x = np.linspace(0, 1, 101)
    for ax, system in zip(axes.flat, systems):
        a, b = parse_system(system)
        mean, std = predictor.predict(a, b, x, return_std=True)
        ax.fill_between(x, (mean - 2 * std) / 1000, (mean + 2 * std) / 1000, alpha=0.25, label="model ± 2σ")
        ax.plot(x, mean / 1000, label="model")
        ax.plot(x, miedema_hmix(a, b, x) / 1000, "--", color="grey", label="Miedema")
        for kind, rows in observations[observations["system"] == f"{a}-{b}"].groupby("kind"):
            ax.plot(rows["x_B"], rows["HM_MIX_J"] / 1000, "*" if kind == "aimd" else "o", ms=5, label=kind)
        ax.axhline(0, color="black", lw=0.5)
        ax.set_title(f"{a}-{b}", fontsize=9)
        ax.set_xlabel(f"x({b})", fontsize=8)
        ax.set_ylabel("ΔH_mix (kJ/mol)", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(systems):]:
        ax.set_visible(False)
    handles, labels = [], []
    for ax in axes.flat:
        for h, label in zip(*ax.get_legend_handles_labels()):
            if label not in labels:
                handles.append(h)
                labels.append(label)
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8, bbox_to_anchor=(0.5, -0.02))
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return _save(fig, path)


def liquidus_plot(result, path: str | Path, *, title: str = "", force: bool = False) -> Path:
    """Liquidus temperature (K) against composition: x of the last element for a binary, the point
    index along the path for a ternary (with its compositions as tick labels)."""
    fig, ax = _new_figure(path, force, figsize=(5.2, 3.8))
    if result.x.shape[1] == 1:
        ax.plot(result.x[:, 0], result.T_K, "o-", ms=3)
        ax.set_xlabel(f"x({result.elements[-1]})")
    else:
        ax.plot(np.arange(len(result.T_K)), result.T_K, "o-", ms=3)
        ticks = np.unique(np.linspace(0, len(result.T_K) - 1, min(len(result.T_K), 6)).astype(int))
        ax.set_xticks(ticks)
        ax.set_xticklabels([f"{result.x[i, 0]:.2f}\n{result.x[i, 1]:.2f}" for i in ticks], fontsize=7)
        ax.set_xlabel(f"x({result.elements[1]}) / x({result.elements[2]})")
    ax.set_ylabel("liquidus T (K)")
    ax.set_title(title or "-".join(result.elements) + " liquidus")
    return _save(fig, path)


def periodic_uncertainty_map(binaries: pd.DataFrame, path: str | Path, *, score: str = "score_J",
                             cluster: str = "cluster", selected: str | None = "selected",
                             excluded: str | None = "excluded", title: str = "",
                             force: bool = False) -> Path:
    """The periodic map of the acquisition (Fig. 1 of Bizot et al. 2026) as PNG or SVG (by suffix).

    Elements are ordered by group, then period, on both axes; the square of each binary A–B (drawn
    at (A, B) and (B, A)) has a side proportional to the square root of its score (so its area is
    proportional to the score) and the colour of its cluster. Selected binaries get a black outline,
    excluded ones are drawn faint.

    Parameters
    ----------
    binaries : DataFrame
        One row per binary: ``system`` (``"AL-NI"``), the ``score`` column (GP σ, J/mol) and the
        ``cluster`` column (int); optionally a boolean ``selected`` and a string ``excluded``
        column (``""`` for candidates), as in :attr:`mixcalphad.acquisition.plan.AcquisitionPlan.binaries`.
    path : str or Path
        Output file; ``.png``, ``.svg`` or any suffix matplotlib knows.
    force : bool
        Replace an existing ``path``.

    Returns
    -------
    Path

    Examples
    --------
    >>> periodic_uncertainty_map(plan.binaries, "map.svg")   # doctest: +SKIP
    """
    from matplotlib.colors import to_rgba
    from matplotlib.patches import Patch, Rectangle

    from mixcalphad.chem.binaries import parse_system
    from mixcalphad.chem.elements import element_table

    if len(binaries) == 0:
        raise ValueError("no binaries to draw")
    pairs = [parse_system(s) for s in binaries["system"]]
    elements = sorted({el for p in pairs for el in p})
    table = element_table().loc[elements]
    order = sorted(elements, key=lambda el: (table.at[el, "group"], table.at[el, "period"], table.at[el, "Z"]))
    pos = {el: i for i, el in enumerate(order)}
    values = binaries[score].to_numpy(float)
    top = np.nanmax(values) if np.isfinite(values).any() and np.nanmax(values) > 0 else 1.0
    labels = binaries[cluster].to_numpy(int)
    clusters = sorted(set(labels.tolist()))
    cmap = _pyplot().get_cmap("tab10" if len(clusters) <= 10 else "tab20")
    colours = {k: cmap(i % cmap.N) for i, k in enumerate(clusters)}
    chosen = (binaries[selected].to_numpy(bool) if selected and selected in binaries
              else np.zeros(len(binaries), bool))
    faint = ((binaries[excluded].fillna("") != "").to_numpy() if excluded and excluded in binaries
             else np.zeros(len(binaries), bool))

    n = len(order)
    size = max(5.0, min(16.0, 0.2 * n + 2.0))
    fig, ax = _new_figure(path, force, figsize=(size, size))
    for (a, b), value, k, sel, off in zip(pairs, values, labels, chosen, faint):
        side = 0.95 * np.sqrt(max(value, 0.0) / top) if np.isfinite(value) else 0.0
        colour = to_rgba(colours[k], alpha=0.25 if off else 0.9)
        for i, j in ((pos[a], pos[b]), (pos[b], pos[a])):
            ax.add_patch(Rectangle((i - side / 2, j - side / 2), side, side, facecolor=colour,
                                   edgecolor="black" if sel else "none", linewidth=1.2 if sel else 0))
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_aspect("equal")
    names = [table.at[el, "symbol"] if "symbol" in table else el.title() for el in order]
    fontsize = 8 if n <= 30 else 6 if n <= 50 else 5
    ax.set_xticks(range(n), names, rotation=90, fontsize=fontsize)
    ax.set_yticks(range(n), names, fontsize=fontsize)
    groups = [table.at[el, "group"] for el in order]
    for i in range(1, n):
        if groups[i] != groups[i - 1]:
            ax.axvline(i - 0.5, color="0.85", lw=0.5, zorder=0)
            ax.axhline(i - 0.5, color="0.85", lw=0.5, zorder=0)
    handles = [Patch(color=colours[k], label=f"cluster {k}") for k in clusters]
    if chosen.any():
        handles.append(Patch(facecolor="white", edgecolor="black", label="selected"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
              title=f"square area ∝ {score}\n(max {top / 1000:.1f} kJ/mol)", title_fontsize=8)
    ax.set_title(title or "GP uncertainty of ΔH_mix per binary (elements by group, then period)", fontsize=10)
    return _save(fig, path)
