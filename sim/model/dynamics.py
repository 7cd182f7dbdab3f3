"""The workforce during a run: weekly learning, quits, hires and ramp-up.

`TechState` is built by `sim.model.simulation.simulate` only when a model option needs it
(`behaviour.model: learning`, `attrition.enabled`, `gaming.*`), `Dynamics` only for
learning and attrition; with the options off the simulation builds neither (it still
uses `qualification`). Every week (at midnight before Monday) `Dynamics.weekly` takes in the
visit records of the week into a `sim.pay.ledger.WeeklyLedger`, lets technicians quit over
their pay (`sim.behaviour.attrition`), judges the learning technicians' pay statements and sets
their thoroughness for the next period (`sim.behaviour.learning`), ramps up new hires' skill, and
records a snapshot of every slot (thoroughness habit, skill, intrinsic weight, presence)
for behaviour.csv. Hires arrive by their own timer after the hiring lag.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from sim.behaviour import attrition, gaming
from sim.behaviour.best_response import best_response, expectation
from sim.behaviour.learning import Learners, lag_periods
from sim.config.base import HOURS_PER_DAY
from sim.config.scenario import Scenario
from sim.pay.formula import PayFormula
from sim.pay.ledger import HOURS_PER_WEEK, VISIT_TERMS, WeeklyLedger, booked_pay
from sim.world import quality
from sim.world.draws import World, n_weeks


def qualification(
    min_skills: list[float], skills: list[float]
) -> tuple[list[list[int]], list[list[bool]]]:
    """Job types each technician may take, and who may take each type; a job type nobody
    is qualified for goes to the most skilled technician."""
    n_tech, n_types = len(skills), len(min_skills)
    qualified = [[j for j, m in enumerate(min_skills) if skills[i] >= m] for i in range(n_tech)]
    best = max(range(n_tech), key=lambda i: skills[i])
    for j, m in enumerate(min_skills):
        if not any(skills[i] >= m for i in range(n_tech)):
            qualified[best].append(j)
    can_do = [[j in qualified[i] for i in range(n_tech)] for j in range(n_types)]
    return qualified, can_do


@dataclass
class TechState:
    """Per-technician state the simulation reads at every visit (lists shared with it)."""

    scenario: Scenario
    formula: PayFormula | None
    th: list[float]  # thoroughness worked now
    skill: list[float]
    lam: list[float]  # intrinsic weight
    fixp: list[list[float]]  # P(fix) per job type
    detp: list[float]
    rushp: list[float]
    qualified: list[list[int]]
    can_do: list[list[bool]]
    rates: list[list[float]]  # cherry-picking pay per hour per job type
    pclose: list[tuple[float, float]]  # P(premature closure) on first / repeat visits
    present_from: list[float]  # the slot is vacant before this time
    _tables: dict = field(default_factory=dict)  # skill -> gaming.PickTable

    def refresh(self, i: int) -> None:
        """Recompute technician i's probabilities after a change of thoroughness or skill."""
        sc, s, t = self.scenario, self.skill[i], self.th[i]
        q = sc.quality
        self.fixp[i] = [float(quality.fix_prob(q, s, jt, t)) for jt in sc.jobs.types.values()]
        self.detp[i] = float(quality.detect_prob(q, t))
        self.rushp[i] = float(quality.rushed_prob(q, t))
        if sc.gaming.cherry_picking:
            table = self._tables.get(s)
            if table is None:
                table = self._tables[s] = gaming.PickTable(sc, self.formula, s)
            self.rates[i] = table.pick_rates(t, self.lam[i])
        if sc.gaming.premature_closure:
            self.pclose[i] = (
                gaming.closure_prob(sc, self.formula, self.lam[i], True),
                gaming.closure_prob(sc, self.formula, self.lam[i], False),
            )

    def requalify(self) -> None:
        mins = [jt.min_skill for jt in self.scenario.jobs.types.values()]
        qualified, can_do = qualification(mins, self.skill)
        self.qualified[:] = qualified
        self.can_do[:] = can_do


