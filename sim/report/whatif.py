"""The report's "What would change this conclusion": the what-if analysis in plain words.

From the files of `techsim whatif` (`sim.store.whatif`): the comparison's difference at the
scenario's values, the assumptions whose one-at-a-time scan flips its sign and the values
where it does, then the others in order of influence (Morris mu*), and the tornado figure
(`sim.plots.whatif`). Without a what-if analysis the section says how to make one.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from sim.metrics.catalogue import KPI, KPIS
from sim.plots.output import render
from sim.plots.whatif import fig_tornado
from sim.report.document import Block, Bullets, Cell, FigureBlock, Paragraph, Section, Table
from sim.report.text import diff_decimals, num
from sim.report.unreadable import results_section
from sim.store.results import Results
from sim.store.whatif import DEFAULT_SUBDIR, WhatIf, WhatIfError, find_whatif, load_whatif

ID = "whatif"
TITLE = "What would change this conclusion"
#: Fields a run may set apart from its scenario file without changing the world.
NOT_COMPARED = {"replications", "seed"}


def _val(v: float) -> str:
    """An assumption's value: "0.25", "1,200", "4.5"."""
    return "n/a" if v is None or math.isnan(v) else f"{float(v):,.4g}"


def _diff(v: float, k: KPI, lo: float = math.nan, hi: float = math.nan) -> str:
    return num(v, k.kind, True, True, diff_decimals(k.kind, lo, hi))


def _ci(lo: float, hi: float, k: KPI) -> str:
    dd = diff_decimals(k.kind, lo, hi)
    return f"95% CI {num(lo, k.kind, True, False, dd)} to {num(hi, k.kind, True, False, dd)}"


def how_to(res: Results) -> str:
    """The one line that makes the analysis for these results."""
    return (
        f"No what-if analysis was found for these results. To make one: techsim whatif "
        f"{res.name} --out {res.path / DEFAULT_SUBDIR} --trajectories 4 --reps 2 "
        "--scan-reps 4 (about 10 minutes on 2 idle cores for hvac), then build the report "
        "again."
    )


