"""Dispatch: which waiting job a technician takes (docs/model.md section 3).

A dispatch rule is a `Dispatcher`: it orders the jobs within each job type's queue
(`priority`) and, when technician i is free, picks one of the jobs i is qualified for
(`take`), popping it from its queue. The technician process only calls `take`, so a new
rule plugs in as a class with this constructor and these two methods, passed to
`sim.model.simulation.simulate(dispatcher=...)`; `dispatcher_for` chooses the built-in
rule from the scenario:

- `PriorityDispatcher` (default): the head of the queues that comes first, that is the
  earliest SLA deadline (`workforce.dispatch: edf`) or the earliest ready time (`fifo`);
- `CherryPicking` (`gaming.cherry_picking`, `sim.behaviour.gaming`): the technician takes
  the head of the best-paying queue instead, when it pays enough more per hour and the
  most urgent job is not due within the SLA guard.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from operator import itemgetter
from typing import Protocol

from sim.config.scenario import Scenario
from sim.model.crew import Crew
from sim.model.state import RANK, Entry, Job

INF = math.inf


class Dispatcher(Protocol):
    """A dispatch rule, built once per simulation from the scenario and the crew."""

    def priority(self, job: Job) -> float:
        """The order of jobs within a job type's queue (smaller first, ties first come)."""
        ...

    def take(
        self, i: int, queues: list[list[Entry]], now: float, left: float = INF, spare: float = INF
    ) -> Job | None:
        """Pop and return the job technician i takes at `now`, or None to wait.
        `queues[j]` is the heap of job type j; `Crew.qualified[i]` lists the types i may
        take (a rule must not give i any other). A job whose expected hours
        (`Crew.need[i][j]`) exceed `left` (to the overtime cap) must not be given, nor
        planned work or a T&M call (priority >= RANK) whose expected hours exceed `spare`
        (to the shift end)."""
        ...


#: What `simulate` builds a dispatcher with.
DispatcherFactory = Callable[[Scenario, Crew], Dispatcher]


#: Priorities: a job's SLA deadline, or the time it became ready (`state.Job` fields).
by_deadline: Callable[[Job], float] = itemgetter(3)
by_ready: Callable[[Job], float] = itemgetter(2)


class PriorityDispatcher:
    """The head of the qualified queues with the smallest priority: earliest SLA deadline
    first (`edf`), or earliest ready first (`fifo`)."""

    def __init__(self, scenario: Scenario, crew: Crew) -> None:
        self.qualified = crew.qualified
        self.need = crew.need
        self.priority = by_ready if scenario.workforce.dispatch == "fifo" else by_deadline

    def take(
        self, i: int, queues: list[list[Entry]], now: float, left: float = INF, spare: float = INF
    ) -> Job | None:
        """The most urgent job i may take (and has the time for)."""
        best_q = None
        best_key = None
        need = self.need[i] if left < INF else None
        for j in self.qualified[i]:
            qj = queues[j]
            if qj and (best_key is None or qj[0][0] < best_key):
                if need is not None and need[j] > (left if qj[0][0] < RANK else spare):
                    continue
                best_key = qj[0][0]
                best_q = qj
        if best_q is None:
            return None
        return heapq.heappop(best_q)[2]


class CherryPicking(PriorityDispatcher):
    """The technician's pick (sim.behaviour.gaming): the head of the queue whose job type
    pays best per hour (`Crew.rates`), instead of the most urgent job, when it pays at least
    `min_gain_per_hour` more and the most urgent job is not due within `sla_guard_hours`."""

    def __init__(self, scenario: Scenario, crew: Crew) -> None:
        super().__init__(scenario, crew)
        self.rates = crew.rates
        self.guard = scenario.gaming.sla_guard_hours
        self.min_gain = scenario.gaming.min_gain_per_hour

    def take(
        self, i: int, queues: list[list[Entry]], now: float, left: float = INF, spare: float = INF
    ) -> Job | None:
        """The head of the best-paying queue i may take from, or the most urgent job."""
        urgent_q = pick_q = None
        urgent_key = None
        urgent_j, pick_r = 0, 0.0
        r = self.rates[i]
        need = self.need[i] if left < INF else None
        for j in self.qualified[i]:
            qj = queues[j]
            if qj:
                if need is not None and need[j] > (left if qj[0][0] < RANK else spare):
                    continue
                if urgent_key is None or qj[0][0] < urgent_key:
                    urgent_key, urgent_q, urgent_j = qj[0][0], qj, j
                if pick_q is None or r[j] > pick_r:
                    pick_r, pick_q = r[j], qj
        if urgent_q is None or pick_q is None:
            return None
        if (
            pick_q is not urgent_q
            and by_deadline(urgent_q[0][2]) - now > self.guard
            and pick_r - r[urgent_j] >= self.min_gain
        ):
            return heapq.heappop(pick_q)[2]
        return heapq.heappop(urgent_q)[2]


def dispatcher_for(scenario: Scenario) -> DispatcherFactory:
    """The scenario's dispatch rule."""
    return CherryPicking if scenario.gaming.cherry_picking else PriorityDispatcher
