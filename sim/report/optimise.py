"""The report's "Optimised pay formula": what `techsim optimise` searched and found.

From RESULTS/optimise/ (`sim.store.optimise`): the family, objective and limits searched;
the best feasible trials; the scenario's own schemes measured as a trial is (which of them
meet the limits); the re-evaluation by selection and its guarantee; the trade-off figure
(`sim.plots.optimise`). None when the results hold no optimisation.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib as mpl

from sim.metrics.catalogue import KPIS
from sim.plots.optimise import fig_tradeoff_trials
from sim.plots.output import render
from sim.plots.style import STYLE
from sim.report.document import Block, Cell, FigureBlock, Paragraph, Section, Table
from sim.report.text import num
from sim.report.unreadable import results_section
from sim.store.files import ExperimentError, ExperimentResults
from sim.store.optimise import find_optimisation, load_optimisation
from sim.store.results import Results

ID = "optimise"
TITLE = "Optimised pay formula"
#: What a trial's coefficients are not.
NOT_COEFFICIENTS = ("type", "label")


def optimise_section(res: Results, given: Path | None = None, dpi: int = 110) -> Section | None:
    """The section, from RESULTS/optimise/ of `res` (or `given`); None without one."""
    folder = find_optimisation(res.path, given)
    if folder is None:
        return None
    return results_section(
        ID,
        TITLE,
        "optimisation",
        folder,
        load_optimisation,
        ExperimentError,
        lambda opt: optimise_blocks(res, opt, dpi),
    )


def optimise_blocks(res: Results, opt: ExperimentResults, dpi: int = 110) -> list[Block]:
    info = opt.info
    lim = info.get("limits", {})
    obj = str(info.get("objective", "objective"))
    label = str(info.get("objective_label", obj))
    base = str(info.get("baseline", res.baseline))
    n = info.get("trials", len(opt.table))
    reps = info.get("replications", "?")
    blocks: list[Block] = [
        Paragraph(
            f"The coefficients of the {info.get('family')} family were searched for the "
            f"highest {label} under two limits, both against {res.label(base)} on the same "
            f"simulated worlds (common random numbers): mean pay per technician-day within "
            f"±{_pct(lim.get('max_pay_change'))}, and at most "
            f"{_pct(lim.get('max_losers'))} of technicians paid more than "
            f"{_pct(lim.get('loss_threshold'))} less, each paired with their own pay in the "
            f"same replication. {n} formulas were tried (Optuna's seeded TPE sampler with the "
            f"limits as constraints, {reps} replications each); "
            f"{info.get('feasible_trials', '?')} met both limits.",
            "lead",
        )
    ]
    blocks.append(Paragraph(_verdict(info)))
    top = info.get("top") or []
    if top:
        blocks.append(_top_table(top, obj))
    own = info.get("schemes") or {}
    if own:
        blocks.append(_schemes_table(res, own, obj))
    if not opt.table.empty:
        with mpl.rc_context(STYLE):
            spec = fig_tradeoff_trials(opt.table, info)
        if spec is not None:
            png = render(spec, "png", dpi)
            blocks.append(FigureBlock(spec.name, spec.title, spec.caption, png))
    blocks.append(
        Paragraph(
            f"Every trial is in {opt.folder / 'trials.csv'}; the winning formula, when an "
            "optimised one wins, in optimised.yaml, ready to paste under schemes:; the "
            "re-evaluation in select/ (docs/model.md section 14).",
            "note",
        )
    )
    return blocks


def _pct(v: Any) -> str:
    return "n/a" if v is None else f"{100.0 * float(v):.0f}%"


def _value(v: Any, obj: str) -> str:
    """An objective value: as its KPI when it is one, else a plain number."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    k = KPIS.get(obj)
    return num(float(v), k.kind, unit=True) if k else f"{float(v):,.4g}"


def _verdict(info: dict[str, Any]) -> str:
    """What the re-evaluation selected, with its guarantee."""
    sel = info.get("selection")
    win = info.get("winner")
    if not info.get("top"):
        return (
            "No formula met both limits, so nothing was re-evaluated: loosen the limits, "
            "widen the bounds or run more trials."
        )
    if not isinstance(sel, dict) or win is None:
        return "The re-evaluation of the best trials is missing: rerun with --resume."
    scheme = info.get("winner_scheme")
    if scheme and str(win).startswith("optimised_"):
        coefs = ", ".join(
            f"{k} {float(v):,.2f}"
            for k, v in scheme.items()
            if k not in NOT_COEFFICIENTS and isinstance(v, int | float)
        )
        head = f"The optimised formula won the re-evaluation ({win}: {coefs}). "
    else:
        head = f"No optimised formula beat {win} in the re-evaluation. "
    return head + str(sel.get("guarantee", ""))


def _top_table(top: list[dict[str, Any]], obj: str) -> Table:
    coefs = [k for k in top[0] if k not in ("trial", "objective", "pay_change",
                                             "loser_share", "feasible")]  # fmt: skip
    head = [
        Cell("Contender"),
        Cell("Trial", "num"),
        *(Cell(c, "num") for c in coefs),
        Cell("Objective", "num"),
        Cell("Pay change", "num"),
        Cell("Losers", "num"),
    ]
    rows = [
        [
            Cell(f"optimised_{i}", "key"),
            Cell(str(int(t["trial"])), "num"),
            *(Cell(f"{float(t[c]):,.2f}", "num") for c in coefs),
            Cell(_value(t.get("objective"), obj), "num"),
            Cell(f"{100.0 * float(t['pay_change']):+.1f}%", "num"),
            Cell(f"{100.0 * float(t['loser_share']):.0f}%", "num"),
        ]
        for i, t in enumerate(top, 1)
    ]
    return Table(
        head,
        rows,
        "The best feasible trials, re-evaluated",
        "Means over the search's replications. Pay change: mean pay per technician-day "
        "against the baseline's; losers: the share of technicians paid more than the loss "
        "threshold less than under the baseline in the same replication.",
    )


def _schemes_table(res: Results, own: dict[str, Any], obj: str) -> Table:
    head = [
        Cell("Scheme"),
        Cell("Objective", "num"),
        Cell("Pay change", "num"),
        Cell("Losers", "num"),
        Cell("Within the limits"),
    ]
    rows = []
    for name, e in own.items():
        if not isinstance(e, dict):
            continue
        rows.append(
            [
                Cell(res.label(name), "key"),
                Cell(_value(e.get("objective"), obj), "num"),
                Cell(f"{100.0 * float(e.get('pay_change', math.nan)):+.1f}%", "num"),
                Cell(f"{100.0 * float(e.get('loser_share', math.nan)):.0f}%", "num"),
                Cell("yes" if e.get("feasible") else "no"),
            ]
        )
    return Table(
        head,
        rows,
        "The scenario's schemes, measured as a trial is",
        "Only those within the limits entered the re-evaluation with the best trials.",
    )
