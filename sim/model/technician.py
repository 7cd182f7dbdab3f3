"""The technician process and the rules of a visit (docs/model.md sections 2 to 4).

Each technician slot is one SimPy process (`technician`): when on shift (and, with
attrition, while the slot is filled) take a job (the dispatcher, `sim.model.dispatch`),
travel, work, then record the visit. The outcome follows from the problem's pre-drawn
numbers for this visit (`sim.world.draws`) and the technician's probabilities
(`sim.model.crew`): part missing (first visits only), fixed, known not fixed, or looked
fixed. A visit that does not fix schedules the problem's next visit (`VisitRules.next_visit`)
after the part lead time, the revisit delay, or the callback delay, and records why
(`sim.world.records.CAUSES`: parts, skill, time, other). The visit's account then sees how
its problem stands (`sim.model.state.Accounts`: fixed first time, late, after
a return visit, as a callback, or still not fixed), which its renewal judges.

The process is the simulation's hot loop: it binds what it reads to local names once,
and keeps the per-visit work inline; the rare paths are methods of `VisitRules`.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable
from typing import TYPE_CHECKING

from simpy.events import Event, ProcessGenerator

from sim.config.base import HOURS_PER_DAY
from sim.model.context import Context
from sim.model.state import Job
from sim.world import quality
from sim.world.draws import extra_slot
from sim.world.records import (
    DETRACTOR,
    FIXED,
    LOOKED_FIXED,
    MAINTAINED,
    NO_CAUSE,
    NO_RESPONSE,
    NOT_FIXED,
    OTHER,
    PART_MISSING,
    PARTS,
    PASSIVE,
    PROMOTER,
    SKILL,
    TIME,
)
from sim.world.slots import VISIT_SLOTS
from sim.world.views import float_view

if TYPE_CHECKING:  # arrivals imports this module
    from sim.model.arrivals import Arrivals

#: The pre-drawn numbers of a visit: base on-site hours, travel hours, and the uniforms
#: of part, fix and detection; then callback delay and the rushed, survey, score uniforms.
Draws = tuple[float, float, float, float, float, float, float, float, float]


class VisitRules:
    """What every visit of a simulation shares: the scenario's visit parameters, the
    problems' pre-drawn numbers, and the rarer steps of a visit."""

    def __init__(self, ctx: Context) -> None:
        sc, w = ctx.scenario, ctx.world
        self.ctx = ctx
        self.types = list(sc.jobs.types.values())
        self.part_on_van = [jt.part_on_van for jt in self.types]
        self.diag = sc.jobs.diagnosis_fraction
        self.response_rate = sc.nps.response_rate
        self.survey_p = self._survey_table()
        self.closure = sc.gaming.premature_closure
        self.business = sc.customers.sla_clock == "business"
        self.tm_patience = sc.time_and_materials.patience_days * HOURS_PER_DAY
        self.cap = sc.workforce.max_overtime_hours
        # per problem: failure time, customer, job type
        self.problems = (w.failure_t, w.failure_customer, w.failure_type)
        # per problem, the first visit's numbers in `Draws` order: views of the world's
        # arrays, read as view[p] (a Python float, nothing to convert); later visits'
        # numbers come from `w.slots.visit` (drawn again on demand: sim.world.slots)
        self.first = tuple(float_view(a) for a in w.slots.first_slot().values())
        self.later = w.slots.visit

    def _survey_table(self) -> list[tuple[float, float]]:
        """(P(promoter), 1 - P(detractor)) of a survey answer, at index
        8 * unresolved + 4 * repeat + 2 * late + rushed."""
        nps, table = self.ctx.scenario.nps, []
        for unres in (0, 1):
            for rep in (0, 1):
                for late in (0, 1):
                    for rushed in (0, 1):
                        pp, pd = quality.promoter_detractor(nps, unres, rep, late, rushed)
                        table.append((float(pp), 1.0 - float(pd)))
        return table

    def repair(
        self, i: int, p: int, k: int, j: int, tp: float, fp: list[float], dp: float, rp: float
    ) -> tuple[float, float, int, float, int, float, float, int]:
        """Visit k (from 0) of technician i to problem p of job type j, a repair: its travel
        and on-site hours, outcome, callback delay, whether it felt rushed, the survey
        uniforms and why it brings a return visit (`CAUSES`, NO_CAUSE if it fixed), from
        the visit's pre-drawn numbers, the on-site time per drawn hour (tp, thoroughness /
        pace) and the technician's probabilities of fix (per job type), detection and a
        rushed feel. A failed fix that standard care (thoroughness 1) would also have failed
        on the same uniform is for want of skill, else for want of time."""
        if k == 0:
            s_dur, s_tr, s_part, s_fix, s_det, s_cb, s_rush, s_surv, s_score = self.first
            dur, tr, u_part = s_dur[p], s_tr[p], s_part[p]
            u_fix, u_det, cb_delay = s_fix[p], s_det[p], s_cb[p]
            u_rush, u_surv, u_score = s_rush[p], s_surv[p], s_score[p]
        elif k < VISIT_SLOTS:
            dur, tr, u_part, u_fix, u_det, cb_delay, u_rush, u_surv, u_score = self.later(p, k)
        else:  # beyond the pre-drawn slots (rare)
            dur, tr, u_part, u_fix, u_det, cb_delay, u_rush, u_surv, u_score = self.extra(j)
        if k == 0 and u_part >= self.part_on_van[j]:
            outcome, work, cause = PART_MISSING, self.diag * tp * dur, PARTS
        elif u_fix < fp[j]:
            outcome, work, cause = FIXED, tp * dur, NO_CAUSE
        else:
            outcome, work = (NOT_FIXED if u_det < dp else LOOKED_FIXED), tp * dur
            cause = SKILL if u_fix >= self.ctx.crew.fixp1[i][j] else TIME
            if self.closure and outcome == NOT_FIXED:
                outcome = self.closed(i, p, k)
                if outcome == LOOKED_FIXED:
                    cause = OTHER
        return tr, work, outcome, cb_delay, 1 if u_rush < rp else 0, u_surv, u_score, cause

    def answer(self, outcome: int, k: int, late: int, rushed: int, u_score: float) -> int:
        """The transactional survey's answer on visit k (from 0) that ended in `outcome`,
        from the score uniform (the customer responded)."""
        unresolved = 1 if outcome in (PART_MISSING, NOT_FIXED) else 0
        pp, pd_lo = self.survey_p[8 * unresolved + 4 * (1 if k else 0) + 2 * late + rushed]
        return PROMOTER if u_score < pp else (DETRACTOR if u_score >= pd_lo else PASSIVE)

    def extra(self, j: int) -> Draws:
        """The numbers of a visit beyond the pre-drawn slots (rare), drawn now."""
        return extra_slot(self.ctx.extra, self.ctx.scenario, self.types[j])

    def closed(self, i: int, p: int, k: int) -> int:
        """Premature closure (`gaming.premature_closure`, sim.behaviour.gaming): technician
        i closes visit k of problem p, known not to have fixed it, as fixed with their
        probability; returns the outcome."""
        ctx = self.ctx
        close_u = ctx.world.close_u
        assert close_u is not None  # simulate checks that the world has these draws
        u = float(close_u[p, k]) if k < VISIT_SLOTS else float(ctx.extra.random())
        if u < ctx.crew.pclose[i][0 if k == 0 else 1]:
            ctx.out.premature_closures += 1
            return LOOKED_FIXED
        return NOT_FIXED

    def next_visit(self, i: int, p: int, visit_no: int, outcome: int, cb_delay: float) -> float:
        """When the next visit to problem p, not fixed by technician i's visit, is ready;
        it is queued then if that is within the horizon."""
        ctx = self.ctx
        jobs = ctx.scenario.jobs
        if outcome == PART_MISSING:
            delay = jobs.part_lead_time_hours
        elif outcome == NOT_FIXED:
            delay = jobs.revisit_delay_hours
        else:
            delay = cb_delay
        nxt = ctx.env.now + delay
        if nxt < ctx.horizon:
            deadline = self.deadline(nxt, ctx.world.failure_customer[p])
            ctx.jobs.schedule((p, visit_no + 1, nxt, deadline, i, outcome == LOOKED_FIXED), delay)
        return nxt

    def deadline(self, t: float, c: int) -> float:
        """The SLA deadline of a repair of account c ready at t (c < 0: a T&M call, which
        has its patience instead), in calendar or business hours (`customers.sla_clock`)."""
        if c < 0:
            return t + self.tm_patience
        sla = self.ctx.world.sla_hours[c]
        return self.ctx.cal.add_business_hours(t, sla) if self.business else t + sla

    def first_deadlines(self) -> array[float]:
        """The SLA deadline of each contract failure's first visit, ready when it fails: the
        same under every scheme, so computed once per world (and calendar) and shared."""
        ctx, w = self.ctx, self.ctx.world
        cal = ctx.cal
        key = ("first_deadlines", self.business, cal.start, cal.hours, cal.days, cal.always)
        deadlines = w.cache.get(key)
        if deadlines is None:
            n, deadline = w.tm_first, self.deadline
            times, customers = w.failure_t[:n], w.failure_customer[:n]
            deadlines = w.cache[key] = array("d", map(deadline, times, customers))
        return deadlines

    def planned(self, i: int, p: int, theta: float) -> None:
        """A planned visit done: the account's failure rate until its next planned visit
        follows from the technician's thoroughness (`sim.world.quality.failure_multiplier`)."""
        ctx = self.ctx
        ctx.accounts.multiplier[ctx.world.failure_customer[p]] = ctx.crew.multiplier[i]


