"""The report's section on why problems needed a return visit.

One row per cause (`sim.world.records.CAUSES`), one column per scheme (the mean share and
its 95% CI over replications, from summary.csv), and a last column with Aberdeen's survey
(`sim.plots.causes.ABERDEEN_2013`), with the figure `repeat_causes`. Results without the
cause KPIs get no section.
"""

from __future__ import annotations

from sim.metrics.catalogue import CAUSE_KPIS
from sim.plots.causes import ABERDEEN_2013, ABERDEEN_LABEL, PREFIX, cause_shares
from sim.report.document import Block, Cell, FigureBlock, Paragraph, Section, Table
from sim.report.text import mean_cell, num, scheme_head
from sim.store.results import Results

#: How each cause is defined, for the table's first column.
CAUSE_TEXT = {
    "parts": "Part missing (first visit)",
    "skill": "Skill: would have failed at standard care too",
    "time": "Time: standard care would have fixed it (rushed)",
    "other": "Other (e.g. a premature closure)",
}


def causes_table(res: Results) -> Table:
    schemes = res.schemes
    head = scheme_head(res, "Cause of the first visit's failure", schemes)
    head.append(Cell(ABERDEEN_LABEL, "num"))
    rows = []
    for k in CAUSE_KPIS:
        cause = k.name.removeprefix(PREFIX)
        row = [Cell(CAUSE_TEXT[cause])] + [mean_cell(res, s, k) for s in schemes]
        row.append(Cell(num(ABERDEEN_2013[cause], k.kind), "num"))
        rows.append(row)
    return Table(
        head,
        rows,
        "Why problems needed a return visit: share of the problems whose first visit did "
        "not fix, mean and [95% CI] over replications",
        "Each column adds up to 100%. Aberdeen Group, Field Service 2013 (as quoted by "
        "ServiceMax): why second and third visits happen, parts 51%, inexperience or lack "
        "of training 25%, ran out of time 13%; the remaining 11% is shown as other.",
        "causes",
    )


def causes_section(res: Results, fig: FigureBlock | None) -> Section | None:
    """The section: a lead, the table and the figure; None without the cause KPIs."""
    if cause_shares(res) is None:
        return None
    blocks: list[Block] = [
        Paragraph(
            "A problem needs a return visit when its first visit does not fix it. The model "
            "records why: the part was not on the van; or the fix failed, and then the random "
            "draw that decided it is compared with the fix probability the same technician "
            "would have had at standard care (thoroughness 1): had standard care failed too, "
            "the cause is skill (the job was beyond the technician); had it fixed, the cause "
            "is time (the technician rushed). Pay schemes that push for speed shift the mix "
            "towards time; Aberdeen's survey of field-service firms is shown for comparison."
        ),
        causes_table(res),
    ]
    if fig is not None:
        blocks.append(fig)
    return Section("causes", "Why problems needed a return visit", blocks)
