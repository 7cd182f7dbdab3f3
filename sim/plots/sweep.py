"""Figures of a sweep: KPIs against each swept parameter, heatmaps, the trade-off, and the
sensitivity bars of `sim.plots.sensitivity`.

A sweep directory holds `runs.parquet` (one row per point x scheme x replication, the swept
parameters as columns named by their dotted path), `summary.*` (per point x scheme x KPI) and
possibly `sensitivity.csv`. Curves are drawn from the runs: for each value of a parameter,
the mean over every row with that value (replications, and the other parameters' values)
and its 95% t-interval; a parameter with many distinct values (Latin hypercube, Sobol) is
binned into quantile bins first.
"""

from __future__ import annotations

import math
import re
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.colors import Normalize
from matplotlib.image import AxesImage
from matplotlib.lines import Line2D

from sim.metrics.catalogue import ATTRITION_KPIS, FIGURE_KPIS, HEATMAP_KPIS, KPI, KPIS
from sim.metrics.stats import mean_ci
from sim.plots.sensitivity import sensitivity_figures
from sim.plots.style import (
    FIGSIZE,
    FigureMaker,
    FigureSpec,
    new_figure,
    panel_grid,
    present_kpis,
    scheme_legend,
    short,
    thousands,
)
from sim.store.files import safe_filename
from sim.store.results import Results

#: At most this many distinct values are plotted as they are; more are binned.
MAX_LEVELS = 12
BINS = 8
HEATMAP_BINS = 6


def _param_spec(res: Results, param: str) -> dict[str, Any]:
    for p in res.manifest.get("parameters") or []:
        if isinstance(p, dict) and p.get("path") == param:
            return p
    return {}


def _is_log(res: Results, param: str, x: pd.Series) -> bool:
    spec = _param_spec(res, param)
    if spec.get("log") is True or spec.get("scale") == "log":
        return True
    if not pd.api.types.is_numeric_dtype(x):
        return False
    v = x.dropna().to_numpy(dtype=float)
    return len(v) > 0 and v.min() > 0 and v.max() / v.min() >= 100


def levels(x: pd.Series, max_levels: int = MAX_LEVELS, bins: int = BINS) -> pd.Series:
    """x itself when it has few distinct values, else the mean of its quantile bin."""
    if not pd.api.types.is_numeric_dtype(x) or x.nunique() <= max_levels:
        return x
    b = pd.qcut(x, q=bins, duplicates="drop")
    return x.groupby(b, observed=True).transform("mean")


def _table(res: Results, kpi: str, params: list[str]) -> tuple[pd.DataFrame, bool]:
    """Rows with scheme, the parameters and the KPI value: runs if possible, else summary.

    The flag says whether rows are replications (True) or point means (False).
    """
    runs = res.runs
    if runs is not None and kpi in runs.columns and all(p in runs.columns for p in params):
        return runs[["scheme", *params, kpi]].rename(columns={kpi: "value"}), True
    s = res.summary
    if not all(p in s.columns for p in params):
        return pd.DataFrame(columns=["scheme", *params, "value"]), False
    s = s[s["kpi"] == kpi]
    return s[["scheme", *params, "mean", "ci_low", "ci_high"]].rename(
        columns={"mean": "value"}
    ), False


def curve(res: Results, kpi: str, param: str, scheme: str) -> pd.DataFrame:
    """x, mean, low, high of one KPI against one parameter for one scheme."""
    df, reps = _table(res, kpi, [param])
    df = df[df["scheme"] == scheme]
    if df.empty:
        return pd.DataFrame(columns=["x", "mean", "low", "high"])
    x = levels(df[param])
    rows = []
    for xv, g in df.groupby(x, sort=True):
        if reps:
            m, _sd, lo, hi = mean_ci(g["value"].to_numpy(dtype=float))
        else:
            m, lo, hi = (float(g[c].mean()) for c in ("value", "ci_low", "ci_high"))
        rows.append({"x": xv, "mean": m, "low": lo, "high": hi})
    return pd.DataFrame(rows)


def _sweep_kpis(res: Results) -> list[KPI]:
    """The headline KPIs, and the attrition KPIs only where someone quit at some point."""
    s = res.summary
    quits = [
        k
        for k in present_kpis(res, ATTRITION_KPIS)
        if s.loc[s["kpi"] == k.name, "mean"].abs().max() > 0
    ]
    return present_kpis(res, FIGURE_KPIS) + quits


