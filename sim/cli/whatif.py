"""`techsim whatif`: which unsourced assumptions could change the comparison's answer.

A thin command over `sim.sweep.whatif.run_whatif` (the screening and the scan) and
`sim.plots.whatif.write_tornado` (the figure); the registry of assumptions is
`sim.config.assumptions`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from sim.cli.common import F, flag_option, note, range_option, resolve_scenario, stdout_console
from sim.cli.errors import BadInput
from sim.cli.experiment import (
    MAX_REPS,
    ExperimentOptions,
    TaskProgress,
    experiment_options,
    interrupted,
    sigterm_as_interrupt,
)

if TYPE_CHECKING:
    import pandas as pd

    from sim.config.assumptions import Assumption

# The defaults of sim.sweep.whatif (a test pins them), spelled out so that `techsim --help`
# does not import pandas.
DEFAULTS = {
    "scheme": "outcome_weighted",
    "against": "jobs_per_day",
    "kpi": "margin",
    "trajectories": 4,
    "reps": 4,
    "top": 8,
    "points": 5,
}

EPILOG = """\b
Examples:
  techsim whatif                       # hvac: outcome_weighted against jobs_per_day on margin
  techsim whatif hvac --trajectories 4 --reps 2 --workers 2
  techsim whatif my.yaml --scheme hourly --kpi retention_rate
  techsim whatif hvac -a time_and_materials.revenue_per_job -a workforce.cost_per_visit=100:400
  techsim whatif --list                # the registry: every assumption, its range and why
  techsim whatif hvac --resume         # finish an interrupted analysis
  techsim report results/hvac          # the report then has "What would change this conclusion"
