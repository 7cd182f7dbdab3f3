"""Running a sweep: tasks, part files, the manifest and resume.

The tasks run through `sim.experiment.executor` (locally or on Dask), the part files and
the resume checks are `sim.store.parts`, the summary tables `sim.sweep.tables`.

A sweep's task is a *chunk*: consecutive replications of one design point, every scheme of
the scenario in each (common random numbers: replication r of every point and scheme draws
from the same `sim.world.rng` streams). Chunks are pure functions of (point scenario, seed,
replications), so the tables do not depend on the backend, the worker count, the chunking
or the order in which tasks finish.

Chunk size: a task should take about `TARGET_TASK_SECONDS` (2 s) so that scheduling
overhead (~1 ms locally, ~5-10 ms on Dask) stays under 1%. The cost of a replication is
estimated from the scenario's size (`sim.experiment.guard.estimate_replication_seconds`:
~20 us per failure and scheme, measured on the bundled scenarios, plus 10 ms per scheme);
a point's replications are cut into n = ceil(reps / ceil(2 s / estimate)) tasks of
near-equal size (sizes differ by at most one). `--reps-per-task` sets the size instead.

Nothing lost: the manifest (scenario, design, seed, task list, versions) is written before
the first task runs; each finished task is written at once to `parts/<task id>.parquet`
(atomic rename), so an interrupted sweep keeps its finished work and `resume=True` runs only
the tasks without a part file. A task lost with a dead worker is run again
(`sim.experiment.executor`). Parts are keyed by task id, so a task never adds rows twice.
"""

from __future__ import annotations

import io
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from sim import __version__
from sim.config.scenario import Scenario
from sim.experiment.executor import Backend, ExecStats, choose_backend, default_workers, execute
from sim.experiment.guard import Size, check_resources, estimate, estimate_replication_seconds
from sim.experiment.tasks import RUN_ID_COLUMNS, run_replication, sort_rows
from sim.metrics.kpis import KPI_COLUMNS
from sim.store.files import atomic_write_bytes, git_commit, now_iso, write_csv, write_json
from sim.store.outdir import check_out_dir, clear_out_dir
from sim.store.parts import (
    PartError,
    Parts,
    ResumeError,
    check_identity,
    file_record,
    json_hash,
    read_identity,
    scenario_hash,
)
from sim.sweep.design import Design, point_scenarios
from sim.sweep.tables import point_table, summarise_points

TARGET_TASK_SECONDS = 2.0
SWEEP_FILES = ("runs.parquet", "summary.parquet", "summary.csv", "manifest.json")
PART_COLUMNS = ("point", *RUN_ID_COLUMNS, *KPI_COLUMNS)
#: What identifies a sweep on --resume, and how a change is named in the refusal.
SWEEP_IDENTITY = {
    "scenario_hash": "the scenario",
    "design_hash": "the design (parameters, values, --design or --samples)",
    "replications": "--reps",
    "seed": "--seed",
}


class SweepFailed(RuntimeError):
    """Some tasks failed; the finished ones are kept for --resume."""


# --------------------------------------------------------------------------- tasks
@dataclass(frozen=True, order=True)
class Chunk:
    """A sweep's task: replications first..last (inclusive) of one design point."""

    point: int
    first: int
    last: int

    @property
    def id(self) -> str:
        return f"p{self.point:05d}-r{self.first:04d}-{self.last:04d}"

    @property
    def n_reps(self) -> int:
        return self.last - self.first + 1

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "point": self.point, "first": self.first, "last": self.last}


@dataclass(frozen=True)
class ChunkTask:
    """What a worker runs for a chunk: the point's validated scenario and the seed with it."""

    chunk: Chunk
    scenario: Scenario
    seed: int

    @property
    def key(self) -> str:
        return self.chunk.id

    def run(self) -> list[dict[str, Any]]:
        c = self.chunk
        return run_chunk(self.scenario, self.seed, c.point, c.first, c.last)


def reps_per_task(scenario: Scenario, reps: int) -> int:
    """Replications per task so that a task takes about TARGET_TASK_SECONDS."""
    est = estimate_replication_seconds(scenario)
    return max(1, min(reps, math.ceil(TARGET_TASK_SECONDS / max(est, 1e-6))))


