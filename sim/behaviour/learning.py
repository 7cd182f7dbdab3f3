"""Technicians who learn their thoroughness from the pay they receive (docs/model.md section 11).

Each technician i holds a habit h_i, starting at `behaviour.initial_thoroughness`. In
period e (`learning.period_weeks` weeks) they work at

    theta_ie = clip(h_i + delta * s_ie, min_thoroughness, max_thoroughness)

with s_ie = +-1 drawn from the "learning" stream (the same signs under every scheme), a
small deliberate variation ("trying things"). Their realised utility of that period is

    U_ie = (1 - lam_i) * (V_ie / B_ie + days/shift_hours + hours - effort(theta_ie))
           + lam_i * customer_value_per_fix * (F_ie - C_ie) / max(N_ie, 1) / h_ref_i

where V is the variable pay the formula gives for the work of the period (every visit
term of `sim.pay.ledger` credited to the period in which the visit that earned it was done),
B the hours worked (travel and on site), F and C the first-time fixes and callbacks, N the
first visits of the period, h_ref the expected hours per problem at the comfortable
thoroughness, and effort the quadratic cost of `sim.behaviour.best_response`: the same currency as
the best response, measured instead of expected. A period's pay statement is complete once
its callback window has closed, so period e is judged at the end of period e + L,
L = ceil(callback_window_days / (7 * period_weeks)). The update is a one-sided
finite-difference (SPSA) step with a running baseline b_i:

    g     = (U_ie - b_i) * (theta_ie - h_ie) / delta^2     (h_ie: the habit in period e)
    h_i  <- clip(h_i + clip(step * g, -max_step, max_step), min, max)
    b_i  <- b_i + baseline_rate * (U_ie - b_i)              (b_i = U of the first period judged)

E[g] is the slope of expected utility at h, so with stationary pay the habit climbs to
the neighbourhood of the best response; the noise of weekly pay, the lag L and delta set
how close and how fast (tests/test_learning.py). A new hire starts again from the habit.
"""

from __future__ import annotations

import math

import numpy as np

from sim.config.scenario import Scenario
from sim.pay.formula import PayFormula, fixed_pay_per_hour


def lag_periods(scenario: Scenario) -> int:
    """L: periods between the end of a period and the judgement of its pay statement."""
    weeks = scenario.behaviour.learning.period_weeks
    return math.ceil(scenario.callback_window_days / (7.0 * weeks))


class Learners:
    """The habits of every technician slot, and the update rule."""

    def __init__(self, scenario: Scenario, formula: PayFormula, signs: np.ndarray) -> None:
        b = scenario.behaviour
        self.lo, self.hi = b.min_thoroughness, b.max_thoroughness
        self.initial = b.initial_thoroughness
        lp = b.learning
        self.delta, self.step, self.max_step, self.rate = (
            lp.exploration,
            lp.step,
            lp.max_step,
            lp.baseline_rate,
        )
        self.effort_cost, self.comfortable = b.effort_cost_per_hour, b.comfortable_thoroughness
        self.value = b.customer_value_per_fix
        self.fixed_rate = fixed_pay_per_hour(formula, scenario.workforce.shift_hours)
        self.signs = signs
        n = signs.shape[0]
        self.habit = [self.initial] * n
        self.baseline: list[float | None] = [None] * n
        self.first_period = [0] * n  # the first period a slot's current tech worked whole
        self.worked: dict[tuple[int, int], tuple[float, float]] = {}  # (i, e) -> (theta, habit)

    def start(self, i: int, period: int) -> float:
        """The thoroughness slot i works at in `period` (recorded for the later judgement)."""
        h = self.habit[i]
        s = self.signs[i, min(period, self.signs.shape[1] - 1)]
        theta = min(self.hi, max(self.lo, h + self.delta * s))
        self.worked[(i, period)] = (theta, h)
        return theta

    def restart(self, i: int, period: int) -> None:
        """A new technician in slot i, working whole periods from `period` on."""
        self.habit[i] = self.initial
        self.baseline[i] = None
        self.first_period[i] = period

    def utility(
        self,
        theta: float,
        lam: float,
        var_pay: float,
        busy: float,
        ftf: float,
        cb: float,
        first: float,
        ref_hours: float,
    ) -> float:
        """U: realised utility per hour of one period's work."""
        effort = self.effort_cost * (theta - self.comfortable) ** 2
        pay = var_pay / busy + self.fixed_rate - effort
        outcome = self.value * (ftf - cb) / max(first, 1.0) / ref_hours
        return (1.0 - lam) * pay + lam * outcome

    def judge(self, i: int, period: int, u: float) -> None:
        """Update slot i's habit from the realised utility `u` of `period`."""
        theta, h = self.worked.pop((i, period))
        b = self.baseline[i]
        if b is None:
            self.baseline[i] = u
            return
        g = (u - b) * (theta - h) / (self.delta * self.delta)
        dh = min(self.max_step, max(-self.max_step, self.step * g))
        self.habit[i] = min(self.hi, max(self.lo, self.habit[i] + dh))
        self.baseline[i] = b + self.rate * (u - b)