def fig_sweep_param(res: Results, param: str) -> FigureSpec | None:
    kpis = _sweep_kpis(res)
    if not kpis:
        return None
    fig = new_figure()
    drawn = False
    numeric = True
    for ax, k in zip(panel_grid(fig, len(kpis)), kpis):
        for s in res.schemes:
            cv = curve(res, k.name, param, s)
            if cv.empty:
                continue
            numeric = pd.api.types.is_numeric_dtype(cv["x"])
            xs = cv["x"].to_numpy(dtype=float) if numeric else np.arange(len(cv))
            c = res.colours[s]
            ax.fill_between(
                xs, cv["low"] * k.scale, cv["high"] * k.scale, color=c, alpha=0.22, lw=0
            )
            ax.plot(xs, cv["mean"] * k.scale, color=c, lw=2.2, marker="o", ms=4)
            if not numeric:
                ax.set_xticks(xs, [str(v) for v in cv["x"]])
            drawn = True
        ax.set_title(k.title)
        ax.set_ylabel(k.axis_label)
        if numeric and _is_log(res, param, res.summary.get(param, pd.Series(dtype=float))):
            ax.set_xscale("log")
        thousands(ax)
    if not drawn:
        return None
    fig.supxlabel(param, fontsize=13)
    scheme_legend(
        fig, res, res.schemes, title=f"KPIs against {param} (mean, 95% CI band per scheme)"
    )
    return FigureSpec(
        f"sweep_{safe_filename(param)}",
        f"KPIs against {param}",
        f"Each headline KPI against the swept parameter {param}, one line per scheme: the mean "
        "over replications (and over the other swept parameters, if any) at each value, with "
        "its 95% confidence band.",
        fig,
    )


def _bin_labels(x: pd.Series) -> tuple[pd.Series, list[str]]:
    if pd.api.types.is_numeric_dtype(x) and x.nunique() > HEATMAP_BINS + 2:
        cats = pd.qcut(x, q=HEATMAP_BINS, duplicates="drop")
        codes = cats.cat.codes
        labels = [f"{iv.left:.3g}-{iv.right:.3g}" for iv in cats.cat.categories]
        return pd.Series(codes, index=x.index), labels
    vals = sorted(x.dropna().unique())
    pos = {v: i for i, v in enumerate(vals)}
    return x.map(pos), [
        f"{v:.3g}" if isinstance(v, (int, float, np.number)) else str(v) for v in vals
    ]


def fig_heatmap(res: Results, k: KPI, p1: str, p2: str) -> FigureSpec | None:
    df, _reps = _table(res, k.name, [p1, p2])
    if df.empty:
        return None
    ix, xl = _bin_labels(df[p1])
    iy, yl = _bin_labels(df[p2])
    df = df.assign(_x=ix.to_numpy(), _y=iy.to_numpy())
    schemes = [s for s in res.schemes if s in set(df["scheme"])]
    grids: dict[str, np.ndarray] = {}
    for s in schemes:
        cell = df[df["scheme"] == s].groupby(["_y", "_x"])["value"].mean().unstack("_x")
        cell = cell.reindex(index=range(len(yl)), columns=range(len(xl)))
        grids[s] = cell.to_numpy(dtype=float) * k.scale
    allv = np.concatenate([g.ravel() for g in grids.values()])
    allv = allv[~np.isnan(allv)]
    if not len(allv):
        return None
    norm = Normalize(vmin=float(allv.min()), vmax=float(allv.max()))
    size = (FIGSIZE[0], FIGSIZE[1]) if len(schemes) <= 4 else (FIGSIZE[0], FIGSIZE[1] * 1.4)
    fig = new_figure(size)
    axes = panel_grid(fig, len(schemes), sharex=True, sharey=True)
    im: AxesImage | None = None
    annotate = len(xl) * len(yl) <= 36
    for ax, s in zip(axes, schemes):
        g = grids[s]
        im = ax.imshow(g, origin="lower", aspect="auto", cmap="cividis", norm=norm)
        ax.set_title(res.label(s), color=res.colours[s], fontweight="bold")
        ax.set_xticks(
            range(len(xl)),
            xl,
            rotation=45 if len(xl) > 4 else 0,
            ha="right" if len(xl) > 4 else "center",
        )
        ax.set_yticks(range(len(yl)), yl)
        ax.grid(False)
        if annotate:
            for (r, c), v in np.ndenumerate(g):
                if not math.isnan(v):
                    ax.text(
                        c,
                        r,
                        f"{v:,.3g}",
                        ha="center",
                        va="center",
                        fontsize=12,
                        color="black" if norm(v) > 0.55 else "white",
                    )
    if im is None:
        return None
    axes[0].set_ylabel(short(p2))
    fig.supxlabel(p1, fontsize=13)
    fig.colorbar(im, ax=axes, label=f"{k.title} ({k.axis_label})", shrink=0.9)
    fig.suptitle(f"{k.title} by {p1} and {p2}")
    return FigureSpec(
        f"heatmap_{k.name}",
        f"{k.title} by {p1} and {p2}",
        f"Mean {k.label} ({k.axis_label}) over replications for each combination of "
        f"{p1} (across) and {p2} (up), one panel per scheme, on one colour scale.",
        fig,
    )


