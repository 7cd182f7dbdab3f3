"""The run figure of technicians' pay: who gains and who loses against the baseline scheme,
one dot per technician and replication, with a box of the spread (`sim.store.pay_changes`)."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle

from sim.metrics.catalogue import CURRENCY
from sim.plots.style import FigureSpec, new_figure, thousands
from sim.store.pay_changes import PAY_TOLERANCE, pay_change_summary, pay_changes
from sim.store.results import Results


def _box(ax: Axes, d: np.ndarray, y: float, h: float = 0.6) -> None:
    """A box (quartiles, median) with whiskers from the 5th to the 95th percentile.

    Drawn by hand: Axes.boxplot reads every rcParam, which imports pyplot.
    """
    p5, q1, med, q3, p95 = np.percentile(d, [5, 25, 50, 75, 95])
    ink = "0.15"
    ax.add_patch(Rectangle((q1, y - h / 2), q3 - q1, h, fill=False, ec=ink, lw=1.8, zorder=3))
    ax.plot([med, med], [y - h / 2, y + h / 2], lw=2.8, color=ink, zorder=3)
    ax.plot([p5, q1], [y, y], lw=1.5, color=ink, zorder=3)
    ax.plot([q3, p95], [y, y], lw=1.5, color=ink, zorder=3)
    for x in (p5, p95):
        ax.plot([x, x], [y - h / 5, y + h / 5], lw=1.5, color=ink, zorder=3)


def fig_tech_pay_change(res: Results) -> FigureSpec | None:
    ch = pay_changes(res)
    if ch is None or ch.empty:
        return None
    summ = pay_change_summary(ch).set_index("scheme")
    others = [s for s in res.schemes if s in summ.index]
    fig = new_figure()
    ax = fig.subplots()
    ticks = []
    for j, s in enumerate(others):
        y = len(others) - 1 - j
        d = ch.loc[ch["scheme"] == s, "change"].to_numpy(dtype=float)
        c = res.colours[s]
        # deterministic jitter (golden-ratio sequence): no random numbers in a figure
        jit = ((np.arange(len(d)) * 0.6180339887498949) % 1.0 - 0.5) * 0.45
        ax.scatter(d, y + jit, s=14, color=c, alpha=0.45, lw=0)
        _box(ax, d, y)
        r = summ.loc[s]
        label = f"{res.label(s)}\n{100 * r.share_rises:.0f}% gain, {100 * r.share_falls:.0f}% lose"
        ticks.append((y, label))
    ax.axvline(0, color="0.35", ls="--", lw=1.2)
    ax.set_yticks([y for y, _ in ticks], [t for _, t in ticks])
    ax.set_ylim(-0.7, len(others) - 0.3)
    ax.set_xlabel(
        f"Change in each technician's pay against {res.label(res.baseline)} "
        f"({CURRENCY} per day worked)"
    )
    ax.grid(axis="y", visible=False)
    thousands(ax, "x")
    n_rep = ch["replication"].nunique()
    fig.suptitle(f"Who wins, who loses: technicians' pay vs {res.label(res.baseline)}")
    return FigureSpec(
        "tech_pay_change",
        "Technicians' pay: who wins, who loses",
        f"Each dot is one technician in one replication ({n_rep} replications): the change in "
        f"their pay per day worked against the baseline scheme, the same person under both "
        f"schemes. Boxes span the middle half, whiskers the 5th to 95th percentile; gain or "
        f"lose means a change of more than {100 * PAY_TOLERANCE:.0f}% of baseline pay.",
        fig,
    )
