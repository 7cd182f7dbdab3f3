"""The field-service world in SimPy: failures open jobs, technicians on shift serve them.

One `simulate` call runs one replication of one scheme: the pre-drawn `World` plus each
technician's thoroughness (chosen by `sim.behaviour.best_response` from the scheme's pay formula).
The model emits flat records (`sim.world.records`) and never reads files, prints or pays:
pay is computed afterwards from the records by `sim.metrics.kpis`.

Processes, started here in this order: `joins` (new accounts), with referrals on
`sim.model.referrals.referrals` (accounts promoters bring), the daily process
(`sim.model.renewals`: weekly snapshots, warm-up), `planned_visits`, `shifts` (wake idle
technicians at each shift start), one `sim.model.technician` process per technician, and
with learning or attrition the weekly `sim.model.dynamics` process. The contract failures
(the superposed Poisson failures of all customers) and the T&M calls, and the renewals, are
applied in time order without an event each, except when an arrival may wake an idle
technician (`sim.model.arrivals`, `sim.model.renewals`). They share the state of
`sim.model.context.Context`; which waiting job a technician takes is the dispatcher's
choice (`sim.model.dispatch`).

Model options (docs/model.md section 11), each off by default and costing nothing when off:
learning technicians, quits and hires (`sim.model.dynamics`, weekly), cherry-picking from the
queue and premature closure (`sim.behaviour.gaming`). They need the scheme's pay formula, passed
as `formula`; the pay itself is still computed afterwards by `sim.metrics.kpis`.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator
from contextlib import contextmanager

import simpy
from simpy.events import ProcessGenerator

from sim.config.base import HOURS_PER_DAY
from sim.config.scenario import Scenario
from sim.model.arrivals import Arrivals
from sim.model.context import Context
from sim.model.crew import Crew
from sim.model.dispatch import DispatcherFactory, dispatcher_for
from sim.model.dynamics import Dynamics
from sim.model.output import Output
from sim.model.referrals import referrals
from sim.model.renewals import Renewals
from sim.model.state import PLANNED, Accounts, Jobs, nothing
from sim.model.technician import VisitRules, technician
from sim.pay.formula import PayFormula
from sim.world.calendar import Calendar
from sim.world.draws import World


def planned_visits(ctx: Context, arrivals: Arrivals) -> ProcessGenerator:
    """Planned visits of active accounts, ready at their window's start, due by its end."""
    env, w, ready, active = ctx.env, ctx.world, ctx.jobs.ready, ctx.accounts.active
    first = w.planned_first
    for p in range(first, len(w.failure_t)):
        t = w.failure_t[p]
        yield env.timeout(t - env.now)
        now = env.now
        if arrivals.due < now:
            arrivals.until(now)
        if active[w.failure_customer[p]]:
            ready((p, 1, t, w.planned_deadline[p - first], -1, False), now, PLANNED)


def joins(ctx: Context) -> ProcessGenerator:
    """New accounts become customers at their join times."""
    env, accounts = ctx.env, ctx.accounts
    for k, t in enumerate(ctx.world.join_t):
        yield env.timeout(t - env.now)
        accounts.active[ctx.world.initial_accounts + k] = True
        accounts.joined += 1


