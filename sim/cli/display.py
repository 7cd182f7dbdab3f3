"""Terminal tables of a summary: each KPI as mean +/- 95% CI, and paired differences."""

from __future__ import annotations

import math

import pandas as pd
from rich.table import Table

#: KPIs shown in the terminal, with how to format them.
HEADLINE: tuple[tuple[str, str], ...] = (
    ("first_time_fix_rate", "pct"),
    ("repeat_visit_rate", "pct"),
    ("callback_rate", "pct"),
    ("retention_rate", "pct"),
    ("nps", "num1"),
    ("relational_nps", "num1"),
    ("sla_compliance", "pct"),
    ("jobs_per_tech_day", "num2"),
    ("utilisation", "pct"),
    ("tech_pay_per_day", "money"),
    ("labour_cost_per_job", "money"),
    ("revenue", "money0"),
    ("margin", "money0"),
    ("mean_thoroughness", "num2"),
)

LABELS = {
    "first_time_fix_rate": "first-time fix",
    "repeat_visit_rate": "repeat visits",
    "callback_rate": "callbacks",
    "retention_rate": "retention",
    "nps": "NPS (transactional)",
    "relational_nps": "NPS (relational)",
    "sla_compliance": "SLA compliance",
    "jobs_per_tech_day": "jobs per tech-day",
    "utilisation": "utilisation",
    "tech_pay_per_day": "pay per tech-day",
    "labour_cost_per_job": "labour cost per job",
    "revenue": "revenue",
    "margin": "margin",
    "mean_thoroughness": "thoroughness",
}


#: Decimals of each kind of number (the terminal tables and the report).
DECIMALS = {"pct": 1, "num1": 1, "num2": 2, "money": 2, "money0": 0}


def fmt(value: float, kind: str, signed: bool = False) -> str:
    """A KPI value for the terminal: pct as % (a signed one as pts, 2 decimals)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    sign = "+" if signed else ""
    if kind == "pct":
        return f"{100 * value:{sign}.1f}%" if not signed else f"{100 * value:+.2f} pts"
    sep = "," if kind in ("money", "money0") else ""
    return f"{value:{sign}{sep}.{DECIMALS.get(kind, 2)}f}"


def half_width(low: float, high: float, kind: str) -> str:
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
    t1 = Table(title=f"{title}: mean ± 95% CI over replications", title_justify="left")
    t1.add_column("KPI")
    for s in schemes:
        t1.add_column(s + (" (baseline)" if s == baseline else ""), justify="right")
    for kpi, kind in HEADLINE:
        if (schemes[0], kpi) not in idx.index:
            continue
        cells = []
        for s in schemes:
            row = idx.loc[(s, kpi)]
            cells.append(
                f"{fmt(row['mean'], kind)} ± {half_width(row['ci_low'], row['ci_high'], kind)}"
            )
        t1.add_row(LABELS.get(kpi, kpi), *cells)
    others = [s for s in schemes if s != baseline]
    if not others:
        return t1, None
    t2 = Table(
        title=f"Paired difference against {baseline} (95% CI; * = CI excludes 0)",
        title_justify="left",
    )
    t2.add_column("KPI")
    for s in others:
        t2.add_column(s, justify="right")
    for kpi, kind in HEADLINE:
        if (schemes[0], kpi) not in idx.index:
            continue
        cells = []
        for s in others:
            row = idx.loc[(s, kpi)]
            lo, hi = row["diff_ci_low"], row["diff_ci_high"]
            star = "*" if (lo > 0 or hi < 0) else " "
            k2 = "num2" if kind == "pct" else kind
            scale = 100 if kind == "pct" else 1
            cells.append(
                f"{fmt(row['diff_mean'], kind, True)} "
                f"({fmt(scale * lo, k2, True)}, {fmt(scale * hi, k2, True)}){star}"
            )
        t2.add_row(LABELS.get(kpi, kpi), *cells)
    return t1, t2
