"""Figures of a run's results that compare the schemes, ready to paste into a deck.

Every figure is a `matplotlib.figure.Figure` made without pyplot (no global figure
registry, no backend switch), styled for slides (10 x 5.6 in, text >= 12 pt) and drawn in
the Okabe-Ito colour-blind-safe palette, each scheme always in the colour of its position
in the manifest. Figures whose data are absent (no technicians.csv, no behaviour.csv, no
attrition columns, ...) are skipped: their maker returns None.

Here: the KPIs per scheme, paired differences, the trade-off, business outcomes and
attrition. The other run figures: where the margin difference comes from
(`sim.plots.margin`), figures over time (`sim.plots.over_time`), technicians' pay
(`sim.plots.pay`); sweep figures in `sim.plots.sweep` and `sim.plots.sensitivity`; the style
and the shared pieces in `sim.plots.style`; `sim.plots.output` picks the figures of a
results directory (`RUN_FIGURES`) and writes them.
"""

from __future__ import annotations

import math

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sim.metrics.catalogue import ATTRITION_KPIS, BUSINESS_KPIS, KPI, KPIS
from sim.metrics.stats import mean_ci
from sim.plots.style import (
    FigureSpec,
    new_figure,
    panel_grid,
    present_kpis,
    reps_text,
    scheme_legend,
    thousands,
)
from sim.store.results import Results


def _mean_ci_of(res: Results, scheme: str, k: KPI) -> tuple[float, float, float]:
    """(mean, low, high) scaled: from summary.csv, else from runs.csv."""
    row = res.summary_row(scheme, k.name)
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
    title = f"Pay schemes compared: mean and 95% CI over {reps_text(res)}"
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
    title = f"Business outcomes per scheme: mean and 95% CI over {reps_text(res)}"
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
            row = res.summary_row(s, k.name)
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
        res, kpis, f"Technician attrition per scheme: mean and 95% CI over {reps_text(res)}"
    )
    return FigureSpec(
        "quits_per_scheme",
        "Technician attrition per scheme",
        "Technicians who quit during the measured period, the days their posts stood "
        "empty, and the technicians hired, per scheme (mean and 95% CI over replications).",
        fig,
    )
