"""Workforce sizing: each scheme's smallest headcount that meets a service target.

With `workforce.sizing` a target such as `sla_compliance >= 0.9` (`sim.config.sizing`), a
scheme that frees capacity needs fewer technicians and one that consumes it needs more,
and that difference shows in labour cost. For every scheme s find

    n_s = min { n in 1..N : mean_r KPI_s(n, r) meets the target },   N = max_technicians

where KPI_s(n, r) is the KPI of replication r of scheme s run with n technicians and the
mean is over the first `sizing_search.replications` replications of the run's seed (4 by
default). Every candidate headcount of every scheme sees the same replications, and each
replication the same world (common random numbers): customers, failures and visit draws
come from streams keyed by name (`sim.world.rng`), and the world draws `N` technician
slots of which a headcount of n takes the first n (`sim.model.replication.crew_world`), so
technician i has the same skill at every headcount. Behaviour is re-optimised at every n.

The search relies on the KPI being monotone in headcount in expectation (more technicians,
shorter queues: SLA compliance rises, utilisation falls; `sim.config.sizing` allows only
such KPIs, each with its direction). It brackets, then bisects on integers:

- evaluate the nominal headcount n0 = `workforce.technicians`;
- bracket: if n0 meets the target, step down (n0 - 1, n0 - 2, n0 - 4, ..., floored at 1)
  until a headcount fails or 1 meets; otherwise step up (n0 + 1, n0 + 2, n0 + 4, ...,
  capped at N) until one meets, or fail with `SizingError` when N does not;
- bisect between the largest failing and the smallest meeting headcount until they are
  adjacent: the answer is the meeting one.

Noise: the means of a few replications need not be monotone in n even though the
expectation is; the answer always has a mean that meets the target (the target is never
taken as met by a mean that falls short) and its neighbour n - 1 was evaluated and fails
(unless n = 1). All schemes advance together, one round of (scheme, headcount, replication)
tasks at a time on the backend given (`sim.experiment.executor`); no (scheme, headcount) is
simulated twice. With attrition judged against the baseline, the baseline is sized first and
the other schemes' technicians compare their pay with the baseline at its headcount, as in
the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sim.config.scenario import Scenario
from sim.config.sizing import SizingTarget
from sim.experiment.executor import Backend, local_backend
from sim.experiment.search import SchemeTask, run_round, scheme_kpis
from sim.model.replication import needs_baseline_first, resolve_steady


class SizingError(ValueError):
    """No headcount up to the search's largest meets the target."""


@dataclass
class SizingResult:
    target: SizingTarget
    headcount: dict[str, int]  # scheme -> smallest headcount meeting the target
    evaluations: dict[str, dict[int, float]]  # scheme -> headcount -> mean KPI
    replications: int
    nominal: int  # workforce.technicians
    max_technicians: int

    def manifest(self) -> dict[str, Any]:
        return {
            "target": str(self.target),
            "kpi": self.target.kpi,
            "headcount": dict(self.headcount),
            "nominal_technicians": self.nominal,
            "max_technicians": self.max_technicians,
            "replications": self.replications,
            "evaluations": {
                s: {str(n): round(v, 6) for n, v in sorted(ev.items())}
                for s, ev in self.evaluations.items()
            },
            "method": "bracket from the nominal headcount with doubling steps, then bisect on "
            "integers; the mean KPI over the replications must meet the target; common random "
            "numbers (sim.experiment.sizing)",
        }


@dataclass(frozen=True)
class SizingTask(SchemeTask):
    """One replication of one scheme with one headcount: its KPI."""

    technicians: int
    kpi: str

    @property
    def key(self) -> str:
        return f"{self.scheme}-n{self.technicians}-rep-{self.replication:05d}"

    def run(self) -> float:
        return evaluate(
            self.scenario, self.seed, self.replication, self.scheme, self.technicians, self.kpi
        )


def evaluate(sc: Scenario, seed: int, rep: int, name: str, n: int, kpi: str) -> float:
    """The KPI `kpi` of replication `rep` of scheme `name` run with `n` technicians."""
    sc = sc.model_copy(update={"headcount": {**sc.headcount, name: n}})
    return float(scheme_kpis(sc, seed, rep, name)[1][kpi])


