"""The field-service world in SimPy: failures open jobs, technicians on shift serve them.

One `simulate` call runs one replication of one scheme: the pre-drawn `World` plus each
technician's thoroughness (chosen by `sim.behaviour.best_response` from the scheme's pay formula).
The model emits flat records (`sim.world.records`) and never reads files, prints or pays:
pay is computed afterwards from the records by `sim.metrics.kpis`.

Processes: one failure process (the superposed Poisson failures of all customers), one
process per technician (wait for shift -> take the most urgent job it is qualified for ->
travel -> work -> outcome), one daily process (renewals at each customer's renewal date,
weekly snapshots, warm-up reset of the queue statistics). A visit that does not fix
schedules the problem's next visit: after the part lead time, the revisit delay, or
(for a visit that looked fixed but was not) a callback delay.

Model options (docs/model.md section 11), each off by default and costing nothing when off:
learning technicians, quits and hires (`sim.model.dynamics`, weekly), cherry-picking from the
queue and premature closure (`sim.behaviour.gaming`). They need the scheme's pay formula, passed
as `formula`; the pay itself is still computed afterwards by `sim.metrics.kpis`.
"""

from __future__ import annotations

import heapq
import math

import simpy

from sim.config.base import HOURS_PER_DAY
from sim.config.scenario import Scenario
from sim.model.dynamics import Dynamics, TechState, qualification
from sim.model.output import Output
from sim.pay.formula import PayFormula
from sim.world import quality
from sim.world.calendar import Calendar
from sim.world.draws import VISIT_SLOTS, World, extra_slot
from sim.world.records import (
    DETRACTOR,
    FIXED,
    LOOKED_FIXED,
    NO_RESPONSE,
    NOT_FIXED,
    PART_MISSING,
    PASSIVE,
    PROMOTER,
)

INF = math.inf


def poisson_quantile(u: float, mean: float) -> int:
    """The smallest k with P(Poisson(mean) <= k) >= u (inverse transform, monotone in mean)."""
    k = 0
    p = math.exp(-mean)
    cum = p
    while u > cum and k < 10_000:
        k += 1
        p *= mean / k
        cum += p
    return k


