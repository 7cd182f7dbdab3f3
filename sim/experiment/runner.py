"""`techsim run` as a library call: run, summarise and write the result files.

Part files (`sim.store.parts`): each finished replication is written at once to
`parts/rep-NNNNN.pkl` (atomically), so an interrupted run keeps its finished work and
`resume=True` runs only the missing replications of the same run (same scenario, --reps
and --seed, recorded in `parts/experiment.json`). The tables are assembled from all the
replications in a fixed order, so a resumed run gives the same files as an uninterrupted
one.
"""

from __future__ import annotations

import json
import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.config.scenario import Scenario
from sim.experiment.budget import neutralise
from sim.experiment.executor import Backend, choose_backend, execute
from sim.experiment.sizing import size_workforce
from sim.experiment.tasks import ExperimentResult, ReplicationTask, TaskResult, assemble
from sim.metrics.kpis import KPI_COLUMNS
from sim.metrics.stats import summarise
from sim.store.files import atomic_write_bytes, manifest, now_iso, write_csv, write_json
from sim.store.parts import (
    Parts,
    check_identity,
    json_hash,
    read_identity,
    scenario_hash,
)

#: What identifies a run on --resume, and how a change is named in the refusal.
RUN_IDENTITY = {"scenario_hash": "the scenario", "replications": "--reps", "seed": "--seed"}
PART_SUFFIX = ".pkl"


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
    seed: int | None = None,
    workers: int = 1,
    resume: bool = False,
    on_done: Callable[[TaskResult], None] | None = None,
    on_start: Callable[[int, int], None] | None = None,
    budget_neutral: bool = False,
    scheduler: str | None = None,
    backend: Backend | None = None,
) -> RunOutput:
    """Run every scheme x replication, write the result files into `out_dir`.

    Tasks run on `backend`, else on a Dask cluster when `scheduler` (or
    DASK_SCHEDULER_ADDRESS) gives its address, else on `workers` local processes; the backend
    is reached before anything is written (BackendError). With `budget_neutral` (or the
    scenario's `budget_neutral: true`) every non-baseline scheme's variable pay is first
    scaled to the baseline's mean pay on the same backend (`sim.experiment.budget`); the
    factors go into the scenario's `pay_scale` and the manifest's "budget_neutral". With a
    sizing target (`workforce.sizing`), each scheme's smallest headcount meeting it is then
    found on the same backend (`sim.experiment.sizing`, with the budget-neutral factors
    found at the nominal headcount); the headcounts go into the scenario's `headcount` and
    the manifest's "sizing"."""
    reps = scenario.replications if replications is None else replications
    seed = scenario.seed if seed is None else seed
    own = backend is None
    backend = backend or choose_backend(workers, scheduler)
    try:
        search_info: dict[str, Any] = {}
        if budget_neutral or scenario.budget_neutral:
            scenario, found = neutralise(scenario, seed, backend)
            search_info["budget_neutral"] = found.manifest()
        if scenario.sizing_target is not None:
            scenario, sized = size_workforce(scenario, seed, backend)
            search_info["sizing"] = sized.manifest()
        return _run(
            scenario, Path(out_dir), reps, seed, resume, backend, on_done, on_start, search_info
        )
    finally:
        if own:
            backend.close()


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
) -> RunOutput:
    """run_scenario once the scenario is final (budget-neutral, sized) and the backend is up."""
    parts = Parts(out, PART_SUFFIX)
    ident = {"scenario_hash": scenario_hash(scenario), "replications": reps, "seed": seed}
    stamp = parts.dir / "experiment.json"
    if resume and stamp.exists():
        check_identity(out, "run", read_identity(stamp), ident, RUN_IDENTITY)
    if not resume:
        parts.clear()
    parts.prepare()
    atomic_write_bytes(stamp, json.dumps(ident).encode())

    tasks = [ReplicationTask(scenario, seed, rep) for rep in range(reps)]
    done: list[TaskResult] = [pickle.loads(parts.read(t.key)) for t in tasks if parts.has(t.key)]
    todo = [t for t in tasks if not parts.has(t.key)]
    if on_start:
        on_start(reps, len(done))

    def keep(task: ReplicationTask, result: TaskResult) -> None:
        parts.write(task.key, pickle.dumps(result))
        done.append(result)
        if on_done:
            on_done(result)

    started, t0 = now_iso(), time.perf_counter()
    execute(todo, ReplicationTask.run, backend, keep)
    wall = time.perf_counter() - t0

    result = assemble(scenario, seed, sorted(done, key=lambda r: r.replication))
    summary = summarise(result.runs, list(KPI_COLUMNS), scenario.baseline_scheme)
    write_csv(out / "runs.csv", result.runs)
    write_csv(out / "summary.csv", summary)
    write_csv(out / "technicians.csv", result.technicians)
    write_csv(out / "timeseries.csv", result.weeks)
    if result.behaviour is not None:
        write_csv(out / "behaviour.csv", result.behaviour)
    man = manifest(
        scenario,
        seed,
        reps,
        started,
        wall,
        backend.workers,
        {
            "resumed_replications": reps - len(todo),
            "experiment_hash": json_hash(ident),
            "executor": backend.describe(),
            **search_info,
        },
    )
    write_json(out / "manifest.json", man)
    return RunOutput(result, summary, out, man)
