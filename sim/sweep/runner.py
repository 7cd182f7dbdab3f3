"""Running a sweep: tasks, part files, the manifest and resume.

The executors are in `sim.sweep.execute`, the summary tables in `sim.sweep.tables`.

A *task* is a chunk of consecutive replications of one design point, every scheme of the
scenario in each (common random numbers: replication r of every point and scheme draws from
the same `sim.world.rng` streams). Tasks are pure functions of (point scenario, seed, replications),
so the tables do not depend on the executor, the worker count, the chunking or the order in
which tasks finish.

Chunk size: a task should take about `TARGET_TASK_SECONDS` (2 s) so that scheduling
overhead (~1 ms locally, ~5-10 ms on Dask) stays under 1%. The cost of a replication is
estimated from the scenario's size (`estimate_replication_seconds`: ~20 us per failure and
scheme, measured on the bundled scenarios, plus 10 ms per scheme); a point's replications
are cut into n = ceil(reps / ceil(2 s / estimate)) tasks of near-equal size (sizes differ by
at most one). `--reps-per-task` sets the size instead.

Nothing lost: the manifest (scenario, design, seed, task list, versions) is written before
the first task runs; each finished task is written at once to `parts/<task id>.parquet`
(atomic rename), so an interrupted sweep keeps its finished work and `resume=True` runs only
the tasks without a part file. A task lost with a dead worker is run again
(`sim.sweep.execute`). Parts are keyed by task id, so a task never adds rows twice.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from sim import __version__
from sim.config.scenario import Scenario
from sim.experiment.tasks import RUN_ID_COLUMNS, run_replication, sort_rows
from sim.metrics.kpis import KPI_COLUMNS
from sim.store.files import atomic_write_bytes, git_commit, now_iso, write_csv, write_json
from sim.sweep.design import Design, point_scenarios

# the executors and the tables live in their own modules; their names stay importable here
from sim.sweep.execute import (
    Backend,
    ExecStats,
    choose_backend,
    execute,
)
from sim.sweep.tables import point_table, summarise_points

TARGET_TASK_SECONDS = 2.0
COST_PER_FAILURE_S = 20e-6
COST_PER_SCHEME_S = 0.01
SWEEP_FILES = ("runs.parquet", "summary.parquet", "summary.csv", "manifest.json")
PART_COLUMNS = ("point", *RUN_ID_COLUMNS, *KPI_COLUMNS)


class ResumeError(ValueError):
    """A resume that would mix parts of different sweeps."""


class SweepFailed(RuntimeError):
    """Some tasks failed; the finished ones are kept for --resume."""


# --------------------------------------------------------------------------- tasks
@dataclass(frozen=True, order=True)
class Task:
    """Replications first..last (inclusive) of one design point."""

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


def estimate_replication_seconds(data: dict[str, Any]) -> float:
    """Rough single-core seconds of one replication (all schemes) of a scenario dict."""
    c = data["customers"]
    failures = c["count"] * c["failures_per_year"] * data["horizon_days"] / 365.0
    return len(data["schemes"]) * (COST_PER_FAILURE_S * failures + COST_PER_SCHEME_S)


def reps_per_task(data: dict[str, Any], reps: int) -> int:
    """Replications per task so that a task takes about TARGET_TASK_SECONDS."""
    est = estimate_replication_seconds(data)
    return max(1, min(reps, math.ceil(TARGET_TASK_SECONDS / max(est, 1e-6))))


def make_tasks(points: list[dict[str, Any]], reps: int, chunk: int | None = None) -> list[Task]:
    """Every point's replications 0..reps-1 cut into chunks (auto-sized when chunk is None)."""
    tasks = []
    for i, data in enumerate(points):
        if chunk is not None:
            k = max(1, min(chunk, reps))
            sizes = [k] * (reps // k) + ([reps % k] if reps % k else [])
        else:
            # as many tasks as the estimate asks for, of near-equal size (10 reps at up to 3
            # per task: 3 + 3 + 2 + 2, not 3 + 3 + 3 + 1)
            n = math.ceil(reps / reps_per_task(data, reps))
            base, extra = divmod(reps, n)
            sizes = [base + 1] * extra + [base] * (n - extra)
        lo = 0
        for size in sizes:
            tasks.append(Task(i, lo, lo + size - 1))
            lo += size
    return tasks


def run_chunk(data: dict[str, Any], seed: int, point: int, first: int, last: int) -> list[dict]:
    """Worker side: the run rows of replications first..last of one point (every scheme)."""
    scenario = Scenario.model_validate(data)
    rows = []
    for rep in range(first, last + 1):
        rows.extend({"point": point, **r} for r in run_replication(scenario, seed, rep).runs)
    return rows


# --------------------------------------------------------------------------- files
def part_path(out: Path, task: Task) -> Path:
    return out / "parts" / f"{task.id}.parquet"


def _parquet_bytes(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def scenario_hash(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for pkg in ("simpy", "numpy", "pandas", "pyarrow", "SALib", "dask", "distributed"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def _identity(base: dict[str, Any], design: Design, reps: int, seed: int) -> dict[str, Any]:
    """What makes two sweeps the same sweep (checked on --resume)."""
    return {
        "scenario_hash": scenario_hash(base),
        "design_hash": scenario_hash(design.spec()),
        "replications": reps,
        "seed": seed,
    }


def _check_resume(out: Path, ident: dict[str, Any]) -> dict[str, Any] | None:
    """The old manifest when `out` holds parts of the same sweep; ResumeError otherwise."""
    mpath = out / "manifest.json"
    if not mpath.exists():
        return None
    try:
        old = json.loads(mpath.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ResumeError(f"{mpath}: unreadable; use another --out or drop --resume") from None
    if old.get("kind") != "sweep":
        raise ResumeError(
            f"{out}: holds results of 'techsim {old.get('kind', '?')}', not of a "
            "sweep; use another --out or drop --resume"
        )
    what = {
        "scenario_hash": "the scenario",
        "design_hash": "the design (parameters, values, --design or --samples)",
        "replications": "--reps",
        "seed": "--seed",
    }
    changed = [what[k] for k in what if old.get(k) != ident[k]]
    if changed:
        raise ResumeError(
            f"{out}: cannot resume: {' and '.join(changed)} changed since the "
            "sweep was started; use another --out, or drop --resume to start over"
        )
    return old


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
    on_task: Callable[[Task, bool], None] | None = None,
    backend: Backend | None = None,
) -> SweepOutput:
    """Run every design point x scheme x replication; write the sweep files into `out_dir`.

    Every point is validated first (SweepInputError), and a resume of a different sweep is
    refused (ResumeError), before anything is written.
    """
    reps = scenario.replications if replications is None else replications
    seed = scenario.seed if seed is None else seed
    out = Path(out_dir)
    base = scenario.model_dump(mode="json")
    points = point_scenarios(scenario, design)
    ident = _identity(base, design, reps, seed)
    old = _check_resume(out, ident) if resume else None
    backend = backend or choose_backend(workers, scheduler)  # before anything is written
    try:
        return _run(
            scenario, design, out, reps, seed, chunk, points, ident, old, backend, on_start, on_task
        )
    finally:
        backend.close()


def _run(
    scenario: Scenario,
    design: Design,
    out: Path,
    reps: int,
    seed: int,
    chunk: int | None,
    points: list[dict[str, Any]],
    ident: dict[str, Any],
    old: dict[str, Any] | None,
    backend: Backend,
    on_start: Callable[[int, int], None] | None,
    on_task: Callable[[Task, bool], None] | None,
) -> SweepOutput:
    """run_sweep once the points are valid, the resume is allowed and the backend is up."""
    if old is not None:
        tasks = [Task(t["point"], t["first"], t["last"]) for t in old["tasks"]]
    else:
        tasks = make_tasks(points, reps, chunk)
        if (out / "parts").exists():
            shutil.rmtree(out / "parts")
        for name in SWEEP_FILES:
            (out / name).unlink(missing_ok=True)
    (out / "parts").mkdir(parents=True, exist_ok=True)
    for stale in (out / "parts").glob(".*.tmp"):  # a write cut short by a kill
        stale.unlink(missing_ok=True)

    frames: dict[str, pd.DataFrame] = {}
    todo = [t for t in tasks if not part_path(out, t).exists()]
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

    def keep(t: Task, rows: list[dict]) -> None:
        df = pd.DataFrame(rows, columns=list(PART_COLUMNS))
        atomic_write_bytes(part_path(out, t), _parquet_bytes(df))
        frames[t.id] = df
        if on_task:
            on_task(t, True)

    def failed(t: Task, why: str) -> None:
        if on_task:
            on_task(t, False)

    stats = execute(
        todo,
        run_chunk,
        lambda t: (points[t.point], seed, t.point, t.first, t.last),
        backend,
        keep,
        failed,
    )
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
    man["status"] = "complete"
    write_json(out / "manifest.json", man)
    return SweepOutput(runs, summary, out, man, stats)


def assemble(
    out: Path,
    scenario: Scenario,
    design: Design,
    tasks: list[Task],
    reps: int,
    frames: dict[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """runs: one row per point x scheme x replication, the swept parameters as columns.

    Rows come from this run's results or the part files; fixed order (point, scheme order of
    the scenario, replication) so the table does not depend on how it was computed.
    """
    frames = frames or {}
    parts = []
    for t in tasks:
        df = frames.get(t.id)
        if df is None:
            df = pd.read_parquet(part_path(out, t))
        if len(df) != t.n_reps * len(scenario.schemes):
            raise SweepFailed(
                f"{part_path(out, t)}: holds {len(df)} rows, expected "
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
