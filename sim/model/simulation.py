"""The field-service world in SimPy: failures open jobs, technicians on shift serve them.

One `simulate` call runs one replication of one scheme: the pre-drawn `World` plus each
technician's thoroughness (chosen by `sim.behaviour.best_response` from the scheme's pay formula).
The model emits flat records (`sim.world.records`) and never reads files, prints or pays:
pay is computed afterwards from the records by `sim.metrics.kpis`.

Processes, started here in this order: `failures` (the superposed Poisson failures of all
customers), the daily process (`sim.model.renewals`: renewals, weekly snapshots, warm-up),
`shifts` (wake idle technicians at each shift start), one `sim.model.technician` process per
technician, and with learning or attrition the weekly `sim.model.dynamics` process. They
share the state of `sim.model.context.Context`; which waiting job a technician takes is the
dispatcher's choice (`sim.model.dispatch`).

Model options (docs/model.md section 11), each off by default and costing nothing when off:
learning technicians, quits and hires (`sim.model.dynamics`, weekly), cherry-picking from the
queue and premature closure (`sim.behaviour.gaming`). They need the scheme's pay formula, passed
as `formula`; the pay itself is still computed afterwards by `sim.metrics.kpis`.
"""

from __future__ import annotations

import simpy
from simpy.events import ProcessGenerator

from sim.config.base import HOURS_PER_DAY
from sim.config.scenario import Scenario
from sim.model.context import Context
from sim.model.crew import Crew
from sim.model.dispatch import DispatcherFactory, dispatcher_for
from sim.model.dynamics import Dynamics
from sim.model.output import Output
from sim.model.renewals import Renewals
from sim.model.state import Accounts, Jobs
from sim.model.technician import VisitRules, technician
from sim.pay.formula import PayFormula
from sim.world.calendar import Calendar
from sim.world.draws import World


def failures(ctx: Context) -> ProcessGenerator:
    """Each failure of an active customer opens a problem: its first visit is ready now."""
    env, w, active, ready = ctx.env, ctx.world, ctx.accounts.active, ctx.jobs.ready
    f_cust, sla = w.failure_customer, w.sla_hours
    for p, t in enumerate(w.failure_t):
        yield env.timeout(t - env.now)
        c = f_cust[p]
        if active[c]:
            ready((p, 1, t, t + sla[c], -1, False))


def shifts(ctx: Context) -> ProcessGenerator:
    """At each shift start, wake the idle technicians (jobs may have queued overnight)."""
    env, cal = ctx.env, ctx.cal
    while True:
        yield env.timeout(cal.next_start(env.now) - env.now)
        ctx.jobs.wake_all()


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
) -> Output:
    """Run one replication with the technicians' thoroughness; return its records.

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
    crew = Crew.start(sc, formula, thoroughness, list(world.skill), lam)
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
        accounts=Accounts.start(sc.customers.count),
        dispatcher=rule,
        out=Output(
            thoroughness=list(thoroughness),
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
    env, out, jobs = ctx.env, ctx.out, ctx.jobs
    env.process(failures(ctx))
    env.process(Renewals(ctx).run())
    if not ctx.cal.always:
        env.process(shifts(ctx))
    rules = VisitRules(ctx)
    for i in range(ctx.scenario.workforce.technicians):
        env.process(technician(ctx, rules, i))
    dynamics = None
    if ctx.dynamic and formula is not None:
        dynamics = Dynamics(
            env, ctx.scenario, ctx.world, formula, ctx.crew, out, jobs.idle, ctx.cal, reference_pay
        )
        if reference_pay is not None:
            out.reference_pay = list(reference_pay)
        env.process(dynamics.weekly())
    env.run(until=ctx.horizon)
    if dynamics is not None:
        dynamics.finish()
    jobs.count(ctx.horizon, 0)
    out.queue_area_measured = jobs.area
    out.jobs_waiting = jobs.waiting
    out.jobs_in_service = jobs.in_service
    out.jobs_scheduled = jobs.scheduled
    out.jobs_created = jobs.created
    out.jobs_created_measured = jobs.created_measured
    out.jobs_completed = len(out.visits)
    out.end_time = ctx.horizon
    return out
