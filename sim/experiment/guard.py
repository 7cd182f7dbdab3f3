"""The resource guard: refuse, before anything is written, what cannot fit this machine.

A simple, documented estimate from the scenario's size (no simulation is run):

- expected failures of one replication: F = customers.count x failures_per_year x
  horizon_days / 365 (each opens at least one visit);
- time: one replication of every scheme takes about schemes x (COST_PER_FAILURE_S x F +
  COST_PER_SCHEME_S) seconds on one core (20 us per failure and scheme, measured on the
  bundled scenarios with `benchmarks/bench_run.py`); an experiment takes replications x
  points x that, divided by the workers;
- memory: each busy local worker holds WORKER_BASE_BYTES (a process with numpy, pandas
  and SimPy) plus BYTES_PER_FAILURE x F (the world's draws and one scheme's visit records
  at a time: 2.3 and 2.2 KB per failure measured on hvac, four schemes, at 1x and 3x its
  customers, 2026-12-06; docs/performance.md section 2); the main process holds every
  result row until the tables are written, BYTES_PER_ROW each (a run keeps per scheme and
  replication one KPI row, a row per technician, per week, and per week and technician;
  a sweep one KPI row per point, scheme and replication), and BYTES_PER_POINT per design
  point (its validated scenario).

It refuses an experiment whose memory exceeds MEMORY_SHARE of the memory available now
(MemAvailable, or the cgroup's limit when lower), or whose time exceeds MAX_SECONDS, with
the estimate and what to change; `force` runs it anyway.
"""

from __future__ import annotations

import contextlib
import math
import os
from dataclasses import dataclass
from pathlib import Path

from sim.config.scenario import Scenario

COST_PER_FAILURE_S = 20e-6
COST_PER_SCHEME_S = 0.01
BYTES_PER_FAILURE = 2_400
WORKER_BASE_BYTES = 120 << 20
BYTES_PER_ROW = 1_000
BYTES_PER_POINT = 30_000
MEMORY_SHARE = 0.8
MAX_SECONDS = 24 * 3600.0


class ResourceError(ValueError):
    """An experiment too large for this machine: one line with the estimate."""


def expected_failures(customers: float, failures_per_year: float, horizon_days: float) -> float:
    return customers * failures_per_year * horizon_days / 365.0


def replication_seconds(failures: float, schemes: int) -> float:
    """Rough single-core seconds of one replication (all schemes)."""
    return schemes * (COST_PER_FAILURE_S * failures + COST_PER_SCHEME_S)


def estimate_replication_seconds(scenario: Scenario) -> float:
    """Rough single-core seconds of one replication (all schemes) of a scenario."""
    c = scenario.customers
    f = expected_failures(c.count, c.failures_per_year, scenario.horizon_days)
    return replication_seconds(f, len(scenario.schemes))


@dataclass(frozen=True)
class Size:
    """What the estimate needs of one scenario (or of one design point)."""

    failures: float
    technicians: float
    weeks: float
    schemes: int

    @classmethod
    def of(cls, scenario: Scenario, overrides: dict[str, object] | None = None) -> Size:
        """The size of `scenario`, with swept values (`path -> value`) taken into account."""
        o = overrides or {}

        def get(path: str, default: float) -> float:
            v = o.get(path, default)
            return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else default

        c = scenario.customers
        horizon = get("horizon_days", scenario.horizon_days)
        failures = expected_failures(
            get("customers.count", c.count),
            get("customers.failures_per_year", c.failures_per_year),
            horizon,
        )
        techs = get("workforce.technicians", scenario.workforce.technicians)
        return cls(failures, techs, math.ceil(horizon / 7.0), len(scenario.schemes))


@dataclass(frozen=True)
class Estimate:
    memory_bytes: float
    seconds: float
    workers: int


