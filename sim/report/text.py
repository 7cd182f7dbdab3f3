"""The report's numbers and words: KPI formats, labels, units, significance, and the
lookups every section shares (the report's KPIs, a summary row, a scheme's table cell).

Numbers use the kinds of `sim.cli.display` (pct, num1, num2, money, money0) with its decimals;
a minus is U+2212, a difference of a rate is in points.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from sim.cli.display import DECIMALS, HEADLINE, LABELS
from sim.report.document import Cell
from sim.store.results import Results

MINUS = "\u2212"

#: KPIs of the tables, with their number format (sim.cli.display kinds).
REPORT_KPIS: tuple[tuple[str, str], ...] = (
    *HEADLINE,
    ("tech_quits", "num1"),
    ("vacancy_days", "num1"),
)
ATTRITION = ("tech_quits", "vacancy_days")
KPI_LABELS = {**LABELS, "tech_quits": "technicians who quit", "vacancy_days": "vacancy days"}
#: The KPIs the executive summary talks about, in order.
SUMMARY_KPIS = (
    "first_time_fix_rate",
    "repeat_visit_rate",
    "retention_rate",
    "nps",
    "sla_compliance",
    "jobs_per_tech_day",
    "tech_pay_per_day",
    "margin",
    "tech_quits",
)
HIGHER_IS_BETTER = {
    "first_time_fix_rate",
    "retention_rate",
    "nps",
    "relational_nps",
    "sla_compliance",
    "jobs_per_tech_day",
    "revenue",
    "margin",
}
LOWER_IS_BETTER = {
    "repeat_visit_rate",
    "callback_rate",
    "labour_cost_per_job",
    "tech_quits",
    "vacancy_days",
}
UNITS = {
    "nps": "score",
    "relational_nps": "score",
    "jobs_per_tech_day": "visits per day",
    "mean_thoroughness": "1 = comfortable pace",
    "tech_quits": "per run",
    "vacancy_days": "days",
}


# --------------------------------------------------------------------------- numbers
def is_nan(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def num(
    v: float, kind: str, signed: bool = False, unit: bool = False, dec: int | None = None
) -> str:
    """A KPI value as text: pct as % (or pts when signed), money with $, minus as U+2212."""
    if is_nan(v):
        return "n/a"
    x = float(v) * (100.0 if kind == "pct" else 1.0)
    d = DECIMALS.get(kind, 2) if dec is None else dec
    body = f"{abs(x):,.{d}f}"
    zero = float(body.replace(",", "")) == 0.0
    sign = "" if zero else (MINUS if x < 0 else ("+" if signed else ""))
    if unit and kind in ("money", "money0"):
        body = "$" + body
    if unit and kind == "pct":
        body += " pts" if signed else "%"
    return sign + body


def diff_decimals(kind: str, lo: float, hi: float) -> int:
    """Enough decimals that a narrow CI does not print as "+0.0 to +0.0"."""
    base = DECIMALS.get(kind, 2)
    if is_nan(lo) or is_nan(hi):
        return base
    span = abs(hi - lo) * (100.0 if kind == "pct" else 1.0)
    d = base
    while d < base + 2 and 0 < span < 5 * 10.0**-d:
        d += 1
    return d


def significant(lo: float, hi: float) -> bool:
    return not is_nan(lo) and not is_nan(hi) and (lo > 0 or hi < 0)


def kpi_label(kpi: str, kind: str, diff: bool = False) -> str:
    """ "first-time fix, %" (or ", pts" for a difference), "margin, $", ..."""
    lab = KPI_LABELS.get(kpi, kpi)
    if kind == "pct":
        return f"{lab}, {'pts' if diff else '%'}"
    if kind in ("money", "money0"):
        return f"{lab}, $"
    return f"{lab}, {UNITS[kpi]}" if kpi in UNITS else lab


def capitalise(s: str) -> str:
    return s[:1].upper() + s[1:]


def share_text(share: float) -> str:
    return f"{100 * share:.0f}%"


# --------------------------------------------------------------------------- pieces
def report_kpis(res: Results) -> list[tuple[str, str]]:
    """The report's KPIs that summary.csv holds; attrition only when anybody quit."""
    s = res.summary
    have = set(s["kpi"])
    quiet = {
        k
        for k in ATTRITION
        if k in have and not s.loc[s["kpi"] == k, "mean"].fillna(0).astype(bool).any()
    }
    return [(k, kind) for k, kind in REPORT_KPIS if k in have and k not in quiet]


def scheme_cell(res: Results, s: str, suffix: str = "") -> Cell:
    return Cell(res.label(s) + suffix, "", res.colours.get(s, ""))


def summary_row(res: Results, scheme: str, kpi: str, point: Any = None) -> pd.Series | None:
    s = res.summary
    m = (s["scheme"] == scheme) & (s["kpi"] == kpi)
    if point is not None:
        m &= s["point"] == point
    rows = s[m]
    return None if rows.empty else rows.iloc[0]


def design_method(res: Results) -> str:
    d = res.manifest.get("design")
    if isinstance(d, dict):
        return str(d.get("method") or "")
    return str(d or "")
