"""Experiments: replications x schemes, run by `sim.experiment.executor`.

A task is one replication of every scheme: the world is drawn once (`sim.world.draws`) and
simulated under each scheme, so the schemes are paired by construction. Tasks are pure
functions of (scenario, seed, replication), so results do not depend on the backend,
the worker count or the order in which tasks finish.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sim.config.regions import region_seed
from sim.config.scenario import Scenario
from sim.experiment.executor import Backend, execute, local_backend
from sim.metrics.kpis import (
    BEHAVIOUR_COLUMNS,
    KPI_COLUMNS,
    TECH_COLUMNS,
    WEEK_COLUMNS,
    replication_kpis,
)
from sim.metrics.weekly import behaviour_rows, week_rows
from sim.model.replication import resolve_steady, scheme_scenario, simulate_schemes, world_for

RUN_ID_COLUMNS = ("scenario", "scheme", "replication", "seed")


@dataclass
class TaskResult:
    """Rows of one replication (all schemes)."""

    replication: int
    runs: list[dict[str, Any]] = field(default_factory=list)
    technicians: list[dict[str, Any]] = field(default_factory=list)
    weeks: list[dict[str, Any]] = field(default_factory=list)
    behaviour: list[dict[str, Any]] = field(default_factory=list)
    # a region's result (sim.experiment.regions): each runs row's bases, in order, and the
    # region's index (None: a whole replication)
    bases: list[dict[str, float]] = field(default_factory=list)
    region: int | None = None


def run_replication(
    scenario: Scenario,
    seed: int,
    replication: int,
    region: int | None = None,
    resolved: Scenario | None = None,
) -> TaskResult:
    """One replication of every scheme of the scenario (common random numbers). With
    regions: region `region` alone (`sim.experiment.regions.run_region`), or, when None,
    every region in turn, combined (`combine_regions`). `resolved`: the scenario (or the
    region's) with its steady book already resolved (`PilotTask`), simulated as it is."""
    if scenario.regions:
        from sim.experiment.regions import combine_regions, run_region

        if region is not None:
            return run_region(scenario, seed, replication, region, resolved)
        parts = [run_region(scenario, seed, replication, k) for k in range(len(scenario.regions))]
        return combine_regions(scenario, seed, replication, parts)
    return simulate_replication(resolved or scenario, seed, replication)


def simulate_replication(
    scenario: Scenario,
    seed: int,
    replication: int,
    ids: dict[str, Any] | None = None,
    with_bases: bool = False,
) -> TaskResult:
    """Every scheme of `scenario` on replication `replication` of `seed`; the rows carry
    `ids`' scenario name and seed (default: this scenario's and `seed`: a region's rows
    carry the company's) and, `with_bases`, the bases."""
    world = world_for(scenario, seed, replication)
    res = TaskResult(replication=replication)
    name_seed = ids or {"scenario": scenario.name, "seed": seed}
    for name, formula, out in simulate_schemes(scenario, world):
        sc = scheme_scenario(scenario, name)  # with the scheme's headcount
        bases: dict[str, float] | None = {} if with_bases else None
        kpis, techs = replication_kpis(sc, out, formula, bases)
        row = {"scenario": name_seed["scenario"], "scheme": name,
               "replication": replication, "seed": name_seed["seed"]}  # fmt: skip
        res.runs.append({**row, **kpis})
        if bases is not None:
            res.bases.append(bases)
        res.technicians.extend({**row, **t} for t in techs)
        res.weeks.extend({**row, **w} for w in week_rows(out))
        res.behaviour.extend({**row, **b} for b in behaviour_rows(sc, out, formula))
        del out  # this scheme's records, before the next scheme runs
    return res


@dataclass(frozen=True)
class ReplicationTask:
    """One replication of every scheme of a scenario: the unit of work of a run."""

    scenario: Scenario
    seed: int
    replication: int
    region: int | None = None  # one region of it (sim.experiment.regions)
    resolved: Scenario | None = None  # its steady book resolved once (`PilotTask`)

    @property
    def key(self) -> str:
        tail = "" if self.region is None else f"-r{self.region:04d}"
        return f"rep-{self.replication:05d}{tail}"

    def run(self) -> TaskResult:
        return run_replication(
            self.scenario, self.seed, self.replication, self.region, self.resolved
        )


@dataclass(frozen=True)
class PilotTask:
    """The steady book's pilot run of a scenario, or of one of its regions
    (`sim.model.replication.resolve_steady`): run once for a whole run as a task of its own,
    where each worker process would otherwise run it again (docs/performance.md)."""

    scenario: Scenario
    seed: int
    region: int | None = None

    @property
    def key(self) -> str:
        return "pilot" if self.region is None else f"pilot-r{self.region:04d}"

    def run(self) -> Scenario:
        """The scenario (the region's) with its steady rate resolved."""
        return resolve_steady(*scenario_and_seed(self.scenario, self.seed, self.region))


def scenario_and_seed(scenario: Scenario, seed: int, region: int | None) -> tuple[Scenario, int]:
    """What a task simulates: the scenario and seed, or region `region`'s own."""
    if region is None:
        return scenario, seed
    from sim.experiment.regions import regions_of

    return regions_of(scenario)[region][1], region_seed(seed, region)


def steady_pilots(scenario: Scenario, seed: int, backend: Backend) -> dict[int | None, Scenario]:
    """The scenario (key None), or each region (key its index), with its steady book
    resolved: each pilot run once, as a task on `backend`; empty when no book is steady."""
    keys: list[int | None] = list(range(len(scenario.regions))) or [None]
    pilots = [
        PilotTask(scenario, seed, k)
        for k in keys
        if scenario_and_seed(scenario, seed, k)[0].customers.new_accounts_per_year == "steady"
    ]
    got: dict[int | None, Scenario] = {}
    execute(pilots, PilotTask.run, backend, lambda t, sc: got.__setitem__(t.region, sc))
    return got


def with_pilots(
    tasks: list[ReplicationTask], resolved: dict[int | None, Scenario]
) -> list[ReplicationTask]:
    """`tasks`, each with its scenario's (region's) resolved steady book, if it has one."""
    return [dataclasses.replace(t, resolved=resolved.get(t.region)) for t in tasks]


@dataclass
class ExperimentResult:
    """The tables of a run: one row per scheme x replication (runs), and the details."""

    scenario: Scenario
    seed: int
    replications: int
    runs: pd.DataFrame
    technicians: pd.DataFrame
    weeks: pd.DataFrame
    behaviour: pd.DataFrame | None = None  # weekly thoroughness per technician (behaviour.csv)


def tasks_for(scenario: Scenario, seed: int, replications: Iterable[int]) -> list[ReplicationTask]:
    """The tasks of these replications: one each, or with regions one per region."""
    regions: list[int | None] = list(range(len(scenario.regions))) or [None]
    return [ReplicationTask(scenario, seed, rep, k) for rep in replications for k in regions]


def run_tasks(
    scenario: Scenario,
    seed: int,
    replications: Iterable[int],
    backend: Backend | None = None,
    on_done: Callable[[TaskResult], None] | None = None,
) -> list[TaskResult]:
    """Run replications on `backend` (in this process when None); results by replication.

    `on_done` sees each result as it finishes (in completion order)."""
    tasks = [ReplicationTask(scenario, seed, rep) for rep in replications]
    results: list[TaskResult] = []

    def keep(_task: ReplicationTask, result: TaskResult) -> None:
        results.append(result)
        if on_done:
            on_done(result)

    execute(tasks, ReplicationTask.run, backend or local_backend(1), keep)
    return sorted(results, key=lambda r: r.replication)


def sort_rows(df: pd.DataFrame, scenario: Scenario, by: list[str]) -> pd.DataFrame:
    """Rows sorted by `by`, where "scheme" sorts in the scenario's scheme order (stable)."""
    if not len(df):
        return df
    order = {name: k for k, name in enumerate(scenario.schemes)}
    return df.sort_values(
        by, key=lambda s: s.map(order) if s.name == "scheme" else s, kind="stable"
    ).reset_index(drop=True)


def assemble(scenario: Scenario, seed: int, results: list[TaskResult]) -> ExperimentResult:
    """Tables in a fixed order: scheme order of the scenario, then replication."""

    def frame(rows: list[dict[str, Any]], cols: tuple[str, ...], extra: list[str]) -> pd.DataFrame:
        df = pd.DataFrame(rows, columns=list(RUN_ID_COLUMNS) + list(cols))
        return sort_rows(df, scenario, ["scheme", "replication", *extra])

    runs = frame([r for t in results for r in t.runs], KPI_COLUMNS, [])
    techs = frame([r for t in results for r in t.technicians], TECH_COLUMNS, ["tech"])
    weeks = frame([r for t in results for r in t.weeks], WEEK_COLUMNS, ["week"])
    beh = frame(
        [r for t in results for r in getattr(t, "behaviour", [])],
        BEHAVIOUR_COLUMNS,
        ["week", "tech"],
    )
    return ExperimentResult(scenario, seed, len(results), runs, techs, weeks, beh)


def run_experiment(
    scenario: Scenario,
    replications: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    on_done: Callable[[TaskResult], None] | None = None,
) -> ExperimentResult:
    """All schemes x replications of a scenario, on `workers` local processes."""
    reps = scenario.replications if replications is None else replications
    seed = scenario.seed if seed is None else seed
    with local_backend(workers) as backend:
        results = run_tasks(scenario, seed, range(reps), backend, on_done)
    return assemble(scenario, seed, results)
