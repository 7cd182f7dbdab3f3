"""The compensation-proposal report of a results directory (`techsim report`).

Everything in it is computed from the result files, never retyped: an executive summary
written from summary.csv (saying where a difference is not significant), the KPI tables
with their 95% CIs, the figures of `sim.plots`, who wins and who loses among technicians,
the assumptions (the resolved scenario in manifest.json) and the provenance. The content is
built once as a `sim.report_doc.Document` and rendered to one self-contained HTML file or
to PDF (headless Chromium printing that HTML, or a matplotlib rendering when there is no
Chromium).
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim import __version__
from sim.display import HEADLINE, LABELS
from sim.pay_changes import PAY_TOLERANCE, pay_change_summary, pay_changes
from sim.plots import figures, render
from sim.report_doc import (
    Bullets,
    Cell,
    Document,
    FigureBlock,
    Paragraph,
    Section,
    Table,
    cells,
)
from sim.report_html import render_html
from sim.results import Results, load_results
from sim.stats import mean_ci
from sim.storage import atomic_write_text

FORMATS = ("html", "pdf")
PDF_ENGINES = ("auto", "chromium", "matplotlib")
FIGURE_DPI = 110
MINUS = "\u2212"
WJ = "\u2060"  # word joiner: no line break inside a signed amount

#: KPIs of the tables, with their number format (sim.display kinds).
REPORT_KPIS: tuple[tuple[str, str], ...] = HEADLINE + (("tech_quits", "num1"),
                                                       ("vacancy_days", "num1"))
ATTRITION = ("tech_quits", "vacancy_days")
KPI_LABELS = {**LABELS, "tech_quits": "technicians who quit", "vacancy_days": "vacancy days"}
#: The KPIs the executive summary talks about, in order.
SUMMARY_KPIS = ("first_time_fix_rate", "repeat_visit_rate", "retention_rate", "nps",
                "sla_compliance", "jobs_per_tech_day", "tech_pay_per_day", "margin",
                "tech_quits")
HIGHER_IS_BETTER = {"first_time_fix_rate", "retention_rate", "nps", "relational_nps",
                    "sla_compliance", "jobs_per_tech_day", "revenue", "margin"}
LOWER_IS_BETTER = {"repeat_visit_rate", "callback_rate", "labour_cost_per_job", "tech_quits",
                   "vacancy_days"}
UNITS = {"nps": "score", "relational_nps": "score", "jobs_per_tech_day": "visits per day",
         "mean_thoroughness": "1 = comfortable pace", "tech_quits": "per run",
         "vacancy_days": "days"}
_DECIMALS = {"pct": 1, "num1": 1, "num2": 2, "money": 2, "money0": 0}


# --------------------------------------------------------------------------- numbers
def _nan(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def num(v: float, kind: str, signed: bool = False, unit: bool = False,
        dec: int | None = None) -> str:
    """A KPI value as text: pct as % (or pts when signed), money with $, minus as U+2212."""
    if _nan(v):
        return "n/a"
    x = float(v) * (100.0 if kind == "pct" else 1.0)
    d = _DECIMALS.get(kind, 2) if dec is None else dec
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
    base = _DECIMALS.get(kind, 2)
    if _nan(lo) or _nan(hi):
        return base
    span = abs(hi - lo) * (100.0 if kind == "pct" else 1.0)
    d = base
    while d < base + 2 and 0 < span < 5 * 10.0 ** -d:
        d += 1
    return d


def significant(lo: float, hi: float) -> bool:
    return not _nan(lo) and not _nan(hi) and (lo > 0 or hi < 0)


def kpi_label(kpi: str, kind: str, diff: bool = False) -> str:
    """"first-time fix, %" (or ", pts" for a difference), "margin, $", ..."""
    lab = KPI_LABELS.get(kpi, kpi)
    if kind == "pct":
        return f"{lab}, {'pts' if diff else '%'}"
    if kind in ("money", "money0"):
        return f"{lab}, $"
    return f"{lab}, {UNITS[kpi]}" if kpi in UNITS else lab


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _pct(share: float) -> str:
    return f"{100 * share:.0f}%"


# --------------------------------------------------------------------------- pieces
def _present(res: Results) -> list[tuple[str, str]]:
    """The report's KPIs that summary.csv holds; attrition only when anybody quit."""
    s = res.summary
    have = set(s["kpi"])
    quiet = {k for k in ATTRITION if k in have
             and not s.loc[s["kpi"] == k, "mean"].fillna(0).astype(bool).any()}
    return [(k, kind) for k, kind in REPORT_KPIS if k in have and k not in quiet]


