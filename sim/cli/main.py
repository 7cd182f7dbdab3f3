"""The `techsim` command line: thin click commands over the library.

Bad input (a scenario that does not load or validate, a bad option) prints one line
naming the file and field and exits with status 2, before anything is written.
"""

from __future__ import annotations

import click

from sim import __version__
from sim.cli.common import flag_option, range_option, resolve_scenario, stdout_console
from sim.cli.errors import BadInput, OneLineGroup
from sim.cli.experiment import MAX_REPS, ExperimentOptions, experiment_errors, experiment_options
from sim.config.load import ScenarioError, scenario_from_dict
from sim.config.precision import Precision, split_targets
from sim.config.scenario import Scenario
from sim.config.sizing import parse_target

EPILOG_RUN = """\b
Examples:
  techsim run                          # the bundled default (hvac), to its precision targets
  techsim run medical --reps 10        # a bundled scenario by name, 10 replications
  techsim run hvac --precision margin=20000,first_time_fix_rate=0.5pts --max-reps 60
  techsim run my.yaml --out results/my --workers 4
  techsim run hvac --scheduler tcp://10.0.0.5:8786   # on a Dask cluster
  techsim run hvac --size-to "sla_compliance>=0.9"  # each scheme's headcount for the SLA
  techsim run --resume --out results/hvac   # finish an interrupted run
"""


@click.group(cls=OneLineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="techsim")
def main() -> None:
    """techsim: compare technician pay schemes on a field-service simulation.

    \b
    Examples:
      techsim scenarios              # the bundled scenarios
      techsim run                    # run the default scenario, all its pay schemes
      techsim init hvac my.yaml      # a bundled scenario as a file to edit
      techsim validate my.yaml       # check a scenario file
      techsim run my.yaml            # run it
    """


@main.command(epilog=EPILOG_RUN)
@click.argument("scenario", required=False)
@experiment_options("scheme", "replications", "results/<scenario name>")
@click.option(
    "--report",
    "report_format",
    flag_value="html",
    default=None,
    help="Also build the compensation-proposal report (HTML) at the end.",
)
@flag_option(
    "--budget-neutral", help="First scale each scheme's variable pay to the baseline's mean pay."
)
@click.option(
    "--size-to",
    metavar="TARGET",
    default=None,
    help="Run each scheme with the smallest headcount meeting TARGET, e.g. "
    '"sla_compliance>=0.9" or "utilisation<=0.85" ("fixed": the scenario\'s headcount); '
    "overrides workforce.sizing.",
)
@click.option(
    "--precision",
    "precision_text",
    metavar="KPI=HALFWIDTH[,...]",
    default=None,
    help="Add replications in rounds until every scheme's paired difference against the "
    "baseline has a 95%% CI half-width at or below these, e.g. "
    '"margin=20000,first_time_fix_rate=0.5pts" ("off": the fixed --reps); overrides the '
    "scenario's precision.targets. --reps turns it off.",
)
@range_option(
    "--max-reps",
    low=3,
    high=MAX_REPS,
    help="The most replications --precision may run (default: precision.max_replications).",
)
def run(
    scenario: str | None,
    experiment: ExperimentOptions,
    report_format: str | None,
    budget_neutral: bool,
    size_to: str | None,
    precision_text: str | None,
    max_reps: int | None,
) -> None:
    """Run every pay scheme of SCENARIO (a file or a bundled name; default: hvac)."""
    from sim.cli.display import precision_line, sizing_lines, summary_tables
    from sim.experiment.budget import BudgetError
    from sim.experiment.executor import TaskFailed
    from sim.experiment.runner import PART_SUFFIX, run_scenario
    from sim.experiment.sizing import SizingError
    from sim.store.parts import Parts

    sc, path = resolve_scenario(scenario)
    if size_to is not None:
        sc = _sized_to(sc, size_to)
    precision = _precision(sc, path, precision_text, max_reps)
    out = experiment.out(sc.name, "")
    progress = experiment.progress(f"{sc.name}: replications")

    def kept() -> str:
        return (
            f"Interrupted: {Parts(out, PART_SUFFIX).count()} finished replications are kept "
            f"in {out}/parts; rerun with --resume --out {out} to finish."
        )

    if budget_neutral or sc.budget_neutral:
        progress.note("Finding budget-neutral pay factors (sim.experiment.budget)...")
    if sc.sizing_target is not None:
        progress.note(
            f"Sizing each scheme's workforce to {sc.sizing_target} (sim.experiment.sizing)..."
        )
    too_large = (
        f"while running {sc.name!r}: the scenario is too large for this machine; "
        f"finished replications are kept in {out}/parts"
    )
    with experiment_errors(progress, too_large, kept):
        try:
            res = run_scenario(
                sc,
                out,
                experiment.reps,
                experiment.execution(),
                progress.tick,
                progress.start,
                budget_neutral=budget_neutral,
                precision=precision,
            )
        except BudgetError as exc:
            raise BadInput(f"{path}: budget_neutral: {exc}") from None
        except SizingError as exc:
            where = "--size-to" if size_to is not None else f"{path}: workforce.sizing"
            raise BadInput(f"{where}: {exc}") from None
        except TaskFailed as exc:
            raise click.ClickException(
                f"{exc}; finished replications are kept in {out}/parts; rerun with --resume "
                f"--out {out} to run the rest"
            ) from None
    report_path = None
    if report_format:
        from sim.report.build import build_report

        report_path = build_report(out, report_format)
    bn = res.manifest.get("budget_neutral")
    if bn:
        factors = ", ".join(f"{k} x{v:.4f}" for k, v in bn["factors"].items())
        click.echo(
            f"Budget-neutral variable-pay factors (mean pay per tech-day "
            f"{bn['baseline_pay_per_tech_day']:.2f}, as under {res.manifest['baseline']}): "
            f"{factors}"
        )
    for line in sizing_lines(res.manifest.get("sizing"), res.summary):
        click.echo(line)
    if res.manifest.get("precision"):
        click.echo(precision_line(res.manifest["precision"]))
    if experiment.quiet:
        return
    con = stdout_console()
    t1, t2 = summary_tables(res.summary, f"{sc.name} ({res.manifest['replications']} replications)")
    con.print(t1)
    if t2 is not None:
        con.print(t2)
    con.print(f"Results written to {out}/ (wall time {res.manifest['wall_time_s']:.1f} s)")
    if report_path is not None:
        con.print(f"Report: {report_path}")


