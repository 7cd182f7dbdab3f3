"""A sweep's tasks: chunks of replications of one design point.

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
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sim.config.scenario import Scenario
from sim.experiment.guard import estimate_replication_seconds
from sim.experiment.tasks import run_replication

TARGET_TASK_SECONDS = 2.0


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
