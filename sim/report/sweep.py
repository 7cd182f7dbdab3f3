"""The report of a sweep: executive summary over the points, KPI ranges, the parameters."""

from __future__ import annotations

from typing import Any

from sim.metrics.catalogue import KPIS, REPORT_KPIS, SUMMARY_KPIS
from sim.report.document import Block, Bullets, Cell, Paragraph, Section, Table, cells
from sim.report.text import (
    design_method,
    kpi_label,
    num,
    report_kpis,
    scheme_head,
    zero_everywhere,
)
from sim.store.results import Results


def _param_values(p: dict[str, Any]) -> str:
    for key in ("values", "levels"):
        if isinstance(p.get(key), list):
            return ", ".join(f"{v:g}" if isinstance(v, (int, float)) else str(v) for v in p[key])
    lo, hi = p.get("low", p.get("lo")), p.get("high", p.get("hi"))
    if lo is not None and hi is not None:
        return f"{lo:g} to {hi:g}" if isinstance(lo, (int, float)) else f"{lo} to {hi}"
    return ""


def sweep_summary_section(res: Results) -> Section:
    s = res.summary
    points = s["point"].nunique() if "point" in s.columns else 1
    params = res.parameters
    reps = res.replications
    design = design_method(res)
    lead = (
        f"This sweep of the scenario {res.name} varied {len(params)} parameter"
        f"{'s' if len(params) != 1 else ''} ({', '.join(params)})"
        + (f" with a {design} design" if design else "")
        + f" over {points} points; at each point every scheme "
        f"({', '.join(map(res.label, res.schemes))}) ran "
        f"{reps if reps else 'the same'} replications with common random numbers, and is "
        f"compared with the baseline, {res.label(res.baseline)}, point by point."
    )
    blocks: list[Block] = [Paragraph(lead, "lead")]
    others = [x for x in res.schemes if x != res.baseline]
    if "diff_mean" in s.columns:
        shown = report_kpis(res)
        for sch in others:
            items = []
            for k in SUMMARY_KPIS:
                g = s[(s["scheme"] == sch) & (s["kpi"] == k.name)]
                if k not in shown or g.empty or zero_everywhere(res, k):
                    continue
                up = int((g["diff_ci_low"] > 0).sum())
                down = int((g["diff_ci_high"] < 0).sum())
                n = len(g)
                lo, hi = g["diff_mean"].min(), g["diff_mean"].max()
                items.append(
                    f"{k.title}: significantly higher at {up} of {n} "
                    f"points, lower at {down}, not significantly different at "
                    f"{n - up - down}; the mean change ranges from "
                    f"{num(lo, k.kind, True, True)} to {num(hi, k.kind, True, True)}."
                )
            blocks.append(Bullets(items, f"{res.label(sch)} against {res.label(res.baseline)}:"))
    sens = res.sensitivity
    if sens is not None and not sens.empty:
        items = []
        reported = {k.name for k in REPORT_KPIS}
        for (method, kpi), g in sens.groupby(["method", "kpi"], sort=False):
            col = "ST" if method == "sobol" else "mu_star"
            if col not in g.columns or kpi not in reported:
                continue
            top = g.sort_values(col, ascending=False).iloc[0]
            what = "total Sobol index ST" if method == "sobol" else "Morris mu*"
            items.append(
                f"{KPIS[kpi].title} depends most on "
                f"{top['parameter']} ({what} {float(top[col]):.3g})."
            )
        if items:
            blocks.append(Bullets(items, "Which assumptions drive the answer:"))
    return Section("summary", "Executive summary", blocks)


def sweep_tables(res: Results) -> list[Table]:
    s = res.summary
    head = scheme_head(res, "KPI", res.schemes, mark_baseline=True)
    rows = []
    for k in report_kpis(res):
        row = [Cell(kpi_label(k))]
        for sch in res.schemes:
            g = s[(s["scheme"] == sch) & (s["kpi"] == k.name)]["mean"]
            row.append(
                Cell(
                    f"{num(g.min(), k.kind)} to {num(g.max(), k.kind)}" if len(g) else "n/a", "num"
                )
            )
        rows.append(row)
    out = [
        Table(
            head,
            rows,
            "KPIs per scheme: lowest to highest mean over the sweep's points",
            "Each point's mean is over replications; the figures show the CIs.",
            "kpis",
        )
    ]
    specs = [p for p in res.manifest.get("parameters") or [] if isinstance(p, dict)]
    if specs:
        prow = [
            [
                Cell(str(p.get("path", "")), "key"),
                Cell(str(p.get("type", ""))),
                Cell(_param_values(p), "long"),
            ]
            for p in specs
        ]
        out.append(
            Table(
                cells("Parameter", "Type", "Values or range"),
                prow,
                "Swept parameters",
                "",
                "params",
            )
        )
    return out
