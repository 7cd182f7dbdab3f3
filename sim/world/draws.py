"""The world of one replication, drawn before the simulation starts.

Everything random that does not depend on what technicians do is drawn here, once per
replication, from the named streams of `sim.world.rng`: customers, failures, job types, and for
each problem a slot of uniforms per visit (durations, travel, fix, detection, survey...).
Every scheme of the replication simulates the same `World`, so the k-th visit to the
n-th problem sees the same draws under every scheme (common random numbers).
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field

import numpy as np

from sim.config.base import DAYS_PER_YEAR, HOURS_PER_DAY
from sim.config.parts import JobType
from sim.config.scenario import Scenario
from sim.world.accounts import new_accounts, planned_visits
from sim.world.distributions import draw_duration, draw_intrinsic, lognormal
from sim.world.quality import max_multiplier
from sim.world.records import TERM_CLASSES
from sim.world.referrals import Candidates, draw_candidates
from sim.world.rng import stream
from sim.world.slots import CACHE_DAYS, FIELDS, VISIT_SLOTS, Slots
from sim.world.views import packed


@dataclass
class World:
    # customers
    tier: list[int]
    sla_hours: list[float]
    annual_value: list[float]
    renewal_offset_h: list[float]  # first renewal, in hours from the start
    churn_u: np.ndarray  # [customer, term] uniforms
    history_u: np.ndarray  # [customer, term class]: imputed history of the first term
    relational_u: np.ndarray  # [customer, term] uniforms
    # failures (problems), in time order, packed (sim.world.views.packed)
    failure_t: array[float]
    failure_customer: array[int]
    failure_type: array[int]
    # per problem and visit slot: on-site hours, travel, the outcome's uniforms... (slot 0
    # kept, the later ones drawn again on demand: sim.world.slots)
    slots: Slots
    # technicians
    skill: list[float]
    seed: int
    replication: int
    # model options (None when the option is off; each from its own stream)
    intrinsic: list[float] | None = None  # intrinsic weight per technician ("behaviour")
    learn_sign: np.ndarray | None = None  # [tech, period] exploration signs +-1 ("learning")
    close_u: np.ndarray | None = None  # [problem, visit slot] uniforms ("gaming")
    quit_u: np.ndarray | None = None  # [tech, week] uniforms ("attrition")
    hire_skill: np.ndarray | None = None  # [tech, hire] skill of replacements ("hiring")
    hire_intrinsic: np.ndarray | None = None  # [tech, hire] their intrinsic weights ("hiring")
    # work beyond contract repairs and new accounts (docs/model.md, "Capacity that pays");
    # problems are numbered contract failures, then T&M calls, then planned visits
    initial_accounts: int = 0  # accounts at the start; the rest join at `join_t`
    join_t: list[float] = field(default_factory=list)  # when each new account joins (h)
    tm_first: int = -1  # first T&M problem (-1: the number of problems)
    planned_first: int = -1  # first planned visit (-1: the number of problems)
    planned_deadline: array[float] = field(default_factory=lambda: array("d"))  # per planned visit
    keep_u: array[float] | None = None  # [contract failure] thinning uniform ("maintenance")
    max_multiplier: float = 1.0  # the largest failure-rate multiplier of maintenance
    # candidate referred accounts (sim.world.referrals), the accounts after those of `join_t`
    referral_t: list[float] = field(default_factory=list)  # when each would join (h)
    referral_u: list[float] = field(default_factory=list)  # its acceptance uniform
    referral_max: list[float] = field(default_factory=list)  # lambda_max then, per hour
    # numbers the model derives from the draws alone, computed by the first simulation of
    # the world and shared by the others (e.g. `sim.model.technician.VisitRules.first_deadlines`)
    cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = len(self.failure_t)
        if self.tm_first < 0:
            self.tm_first = n
        if self.planned_first < 0:
            self.planned_first = n
        if not self.initial_accounts:
            self.initial_accounts = len(self.tier) - len(self.join_t) - len(self.referral_t)

    def extra_stream(self) -> np.random.Generator:
        """A fresh generator for draws beyond the pre-drawn slots (one per simulation)."""
        return stream(self.seed, self.replication, "extra")


def extra_slot(
    rng: np.random.Generator, scenario: Scenario, job: JobType
) -> tuple[float, float, float, float, float, float, float, float, float]:
    """The numbers of one visit beyond the pre-drawn slots, drawn now from `rng` (the
    "extra" stream), in the order of the `World` slot fields: duration, travel, part, fix,
    detect, callback delay, rushed, survey, score."""
    jobs, wf = scenario.jobs, scenario.workforce
    mean, cv = job.onsite_hours_mean, job.onsite_hours_cv
    if jobs.duration_distribution == "exponential":
        d = rng.exponential(mean)
    elif jobs.duration_distribution == "fixed" or cv <= 0:
        d = mean
    else:
        d = lognormal(rng, mean, cv)
    tm, tcv = wf.travel_hours_mean, wf.travel_hours_cv
    tr = lognormal(rng, tm, tcv) if tm > 0 and tcv > 0 else tm
    u = rng.random(6).tolist()
    cb = rng.exponential(jobs.callback_delay_mean_days * HOURS_PER_DAY)
    return (float(d), float(tr), u[0], u[1], u[2], float(cb), u[3], u[4], u[5])


def n_weeks(scenario: Scenario) -> int:
    """Weeks of the run, the last one possibly partial (week w is [7w, 7w + 7) days)."""
    return math.ceil(scenario.horizon_days / 7.0)


def max_hires(scenario: Scenario) -> int:
    """Hires per technician slot that can happen in a run (a quit needs window_weeks of pay)."""
    return n_weeks(scenario) // scenario.attrition.window_weeks + 2


def _option_draws(scenario: Scenario, seed: int, replication: int, n: int) -> dict:
    """Draws of the model options that are on; each from its own stream (none when off)."""
    b, wf = scenario.behaviour, scenario.workforce
    nt = wf.technicians
    weeks = n_weeks(scenario)
    d: dict = {}
    if b.intrinsic_weight_dist is not None:
        d["intrinsic"] = draw_intrinsic(
            scenario, stream(seed, replication, "behaviour"), nt
        ).tolist()
    if b.model == "learning":
        periods = weeks // b.learning.period_weeks + 2
        rng = stream(seed, replication, "learning")
        d["learn_sign"] = np.where(rng.random((nt, periods)) < 0.5, -1.0, 1.0)
    if scenario.gaming.premature_closure:
        d["close_u"] = stream(seed, replication, "gaming").random((n, VISIT_SLOTS))
    if scenario.attrition.enabled:
        d["quit_u"] = stream(seed, replication, "attrition").random((nt, weeks + 1))
        rng = stream(seed, replication, "hiring")
        shape = (nt, max_hires(scenario))
        d["hire_skill"] = np.clip(rng.normal(wf.skill_mean, wf.skill_sd, size=shape), 0.05, 1.0)
        d["hire_intrinsic"] = draw_intrinsic(scenario, rng, shape)
    return d


#: The `World` slot fields and the stream each is drawn from (contract failures).
SLOT_STREAMS = {
    "duration": "durations",
    "travel": "travel",
    "part_u": "parts",
    "fix_u": "fix",
    "detect_u": "detect",
    "callback_delay_h": "callbacks",
    "rushed_u": "rushed",
    "survey_u": "surveys",
    "score_u": "surveys",
}


def build_world(scenario: Scenario, seed: int, replication: int) -> World:
    """Draw the scheme-independent world of one replication."""
    c, jobs, wf = scenario.customers, scenario.jobs, scenario.workforce
    maint, tm = scenario.maintenance, scenario.time_and_materials
    horizon_h = scenario.horizon_days * HOURS_PER_DAY
    term_h = c.term_days * HOURS_PER_DAY
    n_terms = math.ceil(scenario.horizon_days / c.term_days) + 1
    multiplier = max_multiplier(scenario) if maint.enabled else 1.0

    rng = stream(seed, replication, "customers")
    tiers = list(c.tiers.values())
    tier = rng.choice(len(tiers), size=c.count, p=np.array([t.share for t in tiers]))
    offset = rng.uniform(0.0, term_h, size=c.count)
    churn_u = stream(seed, replication, "churn").random((c.count, n_terms))
    relational_u = stream(seed, replication, "relational").random((c.count, n_terms))

    # superposed Poisson failure process of all customers: N(horizon) ~ Poisson, times uniform;
    # failures of customers who have churned are dropped in the model (thinning).
    rng = stream(seed, replication, "failures")
    rate_h = c.count * c.failures_per_year / (DAYS_PER_YEAR * HOURS_PER_DAY)
    if multiplier != 1.0:
        rate_h *= multiplier
    n = int(rng.poisson(rate_h * horizon_h))
    times = np.sort(rng.uniform(0.0, horizon_h, size=n))
    cust = rng.integers(0, c.count, size=n)
    types = list(jobs.types.values())
    jtype = stream(seed, replication, "job_mix").choice(
        len(types), size=n, p=np.array([t.share for t in types])
    )
    join = np.zeros(0)
    if c.new_accounts_per_year != 0.0:
        join, new_tier, new_churn, new_rel, new_t, new_who = new_accounts(
            scenario, seed, replication, n_terms, multiplier
        )
        tier = np.concatenate([tier, new_tier])
        offset = np.concatenate([offset, join + term_h])
        churn_u = np.concatenate([churn_u, new_churn])
        relational_u = np.concatenate([relational_u, new_rel])
        new_type = stream(seed, replication, "new_failures").choice(
            len(types), size=len(new_t), p=np.array([t.share for t in types])
        )
        order = np.argsort(np.concatenate([times, new_t]), kind="stable")
        times = np.concatenate([times, new_t])[order]
        cust = np.concatenate([cust, c.count + new_who])[order]
        jtype = np.concatenate([jtype, new_type])[order]
    ref = None
    if c.referrals_per_promoter_year > 0.0:
        ref = draw_candidates(scenario, seed, replication, n_terms, multiplier, join)
        tier, offset, churn_u, relational_u, times, cust, jtype = _with_candidates(
            ref, term_h, tier, offset, churn_u, relational_u, times, cust, jtype
        )
    n = len(times)
    gens = {s: stream(seed, replication, s) for s in dict.fromkeys(SLOT_STREAMS.values())}
    slots = Slots.for_scenario(scenario)
    slots.draw({f: gens[s] for f, s in SLOT_STREAMS.items()}, jtype)
    problems: list[list[np.ndarray]] = [[times], [cust], [jtype]]  # times, accounts, types
    tm_first = planned_first = n
    if tm.enabled and tm.jobs_per_day > 0:
        rng = stream(seed, replication, "tm")
        n_tm = int(rng.poisson(tm.jobs_per_day * scenario.horizon_days))
        tm_type = rng.choice(len(types), size=n_tm, p=np.array([t.share for t in types]))
        tm_t = np.sort(rng.uniform(0.0, horizon_h, size=n_tm))
        slots.draw(dict.fromkeys(FIELDS, rng), tm_type)
        for got, more in zip(problems, (tm_t, np.full(n_tm, -1), tm_type), strict=True):
            got.append(more)
        planned_first = n + n_tm
    keep_u = None
    planned_deadline = array("d")
    if maint.enabled:
        rng = stream(seed, replication, "maintenance")
        keep_u = packed("d", [rng.random(n)])
        start = np.concatenate([np.zeros(c.count), join, *([] if ref is None else [ref.join])])
        ready, who, deadline = planned_visits(scenario, rng, tier, start)
        n_pl = len(ready)
        dur = draw_duration(
            rng, jobs.duration_distribution if maint.onsite_hours_cv > 0 else "fixed",
            np.full(n_pl, maint.onsite_hours_mean), np.full(n_pl, maint.onsite_hours_cv), n_pl,
        )  # fmt: skip
        if wf.travel_hours_mean > 0 and wf.travel_hours_cv > 0:
            tr = lognormal(rng, wf.travel_hours_mean, wf.travel_hours_cv, n_pl)
        else:
            tr = np.full(n_pl, wf.travel_hours_mean)
        slots.given(dur, tr)  # a planned visit has one slot: its on-site hours and travel
        for got, more in zip(problems, (ready, who, np.full(n_pl, len(types))), strict=True):
            got.append(more)
        planned_deadline = packed("d", [deadline])

    skill_rng = stream(seed, replication, "workforce")
    skill = np.clip(skill_rng.normal(wf.skill_mean, wf.skill_sd, size=wf.technicians), 0.05, 1.0)
    n_classes = len(TERM_CLASSES)
    history_u = stream(seed, replication, "history").random((c.count, n_classes))
    # new accounts (joining, referred) have no history before the run
    newcomers = len(join) + (len(ref.join) if ref is not None else 0)
    history_u = np.concatenate([history_u, np.full((newcomers, n_classes), 0.5)])
    referrals: dict = {}
    if ref is not None:
        referrals = {
            "referral_t": ref.join.tolist(),
            "referral_u": ref.accept_u.tolist(),
            "referral_max": ref.top.tolist(),
        }

    slots.keep_days(CACHE_DAYS, scenario.horizon_days)
    return World(
        tier=tier.tolist(),
        sla_hours=[tiers[i].sla_hours for i in tier.tolist()],
        annual_value=[tiers[i].annual_value for i in tier.tolist()],
        renewal_offset_h=offset.tolist(),
        churn_u=churn_u,
        history_u=history_u,
        relational_u=relational_u,
        failure_t=packed("d", problems[0]),
        failure_customer=packed("q", problems[1]),
        failure_type=packed("q", problems[2]),
        slots=slots,
        skill=skill.tolist(),
        seed=seed,
        replication=replication,
        **_option_draws(scenario, seed, replication, len(slots)),
        initial_accounts=c.count,
        join_t=join.tolist(),
        tm_first=tm_first,
        planned_first=planned_first,
        planned_deadline=planned_deadline,
        keep_u=keep_u,
        max_multiplier=multiplier,
        **referrals,
    )


def _with_candidates(
    ref: Candidates,
    term_h: float,
    tier: np.ndarray,
    offset: np.ndarray,
    churn_u: np.ndarray,
    relational_u: np.ndarray,
    times: np.ndarray,
    cust: np.ndarray,
    jtype: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """The accounts and contract failures with the candidate referred accounts appended
    (accounts after the others; failures merged in time order), as `build_world` holds
    them: tier, renewal offset, churn and relational uniforms, failure times, accounts,
    job types."""
    first = len(tier)
    order = np.argsort(np.concatenate([times, ref.fail_t]), kind="stable")
    return (
        np.concatenate([tier, ref.tier]),
        np.concatenate([offset, ref.join + term_h]),
        np.concatenate([churn_u, ref.churn_u]),
        np.concatenate([relational_u, ref.relational_u]),
        np.concatenate([times, ref.fail_t])[order],
        np.concatenate([cust, first + ref.fail_who])[order],
        np.concatenate([jtype, ref.fail_type])[order],
    )
