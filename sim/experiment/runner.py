"""`techsim run` as a library call: run, summarise and write the result files.

Part files: each finished replication is written at once to `parts/rep-NNNNN.pkl`
(atomically), so an interrupted run keeps its finished work and `resume=True` runs only
the missing replications. The final tables are assembled from the part files, so a
resumed run gives the same files as an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import shutil
import signal
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.config.load import scenario_to_dict
from sim.config.scenario import Scenario
from sim.experiment.tasks import ExperimentResult, TaskResult, assemble, run_tasks
from sim.metrics.kpis import KPI_COLUMNS
from sim.metrics.stats import summarise
from sim.store.files import atomic_write_bytes, manifest, now_iso, write_csv, write_json


class ResumeError(ValueError):
    """A resume that would mix results of different experiments."""


@dataclass
class RunOutput:
    result: ExperimentResult
    summary: pd.DataFrame
    out_dir: Path
    manifest: dict


def scenario_hash(scenario: Scenario, seed: int, replications: int) -> str:
    blob = json.dumps(
        {"scenario": scenario_to_dict(scenario), "seed": seed, "replications": replications},
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _ignore_sigint() -> None:
    """Workers leave Ctrl-C to the parent, which cancels the queue and keeps what finished."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _part_path(out_dir: Path, rep: int) -> Path:
    return out_dir / "parts" / f"rep-{rep:05d}.pkl"


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
) -> RunOutput:
    """Run every scheme x replication, write the result files into `out_dir`.

    With `budget_neutral` (or the scenario's `budget_neutral: true`) every non-baseline
    scheme's variable pay is first scaled to the baseline's mean pay (`sim.experiment.budget`); the
    factors go into the scenario's `pay_scale` and the manifest's "budget_neutral"."""
    reps = scenario.replications if replications is None else replications
    seed = scenario.seed if seed is None else seed
    budget_info = {}
    if budget_neutral or scenario.budget_neutral:
        from sim.experiment.budget import neutralise

        scenario, found = neutralise(scenario, seed, workers)
        budget_info = {"budget_neutral": found.manifest()}
    out = Path(out_dir)
    key = scenario_hash(scenario, seed, reps)
    stamp = out / "parts" / "experiment.json"
    if out.exists() and (out / "parts").exists():
        if stamp.exists():
            old = json.loads(stamp.read_text()).get("hash")
            if old != key:
                if resume:
                    raise ResumeError(
                        f"{out}: holds parts of a different experiment (scenario, seed or "
                        "replications changed); use another --out or drop --resume"
                    )
                shutil.rmtree(out / "parts")
        if not resume and (out / "parts").exists():
            shutil.rmtree(out / "parts")
    (out / "parts").mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(stamp, json.dumps({"hash": key}).encode())

    done: list[TaskResult] = []
    todo = []
    for rep in range(reps):
        p = _part_path(out, rep)
        if resume and p.exists():
            done.append(pickle.loads(p.read_bytes()))
        else:
            todo.append(rep)
    if on_start:
        on_start(reps, len(done))

    def keep(r: TaskResult) -> None:
        atomic_write_bytes(_part_path(out, r.replication), pickle.dumps(r))
        if on_done:
            on_done(r)

    started, t0 = now_iso(), time.perf_counter()
    if todo:
        if workers <= 1 or len(todo) == 1:
            new = run_tasks(scenario, seed, todo, None, keep)
        else:
            ex = ProcessPoolExecutor(
                max_workers=min(workers, len(todo)), initializer=_ignore_sigint
            )
            try:
                new = run_tasks(scenario, seed, todo, ex, keep)
            except BaseException:
                # Ctrl-C or a failure: drop the queued replications; finished ones are kept
                ex.shutdown(wait=False, cancel_futures=True)
                raise
            ex.shutdown()
        done.extend(new)
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
        workers,
        {"resumed_replications": reps - len(todo), "experiment_hash": key, **budget_info},
    )
    write_json(out / "manifest.json", man)
    return RunOutput(result, summary, out, man)
