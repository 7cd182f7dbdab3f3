"""The fit report of a calibration (docs/calibration.md, "The fit report").

`calibration_document(cal, fit, export)` lays out, in the proposal report's house style
(`sim.report.html`): what the export held and what it could not say; each KPI of the data
against the calibrated model's, with a verdict; each distribution with its figure and
Wasserstein distance; every estimate with its interval and method; what was inferred through
the model and how; what was kept from the template. Only aggregates appear: no id, name or
other value of a row of the export is copied.
"""

from __future__ import annotations

import math

import matplotlib as mpl

from sim import __version__
from sim.calibrate.build import Calibration
from sim.calibrate.fit import Fit
from sim.calibrate.infer import Inferred, pace_step
from sim.calibrate.read import Export
from sim.metrics.catalogue import KPIS
from sim.plots.calibration import fig_distributions
from sim.plots.output import render
from sim.plots.style import STYLE
from sim.report.document import Bullets, Cell, Document, FigureBlock, Paragraph, Section, Table

#: Labels of the export's KPIs the catalogue does not hold.
LABELS = {"part_needed_rate": "first visits that needed a part"}
#: Template parameters no export identifies under one scheme (docs/calibration.md).
STRUCTURAL = (
    ("quality.thoroughness_curvature", "how much care buys fixes (k)"),
    ("quality.skill_effect", "how much skill buys fixes"),
    ("behaviour.effort_cost_per_hour", "the effort cost of care"),
    ("behaviour.intrinsic_weight", "the weight technicians put on customers"),
    ("workforce.skill_mean", "mean skill (the fix probabilities absorb the crew's)"),
    ("customers.tiers.*.sla_hours / annual_value", "contract terms"),
    ("workforce.cost_per_visit, labour_overhead", "costs"),
    ("schemes (other than the one in force)", "the alternatives to compare"),
)


def _fmt(kpi: str, x: float) -> str:
    if not math.isfinite(x):
        return "-"
    k = KPIS.get(kpi)
    if kpi.endswith("_rate") or kpi in ("sla_compliance", "utilisation") or (k and k.kind == "pct"):
        return f"{100 * x:.1f}%"
    return f"{x:.2f}" if abs(x) < 100 else f"{x:,.0f}"


def _label(kpi: str) -> str:
    k = KPIS.get(kpi)
    text = k.label if k else LABELS.get(kpi, kpi.replace("_", " "))
    return text[:1].upper() + text[1:]


def _num(x: float) -> str:
    if not math.isfinite(x):
        return "-"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"


def _skill_text(inf: Inferred, sd: float) -> str:
    est, lo, hi = inf.skill_sd_ci
    if not math.isfinite(est):
        return "Skill spread: not estimated (fewer than 3 technicians with 20 first visits)"
    head = (
        f"Skill spread (sd) from the technicians' first-time fix, binomial noise removed: "
        f"{est:.3f} (95% CI {lo:.3f} to {hi:.3f}, bootstrap over technicians)"
    )
    if inf.skill_sd is not None:
        return head + f"; the template's lies outside it, so {sd:.3f} is used"
    return head + f"; the template's {sd:.3f} lies inside it and is kept"


