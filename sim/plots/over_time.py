"""Run figures over time: a line per scheme, week by week, the mean over replications with
a band for its 95% CI; the warm-up shaded. Active customers (the retention curve), and
thoroughness under a behaviour model that changes it during the run (e.g. learning)."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from sim.plots.style import FigureSpec, band_stats, new_figure, reps_text, scheme_legend, thousands
from sim.store.results import Results


def _over_time(
    res: Results, table: pd.DataFrame, value: str, ylabel: str, title: str, agg_techs: bool = False
) -> Figure:
    fig = new_figure()
    ax = fig.subplots()
    warm = res.scenario.get("warmup_days")
    if isinstance(warm, (int, float)) and warm > 0:
        ax.axvspan(0, warm / 7.0, color="0.88", lw=0, label="warm-up (not measured)")
    shown = []
    for s in res.schemes:
        t = table[table["scheme"] == s]
        if t.empty:
            continue
        if agg_techs:
            t = t.groupby(["replication", "week"], as_index=False)[[value]].mean()
        wide = t.pivot_table(index="week", columns="replication", values=value, aggfunc="mean")
        m, lo, hi = band_stats(wide)
        c = res.colours[s]
        ax.fill_between(wide.index, lo, hi, color=c, alpha=0.25, lw=0)
        ax.plot(wide.index, m, color=c, lw=2.5)
        shown.append(s)
    ax.set_xlabel("Week of the simulation")
    ax.set_ylabel(ylabel)
    thousands(ax)
    fig.suptitle(title)
    scheme_legend(fig, res, shown, ax.get_legend_handles_labels()[0])
    return fig


def fig_customers_over_time(res: Results) -> FigureSpec | None:
    ts = res.timeseries
    if ts is None or ts.empty:
        return None
    fig = _over_time(
        res,
        ts,
        "active_customers",
        "Active customers (accounts)",
        f"Active customers over time (band: 95% CI over {reps_text(res)})",
    )
    return FigureSpec(
        "customers_over_time",
        "Active customers over time",
        "The number of customers still under contract, week by week (the retention curve): "
        "the line is the mean over replications, the band its 95% confidence interval. The "
        "grey area is the warm-up, which the KPIs leave out.",
        fig,
    )


def fig_thoroughness_over_time(res: Results) -> FigureSpec | None:
    """Only for a behaviour model that changes thoroughness over time (e.g. learning)."""
    b = res.behaviour
    if b is None or b.empty:
        return None
    if "present" in b.columns:  # weeks of a vacancy have no technician to average
        b = b[b["present"] != 0]
    if b.groupby(["scheme", "replication", "tech"])["thoroughness"].nunique().max() <= 1:
        return None  # static: the KPI tables already hold each scheme's thoroughness
    fig = _over_time(
        res,
        b,
        "thoroughness",
        "Thoroughness (1 = comfortable pace)",
        "Thoroughness over time (mean over technicians, 95% CI band)",
        agg_techs=True,
    )
    return FigureSpec(
        "thoroughness_over_time",
        "Thoroughness over time",
        "How thorough technicians are, week by week, under each scheme: the mean over "
        "technicians, with a band for the 95% confidence interval over replications.",
        fig,
    )
