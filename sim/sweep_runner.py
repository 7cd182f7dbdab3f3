"""Running a sweep: tasks, part files, the manifest, resume, and the executor.

A *task* is a chunk of consecutive replications of one design point, every scheme of the
scenario in each (common random numbers: replication r of every point and scheme draws from
the same `sim.rng` streams). Tasks are pure functions of (point scenario, seed, replications),
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
the tasks without a part file. A local worker process that dies breaks the process pool:
the pool is restarted and the unfinished tasks are submitted again (a task that was in
flight at `MAX_ATTEMPTS` breaks is given up as failed). On Dask the scheduler re-runs the
tasks of a lost worker itself. Parts are keyed by task id, so a task never adds rows twice.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import shutil
import signal
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import __version__
from sim.experiment import RUN_ID_COLUMNS, default_workers, run_replication
from sim.kpis import KPI_COLUMNS
from sim.scenario import Scenario
from sim.stats import SUMMARY_COLUMNS, mean_ci, paired_p_value
from sim.storage import atomic_write_bytes, git_commit, now_iso, write_csv, write_json
from sim.sweep import Design, point_scenarios

TARGET_TASK_SECONDS = 2.0
COST_PER_FAILURE_S = 20e-6
COST_PER_SCHEME_S = 0.01
MAX_ATTEMPTS = 3
SWEEP_FILES = ("runs.parquet", "summary.parquet", "summary.csv", "manifest.json")
PART_COLUMNS = ("point",) + RUN_ID_COLUMNS + KPI_COLUMNS


class ResumeError(ValueError):
    """A resume that would mix parts of different sweeps."""


class BackendError(RuntimeError):
    """The executor could not be started (e.g. no Dask scheduler at the address)."""


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


# --------------------------------------------------------------------------- executors
class InlineExecutor(Executor):
    """Runs each task at once in this process (one worker: no pool, same code path)."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - reported as a failed task
            fut.set_exception(exc)
        return fut