def simulate(
    scenario: Scenario,
    world: World,
    thoroughness: list[float],
    formula: PayFormula | None = None,
    reference_pay: list[float] | None = None,
) -> Output:
    """Run one replication with the technicians' thoroughness; return its records.

    `formula` (the scheme's pay formula) is needed by the options that respond to pay
    during the run (learning, attrition, gaming); `reference_pay` is the expected weekly
    pay per technician slot under the baseline scheme (attrition with reference
    "baseline"; None in the baseline scheme's own run, which measures it)."""
    sc = scenario
    env = simpy.Environment()
    beh, gm = sc.behaviour, sc.gaming
    dyn = beh.model == "learning" or sc.attrition.enabled
    cherry, closure = gm.cherry_picking, gm.premature_closure
    if (dyn or cherry or closure) and formula is None:
        raise ValueError("simulate: learning, attrition and gaming need the pay formula")
    if closure and world.close_u is None:
        raise ValueError(
            "simulate: the world was built for a scenario without premature "
            "closure; build it with sim.world.draws.build_world(this scenario)"
        )
    lam = (
        list(world.intrinsic)
        if world.intrinsic is not None
        else ([beh.intrinsic_weight] * sc.workforce.technicians)
    )
    out = Output(
        thoroughness=list(thoroughness),
        skill=list(world.skill),
        annual_value=world.annual_value,
        intrinsic=list(lam),
    )
    horizon = sc.horizon_days * HOURS_PER_DAY
    warmup = sc.warmup_days * HOURS_PER_DAY
    cal = Calendar(sc)
    types = list(sc.jobs.types.values())
    n_types = len(types)
    n_tech = sc.workforce.technicians
    q, nps, jobs_cfg = sc.quality, sc.nps, sc.jobs
    fifo = sc.workforce.dispatch == "fifo"
    extra = world.extra_stream()

    # per technician: fix probability per job type, detection and rushed probabilities
    fixp = [
        [float(quality.fix_prob(q, world.skill[i], jt, thoroughness[i])) for jt in types]
        for i in range(n_tech)
    ]
    detp = [float(quality.detect_prob(q, th)) for th in thoroughness]
    rushp = [float(quality.rushed_prob(q, th)) for th in thoroughness]
    # a job type nobody is qualified for goes to the most skilled technician
    qualified, can_do = qualification([jt.min_skill for jt in types], list(world.skill))
    st = None
    if dyn or cherry or closure:
        st = TechState(
            sc,
            formula,
            list(thoroughness),
            list(world.skill),
            lam,
            fixp,
            detp,
            rushp,
            qualified,
            can_do,
            [[0.0] * n_types for _ in range(n_tech)],
            [(0.0, 0.0)] * n_tech,
            [0.0] * n_tech,
        )
        for i in range(n_tech):
            st.refresh(i)
        th, rates, pclose, present_from = st.th, st.rates, st.pclose, st.present_from

    # survey probabilities for (unresolved, repeat, late, rushed)
    survey_p = {}
    for unres in (0, 1):
        for rep in (0, 1):
            for late in (0, 1):
                for rushed in (0, 1):
                    pp, pd = quality.promoter_detractor(nps, unres, rep, late, rushed)
                    survey_p[(unres, rep, late, rushed)] = (float(pp), 1.0 - float(pd))
    resp_rate = nps.response_rate
    diag = jobs_cfg.diagnosis_fraction
    part_lead = jobs_cfg.part_lead_time_hours
    revisit = jobs_cfg.revisit_delay_hours
    part_on_van = [jt.part_on_van for jt in types]

    # state
    queues: list[list] = [[] for _ in range(n_types)]
    idle: dict[int, simpy.Event] = {}
    active = [True] * sc.customers.count
    bad = [0] * sc.customers.count
    sla = world.sla_hours
    seq = [0]
    qlen = [0]
    q_last = [0.0]
    q_area = [0.0]
    in_service = [0]
    scheduled = [0]
    visits = out.visits
    f_t, f_cust, f_type = world.failure_t, world.failure_customer, world.failure_type
    W = world
    # the pre-drawn numbers of each problem's visit slots (sim.world.draws)
    s_dur, s_tr, s_part, s_fix, s_det = W.duration, W.travel, W.part_u, W.fix_u, W.detect_u
    s_cb, s_rush, s_surv, s_score = W.callback_delay_h, W.rushed_u, W.survey_u, W.score_u

    def q_touch(now: float, delta: int) -> None:
        q_area[0] += qlen[0] * (now - q_last[0])
        q_last[0] = now
        qlen[0] += delta

    def make_ready(job: tuple) -> None:
        """Put a visit into the queue of its job type and wake a qualified idle tech."""
        now = env.now
        out.jobs_created += 1
        if now >= warmup:
            out.jobs_created_measured += 1
        j = f_type[job[0]]
        key = job[2] if fifo else job[3]
        seq[0] += 1
        heapq.heappush(queues[j], (key, seq[0], job))
        q_touch(now, 1)
        if idle and cal.on_shift(now):
            ok = can_do[j]
            for i in idle:
                if ok[i]:
                    idle.pop(i).succeed()
                    break

    def schedule(job: tuple, delay: float) -> None:
        scheduled[0] += 1

        def ready(_ev, job=job) -> None:
            scheduled[0] -= 1
            make_ready(job)

        env.timeout(delay).callbacks.append(ready)

    def take(i: int):
        best_q = None
        best_key = None
        for j in qualified[i]:
            qj = queues[j]
            if qj and (best_key is None or qj[0][0] < best_key):
                best_key = qj[0][0]
                best_q = qj
        if best_q is None:
            return None
        return heapq.heappop(best_q)[2]

    if cherry:
        guard, min_gain = gm.sla_guard_hours, gm.min_gain_per_hour

        def take(i: int):  # the cherry-picking technician (sim.behaviour.gaming)
            urgent_q = pick_q = None
            urgent_key = urgent_j = pick_r = None
            r = rates[i]
            for j in qualified[i]:
                qj = queues[j]
                if qj:
                    if urgent_key is None or qj[0][0] < urgent_key:
                        urgent_key, urgent_q, urgent_j = qj[0][0], qj, j
                    if pick_r is None or r[j] > pick_r:
                        pick_r, pick_q = r[j], qj
            if urgent_q is None:
                return None
            if (
                pick_q is not urgent_q
                and urgent_q[0][2][3] - env.now > guard
                and pick_r - r[urgent_j] >= min_gain
            ):
                return heapq.heappop(pick_q)[2]
            return heapq.heappop(urgent_q)[2]

    def technician(i: int):
        theta = thoroughness[i]
        fp, dp, rp = fixp[i], detp[i], rushp[i]
        while True:
            now = env.now
            if dyn:
                if now < present_from[i]:  # the slot stands vacant
                    yield env.timeout(present_from[i] - now)
                    continue
                theta, fp, dp, rp = th[i], fixp[i], detp[i], rushp[i]
            if not cal.on_shift(now):
                yield env.timeout(cal.next_start(now) - now)
                continue
            job = take(i)
            if job is None:
                ev = env.event()
                idle[i] = ev
                yield ev
                continue
            q_touch(now, -1)
            p, visit_no, t_ready, deadline, caused_by, is_cb = job
            k = visit_no - 1
            j = f_type[p]
            if k < VISIT_SLOTS:
                dur, tr, u_part = s_dur[p][k], s_tr[p][k], s_part[p][k]
                u_fix, u_det, cb_delay = s_fix[p][k], s_det[p][k], s_cb[p][k]
                u_rush, u_surv, u_score = s_rush[p][k], s_surv[p][k], s_score[p][k]
            else:  # beyond the pre-drawn slots (rare)
                dur, tr, u_part, u_fix, u_det, cb_delay, u_rush, u_surv, u_score = extra_slot(
                    extra, sc, types[j]
                )
            if visit_no == 1 and u_part >= part_on_van[j]:
                outcome = PART_MISSING
                work = diag * theta * dur
            else:
                work = theta * dur
                if u_fix < fp[j]:
                    outcome = FIXED
                elif u_det < dp:
                    outcome = NOT_FIXED
                    if closure:  # premature closure (sim.behaviour.gaming)
                        u_c = W.close_u[p][k] if k < VISIT_SLOTS else float(extra.random())
                        if u_c < pclose[i][0 if visit_no == 1 else 1]:
                            outcome = LOOKED_FIXED
                            out.premature_closures += 1
                else:
                    outcome = LOOKED_FIXED
            arrive = now + tr
            in_service[0] += 1
            yield env.timeout(tr + work)
            in_service[0] -= 1
            done = env.now
            c = f_cust[p]
            late = 1 if arrive > deadline else 0
            rushed = 1 if u_rush < rp else 0
            unresolved = 1 if (outcome in (PART_MISSING, NOT_FIXED)) else 0
            repeat = 1 if visit_no > 1 else 0
            survey = NO_RESPONSE
            if u_surv < resp_rate:
                pp, pd_lo = survey_p[(unresolved, repeat, late, rushed)]
                survey = PROMOTER if u_score < pp else (DETRACTOR if u_score >= pd_lo else PASSIVE)
            if late or unresolved or repeat or rushed:
                bad[c] += 1
                bad_total[0] += 1
            if outcome == FIXED:
                nxt = INF
            else:
                delay = (
                    part_lead
                    if outcome == PART_MISSING
                    else revisit
                    if outcome == NOT_FIXED
                    else cb_delay
                )
                nxt = done + delay
                if nxt < horizon:
                    schedule(
                        (p, visit_no + 1, nxt, nxt + sla[c], i, outcome == LOOKED_FIXED), delay
                    )
            visits.append(
                (
                    p,
                    c,
                    visit_no,
                    i,
                    j,
                    f_t[p],
                    t_ready,
                    now,
                    arrive,
                    done,
                    outcome,
                    late,
                    rushed,
                    survey,
                    caused_by,
                    1 if is_cb else 0,
                    nxt,
                    theta,
                )
            )

    def failures():
        for p, t in enumerate(f_t):
            yield env.timeout(t - env.now)
            c = f_cust[p]
            if active[c]:
                make_ready((p, 1, t, t + sla[c], -1, False))

    c_cfg = sc.customers
    term_h = c_cfg.term_days * HOURS_PER_DAY
    order = sorted(range(c_cfg.count), key=lambda c: W.renewal_offset_h[c])
    rel_p, rel_d = nps.relational_promoter, nps.relational_detractor
    rel_shift = nps.relational_bad_shift

    impute = c_cfg.impute_history

    bad_total = [0]

    def daily():
        """Renewals due each day, weekly snapshots, and the warm-up reset."""
        cust_hours = 0.0  # active customer-hours so far, for the rate of bad experiences
        pos = 0
        term = 0
        churned = 0
        day = 0
        reset_done = warmup <= 0
        last_week_visits = 0
        while True:
            t = day * HOURS_PER_DAY
            if t > horizon:
                break
            if t > env.now:
                yield env.timeout(t - env.now)
            if day:
                cust_hours += (c_cfg.count - churned) * HOURS_PER_DAY
            if not reset_done and env.now >= warmup:
                q_touch(env.now, 0)
                q_area[0] = 0.0
                reset_done = True
            if day % 7 == 0:
                out.weeks.append(
                    (
                        day // 7,
                        env.now,
                        c_cfg.count - churned,
                        churned,
                        qlen[0],
                        len(visits) - last_week_visits,
                    )
                )
                last_week_visits = len(visits)
            # renewals due in [t, t + 24h), each at its exact renewal time, so a churned
            # account's later failures are dropped from the moment it leaves
            while True:
                if pos == len(order):
                    pos = 0
                    term += 1
                c = order[pos]
                r = W.renewal_offset_h[c] + term * term_h
                if r > env.now:
                    if r >= t + HOURS_PER_DAY:
                        break
                    yield env.timeout(r - env.now)
                pos += 1
                if not active[c]:
                    continue
                n_bad = bad[c]
                if impute and r < term_h and cust_hours > 0.0:
                    # the term began before the run: impute its unseen part at the rate of
                    # bad experiences this run has shown so far (docs/model.md, "Memory")
                    n_bad += poisson_quantile(
                        W.history_u[c], bad_total[0] / cust_hours * (term_h - r)
                    )
                p_churn = 1.0 - quality.renewal_prob(c_cfg, n_bad)
                renewed = 0 if W.churn_u[c, term] < p_churn else 1
                ur = W.relational_u[c, term]
                pp = max(0.0, rel_p - rel_shift * n_bad)
                pd = min(1.0 - pp, rel_d + rel_shift * n_bad)
                rel = PROMOTER if ur < pp else (DETRACTOR if ur >= 1.0 - pd else PASSIVE)
                out.renewals.append((c, r, renewed, n_bad, rel, W.annual_value[c]))
                bad[c] = 0
                if not renewed:
                    active[c] = False
                    churned += 1
            day += 1

    def shifts():
        """At each shift start, wake the idle technicians (jobs may have queued overnight)."""
        while True:
            yield env.timeout(cal.next_start(env.now) - env.now)
            for i in list(idle):
                idle.pop(i).succeed()

    env.process(failures())
    env.process(daily())
    if not cal.always:
        env.process(shifts())
    for i in range(n_tech):
        env.process(technician(i))
    dynamics = None
    if dyn:
        dynamics = Dynamics(env, sc, world, formula, st, out, idle, cal, reference_pay)
        if reference_pay is not None:
            out.reference_pay = list(reference_pay)
        env.process(dynamics.weekly())
    env.run(until=horizon)
    if dynamics is not None:
        dynamics.finish()

    q_touch(horizon, 0)
    out.queue_area_measured = q_area[0]
    out.jobs_waiting = qlen[0]
    out.jobs_in_service = in_service[0]
    out.jobs_scheduled = scheduled[0]
    out.jobs_completed = len(visits)
    out.end_time = horizon
    return out
