"""The report's numbers and words: numbers typeset, KPI labels with their units,
significance, and the pieces every section shares (the report's KPIs, a scheme's table
cell and header, a paired difference's cell).

Numbers are written by the kinds of `sim.metrics.catalogue` (pct, num1, num2, money, money0)
with its decimals; a minus is U+2212, a difference of a share is in points.
"""

from __future__ import annotations

import math

from sim.metrics.catalogue import ATTRITION_KPIS, CURRENCY, DECIMALS, KPI, REPORT_KPIS, Kind
from sim.report.document import Cell
from sim.store.results import Results

MINUS = "\u2212"


# --------------------------------------------------------------------------- numbers
def is_nan(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def num(
    v: float, kind: Kind, signed: bool = False, unit: bool = False, dec: int | None = None
) -> str:
    """A KPI value as text: pct as % (or pts when signed), money with $, minus as U+2212."""
    if is_nan(v):
        return "n/a"
    x = float(v) * (100.0 if kind == "pct" else 1.0)
    d = DECIMALS[kind] if dec is None else dec
    body = f"{abs(x):,.{d}f}"
    zero = float(body.replace(",", "")) == 0.0
    sign = "" if zero else (MINUS if x < 0 else ("+" if signed else ""))
    if unit and kind in ("money", "money0"):
        body = CURRENCY + body
    if unit and kind == "pct":
        body += " pts" if signed else "%"
    return sign + body


def diff_decimals(kind: Kind, lo: float, hi: float) -> int:
    """Enough decimals that a narrow CI does not print as "+0.0 to +0.0"."""
    base = DECIMALS[kind]
    if is_nan(lo) or is_nan(hi):
        return base
    span = abs(hi - lo) * (100.0 if kind == "pct" else 1.0)
    d = base
    while d < base + 2 and 0 < span < 5 * 10.0**-d:
        d += 1
    return d


def significant(lo: float, hi: float) -> bool:
    return not is_nan(lo) and not is_nan(hi) and (lo > 0 or hi < 0)


def kpi_label(k: KPI, diff: bool = False) -> str:
    """ "first-time fix, %" (", pts" for a difference), "margin, $", "NPS (relational), score"."""
    if k.kind == "pct":
        return f"{k.label}, {'pts' if diff else '%'}"
    if k.kind in ("money", "money0"):
        return f"{k.label}, {CURRENCY}"
    return f"{k.label}, {k.unit}" if k.unit else k.label


def capitalise(s: str) -> str:
    return s[:1].upper() + s[1:]


def share_text(share: float) -> str:
    return f"{100 * share:.0f}%"


# --------------------------------------------------------------------------- pieces
def report_kpis(res: Results) -> list[KPI]:
    """The report's KPIs that summary.csv holds; attrition only when anybody quit."""
    s = res.summary
    have = set(s["kpi"])
    quiet = {
        k.name
        for k in ATTRITION_KPIS
        if k.name in have and not s.loc[s["kpi"] == k.name, "mean"].fillna(0).astype(bool).any()
    }
    return [k for k in REPORT_KPIS if k.name in have and k.name not in quiet]


def zero_everywhere(res: Results, k: KPI) -> bool:
    """Every mean of the KPI is 0 (or n/a), under every scheme (and at every point of a
    sweep): e.g. T&M revenue in a world without T&M calls. The summaries skip it."""
    s = res.summary
    return not s.loc[s["kpi"] == k.name, "mean"].fillna(0).astype(bool).any()


def scheme_cell(res: Results, s: str, suffix: str = "", cls: str = "") -> Cell:
    return Cell(res.label(s) + suffix, cls, res.colours.get(s, ""))


def scheme_head(
    res: Results, first: str, schemes: list[str], mark_baseline: bool = False
) -> list[Cell]:
    """A table's header row: `first`, then a numeric column per scheme in its colour
    (" (baseline)" after the baseline's name with `mark_baseline`)."""
    return [Cell(first)] + [
        scheme_cell(res, s, " (baseline)" if mark_baseline and s == res.baseline else "", "num")
        for s in schemes
    ]


def mean_cell(res: Results, s: str, k: KPI) -> Cell:
    """Scheme `s`'s mean of KPI `k` over replications, its 95% CI on a second line (from
    summary.csv; "n/a" when the results have no such row)."""
    r = res.summary_row(s, k.name)
    if r is None:
        return Cell("n/a", "num")
    return Cell(
        num(r["mean"], k.kind),
        "num",
        sub=f"[{num(r['ci_low'], k.kind)}, {num(r['ci_high'], k.kind)}]",
    )


def diff_cell(mean: float, lo: float, hi: float, kind: Kind) -> Cell:
    """A paired difference: the mean, " n.s." when its 95% CI [lo, hi] includes 0 (class
    "num ns", else "num sig": bold), and the CI on a second line; decimals enough for the
    CI (`diff_decimals`)."""
    dd = diff_decimals(kind, lo, hi)
    sig = significant(lo, hi)
    return Cell(
        num(mean, kind, True, dec=dd) + ("" if sig else " n.s."),
        "num sig" if sig else "num ns",
        sub=f"[{num(lo, kind, True, dec=dd)}, {num(hi, kind, True, dec=dd)}]",
    )


def design_method(res: Results) -> str:
    d = res.manifest.get("design")
    if isinstance(d, dict):
        return str(d.get("method") or "")
    return str(d or "")
