"""Running a sweep: tasks, part files, the manifest and resume.

The tasks run through `sim.experiment.executor` (locally or on Dask), the part files and
the resume checks are `sim.sweep.parts` (on `sim.store.parts`), the tasks
`sim.sweep.chunks`, the summary tables `sim.sweep.tables`.

Nothing lost: the manifest (scenario, design, seed, task list, versions) is written before
the first task runs; each finished task is written at once to its part file, so an
interrupted sweep keeps its finished work and `resume=True` runs only the tasks without a
part file. A task lost with a dead worker is run again (`sim.experiment.executor`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from sim import __version__
from sim.config.scenario import Scenario
from sim.experiment.executor import (
    Backend,
    ExecStats,
    backend_for,
    default_workers,
    execute,
    scheduler_address,
)
from sim.experiment.guard import Size, check_resources, estimate
from sim.experiment.tasks import RUN_ID_COLUMNS, sort_rows
from sim.metrics.kpis import KPI_COLUMNS
from sim.store.files import atomic_write_bytes, git_commit, now_iso, write_csv, write_json
from sim.store.outdir import check_out_dir, clear_out_dir
from sim.store.parts import PartError, file_record
from sim.sweep.chunks import TARGET_TASK_SECONDS, Chunk, ChunkTask, make_chunks
from sim.sweep.design import Design, point_scenarios
from sim.sweep.parts import (
    PART_COLUMNS,
    check_resume,
    identity,
    old_tasks,
    parquet_bytes,
    read_part,
    sweep_parts,
)
from sim.sweep.tables import point_table, summarise_points

SWEEP_FILES = ("runs.parquet", "summary.parquet", "summary.csv", "manifest.json")


class SweepFailed(RuntimeError):
    """Some tasks failed; the finished ones are kept for --resume."""


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for pkg in ("simpy", "numpy", "pandas", "pyarrow", "SALib", "dask", "distributed"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


# --------------------------------------------------------------------------- the sweep
@dataclass
class SweepOutput:
    runs: pd.DataFrame
    summary: pd.DataFrame
    out_dir: Path
    manifest: dict[str, Any]
    stats: ExecStats


def run_sweep(
    scenario: Scenario,
    design: Design,
    out_dir: str | Path,
    replications: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    chunk: int | None = None,
    on_start: Callable[[int, int], None] | None = None,
    on_task: Callable[[Chunk, bool], None] | None = None,
    backend: Backend | None = None,
    force: bool = False,
    connect_timeout: float | None = None,
    on_note: Callable[[str], None] | None = None,
) -> SweepOutput:
    """Run every design point x scheme x replication; write the sweep files into `out_dir`.

    Every point is validated first (SweepInputError), a resume of a different sweep is
    refused (ResumeError), and the backend is reached (BackendError: `backend`, else Dask
    when `scheduler` or DASK_SCHEDULER_ADDRESS gives an address, else `workers` local
    processes), before anything is written. `out_dir` is checked first
    (`sim.store.outdir.check_out_dir`, OutDirError): a folder of another scenario's results
    is replaced only with `force`.
    """
    reps = scenario.replications if replications is None else replications
    seed = scenario.seed if seed is None else seed
    out = Path(out_dir)
    est = estimate(
        [Size.of(scenario, p.values) for p in design.points],
        reps,
        workers or default_workers(),
        local=backend is None and not scheduler_address(scheduler),
        sweep=True,
    )
    check_resources(
        est,
        f"the sweep ({len(design.points)} points x {reps} replications)",
        "the design's points (values, --samples), --reps, or the swept and base "
        "customers.count, horizon_days",
        force,
    )
    check_out_dir(out, "sweep", scenario.name, resume, force)
    points = point_scenarios(scenario, design)
    ident = identity(scenario, design, reps, seed)
    old = check_resume(out, ident) if resume else None
    with backend_for(backend, workers, scheduler, connect_timeout) as live:
        return _run(
            scenario,
            design,
            out,
            reps,
            seed,
            chunk,
            points,
            ident,
            old,
            live,
            on_start,
            on_task,
            on_note or (lambda _text: None),
        )


def _run(
    scenario: Scenario,
    design: Design,
    out: Path,
    reps: int,
    seed: int,
    chunk: int | None,
    points: list[Scenario],
    ident: dict[str, Any],
    old: dict[str, Any] | None,
    backend: Backend,
    on_start: Callable[[int, int], None] | None,
    on_task: Callable[[Chunk, bool], None] | None,
    on_note: Callable[[str], None],
) -> SweepOutput:
    """run_sweep once the points are valid, the resume is allowed and the backend is up."""
    parts = sweep_parts(out)
    if old is not None:
        tasks = old_tasks(out, old)
    else:
        tasks = make_chunks(points, reps, chunk)
        clear_out_dir(out)
    parts.prepare()

    frames: dict[str, pd.DataFrame] = {}
    for t in tasks:
        if old is not None and parts.has(t.id):
            try:
                frames[t.id] = read_part(parts.path(t.id), t, len(scenario.schemes))
            except PartError as exc:
                on_note(f"{exc}; running task {t.id} again")
    todo = [ChunkTask(t, points[t.point], seed) for t in tasks if t.id not in frames]
    resumed = len(tasks) - len(todo)
    started, t0 = now_iso(), time.perf_counter()
    if old is not None:
        rule = old.get("reps_per_task")
    elif chunk is not None:
        rule = chunk
    else:
        rule = f"auto: about {TARGET_TASK_SECONDS:g} s of estimated work per task"
    man = {
        "kind": "sweep",
        "status": "running",
        "scenario_name": scenario.name,
        **ident,
        "schemes": list(scenario.schemes),
        "baseline": scenario.baseline_scheme,
        "parameters": [p.spec() for p in design.parameters],
        "design": design.spec(),
        "n_points": len(design.points),
        "reps_per_task": rule,
        "tasks": [t.to_json() for t in tasks],
        "techsim_version": __version__,
        "git_commit": git_commit(),
        "versions": _versions(),
        "executor": backend.describe(),
        "started": started,
        "files": list(SWEEP_FILES),
        "scenario": scenario.model_dump(mode="json"),
    }
    write_json(out / "manifest.json", man)
    if on_start:
        on_start(len(tasks), resumed)

    def keep(t: ChunkTask, rows: list[dict[str, Any]]) -> None:
        df = pd.DataFrame(rows, columns=list(PART_COLUMNS))
        parts.write(t.key, parquet_bytes(df, write_page_checksum=True))
        frames[t.key] = df
        if on_task:
            on_task(t.chunk, True)

    def failed(t: ChunkTask, why: str) -> None:
        if on_task:
            on_task(t.chunk, False)

    stats = execute(todo, ChunkTask.run, backend, keep, failed)
    wall = time.perf_counter() - t0
    man.update(
        {
            "finished": now_iso(),
            "wall_time_s": round(wall, 3),
            "resumed_tasks": resumed,
            "pool_restarts": stats.restarts,
        }
    )
    if stats.failures:
        man.update(
            {
                "status": "incomplete",
                "failed_tasks": [{"id": i, "error": e} for i, e in stats.failures],
            }
        )
        write_json(out / "manifest.json", man)
        first_id, first_err = stats.failures[0]
        raise SweepFailed(
            f"{len(stats.failures)} of {len(tasks)} tasks failed (first: {first_id}: "
            f"{first_err}); finished tasks are kept in {out / 'parts'}; "
            "rerun with --resume to run the rest"
        )

    runs = assemble(out, scenario, design, tasks, reps, frames)
    summary = summarise_points(runs, design, scenario.baseline_scheme)
    atomic_write_bytes(out / "runs.parquet", parquet_bytes(runs))
    atomic_write_bytes(out / "summary.parquet", parquet_bytes(summary))
    write_csv(out / "summary.csv", summary)
    checksums = {
        "runs.parquet": file_record(out / "runs.parquet", len(runs)),
        "summary.parquet": file_record(out / "summary.parquet", len(summary)),
        "summary.csv": file_record(out / "summary.csv", len(summary)),
    }
    for t in tasks:
        checksums[f"parts/{t.id}.parquet"] = file_record(parts.path(t.id), len(frames[t.id]))
    man["checksums"] = checksums
    man["status"] = "complete"
    write_json(out / "manifest.json", man)
    return SweepOutput(runs, summary, out, man, stats)


def assemble(
    out: Path,
    scenario: Scenario,
    design: Design,
    tasks: list[Chunk],
    reps: int,
    frames: dict[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """runs: one row per point x scheme x replication, the swept parameters as columns.

    Rows come from this run's results or the part files; fixed order (point, scheme order of
    the scenario, replication) so the table does not depend on how it was computed.
    """
    frames = frames or {}
    files = sweep_parts(out)
    parts = []
    for t in tasks:
        df = frames.get(t.id)
        if df is None:
            df = pd.read_parquet(files.path(t.id))
        if len(df) != t.n_reps * len(scenario.schemes):
            raise SweepFailed(
                f"{files.path(t.id)}: holds {len(df)} rows, expected "
                f"{t.n_reps * len(scenario.schemes)}; delete it and --resume"
            )
        parts.append(df)
    runs = pd.concat(parts, ignore_index=True)
    if runs.duplicated(["point", "scheme", "replication"]).any():
        raise SweepFailed(f"{out}: the task list overlaps (duplicate rows)")
    expected = len(design.points) * len(scenario.schemes) * reps
    if len(runs) != expected:
        raise SweepFailed(f"{out}: {len(runs)} rows, expected {expected}")
    runs = sort_rows(runs, scenario, ["point", "scheme", "replication"])
    params = point_table(design)
    runs = params.merge(runs, on="point", how="right", validate="one_to_many")
    return runs[["point", *design.paths, *RUN_ID_COLUMNS, *KPI_COLUMNS]]
