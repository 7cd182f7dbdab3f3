"""`techsim run` as a library call: run, summarise and write the result files.

Part files (`sim.store.parts`): each finished replication is written at once to
`parts/rep-NNNNN.json` (atomically; JSON with a header holding its schema, row count and
SHA-256, never a pickle), so an interrupted run keeps its finished work and `resume=True`
runs only the missing replications of the same run (same scenario, --reps and --seed,
recorded in `parts/experiment.json`). A damaged part is reported (`on_note`) and run
again. The tables are assembled from all the replications in a fixed order, so a resumed
run gives the same files as an uninterrupted one. The manifest records the row count and
SHA-256 of every result file and part ("checksums"), which `sim.store.results` checks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.config.precision import Precision
from sim.config.scenario import Scenario
from sim.experiment.budget import neutralise
from sim.experiment.execution import DEFAULT_EXECUTION, Execution
from sim.experiment.executor import Backend, execute
from sim.experiment.precision import Width, check_targets, sequential, widths
from sim.experiment.regions import combine_regions
from sim.experiment.sizing import size_workforce
from sim.experiment.tasks import (
    RUN_ID_COLUMNS,
    ExperimentResult,
    ReplicationTask,
    TaskResult,
    assemble,
    steady_pilots,
    tasks_for,
    with_pilots,
)
from sim.metrics.catalogue import BASES
from sim.metrics.kpis import BEHAVIOUR_COLUMNS, KPI_COLUMNS, TECH_COLUMNS, WEEK_COLUMNS
from sim.metrics.stats import summarise
from sim.store.files import manifest, now_iso, write_csv, write_json
from sim.store.parts import (
    PartError,
    ResumeError,
    decode_part,
    encode_part,
    file_record,
    json_hash,
    scenario_hash,
    start_parts,
)

#: What identifies a run on --resume, and how a change is named in the refusal.
RUN_IDENTITY = {
    "scenario_hash": "the scenario",
    "replications": "--reps",
    "seed": "--seed",
    "precision": "--precision or --max-reps",
}
PART_SUFFIX = ".json"
#: The tables of a replication's part, and the columns each may hold.
PART_TABLES = {
    "runs": (*RUN_ID_COLUMNS, *KPI_COLUMNS),
    "technicians": (*RUN_ID_COLUMNS, *TECH_COLUMNS),
    "weeks": (*RUN_ID_COLUMNS, *WEEK_COLUMNS),
    "behaviour": (*RUN_ID_COLUMNS, *BEHAVIOUR_COLUMNS),
}
_SCALARS = (str, int, float, bool, type(None))


def part_bytes(task: ReplicationTask, result: TaskResult) -> bytes:
    """A replication's rows as a part file: per table, its columns and rows of values (a
    region's part also its region and the bases of its runs rows)."""
    body: dict[str, Any] = {"replication": result.replication}
    if task.region is not None:
        body["region"] = task.region
        body["bases"] = {
            "columns": list(BASES),
            "rows": [[b[c] for c in BASES] for b in result.bases],
        }
    for name in PART_TABLES:
        rows: list[dict[str, Any]] = getattr(result, name)
        cols = list(dict.fromkeys(k for r in rows for k in r))
        body[name] = {"columns": cols, "rows": [[r.get(c) for c in cols] for r in rows]}
    return encode_part(task.key, body)


def read_part(path: Path, task: ReplicationTask) -> TaskResult:
    """The replication in the part file at `path`; PartError naming the file when it is
    damaged or does not hold this replication's tables."""
    body = decode_part(path, task.key)
    if body.get("replication") != task.replication:
        raise PartError(f"{path}: replication: not {task.replication}")
    if body.get("region") != task.region:
        raise PartError(f"{path}: region: not {task.region}")
    res = TaskResult(replication=task.replication, region=task.region)
    if task.region is not None:
        bases = body.get("bases")
        if not isinstance(bases, dict) or bases.get("columns") != list(BASES):
            raise PartError(f"{path}: bases: missing or not {', '.join(BASES)}")
        rows = bases.get("rows")
        if not isinstance(rows, list) or not all(
            isinstance(r, list)
            and len(r) == len(BASES)
            and all(isinstance(x, (int, float)) for x in r)
            for r in rows
        ):
            raise PartError(f"{path}: bases: a row does not match the columns")
        res.bases = [dict(zip(BASES, (float(x) for x in r))) for r in rows]
    for name, allowed in PART_TABLES.items():
        table = body.get(name)
        if not isinstance(table, dict):
            raise PartError(f"{path}: {name}: missing")
        cols, rows = table.get("columns"), table.get("rows")
        if not isinstance(cols, list) or not isinstance(rows, list):
            raise PartError(f"{path}: {name}: columns and rows must be lists")
        unknown = [c for c in cols if c not in allowed]
        if unknown:
            raise PartError(f"{path}: {name}: unknown column {unknown[0]!r}")
        n = len(cols)
        for row in rows:
            if not (isinstance(row, list) and len(row) == n) or not all(
                isinstance(v, _SCALARS) for v in row
            ):
                raise PartError(f"{path}: {name}: a row does not match the columns")
        getattr(res, name).extend(dict(zip(cols, row)) for row in rows)
    if task.region is not None and len(res.bases) != len(res.runs):
        raise PartError(f"{path}: bases: one row per runs row")
    return res