def technician(ctx: Context, rules: VisitRules, arrivals: Arrivals, i: int) -> ProcessGenerator:
    """Technician slot i: on shift and present, take a job, travel, work, record the visit.
    Before it takes a job and after each visit it applies the arrivals and renewals due
    before now (`sim.model.arrivals`); when it goes idle, the next arrival may wake it."""
    env, crew, jobs, accounts = ctx.env, ctx.crew, ctx.jobs, ctx.accounts
    timeout, visits, dynamic = env.timeout, ctx.out.visits, ctx.dynamic
    problems, problems_total, judge = accounts.problems, accounts.problems_total, accounts.judge
    next_job, repair = job_taker(ctx, rules, arrivals, i), rules.repair
    f_t, f_cust, f_type = rules.problems
    s_dur, s_tr = rules.first[:2]
    resp_rate, answer = rules.response_rate, rules.answer
    theta, fp, dp, rp, tp = crew.of(i)
    tm_first, planned_first = ctx.world.tm_first, ctx.world.planned_first
    while True:
        now = env.now
        job = next_job(now)
        if not isinstance(job, tuple):  # an event: the technician waits for it
            yield job
            continue
        if dynamic:
            theta, fp, dp, rp, tp = crew.of(i)
        jobs.count(now, -1)
        p, visit_no, t_ready, deadline, caused_by, is_cb = job
        if deadline < now and tm_first <= p < planned_first and visit_no == 1:
            jobs.lost += 1  # a T&M call that waited past its patience went elsewhere
            continue
        k, j = visit_no - 1, f_type[p]
        if p >= planned_first:  # a planned visit: no fault to fix, no survey
            tr, work, outcome = s_tr[p], tp * s_dur[p], MAINTAINED
        else:
            tr, work, outcome, cb_delay, rushed, u_surv, u_score, cause = repair(
                i, p, k, j, tp, fp, dp, rp
            )
        arrive = now + tr
        jobs.in_service += 1
        yield timeout(tr + work)
        done = env.now
        if arrivals.due < done:
            arrivals.until(done)
        jobs.in_service -= 1
        if outcome == MAINTAINED:
            rules.planned(i, p, theta)
            visits.append((p, f_cust[p], 1, i, j, f_t[p], t_ready, now, arrive, done,
                           MAINTAINED, 1 if arrive > deadline else 0, 0, NO_RESPONSE, -1, 0,
                           math.inf, theta, NO_CAUSE))  # fmt: skip
            continue
        c = f_cust[p]
        late = 1 if arrive > deadline else 0
        survey = NO_RESPONSE if u_surv >= resp_rate else answer(outcome, k, late, rushed, u_score)
        if c >= 0:  # the account's view of its problem (docs/model.md, "Memory")
            if outcome == FIXED and not k:  # fixed first time (FIRST_TIME 0), or late (LATE 1)
                problems[late][c] += 1
                problems_total[late] += 1
            else:
                judge(c, p, k, outcome, late, is_cb)
        nxt = math.inf if outcome == FIXED else rules.next_visit(i, p, visit_no, outcome, cb_delay)
        # the `Visit` row, one tuple literal (the cheapest way to build it)
        visits.append((p, c, visit_no, i, j, f_t[p], t_ready, now, arrive, done, outcome, late,
                       rushed, survey, caused_by, 1 if is_cb else 0, nxt, theta,
                       cause))  # fmt: skip


