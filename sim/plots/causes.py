"""Why problems needed a return visit, per scheme, against Aberdeen's survey.

Each visit that did not fix records its cause (`sim.world.records.CAUSES`: a missing part,
skill, time, other), and runs.csv has, per replication, the share of each cause among the
problems whose first visit did not fix (`sim.metrics.catalogue.CAUSE_KPIS`, summing to 1).
`cause_shares` reads their means from summary.csv; `fig_repeat_causes` stacks them, one bar
per scheme, above a bar of Aberdeen's figures. Results made before these KPIs get no figure.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.patches import Patch

from sim.metrics.catalogue import CAUSE_KPIS
from sim.plots.style import FigureSpec, new_figure
from sim.store.results import Results

#: Why second and third visits happen (Aberdeen Group, *Field Service 2013*, as quoted by
#: ServiceMax): parts not available, inexperience or lack of training, the technician ran
#: out of time; the rest of the answers is "other". Keys: `sim.world.records.CAUSES`.
ABERDEEN_2013 = {"parts": 0.51, "skill": 0.25, "time": 0.13, "other": 0.11}
ABERDEEN_LABEL = "Aberdeen 2013 (survey)"

#: Okabe-Ito colours of the causes: orange, blue, vermillion, grey.
CAUSE_COLOURS = {"parts": "#E69F00", "skill": "#0072B2", "time": "#D55E00", "other": "#999999"}

#: A cause's name: its KPI's name without the prefix.
PREFIX = "repeat_cause_"


def cause_shares(res: Results) -> dict[str, dict[str, float]] | None:
    """Mean share of each cause per scheme (scheme -> cause -> share), from summary.csv;
    None when the results have no cause KPIs or no scheme had a return visit."""
    s = res.summary
    names = [k.name for k in CAUSE_KPIS]
    if res.kind != "run" or not set(names) <= set(s["kpi"]):
        return None
    out: dict[str, dict[str, float]] = {}
    for scheme in res.schemes:
        rows = s[(s["scheme"] == scheme) & s["kpi"].isin(names)].set_index("kpi")["mean"]
        shares = {n.removeprefix(PREFIX): float(rows.get(n, math.nan)) for n in names}
        if not any(math.isnan(v) for v in shares.values()):
            out[scheme] = shares
    return out or None


def fig_repeat_causes(res: Results) -> FigureSpec | None:
    shares = cause_shares(res)
    if shares is None:
        return None
    bars = [(res.label(s), v) for s, v in shares.items()] + [(ABERDEEN_LABEL, ABERDEEN_2013)]
    fig = new_figure()
    ax = fig.subplots()
    ys = np.arange(len(bars))[::-1]
    for y, (_label, v) in zip(ys, bars):
        left = 0.0
        for cause, colour in CAUSE_COLOURS.items():
            w = 100.0 * v[cause]
            ax.barh(y, w, left=left, height=0.6, color=colour, zorder=2)
            if w >= 6.0:
                ax.text(left + w / 2, y, f"{w:.0f}", ha="center", va="center", color="white")
            left += w
    ax.axhline(ys[-1] + 0.5, color="0.35", lw=1.2)  # the survey, set apart from the schemes
    ax.set_yticks(ys, [label for label, _v in bars])
    ax.set_xlim(0, 100)
    ax.set_xlabel(CAUSE_KPIS[0].axis)
    ax.grid(axis="y", visible=False)
    fig.suptitle("Why problems needed a return visit")
    fig.legend(
        handles=[Patch(color=c, label=name) for name, c in CAUSE_COLOURS.items()],
        loc="outside lower center",
        ncols=len(CAUSE_COLOURS),
    )
    return FigureSpec(
        "repeat_causes",
        "Why problems needed a return visit",
        "Of the problems whose first visit did not fix them, the share by the cause of that "
        "visit, per scheme (mean over replications): a part missing; a failed fix the "
        "technician would also have failed at standard care (thoroughness 1, on the same "
        "random draw): skill; a failed fix standard care would have made: time (rushed); "
        "anything else, such as a premature closure. The last bar is Aberdeen Group's "
        "survey of why second visits happen (Field Service 2013, as quoted by ServiceMax: "
        "parts 51%, inexperience 25%, ran out of time 13%; the rest other).",
        fig,
    )
