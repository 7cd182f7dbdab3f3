"""Figures of a run's results, ready to paste into a deck.

Every figure is a `matplotlib.figure.Figure` made without pyplot (no global figure
registry, no backend switch), styled for slides (10 x 5.6 in, text >= 12 pt) and drawn in
the Okabe-Ito colour-blind-safe palette, each scheme always in the colour of its position
in the manifest. Figures whose data are absent (no technicians.csv, no behaviour.csv, no
attrition columns, ...) are skipped: their maker returns None.

Run figures live here; sweep figures in `sim.plots.sweep` and `sim.plots.sensitivity`; the
style and the shared pieces in `sim.plots.style`; `sim.plots.output` picks the figures of a
results directory and writes them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from sim.metrics.catalogue import ATTRITION_KPIS, BUSINESS_KPIS, CURRENCY, KPI, KPIS
from sim.metrics.stats import mean_ci
from sim.plots.margin import fig_margin_decomposition
from sim.plots.style import (
    FigureMaker,
    FigureSpec,
    band_stats,
    new_figure,
    panel_grid,
    present_kpis,
    scheme_legend,
    thousands,
)
from sim.store.pay_changes import PAY_TOLERANCE, pay_change_summary, pay_changes
from sim.store.results import Results

DPI = 150
FORMATS = ("png", "svg", "pdf")


def _summary_row(res: Results, scheme: str, kpi: str) -> pd.Series | None:
    s = res.summary
    rows = s[(s["scheme"] == scheme) & (s["kpi"] == kpi)]
    return None if rows.empty else rows.iloc[0]


def _mean_ci_of(res: Results, scheme: str, k: KPI) -> tuple[float, float, float]:
    """(mean, low, high) scaled: from summary.csv, else from runs.csv."""
    row = _summary_row(res, scheme, k.name)
    if row is not None:
        m, lo, hi = (float(row[c]) * k.scale for c in ("mean", "ci_low", "ci_high"))
        return m, lo, hi
    runs = res.runs
    if runs is None:
        return math.nan, math.nan, math.nan
    x = runs[runs["scheme"] == scheme][k.name].to_numpy(dtype=float)
    m, _sd, lo, hi = mean_ci(x)
    return m * k.scale, lo * k.scale, hi * k.scale


def _yerr(m: float, lo: float, hi: float) -> list[list[float]] | None:
    """Error bar lengths below and above `m` (None when the CI is unknown)."""
    if math.isnan(lo) or math.isnan(hi):
        return None
    return [[m - lo], [hi - m]]


def _reps_text(res: Results) -> str:
    r = res.replications
    return f"{r} replications" if r else "replications"


# --------------------------------------------------------------------------- run figures
def _means_panels(res: Results, kpis: list[KPI], title: str) -> Figure:
    fig = new_figure()
    schemes = res.schemes
    for ax, k in zip(panel_grid(fig, len(kpis)), kpis):
        for i, s in enumerate(schemes):
            m, lo, hi = _mean_ci_of(res, s, k)
            ax.errorbar(
                i, m, yerr=_yerr(m, lo, hi), fmt="o", color=res.colours[s], ms=9, capsize=5, lw=2.5
            )
        ax.set_xticks([])
        ax.set_xlim(-0.6, len(schemes) - 0.4)
        ax.set_title(k.title)
        ax.set_ylabel(k.axis_label)
        ax.margins(y=0.15)
        thousands(ax)
    fig.suptitle(title)
    scheme_legend(fig, res, schemes)
    return fig


def fig_kpi_comparison(res: Results) -> FigureSpec | None:
    kpis = present_kpis(res)
    if not kpis:
        return None
    title = f"Pay schemes compared: mean and 95% CI over {_reps_text(res)}"
    return FigureSpec(
        "kpi_comparison",
        "Headline KPIs per scheme",
        "Each headline KPI per pay scheme: the dot is the mean over replications, the "
        "whiskers its 95% confidence interval.",
        _means_panels(res, kpis, title),
    )


def fig_business_outcomes(res: Results) -> FigureSpec | None:
    """The business outcomes (T&M revenue, accounts kept, uptime, overtime, cost per visit),
    each only when some scheme has a non-zero mean (no T&M calls: no T&M panel)."""
    s = res.summary
    kpis = [
        k
        for k in present_kpis(res, BUSINESS_KPIS)
        if s.loc[s["kpi"] == k.name, "mean"].fillna(0).astype(bool).any()
    ]
    if not kpis:
        return None
    title = f"Business outcomes per scheme: mean and 95% CI over {_reps_text(res)}"
    return FigureSpec(
        "business_outcomes",
        "Business outcomes per scheme",
        "What the company earns besides contracts (T&M revenue), the accounts it has at the "
        "end, the uptime its customers get (availability), the overtime its technicians work "
        "and the full cost of a visit (labour with overhead, and the visit cost), per pay "
        "scheme: the dot is the mean over replications, the whiskers its 95% CI.",
        _means_panels(res, kpis, title),
    )


def fig_paired_differences(res: Results) -> FigureSpec | None:
    others = [s for s in res.schemes if s != res.baseline]
    kpis = [k for k in present_kpis(res) if "diff_mean" in res.summary.columns]
    if not others or not kpis:
        return None
    fig = new_figure()
    for ax, k in zip(panel_grid(fig, len(kpis)), kpis):
        lows, highs = [0.0], [0.0]
        for j, s in enumerate(others):
            row = _summary_row(res, s, k.name)
            if row is None:
                continue
            d, lo, hi = (
                float(row[c]) * k.scale for c in ("diff_mean", "diff_ci_low", "diff_ci_high")
            )
            sig = lo > 0 or hi < 0
            c = res.colours[s]
            y = len(others) - 1 - j
            xerr = None if math.isnan(lo) else [[d - lo], [hi - d]]
            ax.errorbar(
                d,
                y,
                xerr=xerr,
                fmt="o",
                color=c,
                mec=c,
                mfc=c if sig else "white",
                mew=2,
                ms=9,
                capsize=4,
                lw=2.5,
            )
            lows.append(lo if not math.isnan(lo) else d)
            highs.append(hi if not math.isnan(hi) else d)
        ax.axvline(0, color="0.35", ls="--", lw=1.2)
        span = max(highs) - min(lows) or 1.0
        ax.set_xlim(min(lows) - 0.12 * span, max(highs) + 0.12 * span)
        ax.set_yticks([])
        ax.set_ylim(-0.6, len(others) - 0.4)
        ax.set_title(k.title)
        ax.set_xlabel(k.diff_label)
        thousands(ax, "x")
    hollow = Line2D(
        [],
        [],
        color="0.3",
        marker="o",
        mfc="white",
        mew=2,
        ms=9,
        lw=0,
        label="CI includes 0 (not significant)",
    )
    fig.suptitle(f"Change against {res.label(res.baseline)}: paired difference, 95% CI")
    scheme_legend(fig, res, others, [hollow])
    return FigureSpec(
        "paired_differences",
        f"Paired differences against {res.label(res.baseline)}",
        "Forest plot: the change of each KPI against the baseline scheme, paired replication "
        "by replication (the schemes face the same customers, failures and technicians). A "
        "hollow dot marks a difference whose 95% CI includes zero.",
        fig,
    )


def _tradeoff_axes(fig: Figure, res: Results) -> list[tuple[Axes, KPI]]:
    ys = [KPIS["first_time_fix_rate"], KPIS["retention_rate"]]
    ys = [k for k in ys if k.name in set(res.summary["kpi"])]
    axes = panel_grid(fig, len(ys))
    xk = KPIS["jobs_per_tech_day"]
    for ax, k in zip(axes, ys):
        ax.set_xlabel(f"{xk.title} ({xk.axis_label})")
        ax.set_ylabel(f"{k.title} ({k.axis_label})")
        ax.set_title(f"{xk.title} vs {k.label}")
    return list(zip(axes, ys))


def fig_tradeoff(res: Results) -> FigureSpec | None:
    if "jobs_per_tech_day" not in set(res.summary["kpi"]):
        return None
    fig = new_figure()
    panels = _tradeoff_axes(fig, res)
    if not panels:
        return None
    xk = KPIS["jobs_per_tech_day"]
    for ax, k in panels:
        for s in res.schemes:
            xm, xlo, xhi = _mean_ci_of(res, s, xk)
            ym, ylo, yhi = _mean_ci_of(res, s, k)
            ax.errorbar(
                xm,
                ym,
                xerr=_yerr(xm, xlo, xhi),
                yerr=_yerr(ym, ylo, yhi),
                fmt="o",
                color=res.colours[s],
                ms=10,
                capsize=4,
                lw=2,
            )
        ax.margins(0.15)
    fig.suptitle("Trade-off: productivity against quality (mean, 95% CI)")
    scheme_legend(fig, res, res.schemes)
    return FigureSpec(
        "tradeoff",
        "Trade-off: productivity against quality",
        "Jobs per technician-day against first-time fix and against retention, one point per "
        "scheme with its 95% CI in both directions. Up and to the right is better on both.",
        fig,
    )


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
        f"Active customers over time (band: 95% CI over {_reps_text(res)})",
    )
    return FigureSpec(
        "customers_over_time",
        "Active customers over time",
        "The number of customers still under contract, week by week (the retention curve): "
        "the line is the mean over replications, the band its 95% confidence interval. The "
        "grey area is the warm-up, which the KPIs leave out.",
        fig,
    )


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


def fig_quits(res: Results) -> FigureSpec | None:
    """Only when attrition happened somewhere (the runs have tech_quits and a non-zero)."""
    runs = res.runs
    if runs is None:
        return None
    kpis = [k for k in ATTRITION_KPIS if k.name in runs.columns]
    if not kpis or "tech_quits" not in runs.columns:
        return None
    if not runs[[k.name for k in kpis]].fillna(0).to_numpy().any():
        return None  # attrition off (or nobody quit anywhere): nothing to compare
    fig = _means_panels(
        res, kpis, f"Technician attrition per scheme: mean and 95% CI over {_reps_text(res)}"
    )
    return FigureSpec(
        "quits_per_scheme",
        "Technician attrition per scheme",
        "Technicians who quit during the measured period, the days their posts stood "
        "empty, and the technicians hired, per scheme (mean and 95% CI over replications).",
        fig,
    )


RUN_FIGURES: tuple[FigureMaker, ...] = (
    fig_kpi_comparison,
    fig_paired_differences,
    fig_margin_decomposition,
    fig_business_outcomes,
    fig_tradeoff,
    fig_customers_over_time,
    fig_tech_pay_change,
    fig_thoroughness_over_time,
    fig_quits,
)
