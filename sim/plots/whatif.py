"""The tornado figure of a what-if analysis (`techsim whatif`; `sim.sweep.whatif`).

One row per scanned assumption, largest swing at the top: a bar from the paired difference
at the scenario's value (the vertical line) to the difference at the low end of the range,
and one to the high end, each with its 95% CI; the zero line is where the comparison's sign
flips, and an assumption whose scan crosses it is marked with the value where it does.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.metrics.catalogue import KPIS
from sim.plots.output import render
from sim.plots.style import FIGSIZE, STYLE, FigureSpec, new_figure, thousands
from sim.store.files import atomic_write_bytes
from sim.store.whatif import FIGURE, load_whatif

LOW, HIGH, FLIP = "#E69F00", "#0072B2", "#D55E00"


def _num(v: float) -> str:
    return f"{v:,.4g}" if abs(v) < 1e5 else f"{v:,.0f}"


def _label(r: pd.Series) -> str:
    return f"{r['path']}\n{_num(r['low'])} to {_num(r['high'])} (now {_num(r['base'])})"


def scanned_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The scanned assumptions, largest swing first."""
    t = table[table["scanned"].astype(str) == "yes"]
    return t.sort_values("swing", ascending=False, kind="stable")


def fig_tornado(table: pd.DataFrame, meta: dict[str, Any] | None = None) -> FigureSpec | None:
    """The tornado of whatif.csv's scanned assumptions; None when none was scanned."""
    with mpl.rc_context(STYLE):
        return _tornado(table, meta or {})


def _tornado(table: pd.DataFrame, m: dict[str, Any]) -> FigureSpec | None:
    rows = scanned_rows(table)
    if rows.empty:
        return None
    first = rows.iloc[0]
    scheme, against, kpi = str(first["scheme"]), str(first["against"]), str(first["kpi"])
    k = KPIS.get(kpi)
    sc = k.scale if k is not None else 1.0
    n = len(rows)
    fig = new_figure((FIGSIZE[0], max(FIGSIZE[1], 1.8 + 0.75 * n)))
    ax = fig.subplots()
    y = np.arange(n)[::-1]  # largest swing at the top
    base = float(first["diff_base"]) * sc
    h = 0.36
    for yi, (_, r) in zip(y, rows.iterrows()):
        for end, colour, shift in (("low", LOW, h / 2), ("high", HIGH, -h / 2)):
            v = float(r[f"diff_{end}"]) * sc
            lo, hi = float(r[f"diff_{end}_ci_low"]) * sc, float(r[f"diff_{end}_ci_high"]) * sc
            ax.barh(yi + shift, v - base, left=base, height=h, color=colour)
            if not (math.isnan(lo) or math.isnan(hi)):
                ax.errorbar(v, yi + shift, xerr=[[v - lo], [hi - v]], fmt="none",
                            ecolor="0.25", capsize=3, lw=1.2)  # fmt: skip
        if str(r["flips"]) == "yes":
            ax.plot([0.0], [yi], marker="*", ms=16, color=FLIP, zorder=5)
            sure = str(r["flip_ci_excludes_zero"]) == "yes"
            ax.annotate(
                f"flips at {_num(float(r['flip_value']))}" + ("" if sure else " (CI incl. 0)"),
                (0.0, yi),
                xytext=(8, 6),
                textcoords="offset points",
                color=FLIP,
                fontsize=11,
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.8},
            )
    ax.axvline(base, color="0.2", lw=1.5)
    ax.axvline(0.0, color=FLIP, lw=1.2, ls="--")
    ax.set_yticks(y, [_label(r) for _, r in rows.iterrows()], fontsize=10)
    ax.grid(axis="y", visible=False)
    unit = k.diff_label if k is not None else ""
    ax.set_xlabel(
        f"{k.title if k else kpi}: {scheme} minus {against}" + (f" ({unit})" if unit else "")
    )
    if k is not None and k.kind in ("money", "money0"):
        thousands(ax, "x")
    handles = [
        Patch(color=LOW, label="at the low end of the range"),
        Patch(color=HIGH, label="at the high end"),
        Line2D([], [], color="0.2", lw=1.5, label="at the scenario's values"),
        Line2D([], [], color=FLIP, lw=1.2, ls="--", marker="*", ms=12, label="sign flips"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=4, fontsize=11)
    title = f"What would change the answer: {scheme} against {against}"
    fig.suptitle(title)
    how = (
        f" ({m.get('scan_replications')} replications per value, common random numbers)"
        if m.get("scan_replications")
        else ""
    )
    caption = (
        f"The paired difference in {k.label if k else kpi} ({scheme} minus {against}) when "
        "one assumption at a time moves to the low or the high end of its plausible range, "
        "the others at the scenario's values; largest swing at the top; whiskers are 95% "
        f"CIs{how}. Where a bar crosses the dashed zero line the conclusion flips; the star "
        "marks it, with the value of the assumption where the mean difference is zero."
    )
    return FigureSpec("whatif", title, caption, fig)


def write_tornado(folder: Path) -> Path | None:
    """Draw the tornado of the what-if folder into `folder`/whatif.png (None: nothing
    scanned, no figure)."""
    w = load_whatif(folder)
    spec = fig_tornado(w.table, w.meta)
    if spec is None:
        return None
    path = folder / FIGURE
    atomic_write_bytes(path, render(spec, "png"))
    return path
