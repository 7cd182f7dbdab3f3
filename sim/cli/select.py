"""`techsim select`: the best pay scheme of a scenario, with a stated guarantee.

A thin command over `sim.experiment.select.run_selection` (Kim and Nelson's KN,
`sim.metrics.ranking`).
"""

from __future__ import annotations

import click

from sim.cli.common import range_option, resolve_scenario, stdout_console
from sim.cli.errors import BadInput
from sim.cli.experiment import ExperimentOptions, experiment_errors, experiment_options
from sim.cli.objective import checked_objective, delta_option, objective_option, parsed_delta

EPILOG = """\b
Examples:
  techsim select hvac --objective margin --delta 25000
  techsim select hvac --objective first_time_fix_rate --delta 0.5pts --pcs 0.99
  techsim select my.yaml --objective value --delta 10000   # a named objective of my.yaml
  techsim select hvac --objective margin --delta 25000 --resume   # finish an interrupted one
"""


@click.command(epilog=EPILOG)
@click.argument("scenario", required=False)
@objective_option(
    "What 'best' means: a runs.csv KPI (its better side from the catalogue) or a "
    "weighted sum of KPIs named in the scenario's objectives:.",
    required=True,
)
@delta_option(
    "The indifference zone: the smallest difference in the objective worth telling "
    "apart, in its units ('0.5pts' for a share).",
    required=True,
)
@range_option(
    "--pcs",
    low=0.5,
    high=0.999,
    default=0.95,
    help="Probability of correct selection when the best is at least --delta better.",
)
@range_option(
    "--n0", low=5, high=1000, default=10, help="Replications of the first stage (every scheme)."
)
@range_option(
    "--max-reps",
    low=5,
    high=100_000,
    default=200,
    help="The most replications of any scheme; schemes left at the cap are reported unseparated.",
)
@experiment_options("selection", "replications", "results/<scenario name>/select", reps=False)
def select(
    scenario: str | None,
    objective: str,
    delta_text: str,
    pcs: float,
    n0: int,
    max_reps: int,
    experiment: ExperimentOptions,
) -> None:
    """Select the best pay scheme of SCENARIO (default: hvac) by OBJECTIVE, with a
    guarantee (Kim and Nelson's fully sequential procedure, common random numbers)."""
    from sim.experiment.executor import TaskFailed
    from sim.experiment.select import run_selection

    sc, path = resolve_scenario(scenario)
    obj = checked_objective(sc, objective)
    delta = parsed_delta(delta_text)
    if delta_text.strip().endswith("pts") and (obj.kpi is None or not _is_share(obj.kpi)):
        raise BadInput(f"--delta: 'pts' is for shares, and {obj.name} is not one")
    if max_reps < n0:
        raise BadInput(f"--max-reps: must be at least --n0 ({n0}), got {max_reps}")
    if len(sc.schemes) < 2:
        raise BadInput(f"{path}: schemes: selection needs at least two schemes")
    out = experiment.out(sc.name, "/select")
    progress = experiment.progress(f"{sc.name}: selection replications")
    progress.start(max_reps, 0)  # the cap: the procedure usually stops well before

    def kept() -> str:
        return (
            f"Interrupted: finished replications are kept in {out}/parts; rerun with "
            f"--resume --out {out} to finish."
        )

    too_large = f"while selecting in {sc.name!r}: the scenario is too large for this machine"
    with experiment_errors(progress, too_large, kept):
        try:
            res = run_selection(
                sc,
                out,
                objective,
                delta,
                None,
                pcs,
                n0,
                max_reps,
                execution=experiment.execution(),
                on_done=progress.tick,
            )
        except TaskFailed as exc:
            raise click.ClickException(
                f"{exc}; finished replications are kept in {out}/parts; rerun with --resume "
                f"--out {out}"
            ) from None
    sel = res.manifest["selection"]
    click.echo(sel["guarantee"])
    if experiment.quiet:
        return
    con = stdout_console()
    con.print(res.table.to_string(index=False))
    con.print(f"Results written to {out}/ (wall time {res.manifest['wall_time_s']:.1f} s)")


def _is_share(kpi: str) -> bool:
    from sim.metrics.catalogue import KPIS

    return KPIS[kpi].kind == "pct"