@dataclass
class RunOutput:
    result: ExperimentResult
    summary: pd.DataFrame
    out_dir: Path
    manifest: dict[str, Any]


def run_scenario(
    scenario: Scenario,
    out_dir: str | Path,
    replications: int | None = None,
    execution: Execution = DEFAULT_EXECUTION,
    on_done: Callable[[TaskResult], None] | None = None,
    on_start: Callable[[int, int], None] | None = None,
    budget_neutral: bool = False,
    precision: Precision | None = None,
) -> RunOutput:
    """Run every scheme x replication, write the result files into `out_dir`.

    Replications: `replications` when given; else, with precision targets (`precision`, or
    the scenario's `precision:` when None), rounds of replications until every paired
    difference is that precise (`sim.experiment.precision`; PrecisionError for a target that
    names no KPI); else the scenario's `replications`.

    Tasks run where `execution` says (`sim.experiment.execution`); the backend is reached
    before anything is written (BackendError). With `budget_neutral` (or the scenario's
    `budget_neutral: true`) every non-baseline scheme's variable pay is first scaled to the
    baseline's mean pay on the same backend (`sim.experiment.budget`); the factors go into
    the scenario's `pay_scale` and the manifest's "budget_neutral". With a
    sizing target (`workforce.sizing`), each scheme's smallest headcount meeting it is then
    found on the same backend (`sim.experiment.sizing`, with the budget-neutral factors
    found at the nominal headcount); the headcounts go into the scenario's `headcount` and
    the manifest's "sizing".

    The resource guard (`sim.experiment.guard`, ResourceError) and `out_dir`
    (`sim.store.outdir.check_out_dir`, OutDirError) are checked first: an experiment too
    large for this machine, and a folder of another scenario's results, are refused unless
    `execution.force`."""
    seed = execution.seed_for(scenario)
    prec: Precision | None = scenario.precision if precision is None else precision
    if replications is not None or prec is None or not prec.on:
        prec = None
    else:
        check_targets(prec.half_widths, dict(prec.targets))
    reps = (replications or scenario.replications) if prec is None else prec.max_replications
    execution.check(scenario, reps, Path(out_dir), "run")
    with execution.started() as live:
        search_info: dict[str, Any] = {}
        if budget_neutral or scenario.budget_neutral:
            scenario, found = neutralise(scenario, seed, live)
            search_info["budget_neutral"] = found.manifest()
        if scenario.sizing_target is not None:
            scenario, sized = size_workforce(scenario, seed, live)
            search_info["sizing"] = sized.manifest()
        return _run(
            scenario,
            Path(out_dir),
            reps,
            seed,
            execution.resume,
            live,
            on_done,
            on_start,
            search_info,
            execution.note,
            prec,
        )


