"""The weekly tables of one replication: timeseries.csv's snapshots, each technician's
pay booked per week (the weekly pay statement, `sim.pay.ledger`) and behaviour.csv's rows
(habit, intrinsic weight, skill, presence and pay per technician and week)."""

from __future__ import annotations

import numpy as np

from sim.config.base import HOURS_PER_DAY
from sim.config.scenario import Scenario
from sim.metrics.kpis import WEEK_COLUMNS, present_days, visit_columns
from sim.model.output import Output
from sim.pay.formula import PayFormula
from sim.pay.ledger import HOURS_PER_WEEK, WeeklyLedger, booked_pay
from sim.world.draws import n_weeks


def week_rows(out: Output) -> list[dict[str, float]]:
    """The weekly snapshots of `out` as rows (WEEK_COLUMNS)."""
    return [dict(zip(WEEK_COLUMNS, w)) for w in out.weeks]


def weekly_pay(scenario: Scenario, out: Output, formula: PayFormula) -> np.ndarray:
    """Pay booked in each week [tech, week] (the weekly pay statement; sim.pay.ledger), without
    the retained-value term, which is booked at renewals."""
    weeks = n_weeks(scenario)
    H = scenario.horizon_days * HOURS_PER_DAY
    ledger = WeeklyLedger(
        scenario.workforce.technicians,
        weeks,
        scenario.callback_window_days * HOURS_PER_DAY,
        track_earned=False,
    )
    ledger.add_columns(visit_columns(out))
    booked = {t: b[:, :weeks] for t, b in ledger.booked.items()}
    present = np.zeros((scenario.workforce.technicians, weeks))
    for w in range(weeks):
        t0 = w * HOURS_PER_WEEK
        present[:, w] = present_days(scenario, out, t0, min(t0 + HOURS_PER_WEEK, H))
    return booked_pay(formula, booked, present, scenario.workforce.shift_hours)


def behaviour_rows(scenario: Scenario, out: Output, formula: PayFormula) -> list[dict[str, float]]:
    """One row per technician slot and week: thoroughness habit, intrinsic weight, skill,
    presence and the pay booked that week (BEHAVIOUR_COLUMNS)."""
    weeks = n_weeks(scenario)
    n_tech = scenario.workforce.technicians
    pay = weekly_pay(scenario, out, formula)
    theta, skill, lam, present = (
        out.theta_weeks,
        out.skill_weeks,
        out.intrinsic_weeks,
        out.present_weeks,
    )
    if theta is None or skill is None or lam is None or present is None:
        # no weekly snapshots (no learning, no attrition): the run's values every week
        theta = [out.thoroughness] * weeks
        skill = [out.skill] * weeks
        lam = [out.intrinsic] * weeks
        present = [[1] * n_tech] * weeks
    rows = []
    for w in range(weeks):
        th, sk, la, pr, pw = theta[w], skill[w], lam[w], present[w], pay[:, w].tolist()
        for i in range(n_tech):
            rows.append(
                {
                    "week": w,
                    "tech": i,
                    "thoroughness": th[i],
                    "intrinsic_weight": la[i],
                    "skill": sk[i],
                    "present": pr[i],
                    "pay_week": pw[i],
                }
            )
    return rows
