"""The compensation-proposal report of a results directory (`techsim report`).

Everything in it is computed from the result files, never retyped: an executive summary
written from summary.csv (saying where a difference is not significant), the KPI tables
with their 95% CIs, where each scheme's margin difference comes from, why problems needed
a return visit, the figures of
`sim.plots`, who wins and who loses among technicians, the assumptions (the resolved
scenario in manifest.json) and the provenance. The content is
built once as a `sim.report.document.Document` and rendered to one self-contained HTML file or
to PDF (headless Chromium printing that HTML, or a matplotlib rendering when there is no
Chromium).

This module assembles the document and writes it; the run's sections are in
`sim.report.run`, the sweep's in `sim.report.sweep`, the assumptions and the provenance in
`sim.report.assumptions`, the margin decomposition in `sim.report.margin`, the numbers and
words in `sim.report.text`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sim import __version__
from sim.plots.margin import margin_decomposition
from sim.plots.output import figures, render
from sim.report.assumptions import assumption_tables, provenance_table
from sim.report.causes import causes_section
from sim.report.document import Block, Document, FigureBlock, Paragraph, Section
from sim.report.html import render_html
from sim.report.margin import margin_section
from sim.report.optimise import optimise_section
from sim.report.recommend import recommendation_section
from sim.report.run import kpi_tables, run_summary_section, technicians_section
from sim.report.sweep import sweep_summary_section, sweep_tables
from sim.report.whatif import whatif_section
from sim.store.files import atomic_write_text, now_iso
from sim.store.pay_changes import pay_changes
from sim.store.results import Results, load_results

FORMATS = ("html", "pdf")
PDF_ENGINES = ("auto", "chromium", "matplotlib")
FIGURE_DPI = 110


def build_document(
    res: Results,
    dpi: int = FIGURE_DPI,
    whatif: Path | None = None,
    select: Path | None = None,
) -> Document:
    """The report's content, from the result files only (and the what-if analysis in
    RESULTS/whatif/, or `whatif`, a folder or its whatif.csv; and a selection in
    RESULTS/select/, or `select`, which puts a recommendation first)."""
    generated = now_iso()
    figs = [
        FigureBlock(spec.name, spec.title, spec.caption, render(spec, "png", dpi))
        for spec in figures(res)
    ]
    sections: list[Section] = []
    if res.kind == "sweep":
        sections.append(sweep_summary_section(res))
        sections.append(Section("kpis", "Results by scheme", sweep_tables(res)))
        sections.append(Section("figures", "Figures", figs))
    else:
        changes = pay_changes(res)
        margin, why_not = margin_decomposition(res)
        recommendation = recommendation_section(res, changes, select)
        if recommendation is not None:
            sections.append(recommendation)
        sections.append(run_summary_section(res, changes, margin))
        sections.append(Section("kpis", "KPIs with 95% confidence intervals", kpi_tables(res)))
        tech_fig = next((f for f in figs if f.name == "tech_pay_change"), None)
        margin_fig = next((f for f in figs if f.name == "margin_decomposition"), None)
        causes_fig = next((f for f in figs if f.name == "repeat_causes"), None)
        if len(res.schemes) > 1:
            sections.append(margin_section(res, margin, why_not, margin_fig))
            sections.append(whatif_section(res, whatif, dpi))
        optimised = optimise_section(res, None, dpi)
        if optimised is not None:
            sections.append(optimised)
        causes = causes_section(res, causes_fig)
        if causes is not None:
            sections.append(causes)
        own = (tech_fig, margin_fig, causes_fig)
        sections.append(Section("figures", "Figures", [f for f in figs if f not in own]))
        tech = technicians_section(res, changes, tech_fig)
        if tech is not None:
            sections.append(tech)
    sc = res.scenario
    blocks: list[Block] = []
    if sc.get("source"):
        blocks.append(Paragraph(f"Where the numbers come from: {str(sc['source']).strip()}"))
    blocks.append(
        Paragraph(
            "The resolved scenario as run (every default filled in), from the "
            "manifest; the setting names are the paths a sweep's --param takes. "
            "Replications and seed given on the command line override the "
            "scenario's: the Provenance section has the ones used.",
            "note",
        )
    )
    blocks += assumption_tables(sc)
    sections.append(Section("assumptions", "Assumptions", blocks))
    sections.append(Section("provenance", "Provenance", [provenance_table(res, generated)]))
    kind = "Parameter sweep" if res.kind == "sweep" else "Compensation proposal"
    subtitle = (
        f"{len(res.schemes)} pay schemes against {res.label(res.baseline)}, "
        f"{res.replications or '?'} replications, seed {res.manifest.get('seed', '?')}"
    )
    return Document(
        f"{kind}: {res.name}",
        subtitle,
        sections,
        f"Generated {generated} by techsim {__version__} from {res.path.name}/. "
        "All numbers are computed from the result files.",
    )


# --------------------------------------------------------------------------- output
@dataclass
class ReportOutput:
    path: Path
    engine: str  # "html", "chromium" or "matplotlib"
    note: str = ""  # how the PDF was rendered


def write_report(
    results: str | Path | Results,
    fmt: str = "html",
    pdf_engine: str = "auto",
    whatif: Path | None = None,
    select: Path | None = None,
) -> ReportOutput:
    """Build the report of a results directory (or loaded `Results`) into RESULTS/report.html
    or RESULTS/report.pdf (`whatif`: the what-if folder when not RESULTS/whatif/; `select`:
    the selection's folder when not RESULTS/select/)."""
    if fmt not in FORMATS:
        raise ValueError(f"format: {fmt!r} is not one of {', '.join(FORMATS)}")
    if pdf_engine not in PDF_ENGINES:
        raise ValueError(f"pdf engine: {pdf_engine!r} is not one of {', '.join(PDF_ENGINES)}")
    res = results if isinstance(results, Results) else load_results(results)
    doc = build_document(res, whatif=whatif, select=select)
    if fmt == "html":
        path = res.path / "report.html"
        atomic_write_text(path, render_html(doc))
        return ReportOutput(path, "html")
    from sim.report.pdf import write_pdf

    path = res.path / "report.pdf"
    engine, note = write_pdf(doc, render_html(doc), path, pdf_engine)
    return ReportOutput(path, engine, note)


def build_report(results_dir: str | Path, fmt: str = "html") -> Path:
    """The report of a results directory (HTML or PDF); returns its path."""
    return write_report(results_dir, fmt).path
