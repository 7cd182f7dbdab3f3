"""`techsim optimise`: the coefficients of a scheme family that maximise an objective under
a pay budget and a limit on losers, re-evaluated against every scheme with a guarantee.

A thin command over `sim.experiment.optimise.run_optimise` (Optuna's TPE with constraints,
then Kim and Nelson's selection); the trade-off figure is `sim.plots.optimise`.
"""

from __future__ import annotations

from collections.abc import Callable

import click

from sim.cli.common import F, range_option, resolve_scenario, stdout_console
from sim.cli.errors import BadInput
from sim.cli.experiment import ExperimentOptions, experiment_errors, experiment_options
from sim.cli.objective import checked_objective, delta_option, objective_option, parsed_delta

EPILOG = """\b
Examples:
  techsim optimise hvac --family outcome_weighted --objective margin
  techsim optimise hvac --family custom --bound per_first_time_fix=0:120 --bound base_per_day=80:200
  techsim optimise hvac --family outcome_weighted --max-pay-change 0 --max-losers 0.1 --trials 60
  techsim optimise hvac --family outcome_weighted --resume   # finish an interrupted search
"""


def _percent(ctx: click.Context, param: click.Parameter, value: float) -> float:
    return value / 100.0


def _percent_option(flag: str, default: float, help: str) -> Callable[[F], F]:
    """A limit given in percent, PCT from 0 to 100 (the default shown), received as a share."""
    return range_option(
        flag, low=0, high=100, default=default, callback=_percent, metavar="PCT", help=help
    )


@click.command(epilog=EPILOG)
@click.argument("scenario", required=False)
@click.option(
    "--family",
    required=True,
    metavar="TYPE",
    help="The scheme type whose coefficients are searched (its first scheme in "
    "the scenario is the template).",
)
@objective_option(
    "What to maximise: a runs.csv KPI or a named objective of the scenario.",
    default="margin",
    show_default=True,
)
@click.option(
    "--bound",
    "bound_texts",
    multiple=True,
    metavar="NAME=LOW:HIGH",
    help="A coefficient to search and its range (repeat; default: every non-zero "
    "coefficient of the template, from 0 to twice its value).",
)
@_percent_option("--max-pay-change", 5.0, "Mean pay per tech-day within +-PCT% of the baseline's.")
@range_option(
    "--max-losers",
    low=0,
    high=1,
    default=0.2,
    metavar="SHARE",
    help="At most this share of technicians losing more than --loss-threshold.",
)
@_percent_option(
    "--loss-threshold", 10.0, "A loser is paid more than PCT% less than under the baseline."
)
@range_option("--trials", low=1, high=10_000, default=40)
@range_option(
    "--reps",
    "reps_per_trial",
    low=2,
    high=1000,
    default=5,
    help="Replications per trial (the same for every trial).",
)
@range_option(
    "--top",
    low=1,
    high=20,
    default=3,
    help="Feasible trials re-evaluated against the scenario's schemes.",
)
@delta_option(
    "Indifference zone of that re-evaluation (default: 0.5% of the baseline's objective).",
    default=None,
)
@experiment_options("optimisation", "trials", "results/<scenario name>/optimise", reps=False)
def optimise(
    scenario: str | None,
    family: str,
    objective: str,
    bound_texts: tuple[str, ...],
    max_pay_change: float,
    max_losers: float,
    loss_threshold: float,
    trials: int,
    reps_per_trial: int,
    top: int,
    delta_text: str | None,
    experiment: ExperimentOptions,
) -> None:
    """Optimise the pay formula of a scheme family in SCENARIO (default: hvac)."""
    from sim.experiment.executor import TaskFailed
    from sim.experiment.family import OptimiseError, default_bounds
    from sim.experiment.optimise import Limits, run_optimise
    from sim.plots.optimise import write_tradeoff

    sc, _path = resolve_scenario(scenario)
    checked_objective(sc, objective)
    bounds = {}
    for text in bound_texts:
        name, _, rng = text.partition("=")
        lo, _, hi = rng.partition(":")
        try:
            bounds[name.strip()] = (float(lo), float(hi))
        except ValueError:
            raise BadInput(f"--bound: expected NAME=LOW:HIGH, got {text!r}") from None
    try:
        default_bounds(sc, family, bounds)
    except OptimiseError as exc:
        where = "--family" if "scheme type" in str(exc) else "--bound"
        raise BadInput(f"{where}: {exc}") from None
    delta = None if delta_text is None else parsed_delta(delta_text)
    out = experiment.out(sc.name, "/optimise")
    progress = experiment.progress(f"{sc.name}: trials")
    progress.start(trials, 0)

    def kept() -> str:
        return (
            f"Interrupted: finished trials are kept in {out}/parts; rerun with --resume "
            f"--out {out}."
        )

    limits = Limits(max_pay_change, max_losers, loss_threshold)
    with experiment_errors(progress, f"while optimising {sc.name!r}", kept):
        try:
            res = run_optimise(
                sc, out, family, objective, limits, trials, reps_per_trial, bounds, top, delta,
                execution=experiment.execution(), on_trial=progress.tick,
            )  # fmt: skip
        except TaskFailed as exc:
            raise click.ClickException(f"{exc}; rerun with --resume --out {out}") from None
    write_tradeoff(out, res.manifest)
    info = res.manifest["optimise"]
    click.echo(f"{info['feasible_trials']} of {trials} trials feasible.")
    sel = info.get("selection")
    if sel:
        click.echo(sel["guarantee"])
    if res.scheme is not None:
        click.echo(f"Optimised scheme (also in {out}/optimised.yaml): {res.scheme}")
    elif info.get("winner"):
        click.echo(f"No optimised formula beat {info['winner']} in the re-evaluation.")
    else:
        click.echo("No trial met the constraints: loosen them or widen the bounds.")
    if not experiment.quiet:
        stdout_console().print(f"Results written to {out}/")