def _flat(d: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(d, dict):
        return {prefix: d}
    out: dict[str, Any] = {}
    for key, v in d.items():
        out.update(_flat(v, f"{prefix}.{key}" if prefix else str(key)))
    return out


def scenario_differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """The settings (dotted paths) in which two resolved scenarios differ, schemes aside
    (the analysis keeps only the two it compares)."""
    fa = {k: v for k, v in _flat(a).items() if not k.startswith("schemes.")}
    fb = {k: v for k, v in _flat(b).items() if not k.startswith("schemes.")}
    keys = sorted(set(fa) | set(fb))
    return [k for k in keys if k not in NOT_COMPARED and fa.get(k) != fb.get(k)]


def flip_sentence(r: pd.Series, k: KPI) -> str:
    """ "time_and_materials.revenue_per_job (now 300; plausible 200 to 450): the difference
    changes sign at about 412 (interpolated between 387.5 and 450); at 450 it is −$52,000
    (95% CI ...), which excludes 0." """
    root = float(r["flip_value"])
    high_side = root >= float(r["base"])
    end = "high" if high_side else "low"
    at = float(r[end])
    lo, hi = float(r[f"diff_{end}_ci_low"]), float(r[f"diff_{end}_ci_high"])
    sure = str(r["flip_ci_excludes_zero"]) == "yes"
    more = ""
    values = str(r["flip_values"]) if isinstance(r["flip_values"], str) else ""
    if ";" in values:
        more = f" (it changes sign {values.count(';') + 1} times in the range: at {values})"
    return (
        f"{r['path']} (now {_val(r['base'])}; plausible {_val(r['low'])} to "
        f"{_val(r['high'])}): the difference changes sign at about {_val(root)}, "
        f"interpolated between {_val(r['flip_from'])} and {_val(r['flip_to'])}{more}; at "
        f"{_val(at)} it is {_diff(r[f'diff_{end}'], k, lo, hi)} ({_ci(lo, hi, k)}), "
        + ("which excludes 0: the reversal is clear." if sure else "which includes 0: the "
           "difference there is not significant either way.")
    )  # fmt: skip


def others_table(rows: pd.DataFrame, k: KPI, base_diff: float) -> Table:
    """The assumptions that do not flip the sign, by influence."""
    head = [
        Cell("Assumption"),
        Cell("Now", "num"),
        Cell("Plausible range", "num"),
        Cell("Influence (mu*)", "num"),
        Cell("At the low end", "num"),
        Cell("At the high end", "num"),
        Cell("Why this range"),
    ]
    body = []
    for _, r in rows.iterrows():
        scanned = str(r["scanned"]) == "yes"
        if scanned:
            low = Cell(
                _diff(r["diff_low"], k),
                "num",
                sub=_ci(r["diff_low_ci_low"], r["diff_low_ci_high"], k),
            )
            high = Cell(
                _diff(r["diff_high"], k),
                "num",
                sub=_ci(r["diff_high_ci_low"], r["diff_high_ci_high"], k),
            )
        else:
            mu = float(r["mu_star"])
            if mu == 0:
                why = "no effect in the screening"
            elif not math.isnan(mu) and mu < abs(base_diff):
                why = "not scanned; its whole-range effect is below the difference"
            else:
                why = "not scanned"
            low = Cell(why, "ns")
            high = Cell("", "ns")
        body.append(
            [
                Cell(str(r["path"]), "key"),
                Cell(_val(r["base"]), "num"),
                Cell(f"{_val(r['low'])} to {_val(r['high'])}", "num"),
                Cell(num(r["mu_star"], k.kind, False, True), "num"),
                low,
                high,
                Cell(str(r["why"]), "long"),
            ]
        )
    return Table(
        head,
        body,
        "The other assumptions, most influential first",
        "Influence: Morris mu*, the mean absolute change of the difference when the assumption "
        "moves across its whole range, the others anywhere in theirs. At the low and high "
        "end: the difference with only this assumption moved, the others at the scenario's "
        "values (scanned assumptions only). An assumption whose whole-range effect is below "
        "the difference cannot flip it on its own unless its effect is strongly non-linear.",
        "whatif",
    )


def whatif_section(res: Results, given: Path | None = None, dpi: int = 110) -> Section:
    """The section, from the what-if folder of `res` (or `given`)."""
    folder = find_whatif(res.path, given)
    if folder is None:
        return Section(ID, TITLE, [Paragraph(how_to(res), "note")])
    return results_section(
        ID,
        TITLE,
        "what-if analysis",
        folder,
        load_whatif,
        WhatIfError,
        lambda w: whatif_blocks(res, w, dpi),
    )


def whatif_blocks(res: Results, w: WhatIf, dpi: int = 110) -> list[Block]:
    t, m = w.table, w.meta
    first = t.iloc[0] if len(t) else None
    kpi = str(m.get("kpi") or (first["kpi"] if first is not None else "margin"))
    k = KPIS.get(kpi, KPIS["margin"])
    scheme = str(m.get("scheme") or (first["scheme"] if first is not None else "?"))
    against = str(m.get("against") or (first["against"] if first is not None else "?"))
    blocks: list[Block] = []
    scanned = t[t["scanned"].astype(str) == "yes"]
    base = float(t["diff_base"].dropna().iloc[0]) if t["diff_base"].notna().any() else math.nan
    when = str(m.get("finished") or m.get("started") or "")[:10]
    reps = m.get("scan_replications", m.get("replications", "?"))
    lead = (
        f"Would a different value of an assumption without a public source reverse the "
        f"comparison of {res.label(scheme)} with {res.label(against)} on {k.label}? "
    )
    if not math.isnan(base):
        row = t[t["diff_base"].notna()].iloc[0]
        lo, hi = float(row["diff_base_ci_low"]), float(row["diff_base_ci_high"])
        lead += (
            f"At the scenario's values the difference ({scheme} minus {against}) is "
            f"{_diff(base, k, lo, hi)} ({_ci(lo, hi, k)}, {reps} replications). "
        )
    lead += (
        f"Each of {len(t)} such assumptions was given a plausible range; all were varied "
        f"together in a Morris screening ({m.get('trajectories', '?')} trajectories), and the "
        f"{len(scanned)} most influential were then moved one at a time across their range "
        f"({m.get('points', '?')} values each, the others at the scenario's values), on the "
        f"same simulated worlds (common random numbers)"
        + (f"; computed on {when}." if when else ".")
    )
    blocks.append(Paragraph(lead, "lead"))
    if m.get("status") not in (None, "complete"):
        blocks.append(
            Paragraph(
                f"The analysis is not complete (status {m.get('status')}): finish it with "
                "techsim whatif ... --resume; only the screening is shown.",
                "note",
            )
        )
    flips = scanned[scanned["flips"].astype(str) == "yes"]
    if len(flips):
        blocks.append(
            Bullets(
                [flip_sentence(r, k) for _, r in flips.iterrows()],
                "Assumptions that can flip the sign of the difference on their own:",
            )
        )
    elif len(scanned):
        d = [
            float(scanned[c].min()) for c in ("diff_low", "diff_high")
        ] + [float(scanned[c].max()) for c in ("diff_low", "diff_high")]  # fmt: skip
        blocks.append(
            Paragraph(
                f"None of the {len(scanned)} scanned assumptions flips the sign within its "
                f"plausible range: moved one at a time, the difference stays between "
                f"{_diff(min(d), k)} and {_diff(max(d), k)}."
            )
        )
    sc = m.get("screening")
    if isinstance(sc, dict) and sc.get("points"):
        n, pos, neg = int(sc["points"]), int(sc.get("positive", 0)), int(sc.get("negative", 0))
        blocks.append(
            Paragraph(
                f"With all the assumptions varied together (the screening's {n} points), "
                f"{res.label(scheme)} had the higher {k.label} at {pos} and the lower at "
                f"{neg}; the difference ranged from {_diff(sc.get('min', math.nan), k)} to "
                f"{_diff(sc.get('max', math.nan), k)}."
            )
        )
    others = t[~t["path"].isin(flips["path"])]
    if len(others):
        blocks.append(others_table(others, k, base))
    spec = fig_tornado(t, m)
    if spec is not None:
        blocks.append(FigureBlock(spec.name, spec.title, spec.caption, render(spec, "png", dpi)))
    notes = []
    skipped = m.get("skipped") or []
    if skipped:
        listed = "; ".join(
            f"{s.get('path')} ({s.get('why')})" for s in skipped if isinstance(s, dict)
        )
        notes.append(f"Not screened: {listed}.")
    if isinstance(m.get("scenario"), dict) and res.scenario:
        diff = scenario_differences(m["scenario"], res.scenario)
        if diff:
            shown = ", ".join(diff[:4]) + (f" and {len(diff) - 4} more" if len(diff) > 4 else "")
            notes.append(
                f"The what-if analysis was run on a scenario that differs from these results' "
                f"in {shown}: its numbers describe that scenario."
            )
    notes.append(
        "The ranges, and why each, are in sim/config/assumptions.py and docs/model.md "
        f"(section 12); the files are in {w.path}."
    )
    blocks += [Paragraph(n, "note") for n in notes]
    return blocks
