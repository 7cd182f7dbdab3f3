"""The report's margin decomposition: where each scheme's margin difference comes from.

The margin difference against the baseline (paired by replication) is the sum of the parts'
differences: contract revenue and T&M revenue as they are, labour cost and visit costs with
their sign flipped (`sim.plots.margin.margin_decomposition`, from runs.csv). The section
shows it as a table, one column per scheme, with the waterfall figure; the executive summary
says it in one sentence per scheme. Results without the parts get a note instead.
"""

from __future__ import annotations

import pandas as pd

from sim.metrics.catalogue import KPIS, MARGIN
from sim.plots.margin import part_label
from sim.report.document import Block, Cell, FigureBlock, Paragraph, Section, Table
from sim.report.text import diff_cell, diff_decimals, num, scheme_head
from sim.store.results import Results

KIND = MARGIN.kind


def _part_text(kpi: str, sign: int, change: float) -> str:
    """ "more contract revenue +$879,661", "lower labour cost +$1,313,253" (a saving)."""
    up, down = ("more", "less") if sign > 0 else ("lower", "higher")
    word = up if change >= 0 else down
    return f"{word} {KPIS[kpi].label} {num(change, KIND, True, True)}"


def margin_sentence(res: Results, table: pd.DataFrame | None, scheme: str) -> str | None:
    """ "Where the margin difference comes from: +$2,102,727 against jobs_per_day (95% CI
    +2,026,656 to +2,178,798) is more contract revenue +$879,661, less T&M revenue
    −$745,050, lower labour cost +$1,313,253 and lower visit costs +$654,862; the largest
    part is labour cost." Parts that are 0 in every replication are left out; None without
    a decomposition."""
    if table is None:
        return None
    rows = table[table["scheme"] == scheme]
    if rows.empty:
        return None
    total = rows[rows["sign"] == 0].iloc[0]
    parts = rows[(rows["sign"] != 0) & (rows["diff_mean"].fillna(0) != 0)]
    if parts.empty:
        return None
    lo, hi = total["diff_ci_low"], total["diff_ci_high"]
    dd = diff_decimals(KIND, lo, hi)
    ci = f"95% CI {num(lo, KIND, True, False, dd)} to {num(hi, KIND, True, False, dd)}"
    pieces = [
        _part_text(str(r["kpi"]), int(r["sign"]), float(r["diff_mean"]))
        for _, r in parts.iterrows()
    ]
    listed = ", ".join(pieces[:-1]) + f" and {pieces[-1]}" if len(pieces) > 1 else pieces[0]
    largest = KPIS[str(parts["kpi"].iloc[int(parts["diff_mean"].abs().to_numpy().argmax())])].label
    return (
        f"Where the margin difference comes from: {num(total['diff_mean'], KIND, True, True, dd)}"
        f" against {res.label(res.baseline)} ({ci}) is {listed}; the largest part is "
        f"{largest}."
    )


def margin_table(res: Results, table: pd.DataFrame) -> Table:
    """Rows: the parts, then the margin difference; one column per scheme; mean and [CI]."""
    schemes = list(dict.fromkeys(table["scheme"]))
    head = scheme_head(res, "Part of the margin difference", schemes)
    rows = []
    order = table.drop_duplicates("kpi")
    for kpi, sign in zip(order["kpi"].astype(str), order["sign"].astype(int)):
        row = [Cell(f"{part_label(kpi, sign)}, $")]
        for s in schemes:
            r = table[(table["scheme"] == s) & (table["kpi"] == kpi)].iloc[0]
            row.append(diff_cell(r["diff_mean"], r["diff_ci_low"], r["diff_ci_high"], KIND))
        rows.append(row)
    return Table(
        head,
        rows,
        f"Margin difference against {res.label(res.baseline)}, part by part: mean and [95% CI]",
        "Each row is the part's contribution to the change in margin, paired replication by "
        "replication: a revenue's change as it is, a cost's with its sign flipped (a cost "
        "that falls adds to the margin). In every replication, and so in the means, the "
        "parts add up to the margin difference (to the cent: the result files keep 10 "
        "significant digits); the printed whole dollars may differ by rounding. The CIs do "
        "not add up. Contract revenue is one line: runs.csv does not say how much of it came "
        "from accounts that joined during the run. Bold: the CI excludes 0; n.s.: it does not.",
        "margin",
    )


def margin_section(
    res: Results, table: pd.DataFrame | None, why_not: str, fig: FigureBlock | None
) -> Section:
    """The section: a lead, the table and the figure, or a note saying why there is none."""
    if table is None:
        return Section(
            "margin",
            "Where the margin comes from",
            [Paragraph(f"No margin decomposition: {why_not}.", "note")],
        )
    blocks: list[Block] = [
        Paragraph(
            f"A scheme's margin differs from {res.label(res.baseline)}'s because it keeps more "
            "or less contract revenue (accounts that renew or leave), sells more or fewer billable "
            "time-and-materials (T&M) calls, costs more or less in labour (pay with the "
            "employer's overhead) and makes more or fewer visits (each with its visit cost). "
            "margin = contract revenue + T&M revenue \u2212 labour cost \u2212 visit costs, "
            "so the margin difference is the sum of the parts' differences."
        ),
        margin_table(res, table),
    ]
    if fig is not None:
        blocks.append(fig)
    return Section("margin", "Where the margin comes from", blocks)
