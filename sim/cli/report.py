"""`techsim plot` and `techsim report`: figures and the compensation-proposal report.

Thin commands over `sim.plots.output.write_plots` and `sim.report.build.write_report`. A
directory that is not a results directory is bad input: one line naming it, exit status 2,
nothing written.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from sim.cli.common import choice_option
from sim.cli.errors import BadInput

if TYPE_CHECKING:
    from sim.store.results import Results

# The same tuples as sim.plots.output.FORMATS, sim.report.build.FORMATS and PDF_ENGINES (a test pins
# them): spelled out so that `techsim --help` does not import matplotlib and scipy.
PLOT_FORMATS = ("png", "svg", "pdf")
REPORT_FORMATS = ("html", "pdf")
PDF_ENGINES = ("auto", "chromium", "matplotlib")


def _load(results: Path) -> Results:
    """RESULTS read once; BadInput before anything is written when it is not readable."""
    from sim.store.results import ResultsError, load_results

    try:
        return load_results(results)
    except ResultsError as exc:
        raise BadInput(str(exc)) from None


EPILOG_PLOT = """\b
Examples:
  techsim plot results/hvac                 # PNG figures into results/hvac/plots/
  techsim plot results/hvac --format svg    # vector figures for a deck
  techsim plot results/sweep-weight         # a sweep: KPIs against each swept parameter
"""

EPILOG_REPORT = """\b
Examples:
  techsim report results/hvac               # results/hvac/report.html (self-contained)
  techsim report results/hvac --format pdf  # results/hvac/report.pdf
  techsim run --report                      # run and build the HTML report in one step
  techsim report results/hvac --whatif results/hvac-whatif   # with a what-if analysis
"""


@click.command(epilog=EPILOG_PLOT)
@click.argument("results", type=click.Path(path_type=Path))
@choice_option("--format", "fmt", PLOT_FORMATS, "png", "File format of the figures.")
def plot(results: Path, fmt: str) -> None:
    """Figures of a results directory (a run or a sweep) into RESULTS/plots/."""
    from sim.plots.output import write_plots

    res = _load(results)
    try:
        paths = write_plots(res, fmt)
    except OSError as exc:
        raise BadInput(f"{exc.filename or results}: cannot be written ({exc.strerror})") from None
    click.echo(f"{len(paths)} figures written to {results / 'plots'}/:")
    for p in paths:
        click.echo(f"  {p.name}")


@click.command(epilog=EPILOG_REPORT)
@click.argument("results", type=click.Path(path_type=Path))
@choice_option(
    "--format", "fmt", REPORT_FORMATS, "html",
    "html: one self-contained file; pdf: the same content.",
)  # fmt: skip
@choice_option(
    "--pdf-engine", None, PDF_ENGINES, "auto",
    "auto: headless Chromium when on PATH, else matplotlib.",
)  # fmt: skip
@click.option(
    "--whatif",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="The folder (or whatif.csv) of 'techsim whatif' for the section 'What would "
    "change this conclusion' (default: RESULTS/whatif/ when there).",
)
@click.option(
    "--select",
    "select_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="The folder of 'techsim select', whose recommendation then leads the report "
    "(default: RESULTS/select/ when there).",
)
def report(
    results: Path, fmt: str, pdf_engine: str, whatif: Path | None, select_dir: Path | None
) -> None:
    """The compensation-proposal report of RESULTS, written into RESULTS/."""
    from sim.report.build import write_report

    try:
        out = write_report(_load(results), fmt, pdf_engine, whatif, select_dir)
    except RuntimeError as exc:  # --pdf-engine chromium without a working Chromium
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise BadInput(f"{exc.filename or results}: cannot be written ({exc.strerror})") from None
    if out.note:
        click.echo(out.note, err=True)
    click.echo(f"Report: {out.path}")
