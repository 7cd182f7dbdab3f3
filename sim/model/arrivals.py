"""Failures and T&M calls: each opens a problem whose first visit is ready at its time.

Most arrivals are not SimPy events. An arrival reads whether the account is still a
customer (and its failure-rate multiplier), queues the visit, and wakes an idle technician
if one may take it. Only that waking needs the arrival to happen at its time, so an
arrival is an event (`Arrivals.watch`) only while a technician is idle on shift; the others
are applied later, in time order and with their own times, by `Arrivals.until(now)`, which
every process calls before it reads or changes what an arrival reads or writes: the
technician before it takes a job and after each visit, the planned visits and the next
visits before they queue, the daily process at midnight, `simulate` at the horizon. The
renewals (`sim.model.renewals`) are applied the same way, in between: before each
arrival that checks an account, those due before it.

Each arrival keeps the time SimPy gave it when the contract failures and the T&M calls were
two processes, each waiting `timeout(t - now)` for its next time `t` (`event_times`), so
the queue-length integral, the counters and the order of the queue are unchanged, number
for number. The idle technicians are the same at an arrival's time whether it is an event
or not: a technician goes idle only after applying the arrivals before it, and then makes
the next arrival an event if it falls on shift (off shift nobody is woken, and the next
shift start wakes everyone).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence

import numpy as np
import simpy

from sim.model.context import Context
from sim.model.renewals import Renewals
from sim.model.state import TM_CALL
from sim.model.technician import VisitRules
from sim.world.draws import World
from sim.world.views import packed


def event_times(times: Sequence[float]) -> list[float]:
    """The times a process waiting `timeout(t - now)` for each of `times` in turn wakes at
    (`now + (t - now)`, which may differ from `t` in the last bit)."""
    out = []
    now = 0.0
    for t in times:
        now = now + (t - now)
        out.append(now)
    return out


def arrival_order(world: World) -> tuple[array[float], array[int]]:
    """Times and problems of the contract failures and the T&M calls, merged in time
    order, failures first at equal times (computed once per world and shared by the
    schemes)."""
    got = world.cache.get("arrivals")
    if got is None:
        ft = world.failure_t
        n, m = world.tm_first, world.planned_first
        times = np.array(event_times(ft[:n]) + event_times(ft[n:m]))
        order = np.argsort(times, kind="stable")  # both runs sorted: a stable merge
        got = world.cache["arrivals"] = (packed("d", [times[order]]), packed("q", [order]))
    return got


def delay_to(now: float, t: float) -> float:
    """The delay d >= 0 with now + d == t exactly (so an event falls at time t)."""
    d = t - now
    while now + d < t:
        d = math.nextafter(d, math.inf)
    while now + d > t and d > 0.0:
        d = math.nextafter(d, -math.inf)
    return d


class Arrivals:
    """The contract failures and T&M calls of a run, applied in time order (see above)."""

    def __init__(self, ctx: Context, rules: VisitRules, renewals: Renewals) -> None:
        w = ctx.world
        self.env, self.cal, self.jobs, self.renewals = ctx.env, ctx.cal, ctx.jobs, renewals
        self.active, self.mult = ctx.accounts.active, ctx.accounts.multiplier
        self.f_t, self.f_cust, self.tm_first = w.failure_t, w.failure_customer, w.tm_first
        self.keep_u, self.top = w.keep_u, w.max_multiplier
        self.out = ctx.out
        self.deadline, self.patience = rules.first_deadlines(), rules.tm_patience
        self.times, self.problems = arrival_order(w)
        self.k = 0  # the next arrival
        self.next_t = self.times[0] if self.times else math.inf
        self.due = min(self.next_t, renewals.due)  # when an arrival or a renewal is next due
        self.armed = False  # the next arrival is an event

    def until(self, now: float) -> None:
        """Apply every arrival and renewal due before `now`, in time order."""
        while self.next_t < now:
            self._arrive()
        renewals = self.renewals
        if renewals.due < now:
            renewals.until(now)
        self.due = min(self.next_t, renewals.due)

    def _arrive(self) -> None:
        """The next arrival, at its time: a failure of an active account (kept by the
        maintenance thinning, docs/model.md) or a T&M call queues its first visit."""
        k = self.k
        t, p = self.times[k], self.problems[k]
        self.k = k + 1
        self.next_t = self.times[k + 1] if k + 1 < len(self.times) else math.inf
        if p < self.tm_first:
            if self.renewals.due < t:
                self.renewals.until(t)
            c = self.f_cust[p]
            keep_u = self.keep_u
            if self.active[c] and (keep_u is None or keep_u[p] * self.top < self.mult[c]):
                self.out.failures_opened += 1
                self.jobs.ready((p, 1, self.f_t[p], self.deadline[p], -1, False), t)
        else:  # a T&M call waits, after every repair and planned visit, until its patience ends
            f = self.f_t[p]
            self.jobs.ready((p, 1, f, f + self.patience, -1, False), t, TM_CALL)

    def watch(self) -> None:
        """A technician has gone idle: make the next arrival an event if it is on shift."""
        if self.armed or self.next_t == math.inf or not self.cal.on_shift(self.next_t):
            return
        self.armed = True
        # (float: the clock may be a numpy float after a learning technician's visit; the
        # arrival's event time stays the Python float it was as a process's timeout)
        delay = delay_to(float(self.env.now), self.next_t)
        self.env.timeout(delay).callbacks.append(self._event)

    def _event(self, _event: simpy.Event) -> None:
        """The next arrival as an event: it may wake an idle technician."""
        self.armed = False
        self.until(self.env.now)  # the renewals due before it
        self._arrive()
        self.due = min(self.next_t, self.renewals.due)
        if self.jobs.idle:
            self.watch()