class Dynamics:
    """Weekly changes of the workforce during one simulation."""

    def __init__(
        self,
        env: simpy.Environment,
        scenario: Scenario,
        world: World,
        formula: PayFormula,
        st: TechState,
        out: Any,
        idle: dict,
        cal: Any,
        reference_pay: list[float] | None,
    ) -> None:
        # out: sim.model.simulation.Output, cal: sim.model.simulation.Calendar
        # (not imported: sim.model.simulation imports this)
        self.env, self.sc, self.world, self.formula = env, scenario, world, formula
        self.st, self.out, self.idle, self.cal = st, out, idle, cal
        sc = scenario
        if (sc.behaviour.model == "learning" and world.learn_sign is None) or (
            sc.attrition.enabled and world.quit_u is None
        ):
            raise ValueError(
                "simulate: the world was built for a scenario without these "
                "options; build it with sim.world.draws.build_world(this scenario)"
            )
        self.n = sc.workforce.technicians
        self.weeks = n_weeks(sc)
        self.horizon = sc.horizon_days * HOURS_PER_DAY
        self.learning = sc.behaviour.model == "learning"
        self.att = sc.attrition if sc.attrition.enabled else None
        self.ledger = WeeklyLedger(
            self.n, self.weeks, sc.callback_window_days * HOURS_PER_DAY, track_earned=self.learning
        )
        self.lag_w = attrition.feedback_weeks(sc.callback_window_days)
        self.week_days = np.array(
            [
                cal.shift_days(w * HOURS_PER_WEEK, min((w + 1) * HOURS_PER_WEEK, self.horizon))
                for w in range(self.ledger.cols)
            ],
            dtype=float,
        )
        self.pdays = np.tile(self.week_days, (self.n, 1))  # present shift days [slot, week]
        self.start_week = [self.lag_w] * self.n  # first week of the occupant's pay window
        self.original = [True] * self.n
        self.hires = [0] * self.n
        self.hired_at = [-math.inf] * self.n
        self.target = list(st.skill)
        self.reference = list(reference_pay) if reference_pay is not None else None
        self.own_ref: list[float | None] = [None] * self.n
        self.ref_hours = [0.0] * self.n
        self.learners = None
        if self.learning:
            self.learners = Learners(sc, formula, world.learn_sign)
            self.pw = sc.behaviour.learning.period_weeks
            self.lag_p = lag_periods(sc)
            for i in range(self.n):
                self._ref_hours(i)
                st.th[i] = self.learners.start(i, 0)
                st.refresh(i)
        out.theta_weeks, out.skill_weeks, out.intrinsic_weeks, out.present_weeks = [], [], [], []
        self._snapshot()

    # ------------------------------------------------------------------ helpers
    def _ref_hours(self, i: int) -> None:
        b = self.sc.behaviour
        self.ref_hours[i] = float(
            expectation(self.sc, self.st.skill[i], np.array([b.comfortable_thoroughness])).hours[0]
        )

    def _present(self, i: int) -> bool:
        return self.env.now >= self.st.present_from[i]

    def _snapshot(self) -> None:
        if len(self.out.theta_weeks) >= self.weeks:
            return
        st = self.st
        habit = self.learners.habit if self.learners is not None else st.th
        pres = [1 if self._present(i) else 0 for i in range(self.n)]
        self.out.theta_weeks.append([habit[i] if pres[i] else math.nan for i in range(self.n)])
        self.out.skill_weeks.append([st.skill[i] if pres[i] else math.nan for i in range(self.n)])
        self.out.intrinsic_weeks.append([st.lam[i] if pres[i] else math.nan for i in range(self.n)])
        self.out.present_weeks.append(pres)

    def weekly_pay(self) -> np.ndarray:
        """Pay booked per slot and week so far (final for the weeks that have ended)."""
        return booked_pay(
            self.formula, self.ledger.booked, self.pdays, self.sc.workforce.shift_hours
        )

    # ------------------------------------------------------------------ the weekly process
    def weekly(self):
        env = self.env
        k = 0
        while True:
            k += 1
            t = k * HOURS_PER_WEEK
            if t >= self.horizon:
                break
            yield env.timeout(t - env.now)
            self.ledger.add(self.out.visits)
            if self.att is not None:
                self._quits(k, t)
            if self.learning and k % self.pw == 0:
                self._learn(k // self.pw)
            self._ramp(t)
            self._snapshot()

    def finish(self) -> None:
        """Per-slot thoroughness of the run: the mean habit over the measured weeks."""
        warm_w = math.ceil(self.sc.warmup_days / 7.0)
        rows = np.array(self.out.theta_weeks[warm_w:] or self.out.theta_weeks, dtype=float)
        for i in range(self.n):
            col = rows[:, i]
            col = col[~np.isnan(col)]
            self.out.thoroughness[i] = float(col.mean()) if len(col) else self.st.th[i]

    # ------------------------------------------------------------------ learning
    def _learn(self, period: int) -> None:
        lr, st, led, f = self.learners, self.st, self.ledger, self.formula
        e = period - 1 - self.lag_p
        if e >= 0:
            w0, w1 = e * self.pw, (e + 1) * self.pw
            var = f.pay(led.earned, VISIT_TERMS)[:, w0:w1].sum(axis=1)
            busy = led.busy[:, w0:w1].sum(axis=1)
            ftf = led.earned["first_time_fixes"][:, w0:w1].sum(axis=1)
            cb = led.earned["callbacks"][:, w0:w1].sum(axis=1)
            first = led.first[:, w0:w1].sum(axis=1)
            for i in range(self.n):
                if e < lr.first_period[i] or (i, e) not in lr.worked or busy[i] <= 0:
                    continue
                theta = lr.worked[(i, e)][0]
                u = lr.utility(
                    theta,
                    st.lam[i],
                    float(var[i]),
                    float(busy[i]),
                    float(ftf[i]),
                    float(cb[i]),
                    float(first[i]),
                    self.ref_hours[i],
                )
                lr.judge(i, e, u)
        for i in range(self.n):
            if self._present(i):
                st.th[i] = lr.start(i, period)
                st.refresh(i)

    # ------------------------------------------------------------------ attrition
    def _expected(self, i: int, recent: np.ndarray, eligible: list[int]) -> float | None:
        mode = self.att.reference
        if mode == "baseline":
            if self.reference is None:
                return None
            return self.reference[i] if self.original[i] else float(np.mean(self.reference))
        if mode == "own_start":
            return self.own_ref[i]
        peers = [recent[j] for j in eligible if j != i]
        return float(np.mean(peers)) if peers else None

    def _quits(self, k: int, t: float) -> None:
        att, N = self.att, self.att.window_weeks
        pay = self.weekly_pay()
        if att.reference == "baseline" and self.reference is None and k == self.lag_w + N:
            self.reference = attrition.baseline_reference(pay, self.lag_w, N)
            self.out.reference_pay = list(self.reference)
        eligible = [i for i in range(self.n) if self._present(i) and k - N >= self.start_week[i]]
        recent = pay[:, max(0, k - N) : k].mean(axis=1)
        for i in eligible:
            if self.own_ref[i] is None:
                self.own_ref[i] = float(pay[i, self.start_week[i] : self.start_week[i] + N].mean())
        for i in eligible:
            expected = self._expected(i, recent, eligible)
            if expected is None:
                continue
            p = attrition.quit_prob(float(recent[i]), expected, att)
            if p > 0.0 and self.world.quit_u[i, min(k, self.world.quit_u.shape[1] - 1)] < p:
                self._quit(i, t)

    def _quit(self, i: int, t: float) -> None:
        st = self.st
        lag = self.att.hiring_lag_days * HOURS_PER_DAY
        self.out.quits.append((i, t))
        self.out.absences.append((i, t, t + lag))
        st.present_from[i] = t + lag
        if self.learners is not None:
            self.learners.first_period[i] = 1 << 30
        hi = min(t + lag, self.horizon)
        last = min(self.ledger.cols, math.ceil(hi / HOURS_PER_WEEK))
        for w in range(int(t // HOURS_PER_WEEK), last):
            w0, w1 = w * HOURS_PER_WEEK, (w + 1) * HOURS_PER_WEEK
            lo2, hi2 = max(t, w0), min(hi, w1)
            if hi2 > lo2:
                self.pdays[i, w] -= self.cal.shift_days(lo2, hi2)
        if i in self.idle:
            self.idle.pop(i).succeed()
        if t + lag < self.horizon:
            self.env.timeout(lag).callbacks.append(lambda _ev, i=i: self._hire(i))

    def _hire(self, i: int) -> None:
        st, att, w = self.st, self.att, self.world
        now = self.env.now
        h = min(self.hires[i], w.hire_skill.shape[1] - 1)
        self.hires[i] += 1
        self.original[i] = False
        self.hired_at[i] = now
        self.target[i] = float(w.hire_skill[i, h])
        st.lam[i] = float(w.hire_intrinsic[i, h])
        st.skill[i] = attrition.skill_at(
            now, now, self.target[i], att.new_hire_skill_gap, att.ramp_days * HOURS_PER_DAY
        )
        week = math.ceil(now / HOURS_PER_WEEK - 1e-9)
        self.start_week[i] = week + self.lag_w
        self.own_ref[i] = None
        if self.learners is not None:
            self.learners.restart(i, math.ceil(week / self.pw))
            self._ref_hours(i)
        self._set_theta(i)
        st.requalify()

    def _set_theta(self, i: int) -> None:
        st, b = self.st, self.sc.behaviour
        if b.model == "learning":
            st.th[i] = self.learners.habit[i]
        elif b.model == "best_response":
            st.th[i] = best_response(self.sc, self.formula, st.skill[i], st.lam[i])
        else:
            st.th[i] = b.thoroughness
        st.refresh(i)

    def _ramp(self, t: float) -> None:
        if self.att is None:
            return
        ramp = self.att.ramp_days * HOURS_PER_DAY
        changed = False
        for i in range(self.n):
            done = t - self.hired_at[i] > ramp + HOURS_PER_WEEK
            if self.original[i] or not self._present(i) or done:
                continue
            s = attrition.skill_at(
                t, self.hired_at[i], self.target[i], self.att.new_hire_skill_gap, ramp
            )
            if s != self.st.skill[i]:
                self.st.skill[i] = s
                changed = True
                if self.learners is not None:
                    self._ref_hours(i)
                if self.sc.behaviour.model == "best_response":
                    self._set_theta(i)
                else:
                    self.st.refresh(i)
        if changed:
            self.st.requalify()
