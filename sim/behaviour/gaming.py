"""Gaming of the pay formula: cherry-picking and premature closure (docs/model.md section 11).

Both follow from the pay formula's coefficients, never from a scheme's name, and both
weigh pay by (1 - lam), the technician's weight on pay against customer outcomes.

Cherry-picking (`gaming.cherry_picking`): a technician choosing from the queue ranks the
job types they are qualified for by the variable pay they expect per hour of the job,

    r_j = (1 - lam) * sum_k coef_k * E[count_k | type j] / E[hours | type j]

(k over the visit terms of `sim.pay.ledger`, expectations from
`sim.behaviour.best_response.job_counts` at the technician's skill and thoroughness).
They take the head of the best-paying queue instead of the most urgent job when it pays
at least `min_gain_per_hour` more per hour,
unless the most urgent job is due within `sla_guard_hours` (the dispatcher's override).
Under day or hour pay every r_j is 0, so nobody picks.

Premature closure (`gaming.premature_closure`): a technician who knows a visit has not
fixed the problem may close it as fixed. Closing changes the pay of that visit by

    dPay = c_ftf * [first visit] * P(no callback within window)
         + c_cb * P(callback within window)
         + (c_prom * dP(promoter) + c_det * dP(detractor)) * response_rate

with P(callback within window) = 1 - exp(-window / callback_delay_mean) (the problem comes
back after an exponential delay) and dP the change in the survey odds when the customer
believes the problem fixed. The visit counts and the repeat-visit charge are the same
either way (the callback is itself a repeat visit). The technician's gain is

    G = (1 - lam) * dPay - lam * customer_value_per_fix

(the intrinsic cost of leaving a customer with a broken unit, valued like a lost fix) and
the probability of closing is p = closure_max_prob * G / (G + closure_half_gain) for G > 0,
otherwise 0. No calibration data exist for this: off by default.
"""

from __future__ import annotations

import numpy as np

from sim.behaviour.best_response import callback_in_window, job_counts, theta_grid
from sim.config.scenario import Scenario
from sim.pay.formula import PayFormula
from sim.pay.ledger import VISIT_TERMS
from sim.world import quality


def pay_per_hour(
    scenario: Scenario, formula: PayFormula, skill: float, theta: np.ndarray, pace: float = 1.0
) -> np.ndarray:
    """Expected variable pay per hour of work [job type, theta] for every job type, at
    `pace`."""
    theta = np.asarray(theta, dtype=float)
    rates = []
    for job in scenario.jobs.types.values():
        hours, counts = job_counts(scenario, skill, job, theta, pace)
        pay = formula.pay(counts, VISIT_TERMS)
        rates.append(np.where(hours > 0, pay / np.maximum(hours, 1e-12), 0.0))
    return np.array(rates)


class PickTable:
    """r_j over the thoroughness grid for one technician's skill, interpolated in theta
    (so a learning technician's ranking costs microseconds to update)."""

    def __init__(
        self, scenario: Scenario, formula: PayFormula, skill: float, pace: float = 1.0
    ) -> None:
        self.grid = theta_grid(scenario)
        self.rates = pay_per_hour(scenario, formula, skill, self.grid, pace)

    def pick_rates(self, theta: float, lam: float) -> list[float]:
        return [(1.0 - lam) * float(np.interp(theta, self.grid, r)) for r in self.rates]


def pick_rates(
    scenario: Scenario, formula: PayFormula, skill: float, theta: float, lam: float
) -> list[float]:
    """r_j: the weight a cherry-picking technician puts on each job type."""
    r = pay_per_hour(scenario, formula, skill, np.array([theta]))[:, 0]
    return [(1.0 - lam) * float(x) for x in r]


def closure_gain(scenario: Scenario, formula: PayFormula, lam: float, first_visit: bool) -> float:
    """G: the technician's gain from closing an unfixed visit as fixed."""
    nps = scenario.nps
    p_cb = callback_in_window(scenario)
    repeat = 0.0 if first_visit else 1.0
    pp1, pd1 = quality.promoter_detractor(nps, 0.0, repeat, 0.0, 0.0)
    pp0, pd0 = quality.promoter_detractor(nps, 1.0, repeat, 0.0, 0.0)
    # the change in the counts of the fix terms, and in the survey terms per answer
    # closed, the asset counts as up until it comes back: the revisit delay of downtime is
    # not charged (the wait for the next visit is charged either way)
    fix = {
        "first_time_fixes": (1.0 - p_cb) * (1.0 if first_visit else 0.0),
        "callbacks": p_cb,
        "downtime_hours": -scenario.jobs.revisit_delay_hours,
    }
    survey = {"promoters": float(pp1 - pp0), "detractors": float(pd1 - pd0)}
    d_pay = formula.pay(fix, fix.keys()) + nps.response_rate * formula.pay(survey, survey.keys())
    return (1.0 - lam) * d_pay - lam * scenario.behaviour.customer_value_per_fix


def closure_prob(scenario: Scenario, formula: PayFormula, lam: float, first_visit: bool) -> float:
    """p: the probability that the technician closes an unfixed visit as fixed."""
    g = closure_gain(scenario, formula, lam, first_visit)
    if g <= 0.0:
        return 0.0
    gm = scenario.gaming
    return gm.closure_max_prob * g / (g + gm.closure_half_gain)
