"""The report's first section when a selection exists: "Recommendation".

From RESULTS/select/ (`techsim select`, `sim.store.select`): the recommended scheme and the
guarantee in words; from the run's own files: what it costs against the baseline (mean pay
per technician-day, labour cost and margin, paired 95% CIs) and who loses (the share of
technicians whose pay falls, and by how much: `sim.store.pay_changes`).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from sim.metrics.catalogue import KPIS
from sim.report.document import Block, Bullets, Paragraph, Section
from sim.report.text import num
from sim.report.unreadable import results_section
from sim.store.files import ExperimentError, ExperimentResults
from sim.store.pay_changes import pay_change_summary
from sim.store.results import Results
from sim.store.select import find_selection, load_selection, optimisation_of

ID = "recommendation"
TITLE = "Recommendation"
#: The KPIs that say what the recommendation costs, in order.
COST_KPIS = ("tech_pay_per_day", "labour_cost", "margin")


def recommendation_section(
    res: Results, changes: pd.DataFrame | None, given: Path | None = None
) -> Section | None:
    """The section, or None when the run has no selection (RESULTS/select/ or `given`)."""
    folder = find_selection(res.path, given)
    if folder is None:
        return None
    return results_section(
        ID,
        TITLE,
        "selection",
        folder,
        load_selection,
        ExperimentError,
        lambda sel: _recommendation_blocks(res, sel, changes),
    )


def _recommendation_blocks(
    res: Results, sel: ExperimentResults, changes: pd.DataFrame | None
) -> list[Block]:
    """The recommended scheme and its guarantee; unless it is the baseline, what moving to
    it costs and who loses."""
    folder = sel.folder
    s = sel.info
    win = str(s["winner"])
    blocks: list[Block] = [
        Paragraph(
            f"Recommended: {res.label(win)}, the best of "
            f"{len(sel.table)} schemes by {s.get('objective_label', s['objective'])}. "
            f"{s['guarantee']}",
            "lead",
        )
    ]
    if sel.manifest.get("scenario_name") != res.name:
        blocks.append(
            Paragraph(
                f"The selection in {folder} was made for scenario "
                f"{sel.manifest.get('scenario_name')!r}, not {res.name!r}: read it with care.",
                "note",
            )
        )
    if win == res.baseline:
        blocks.append(Paragraph(f"That is the current scheme: keep {res.label(win)}."))
        return blocks
    opt = optimisation_of(folder)
    if opt is not None:
        blocks.append(Paragraph(_optimised(opt, win)))
    if win not in res.schemes:
        if opt is None:
            blocks.append(
                Paragraph(f"{win} is not among this run's schemes: its cost is not here.", "note")
            )
        return blocks
    items = [c for c in (_cost(res, win, k) for k in COST_KPIS) if c]
    if changes is not None:
        items.append(_losers(changes, res, win))
    blocks.append(
        Bullets(items, f"What moving from {res.label(res.baseline)} costs, and who loses:")
    )
    return blocks


def _cost(res: Results, scheme: str, kpi: str) -> str | None:
    row = res.summary_row(scheme, kpi)
    if row is None or kpi not in KPIS:
        return None
    k = KPIS[kpi]
    d, lo, hi = (float(row[c]) for c in ("diff_mean", "diff_ci_low", "diff_ci_high"))
    if math.isnan(d):
        return None
    return (
        f"{k.title}: {num(d, k.kind, signed=True, unit=True)} "
        f"(95% CI {num(lo, k.kind, signed=True, unit=True)} to "
        f"{num(hi, k.kind, signed=True, unit=True)})."
    )


def _losers(changes: pd.DataFrame, res: Results, scheme: str) -> str:
    summary = pay_change_summary(changes)
    row = summary[summary["scheme"] == scheme]
    if row.empty:
        return "Who loses: no per-technician pay in the results."
    r = row.iloc[0]
    share = float(r["share_falls"])
    if share == 0.0:
        return "Who loses: no technician's pay falls."
    return (
        f"Who loses: {share:.0%} of technicians are paid less than under "
        f"{res.label(res.baseline)} (median fall {abs(float(r['median_fall_pct'])):.1f}% of their "
        "pay); the section on technicians has the detail."
    )


def _optimised(opt: dict, win: str) -> str:
    """What the optimisation found, and what the winner costs in its search."""
    n, ok = opt.get("trials"), opt.get("feasible_trials")
    lim = opt.get("limits", {})
    text = (
        f"An optimisation of the {opt.get('family')} family searched {n} formulas ({ok} "
        f"feasible: mean pay within ±{100 * float(lim.get('max_pay_change', 0)):.0f}% of "
        f"the baseline's, at most {100 * float(lim.get('max_losers', 0)):.0f}% of "
        f"technicians losing more than {100 * float(lim.get('loss_threshold', 0)):.0f}% of "
        "their pay) and re-evaluated the best with the scenario's schemes within the same "
        "limits. "
    )
    top = opt.get("top") or []
    scheme = opt.get("winner_scheme")
    if scheme and win.startswith("optimised_"):
        k = int(win.rsplit("_", 1)[1]) - 1
        row = top[k] if k < len(top) else {}
        coefs = ", ".join(
            f"{key} {float(v):,.2f}" for key, v in scheme.items() if key not in ("type", "label")
        )
        text += (
            f"The optimised formula won: {coefs} (optimised.yaml). In the search it changed "
            f"mean pay by {100 * float(row.get('pay_change', float('nan'))):+.1f}% and left "
            f"{100 * float(row.get('loser_share', float('nan'))):.0f}% of technicians losing."
        )
    elif top:
        text += "No optimised formula beat the scenario's own schemes in the re-evaluation."
    else:
        text += "No formula met the constraints."
    return text