def _scheme_cell(res: Results, s: str, suffix: str = "") -> Cell:
    return Cell(res.label(s) + suffix, "", res.colours.get(s, ""))


def _row(res: Results, scheme: str, kpi: str, point: Any = None) -> pd.Series | None:
    s = res.summary
    m = (s["scheme"] == scheme) & (s["kpi"] == kpi)
    if point is not None:
        m &= s["point"] == point
    rows = s[m]
    return None if rows.empty else rows.iloc[0]


def change_clause(res: Results, scheme: str, kpi: str, kind: str) -> str | None:
    """"raises first-time fix from 74.0% to 83.7% (+9.7 pts, 95% CI +9.2 to +10.2)"."""
    r, b = _row(res, scheme, kpi), _row(res, res.baseline, kpi)
    if r is None or b is None or "diff_mean" not in r.index:
        return None
    lab = KPI_LABELS.get(kpi, kpi)
    d, lo, hi = float(r["diff_mean"]), float(r["diff_ci_low"]), float(r["diff_ci_high"])
    dd = diff_decimals(kind, lo, hi)
    ci = f"95% CI {num(lo, kind, True, False, dd)} to {num(hi, kind, True, False, dd)}"
    before, after = num(b["mean"], kind, unit=True), num(r["mean"], kind, unit=True)
    change = num(d, kind, True, True, dd)
    if significant(lo, hi):
        verb = "raises" if d > 0 else "lowers"
        return f"{verb} {lab} from {before} to {after} ({change}, {ci})"
    return (f"does not change {lab} significantly: {before} against {after} ({change}, {ci}; "
            f"the CI includes 0)")


def _paired(res: Results, a: str, b: str, kpi: str) -> tuple[float, float, float] | None:
    """Mean and 95% CI of a - b, paired by replication (and point), from the runs."""
    runs = res.runs
    if runs is None or kpi not in runs.columns or "replication" not in runs.columns:
        return None
    keys = [c for c in ("point", "replication") if c in runs.columns]
    x = runs[runs["scheme"] == a].set_index(keys)[kpi]
    y = runs[runs["scheme"] == b].set_index(keys)[kpi]
    d = (x - y.reindex(x.index)).to_numpy(dtype=float)
    m, _sd, lo, hi = mean_ci(d)
    return None if _nan(m) else (m, lo, hi)


def _at_a_glance(res: Results) -> list[str]:
    """The best scheme on each KPI, and whether it is significantly ahead of the next."""
    out = []
    for kpi, kind in _present(res):
        if kpi not in SUMMARY_KPIS or kpi not in HIGHER_IS_BETTER | LOWER_IS_BETTER:
            continue
        vals = [(s, _row(res, s, kpi)) for s in res.schemes]
        vals = [(s, float(r["mean"])) for s, r in vals if r is not None and not _nan(r["mean"])]
        if not vals:
            continue
        hi = kpi in HIGHER_IS_BETTER
        vals.sort(key=lambda t: t[1], reverse=hi)
        best = vals[0]
        word = "Highest" if hi else "Lowest"
        text = (f"{word} {KPI_LABELS.get(kpi, kpi)}: {res.label(best[0])} "
                f"({num(best[1], kind, unit=True)})")
        d = _paired(res, best[0], vals[1][0], kpi) if len(vals) > 1 else None
        if d is not None:
            m, lo, h = d
            dd = diff_decimals(kind, lo, h)
            gap = (f"{num(m, kind, True, True, dd)}, 95% CI {num(lo, kind, True, False, dd)} "
                   f"to {num(h, kind, True, False, dd)}")
            if significant(lo, h):
                text += f", ahead of the next best, {res.label(vals[1][0])}, by {gap}"
            else:
                text += (f", but not significantly different from the next best, "
                         f"{res.label(vals[1][0])} ({gap})")
        out.append(text + ".")
    return out


