"""How skill and thoroughness turn into outcomes of a visit (docs/model.md, "Visit outcome").

Pure functions shared by the simulation and by the technicians' decision model, so a
technician optimises against the same probabilities the world then draws from.
Thoroughness theta scales the on-site time (theta = 1 is the job type's normal time).

    q(s, j)      = clip(fix_prob_j + skill_effect * (s - skill_reference), 0, 1)
    h(theta)     = (1 - exp(-k theta)) / (1 - exp(-k))          k = thoroughness_curvature
    P(fix)       = min(max_fix_prob, q(s, j) * h(theta))
    P(detect)    = clip(detect_prob + detect_slope * (theta - 1), 0, 1)
    P(rushed)    = clip((rushed_reference - theta) / rushed_span, 0, 1)

Pace pi divides the on-site time at the same quality; its effort cost per hour is

    e(pi; s)     = kappa(s) (pi^g - 1) / g,   g = 1 + 1/eta,
    kappa(s)     = effort_cost_per_hour exp(-b (s - skill_reference))

(eta = behaviour.pace.elasticity, b = behaviour.pace.skill_effect): rising and convex in
pace, lower for the skilled; e(1) = 0 and e'(pi) = kappa pi^(1/eta), so under a pure piece
rate on on-site time the chosen pace rises as the rate to the power eta.
"""

from __future__ import annotations

import math

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


def detect_prob(q: Quality, theta: float | np.ndarray) -> np.ndarray:
    return np.clip(q.detect_prob + q.detect_slope * (np.asarray(theta) - 1.0), 0.0, 1.0)


def rushed_prob(q: Quality, theta: float | np.ndarray) -> np.ndarray:
    return np.clip((q.rushed_reference - np.asarray(theta)) / q.rushed_span, 0.0, 1.0)


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


def renewal_prob(customers: Customers, bad_experiences: float | np.ndarray):
    """P(renew) after `bad_experiences` in the term (docs/model.md, "Renewal"):

        P(renew | n) = (1 - churn_base) * (1 - e)^n,
        e = 1 - (1 - churn_after_bad_experience) / (1 - churn_base)

    so P(churn | 0) = churn_base and P(churn | 1) = churn_after_bad_experience.
    """
    b = customers.churn_base
    e = 1.0 - (1.0 - customers.churn_after_bad_experience) / (1.0 - b) if b < 1.0 else 1.0
    return (1.0 - b) * (1.0 - e) ** bad_experiences


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
