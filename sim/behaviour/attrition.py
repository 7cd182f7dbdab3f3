"""Technicians who quit when their pay falls short, and the replacements who ramp up.

Rule (docs/model.md section 11, "Attrition"), checked at the end of every week for every
technician in post:

    P_i   = mean weekly pay of the last N = `window_weeks` weeks (the pay booked in those
            weeks by the formula, `sim.pay.ledger`; the retained-value term is not included)
    E_i   = the technician's expectation (`reference`):
              baseline   - the slot's mean weekly pay in weeks [L, L + N) of the baseline
                           scheme's run of the same replication: what the job paid before
                           the change (a new hire expects the mean over all slots);
              own_start  - their own mean weekly pay in their first N full weeks;
              peers      - the mean of the other technicians' P over the same weeks.
    s_i   = 1 - P_i / E_i                               (the shortfall)
    h_i   = base_quit_rate * ((1 - s_i)^-pay_elasticity - 1)  per year, if s_i > tolerance,
            else 0
    P(quit this week) = 1 - exp(-h_i * 7 / 365)

h is the extra quit rate that a constant-elasticity separation model q(w) = q0 * w^-eps
puts on a pay cut to (1 - s) of the expected pay, so with no shortfall nobody quits over
pay (voluntary quits for other reasons are outside the model). L is the weeks a pay
statement needs to become complete (`sim.behaviour.learning.lag_periods` with 1-week periods), so
the first weeks of a run or of a new hire, before bonuses start to arrive, are not held
against the formula. A quit is judged only after N full weeks in post.

A quitter leaves at the end of the week; the slot stands vacant for `hiring_lag_days`
(it is not paid and takes no jobs), then a replacement starts with skill
target - new_hire_skill_gap, rising linearly to the target over `ramp_days`; the target
and the new hire's intrinsic weight are drawn from the "hiring" stream. The new hire
starts from the scenario's habits (and learns again, under `learning`).
"""

from __future__ import annotations

import math

import numpy as np

from sim.config.parts import Attrition
from sim.world.calendar import Calendar


def feedback_weeks(callback_window_days: float) -> int:
    """L: weeks until a week's pay statement is complete."""
    return math.ceil(callback_window_days / 7.0)


def quit_prob(recent: float, expected: float, att: Attrition) -> float:
    """The probability of quitting this week with recent mean pay `recent`."""
    if expected <= 0.0:
        return 0.0
    s = 1.0 - recent / expected
    if s <= att.tolerance:
        return 0.0
    if s >= 1.0:
        return 1.0
    rate = att.base_quit_rate * ((1.0 - s) ** (-att.pay_elasticity) - 1.0)
    return 1.0 - math.exp(-rate * 7.0 / 365.0)


def baseline_reference(weekly_pay: np.ndarray, lag: int, window: int) -> list[float]:
    """E_i under `baseline`: each slot's mean weekly pay in weeks [lag, lag + window)."""
    return [float(x) for x in weekly_pay[:, lag : lag + window].mean(axis=1)]


def vacant_shift_days(
    cal: Calendar, absences: list[tuple[int, float, float]], n_tech: int, t0: float, t1: float
) -> np.ndarray:
    """Shift days in [t0, t1) that each slot stood vacant; `absences` are (slot, from, to)."""
    days = np.zeros(n_tech)
    for tech, a0, a1 in absences:
        lo, hi = max(a0, t0), min(a1, t1)
        if hi > lo:
            days[tech] += cal.shift_days(lo, hi)
    return days


def skill_at(t: float, hired: float, target: float, gap: float, ramp_hours: float) -> float:
    """Skill of a technician hired at `hired` with skill `target` once ramped up."""
    if ramp_hours <= 0.0:
        return target
    left = max(0.0, 1.0 - (t - hired) / ramp_hours)
    return max(0.05, target - gap * left)
