"""Figures. Every function writes a PNG (or any format matplotlib knows from the suffix) and returns
the path; matplotlib's non-interactive Agg backend is used so no display is needed."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str | Path) -> Path:
    from .io_utils import atomic_path

    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=150, bbox_inches="tight", format=path.suffix.lstrip(".") or "png")
    _pyplot().close(fig)
    return path


def parity_plot(points: pd.DataFrame, truth: str, prediction: str, path: str | Path, *,
                hue: str | None = None, highlight: pd.Series | None = None, title: str = "",
                unit: str = "kJ/mol") -> Path:
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
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 5.2))
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