def fig_sweep_tradeoff(res: Results) -> FigureSpec | None:
    s = res.summary
    if not {"jobs_per_tech_day", "first_time_fix_rate"} <= set(s["kpi"]) or "point" not in s:
        return None
    means = s.pivot_table(index=["point", "scheme"], columns="kpi", values="mean").reset_index()
    ys = [KPIS[k] for k in ("first_time_fix_rate", "retention_rate") if k in means]
    xk = KPIS["jobs_per_tech_day"]
    weights = {
        m.group(1): p
        for p in res.parameters
        if (m := re.fullmatch(r"schemes\.([^.]+)\.weight", p)) and m.group(1) in res.schemes
    }
    fig = new_figure()
    extra = []
    for ax, k in zip(panel_grid(fig, len(ys)), ys):
        for sch in res.schemes:
            pts = means[means["scheme"] == sch]
            c = res.colours[sch]
            if sch in weights:
                wcol = weights[sch]
                cx = curve(res, xk.name, wcol, sch)
                cy = curve(res, k.name, wcol, sch)
                if not cx.empty and not cy.empty:
                    ax.plot(
                        cx["mean"] * xk.scale,
                        cy["mean"] * k.scale,
                        color=c,
                        lw=2.5,
                        marker="o",
                        ms=7,
                    )
                    for idx in sorted({0, len(cx) - 1}):
                        ax.annotate(
                            f"weight {cx['x'].iloc[idx]:g}",
                            (cx["mean"].iloc[idx] * xk.scale, cy["mean"].iloc[idx] * k.scale),
                            textcoords="offset points",
                            xytext=(6, 6),
                            fontsize=12,
                            color=c,
                        )
                    continue
            ax.scatter(
                pts[xk.name] * xk.scale,
                pts[k.name] * k.scale,
                color=c,
                s=90,
                alpha=0.8,
                edgecolors="white",
                lw=1,
                zorder=3,
            )
        ax.set_xlabel(f"{xk.title} ({xk.axis_label})")
        ax.set_ylabel(f"{k.title} ({k.axis_label})")
        ax.set_title(f"{xk.title} vs {k.label}")
        ax.margins(0.12)
    if weights:
        extra.append(
            Line2D([], [], color="0.3", lw=2.5, marker="o", label="curve: hybrid weight swept")
        )
    fig.suptitle("Trade-off across the sweep: productivity against quality")
    scheme_legend(fig, res, res.schemes, extra)
    return FigureSpec(
        "tradeoff",
        "Trade-off across the sweep",
        "Jobs per technician-day against first-time fix and retention: one dot per sweep point "
        "and scheme (mean over replications)"
        + (
            "; a hybrid scheme whose weight was swept is drawn as a curve from one weight to "
            "the other."
            if weights
            else "."
        ),
        fig,
    )


def sweep_figures(res: Results) -> list[FigureMaker]:
    """The figure makers that apply to this sweep, in report order."""
    makers: list[FigureMaker] = [fig_sweep_tradeoff]
    params = [
        p
        for p in res.parameters
        if p in res.summary.columns or (res.runs is not None and p in res.runs.columns)
    ]
    makers += [partial(fig_sweep_param, param=p) for p in params]
    if len(params) >= 2:
        present = set(res.summary["kpi"])
        makers += [
            partial(fig_heatmap, k=k, p1=params[0], p2=params[1])
            for k in HEATMAP_KPIS
            if k.name in present
        ]
    return makers + sensitivity_figures(res)
