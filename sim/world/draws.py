"""The world of one replication, drawn before the simulation starts.

Everything random that does not depend on what technicians do is drawn here, once per
replication, from the named streams of `sim.world.rng`: customers, failures, job types, and for
each problem a slot of uniforms per visit (durations, travel, fix, detection, survey...).
Every scheme of the replication simulates the same `World`, so the k-th visit to the
n-th problem sees the same draws under every scheme (common random numbers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import overload

import numpy as np

from sim.config.base import DAYS_PER_YEAR, HOURS_PER_DAY
from sim.config.parts import JobType
from sim.config.scenario import Scenario
from sim.world.rng import stream

#: Visits per problem with pre-drawn numbers; later visits draw from the "extra" stream.
VISIT_SLOTS = 6

#: The shape of an array of draws.
Shape = int | tuple[int, ...]


@dataclass
class World:
    # customers
    tier: list[int]
    sla_hours: list[float]
    annual_value: list[float]
    renewal_offset_h: list[float]  # first renewal, in hours from the start
    churn_u: np.ndarray  # [customer, term] uniforms
    history_u: list[float]  # per customer: imputed history of the first term
    relational_u: np.ndarray  # [customer, term] uniforms
    # failures (problems), in time order
    failure_t: list[float]
    failure_customer: list[int]
    failure_type: list[int]
    # per problem x visit slot
    duration: list[list[float]]  # base on-site hours (before thoroughness)
    travel: list[list[float]]
    part_u: list[list[float]]
    fix_u: list[list[float]]
    detect_u: list[list[float]]
    callback_delay_h: list[list[float]]
    rushed_u: list[list[float]]
    survey_u: list[list[float]]
    score_u: list[list[float]]
    # technicians
    skill: list[float]
    seed: int
    replication: int
    # model options (None when the option is off; each from its own stream)
    intrinsic: list[float] | None = None  # intrinsic weight per technician ("behaviour")
    learn_sign: np.ndarray | None = None  # [tech, period] exploration signs +-1 ("learning")
    close_u: list[list[float]] | None = None  # [problem, visit slot] uniforms ("gaming")
    quit_u: np.ndarray | None = None  # [tech, week] uniforms ("attrition")
    hire_skill: np.ndarray | None = None  # [tech, hire] skill of replacements ("hiring")
    hire_intrinsic: np.ndarray | None = None  # [tech, hire] their intrinsic weights ("hiring")

    def extra_stream(self) -> np.random.Generator:
        """A fresh generator for draws beyond the pre-drawn slots (one per simulation)."""
        return stream(self.seed, self.replication, "extra")


@overload
def lognormal(rng: np.random.Generator, mean: float, cv: float, size: None = None) -> float: ...


@overload
def lognormal(
    rng: np.random.Generator, mean: float | np.ndarray, cv: float | np.ndarray, size: Shape
) -> np.ndarray: ...


def lognormal(
    rng: np.random.Generator,
    mean: float | np.ndarray,
    cv: float | np.ndarray,
    size: Shape | None = None,
) -> float | np.ndarray:
    """Lognormal draws with mean `mean` and coefficient of variation `cv` > 0 (arrays
    broadcast; `size` None draws one number)."""
    s2 = np.log1p(cv * cv)
    return np.exp(np.log(mean) - s2 / 2.0 + np.sqrt(s2) * rng.standard_normal(size))


def draw_duration(
    rng: np.random.Generator, distribution: str, mean: np.ndarray, cv: np.ndarray, size: Shape
) -> np.ndarray:
    """Base on-site hours (before thoroughness) under `jobs.duration_distribution`."""
    if distribution == "exponential":
        return rng.exponential(1.0, size) * mean
    if distribution == "fixed":
        return np.broadcast_to(mean, size).astype(float).copy()
    return lognormal(rng, mean, cv, size)


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


def draw_intrinsic(scenario: Scenario, rng: np.random.Generator, size: Shape) -> np.ndarray:
    """Intrinsic weights on customer outcomes from `behaviour.intrinsic_weight_dist` (whose
    validator ensures the parameters of its kind are given)."""
    b = scenario.behaviour
    d = b.intrinsic_weight_dist
    if d is None:
        return np.full(size, b.intrinsic_weight)
    if d.kind == "fixed":
        assert d.value is not None
        return np.full(size, d.value)
    if d.kind == "uniform":
        assert d.low is not None and d.high is not None
        return rng.uniform(d.low, d.high, size)
    assert d.a is not None and d.b is not None
    return rng.beta(d.a, d.b, size)


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
        d["close_u"] = stream(seed, replication, "gaming").random((n, VISIT_SLOTS)).tolist()
    if scenario.attrition.enabled:
        d["quit_u"] = stream(seed, replication, "attrition").random((nt, weeks + 1))
        rng = stream(seed, replication, "hiring")
        shape = (nt, max_hires(scenario))
        d["hire_skill"] = np.clip(rng.normal(wf.skill_mean, wf.skill_sd, size=shape), 0.05, 1.0)
        d["hire_intrinsic"] = draw_intrinsic(scenario, rng, shape)
    return d


def build_world(scenario: Scenario, seed: int, replication: int) -> World:
    """Draw the scheme-independent world of one replication."""
    c, jobs, wf = scenario.customers, scenario.jobs, scenario.workforce
    horizon_h = scenario.horizon_days * HOURS_PER_DAY
    term_h = c.term_days * HOURS_PER_DAY
    n_terms = math.ceil(scenario.horizon_days / c.term_days) + 1

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
    n = int(rng.poisson(rate_h * horizon_h))
    times = np.sort(rng.uniform(0.0, horizon_h, size=n))
    cust = rng.integers(0, c.count, size=n)
    types = list(jobs.types.values())
    jtype = stream(seed, replication, "job_mix").choice(
        len(types), size=n, p=np.array([t.share for t in types])
    )

    shape = (n, VISIT_SLOTS)
    mean = np.array([t.onsite_hours_mean for t in types])[jtype][:, None]
    cv = np.array([t.onsite_hours_cv for t in types])[jtype][:, None]
    rng = stream(seed, replication, "durations")
    dur = draw_duration(rng, jobs.duration_distribution, mean, cv, shape)
    if wf.travel_hours_mean > 0 and wf.travel_hours_cv > 0:
        travel = lognormal(
            stream(seed, replication, "travel"), wf.travel_hours_mean, wf.travel_hours_cv, shape
        )
    else:
        travel = np.full(shape, wf.travel_hours_mean)
    cb = stream(seed, replication, "callbacks").exponential(
        jobs.callback_delay_mean_days * HOURS_PER_DAY, shape
    )
    surveys = stream(seed, replication, "surveys")

    skill_rng = stream(seed, replication, "workforce")
    skill = np.clip(skill_rng.normal(wf.skill_mean, wf.skill_sd, size=wf.technicians), 0.05, 1.0)

    return World(
        tier=tier.tolist(),
        sla_hours=[tiers[i].sla_hours for i in tier.tolist()],
        annual_value=[tiers[i].annual_value for i in tier.tolist()],
        renewal_offset_h=offset.tolist(),
        churn_u=churn_u,
        history_u=stream(seed, replication, "history").random(c.count).tolist(),
        relational_u=relational_u,
        failure_t=times.tolist(),
        failure_customer=cust.tolist(),
        failure_type=jtype.tolist(),
        duration=dur.tolist(),
        travel=travel.tolist(),
        part_u=stream(seed, replication, "parts").random(shape).tolist(),
        fix_u=stream(seed, replication, "fix").random(shape).tolist(),
        detect_u=stream(seed, replication, "detect").random(shape).tolist(),
        callback_delay_h=cb.tolist(),
        rushed_u=stream(seed, replication, "rushed").random(shape).tolist(),
        survey_u=surveys.random(shape).tolist(),
        score_u=surveys.random(shape).tolist(),
        skill=skill.tolist(),
        seed=seed,
        replication=replication,
        **_option_draws(scenario, seed, replication, n),
    )
