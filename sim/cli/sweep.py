"""`techsim sweep` and `techsim sensitivity`: thin commands over `sim.sweep.runner` and
`sim.sweep.sensitivity`."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sim.cli.common import (
    choice_option,
    flag_option,
    note,
    range_option,
    resolve_scenario,
    stdout_console,
)
from sim.cli.errors import BadInput
from sim.cli.experiment import ExperimentOptions, experiment_errors, experiment_options
from sim.metrics.catalogue import SENSITIVITY_KPIS
from sim.sweep.design import DEFAULT_SAMPLES, DESIGNS

if TYPE_CHECKING:
    import pandas as pd
    from rich.table import Table

EPILOG_SWEEP = """\b
VALUES: a list a,b,c; a range lo:hi:n (linear) or lo:hi:n:log (grid);
        lo:hi or lo:hi:log, the bounds of the sampled designs (lhs, sobol, morris).
\b
Examples:
  techsim sweep hvac -p schemes.hybrid.weight=0:1:5 --reps 10
  techsim sweep hvac -p schemes.outcome_weighted.per_first_time_fix=0,20,40,60 \\
      -p customers.churn_per_problem.unresolved=0.15,0.25,0.35
  techsim sweep hvac --design sobol --samples 32 -p quality.skill_effect=0.2:0.6 \\
      -p workforce.technicians=34:46 -p nps.relational_detractor=0.05:0.2
  techsim sweep hvac -p workforce.technicians=30:50:5 --scheduler tcp://10.0.0.5:8786
  techsim sweep hvac -p workforce.technicians=30:50:5 --resume   # finish an interrupted sweep
"""


def _value(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def short_names(paths: list[str]) -> list[str]:
    """The shortest distinct dotted suffix of each path (table headers)."""
    for k in range(1, max((p.count(".") + 1 for p in paths), default=1) + 1):
        names = [".".join(p.split(".")[-k:]) for p in paths]
        if len(set(names)) == len(names):
            return names
    return list(paths)


@click.command(epilog=EPILOG_SWEEP)
@click.argument("scenario", required=False)
@click.option(
    "--param",
    "-p",
    "params",
    multiple=True,
    required=True,
    metavar="PATH=VALUES",
    help="A scenario field by dotted path and its values (repeat for more).",
)
@choice_option(
    "--design", None, DESIGNS, "grid",
    "grid crosses the values; lhs, sobol, morris draw points in the ranges.",
)  # fmt: skip
@click.option(
    "--samples",
    type=int,
    default=None,
    help="lhs: points; sobol: base samples N (a power of 2; N*(D+2) points); "
    "morris: trajectories (N*(D+1) points). Default "
    + ", ".join(f"{k} {v}" for k, v in DEFAULT_SAMPLES.items())
    + ".",
)
@experiment_options("point and scheme", "tasks", "results/<scenario name>-sweep")
@range_option(
    "--reps-per-task",
    "chunk",
    low=1,
    help="Replications per task (default: about 2 s of work per task).",
)
@flag_option(
    "--rebalance-shares",
    help="When a job-type or tier share is swept, rescale the other shares of its "
    "group so they still add up to 1.",
)
def sweep(
    scenario: str | None,
    params: tuple[str, ...],
    design: str,
    samples: int | None,
    experiment: ExperimentOptions,
    chunk: int | None,
    rebalance_shares: bool,
) -> None:
    """Run every scheme of SCENARIO at every point of a parameter design.

    SCENARIO is a file or a bundled name (default: hvac). Writes runs.parquet,
    summary.parquet, summary.csv and manifest.json into --out; finished tasks are kept
    in --out/parts, so an interrupted sweep continues with --resume.
    """
    from sim.sweep.chunks import Chunk
    from sim.sweep.design import make_design
    from sim.sweep.params import SweepInputError
    from sim.sweep.runner import SweepFailed, run_sweep

    sc, _ = resolve_scenario(scenario)
    seed = sc.seed if experiment.seed is None else experiment.seed
    try:
        dsg = make_design(sc, list(params), design, samples, seed, rebalance_shares)
    except SweepInputError as exc:
        raise BadInput(str(exc)) from None
    out = experiment.out(sc.name, "-sweep")
    progress = experiment.progress(f"{sc.name} sweep: tasks")

    def on_task(_chunk: Chunk, ok: bool) -> None:
        progress.advance(ok)

    def kept() -> str:
        return (
            f"Interrupted: {progress.done} of {progress.total} tasks finished and kept "
            f"in {out}/parts; rerun the same command with --resume to finish."
        )

    too_large = (
        f"while running the sweep: it is too large for this machine; "
        f"finished tasks are kept in {out}/parts"
    )
    with experiment_errors(progress, too_large, kept):
        try:
            res = run_sweep(
                sc,
                dsg,
                out,
                experiment.reps,
                seed,
                experiment.workers,
                experiment.scheduler,
                experiment.resume,
                chunk,
                progress.start,
                on_task,
                force=experiment.force,
                on_note=note,
                connect_timeout=experiment.connect_timeout,
            )
        except SweepInputError as exc:
            raise BadInput(str(exc)) from None
        except SweepFailed as exc:
            raise click.ClickException(str(exc)) from None
    if experiment.quiet:
        return
    con = stdout_console()
    con.print(_extremes_table(res.summary, dsg.paths))
    m = res.manifest
    n_reps = m["replications"]
    con.print(
        f"{m['n_points']} points x {len(m['schemes'])} schemes x {n_reps} replications "
        f"({len(m['tasks'])} tasks, {m['resumed_tasks']} resumed) in "
        f"{m['wall_time_s']:.1f} s on {m['executor']['workers']} "
        f"{'Dask threads' if m['executor']['kind'] == 'dask' else 'local workers'}"
    )
    con.print(f"Results written to {out}/")


def _extremes_table(summary: pd.DataFrame, paths: list[str]) -> Table:
    """Best and worst (point, scheme) for each main KPI, with the point's parameters."""
    from rich.table import Table

    from sim.cli.display import half_width
    from sim.metrics.catalogue import KPIS, fmt
    from sim.sweep.tables import extremes

    t = Table(
        title="Best and worst points (mean over replications ± 95% CI half-width)",
        title_justify="left",
    )
    for c in ("KPI", "", "mean ± CI", "scheme", "point"):
        t.add_column(c, justify="right" if c in ("mean ± CI", "point") else "left")
    for c in short_names(list(paths)):
        t.add_column(c, justify="right")
    ext = extremes(summary)
    for kpi in dict.fromkeys(ext["kpi"]) if len(ext) else []:
        k = KPIS[kpi]
        for which in ("best", "worst"):
            r = ext[(ext["kpi"] == kpi) & (ext["which"] == which)].iloc[0]
            h = half_width(r["ci_low"], r["ci_high"], k.kind)
            t.add_row(
                k.label if which == "best" else "",
                which,
                f"{fmt(r['mean'], k.kind)} ± {h}",
                str(r["scheme"]),
                f"{r['point']}" + (f" (+{r['ties']} tied)" if r["ties"] else ""),
                *(_value(r[p]) for p in paths),
                end_section=which == "worst",
            )
    return t