def _run(
    scenario: Scenario,
    out: Path,
    reps: int,
    seed: int,
    resume: bool,
    backend: Backend,
    on_done: Callable[[TaskResult], None] | None,
    on_start: Callable[[int, int], None] | None,
    search_info: dict[str, Any],
    on_note: Callable[[str], None],
    prec: Precision | None = None,
) -> RunOutput:
    """run_scenario once the scenario is final (budget-neutral, sized) and the backend is up.
    With `prec`, `reps` is its cap and the rounds decide how many run."""
    ident: dict[str, Any] = {"scenario_hash": scenario_hash(scenario), "seed": seed}
    if prec is None:
        ident["replications"] = reps
    else:
        ident["precision"] = prec.model_dump(mode="json")
    old = sorted((out / "parts").glob("rep-*.pkl")) if resume else []
    if old:
        raise ResumeError(
            f"{old[0]}: a part of techsim 0.2.0 (a pickle, which is never loaded); "
            "these results cannot be resumed: drop --resume to start over"
        )
    parts = start_parts(out, PART_SUFFIX, "run", scenario.name, ident, RUN_IDENTITY, resume)

    done: list[TaskResult] = []
    ran = 0  # replications run now (the rest were kept from before)

    # a replication's regions run as tasks of their own, combined once all are in
    regions = len(scenario.regions)
    pending: dict[int, list[TaskResult]] = {}
    part_rows: dict[str, int] = {}  # rows of each part, for the manifest
    pilots: list[dict[int | None, Scenario]] = []  # the steady books, once resolved

    def rows_of(key: str, r: TaskResult) -> None:
        part_rows[key] = len(r.runs) + len(r.technicians) + len(r.weeks) + len(r.behaviour)

    def finish(result: TaskResult) -> None:
        if result.region is not None:
            got = pending.setdefault(result.replication, [])
            got.append(result)
            if len(got) < regions:
                return
            result = combine_regions(
                scenario, seed, result.replication, pending.pop(result.replication)
            )
        done.append(result)
        if on_done:
            on_done(result)

    def keep(task: ReplicationTask, result: TaskResult) -> None:
        parts.write(task.key, part_bytes(task, result))
        rows_of(task.key, result)
        finish(result)

    def run_to(n: int) -> None:
        """Replications 0..n-1 done: those in parts read, the rest run."""
        nonlocal ran
        have = {r.replication for r in done}
        todo: list[ReplicationTask] = []
        for t in tasks_for(scenario, seed, range(n)):
            if t.replication in have:
                continue
            if not parts.has(t.key):
                todo.append(t)
                continue
            try:
                result = read_part(parts.path(t.key), t)
            except PartError as exc:
                on_note(f"{exc}; running replication {t.replication} again")
                todo.append(t)
                continue
            rows_of(t.key, result)
            if result.region is None:
                done.append(result)
            else:
                pending.setdefault(result.replication, []).append(result)
        # replications whose every region was kept from before
        for rep in [r for r, got in pending.items() if len(got) == regions]:
            done.append(combine_regions(scenario, seed, rep, pending.pop(rep)))
        if on_start:
            on_start(n, len(done))
        ran += len({t.replication for t in todo})
        if todo:  # the steady book's pilot runs once, not in every worker
            if not pilots:
                pilots.append(steady_pilots(scenario, seed, backend))
            todo = with_pilots(todo, pilots[0])
        execute(todo, ReplicationTask.run, backend, keep)

    started, t0 = now_iso(), time.perf_counter()
    if prec is None:
        run_to(reps)
    else:

        def evaluate(n: int) -> list[Width]:
            run_to(n)
            runs = assemble(scenario, seed, sorted(done, key=lambda r: r.replication)).runs
            return widths(runs, prec.half_widths, scenario.baseline_scheme)

        rounds = sequential(prec, evaluate)
        reps = rounds.replications
        search_info["precision"] = rounds.manifest()
    wall = time.perf_counter() - t0

    result = assemble(scenario, seed, sorted(done, key=lambda r: r.replication))
    summary = summarise(result.runs, list(KPI_COLUMNS), scenario.baseline_scheme)
    tables = {
        "runs.csv": result.runs,
        "summary.csv": summary,
        "technicians.csv": result.technicians,
        "timeseries.csv": result.weeks,
    }
    if result.behaviour is not None:
        tables["behaviour.csv"] = result.behaviour
    checksums: dict[str, Any] = {}
    for name, df in tables.items():
        write_csv(out / name, df)
        checksums[name] = file_record(out / name, len(df))
    for t in tasks_for(scenario, seed, sorted(r.replication for r in done)):
        checksums[f"parts/{t.key}{PART_SUFFIX}"] = file_record(parts.path(t.key), part_rows[t.key])
    man = manifest(
        scenario,
        seed,
        reps,
        started,
        wall,
        backend.workers,
        {
            "resumed_replications": reps - ran,
            "experiment_hash": json_hash(ident),
            "executor": backend.describe(),
            **search_info,
            "checksums": checksums,
        },
    )
    write_json(out / "manifest.json", man)
    return RunOutput(result, summary, out, man)
