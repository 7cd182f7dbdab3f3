"""The report of a run: executive summary, KPI tables, and who wins and who loses.

The summary is written from summary.csv (saying where a difference is not significant), the
tables give each KPI's mean and paired difference with 95% CIs, and the technicians' section
pairs each technician's pay under a scheme with their own pay under the baseline.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from sim.metrics.catalogue import KPI, KPIS, SUMMARY_KPIS
from sim.metrics.stats import mean_ci
from sim.report.document import (
    WJ,
    Block,
    Bullets,
    Cell,
    FigureBlock,
    Paragraph,
    Section,
    Table,
    cells,
)
from sim.report.margin import margin_sentence
from sim.report.text import (
    capitalise,
    diff_cell,
    diff_decimals,
    is_nan,
    kpi_label,
    mean_cell,
    num,
    report_kpis,
    scheme_cell,
    scheme_head,
    share_text,
    significant,
    zero_everywhere,
)
from sim.store.pay_changes import PAY_TOLERANCE, pay_change_summary
from sim.store.results import Results


def change_clause(res: Results, scheme: str, k: KPI) -> str | None:
    """ "raises first-time fix from 74.0% to 83.7% (+9.7 pts, 95% CI +9.2 to +10.2)"."""
    r, b = res.summary_row(scheme, k.name), res.summary_row(res.baseline, k.name)
    if r is None or b is None or "diff_mean" not in r.index:
        return None
    lab, kind = k.label, k.kind
    d, lo, hi = float(r["diff_mean"]), float(r["diff_ci_low"]), float(r["diff_ci_high"])
    dd = diff_decimals(kind, lo, hi)
    ci = f"95% CI {num(lo, kind, True, False, dd)} to {num(hi, kind, True, False, dd)}"
    before, after = num(b["mean"], kind, unit=True), num(r["mean"], kind, unit=True)
    change = num(d, kind, True, True, dd)
    if significant(lo, hi):
        verb = "raises" if d > 0 else "lowers"
        return f"{verb} {lab} from {before} to {after} ({change}, {ci})"
    return (
        f"does not change {lab} significantly: {before} against {after} ({change}, {ci}; "
        f"the CI includes 0)"
    )


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
    return None if is_nan(m) else (m, lo, hi)


def _at_a_glance(res: Results) -> list[str]:
    """The best scheme on each KPI, and whether it is significantly ahead of the next."""
    out = []
    for k in report_kpis(res):
        if k not in SUMMARY_KPIS or k.better == "neither" or zero_everywhere(res, k):
            continue
        rows = [(s, res.summary_row(s, k.name)) for s in res.schemes]
        vals = [(s, float(r["mean"])) for s, r in rows if r is not None and not is_nan(r["mean"])]
        if not vals:
            continue
        hi = k.better == "higher"
        vals.sort(key=lambda t: t[1], reverse=hi)
        best = vals[0]
        kind = k.kind
        word = "Highest" if hi else "Lowest"
        text = f"{word} {k.label}: {res.label(best[0])} ({num(best[1], kind, unit=True)})"
        d = _paired(res, best[0], vals[1][0], k.name) if len(vals) > 1 else None
        if d is not None:
            m, lo, h = d
            dd = diff_decimals(kind, lo, h)
            gap = (
                f"{num(m, kind, True, True, dd)}, 95% CI {num(lo, kind, True, False, dd)} "
                f"to {num(h, kind, True, False, dd)}"
            )
            if significant(lo, h):
                text += f", ahead of the next best, {res.label(vals[1][0])}, by {gap}"
            else:
                text += (
                    f", but not significantly different from the next best, "
                    f"{res.label(vals[1][0])} ({gap})"
                )
        out.append(text + ".")
    return out


def _tech_sentence(row: pd.Series) -> str:
    return (
        f"For the technicians, {share_text(row['share_rises'])} would earn more per day worked "
        f"(median {num(row['median_rise'], 'money', True, True)}), "
        f"{share_text(row['share_falls'])} less (median "
        f"{num(row['median_fall'], 'money', True, True)}), and {share_text(row['share_same'])} "
        f"about the same (within {100 * PAY_TOLERANCE:.0f}%)."
    )


def _label(kpi: str) -> str:
    return KPIS[kpi].label if kpi in KPIS else kpi


def _width(kpi: str, value: float) -> str:
    k = KPIS.get(kpi)
    kind = k.kind if k is not None else "num2"
    return num(value, kind, unit=True, dec=2 if kind == "pct" else None).replace("%", " pts")


def precision_sentence(precision: object, label: Callable[[str], str]) -> str | None:
    """How many replications the precision targets needed (the manifest's "precision"),
    which targets, and the pair that bound; None for a fixed number of replications."""
    if not isinstance(precision, dict) or not isinstance(precision.get("targets"), dict):
        return None
    targets = ", ".join(
        f"{_label(k)} {_width(k, float(v))}" for k, v in precision["targets"].items()
    )
    n, b = precision.get("replications"), precision.get("binding")
    text = (
        "The number of replications was not fixed in advance: replications were added in "
        "rounds until every scheme's paired difference against the baseline had a 95% CI "
        f"half-width at or below its target ({targets}). "
    )
    if precision.get("met"):
        text += f"{n} replications were enough"
    else:
        text += f"The targets were not all met at the cap of {n} replications"
    if isinstance(b, dict):
        text += (
            f"; the closest to its target was {_label(b['kpi'])}"
            f" under {label(str(b['scheme']))} (±{_width(b['kpi'], float(b['half_width']))}"
            f" against ±{_width(b['kpi'], float(b['target']))})"
        )
    return text + "."


# --------------------------------------------------------------------------- run sections
def run_summary_section(
    res: Results, changes: pd.DataFrame | None, margin: pd.DataFrame | None = None
) -> Section:
    """The executive summary; `margin`: the margin decomposition (`margin_decomposition`)."""
    sc = res.scenario
    others = [s for s in res.schemes if s != res.baseline]
    horizon, warm = sc.get("horizon_days"), sc.get("warmup_days")
    period = ""
    if isinstance(horizon, (int, float)) and isinstance(warm, (int, float)):
        period = f" of a {horizon - warm:g}-day measured period after a {warm:g}-day warm-up"
    reps = res.replications
    desc = str(sc.get("description") or "").strip()
    lead = (
        f"This report compares {len(res.schemes)} pay scheme"
        f"{'s' if len(res.schemes) != 1 else ''} ({', '.join(map(res.label, res.schemes))})"
        f" for the scenario {res.name}"
        + (f" ({desc})" if desc else "")
        + f", over {reps if reps else 'several'} replications{period}. In each replication "
        "every scheme faces the same customers, failures and technicians (common random "
        f"numbers), so each scheme is compared with the baseline, "
        f"{res.label(res.baseline)}, replication by replication. A difference is called "
        "significant when its 95% confidence interval (CI) excludes zero; where it does "
        "not, the report says so."
    )
    blocks: list[Block] = [Paragraph(lead, "lead")]
    prec = precision_sentence(res.manifest.get("precision"), res.label)
    if prec:
        blocks.append(Paragraph(prec))
    bn = res.manifest.get("budget_neutral")
    if isinstance(bn, dict) and isinstance(bn.get("factors"), dict):
        factors = ", ".join(
            f"{res.label(str(k))} x{float(v):.3f}" for k, v in bn["factors"].items()
        )
        target = bn.get("baseline_pay_per_tech_day")
        blocks.append(
            Paragraph(
                "Budget-neutral comparison: each scheme's variable pay was scaled so that mean "
                "technician pay matches the baseline's"
                + (
                    f" ({num(float(target), 'money', unit=True)} per technician-day)"
                    if isinstance(target, (int, float))
                    else ""
                )
                + f"; scale factors: {factors}."
            )
        )
    tech: dict[str, pd.Series] = {}
    if changes is not None:
        tech = {str(r["scheme"]): r for _, r in pay_change_summary(changes).iterrows()}
    shown = report_kpis(res)
    for s in others:
        items = []
        for k in SUMMARY_KPIS:
            clause = (
                change_clause(res, s, k) if k in shown and not zero_everywhere(res, k) else None
            )
            if clause:
                items.append(capitalise(clause) + ".")
        why = margin_sentence(res, margin, s)
        if why:
            items.append(why)
        if s in tech:
            items.append(_tech_sentence(tech[s]))
        blocks.append(Bullets(items, f"Moving from {res.label(res.baseline)} to {res.label(s)}:"))
    glance = _at_a_glance(res)
    if glance:
        blocks.append(Bullets(glance, "At a glance, over all schemes:"))
    if not others:
        blocks.append(Paragraph("There is only one scheme, so nothing is compared."))
    return Section("summary", "Executive summary", blocks)


def kpi_tables(res: Results) -> list[Table]:
    kpis = report_kpis(res)
    head = scheme_head(res, "KPI", res.schemes, mark_baseline=True)
    rows = []
    for k in kpis:
        rows.append([Cell(kpi_label(k))] + [mean_cell(res, s, k) for s in res.schemes])
    out = [
        Table(
            head,
            rows,
            "KPIs per scheme: mean and [95% CI] over replications",
            "Rates in %, money in $ over the measured period (pay per technician-day "
            "in $ per day).",
            "kpis",
        )
    ]
    others = [s for s in res.schemes if s != res.baseline]
    if others and "diff_mean" in res.summary.columns:
        head = scheme_head(res, "KPI", others)
        rows = []
        for k in kpis:
            kind = k.kind
            row = [Cell(kpi_label(k, diff=True))]
            for s in others:
                r = res.summary_row(s, k.name)
                if r is None:
                    row.append(Cell("n/a", "num"))
                    continue
                row.append(diff_cell(r["diff_mean"], r["diff_ci_low"], r["diff_ci_high"], kind))
            rows.append(row)
        out.append(
            Table(
                head,
                rows,
                f"Paired difference against {res.label(res.baseline)}: mean and [95% CI]",
                "Bold: the CI excludes 0. n.s.: not significant (the CI includes 0).",
                "diffs",
            )
        )
    return out


def technicians_section(
    res: Results, changes: pd.DataFrame | None, fig: FigureBlock | None
) -> Section | None:
    if changes is None or changes.empty:
        return None
    summ = pay_change_summary(changes)
    head = cells(
        "Scheme",
        "Pairs",
        "Earn more",
        "Earn less",
        "About the same",
        "Mean change",
        "5th to 95th percentile",
        "Mean skill of winners / losers",
    )
    for c in head[1:]:
        c.cls = "num"
    rows = []

    def median(share: float, v: float, pct: float) -> str:
        if not share:
            return ""
        money = num(v, "money", True, True).replace("$", WJ + "$")  # keep "-$6.66" together
        return f"median\u00a0{money}/day ({num(pct, 'num1', True)}%)"

    for _, r in summ.iterrows():
        rows.append(
            [
                scheme_cell(res, r["scheme"]),
                Cell(f"{int(r['n'])}", "num"),
                Cell(
                    share_text(r["share_rises"]),
                    "num",
                    sub=median(r["share_rises"], r["median_rise"], r["median_rise_pct"]),
                ),
                Cell(
                    share_text(r["share_falls"]),
                    "num",
                    sub=median(r["share_falls"], r["median_fall"], r["median_fall_pct"]),
                ),
                Cell(share_text(r["share_same"]), "num"),
                Cell(num(r["mean_change"], "money", True, True) + "/day", "num"),
                Cell(
                    f"{num(r['p05'], 'money', True, True)} to {num(r['p95'], 'money', True, True)}",
                    "num",
                ),
                Cell(f"{num(r['skill_rises'], 'num2')} / {num(r['skill_falls'], 'num2')}", "num"),
            ]
        )
    n_rep = changes["replication"].nunique()
    blocks: list[Block] = [
        Paragraph(
            "Whether the field accepts a new scheme depends on who gains and who loses. Each "
            "technician is the same person under every scheme (same skill, same customers, "
            "same failures), so each technician's pay per day worked under a scheme is "
            f"compared with their own pay under {res.label(res.baseline)}: one pair per "
            f"technician and replication ({n_rep} replications). A rise or fall means a change "
            f"of more than {100 * PAY_TOLERANCE:.0f}% of their baseline pay."
        ),
        Table(
            head,
            rows,
            f"Technicians' pay per day worked against {res.label(res.baseline)}",
            "Pairs: technicians x replications. Changes are in $ per day worked (and in % "
            "of the technician's own baseline pay); skill is on the scenario's 0 to 1 "
            "scale.",
            "techs",
        ),
    ]
    if fig is not None:
        blocks.append(fig)
    return Section("technicians", "Technicians: who wins, who loses", blocks)