@click.command(
    epilog="""\b
Examples:
  techsim sensitivity results/hvac-sweep
  techsim sensitivity results/hvac-sweep --kpi margin --kpi retention_rate --scheme hybrid
  techsim sensitivity results/hvac-sweep --diff    # what drives each scheme's advantage
"""
)
@click.argument("results", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--kpi",
    "kpis",
    multiple=True,
    help="A KPI to analyse (repeat; default: " + ", ".join(k.name for k in SENSITIVITY_KPIS) + ").",
)
@click.option(
    "--scheme",
    "schemes",
    multiple=True,
    help="A scheme to analyse (repeat; default: every scheme).",
)
@flag_option(
    "--diff", help="Analyse the paired difference against the baseline instead of the mean."
)
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the table (default: RESULTS/sensitivity.csv).",
)
@flag_option("--quiet", "-q", help="Write the file, print nothing.")
def sensitivity(
    results: Path,
    kpis: tuple[str, ...],
    schemes: tuple[str, ...],
    diff: bool,
    out_file: Path | None,
    quiet: bool,
) -> None:
    """Sobol (S1, ST) or Morris (mu*, sigma) indices per KPI of a sobol/morris sweep.

    The output of a point is the KPI's mean over its replications for each scheme (or,
    with --diff, the mean paired difference against the baseline scheme).
    """
    from rich.table import Table

    from sim.metrics.catalogue import KPIS
    from sim.store.files import write_csv
    from sim.store.outdir import OutDirError, check_out_file
    from sim.sweep.sensitivity import SensitivityError, analyse, columns

    try:
        method, table = analyse(results, list(kpis), list(schemes), "diff" if diff else "mean")
    except SensitivityError as exc:
        raise BadInput(str(exc)) from None
    path = out_file or results / "sensitivity.csv"
    try:
        check_out_file(path, ",".join(columns(method)[:3]))
        write_csv(path, table)
    except OutDirError as exc:
        raise BadInput(str(exc)) from None
    except OSError as exc:
        raise BadInput(f"{path}: cannot be written ({exc.strerror})") from None
    if quiet:
        return
    con = stdout_console()

    def pm(v: float, c: float) -> str:
        if math.isnan(v):
            return "n/a"
        return f"{v:.3f} ± {c:.3f}" if method == "sobol" else f"{v:.4g} ± {c:.2g}"

    what = "paired difference against the baseline" if diff else "mean over replications"
    for scheme, sdf in table.groupby("scheme", sort=False):
        t = Table(
            title=f"{method.capitalize()} indices, {scheme} ({what}; ± 95% CI)",
            title_justify="left",
        )
        for c in ("KPI", "parameter"):
            t.add_column(c)
        heads = ("S1", "ST") if method == "sobol" else ("mu*", "sigma")
        for c in heads:
            t.add_column(c, justify="right")
        notes = sdf["note"].fillna("").astype(str).str.len().gt(0).any()
        if notes:
            t.add_column("note")
        for kpi, kdf in sdf.groupby("kpi", sort=False):
            key = "ST" if method == "sobol" else "mu_star"
            kdf = kdf.sort_values(key, ascending=False, na_position="last")
            for k, (_, r) in enumerate(kdf.iterrows()):
                if method == "sobol":
                    vals = [pm(r["S1"], r["S1_conf"]), pm(r["ST"], r["ST_conf"])]
                else:
                    vals = [
                        pm(r["mu_star"], r["mu_star_conf"]),
                        "n/a" if math.isnan(r["sigma"]) else f"{r['sigma']:.3g}",
                    ]
                note = [str(r["note"]) if isinstance(r["note"], str) else ""] if notes else []
                t.add_row(
                    KPIS[str(kpi)].label if k == 0 else "",
                    r["parameter"],
                    *vals,
                    *note,
                    end_section=k == len(kdf) - 1,
                )
        con.print(t)
    con.print(f"Written to {path}")