def job_taker(
    ctx: Context, rules: VisitRules, arrivals: Arrivals, i: int
) -> Callable[[float], Job | Event]:
    """Technician slot i's next job at `now`, `next_job(now)`: the job it takes (the
    dispatcher's choice, after the arrivals and renewals due before now), or the event to
    wait for first: the end of a vacancy (with attrition), the next shift start, or, idle
    on shift, a wake-up by the next arrival (`Arrivals.watch`). A closure over what it
    reads, as fast as the loop it was part of."""
    env, cal, crew, jobs = ctx.env, ctx.cal, ctx.crew, ctx.jobs
    take, queues, idle, timeout = ctx.dispatcher.take, jobs.queues, jobs.idle, env.timeout
    dynamic, capped, cap = ctx.dynamic, rules.cap is not None, rules.cap or 0.0
    shifts = cal.for_tech(i)  # the calendar itself unless there is weekend cover
    shift_until, next_start = shifts.on_shift_until, shifts.next_start

    def next_job(now: float) -> Job | Event:
        if dynamic and now < crew.present_from[i]:  # the slot stands vacant
            return timeout(crew.present_from[i] - now)
        end = shift_until(now)
        if end is None:
            return timeout(next_start(now) - now)
        if arrivals.due < now:
            arrivals.until(now)
        # with an overtime cap, the hours left to the cap and to the shift end
        job = take(i, queues, now, end + cap - now, end - now) if capped else take(i, queues, now)
        if job is not None:
            return job
        ev = idle[i] = env.event()
        arrivals.watch()
        return ev

    return next_job
