"""The workforce during a run: weekly learning, quits, hires and ramp-up.

`sim.model.simulation.simulate` builds `Dynamics` only for learning and attrition
(`behaviour.model: learning`, `attrition.enabled`); it changes the technicians' state in
`sim.model.crew.Crew`, which the technician processes read at every visit. Every week (at
midnight before Monday) `Dynamics.weekly` takes in the visit records of the week into a
`sim.pay.ledger.WeeklyLedger`, lets technicians quit over their pay
(`sim.behaviour.attrition`), judges the learning technicians' pay statements and sets their
thoroughness for the next period (`sim.behaviour.learning`), ramps up new hires' skill, and
records a snapshot of every slot (thoroughness habit, skill, intrinsic weight, presence)
for behaviour.csv. Hires arrive by their own timer after the hiring lag; with selective
hiring, which applicant accepts is `sim.model.recruitment`.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import simpy
from simpy.events import ProcessGenerator

from sim.behaviour import attrition, sorting
from sim.behaviour.best_response import best_behaviour, expectation
from sim.behaviour.learning import Learners, lag_periods
from sim.config.base import HOURS_PER_DAY
from sim.config.parts import Attrition
from sim.config.scenario import Scenario
from sim.model.context import Context
from sim.model.recruitment import Recruitment
from sim.pay.formula import PayFormula
from sim.pay.ledger import HOURS_PER_WEEK, VISIT_TERMS, WeeklyLedger, booked_pay
from sim.world.calendar import Calendar
from sim.world.draws import World, n_weeks


def _check_world(scenario: Scenario, world: World) -> None:
    """The world holds the draws of the options that are on."""
    if (scenario.behaviour.model == "learning" and world.learn_sign is None) or (
        scenario.attrition.enabled and world.quit_u is None
    ):
        raise ValueError(
            "simulate: the world was built for a scenario without these "
            "options; build it with sim.world.draws.build_world(this scenario)"
        )


def _week_shift_days(cal: Calendar, weeks: int, horizon: float) -> np.ndarray:
    """Shift days in each of the first `weeks` weeks, cut at the horizon."""
    return np.array(
        [
            cal.shift_days(w * HOURS_PER_WEEK, min((w + 1) * HOURS_PER_WEEK, horizon))
            for w in range(weeks)
        ],
        dtype=float,
    )


def _week_cover_days(cal: Calendar, weeks: int, horizon: float) -> np.ndarray:
    """Weekend cover shifts of each slot in each of the first `weeks` weeks [slot, week]."""
    return np.column_stack(
        [
            cal.cover_days(w * HOURS_PER_WEEK, min((w + 1) * HOURS_PER_WEEK, horizon))
            for w in range(weeks)
        ]
    )


class Dynamics:
    """Weekly changes of the workforce during one simulation."""

    def __init__(
        self, ctx: Context, formula: PayFormula, reference_pay: list[float] | None
    ) -> None:
        sc, world, st, cal, out = ctx.scenario, ctx.world, ctx.crew, ctx.cal, ctx.out
        self.env, self.sc, self.world, self.formula = ctx.env, sc, world, formula
        self.st, self.out, self.idle, self.cal = st, out, ctx.jobs.idle, cal
        _check_world(sc, world)
        self.n = sc.workforce.technicians
        self.weeks = n_weeks(sc)
        self.horizon = sc.horizon_days * HOURS_PER_DAY
        self.learning = sc.behaviour.model == "learning"
        self.att: Attrition | None = sc.attrition if sc.attrition.enabled else None
        self.ledger = WeeklyLedger(
            self.n, self.weeks, sc.callback_window_days * HOURS_PER_DAY, track_earned=self.learning
        )
        self.lag_w = attrition.feedback_weeks(sc.callback_window_days)
        self.week_days = _week_shift_days(cal, self.ledger.cols, self.horizon)
        self.pdays = np.tile(self.week_days, (self.n, 1))  # present shift days [slot, week]
        if cal.cover:
            self.pdays += _week_cover_days(cal, self.ledger.cols, self.horizon)
        self.start_week = [self.lag_w] * self.n  # first week of the occupant's pay window
        self.original = [True] * self.n
        self.hires = [0] * self.n
        self.hired_at = [-math.inf] * self.n
        self.target = list(st.skill)
        self.reference = list(reference_pay) if reference_pay is not None else None
        self.own_ref: list[float | None] = [None] * self.n
        # sorting (sim.behaviour.sorting): the outside option's level W; who accepts a vacancy
        self.anchor = self._anchor()
        self.recruitment = Recruitment(ctx, formula, self.pdays, self.weekly_pay)
        self.ref_hours = [0.0] * self.n
        self.pw = sc.behaviour.learning.period_weeks
        self.lag_p = lag_periods(sc)
        self.learners: Learners | None = None
        if self.learning and world.learn_sign is not None:
            self.learners = Learners(sc, formula, world.learn_sign)
            for i in range(self.n):
                self._ref_hours(i)
                st.th[i] = self.learners.start(i, 0)
                st.refresh(i)
        # snapshots of every slot at the start of each week [week][slot] (behaviour.csv)
        self.theta_weeks: list[list[float]] = []
        self.skill_weeks: list[list[float]] = []
        self.intrinsic_weeks: list[list[float]] = []
        self.present_weeks: list[list[int]] = []
        out.theta_weeks, out.skill_weeks = self.theta_weeks, self.skill_weeks
        out.intrinsic_weeks, out.present_weeks = self.intrinsic_weeks, self.present_weeks
        self._snapshot()

    # ------------------------------------------------------------------ helpers
    def _ref_hours(self, i: int) -> None:
        b = self.sc.behaviour
        self.ref_hours[i] = float(
            expectation(self.sc, self.st.skill[i], np.array([b.comfortable_thoroughness])).hours[0]
        )

    def _present(self, i: int) -> bool:
        return self.env.now >= self.st.present_from[i]

    def _anchor(self) -> float | None:
        """W, the outside option at the mean skill: given, or from the baseline's pay."""
        att = self.att
        if att is None or not sorting.uses_outside_option(att):
            return None
        if att.outside_option.pay_per_day is not None:
            return att.outside_option.pay_per_day
        if self.reference is None:
            return None  # the baseline's own run: measured at week L + N (`_quits`)
        return sorting.anchor_pay(self.reference, self.week_days, self.lag_w, att.window_weeks)

    def _snapshot(self) -> None:
        if len(self.theta_weeks) >= self.weeks:
            return
        st = self.st
        habit = self.learners.habit if self.learners is not None else st.th
        pres = [1 if self._present(i) else 0 for i in range(self.n)]
        self.theta_weeks.append([habit[i] if pres[i] else math.nan for i in range(self.n)])
        self.skill_weeks.append([st.skill[i] if pres[i] else math.nan for i in range(self.n)])
        self.intrinsic_weeks.append([st.lam[i] if pres[i] else math.nan for i in range(self.n)])
        self.present_weeks.append(pres)

    def weekly_pay(self) -> np.ndarray:
        """Pay booked per slot and week so far (final for the weeks that have ended)."""
        return booked_pay(
            self.formula, self.ledger.booked, self.pdays, self.sc.workforce.shift_hours
        )

    # ------------------------------------------------------------------ the weekly process
    def weekly(self) -> ProcessGenerator:
        """At the start of every week but the first, until the horizon."""
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
                self._quits(self.att, k, t)
            if self.learners is not None and k % self.pw == 0:
                self._learn(self.learners, k // self.pw)
            self._ramp(t)
            self._snapshot()

    def finish(self) -> None:
        """Per-slot thoroughness of the run: the mean habit over the measured weeks."""
        warm_w = math.ceil(self.sc.warmup_days / 7.0)
        rows = np.array(self.theta_weeks[warm_w:] or self.theta_weeks, dtype=float)
        for i in range(self.n):
            col = rows[:, i]
            col = col[~np.isnan(col)]
            self.out.thoroughness[i] = float(col.mean()) if len(col) else self.st.th[i]
        self.out.pace = list(self.st.pace)
        if self.att is not None:
            # skill once ramped up of the technicians in post at the end (vacant: NaN)
            self.out.skill_end = [
                self.target[i] if self._present(i) else math.nan for i in range(self.n)
            ]

    # ------------------------------------------------------------------ learning
    def _learn(self, lr: Learners, period: int) -> None:
        st, led, f = self.st, self.ledger, self.formula
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
    def _expected(
        self, att: Attrition, i: int, recent: np.ndarray, eligible: list[int]
    ) -> float | None:
        mode = att.reference
        if mode == "baseline":
            if self.reference is None:
                return None
            return self.reference[i] if self.original[i] else float(np.mean(self.reference))
        if mode == "own_start":
            return self.own_ref[i]
        peers = [recent[j] for j in eligible if j != i]
        return float(np.mean(peers)) if peers else None

    def _quits(self, att: Attrition, k: int, t: float) -> None:
        N = att.window_weeks
        pay = self.weekly_pay()
        measure = att.reference == "baseline" or sorting.needs_anchor(att)
        if measure and self.reference is None and k == self.lag_w + N:
            self.reference = attrition.baseline_reference(pay, self.lag_w, N)
            self.out.reference_pay = list(self.reference)
            self.anchor = self._anchor()
        eligible = [i for i in range(self.n) if self._present(i) and k - N >= self.start_week[i]]
        recent = pay[:, max(0, k - N) : k].mean(axis=1)
        for i in eligible:
            if self.own_ref[i] is None:
                self.own_ref[i] = float(pay[i, self.start_week[i] : self.start_week[i] + N].mean())
        quit_u = self.world.quit_u
        assert quit_u is not None  # checked in __init__
        for i in eligible:
            if att.reference == "outside_option":
                p = self._outside_quit_prob(att, i, k, float(recent[i]))
            else:
                expected = self._expected(att, i, recent, eligible)
                if expected is None:
                    continue
                p = attrition.quit_prob(float(recent[i]), expected, att)
            if p > 0.0 and quit_u[i, min(k, quit_u.shape[1] - 1)] < p:
                self._quit(att, i, t)

    def _outside_quit_prob(self, att: Attrition, i: int, k: int, recent: float) -> float:
        """P(quit) against the outside option for the shift days in post of the last N weeks."""
        if self.anchor is None:
            return 0.0
        N = att.window_weeks
        days = float(self.pdays[i, max(0, k - N) : k].sum()) / N
        outside = sorting.outside_pay(att, self.sc.workforce, self.target[i], self.anchor)
        return sorting.separation_prob(recent, outside * days, att)

    def _quit(self, att: Attrition, i: int, t: float) -> None:
        st = self.st
        lag = att.hiring_lag_days * HOURS_PER_DAY
        self.out.quits.append((i, t))
        self.out.absences.append((i, t, t + lag))
        st.present_from[i] = t + lag
        if self.learners is not None:
            self.learners.first_period[i] = 1 << 30
        self._vacate(i, t, t + lag)
        if i in self.idle:
            self.idle.pop(i).succeed()
        if t + lag < self.horizon:
            self.env.timeout(lag).callbacks.append(partial(self._hire, att, i))

    def _vacate(self, i: int, t0: float, t1: float) -> None:
        """Take the shift days of [t0, t1) off slot i's days in post (to the horizon)."""
        hi = min(t1, self.horizon)
        last = min(self.ledger.cols, math.ceil(hi / HOURS_PER_WEEK))
        for w in range(int(t0 // HOURS_PER_WEEK), last):
            w0, w1 = w * HOURS_PER_WEEK, (w + 1) * HOURS_PER_WEEK
            lo2, hi2 = max(t0, w0), min(hi, w1)
            if hi2 > lo2:
                self.pdays[i, w] -= self.cal.shift_days(lo2, hi2)
                if self.cal.cover:  # and the slot's weekend cover shifts
                    self.pdays[i, w] -= self.cal.cover_days(lo2, hi2)[i]

    def _hire(self, att: Attrition, i: int, _event: simpy.Event) -> None:
        st, w = self.st, self.world
        assert w.hire_skill is not None and w.hire_intrinsic is not None  # drawn with quit_u
        now = self.env.now
        h = min(self.hires[i], w.hire_skill.shape[1] - 1)
        skill, lam, asked = float(w.hire_skill[i, h]), float(w.hire_intrinsic[i, h]), 1
        if att.hiring == "selective" and self.anchor is not None:
            pick = self.recruitment.recruit(att, i, self.hires[i], self.anchor)
            if pick is None:
                self._keep_open(att, i)
                return
            skill, lam, asked = pick
        self.out.hires.append((i, now, skill, asked))
        self.hires[i] += 1
        self.original[i] = False
        self.hired_at[i] = now
        self.target[i] = skill
        st.lam[i] = lam
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

    # ------------------------------------------------------------------ hiring
    def _keep_open(self, att: Attrition, i: int) -> None:
        """Nobody accepted: the vacancy stays open another hiring lag, then a new round."""
        now, lag = self.env.now, att.hiring_lag_days * HOURS_PER_DAY
        absences = self.out.absences
        k = max(j for j, a in enumerate(absences) if a[0] == i)
        absences[k] = (i, absences[k][1], now + lag)
        self.st.present_from[i] = now + lag
        self._vacate(i, now, now + lag)
        if now + lag < self.horizon:
            self.env.timeout(lag).callbacks.append(partial(self._hire, att, i))

    def _set_theta(self, i: int) -> None:
        st, b = self.st, self.sc.behaviour
        if b.model == "fixed":
            st.th[i], st.pace[i] = b.thoroughness, b.pace.fixed
        else:
            st.th[i], st.pace[i] = best_behaviour(self.sc, self.formula, st.skill[i], st.lam[i])
        if self.learners is not None:
            st.th[i] = self.learners.habit[i]
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