def available_memory() -> float | None:
    """Bytes of memory this process may still use (None when unknown)."""
    found: list[float] = []
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(float(line.split()[1]) * 1024)
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = Path("/sys/fs/cgroup/memory.current").read_text().strip()
        if limit.isdigit() and used.isdigit():
            found.append(float(limit) - float(used))
    except OSError:
        pass
    if not found and hasattr(os, "sysconf"):
        with contextlib.suppress(OSError, ValueError):
            found.append(float(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")))
    return min(found) if found else None


def estimate(
    sizes: list[Size], reps: int, workers: int, local: bool = True, sweep: bool = False
) -> Estimate:
    """Memory and wall time of `reps` replications of each point in `sizes` on `workers`."""
    busy = max(1, min(workers, reps * len(sizes)))
    biggest = max(s.failures for s in sizes)
    worker_mem = (WORKER_BASE_BYTES + BYTES_PER_FAILURE * biggest) * (busy if local else 0)
    if not local:
        busy = max(1, workers)
    if sweep:
        rows = float(sum(reps * s.schemes for s in sizes))
    else:
        rows = sum(reps * s.schemes * (1 + s.technicians + s.weeks * (1 + s.technicians))
                   for s in sizes)  # fmt: skip
    parent = BYTES_PER_ROW * rows + BYTES_PER_POINT * len(sizes)
    seconds = sum(reps * replication_seconds(s.failures, s.schemes) for s in sizes) / busy
    return Estimate(worker_mem + parent, seconds, busy)


def _bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if n < 1024 or unit == "PB":
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} PB"  # pragma: no cover


def _duration(s: float) -> str:
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.0f} min"
    if s < 2 * 86400:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.3g} days"


def check_resources(est: Estimate, what: str, change: str, force: bool) -> None:
    """Raise ResourceError when `est` does not fit this machine (unless `force`)."""
    if force:
        return
    avail = available_memory()
    too_big = avail is not None and est.memory_bytes > MEMORY_SHARE * avail
    too_long = est.seconds > MAX_SECONDS
    if not (too_big or too_long):
        return
    mem = f"about {_bytes(est.memory_bytes)} of memory"
    if avail is not None:
        mem += f" ({_bytes(avail)} available)"
    raise ResourceError(
        f"running {what} is too large for this machine: {mem} and about {_duration(est.seconds)} "
        f"on {est.workers} worker{'s' if est.workers != 1 else ''} (estimate: "
        f"sim.experiment.guard); reduce {change}, or add --force to run it anyway"
    )


def estimate_regions(scenario: Scenario, reps: int, workers: int, local: bool) -> Estimate:
    """`estimate` for a scenario with regions, each region of each replication a task
    (`sim.experiment.regions`): a worker holds the largest region, the time is the sum of the
    regions', the main process holds the company's rows."""
    from sim.config.scenario import region_scenarios

    sizes = [Size.of(rsc) for _name, rsc in region_scenarios(scenario)]
    busy = max(1, min(workers, reps * len(sizes)))
    worker_mem = (WORKER_BASE_BYTES + BYTES_PER_FAILURE * max(s.failures for s in sizes)) * (
        busy if local else 0
    )
    whole = Size.of(scenario)
    rows = reps * whole.schemes * (1 + whole.technicians + whole.weeks * (1 + whole.technicians))
    seconds = sum(reps * replication_seconds(s.failures, s.schemes) for s in sizes)
    busy = busy if local else max(1, workers)
    return Estimate(worker_mem + BYTES_PER_ROW * rows + BYTES_PER_POINT, seconds / busy, busy)


def check_run(scenario: Scenario, reps: int, workers: int, local: bool, force: bool) -> Estimate:
    """The guard for `techsim run`: ResourceError naming what to reduce."""
    if scenario.regions:
        est = estimate_regions(scenario, reps, workers, local)
    else:
        est = estimate([Size.of(scenario)], reps, workers, local)
    check_resources(
        est,
        f"{reps} replications of {scenario.name!r}",
        "customers.count, horizon_days, workforce.technicians or --reps",
        force,
    )
    return est
