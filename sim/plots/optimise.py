"""The trade-off of an optimisation (`techsim optimise`): each trial's objective against its
pay change and against its share of losers, feasible trials filled, the limits drawn, the
re-evaluated best marked. Read from RESULTS/optimise/trials.csv and its manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib as mpl
import pandas as pd

from sim.plots.output import render
from sim.plots.style import STYLE, FigureSpec, new_figure, thousands
from sim.store.files import atomic_write_bytes

FIGURE = "tradeoff.png"


def fig_tradeoff_trials(trials: pd.DataFrame, info: dict[str, Any]) -> FigureSpec | None:
    """The figure, or None without trials."""
    if trials.empty:
        return None
    fig = new_figure((9.0, 3.8))
    axes = fig.subplots(1, 2, sharey=True)
    ok = trials["feasible"].astype(bool)
    limits = info.get("limits", {})
    for ax, col, scale, limit, label in (
        (axes[0], "pay_change", 100.0, limits.get("max_pay_change"), "pay change, % of baseline"),
        (axes[1], "loser_share", 100.0, limits.get("max_losers"), "technicians losing, %"),
    ):
        ax.scatter(trials.loc[~ok, col] * scale, trials.loc[~ok, "objective"], s=18,
                   facecolors="none", edgecolors="#999999", label="infeasible")  # fmt: skip
        ax.scatter(trials.loc[ok, col] * scale, trials.loc[ok, "objective"], s=22,
                   color="#0072B2", label="feasible")  # fmt: skip
        if limit is not None:
            for v in (-limit, limit) if col == "pay_change" else (limit,):
                ax.axvline(v * scale, color="#D55E00", linestyle="--", linewidth=1)
        ax.set_xlabel(label)
    top = info.get("top") or []
    if top:
        b = top[0]
        for ax, col in ((axes[0], "pay_change"), (axes[1], "loser_share")):
            ax.scatter([b[col] * 100.0], [b["objective"]], marker="*", s=140, color="#E69F00",
                       label="best feasible", zorder=3)  # fmt: skip
    axes[0].set_ylabel(str(info.get("objective_label", "objective")))
    thousands(axes[0])  # "2,500,000", not an offset "1e6" over the axis
    axes[1].legend(loc="best", fontsize=8)
    return FigureSpec(
        "optimise_tradeoff",
        "Optimised pay formula: objective against pay change and losers",
        "Each trial of the search (mean over its replications): filled when it meets both "
        "limits (dashed); the star is the best feasible trial before re-evaluation.",
        fig,
    )


def write_tradeoff(folder: Path, manifest: dict[str, Any]) -> Path | None:
    """Draw the trade-off of the optimisation in `folder` into `folder`/tradeoff.png."""
    trials = pd.read_csv(folder / "trials.csv")
    with mpl.rc_context(STYLE):
        spec = fig_tradeoff_trials(trials, manifest.get("optimise", {}))
    if spec is None:
        return None
    path = folder / FIGURE
    atomic_write_bytes(path, render(spec, "png"))
    return path