def _tech_sentence(row: pd.Series) -> str:
    return (f"For the technicians, {_pct(row['share_rises'])} would earn more per day worked "
            f"(median {num(row['median_rise'], 'money', True, True)}), "
            f"{_pct(row['share_falls'])} less (median "
            f"{num(row['median_fall'], 'money', True, True)}), and {_pct(row['share_same'])} "
            f"about the same (within {100 * PAY_TOLERANCE:.0f}%).")


# --------------------------------------------------------------------------- run sections
def run_summary_section(res: Results, changes: pd.DataFrame | None) -> Section:
    sc = res.scenario
    others = [s for s in res.schemes if s != res.baseline]
    horizon, warm = sc.get("horizon_days"), sc.get("warmup_days")
    period = ""
    if isinstance(horizon, (int, float)) and isinstance(warm, (int, float)):
        period = f" of a {horizon - warm:g}-day measured period after a {warm:g}-day warm-up"
    reps = res.replications
    desc = str(sc.get("description") or "").strip()
    lead = (f"This report compares {len(res.schemes)} pay scheme"
            f"{'s' if len(res.schemes) != 1 else ''} ({', '.join(map(res.label, res.schemes))})"
            f" for the scenario {res.name}" + (f" ({desc})" if desc else "") +
            f", over {reps if reps else 'several'} replications{period}. In each replication "
            "every scheme faces the same customers, failures and technicians (common random "
            f"numbers), so each scheme is compared with the baseline, "
            f"{res.label(res.baseline)}, replication by replication. A difference is called "
            "significant when its 95% confidence interval (CI) excludes zero; where it does "
            "not, the report says so.")
    blocks: list[Any] = [Paragraph(lead, "lead")]
    bn = res.manifest.get("budget_neutral")
    if isinstance(bn, dict) and isinstance(bn.get("factors"), dict):
        factors = ", ".join(f"{res.label(str(k))} x{float(v):.3f}"
                            for k, v in bn["factors"].items())
        target = bn.get("baseline_pay_per_tech_day")
        blocks.append(Paragraph(
            "Budget-neutral comparison: each scheme's variable pay was scaled so that mean "
            "technician pay matches the baseline's"
            + (f" ({num(float(target), 'money', unit=True)} per technician-day)"
               if isinstance(target, (int, float)) else "")
            + f"; scale factors: {factors}."))
    tech = pay_change_summary(changes).set_index("scheme") if changes is not None else None
    shown = dict(_present(res))
    for s in others:
        items = []
        for kpi in SUMMARY_KPIS:
            kind = shown.get(kpi)
            clause = change_clause(res, s, kpi, kind) if kind else None
            if clause:
                items.append(_cap(clause) + ".")
        if tech is not None and s in tech.index:
            items.append(_tech_sentence(tech.loc[s]))
        blocks.append(Bullets(items, f"Moving from {res.label(res.baseline)} to "
                                     f"{res.label(s)}:"))
    glance = _at_a_glance(res)
    if glance:
        blocks.append(Bullets(glance, "At a glance, over all schemes:"))
    if not others:
        blocks.append(Paragraph("There is only one scheme, so nothing is compared."))
    return Section("summary", "Executive summary", blocks)


