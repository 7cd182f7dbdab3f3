"""The daily process and the renewals: weekly snapshots, the end of the warm-up, and each
account's renewal decision at its renewal date (docs/model.md section 1: "Renewal",
"History before the run", "NPS").

A renewal is not a SimPy event. Its decision reads how the account's problems of the
term ended (and, for a first term, the run's rate of each class so far) and may end the
account, after which its failures and planned visits are dropped. So `Renewals.until(t)`
decides every renewal due before `t`, in order, and it is called before anything reads or
changes what a decision reads or writes: by `sim.model.arrivals.Arrivals.until`, which
applies the arrivals and renewals in time order for the technicians (before they count
a problem), the planned visits, the daily process at midnight (before it counts
customer-hours and takes a snapshot) and `simulate` at the horizon, and before each failure
checks its account. Each decision thus sees the state at its renewal date, as if each
renewal were an event at that date, without a timeout per renewal.

The order of decisions is the daily process's: each day, the renewals of the accounts at
the start of the run at their dates, then those of accounts that joined during the run
that fall due that day, each at its date or, if that is earlier, at the last decision of the
day so far (`Renewals.due`; see docs/development.md).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable

import numpy as np
from simpy.events import ProcessGenerator

from sim.config.base import HOURS_PER_DAY
from sim.model.context import Context
from sim.world import quality
from sim.world.draws import World
from sim.world.records import DETRACTOR, FIRST_TIME, PASSIVE, PROMOTER
from sim.world.views import float_view, packed

#: The problems of a term by how they ended (`sim.world.records.PROBLEM_CLASSES` order).
Counts = tuple[int, int, int, int, int]


def poisson_quantile(u: float, mean: float) -> int:
    """The smallest k with P(Poisson(mean) <= k) >= u (inverse transform, monotone in mean)."""
    k = 0
    p = math.exp(-mean)
    cum = p
    while u > cum and k < 10_000:
        k += 1
        p *= mean / k
        cum += p
    return k


def history_exponentials(world: World) -> memoryview[float]:
    """-log u of the world's history uniforms [account, term class] (computed once per world
    and shared by its schemes): a class imputes no problem when -log u >= its mean."""
    e = world.cache.get("history_e")
    if e is None:
        with np.errstate(divide="ignore"):
            e = world.cache["history_e"] = float_view(-np.log(world.history_u))
    return e


class Renewals:
    """Renewals at the customers' renewal dates, weekly snapshots, the warm-up reset."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        c = ctx.scenario.customers
        self.term_h = c.term_days * HOURS_PER_DAY
        w = ctx.world
        self.accounts, self.rows, self.annual_value = ctx.accounts, ctx.out.renewals, w.annual_value
        self.offsets = offsets = w.renewal_offset_h
        # [account, term] uniforms of the decision and the relational survey
        self.churn_u, self.relational_u = float_view(w.churn_u), float_view(w.relational_u)
        n0 = w.initial_accounts
        # by first renewal (a stable sort: ties in account order)
        self.order = packed("q", [np.argsort(np.asarray(offsets[:n0]), kind="stable")])
        # accounts that join during the run: (next renewal, account, term), a heap
        self.new = [(offsets[a], a, 0) for a in range(n0, len(offsets))]
        self.pos = 0  # next account in `order`
        self.term = 0  # terms completed by every account before the one now renewing
        self.customer_hours = 0.0  # active customer-hours so far (rate of each problem class)
        self.visits_seen = 0  # visits recorded at the last snapshot
        self.impute = c.impute_history
        self.odds: dict[Counts, tuple[float, float, float]] = {}  # by class counts
        self.history_e = history_exponentials(w)  # [account, term class]: -log u
        # the next decision: when it is taken, and whether it is a joined account's
        self.day_end = HOURS_PER_DAY  # the end of the day whose renewals are next
        self.last = 0.0  # when the last decision of that day was taken (or its midnight)
        self.joined_phase = False  # the day's initial accounts are done
        self.due = math.inf
        self._find_next()

    def run(self, catch_up: Callable[[float], None]) -> ProcessGenerator:
        """Day by day over the horizon: at midnight, the decisions of the day before, the
        day's customer-hours, the end of the warm-up and, on Mondays, a snapshot.
        `catch_up(now)` applies the arrivals and renewals due before now
        (`sim.model.arrivals.Arrivals.until`)."""
        ctx = self.ctx
        env = ctx.env
        warm = ctx.warmup <= 0
        day = 0
        while day * HOURS_PER_DAY <= ctx.horizon:
            t = day * HOURS_PER_DAY
            if t > env.now:
                yield env.timeout(t - env.now)
            catch_up(env.now)
            if day:
                self.customer_hours += ctx.accounts.n_active * HOURS_PER_DAY
            if not warm and env.now >= ctx.warmup:
                ctx.jobs.restart_area(env.now)
                warm = True
            if day % 7 == 0:
                self._snapshot(day // 7)
            day += 1

    def until(self, now: float) -> None:
        """Decide every renewal due before `now`, in the order described above."""
        while self.due < now:
            if self.joined_phase:
                self.last = self.due
                r, c, term = heapq.heappop(self.new)
                if self.accounts.active[c]:
                    self._renew(c, r, term)
                    heapq.heappush(self.new, (r + self.term_h, c, term + 1))
            else:
                self._initial(min(now, self.day_end))
            self._find_next()

    def _initial(self, until: float) -> None:
        """The decisions of the initial accounts due before `until` (within the day)."""
        order, offsets, active, renew = self.order, self.offsets, self.accounts.active, self._renew
        pos, term, term_h, n = self.pos, self.term, self.term_h, len(order)
        r = self.due
        while r < until:
            self.last = r
            c = order[pos]
            pos += 1
            if active[c]:
                renew(c, r, term)
            if pos == n:
                pos, term = 0, term + 1
            r = offsets[order[pos]] + term * term_h
        self.pos, self.term = pos, term

    def _find_next(self) -> None:
        """Set `due` to when the next decision is taken (infinite if none is left)."""
        order, offsets = self.order, self.offsets
        if not order and not self.new:
            self.due = math.inf
            return
        while True:
            if not self.joined_phase:
                if order:
                    if self.pos == len(order):
                        self.pos = 0
                        self.term += 1
                    r = offsets[order[self.pos]] + self.term * self.term_h
                    if r < self.day_end:
                        self.due = r
                        return
                self.joined_phase = True
            new = self.new
            if new and new[0][0] < self.day_end:
                # due earlier in the day than the last decision: decided then
                self.due = max(new[0][0], self.last)
                return
            self.last = self.day_end
            self.day_end += HOURS_PER_DAY
            self.joined_phase = False

    def _snapshot(self, week: int) -> None:
        ctx, accounts = self.ctx, self.ctx.accounts
        ctx.out.visits.compact()  # the week's visit records into compact columns
        n = len(ctx.out.visits)
        active = accounts.n_active
        row = (week, ctx.env.now, active, accounts.churned, ctx.jobs.waiting, n - self.visits_seen)
        ctx.out.weeks.append(row)  # a WeekSnapshot
        self.visits_seen = n

    def _odds(self, counts: Counts) -> tuple[float, float, float]:
        """P(churn), and the relational survey's P(promoter) and 1 - P(detractor), after a
        term whose problems ended `counts[k]` times in class k (docs/model.md section 1): the
        relational answer shifts with each problem not fixed first time on time."""
        odds = self.odds.get(counts)
        if odds is None:
            cfg, nps = self.ctx.scenario.customers, self.ctx.scenario.nps
            p_churn = 1.0 - quality.renewal_prob(cfg, counts)
            n_bad = sum(counts) - counts[FIRST_TIME]
            pp = max(0.0, nps.relational_promoter - nps.relational_bad_shift * n_bad)
            pd = min(1.0 - pp, nps.relational_detractor + nps.relational_bad_shift * n_bad)
            odds = self.odds[counts] = (p_churn, pp, 1.0 - pd)
        return odds

    def _imputed(self, c: int, r: float, key: Counts) -> Counts:
        """The counts of account c's first term, renewing at r < term: the term began before
        the run, so its unseen part is imputed class by class at the rates this run has shown
        so far (docs/model.md, "History before the run")."""
        unseen = (self.term_h - r) / self.customer_hours
        e = self.history_e
        t0, t1, t2, t3 = self.accounts.problems_total
        m0, m1, m2, m3 = t0 * unseen, t1 * unseen, t2 * unseen, t3 * unseen
        e0, e1, e2, e3 = e[c, 0], e[c, 1], e[c, 2], e[c, 3]
        n0, n1, n2, n3, unresolved = key
        # Poisson^{-1}(u; m) is 0 when u <= exp(-m), i.e. -log u >= m: most accounts, most
        # classes, decided without an exp
        return (
            n0 if e0 >= m0 else n0 + poisson_quantile(math.exp(-e0), m0),
            n1 if e1 >= m1 else n1 + poisson_quantile(math.exp(-e1), m1),
            n2 if e2 >= m2 else n2 + poisson_quantile(math.exp(-e2), m2),
            n3 if e3 >= m3 else n3 + poisson_quantile(math.exp(-e3), m3),
            unresolved,
        )

    def _renew(self, c: int, r: float, term: int) -> None:
        """Account c's renewal decision at `r` (the end of its term number `term`), with its
        relational survey answer."""
        accounts = self.accounts
        p0, p1, p2, p3 = accounts.problems  # TERM_CLASSES, then the problems not fixed
        key = (p0[c], p1[c], p2[c], p3[c], accounts.unresolved[c])
        if self.impute and r < self.term_h and self.customer_hours > 0.0:
            key = self._imputed(c, r, key)
        p_churn, pp, pd_lo = self.odds.get(key) or self._odds(key)
        renewed = 0 if self.churn_u[c, term] < p_churn else 1
        ur = self.relational_u[c, term]
        rel = PROMOTER if ur < pp else (DETRACTOR if ur >= pd_lo else PASSIVE)
        self.rows.append((c, r, renewed, *key, rel, self.annual_value[c]))  # a Renewal
        p0[c] = p1[c] = p2[c] = p3[c] = 0
        accounts.terms[c] += 1
        if not renewed:
            accounts.active[c] = False
            accounts.churned += 1