def shifts(ctx: Context) -> ProcessGenerator:
    """At each shift start, wake the idle technicians (jobs may have queued overnight)."""
    env, cal = ctx.env, ctx.cal
    while True:
        yield env.timeout(cal.next_start(env.now) - env.now)
        ctx.jobs.wake_all()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector (as `timeit` does), if it is on.

    A run allocates millions of short-lived events, jobs and records, which keep triggering
    the collector, but makes almost no cyclic garbage (SimPy clears an event's callbacks once
    it is processed): the collections cost ~8% of `simulate` and free nothing. Reference
    counting still frees everything at once (`_run` ends the run's processes, so it leaves
    no cycles that hold its state). Leaves the collector alone if it is already off (e.g.
    another thread's run), and turns it back on when done."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _check(scenario: Scenario, world: World, formula: PayFormula | None) -> None:
    """The options that respond to pay need the formula and the world's option draws."""
    gm = scenario.gaming
    dynamic = scenario.behaviour.model == "learning" or scenario.attrition.enabled
    if (dynamic or gm.cherry_picking or gm.premature_closure) and formula is None:
        raise ValueError("simulate: learning, attrition and gaming need the pay formula")
    if gm.premature_closure and world.close_u is None:
        raise ValueError(
            "simulate: the world was built for a scenario without premature "
            "closure; build it with sim.world.draws.build_world(this scenario)"
        )


def simulate(
    scenario: Scenario,
    world: World,
    thoroughness: list[float],
    formula: PayFormula | None = None,
    reference_pay: list[float] | None = None,
    dispatcher: DispatcherFactory | None = None,
    pace: list[float] | None = None,
) -> Output:
    """Run one replication with the technicians' thoroughness and pace (None: 1 each, the
    job types' normal on-site times); return its records.

    `formula` (the scheme's pay formula) is needed by the options that respond to pay
    during the run (learning, attrition, gaming); `reference_pay` is the expected weekly
    pay per technician slot under the baseline scheme (attrition with reference
    "baseline"; None in the baseline scheme's own run, which measures it). `dispatcher`
    replaces the scenario's dispatch rule (`sim.model.dispatch`)."""
    sc = scenario
    _check(sc, world, formula)
    n_tech = sc.workforce.technicians
    lam = (
        list(world.intrinsic)
        if world.intrinsic is not None
        else [sc.behaviour.intrinsic_weight] * n_tech
    )
    crew = Crew.start(sc, formula, thoroughness, list(world.skill), lam, pace)
    if sc.gaming.cherry_picking or sc.gaming.premature_closure:
        for i in range(n_tech):
            crew.refresh(i)
    env = simpy.Environment()
    cal = Calendar(sc)
    rule = (dispatcher or dispatcher_for(sc))(sc, crew)
    warmup = sc.warmup_days * HOURS_PER_DAY
    ctx = Context(
        env=env,
        scenario=sc,
        world=world,
        cal=cal,
        crew=crew,
        jobs=Jobs(env, cal, world.failure_type, crew.can_do, rule.priority, warmup),
        accounts=Accounts.start(world.initial_accounts, len(world.join_t) + len(world.referral_t)),
        dispatcher=rule,
        out=Output(
            thoroughness=list(thoroughness),
            pace=list(crew.pace),
            skill=list(world.skill),
            annual_value=world.annual_value,
            intrinsic=list(lam),
        ),
        extra=world.extra_stream(),
        dynamic=sc.behaviour.model == "learning" or sc.attrition.enabled,
        horizon=sc.horizon_days * HOURS_PER_DAY,
        warmup=warmup,
    )
    return _run(ctx, formula, reference_pay)


def _run(ctx: Context, formula: PayFormula | None, reference_pay: list[float] | None) -> Output:
    """Start the processes, run to the horizon, and write the end state into the output."""
    env, out, jobs, w = ctx.env, ctx.out, ctx.jobs, ctx.world
    rules = VisitRules(ctx)
    renewals = Renewals(ctx)
    arrivals = Arrivals(ctx, rules, renewals)  # failures and T&M calls, mostly without events
    jobs.catch_up = arrivals.until
    procs: list[ProcessGenerator] = []
    if w.join_t:
        procs.append(joins(ctx))
    if w.referral_t:
        procs.append(referrals(ctx, arrivals))  # promoters bring new accounts
    procs.append(renewals.run(arrivals.until))
    if len(w.failure_t) > w.planned_first:
        procs.append(planned_visits(ctx, arrivals))
    if not ctx.cal.always:
        procs.append(shifts(ctx))
    procs += [
        technician(ctx, rules, arrivals, i) for i in range(ctx.scenario.workforce.technicians)
    ]
    dynamics = None
    if ctx.dynamic and formula is not None:
        dynamics = Dynamics(ctx, formula, reference_pay)
        if reference_pay is not None:
            out.reference_pay = list(reference_pay)
        procs.append(dynamics.weekly())
    for proc in procs:
        env.process(proc)
    with collector_paused():
        env.run(until=ctx.horizon)
    arrivals.until(ctx.horizon)
    if dynamics is not None:
        dynamics.finish()
    jobs.count(ctx.horizon, 0)
    out.queue_area_measured = jobs.area
    out.jobs_waiting = jobs.waiting
    out.jobs_in_service = jobs.in_service
    out.jobs_scheduled = jobs.scheduled
    out.jobs_created = jobs.created
    out.jobs_created_measured = jobs.created_measured
    out.visits.compact()
    out.jobs_completed = len(out.visits)
    out.jobs_lost = jobs.lost
    out.end_time = ctx.horizon
    out.initial_accounts = w.initial_accounts
    out.join_t = list(w.join_t)
    if w.referral_t:  # candidates that never joined have no join time
        joined = set(out.referred_t)
        out.join_t += [t if t in joined else math.inf for t in w.referral_t]
    out.tm_first, out.planned_first = w.tm_first, w.planned_first
    out.active_end = ctx.accounts.n_active
    # End the processes, and the arrivals' hold on the state: nothing the run made then
    # refers back to the context, so reference counting frees it all when the caller
    # drops the output (no cyclic garbage for the collector to find later, which kept a
    # pilot run's or an earlier scheme's records in memory through the next run)
    for proc in procs:
        proc.close()
    jobs.catch_up = nothing
    return out