def calibration_document(cal: Calibration, fit: Fit, export: Export, out_name: str) -> Document:
    sc, inf = cal.scenario, cal.inferred
    v = export.visits
    verdicts = [k.verdict for k in fit.kpis if k.verdict != "not measured"]
    matches = sum(1 for x in verdicts if x == "matches")
    summary = Section(
        "summary",
        "Summary",
        [
            Paragraph(
                f"The export holds {len(v):,} visits by {v['technician_id'].nunique()} technicians "
                f"from {v['created'].min():%Y-%m-%d} to {v['completion'].max():%Y-%m-%d}"
                + (f" and {len(export.renewals):,} renewals" if export.renewals is not None else "")
                + f". Calibrated into {out_name} (scenario {sc.name!r}) with the pay scheme in "
                f"force {cal.current!r}; simulated {fit.reps} replications of it and measured them "
                f"as the export was measured: {matches} of {len(verdicts)} KPIs match.",
                "lead",
            ),
            Paragraph(
                "Behaviour parameters cannot be observed in an export: the pace and care of the "
                "technicians were inferred so that the model, under the scheme in force, "
                "reproduces the visits' observed duration and first-time fix (section "
                "'Inferred through the model').",
            ),
        ],
    )
    kpi_rows = [
        [
            Cell(_label(k.kpi)),
            Cell(_fmt(k.kpi, k.data), "num"),
            Cell(_fmt(k.kpi, k.sim), "num", sub=f"{_fmt(k.kpi, k.low)} to {_fmt(k.kpi, k.high)}"),
            Cell(k.verdict, "sig" if k.verdict == "matches" else "ns"),
        ]
        for k in fit.kpis
    ]
    kpis = Section(
        "kpis",
        "KPIs: data against the model",
        [
            Table(
                [Cell("KPI"), Cell("data", "num"), Cell("model (95% CI)", "num"), Cell("verdict")],
                kpi_rows,
                note="A KPI matches when the data lies within the model's 95% CI over the "
                "replications or within a tolerance of its mean (2 points for a share, 1 for "
                "retention, 5% for jobs per day, 15% for response, 5 for NPS); close within "
                "twice that.",
            )
        ],
    )
    blocks: list = []
    with mpl.rc_context(STYLE):
        spec = fig_distributions(fit.dists)
    if spec is not None:
        blocks.append(FigureBlock(spec.name, spec.title, spec.caption, render(spec, dpi=110)))
    blocks.append(
        Table(
            [
                Cell("distribution"),
                Cell("data n", "num"),
                Cell("model n", "num"),
                Cell("Wasserstein", "num"),
                Cell("relative", "num"),
                Cell("verdict"),
            ],
            [
                [
                    Cell(d.name),
                    Cell(f"{d.data.size:,}", "num"),
                    Cell(f"{d.sim.size:,}", "num"),
                    Cell(f"{d.distance:.3g}", "num"),
                    Cell(f"{d.relative:.1%}", "num"),
                    Cell(d.verdict),
                ]
                for d in fit.dists
            ],
        )
    )
    dists = Section("distributions", "Distributions", blocks)
    est_rows = [
        [
            Cell(e.path or "(a fact of the data)", "key"),
            Cell(e.label),
            Cell(_num(e.value), "num"),
            Cell("-" if not math.isfinite(e.low) else f"{_num(e.low)} to {_num(e.high)}", "num"),
            Cell(f"{e.n:,}", "num"),
            Cell(e.method, "long"),
        ]
        for e in cal.estimates
        if not e.kept
    ]
    estimates = Section(
        "estimates",
        "Estimated from the export",
        [
            Table(
                [
                    Cell("field"),
                    Cell("what"),
                    Cell("value", "num"),
                    Cell("95% CI", "num"),
                    Cell("n", "num"),
                    Cell("method"),
                ],
                est_rows,
                note="Observed on-site times are the visits' as worked; the scenario's on-site "
                "times are the normal times they are worked against (next section).",
            )
        ],
    )
    fixes = ", ".join(f"{k} {p:.3f}" for k, p in inf.fix_prob.items())
    infer_items = [
        f"Normal on-site times from the {cal.standard_from}"
        + (
            " (the mapping's standard_hours: a flat-rate book)"
            if cal.standard_from == "mapping"
            else " (give standard_hours in the mapping to use your flat-rate book)"
        ),
        f"Visits took {inf.observed_ratio:.3f} of their normal time; the model gives "
        f"{inf.ratio:.3f} at a pace effort cost of ${inf.pace_cost:.2f}/h "
        f"(behaviour.pace.effort_cost_per_hour), where technicians work at a mean pace of "
        f"{inf.mean_pace:.3f} (grid step {pace_step(sc):.3f}) and care "
        f"(thoroughness) {inf.mean_thoroughness:.3f}",
        f"Fix probabilities at standard care that reproduce the first visits' fixes with "
        f"the part there: {fixes}",
        _skill_text(inf, sc.workforce.skill_sd),
        f"Converged in {inf.iterations} rounds"
        + (" (at a bound: check the normal times)" if inf.at_bound else ""),
    ]
    if fit.corrections:
        infer_items += [
            f"{k}: {a:.4g} measured, {b:.4g} in the model, so that its simulated export shows "
            "the same rate"
            for k, (a, b) in fit.corrections.items()
        ]
    inferred = Section("inferred", "Inferred through the model", [Bullets(infer_items)])
    kept = [f"{e.path}: {e.note}" for e in cal.estimates if e.kept]
    kept += [f"{p} ({what})" for p, what in STRUCTURAL]
    notes = Section(
        "kept",
        "Kept from the template, and notes",
        [
            Bullets(
                kept,
                "Not identified by this export, so the template's values stand "
                "(docs/calibration.md says which of them can change a comparison):",
            ),
            *([Bullets(cal.notes, "Notes on the export:")] if cal.notes else []),
        ],
    )
    return Document(
        f"Calibration fit: {sc.name}",
        f"{export.source}, calibrated against the template; the model simulated "
        f"{fit.reps} times under {cal.current!r}",
        [summary, kpis, dists, estimates, inferred, notes],
        f"techsim {__version__}",
    )


def calibration_files(
    cal: Calibration, fit: Fit, export: Export, out_name: str, report_name: str
) -> tuple[str, str]:
    """The calibrated scenario's YAML and the fit report's HTML, both computed before
    anything is written."""
    from sim.calibrate.build import scenario_yaml
    from sim.report.html import render_html

    doc = calibration_document(cal, fit, export, out_name)
    return scenario_yaml(cal, export.source, report_name), render_html(doc)
