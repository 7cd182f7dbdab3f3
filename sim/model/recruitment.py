"""Selective hiring during a run: which applicant, if any, accepts a vacancy.

With `attrition.hiring: selective` and an outside option, `sim.model.dynamics.Dynamics`
asks `Recruitment.recruit` when a vacancy's hiring lag ends. The vacancy's applicants
(`sim.world.applicants`) come in rounds of `attrition.max_applicants`; each applicant
compares what the job pays now, scaled by how this formula pays their skill against the
technicians in post, with their outside option (`sim.behaviour.sorting`, "Hires"). The
first who accepts is hired; when nobody in the round does, the vacancy stays open and the
next call takes the next round.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sim.behaviour import sorting
from sim.config.parts import Attrition
from sim.model.context import Context
from sim.pay.formula import PayFormula, fixed_pay_per_day
from sim.pay.ledger import HOURS_PER_WEEK
from sim.world.applicants import applicants


class Recruitment:
    """The rounds of applicants of each slot's open vacancy, and who accepts.

    `pdays` is the present shift days [slot, week] and `weekly_pay` the pay booked per
    slot and week so far, both kept by `Dynamics` (read, never changed, here)."""

    def __init__(
        self,
        ctx: Context,
        formula: PayFormula,
        pdays: np.ndarray,
        weekly_pay: Callable[[], np.ndarray],
    ) -> None:
        self.env, self.sc, self.world, self.st = ctx.env, ctx.scenario, ctx.world, ctx.crew
        self.formula, self.pdays, self.weekly_pay = formula, pdays, weekly_pay
        self.n = self.sc.workforce.technicians
        self.rounds = [0] * self.n  # the round of applicants each open vacancy is in
        self._rates: dict[tuple[float, float, float], float] = {}  # by (skill, care, pace)

    def recruit(
        self, att: Attrition, i: int, hires: int, anchor: float
    ) -> tuple[float, float, int] | None:
        """The first applicant of this round who accepts slot i's vacancy (its `hires`-th
        hire; `anchor` the outside option's level W): (skill, intrinsic weight, applicants
        asked for the hire so far), or None (the next call takes the next round)."""
        sc, f, wf = self.sc, self.formula, self.sc.workforce
        pool = applicants(sc, self.world, i, hires)
        lo = self.rounds[i] * att.max_applicants
        hi = min(lo + att.max_applicants, len(pool.skill))
        self.rounds[i] += 1
        if lo >= hi:
            return None
        fixed, variable, mean_rate = self._job_pay(i)
        for a in range(lo, hi):
            s, lam = pool.skill[a], pool.intrinsic[a]
            rate = self._rate(s, *sorting.applicant_behaviour(sc, f, s, lam))
            pay = sorting.expected_pay(fixed, variable, rate, mean_rate)
            if sorting.accepts(pay, sorting.outside_pay(att, wf, s, anchor), att):
                self.rounds[i] = 0
                return s, lam, a + 1
        return None

    def _job_pay(self, i: int) -> tuple[float, float, float]:
        """What the job pays now: F, the fixed pay per shift day; V, the variable pay per
        shift day in post of the last N complete weeks; v_bar, the mean variable pay rate
        of the technicians in post (slot i is vacant)."""
        st, N = self.st, self.sc.attrition.window_weeks
        now = self.env.now
        fixed = fixed_pay_per_day(self.formula, self.sc.workforce.shift_hours)
        k = int(now // HOURS_PER_WEEK)
        cols = slice(max(0, k - N), k)
        days = float(self.pdays[:, cols].sum())
        paid = float(self.weekly_pay()[:, cols].sum())
        variable = (paid - fixed * days) / days if days > 0.0 else 0.0
        rates = [
            self._rate(st.skill[j], st.th[j], st.pace[j])
            for j in range(self.n)
            if j != i and now >= st.present_from[j]
        ]
        mean_rate = float(np.mean(rates)) if rates else 0.0
        return fixed, variable, mean_rate

    def _rate(self, skill: float, theta: float, pace: float) -> float:
        """v: the variable pay per working hour the formula gives this behaviour (cached)."""
        key = (skill, theta, pace)
        r = self._rates.get(key)
        if r is None:
            r = self._rates[key] = sorting.variable_rate(self.sc, self.formula, skill, theta, pace)
        return r