def kpi_tables(res: Results) -> list[Table]:
    kpis = _present(res)
    head = [Cell("KPI")] + [_scheme_cell(res, s, " (baseline)" if s == res.baseline else "")
                            for s in res.schemes]
    for c in head[1:]:
        c.cls = "num"
    rows = []
    for kpi, kind in kpis:
        row = [Cell(kpi_label(kpi, kind))]
        for s in res.schemes:
            r = _row(res, s, kpi)
            if r is None:
                row.append(Cell("n/a", "num"))
                continue
            row.append(Cell(num(r["mean"], kind), "num",
                            sub=f"[{num(r['ci_low'], kind)}, {num(r['ci_high'], kind)}]"))
        rows.append(row)
    out = [Table(head, rows, "KPIs per scheme: mean and [95% CI] over replications",
                 "Rates in %, money in $ over the measured period (pay per technician-day "
                 "in $ per day).", "kpis")]
    others = [s for s in res.schemes if s != res.baseline]
    if others and "diff_mean" in res.summary.columns:
        head = [Cell("KPI")] + [_scheme_cell(res, s) for s in others]
        for c in head[1:]:
            c.cls = "num"
        rows = []
        for kpi, kind in kpis:
            row = [Cell(kpi_label(kpi, kind, diff=True))]
            for s in others:
                r = _row(res, s, kpi)
                if r is None:
                    row.append(Cell("n/a", "num"))
                    continue
                lo, hi = r["diff_ci_low"], r["diff_ci_high"]
                dd = diff_decimals(kind, lo, hi)
                sig = significant(lo, hi)
                row.append(Cell(num(r["diff_mean"], kind, True, dec=dd)
                                + ("" if sig else " n.s."), "num sig" if sig else "num ns",
                                sub=f"[{num(lo, kind, True, dec=dd)}, "
                                    f"{num(hi, kind, True, dec=dd)}]"))
            rows.append(row)
        out.append(Table(head, rows, f"Paired difference against {res.label(res.baseline)}: "
                                     "mean and [95% CI]",
                         "Bold: the CI excludes 0. n.s.: not significant (the CI includes 0).",
                         "diffs"))
    return out


def technicians_section(res: Results, changes: pd.DataFrame | None,
                        fig: FigureBlock | None) -> Section | None:
    if changes is None or changes.empty:
        return None
    summ = pay_change_summary(changes)
    head = cells("Scheme", "Pairs", "Earn more", "Earn less", "About the same",
                 "Mean change", "5th to 95th percentile", "Mean skill of winners / losers")
    for c in head[1:]:
        c.cls = "num"
    rows = []

    def median(share: float, v: float, pct: float) -> str:
        if not share:
            return ""
        money = num(v, "money", True, True).replace("$", WJ + "$")  # keep "-$6.66" together
        return f"median\u00a0{money}/day ({num(pct, 'num1', True)}%)"

    for _, r in summ.iterrows():
        rows.append([
            _scheme_cell(res, r["scheme"]),
            Cell(f"{int(r['n'])}", "num"),
            Cell(_pct(r["share_rises"]), "num",
                 sub=median(r["share_rises"], r["median_rise"], r["median_rise_pct"])),
            Cell(_pct(r["share_falls"]), "num",
                 sub=median(r["share_falls"], r["median_fall"], r["median_fall_pct"])),
            Cell(_pct(r["share_same"]), "num"),
            Cell(num(r["mean_change"], "money", True, True) + "/day", "num"),
            Cell(f"{num(r['p05'], 'money', True, True)} to {num(r['p95'], 'money', True, True)}",
                 "num"),
            Cell(f"{num(r['skill_rises'], 'num2')} / {num(r['skill_falls'], 'num2')}", "num"),
        ])
    n_rep = changes["replication"].nunique()
    blocks: list[Any] = [
        Paragraph(
            "Whether the field accepts a new scheme depends on who gains and who loses. Each "
            "technician is the same person under every scheme (same skill, same customers, "
            "same failures), so each technician's pay per day worked under a scheme is "
            f"compared with their own pay under {res.label(res.baseline)}: one pair per "
            f"technician and replication ({n_rep} replications). A rise or fall means a change "
            f"of more than {100 * PAY_TOLERANCE:.0f}% of their baseline pay."),
        Table(head, rows, f"Technicians' pay per day worked against {res.label(res.baseline)}",
              "Pairs: technicians x replications. Changes are in $ per day worked (and in % "
              "of the technician's own baseline pay); skill is on the scenario's 0 to 1 "
              "scale.", "techs"),
    ]
    if fig is not None:
        blocks.append(fig)
    return Section("technicians", "Technicians: who wins, who loses", blocks)


