"""Sorting: who stays and who joins depends on what the scheme pays their skill.

Rules (docs/model.md section 11, "Sorting"); `sim.model.dynamics` applies them weekly and
at each hire (`sim.model.recruitment`: who accepts a vacancy). Skill s is measured in
standard deviations from the labour market's mean, z(s) = (s - skill_mean) / skill_sd (the
workforce's distribution, from which hires are drawn too).

    w_out(s) = W * exp(skill_premium * z(s))           the outside option, per shift day

W is `outside_option.pay_per_day`, or by default the baseline scheme's mean pay per shift
day in weeks [L, L + N) of its run in the same replication (what the job paid before the
change: the firm paid the market rate for the average technician). The outside market
pays for skill (other employers' piece rates and merit pay); the premium is in log points
per standard deviation, as in a wage equation.

Quits (`attrition.reference: outside_option`): with P the technician's mean weekly pay over
the last N weeks and E = w_out(s) x their shift days in post in those weeks / N,

    h = base_quit_rate * (P / E)^(-pay_elasticity)   per year
    P(quit this week) = 1 - exp(-h * 7 / 365)

the constant-elasticity separation model q(w) = q0 (w / w_out)^-eps itself: a technician
paid their outside option quits at the base rate (ordinary turnover, which gives selective
hiring vacancies to fill), one paid less quits more, one paid more stays longer.

Hires (`attrition.hiring: selective`): an applicant of skill s and intrinsic weight lam
expects to earn, per shift day in post,

    pay(s) = F + V * v(s) / v_bar      (F + V when v_bar is 0)

F the formula's fixed pay per shift day, V the variable pay per shift day in post that the
technicians in post were paid over the last N weeks, v(s) the variable pay per working hour
the formula gives the applicant's best response (`sim.behaviour.best_response`: care and
pace) at their skill, v_bar the mean of v over the technicians in post (their skill,
thoroughness and pace): what
the job pays now, scaled by how much more or less this formula pays the applicant's skill
than theirs. The applicant accepts if pay(s) >= (1 - tolerance) * w_out(s).
"""

from __future__ import annotations

import math

import numpy as np

from sim.behaviour.best_response import best_behaviour, expectation
from sim.config.parts import Attrition, Workforce
from sim.config.scenario import Scenario
from sim.pay.formula import PayFormula
from sim.pay.ledger import VISIT_TERMS


def uses_outside_option(att: Attrition) -> bool:
    """Whether quits or hires compare pay with the outside option."""
    return att.reference == "outside_option" or att.hiring == "selective"


def needs_anchor(att: Attrition) -> bool:
    """Whether the outside option's level W is the baseline scheme's pay (measured in its run)."""
    return att.enabled and uses_outside_option(att) and att.outside_option.pay_per_day is None


def skill_z(wf: Workforce, skill: float) -> float:
    """Skill in standard deviations from the labour market's mean (0 without a spread)."""
    return (skill - wf.skill_mean) / wf.skill_sd if wf.skill_sd > 0.0 else 0.0


def outside_pay(att: Attrition, wf: Workforce, skill: float, anchor: float) -> float:
    """w_out(s): pay per shift day elsewhere for a technician of skill `skill`; `anchor` is
    W, the pay at the mean skill."""
    return anchor * math.exp(att.outside_option.skill_premium * skill_z(wf, skill))


def anchor_pay(reference: list[float], week_days: np.ndarray, lag: int, window: int) -> float:
    """W from the baseline's expected weekly pay per slot (`attrition.baseline_reference`,
    weeks [lag, lag + window), when every slot is in post): its mean per shift day."""
    days = float(week_days[lag : lag + window].sum())
    return float(np.mean(reference)) * window / days if days > 0.0 else 0.0


def separation_prob(recent: float, outside: float, att: Attrition) -> float:
    """P(quit this week) for mean weekly pay `recent` against the outside option's pay for
    the same shift days, `outside`."""
    if outside <= 0.0:
        return 0.0
    if recent <= 0.0:
        return 1.0
    rate = att.base_quit_rate * (recent / outside) ** (-att.pay_elasticity)
    return 1.0 - math.exp(-rate * 7.0 / 365.0)


def variable_rate(
    scenario: Scenario, formula: PayFormula, skill: float, theta: float, pace: float
) -> float:
    """v: the formula's variable pay per working hour (the visit terms, as on the weekly pay
    statement) for a technician of this skill working at thoroughness `theta` and `pace`
    (pace shortens the hours, not the counts: the piece rate's higher pay per hour)."""
    ex = expectation(scenario, skill, np.array([theta]))
    hours = float(ex.hours_at(np.array([pace]))[0, 0])
    return float(formula.pay(ex.counts, VISIT_TERMS)[0] / hours)


def applicant_behaviour(
    scenario: Scenario, formula: PayFormula, skill: float, lam: float
) -> tuple[float, float]:
    """The thoroughness and pace an applicant expects to work at: the scenario's under
    `fixed`, else their best response to the formula (where learning leads, too)."""
    b = scenario.behaviour
    if b.model == "fixed":
        return b.thoroughness, b.pace.fixed
    return best_behaviour(scenario, formula, skill, lam)


def expected_pay(fixed: float, variable: float, rate: float, mean_rate: float) -> float:
    """pay(s) = F + V * v(s) / v_bar: an applicant's expected pay per shift day in post."""
    if abs(mean_rate) <= 1e-9:
        return fixed + variable
    return fixed + variable * rate / mean_rate


def accepts(pay: float, outside: float, att: Attrition) -> bool:
    """Whether an applicant expecting `pay` takes the job over their outside option."""
    return pay >= (1.0 - att.tolerance) * outside
