"""What the budget-neutral search (`sim.experiment.budget`) and the workforce sizing
(`sim.experiment.sizing`) share.

Both look for a value per scheme (a factor on its variable pay, a headcount) by simulating
candidates: each candidate of each scheme over the same replications 0..reps-1 of the
run's seed (common random numbers), every scheme simulated alone as the run simulates it
(`scheme_kpis`). A *round* is one candidate per scheme still searching, all of their
replications run together as tasks on the backend given (`run_round`,
`sim.experiment.executor`); a task is a `SchemeTask` with the candidate.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TypeVar

from sim.config.regions import region_seed
from sim.config.scenario import Scenario
from sim.experiment.executor import Backend, Task, execute
from sim.metrics.combine import combine
from sim.metrics.kpis import replication_kpis
from sim.model.replication import needs_baseline_first, scheme_scenario, simulate_scheme, world_for
from sim.pay.formula import PayFormula

P = TypeVar("P", bound=Hashable)
T = TypeVar("T", bound=Task)
R = TypeVar("R")


@dataclass(frozen=True)
class SchemeTask:
    """One replication of one scheme: what every search task holds besides its candidate."""

    scenario: Scenario
    seed: int
    replication: int
    scheme: str


def scheme_kpis(
    sc: Scenario, seed: int, rep: int, name: str, formula: PayFormula | None = None
) -> tuple[PayFormula, dict[str, float], list[dict[str, float]]]:
    """Scheme `name` in replication `rep`, simulated alone as the run simulates it: its
    formula (its own, or `formula`), KPIs and per-technician rows. With attrition judged
    against the baseline, the baseline is simulated first on the same world for the
    technicians' reference pay (`sim.model.replication.needs_baseline_first`). With regions,
    each region in turn, the KPIs combined and the technicians' rows in region order
    (`sim.experiment.regions`)."""
    if sc.regions:
        from sim.experiment.regions import regions_of

        parts, techs = [], []
        f = formula
        for k, (_name, rsc) in enumerate(regions_of(sc)):
            bases: dict[str, float] = {}
            f, kpis, t = _scheme_kpis(rsc, region_seed(seed, k), rep, name, formula, bases)
            parts.append((kpis, bases))
            techs.extend(t)
        assert f is not None
        return f, combine(parts)[0], techs
    return _scheme_kpis(sc, seed, rep, name, formula)


def _scheme_kpis(
    sc: Scenario,
    seed: int,
    rep: int,
    name: str,
    formula: PayFormula | None = None,
    bases: dict[str, float] | None = None,
) -> tuple[PayFormula, dict[str, float], list[dict[str, float]]]:
    world = world_for(sc, seed, rep)
    ref = None
    base = sc.baseline_scheme
    if needs_baseline_first(sc) and name != base:
        ref = simulate_scheme(sc, world, base)[1].reference_pay
    formula, out = simulate_scheme(sc, world, name, ref, formula)
    kpis, techs = replication_kpis(scheme_scenario(sc, name), out, formula, bases)
    return formula, kpis, techs


def run_round(
    points: list[P],
    reps: int,
    task: Callable[[P, int], T],
    run: Callable[[T], R],
    backend: Backend,
) -> dict[P, list[R]]:
    """Replications 0..reps-1 of every point as the tasks `task(point, rep)`, run together
    on `backend` (`run` as for `execute`): each point's results in replication order, so
    that a mean over them sums in the same order wherever the tasks ran."""
    tasks = [task(p, rep) for p in points for rep in range(reps)]
    found: dict[str, R] = {}

    def keep(t: T, result: R) -> None:
        found[t.key] = result

    execute(tasks, run, backend, keep)
    return {
        p: [found[t.key] for t in tasks[k * reps : (k + 1) * reps]] for k, p in enumerate(points)
    }