# --------------------------------------------------------------------------- sweep sections
def _param_values(p: dict[str, Any]) -> str:
    for key in ("values", "levels"):
        if isinstance(p.get(key), list):
            return ", ".join(f"{v:g}" if isinstance(v, (int, float)) else str(v)
                             for v in p[key])
    lo, hi = p.get("low", p.get("lo")), p.get("high", p.get("hi"))
    if lo is not None and hi is not None:
        return f"{lo:g} to {hi:g}" if isinstance(lo, (int, float)) else f"{lo} to {hi}"
    return ""


def _design(res: Results) -> str:
    d = res.manifest.get("design")
    if isinstance(d, dict):
        return str(d.get("method") or "")
    return str(d or "")


def sweep_summary_section(res: Results) -> Section:
    s = res.summary
    points = s["point"].nunique() if "point" in s.columns else 1
    params = res.parameters
    reps = res.replications
    design = _design(res)
    lead = (f"This sweep of the scenario {res.name} varied {len(params)} parameter"
            f"{'s' if len(params) != 1 else ''} ({', '.join(params)})"
            + (f" with a {design} design" if design else "") +
            f" over {points} points; at each point every scheme "
            f"({', '.join(map(res.label, res.schemes))}) ran "
            f"{reps if reps else 'the same'} replications with common random numbers, and is "
            f"compared with the baseline, {res.label(res.baseline)}, point by point.")
    blocks: list[Any] = [Paragraph(lead, "lead")]
    others = [x for x in res.schemes if x != res.baseline]
    if "diff_mean" in s.columns:
        for sch in others:
            items = []
            for kpi in SUMMARY_KPIS:
                kind = dict(_present(res)).get(kpi)
                g = s[(s["scheme"] == sch) & (s["kpi"] == kpi)]
                if not kind or g.empty:
                    continue
                up = int((g["diff_ci_low"] > 0).sum())
                down = int((g["diff_ci_high"] < 0).sum())
                n = len(g)
                lo, hi = g["diff_mean"].min(), g["diff_mean"].max()
                items.append(
                    f"{_cap(KPI_LABELS.get(kpi, kpi))}: significantly higher at {up} of {n} "
                    f"points, lower at {down}, not significantly different at "
                    f"{n - up - down}; the mean change ranges from "
                    f"{num(lo, kind, True, True)} to {num(hi, kind, True, True)}.")
            blocks.append(Bullets(items, f"{res.label(sch)} against {res.label(res.baseline)}:"))
    sens = res.sensitivity
    if sens is not None and not sens.empty:
        items = []
        for (method, kpi), g in sens.groupby(["method", "kpi"], sort=False):
            col = "ST" if method == "sobol" else "mu_star"
            if col not in g.columns or kpi not in dict(REPORT_KPIS):
                continue
            top = g.sort_values(col, ascending=False).iloc[0]
            what = "total Sobol index ST" if method == "sobol" else "Morris mu*"
            items.append(f"{_cap(KPI_LABELS.get(kpi, kpi))} depends most on "
                         f"{top['parameter']} ({what} {float(top[col]):.3g}).")
        if items:
            blocks.append(Bullets(items, "Which assumptions drive the answer:"))
    return Section("summary", "Executive summary", blocks)


def sweep_tables(res: Results) -> list[Table]:
    s = res.summary
    head = [Cell("KPI")] + [_scheme_cell(res, x, " (baseline)" if x == res.baseline else "")
                            for x in res.schemes]
    for c in head[1:]:
        c.cls = "num"
    rows = []
    for kpi, kind in _present(res):
        row = [Cell(kpi_label(kpi, kind))]
        for sch in res.schemes:
            g = s[(s["scheme"] == sch) & (s["kpi"] == kpi)]["mean"]
            row.append(Cell(f"{num(g.min(), kind)} to {num(g.max(), kind)}" if len(g) else "n/a",
                            "num"))
        rows.append(row)
    out = [Table(head, rows, "KPIs per scheme: lowest to highest mean over the sweep's points",
                 "Each point's mean is over replications; the figures show the CIs.", "kpis")]
    specs = [p for p in res.manifest.get("parameters") or [] if isinstance(p, dict)]
    if specs:
        prow = [[Cell(str(p.get("path", "")), "key"), Cell(str(p.get("type", ""))),
                 Cell(_param_values(p), "long")] for p in specs]
        out.append(Table(cells("Parameter", "Type", "Values or range"), prow,
                         "Swept parameters", "", "params"))
    return out


