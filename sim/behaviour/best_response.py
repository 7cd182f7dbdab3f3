"""Technician behaviour: the pace and the care (thoroughness) each technician works at
under a pay formula.

`best_response`: each technician picks the care theta on a grid over
[min_thoroughness, max_thoroughness] and the pace pi on a grid over
[pace.standard, pace.max] that maximise

    U(theta, pi) = (1 - lam) * (pay_rate(theta, pi) - effort(theta) - e(pi; s))
                   + lam * outcome_rate(theta)

    pay_rate(theta, pi) = sum_k coef_k * E[count_k per problem](theta) / E[hours](theta, pi)
                          + days / shift_hours + hours
    E[hours](theta, pi) = E[travel hours](theta) + E[on-site hours at pace 1](theta) / pi
    effort(theta)       = effort_cost_per_hour * (theta - comfortable_thoroughness)^2
    e(pi; s)            = kappa(s) * (pi^2 - 1) / 2                 (sim.world.quality.pace_effort)
    outcome_rate(theta) = customer_value_per_fix * (E[FTF] - E[callbacks])(theta) / E[hours](1, 1)

with k over the variable terms: the pay of the expected counts (`PayFormula.pay`) per
expected hour, plus the day and hour terms per hour (`sim.pay.formula.fixed_pay_per_hour`),
which do not depend on theta or pi; lam is the intrinsic weight on customer outcomes. Care
takes time and buys quality; pace saves time at the same quality and costs effort, so a
formula that does not pay for output per hour (hourly pay) gets the supervised standard
pace. The expectations are exact for one problem handled by this technician
(docs/model.md, "Decision model"), using the same probabilities the simulation draws from
(`sim.world.quality`). Nothing here knows scheme names: a new or blended scheme gets its
response from its coefficients alone.

`fixed`: every technician works at `behaviour.thoroughness` and `behaviour.pace.fixed`
(the control).

`learning`: technicians start from `behaviour.initial_thoroughness` and move it during the
run from the pay they receive (`sim.behaviour.learning`, docs/model.md section 11); their
pace is the best response to the formula.

Each technician's intrinsic weight lam may differ (`behaviour.intrinsic_weight_dist`,
drawn in `sim.world.draws`); with lam = 1 pay drops out of U and every scheme gets the same
answer (the standard pace).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.config.base import DAYS_PER_YEAR, HOURS_PER_DAY
from sim.config.parts import JobType
from sim.config.scenario import Scenario
from sim.pay.formula import PAY_TERMS, VARIABLE_TERMS, PayFormula, fixed_pay_per_hour
from sim.pay.ledger import VISIT_TERMS
from sim.world import quality
from sim.world.records import PROBLEM_CLASSES


@dataclass(frozen=True)
class Expectation:
    """Expected counts and hours per problem, each an array over the theta grid; `hours`
    at pace 1, of which `travel` hours travelling (which pace does not shorten)."""

    hours: np.ndarray
    counts: dict[str, np.ndarray]
    travel: np.ndarray

    def hours_at(self, pace: np.ndarray) -> np.ndarray:
        """E[hours](theta, pi) [theta, pi]: the on-site part divided by the pace."""
        onsite = self.hours - self.travel
        return self.travel[:, None] + np.divide.outer(onsite, np.asarray(pace, dtype=float))


def qualified_mix(scenario: Scenario, skill: float) -> list[tuple[float, JobType]]:
    """(weight, job type) for the job types this technician may take, weights summing to 1."""
    types = [t for t in scenario.jobs.types.values() if skill >= t.min_skill]
    if not types:
        types = list(scenario.jobs.types.values())
    total = sum(t.share for t in types) or 1.0
    return [(t.share / total, t) for t in types]


def callback_in_window(scenario: Scenario) -> float:
    """P(a visit that looked fixed comes back within the callback window): the problem
    returns after an exponential delay with mean `jobs.callback_delay_mean_days`."""
    window = scenario.callback_window_days * HOURS_PER_DAY
    return 1.0 - math.exp(-window / (scenario.jobs.callback_delay_mean_days * HOURS_PER_DAY))


def _job_terms(
    scenario: Scenario,
    skill: float,
    job: JobType,
    theta: np.ndarray,
    d: np.ndarray,
    rho: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Expected hours (at pace 1), travel hours, visit-term counts and the probabilities of
    how a problem ends (the classes of `quality.problem_class_probs`) per problem of one job
    type handled by this technician at `theta` (d, rho: detection and perceived-rushed
    probabilities)."""
    q, nps, jobs, wf = scenario.quality, scenario.nps, scenario.jobs, scenario.workforce
    zero = np.zeros_like(theta)
    m = 1.0 - job.part_on_van
    f = np.maximum(quality.fix_prob(q, skill, job, theta), 1e-6)
    attempts = 1.0 / f  # geometric number of fix attempts
    n = m + attempts
    h = m * (wf.travel_hours_mean + jobs.diagnosis_fraction * theta * job.onsite_hours_mean)
    h = h + attempts * (wf.travel_hours_mean + theta * job.onsite_hours_mean)
    # a visit that looked fixed counts as a callback only if the problem comes back within
    # the callback window; a first visit that comes back later still counts as a first-time
    # fix (sim.pay.ledger)
    p_in = callback_in_window(scenario)
    cb = (attempts - 1.0) * (1.0 - d) * p_in
    ftf = (1.0 - m) * (f + (1.0 - f) * (1.0 - d) * (1.0 - p_in))
    first_unres = m + (1.0 - m) * (1.0 - f) * d
    unres_total = m + (attempts - 1.0) * d
    res_total = n - unres_total
    later_unres = unres_total - first_unres
    later_res = res_total - (1.0 - first_unres)
    prom = zero.copy()
    det = zero.copy()
    for count, unresolved, repeat in (
        (1.0 - first_unres, 0.0, 0.0),
        (first_unres, 1.0, 0.0),
        (later_res, 0.0, 1.0),
        (later_unres, 1.0, 1.0),
    ):
        for p_r, rushed in ((rho, 1.0), (1.0 - rho, 0.0)):
            pp, pd = quality.promoter_detractor(nps, unresolved, repeat, 0.0, rushed)
            prom = prom + count * p_r * pp
            det = det + count * p_r * pd
    rr = nps.response_rate
    # downtime after a visit that did not fix, to the end of the next visit: the part lead
    # time or the revisit delay (a detected failure; a callback's wait starts when it comes
    # back), the wait for a technician, travel and work
    wait = scenario.behaviour.expected_return_wait_hours
    ret = wait + wf.travel_hours_mean + theta * job.onsite_hours_mean
    down = m * (jobs.part_lead_time_hours + ret) + (attempts - 1.0) * (
        d * jobs.revisit_delay_hours + ret
    )
    counts = {
        "visits": n,
        "first_time_fixes": ftf,
        "repeat_visits": n - 1.0,
        "callbacks": cb,
        "promoters": rr * prom,
        "detractors": rr * det,
        "downtime_hours": down,
    }
    return h, n * wf.travel_hours_mean, counts, np.array(quality.problem_class_probs(m, f, d))


