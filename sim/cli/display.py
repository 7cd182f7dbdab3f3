"""Terminal tables of a summary: each KPI as mean +/- 95% CI, and paired differences; the
lines of a workforce sizing."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd
from rich.table import Table

from sim.metrics.catalogue import CURRENCY, KPI, KPIS, TERMINAL_KPIS, Kind, fmt


def half_width(low: float, high: float, kind: Kind) -> str:
    """Half the width of a CI, for "mean ± half" (pct in points, without a unit)."""
    h = (high - low) / 2
    if math.isnan(h):
        return "n/a"
    if kind == "pct":
        return f"{100 * h:.1f}"
    return fmt(h, kind)


def summary_tables(summary: pd.DataFrame, title: str) -> tuple[Table, Table | None]:
    """(means table, paired-difference table or None when there is one scheme)."""
    schemes = list(dict.fromkeys(summary["scheme"]))
    baseline = summary["baseline"].iloc[0]
    idx = summary.set_index(["scheme", "kpi"])
    kpis = [k for k in TERMINAL_KPIS if (schemes[0], k.name) in idx.index]
    t1 = _kpi_table(
        f"{title}: mean ± 95% CI over replications",
        {s + (" (baseline)" if s == baseline else ""): s for s in schemes},
        kpis,
        idx,
        _mean_cell,
    )
    others = [s for s in schemes if s != baseline]
    if not others:
        return t1, None
    t2 = _kpi_table(
        f"Paired difference against {baseline} (95% CI; * = CI excludes 0)",
        {s: s for s in others},
        kpis,
        idx,
        _diff_cell,
    )
    return t1, t2


def _kpi_table(
    title: str,
    columns: dict[str, str],
    kpis: list[KPI],
    idx: pd.DataFrame,
    cell: Callable[[Any, KPI], str],
) -> Table:
    """One row per KPI, one column per scheme (header -> scheme): `cell` of the scheme's
    summary row of the KPI."""
    t = Table(title=title, title_justify="left")
    t.add_column("KPI")
    for head in columns:
        t.add_column(head, justify="right")
    for k in kpis:
        t.add_row(k.label, *(cell(idx.loc[(s, k.name)], k) for s in columns.values()))
    return t


def _mean_cell(row: pd.Series, k: KPI) -> str:
    return f"{fmt(row['mean'], k.kind)} ± {half_width(row['ci_low'], row['ci_high'], k.kind)}"


def _diff_cell(row: pd.Series, k: KPI) -> str:
    lo, hi = row["diff_ci_low"], row["diff_ci_high"]
    star = "*" if (lo > 0 or hi < 0) else " "
    # the CI of a difference of shares in points, without the unit
    ci_kind: Kind = "num2" if k.kind == "pct" else k.kind
    scale = 100 if k.kind == "pct" else 1
    return (
        f"{fmt(row['diff_mean'], k.kind, True)} "
        f"({fmt(scale * lo, ci_kind, True)}, {fmt(scale * hi, ci_kind, True)}){star}"
    )


def sizing_lines(sizing: dict[str, Any] | None, summary: pd.DataFrame) -> list[str]:
    """One line per scheme of a sized run (the manifest's "sizing"): the headcount it
    needs, and the labour cost it saves or adds against the baseline (paired, 95% CI)."""
    if not sizing:
        return []
    baseline = summary["baseline"].iloc[0]
    idx = summary.set_index(["scheme", "kpi"])
    kind = KPIS["labour_cost"].kind
    lines = [
        f"Workforce sized to {sizing['target']} (mean of {sizing['replications']} "
        f"replications; nominal {sizing['nominal_technicians']} technicians):"
    ]
    kpi = KPIS[sizing["kpi"]]
    for s, n in sizing["headcount"].items():
        met = sizing["evaluations"][s].get(str(n))
        line = f"  {s}: {n} technicians"
        if met is not None:
            line += f" ({kpi.label} {fmt(met, kpi.kind)} in the search)"
        if s == baseline:
            line += ", the baseline"
        elif (s, "labour_cost") in idx.index:
            row = idx.loc[(s, "labour_cost")]
            d, lo, hi = row["diff_mean"], row["diff_ci_low"], row["diff_ci_high"]
            verb = "saves" if d < 0 else "adds"
            line += (
                f", {verb} {CURRENCY}{fmt(abs(d), kind)} of labour cost against {baseline} "
                f"(95% CI of the change {fmt(lo, kind, True)} to {fmt(hi, kind, True)})"
            )
        lines.append(line)
    return lines


def width_text(kpi: str, value: float) -> str:
    """A half-width or target in the KPI's units (points for a share)."""
    k = KPIS[kpi]
    if k.kind == "pct":
        return f"{100 * value:.2f} pts"
    return fmt(value, k.kind)


def precision_line(precision: dict[str, Any]) -> str:
    """What the precision rule did (the manifest's "precision"): replications used, whether
    every target was met, and the pair that bound."""
    n, b = precision["replications"], precision["binding"]
    pair = ""
    if b is not None:
        pair = (
            f" (binding: {b['kpi']} of {b['scheme']}, ±{width_text(b['kpi'], b['half_width'])}"
            f" against ±{width_text(b['kpi'], b['target'])})"
        )
    if precision["met"]:
        return (
            f"Precision: {n} replications gave every paired difference a 95% CI half-width "
            f"at or below its target{pair}."
        )
    return (
        f"Precision: targets not met at the cap of {n} replications{pair}; raise --max-reps "
        "or accept wider intervals."
    )