# --------------------------------------------------------------------------- shared
def _fmt_value(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:,.6g}"
    if isinstance(v, (list, tuple)):
        return ", ".join(_fmt_value(x) for x in v)
    if isinstance(v, dict):
        return "; ".join(f"{k} = {_fmt_value(x)}" for k, x in v.items())
    return str(v)


SECTION_TITLES = {
    "customers": "Customers (demand, contracts, churn)", "jobs": "Jobs",
    "workforce": "Workforce", "quality": "Quality of work", "nps": "Customer surveys (NPS)",
    "behaviour": "Technician behaviour",
}


def assumption_tables(sc: dict[str, Any]) -> list[Any]:
    """The resolved scenario: scalars as (path, value) rows, named groups as tables."""
    if not sc:
        return [Paragraph("The manifest does not hold the resolved scenario.")]
    out: list[Any] = []
    top = [(k, v) for k, v in sc.items() if not isinstance(v, dict)]
    out.append(Table(cells("Setting", "Value"),
                     [[Cell(k, "key"), Cell(_fmt_value(v), "long")] for k, v in top],
                     "Scenario", "", "assumptions"))
    for sec, body in sc.items():
        if not isinstance(body, dict):
            continue
        if sec == "schemes":
            rows = []
            for name, spec in body.items():
                spec = spec if isinstance(spec, dict) else {"value": spec}
                params = {k: v for k, v in spec.items() if k not in ("type", "label")}
                rows.append([Cell(str(name), "key"), Cell(str(spec.get("type", ""))),
                             Cell(_fmt_value(spec.get("label"))),
                             Cell(_fmt_value(params), "long")])
            out.append(Table(cells("Scheme", "Type", "Label", "Pay formula parameters"), rows,
                             "Pay schemes (the levers)", "", "assumptions"))
            continue
        scalars = [(k, v) for k, v in body.items() if not isinstance(v, dict)]
        if scalars:
            out.append(Table(cells("Setting", "Value"),
                             [[Cell(f"{sec}.{k}", "key"), Cell(_fmt_value(v), "long")]
                              for k, v in scalars], SECTION_TITLES.get(sec, sec), "",
                             "assumptions"))
        for sub, group in body.items():
            if not isinstance(group, dict):
                continue
            if all(isinstance(g, dict) for g in group.values()) and group:
                cols = list(dict.fromkeys(k for g in group.values() for k in g))
                rows = [[Cell(str(n), "key")] + [Cell(_fmt_value(g.get(c)), "num") for c in cols]
                        for n, g in group.items()]
                out.append(Table([Cell("Name")] + [Cell(c, "num") for c in cols], rows,
                                 f"{sec}.{sub}", "", "assumptions"))
            else:
                out.append(Table(cells("Setting", "Value"),
                                 [[Cell(f"{sec}.{sub}.{k}", "key"), Cell(_fmt_value(v), "long")]
                                  for k, v in group.items()], f"{sec}.{sub}", "", "assumptions"))
    return out


def provenance_table(res: Results, generated: str) -> Table:
    m = res.manifest
    ex = m.get("executor") if isinstance(m.get("executor"), dict) else {}
    rows = [
        ("Scenario", res.name),
        ("Kind of results", res.kind),
        ("Results directory", str(res.path)),
        ("Root seed", m.get("seed")),
        ("Replications", m.get("replications")),
        ("Schemes", ", ".join(res.schemes) + f" (baseline {res.baseline})"),
        ("techsim version", m.get("techsim_version")),
        ("Git commit", m.get("git_commit") or "(not a git checkout)"),
        ("Library versions", m.get("versions")),
        ("Started", m.get("started")),
        ("Finished", m.get("finished")),
        ("Wall time (s)", m.get("wall_time_s")),
        ("Workers", m.get("workers", ex.get("workers"))),
        ("Experiment hash", m.get("experiment_hash") or m.get("scenario_hash")),
        ("Budget neutral", m.get("budget_neutral")),
        ("Report generated", f"{generated} by techsim {__version__}"),
    ]
    if res.kind == "sweep":
        rows.insert(5, ("Design", _design(res)))
    return Table(cells("Item", "Value"),
                 [[Cell(k), Cell(_fmt_value(v), "long")] for k, v in rows if v is not None],
                 "", "", "provenance")


