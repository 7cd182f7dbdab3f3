"""The state the processes of one simulation share: jobs on their way, and the accounts.

`Jobs` keeps the jobs waiting for a technician (one priority queue per job type, ordered
by the dispatcher's `priority`), the technicians idle for want of one, the integral of
the queue length (for the mean queue length) and the counters that let tests check the
run conserves jobs. `Accounts` keeps who is still a customer and how the problems of each
account's current term ended (docs/model.md section 1, "Memory").
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

import simpy

from sim.world.calendar import Calendar
from sim.world.records import (
    AFTER_RETURN,
    CALLBACK,
    FIRST_TIME,
    FIXED,
    LATE,
    LOOKED_FIXED,
    NOT_FIXED,
    PART_MISSING,
    TERM_CLASSES,
)

#: One visit to a problem, waiting or scheduled: (problem, visit_no, t_ready, deadline,
#: caused_by, is_callback), with visit_no 1 for the first visit, deadline = t_ready + the
#: customer's SLA hours, caused_by the technician whose visit made this one necessary (-1
#: for a first visit), and is_callback whether the problem had been closed as fixed. A
#: plain tuple, like `sim.world.records.VisitRow`, for the speed of the hot loop.
Job = tuple[int, int, float, float, int, bool]

#: A queue entry: (priority, arrival number, job); heaps order by the first two.
Entry = tuple[float, int, Job]

#: Ranks of work: a job of rank k goes after every waiting job of a lower rank (its priority
#: is offset by k * RANK, more hours than any horizon holds).
REPAIR, PLANNED, TM_CALL = 0, 1, 2
RANK = 1e7


def nothing(_now: float) -> None:
    pass


class Jobs:
    """Jobs waiting per job type, technicians idle for want of a job, and job counters."""

    __slots__ = (
        "_last",
        "area",
        "cal",
        "can_do",
        "catch_up",
        "created",
        "created_measured",
        "env",
        "idle",
        "in_service",
        "job_type",
        "lost",
        "priority",
        "queues",
        "scheduled",
        "seq",
        "waiting",
        "warmup",
    )

    def __init__(
        self,
        env: simpy.Environment,
        cal: Calendar,
        job_type: Sequence[int],
        can_do: list[list[bool]],
        priority: Callable[[Job], float],
        warmup: float,
    ) -> None:
        """`job_type`: the job type of each problem; `can_do[j][i]`: technician i may take
        job type j (the crew's list, changed in place when skills change); `priority`: the
        order within a job type's queue (smaller first)."""
        self.env, self.cal, self.job_type, self.can_do = env, cal, job_type, can_do
        self.priority, self.warmup = priority, warmup
        self.queues: list[list[Entry]] = [[] for _ in can_do]
        self.idle: dict[int, simpy.Event] = {}  # technician -> the event that wakes them
        self.seq = 0  # jobs queued so far (ties in priority go first come, first served)
        self.waiting = 0  # jobs in the queues
        self.area = 0.0  # integral of `waiting` over time, since the start or the warm-up
        self._last = 0.0  # when `waiting` last changed
        self.created = 0  # visits that entered the queues
        self.created_measured = 0  # ... after the warm-up
        self.scheduled = 0  # next visits scheduled but not yet ready
        self.in_service = 0  # travelling or on site
        self.lost = 0  # T&M calls nobody started within their patience
        # applies the arrivals due before a time (`sim.model.arrivals.Arrivals.until`), called
        # before a next visit is queued
        self.catch_up: Callable[[float], None] = nothing

    def count(self, now: float, delta: int) -> None:
        """Change the number waiting by `delta` at `now`, integrating the queue length."""
        self.area += self.waiting * (now - self._last)
        self._last = now
        self.waiting += delta

    def restart_area(self, now: float) -> None:
        """Start the queue-length integral afresh at `now` (the end of the warm-up)."""
        self.count(now, 0)
        self.area = 0.0

    def ready(self, job: Job, now: float, rank: int = REPAIR) -> None:
        """Queue a visit at `now` under its job type (after all waiting jobs of a lower
        `rank`) and wake an idle technician who may take it."""
        self.created += 1
        if now >= self.warmup:
            self.created_measured += 1
        j = self.job_type[job[0]]  # the problem's job type
        self.seq += 1
        key = self.priority(job) + rank * RANK if rank else self.priority(job)
        heapq.heappush(self.queues[j], (key, self.seq, job))
        self.area += self.waiting * (now - self._last)  # self.count(now, 1), inlined
        self._last = now
        self.waiting += 1
        idle = self.idle
        if idle and self.cal.on_shift(now):
            ok = self.can_do[j]
            for i in idle:
                if ok[i]:
                    idle.pop(i).succeed()
                    break

    def schedule(self, job: Job, delay: float) -> None:
        """Queue `job` after `delay` hours."""
        self.scheduled += 1
        self.env.timeout(delay).callbacks.append(partial(self._scheduled_ready, job))

    def _scheduled_ready(self, job: Job, _event: simpy.Event) -> None:
        now = self.env.now
        self.catch_up(now)
        self.scheduled -= 1
        self.ready(job, now)

    def wake_all(self) -> None:
        """Wake every idle technician (at a shift start: jobs may have queued overnight)."""
        idle = self.idle
        for i in list(idle):
            idle.pop(i).succeed()


@dataclass
class Accounts:
    """Who is a customer, how the problems of each account's current term ended, and the
    failure-rate multiplier its last planned visit left (docs/model.md, "Memory", "Planned
    maintenance").

    `problems[k][c]`: account c's problems of the term that ended in class k (a
    `sim.world.records.TERM_CLASSES` index), reset at each renewal; `unresolved[c]`: its
    problems a visit left known not fixed and no visit has fixed since (a state, not reset).
    A problem that looked fixed is counted when it looks fixed; `looked` remembers, until it
    comes back, the class and the term (`terms[c]`, renewals so far) it was counted in, so
    that one that comes back in the same term is counted once, as a callback; `came_back`
    holds the problems that came back and are not fixed yet."""

    active: list[bool]
    problems: list[list[int]]
    unresolved: list[int]
    terms: list[int]
    multiplier: list[float]
    problems_total: list[int] = field(default_factory=list)  # per class, all accounts so far
    looked: dict[int, tuple[int, int]] = field(default_factory=dict)
    came_back: set[int] = field(default_factory=set)
    churned: int = 0  # accounts lost so far
    joined: int = 0  # accounts that joined during the run so far
    initial: int = 0  # accounts at the start

    @classmethod
    def start(cls, count: int, new: int = 0) -> Accounts:
        """`count` active accounts with a clean record, and `new` that have not joined yet."""
        n = count + new
        return cls(
            [True] * count + [False] * new,
            [[0] * n for _ in TERM_CLASSES],
            [0] * n,
            [0] * n,
            [1.0] * n,
            [0] * len(TERM_CLASSES),
            initial=count,
        )

    @property
    def n_active(self) -> int:
        return self.initial + self.joined - self.churned

    def judge(self, c: int, p: int, k: int, outcome: int, late: int, is_cb: bool) -> None:
        """Account c's view of its problem p after visit k (0: the first) ended in `outcome`
        (a first visit that fixed is counted by the technician process itself, inline)."""
        if is_cb:  # it came back after looking fixed
            self.came_back.add(p)
            was = self.looked.pop(p, None)
            if was is not None and was[1] == self.terms[c]:  # counted in this term: undo
                self.problems[was[0]][c] -= 1
                self.problems_total[was[0]] -= 1
        elif k:  # the visit before left it known not fixed
            self.unresolved[c] -= 1
        if outcome in (PART_MISSING, NOT_FIXED):
            self.unresolved[c] += 1
            return
        # fixed, or looked fixed: the customer believes it fixed
        if p in self.came_back:
            cls = CALLBACK
            if outcome == FIXED:
                self.came_back.discard(p)
        else:
            cls = AFTER_RETURN if k else (LATE if late else FIRST_TIME)
        self.problems[cls][c] += 1
        self.problems_total[cls] += 1
        if outcome == LOOKED_FIXED:
            self.looked[p] = (cls, self.terms[c])