"""


def _analysis_option(
    name: str, help: str, kind: click.IntRange | None = None, dest: str | None = None
) -> Callable[[F], F]:
    """--NAME with sim.sweep.whatif's default, DEFAULTS[NAME], shown in --help; a bounded
    integer when `kind` says so, else text."""
    decls = (f"--{name}", dest) if dest else (f"--{name}",)
    return click.option(*decls, type=kind, default=DEFAULTS[name], show_default=True, help=help)


@click.command(epilog=EPILOG)
@click.argument("scenario", required=False)
@_analysis_option("scheme", "The scheme whose advantage is questioned.")
@_analysis_option("against", "The scheme it is compared with (paired, common random numbers).")
@_analysis_option("kpi", "The KPI whose difference (scheme minus against) is analysed.")
@click.option(
    "--assumption",
    "-a",
    "assumptions",
    multiple=True,
    metavar="PATH[=lo:hi]",
    help="Screen only these assumptions of the registry (repeat); =lo:hi sets "
    "the range (needed for a path outside the registry).",
)
@_analysis_option(
    "trajectories",
    "Morris trajectories of the screening (N(D+1) points for D assumptions).",
    click.IntRange(min=2, max=1000),
)
@_analysis_option(
    "top", "Assumptions scanned one at a time, by mu*.", click.IntRange(min=1, max=1000)
)
@_analysis_option("points", "Values over each scanned range.", click.IntRange(min=2, max=101))
@_analysis_option(
    "reps",
    "Replications per point of the screening.",
    click.IntRange(min=2, max=MAX_REPS),
    "screening_reps",
)
@range_option(
    "--scan-reps",
    low=2,
    high=MAX_REPS,
    help="Replications per value of the scans (default: --reps).",
)
@flag_option(
    "--list", "list_only", help="Print the registry resolved against SCENARIO (Markdown) and stop."
)
@experiment_options(
    "point",
    "tasks",
    "results/<scenario name>/whatif, where the report of that run finds it",
    reps=False,
)
def whatif(
    scenario: str | None,
    scheme: str,
    against: str,
    kpi: str,
    assumptions: tuple[str, ...],
    trajectories: int,
    top: int,
    points: int,
    screening_reps: int,
    scan_reps: int | None,
    list_only: bool,
    experiment: ExperimentOptions,
) -> None:
    """Screen SCENARIO's unsourced assumptions for what could flip a comparison.

    A Morris screening over every assumption's plausible range of the paired difference
    SCHEME minus AGAINST in KPI, then the most influential assumptions one at a time over
    their ranges, with the values where the difference changes sign. Writes whatif.csv,
    whatif_scan.csv, whatif.json and the tornado whatif.png into --out (the two sweeps in
    its screening/ and scan/ folders, resumable).
    """
    from sim.config.load import scenario_to_dict
    from sim.experiment.executor import BackendError
    from sim.experiment.guard import ResourceError
    from sim.store.outdir import OutDirError
    from sim.store.parts import ResumeError
    from sim.store.whatif import WhatIfError
    from sim.sweep.params import SweepInputError
    from sim.sweep.runner import SweepFailed
    from sim.sweep.sensitivity import SensitivityError
    from sim.sweep.whatif import WhatIfInputError, run_whatif, select_assumptions
    from sim.sweep.whatif_tables import Comparison

    sc, _ = resolve_scenario(scenario)
    try:
        chosen = select_assumptions(list(assumptions))
    except WhatIfInputError as exc:
        raise BadInput(str(exc)) from None
    if list_only:
        _print_registry(chosen, scenario_to_dict(sc))
        return
    out = experiment.out(sc.name, "/whatif")
    bars: dict[str, TaskProgress] = {}

    def on_start(stage: str, total: int, done: int) -> None:
        for b in bars.values():
            b.stop()
        bars[stage] = experiment.progress(f"{sc.name} what-if, {stage}: tasks")
        bars[stage].start(total, done)

    def on_task(stage: str, ok: bool) -> None:
        bars[stage].advance(ok)

    def stop() -> None:
        for b in bars.values():
            b.stop()

    with sigterm_as_interrupt():
        try:
            res = run_whatif(
                sc, out, Comparison(scheme, against, kpi), chosen, trajectories, top, points,
                screening_reps, scan_reps, experiment.seed, experiment.workers,
                experiment.scheduler, experiment.resume, experiment.force,
                experiment.connect_timeout, on_start, on_task, note,
            )  # fmt: skip
        except (
            WhatIfInputError, SweepInputError, WhatIfError, ResumeError, BackendError,
            OutDirError, ResourceError, SensitivityError,
        ) as exc:  # fmt: skip
            raise BadInput(str(exc)) from None
        except SweepFailed as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt as exc:
            progress = next(reversed(bars.values()), TaskProgress(True, ""))
            interrupted(
                progress,
                f"Interrupted: finished tasks are kept in {out}/; rerun the same command "
                "with --resume to finish.",
                exc,
            )
        finally:
            stop()
    from sim.plots.whatif import write_tornado

    fig = write_tornado(out)
    if experiment.quiet:
        return
    _print_result(res.table, res.meta)
    m = res.meta
    click.echo(
        f"{len(res.table)} assumptions screened ({m['method']['screening']}), "
        f"{int((res.table['scanned'] == 'yes').sum())} scanned ({m['scan_replications']} "
        f"replications per value), in {m['wall_time_s']:.0f} s"
    )
    click.echo(f"Results written to {out}/" + (f" (figure {fig.name})" if fig else ""))


def _v(v: float) -> str:
    return "" if isinstance(v, float) and math.isnan(v) else f"{v:,.4g}"


def _print_registry(chosen: list[Assumption], data: dict[str, Any]) -> None:
    """The registry resolved against the scenario, as a Markdown table (docs/model.md)."""
    from sim.config.assumptions import resolve

    ok, skipped = resolve(chosen, data)
    click.echo("| assumption | value | plausible range | why this range |")
    click.echo("|---|---|---|---|")
    for r in ok:
        click.echo(f"| `{r.path}` | {r.base:g} | {r.low:.4g} to {r.high:.4g} | {r.why} |")
    for path, why in skipped:
        click.echo(f"| `{path}` | - | skipped | {why} |")


def _print_result(table: pd.DataFrame, meta: dict[str, Any]) -> None:
    from rich.table import Table

    from sim.metrics.catalogue import KPIS, fmt

    k = KPIS[meta["kpi"]]
    t = Table(
        title=f"What would change the answer: {k.label}, {meta['scheme']} minus "
        f"{meta['against']} (base {fmt(meta['base']['diff_mean'], k.kind)})",
        title_justify="left",
    )
    for c in ("assumption", "range", "mu*", "at low", "at high", "flips at"):
        t.add_column(c, justify="left" if c == "assumption" else "right")
    for _, r in table.iterrows():
        scanned = r["scanned"] == "yes"
        flip = ""
        if scanned and r["flips"] == "yes":
            flip = _v(r["flip_value"]) + ("" if r["flip_ci_excludes_zero"] == "yes" else " (n.s.)")
        t.add_row(
            str(r["path"]),
            f"{_v(r['low'])} to {_v(r['high'])}",
            fmt(r["mu_star"], k.kind),
            fmt(r["diff_low"], k.kind) if scanned else "",
            fmt(r["diff_high"], k.kind) if scanned else "",
            flip,
        )
    stdout_console().print(t)