@dataclass
class _Bracket:
    """The search of one scheme: the largest failing and smallest meeting headcount so far."""

    start: int
    bound: int
    fails: int | None = None
    meets: int | None = None
    step: int = 1
    seen: dict[int, float] = field(default_factory=dict)

    def record(self, n: int, mean: float, ok: bool) -> None:
        self.seen[n] = mean
        if ok:
            self.meets = n if self.meets is None else min(self.meets, n)
        else:
            self.fails = n if self.fails is None else max(self.fails, n)

    def done(self) -> bool:
        if self.meets is None:
            return False
        return self.meets == 1 or (self.fails is not None and self.meets - self.fails <= 1)

    def next(self) -> int:
        """The next headcount to evaluate (call when not done)."""
        if self.meets is None and self.fails is None:
            return self.start
        if self.meets is None:  # everything so far fails: step up
            assert self.fails is not None
            n = min(self.fails + self.step, self.bound)
        elif self.fails is None:  # everything so far meets: step down
            n = max(self.meets - self.step, 1)
        else:
            return (self.fails + self.meets) // 2
        self.step *= 2
        return n


def find_headcounts(
    scenario: Scenario, seed: int | None = None, backend: Backend | None = None
) -> SizingResult:
    """The smallest headcount of every scheme that meets `workforce.sizing` (see the module
    doc), its simulations on `backend` (in this process when None)."""
    target = scenario.sizing_target
    if target is None:
        raise SizingError("workforce.sizing is 'fixed': there is no target to size to")
    seed = scenario.seed if seed is None else seed
    reps = scenario.sizing_search.replications
    backend = backend or local_backend(1)
    # resolve a steady acquisition rate once: the same world for every candidate
    sc = resolve_steady(scenario, seed).model_copy(update={"headcount": {}})
    nominal, bound = sc.workforce.technicians, sc.max_technicians
    names = list(sc.schemes)
    groups = [names]
    if needs_baseline_first(sc):
        base = sc.baseline_scheme
        groups = [[base], [n for n in names if n != base]]
    found: dict[str, int] = {}
    brackets = {n: _Bracket(nominal, bound) for n in names}
    for group in groups:
        sc_group = sc.model_copy(update={"headcount": dict(found)})
        todo = list(group)
        while todo:
            points = [(s, brackets[s].next()) for s in todo]
            means = _mean_kpi(sc_group, seed, reps, points, target.kpi, backend)
            for s, n in points:
                b = brackets[s]
                b.record(n, means[(s, n)], target.met(means[(s, n)]))
                if b.meets is None and n == bound:
                    raise SizingError(_unmet(s, target, bound, means[(s, n)]))
            todo = [s for s in todo if not brackets[s].done()]
        for s in group:
            meets = brackets[s].meets
            assert meets is not None
            found[s] = meets
    return SizingResult(
        target=target,
        headcount={s: found[s] for s in names},
        evaluations={s: dict(brackets[s].seen) for s in names},
        replications=reps,
        nominal=nominal,
        max_technicians=bound,
    )


def _unmet(scheme: str, target: SizingTarget, bound: int, mean: float) -> str:
    return (
        f"no headcount up to {bound} (sizing_search.max_technicians) meets {target} for "
        f"scheme {scheme!r}: with {bound} technicians the mean {target.kpi} is {mean:.4g}"
    )


def _mean_kpi(
    scenario: Scenario,
    seed: int,
    reps: int,
    points: list[tuple[str, int]],
    kpi: str,
    backend: Backend,
) -> dict[tuple[str, int], float]:
    """The mean KPI over replications 0..reps-1 of every (scheme, headcount)."""

    def task(point: tuple[str, int], rep: int) -> SizingTask:
        return SizingTask(scenario, seed, rep, *point, kpi)

    results = run_round(points, reps, task, SizingTask.run, backend)
    # in replication order: the same sum everywhere
    return {point: sum(values) / reps for point, values in results.items()}


def size_workforce(
    scenario: Scenario, seed: int | None = None, backend: Backend | None = None
) -> tuple[Scenario, SizingResult]:
    """The scenario with `headcount` set to each scheme's smallest headcount meeting the
    target, and the search."""
    res = find_headcounts(scenario, seed, backend)
    data = scenario.model_dump(mode="python")
    data["headcount"] = dict(res.headcount)
    return Scenario.model_validate(data), res