def _rushed(scenario: Scenario, theta: np.ndarray) -> np.ndarray:
    """P(the customer perceives a visit as rushed), per theta (0 unless nps.perceived_rushed)."""
    return quality.perceived_rushed_prob(scenario.quality, scenario.nps, theta)


def job_counts(
    scenario: Scenario, skill: float, job: JobType, theta: np.ndarray, pace: float = 1.0
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Expected hours at `pace` and visit-term counts per problem of one job type, at each
    theta."""
    q = scenario.quality
    th = np.asarray(theta, dtype=float)
    h, travel, counts, _classes = _job_terms(
        scenario, skill, job, th, quality.detect_prob(q, th), _rushed(scenario, th)
    )
    return (h if pace == 1.0 else travel + (h - travel) / pace), counts


def expectation(scenario: Scenario, skill: float, theta: np.ndarray) -> Expectation:
    """Expected counts of every pay term per problem, and hours, for a technician: the
    visit terms of `job_counts` averaged over its job mix, and the retained value."""
    q = scenario.quality
    theta = np.asarray(theta, dtype=float)
    d = quality.detect_prob(q, theta)
    rho = _rushed(scenario, theta)
    zero = np.zeros_like(theta)
    hours, travel = zero.copy(), zero.copy()
    classes = np.zeros((len(PROBLEM_CLASSES), *theta.shape))
    counts = {t: zero.copy() for t in VISIT_TERMS}
    for w, job in qualified_mix(scenario, skill):
        h, tr, job_c, job_classes = _job_terms(scenario, skill, job, theta, d, rho)
        hours += w * h
        travel += w * tr
        for t in VISIT_TERMS:
            counts[t] += w * job_c[t]
        classes += w * job_classes
    c = scenario.customers
    problems_per_term = c.failures_per_year * c.term_days / DAYS_PER_YEAR
    mean_value = sum(t.share * t.annual_value for t in c.tiers.values())
    # the renewal rule in expectation over the term's problems, all handled at this theta
    p_renew = quality.expected_renewal_prob(c, problems_per_term, list(classes))
    retained = mean_value * p_renew / max(problems_per_term, 1e-9)
    counts = {"days": zero, "hours": zero, **counts, "retained_value": retained}
    return Expectation(hours=hours, counts={t: counts[t] for t in PAY_TERMS}, travel=travel)


def theta_grid(scenario: Scenario) -> np.ndarray:
    b = scenario.behaviour
    return np.linspace(b.min_thoroughness, b.max_thoroughness, b.grid_points)


def pace_grid(scenario: Scenario) -> np.ndarray:
    p = scenario.behaviour.pace
    if p.max == p.standard:
        return np.array([p.standard])
    return np.linspace(p.standard, p.max, p.grid_points)


def utility(
    scenario: Scenario,
    formula: PayFormula,
    skill: float,
    intrinsic_weight: float,
    theta: np.ndarray,
    pace: np.ndarray | None = None,
) -> np.ndarray:
    """The technician's utility per working hour at each thoroughness in `theta` (at pace
    1), or at each (theta, pace) pair [theta, pace] when `pace` is given."""
    b, wf = scenario.behaviour, scenario.workforce
    ex = expectation(scenario, skill, theta)
    fixed = fixed_pay_per_hour(formula, wf.shift_hours)
    effort = b.effort_cost_per_hour * (theta - b.comfortable_thoroughness) ** 2
    ref = expectation(scenario, skill, np.array([b.comfortable_thoroughness])).hours[0]
    outcome = (
        b.customer_value_per_fix * (ex.counts["first_time_fixes"] - ex.counts["callbacks"]) / ref
    )
    lam = intrinsic_weight
    var = formula.pay(ex.counts, VARIABLE_TERMS)
    if pace is None:
        return (1.0 - lam) * (var / ex.hours + fixed - effort) + lam * outcome
    pay_rate = var[:, None] / ex.hours_at(pace) + fixed
    cost = effort[:, None] + quality.pace_effort(scenario, skill, pace)[None, :]
    return (1.0 - lam) * (pay_rate - cost) + lam * outcome[:, None]


def best_behaviour(
    scenario: Scenario, formula: PayFormula, skill: float, intrinsic_weight: float | None = None
) -> tuple[float, float]:
    """The (thoroughness, pace) that maximise the technician's utility under `formula`
    (the first maximum on the grids: ties go to less care and the slower pace)."""
    lam = scenario.behaviour.intrinsic_weight if intrinsic_weight is None else intrinsic_weight
    grid, paces = theta_grid(scenario), pace_grid(scenario)
    u = utility(scenario, formula, skill, lam, grid, paces)
    k, m = np.unravel_index(int(np.argmax(u)), u.shape)
    return float(grid[k]), float(paces[m])


def best_response(
    scenario: Scenario, formula: PayFormula, skill: float, intrinsic_weight: float | None = None
) -> float:
    """The thoroughness of `best_behaviour`."""
    return best_behaviour(scenario, formula, skill, intrinsic_weight)[0]


def choose_behaviour(
    scenario: Scenario,
    formula: PayFormula,
    skills: list[float],
    intrinsic: list[float] | None = None,
) -> tuple[list[float], list[float]]:
    """Each technician's thoroughness and pace for a replication under a pay formula: the
    scenario's values (`fixed`), the best response to the formula (`best_response`), or,
    under `learning`, the habit a learning technician starts from (sim.behaviour.learning
    moves it during the run) and the best-response pace. `intrinsic` holds each
    technician's intrinsic weight (default: behaviour.intrinsic_weight)."""
    b = scenario.behaviour
    if b.model == "fixed":
        return [b.thoroughness] * len(skills), [b.pace.fixed] * len(skills)
    lams = intrinsic if intrinsic is not None else [b.intrinsic_weight] * len(skills)
    pairs = [best_behaviour(scenario, formula, s, lam) for s, lam in zip(skills, lams)]
    if b.model == "learning":
        return [b.initial_thoroughness] * len(skills), [p for _t, p in pairs]
    return [t for t, _p in pairs], [p for _t, p in pairs]