def make_chunks(points: list[Scenario], reps: int, chunk: int | None = None) -> list[Chunk]:
    """Every point's replications 0..reps-1 cut into chunks (auto-sized when chunk is None)."""
    tasks = []
    for i, point in enumerate(points):
        if chunk is not None:
            k = max(1, min(chunk, reps))
            sizes = [k] * (reps // k) + ([reps % k] if reps % k else [])
        else:
            # as many tasks as the estimate asks for, of near-equal size (10 reps at up to 3
            # per task: 3 + 3 + 2 + 2, not 3 + 3 + 3 + 1)
            n = math.ceil(reps / reps_per_task(point, reps))
            base, extra = divmod(reps, n)
            sizes = [base + 1] * extra + [base] * (n - extra)
        lo = 0
        for size in sizes:
            tasks.append(Chunk(i, lo, lo + size - 1))
            lo += size
    return tasks


def run_chunk(
    scenario: Scenario, seed: int, point: int, first: int, last: int
) -> list[dict[str, Any]]:
    """Worker side: the run rows of replications first..last of one point (every scheme)."""
    rows: list[dict[str, Any]] = []
    for rep in range(first, last + 1):
        rows.extend({"point": point, **r} for r in run_replication(scenario, seed, rep).runs)
    return rows


# --------------------------------------------------------------------------- files
def sweep_parts(out: Path) -> Parts:
    """A sweep's part files: `parts/<chunk id>.parquet`."""
    return Parts(out, ".parquet")


def _parquet_bytes(df: pd.DataFrame, **options: Any) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False, **options)
    return buf.getvalue()


def read_part(path: Path, chunk: Chunk, n_schemes: int) -> pd.DataFrame:
    """A chunk's part file, checked: Parquet with verified page checksums, the part columns,
    the chunk's point and replications, one row per scheme and replication. PartError
    naming the file otherwise."""
    try:
        df = pd.read_parquet(path, page_checksum_verification=True)
    except Exception as exc:  # pyarrow raises several kinds for a damaged file
        raise PartError(f"{path}: damaged ({type(exc).__name__})") from None
    if list(df.columns) != list(PART_COLUMNS):
        raise PartError(f"{path}: not a part of this sweep (its columns differ)")
    if len(df) != chunk.n_reps * n_schemes:
        raise PartError(f"{path}: holds {len(df)} rows, expected {chunk.n_reps * n_schemes}")
    reps = df["replication"]
    if (df["point"] != chunk.point).any() or reps.min() < chunk.first or reps.max() > chunk.last:
        raise PartError(f"{path}: holds rows of another chunk than {chunk.id}")
    return df


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for pkg in ("simpy", "numpy", "pandas", "pyarrow", "SALib", "dask", "distributed"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def _identity(scenario: Scenario, design: Design, reps: int, seed: int) -> dict[str, Any]:
    """What makes two sweeps the same sweep (checked on --resume)."""
    return {
        "scenario_hash": scenario_hash(scenario),
        "design_hash": json_hash(design.spec()),
        "replications": reps,
        "seed": seed,
    }


def _check_resume(out: Path, ident: dict[str, Any]) -> dict[str, Any] | None:
    """The old manifest when `out` holds parts of the same sweep; ResumeError otherwise."""
    mpath = out / "manifest.json"
    if not mpath.exists():
        return None
    old = read_identity(mpath)
    if old.get("kind") != "sweep":
        raise ResumeError(
            f"{out}: holds results of 'techsim {old.get('kind', '?')}', not of a "
            "sweep; use another --out or drop --resume"
        )
    check_identity(out, "sweep", old, ident, SWEEP_IDENTITY)
    return old


def _old_tasks(out: Path, old: dict[str, Any]) -> list[Chunk]:
    """The task list of the manifest being resumed; ResumeError when it is damaged."""
    try:
        return [Chunk(int(t["point"]), int(t["first"]), int(t["last"])) for t in old["tasks"]]
    except (KeyError, TypeError, ValueError):
        raise ResumeError(
            f"{out / 'manifest.json'}: tasks: damaged; drop --resume to start over"
        ) from None


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
    address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS")
    est = estimate(
        [Size.of(scenario, p.values) for p in design.points],
        reps,
        workers or default_workers(),
        local=backend is None and not address,
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
    ident = _identity(scenario, design, reps, seed)
    old = _check_resume(out, ident) if resume else None
    own = backend is None
    backend = backend or choose_backend(workers, scheduler, connect_timeout)
    try:
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
            backend,
            on_start,
            on_task,
            on_note or (lambda _text: None),
        )
    finally:
        if own:
            backend.close()


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
        tasks = _old_tasks(out, old)
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
        parts.write(t.key, _parquet_bytes(df, write_page_checksum=True))
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
    atomic_write_bytes(out / "runs.parquet", _parquet_bytes(runs))
    atomic_write_bytes(out / "summary.parquet", _parquet_bytes(summary))
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
