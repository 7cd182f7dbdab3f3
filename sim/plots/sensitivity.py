"""Figures of a sweep's sensitivity indices (sensitivity.csv of `techsim sensitivity`).

One bar chart per method (Sobol or Morris) and scheme: for each KPI, the index of every
swept parameter, largest at the top, with its 95% interval; at most four KPIs a figure.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
from matplotlib.lines import Line2D

from sim.metrics.catalogue import ATTRITION_KPIS, FIGURE_KPIS, KPIS
from sim.plots.style import FIGSIZE, FigureMaker, FigureSpec, new_figure, short
from sim.store.files import safe_filename
from sim.store.results import Results

SENSITIVITY_PER_FIGURE = 4


def _sens_columns(method: str) -> tuple[str, str | None, str | None, str | None]:
    """(main index, its CI half-width, second index, its CI half-width)."""
    if method == "sobol":
        return "ST", "ST_conf", "S1", "S1_conf"
    return "mu_star", "mu_star_conf", "sigma", None


def fig_sensitivity(
    res: Results, method: str, scheme: str | None, part: int, kpis: list[str]
) -> FigureSpec | None:
    sens = res.sensitivity
    if sens is None:
        return None
    d = sens[sens["method"] == method]
    if scheme is not None:
        d = d[d["scheme"] == scheme]
    main, main_conf, second, second_conf = _sens_columns(method)
    if main not in d.columns:
        return None
    # one parameter order for every panel: by the largest main index over the KPIs
    order = (
        d[d["kpi"].isin(kpis)]
        .groupby("parameter")[main]
        .max()
        .sort_values(ascending=True)
        .index.tolist()
    )
    if not order:
        return None
    height = max(FIGSIZE[1], 1.6 + 0.45 * len(order))
    fig = new_figure((FIGSIZE[0], height))
    axes = fig.subplots(1, len(kpis), sharey=True, squeeze=False).ravel()
    y = np.arange(len(order))
    has2 = second is not None and second in d.columns
    for ax, kpi in zip(axes, kpis):
        g = d[d["kpi"] == kpi].set_index("parameter").reindex(order)
        k = KPIS.get(kpi)
        # Morris effects are in the KPI's units: drawn on its figure scale (x100 for shares),
        # as the axis label says; Sobol indices are shares of variance, unscaled
        sc = k.scale if k is not None and method != "sobol" else 1.0
        h = 0.38 if has2 else 0.7
        bars = [(main, main_conf, h / 2 if has2 else 0.0, "#0072B2")]
        if has2 and second is not None:
            bars.append((second, second_conf, -h / 2, "#56B4E9"))
        for col, conf, shift, colour in bars:
            err = sc * g[conf] if conf and conf in g.columns else None
            ax.barh(y + shift, sc * g[col], height=h, color=colour, xerr=err, capsize=3,
                    error_kw={"lw": 1.2})  # fmt: skip
        ax.set_title(k.title if k else kpi)
        if method == "sobol":
            ax.set_xlabel("Sobol index")
        else:
            ax.set_xlabel(f"mu* ({k.diff_label})" if k else "mu*")
        ax.axvline(0, color="0.35", lw=1)
        ax.grid(axis="y", visible=False)
    axes[0].set_yticks(y, [short(p) for p in order])
    if method == "sobol":
        names = ("total effect ST", "first order S1")
    else:
        names = ("mu* (mean absolute effect)", "sigma (interactions, non-linearity)")
    handles = [Line2D([], [], color="#0072B2", lw=8, label=names[0])]
    if has2:
        handles.append(Line2D([], [], color="#56B4E9", lw=8, label=names[1]))
    fig.legend(handles=handles, loc="outside lower center", ncols=2)
    who = f" ({res.label(scheme)})" if scheme is not None else ""
    title = f"Which assumptions drive the answer: {method.title()} sensitivity{who}"
    fig.suptitle(title)
    stem = f"sensitivity_{method}" + (f"_{safe_filename(scheme)}" if scheme is not None else "")
    if part:
        stem += f"_{part + 1}"
    return FigureSpec(
        stem,
        title,
        "Sensitivity indices of each KPI to each swept parameter, largest at the top"
        + (
            ": ST is the share of the KPI's variance due to the parameter including its "
            "interactions, S1 without them; whiskers are 95% CIs."
            if method == "sobol"
            else ": mu* is the mean absolute elementary effect, sigma its spread (interactions "
            "and non-linearity); whiskers are 95% CIs."
        ),
        fig,
    )


def sensitivity_figures(res: Results) -> list[FigureMaker]:
    """The sensitivity figures of sensitivity.csv, if any: per method and scheme, the
    headline KPIs four to a figure (at most eight)."""
    sens = res.sensitivity
    if sens is None or sens.empty:
        return []
    order = [k.name for k in FIGURE_KPIS + ATTRITION_KPIS]
    have = list(dict.fromkeys(sens["kpi"].astype(str)))
    kpis = [k for k in order if k in have] or have[:8]
    kpis = kpis[:8]
    scoped = "scheme" in sens.columns
    makers: list[FigureMaker] = []
    for method in dict.fromkeys(sens["method"].astype(str)):
        for sch in list(dict.fromkeys(sens["scheme"].astype(str))) if scoped else [None]:
            for part in range(math.ceil(len(kpis) / SENSITIVITY_PER_FIGURE)):
                chunk = kpis[part * SENSITIVITY_PER_FIGURE : (part + 1) * SENSITIVITY_PER_FIGURE]
                makers.append(
                    partial(fig_sensitivity, method=method, scheme=sch, part=part, kpis=chunk)
                )
    return makers
