"""The house style of the figures, and the pieces every figure is built from.

Slides: 10 x 5.6 in, text >= 12 pt, no pyplot (`new_figure` makes a bare `Figure`), the
schemes in the Okabe-Ito palette of `sim.store.results`, each KPI titled, labelled and scaled
as `sim.metrics.catalogue` says. `FigureSpec` is one finished figure with its title and
caption. Used by the run figures (`sim.plots.run`) and the sweep figures (`sim.plots.sweep`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter
from matplotlib.typing import RcKeyType
from scipy import stats as sps

from sim.metrics.catalogue import FIGURE_KPIS, KPI
from sim.metrics.stats import CONFIDENCE
from sim.store.results import Results

FIGSIZE = (10.0, 5.6)

#: Text >= 12 pt, no mathtext (a "$" in a scheme name stays a "$"), light grid,
#: reproducible SVG.
STYLE: dict[RcKeyType, str | float | bool] = {
    "font.size": 13,
    "axes.titlesize": 14,
    "axes.labelsize": 13,
    "xtick.labelsize": 12,
    "ytick.labelsize": 12,
    "legend.fontsize": 12,
    "figure.titlesize": 16,
    "text.parse_math": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "svg.fonttype": "path",
    "pdf.fonttype": 42,
    "legend.frameon": False,
    "svg.hashsalt": "techsim",  # SVG element ids from a fixed salt, not uuid4: same file
}


def reps_text(res: Results) -> str:
    """ "20 replications" (or "replications" when the manifest does not say)."""
    r = res.replications
    return f"{r} replications" if r else "replications"


def present_kpis(res: Results, candidates: tuple[KPI, ...] = FIGURE_KPIS) -> list[KPI]:
    """The candidate KPIs that summary.csv holds, in order."""
    present = set(res.summary["kpi"])
    return [k for k in candidates if k.name in present]


@dataclass
class FigureSpec:
    """One figure: file stem, title and caption (for the report), the figure itself."""

    name: str
    title: str
    caption: str
    figure: Figure


#: Makes one figure of a results directory, or None when its data are absent.
FigureMaker = Callable[[Results], FigureSpec | None]


def new_figure(size: tuple[float, float] = FIGSIZE) -> Figure:
    return Figure(figsize=size, layout="constrained")


def panel_grid(fig: Figure, n: int, sharex: bool = False, sharey: bool = False) -> list[Axes]:
    """n panels: one row up to 4, else two rows."""
    rows = 1 if n <= 4 else 2
    cols = max(1, math.ceil(n / rows))
    axes = fig.subplots(rows, cols, sharex=sharex, sharey=sharey, squeeze=False).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return list(axes[:n])


def scheme_legend(
    fig: Figure,
    res: Results,
    schemes: list[str],
    extra: Sequence[Artist] = (),
    title: str | None = None,
) -> None:
    """The scheme legend below the panels; with `title`, above them, carrying the title.

    (Constrained layout places one artist above the panels well, not a title and a legend.)
    """
    handles: list[Artist] = [
        Line2D(
            [],
            [],
            color=res.colours[s],
            marker="o",
            ms=9,
            lw=2.5,
            label=res.label(s) + (" (baseline)" if s == res.baseline else ""),
        )
        for s in schemes
    ]
    handles += list(extra)
    ncols = min(len(handles), 4)
    # matplotlib fills legend columns first; reorder so the entries read row by row
    handles = [h for col in range(ncols) for h in handles[col::ncols]]
    if title is None:
        fig.legend(handles=handles, loc="outside lower center", ncols=ncols)
    else:
        fig.legend(
            handles=handles,
            loc="outside upper center",
            ncols=ncols,
            title=title,
            title_fontproperties={"size": mpl.rcParams["figure.titlesize"]},
        )


def short(path: str, width: int = 22) -> str:
    """A dotted path for a tick label: broken after its last dot when long."""
    if len(path) <= width or "." not in path:
        return path
    head, tail = path.rsplit(".", 1)
    return f"{head}.\n{tail}"


def thousands(ax: Axes, axis: Literal["x", "y"] = "y") -> None:
    """Tick labels with thousands separators (and no needless decimals)."""
    f = FuncFormatter(lambda v, _pos: f"{v:,.0f}" if abs(v) >= 1000 else f"{v:g}")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(f)


def band_stats(wide: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and 95% t-interval per row of a (time x replication) table."""
    a = wide.to_numpy(dtype=float)
    n = np.sum(~np.isnan(a), axis=1)
    m = np.nanmean(a, axis=1)
    sd = np.nanstd(a, axis=1, ddof=1) if a.shape[1] > 1 else np.full(len(a), np.nan)
    t = sps.t.ppf(0.5 + CONFIDENCE / 2, np.maximum(n - 1, 1))
    h = np.where(n > 1, t * sd / np.sqrt(np.maximum(n, 1)), np.nan)
    return m, m - h, m + h