def _precision(
    sc: Scenario, path: object, text: str | None, max_reps: int | None
) -> Precision | None:
    """The precision of the run (None: the scenario's), from --precision and --max-reps;
    BadInput naming the option, or the scenario's field, for a bad target."""
    from sim.experiment.precision import PrecisionError, check_targets

    prec = sc.precision
    where = f"{path}: precision.targets"
    if text is not None:
        try:
            targets = split_targets(text)
        except ValueError as exc:
            raise BadInput(f"--precision: {exc}") from None
        prec = prec.model_copy(update={"targets": targets})
        where = "--precision"
    if max_reps is not None:  # the first round too, when it was larger
        first = min(prec.min_replications, max_reps)
        prec = prec.model_copy(update={"max_replications": max_reps, "min_replications": first})
    try:
        check_targets(prec.half_widths, dict(prec.targets))
    except PrecisionError as exc:
        raise BadInput(f"{where}: {exc}") from None
    return prec


def _sized_to(sc: Scenario, text: str) -> Scenario:
    """The scenario with `workforce.sizing` set to `text` (--size-to); BadInput if invalid."""
    try:
        parse_target(text)
    except ValueError as exc:
        raise BadInput(f"--size-to: {exc} (got {text!r})") from None
    data = sc.model_dump(mode="python")
    data["workforce"]["sizing"] = text
    try:
        return scenario_from_dict(data, "--size-to")
    except ScenarioError as exc:
        raise BadInput(str(exc)) from None


@main.command(
    epilog="\b\nExamples:\n  techsim validate scenarios/hvac.yaml\n  techsim validate medical"
)
@click.argument("scenario")
def validate(scenario: str) -> None:
    """Check a scenario file: exit 0 when valid, 2 with the first error otherwise."""
    sc, path = resolve_scenario(scenario)
    click.echo(
        f"{path}: valid scenario {sc.name!r} with schemes {', '.join(sc.schemes)} "
        f"(baseline {sc.baseline_scheme})"
    )


def _register() -> None:
    """Commands that live in their own modules (one module per command family)."""
    from sim.cli.calibrate import calibrate, export
    from sim.cli.optimise import optimise
    from sim.cli.report import plot, report
    from sim.cli.scenarios import init, scenarios
    from sim.cli.select import select
    from sim.cli.sweep import sensitivity, sweep
    from sim.cli.whatif import whatif

    for cmd in (
        scenarios, init, sweep, sensitivity, whatif, select, optimise, calibrate, export, plot,
        report,
    ):  # fmt: skip
        main.add_command(cmd)


_register()

if __name__ == "__main__":  # pragma: no cover
    main()