def _ignore_sigint() -> None:
    """Pool workers leave Ctrl-C to the parent, which stops submitting and keeps parts."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@dataclass
class Backend:
    """Where tasks run: makes executors, says whether a broken one can be restarted."""

    kind: str                       # "local" or "dask"
    workers: int                    # worker slots (processes or Dask threads)
    window: int                     # tasks in flight at once
    make: Callable[[], Executor]
    restartable: bool
    address: str | None = None
    close: Callable[[], None] = lambda: None

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "workers": self.workers, "scheduler": self.address}


def local_backend(workers: int | None = None) -> Backend:
    n = workers or default_workers()
    if n <= 1:
        return Backend("local", 1, 1, InlineExecutor, False)
    return Backend("local", n, 2 * n,
                   lambda: ProcessPoolExecutor(max_workers=n, initializer=_ignore_sigint), True)


def dask_backend(address: str) -> Backend:
    """An existing Dask distributed cluster (the tasks need techsim installed on workers)."""
    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - a dependency
        raise BackendError(f"--scheduler needs the 'distributed' package: {exc}") from None
    try:
        client = Client(address, timeout="15s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise BackendError(f"cannot connect to the Dask scheduler at {address}: {exc}") from None
    slots = sum(client.nthreads().values())
    executor = client.get_executor(pure=False, retries=2)
    return Backend("dask", slots, max(64, 4 * slots), lambda: executor, False, address,
                   client.close)


def choose_backend(workers: int | None = None, scheduler: str | None = None) -> Backend:
    """Dask when a scheduler address is given (or DASK_SCHEDULER_ADDRESS), else local."""
    address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
    return dask_backend(address) if address else local_backend(workers)


@dataclass
class ExecStats:
    restarts: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)


def execute(
    tasks: list[Task],
    args: Callable[[Task], tuple],
    backend: Backend,
    on_done: Callable[[Task, list[dict]], None],
    on_fail: Callable[[Task, str], None] | None = None,
) -> ExecStats:
    """Run `run_chunk(*args(task))` for every task on the backend; one code path for all.

    At most `backend.window` tasks are in flight. Results are handed to `on_done` in the
    calling thread, in completion order.
    """
    stats = ExecStats()
    queue = deque(tasks)
    attempts: Counter[Task] = Counter()

    def fail(t: Task, why: str) -> None:
        stats.failures.append((t.id, why))
        if on_fail:
            on_fail(t, why)

    while queue:
        ex = backend.make()
        inflight: dict[Future, Task] = {}
        broken = False
        clean = False
        try:
            while (queue or inflight) and not broken:
                while queue and len(inflight) < backend.window:
                    t = queue.popleft()
                    try:
                        inflight[ex.submit(run_chunk, *args(t))] = t
                    except BrokenProcessPool:
                        queue.appendleft(t)
                        broken = True
                        break
                if not inflight:
                    break
                done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                for fut in done:
                    t = inflight.pop(fut)
                    exc = fut.exception()
                    if exc is None:
                        on_done(t, fut.result())
                    elif isinstance(exc, BrokenProcessPool) and backend.restartable:
                        broken = True
                        inflight[fut] = t  # handled with the others below
                    else:
                        fail(t, f"{type(exc).__name__}: {exc}")
            if broken:
                # the pool is gone: keep what finished, queue the rest again
                lost = []
                for fut, t in inflight.items():
                    if fut.done() and fut.exception() is None:
                        on_done(t, fut.result())
                    else:
                        lost.append(t)
                for t in sorted(lost, reverse=True):
                    attempts[t] += 1
                    if attempts[t] >= MAX_ATTEMPTS:
                        fail(t, f"a worker process died {attempts[t]} times while it ran")
                    else:
                        queue.appendleft(t)
                stats.restarts += 1
            clean = not broken
        finally:
            _shutdown(ex, clean)
    return stats


def _shutdown(ex: Executor, clean: bool) -> None:
    """Wait for a clean executor; drop the queued work of a broken or interrupted one."""
    if clean:
        ex.shutdown(wait=True)
        return
    try:
        ex.shutdown(wait=False, cancel_futures=True)
    except TypeError:  # Dask's ClientExecutor cancels its futures on shutdown anyway
        ex.shutdown(wait=False)


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
        raise ResumeError(f"{out}: holds results of 'techsim {old.get('kind', '?')}', not of a "
                          "sweep; use another --out or drop --resume")
    what = {"scenario_hash": "the scenario", "design_hash": "the design (parameters, values, "
            "--design or --samples)", "replications": "--reps", "seed": "--seed"}
    changed = [what[k] for k in what if old.get(k) != ident[k]]
    if changed:
        raise ResumeError(f"{out}: cannot resume: {' and '.join(changed)} changed since the "
                          "sweep was started; use another --out, or drop --resume to start over")
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
        return _run(scenario, design, out, reps, seed, chunk, points, ident, old, backend,
                    on_start, on_task)
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

    stats = execute(todo, lambda t: (points[t.point], seed, t.point, t.first, t.last),
                    backend, keep, failed)
    wall = time.perf_counter() - t0
    man.update({"finished": now_iso(), "wall_time_s": round(wall, 3), "resumed_tasks": resumed,
                "pool_restarts": stats.restarts})
    if stats.failures:
        man.update({"status": "incomplete",
                    "failed_tasks": [{"id": i, "error": e} for i, e in stats.failures]})
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
            raise SweepFailed(f"{part_path(out, t)}: holds {len(df)} rows, expected "
                              f"{t.n_reps * len(scenario.schemes)}; delete it and --resume")
        parts.append(df)
    runs = pd.concat(parts, ignore_index=True)
    if runs.duplicated(["point", "scheme", "replication"]).any():
        raise SweepFailed(f"{out}: the task list overlaps (duplicate rows)")
    expected = len(design.points) * len(scenario.schemes) * reps
    if len(runs) != expected:
        raise SweepFailed(f"{out}: {len(runs)} rows, expected {expected}")
    order = {name: k for k, name in enumerate(scenario.schemes)}
    runs = runs.sort_values(["point", "scheme", "replication"],
                            key=lambda s: s.map(order) if s.name == "scheme" else s,
                            kind="stable").reset_index(drop=True)
    params = point_table(design)
    runs = params.merge(runs, on="point", how="right", validate="one_to_many")
    return runs[["point", *design.paths, *RUN_ID_COLUMNS, *KPI_COLUMNS]]


def point_table(design: Design) -> pd.DataFrame:
    """One row per point: `point` and the value of each swept parameter."""
    return pd.DataFrame([{"point": p.index, **p.values} for p in design.points],
                        columns=["point", *design.paths])


def summarise_points(
    runs: pd.DataFrame, design: Design, baseline: str, kpis: tuple[str, ...] = KPI_COLUMNS
) -> pd.DataFrame:
    """Mean and 95% CI per point x scheme x KPI, and the paired difference to the baseline.

    The same numbers as `sim.stats.summarise(runs, kpis, baseline, group=["point"])` (same
    `mean_ci` and `paired_p_value`), without a pandas lookup per cell, so sweeps of
    thousands of points summarise in seconds; the swept parameters follow `point`.
    """
    rows = []
    kpis = list(kpis)
    for point, g in runs.groupby("point", sort=False):
        reps = g["replication"].to_numpy()
        values = g[kpis].to_numpy(dtype=float)
        schemes = g["scheme"].to_numpy()
        is_base = schemes == baseline
        base_row = {r: k for k, r in zip(np.flatnonzero(is_base), reps[is_base])}
        for scheme in dict.fromkeys(schemes):
            sel = np.flatnonzero(schemes == scheme)
            x = values[sel]
            if base_row:
                b = np.full_like(x, np.nan)
                for j, r in enumerate(reps[sel]):
                    if r in base_row:
                        b[j] = values[base_row[r]]
            scen = g["scenario"].iloc[sel[0]]
            for j, kpi in enumerate(kpis):
                m, sd, lo, hi = mean_ci(x[:, j])
                if base_row:
                    d = x[:, j] - b[:, j]
                    dm, _, dlo, dhi = mean_ci(d)
                    p = paired_p_value(d)
                else:
                    dm = dlo = dhi = p = math.nan
                rows.append((point, scen, scheme, kpi, int(np.count_nonzero(~np.isnan(x[:, j]))),
                             m, sd, lo, hi, baseline, dm, dlo, dhi, p))
    summary = pd.DataFrame(rows, columns=["point", *SUMMARY_COLUMNS])
    summary = point_table(design).merge(summary, on="point", how="right")
    return summary[["point", *design.paths, *SUMMARY_COLUMNS]]


#: KPIs of the best/worst table, and whether higher is better.
MAIN_KPIS: tuple[tuple[str, bool], ...] = (
    ("first_time_fix_rate", True),
    ("repeat_visit_rate", False),
    ("retention_rate", True),
    ("nps", True),
    ("margin", True),
)


def extremes(summary: pd.DataFrame, kpis=MAIN_KPIS) -> pd.DataFrame:
    """The best and the worst (point, scheme) by mean for each main KPI.

    `ties` counts the other (point, scheme) pairs with exactly the same mean (common random
    numbers make exact ties common where a parameter does not touch a scheme)."""
    rows = []
    for kpi, higher in kpis:
        sub = summary[summary["kpi"] == kpi].dropna(subset=["mean"])
        if sub.empty:
            continue
        hi_row, lo_row = sub.loc[sub["mean"].idxmax()], sub.loc[sub["mean"].idxmin()]
        best, worst = (hi_row, lo_row) if higher else (lo_row, hi_row)
        for which, r in (("best", best), ("worst", worst)):
            ties = int((sub["mean"] == r["mean"]).sum()) - 1
            rows.append({"kpi": kpi, "which": which, **r.to_dict(), "ties": ties})
    return pd.DataFrame(rows)
