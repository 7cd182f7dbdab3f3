"""How skill and thoroughness turn into outcomes of a visit (docs/model.md, "Visit outcome").

Pure functions shared by the simulation and by the technicians' decision model, so a
technician optimises against the same probabilities the world then draws from.
Thoroughness theta scales the on-site time (theta = 1 is the job type's normal time).

    q(s, j)      = clip(fix_prob_j + skill_effect * (s - skill_reference), 0, 1)
    h(theta)     = (1 - exp(-k theta)) / (1 - exp(-k))          k = thoroughness_curvature
    P(fix)       = min(max_fix_prob, q(s, j) * h(theta))
    P(detect)    = clip(detect_prob + detect_slope * (theta - 1), 0, 1)
    P(rushed)    = clip((rushed_reference - theta) / rushed_span, 0, 1)   with nps.perceived_rushed

Pace pi divides the on-site time at the same quality; its effort cost per hour is

    e(pi; s)     = kappa(s) (pi^g - 1) / g,   g = 1 + 1/eta,
    kappa(s)     = effort_cost_per_hour exp(-b (s - skill_reference))

(eta = behaviour.pace.elasticity, b = behaviour.pace.skill_effect): rising and convex in
pace, lower for the skilled; e(1) = 0 and e'(pi) = kappa pi^(1/eta), so under a pure piece
rate on on-site time the chosen pace rises as the rate to the power eta;
and how customers judge the problems of a term at renewal (`problem_class_probs`,
`renewal_prob`, `expected_renewal_prob`; docs/model.md, "Renewal").
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from sim.config.parts import NPS, Customers, JobType, Quality
from sim.config.scenario import Scenario

Num = float | np.ndarray  # a 0/1 flag or a probability, scalar or per theta


def base_fix(q: Quality, skill: float, job: JobType) -> float:
    """q(s, j): the fix probability at normal thoroughness."""
    return min(1.0, max(0.0, job.fix_prob + q.skill_effect * (skill - q.skill_reference)))


def thoroughness_gain(q: Quality, theta: float | np.ndarray) -> float | np.ndarray:
    """h(theta), 1 at theta = 1."""
    k = q.thoroughness_curvature
    return (1.0 - np.exp(-k * theta)) / (1.0 - math.exp(-k))


def fix_prob(q: Quality, skill: float, job: JobType, theta: float | np.ndarray) -> np.ndarray:
    return np.minimum(q.max_fix_prob, base_fix(q, skill, job) * thoroughness_gain(q, theta))


def pace_effort(scenario: Scenario, skill: float, pace: float | np.ndarray) -> np.ndarray:
    """e(pi; s): the effort cost per working hour of pace `pace` for skill `skill`."""
    p, q = scenario.behaviour.pace, scenario.quality
    kappa = p.effort_cost_per_hour * math.exp(-p.skill_effect * (skill - q.skill_reference))
    g = 1.0 + 1.0 / p.elasticity
    return kappa * (np.asarray(pace, dtype=float) ** g - 1.0) / g


def standard_fix_prob(q: Quality, skill: float, job: JobType) -> float:
    """P(fix) at standard care (thoroughness 1): a visit that failed on a uniform below it
    would have fixed at standard care, so it failed for want of time (`Visit.cause`)."""
    return float(fix_prob(q, skill, job, 1.0))


def detect_prob(q: Quality, theta: float | np.ndarray) -> np.ndarray:
    return np.clip(q.detect_prob + q.detect_slope * (np.asarray(theta) - 1.0), 0.0, 1.0)


def rushed_prob(q: Quality, theta: float | np.ndarray) -> np.ndarray:
    return np.clip((q.rushed_reference - np.asarray(theta)) / q.rushed_span, 0.0, 1.0)


def perceived_rushed_prob(q: Quality, nps: NPS, theta: float | np.ndarray) -> np.ndarray:
    """P(the customer perceives a visit as rushed): `rushed_prob` when `nps.perceived_rushed`
    is on, else 0 (an assumption without a source, off by default; docs/model.md, "NPS")."""
    if nps.perceived_rushed:
        return rushed_prob(q, theta)
    return np.zeros_like(np.asarray(theta, dtype=float))


def promoter_detractor(
    nps: NPS, unresolved: Num, repeat: Num, late: Num, rushed: Num
) -> tuple[np.ndarray, np.ndarray]:
    """P(promoter), P(detractor) of a transactional survey answer after a visit."""
    shift = (
        nps.unresolved_shift * unresolved
        + nps.repeat_shift * repeat
        + nps.late_shift * late
        + nps.rushed_shift * rushed
    )
    p_prom = np.clip(nps.promoter - shift, 0.0, 1.0)
    p_det = np.clip(nps.detractor + shift, 0.0, 1.0 - p_prom)
    return p_prom, p_det


def problem_class_probs(part_missing: Num, fix: Num, detect: Num) -> tuple[np.ndarray, ...]:
    """P(a problem ends in each class), in `PROBLEM_CLASSES` order, when every visit to it
    finds the part missing (first visit only) with `part_missing` = m, fixes with `fix` = f
    and, failing, is seen not to have fixed with `detect` = d (docs/model.md, "Renewal"):

        P(first_time)   = (1 - m) f
        P(callback)     = (1 - f)(1 - d) / (1 - (1 - f) d)     (some failure went unseen)
        P(after_return) = 1 - P(first_time) - P(callback)
        P(late) = P(unresolved) = 0

    A callback is any failure unseen before the fix: the attempts end at the first fix, each
    failing seen with (1 - f) d, so none is unseen with f / (1 - (1 - f) d). Lateness and
    problems open at a renewal are left out: the queue decides the one, the other is rare.
    """
    m, f, d = (np.asarray(x, dtype=float) for x in (part_missing, fix, detect))
    first = (1.0 - m) * f
    callback = (1.0 - f) * (1.0 - d) / np.maximum(1.0 - (1.0 - f) * d, 1e-12)
    zero = np.zeros_like(first + callback)
    return first + zero, zero, 1.0 - first - callback, callback + zero, zero


def problem_factors(customers: Customers) -> np.ndarray:
    """1 - h_k: the factor on P(renew) of one problem of class k, in `PROBLEM_CLASSES`
    order (`customers.churn_per_problem` holds the h_k)."""
    return 1.0 - np.array([h for _name, h in customers.churn_per_problem])


def renewal_prob(customers: Customers, counts: Sequence[float] | np.ndarray) -> float:
    """P(renew) after a term whose problems ended `counts[k]` times in class k
    (`PROBLEM_CLASSES` order; docs/model.md, "Renewal"):

        P(renew) = (1 - churn_base) * prod_k (1 - h_k) ** n_k

    each problem a separate chance h_k of losing the customer, on top of the churn of a term
    without problems. With the defaults, a term with one problem churns at SQM Group's 5%
    (fixed first time), 9% (after a return visit) or 25% (unresolved)."""
    r = problem_factors(customers)
    return float((1.0 - customers.churn_base) * np.prod(r ** np.asarray(counts, dtype=float)))


def expected_renewal_prob(
    customers: Customers, problems_per_term: float, probs: Sequence[Num]
) -> np.ndarray:
    """E[P(renew)] under `renewal_prob` when the term's problems are Poisson with mean
    `problems_per_term` and each ends in class k with `probs[k]` (independently):

        E[P(renew)] = (1 - churn_base) * exp(-problems_per_term * sum_k probs_k h_k)

    (the probability generating function of the Poisson count at E[1 - h])."""
    h = 1.0 - problem_factors(customers)
    lost = sum(np.asarray(p, dtype=float) * hk for p, hk in zip(probs, h))
    return (1.0 - customers.churn_base) * np.exp(-problems_per_term * lost)


def failure_multiplier(scenario: Scenario, theta: float | np.ndarray) -> float | np.ndarray:
    """The failure-rate multiplier of an asset after a planned visit at thoroughness theta
    (docs/model.md, "Planned maintenance"):

        M(theta) = max(0, 1 - r h(theta)) / (1 - r),     r = maintenance.failure_effect

    so M(1) = 1: `customers.failures_per_year` is the rate of an asset maintained at normal
    care; a rushed planned visit (theta < 1) raises it, a thorough one lowers it."""
    r = scenario.maintenance.failure_effect
    return np.maximum(0.0, 1.0 - r * thoroughness_gain(scenario.quality, theta)) / (1.0 - r)


def max_multiplier(scenario: Scenario) -> float:
    """The largest `failure_multiplier` any technician can cause: at the lowest
    thoroughness the behaviour allows (the failures are drawn at this rate and thinned)."""
    b = scenario.behaviour
    low = min(b.min_thoroughness, b.thoroughness, b.initial_thoroughness)
    return max(1.0, float(failure_multiplier(scenario, low)))
