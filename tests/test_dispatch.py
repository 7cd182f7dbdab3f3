"""Dispatch as a replaceable component: a rule plugs into `simulate` without touching the
technician process (sim.model.dispatch)."""

from __future__ import annotations

import heapq

import numpy as np
from conftest import tiny_scenario

from sim.behaviour.best_response import choose_behaviour
from sim.config.scenario import Scenario
from sim.model.crew import Crew
from sim.model.dispatch import CherryPicking, PriorityDispatcher, by_deadline, dispatcher_for
from sim.model.simulation import simulate
from sim.model.state import Entry, Job
from sim.pay.formula import formula_for
from sim.pay.ledger import columns
from sim.world.draws import build_world
from sim.world.records import VISIT_FIELDS


class LowestTypeFirst:
    """A rule of our own: the job type with the lowest index among those the technician may
    take, earliest deadline first within it."""

    def __init__(self, scenario: Scenario, crew: Crew) -> None:
        self.qualified = crew.qualified
        self.priority = by_deadline

    def take(self, i: int, queues: list[list[Entry]], now: float) -> Job | None:
        for j in sorted(self.qualified[i]):
            if queues[j]:
                return heapq.heappop(queues[j])[2]
        return None


def _busy() -> Scenario:
    """A loaded tiny world, so that queues form and the rule matters."""
    return tiny_scenario(
        {"horizon_days": 150, "customers": {"count": 1300}, "workforce": {"technicians": 5}}
    )


def test_the_scenario_chooses_the_built_in_rule():
    assert dispatcher_for(_busy()) is PriorityDispatcher
    assert dispatcher_for(tiny_scenario({"gaming": {"cherry_picking": True}})) is CherryPicking


def test_a_custom_dispatcher_changes_who_takes_what_and_conserves_jobs():
    sc = _busy()
    world = build_world(sc, sc.seed, 0)
    theta, pace = choose_behaviour(sc, formula_for(sc, "jobs_per_day"), world.skill)
    default = simulate(sc, world, theta, pace=pace)
    custom = simulate(sc, world, theta, dispatcher=LowestTypeFirst, pace=pace)
    a, b = columns(default.visits, VISIT_FIELDS), columns(custom.visits, VISIT_FIELDS)
    # simple jobs (type 0) wait less, complex ones (type 2) longer than under the default
    wait_a, wait_b = a["t_start"] - a["t_ready"], b["t_start"] - b["t_ready"]
    assert wait_b[b["job_type"] == 0].mean() < wait_a[a["job_type"] == 0].mean()
    assert wait_b[b["job_type"] == 2].mean() > wait_a[a["job_type"] == 2].mean()
    # the same first visits, taken in another order by other technicians
    first_a = {(p, t) for p, t, n in zip(a["problem"], a["tech"], a["visit_no"]) if n == 1}
    first_b = {(p, t) for p, t, n in zip(b["problem"], b["tech"], b["visit_no"]) if n == 1}
    assert first_a != first_b
    # every job is accounted for: created = completed + waiting + in service
    for out in (default, custom):
        assert out.jobs_created == out.jobs_completed + out.jobs_waiting + out.jobs_in_service
        assert out.jobs_completed == len(out.visits)
    # and each technician took only job types they are qualified for
    crew = Crew.start(sc, None, theta, world.skill, [0.0] * len(theta))
    for tech, job_type in zip(b["tech"].astype(int), b["job_type"].astype(int)):
        assert job_type in crew.qualified[tech]
    assert np.isfinite(b["t_done"]).all()
