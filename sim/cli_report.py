"""`techsim plot` and `techsim report`: figures and the compensation-proposal report.

Thin commands over `sim.plots.write_plots` and `sim.report.write_report`. A directory that
is not a results directory is bad input: one line naming it, exit status 2, nothing written.
"""

from __future__ import annotations

from pathlib import Path

import click

from sim.errors import BadInput

# The same tuples as sim.plots.FORMATS, sim.report.FORMATS and PDF_ENGINES (a test pins
# them): spelled out so that `techsim --help` does not import matplotlib and scipy.
PLOT_FORMATS = ("png", "svg", "pdf")
REPORT_FORMATS = ("html", "pdf")
PDF_ENGINES = ("auto", "chromium", "matplotlib")


def _check(results: Path) -> None:
    """Fail before anything is written when RESULTS is not a readable results directory."""
    from sim.plots import ResultsError, load_results

    try:
        load_results(results)
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
"""


@click.command(epilog=EPILOG_PLOT)
@click.argument("results", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(PLOT_FORMATS), default="png",
              show_default=True, help="File format of the figures.")
def plot(results: Path, fmt: str) -> None:
    """Figures of a results directory (a run or a sweep) into RESULTS/plots/."""
    from sim.plots import ResultsError, write_plots

    _check(results)
    try:
        paths = write_plots(results, fmt)
    except ResultsError as exc:
        raise BadInput(str(exc)) from None
    click.echo(f"{len(paths)} figures written to {results / 'plots'}/:")
    for p in paths:
        click.echo(f"  {p.name}")


@click.command(epilog=EPILOG_REPORT)
@click.argument("results", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(REPORT_FORMATS), default="html",
              show_default=True, help="html: one self-contained file; pdf: the same content.")
@click.option("--pdf-engine", type=click.Choice(PDF_ENGINES), default="auto", show_default=True,
              help="auto: headless Chromium when on PATH, else matplotlib.")
def report(results: Path, fmt: str, pdf_engine: str) -> None:
    """The compensation-proposal report of RESULTS, written into RESULTS/."""
    from sim.plots import ResultsError
    from sim.report import write_report

    _check(results)
    try:
        out = write_report(results, fmt, pdf_engine)
    except ResultsError as exc:
        raise BadInput(str(exc)) from None
    except RuntimeError as exc:  # --pdf-engine chromium without a working Chromium
        raise click.ClickException(str(exc)) from None
    if out.note:
        click.echo(out.note, err=True)
    click.echo(f"Report: {out.path}")
