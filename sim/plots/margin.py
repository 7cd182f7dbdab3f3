"""The margin difference against the baseline, decomposed: where a scheme's margin comes from.

margin = contract revenue + T&M revenue - labour cost - visit costs (`sim.metrics.kpis`), so
the paired difference of the margin against the baseline is the sum of the parts' paired
differences, a cost's with its sign flipped (`sim.metrics.catalogue.MARGIN_PARTS`,
`sim.metrics.stats.decompose`). `margin_decomposition` computes it from runs.csv (the report's
table uses it too); `fig_margin_decomposition` draws it as one horizontal waterfall per
scheme. Results made before runs.csv had the parts get no decomposition, and a reason.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.metrics.catalogue import MARGIN, MARGIN_PARTS
from sim.metrics.stats import Part, decompose, decomposition_gap, summarise_decomposition
from sim.plots.style import FigureSpec, new_figure, panel_grid, thousands
from sim.store.results import Results

#: Okabe-Ito bluish green and vermillion: a part that adds to the margin, one that takes.
ADDS, TAKES = "#009E73", "#D55E00"
MINUS = "\u2212"


def margin_parts() -> list[Part]:
    """The margin's parts as (runs.csv column, sign)."""
    return [(k.name, sign) for k, sign in MARGIN_PARTS]


def part_label(name: str, sign: int) -> str:
    """ "+ contract revenue", "− labour cost", "= margin" (sign 0: the total)."""
    label = MARGIN.label if sign == 0 else dict((k.name, k.label) for k, _ in MARGIN_PARTS)[name]
    return f"{'=' if sign == 0 else '+' if sign > 0 else MINUS} {label}"


def margin_decomposition(res: Results) -> tuple[pd.DataFrame | None, str]:
    """The margin difference of every scheme against the baseline, decomposed: mean and 95% CI
    of each part's contribution and of the total (`summarise_decomposition`), or None and why
    not."""
    runs = res.runs
    others = [s for s in res.schemes if s != res.baseline]
    if res.kind != "run" or runs is None or "replication" not in runs.columns:
        return None, "the margin decomposition needs the runs of a run (runs.csv)"
    if not others:
        return None, "there is only one scheme, so there is no margin difference to decompose"
    parts = margin_parts()
    why = decomposition_gap(runs, MARGIN.name, parts)
    if why is not None:
        return None, (
            f"the margin decomposition needs runs.csv to hold the margin and its parts "
            f"(contract revenue, T&M revenue, labour cost, visit costs); here it has {why}"
            f"{' (results made before these KPIs existed)' if why.startswith('no col') else ''}"
        )
    runs = runs[runs["scheme"].isin(res.schemes)]
    table = summarise_decomposition(
        decompose(runs, MARGIN.name, parts, res.baseline), MARGIN.name, parts
    )
    order = {s: i for i, s in enumerate(others)}
    table = table[table["scheme"].isin(order)]
    return table.sort_values("scheme", key=lambda s: s.map(order), kind="stable"), ""


def fig_margin_decomposition(res: Results) -> FigureSpec | None:
    table, _why = margin_decomposition(res)
    if table is None or table.empty:
        return None
    others = list(dict.fromkeys(table["scheme"]))
    parts = [*margin_parts(), (MARGIN.name, 0)]
    scale = MARGIN.scale
    fig = new_figure()
    axes = panel_grid(fig, len(others), sharex=True, sharey=True)
    ys = np.arange(len(parts))[::-1]  # the first part on top, the total at the bottom
    for ax, s in zip(axes, others):
        rows = table[table["scheme"] == s].set_index("kpi")
        cum = 0.0
        for y, (name, sign) in zip(ys, parts):
            r = rows.loc[name]
            m, lo, hi = (float(r[c]) * scale for c in ("diff_mean", "diff_ci_low", "diff_ci_high"))
            if sign == 0:
                left, colour, end = 0.0, res.colours[s], m
            else:
                left, colour, end = cum, ADDS if m >= 0 else TAKES, cum + m
                ax.plot([end, end], [y - 0.4, y - 0.6], color="0.45", lw=1)  # to the next bar
                cum = end
            ax.barh(y, m, left=left, height=0.6, color=colour, zorder=2)
            if not (math.isnan(lo) or math.isnan(hi)):
                ax.errorbar(
                    end,
                    y,
                    xerr=[[m - lo], [hi - m]],
                    fmt="none",
                    ecolor="0.15",
                    capsize=4,
                    lw=1.6,
                    zorder=3,
                )
        ax.axvline(0, color="0.35", ls="--", lw=1.2)
        ax.set_title(res.label(s), color=res.colours[s])
        ax.set_xlabel(MARGIN.diff_label)
        ax.grid(axis="y", visible=False)
        ax.margins(x=0.08)
        thousands(ax, "x")
    axes[0].set_yticks(ys, [part_label(n, sign) for n, sign in parts])
    fig.suptitle(f"Where the margin difference against {res.label(res.baseline)} comes from")
    fig.legend(
        handles=[
            Patch(color=ADDS, label="adds to the margin"),
            Patch(color=TAKES, label="takes from it"),
            Line2D([], [], color="0.15", lw=1.6, marker="|", ms=10, label="95% CI"),
        ],
        loc="outside lower center",
        ncols=3,
    )
    return FigureSpec(
        "margin_decomposition",
        f"Margin difference against {res.label(res.baseline)}, decomposed",
        "The change in margin against the baseline scheme, paired replication by "
        "replication, and the parts it is made of: the change in contract revenue kept and "
        "in T&M revenue, less the change in labour cost (pay with the employer's overhead) "
        "and in visit costs (a cost that falls adds to the margin). Each bar starts where the "
        "one above ends; the last bar, in the scheme's colour, is the margin difference, the "
        "sum of the parts. Whiskers: the 95% CI of each part's mean.",
        fig,
    )