def build_document(res: Results, dpi: int = FIGURE_DPI) -> Document:
    """The report's content, from the result files only."""
    generated = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    figs = [FigureBlock(spec.name, spec.title, spec.caption, render(spec, "png", dpi))
            for spec in figures(res)]
    sections: list[Section] = []
    if res.kind == "sweep":
        sections.append(sweep_summary_section(res))
        sections.append(Section("kpis", "Results by scheme", sweep_tables(res)))
        sections.append(Section("figures", "Figures", figs))
    else:
        changes = pay_changes(res)
        sections.append(run_summary_section(res, changes))
        sections.append(Section("kpis", "KPIs with 95% confidence intervals", kpi_tables(res)))
        tech_fig = next((f for f in figs if f.name == "tech_pay_change"), None)
        sections.append(Section("figures", "Figures", [f for f in figs if f is not tech_fig]))
        tech = technicians_section(res, changes, tech_fig)
        if tech is not None:
            sections.append(tech)
    sc = res.scenario
    blocks: list[Any] = []
    if sc.get("source"):
        blocks.append(Paragraph(f"Where the numbers come from: {str(sc['source']).strip()}"))
    blocks.append(Paragraph("The resolved scenario as run (every default filled in), from the "
                            "manifest; the setting names are the paths a sweep's --param takes. "
                            "Replications and seed given on the command line override the "
                            "scenario's: the Provenance section has the ones used.", "note"))
    blocks += assumption_tables(sc)
    sections.append(Section("assumptions", "Assumptions", blocks))
    sections.append(Section("provenance", "Provenance", [provenance_table(res, generated)]))
    kind = "Parameter sweep" if res.kind == "sweep" else "Compensation proposal"
    subtitle = (f"{len(res.schemes)} pay schemes against {res.label(res.baseline)}, "
                f"{res.replications or '?'} replications, seed {res.manifest.get('seed', '?')}")
    return Document(f"{kind}: {res.name}", subtitle, sections,
                    f"Generated {generated} by techsim {__version__} from {res.path.name}/. "
                    "All numbers are computed from the result files.")


# --------------------------------------------------------------------------- output
@dataclass
class ReportOutput:
    path: Path
    engine: str     # "html", "chromium" or "matplotlib"
    note: str = ""  # how the PDF was rendered


def write_report(results: str | Path | Results, fmt: str = "html",
                 pdf_engine: str = "auto") -> ReportOutput:
    """Build the report of a results directory (or loaded `Results`) into RESULTS/report.html
    or RESULTS/report.pdf."""
    if fmt not in FORMATS:
        raise ValueError(f"format: {fmt!r} is not one of {', '.join(FORMATS)}")
    if pdf_engine not in PDF_ENGINES:
        raise ValueError(f"pdf engine: {pdf_engine!r} is not one of {', '.join(PDF_ENGINES)}")
    res = results if isinstance(results, Results) else load_results(results)
    doc = build_document(res)
    if fmt == "html":
        path = res.path / "report.html"
        atomic_write_text(path, render_html(doc))
        return ReportOutput(path, "html")
    from sim.report_pdf import write_pdf

    path = res.path / "report.pdf"
    engine, note = write_pdf(doc, render_html(doc), path, pdf_engine)
    return ReportOutput(path, engine, note)


def build_report(results_dir: str | Path, fmt: str = "html") -> Path:
    """The report of a results directory (HTML or PDF); returns its path."""
    return write_report(results_dir, fmt).path
