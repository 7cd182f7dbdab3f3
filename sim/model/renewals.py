"""The daily process: renewals, weekly snapshots and the end of the warm-up.

Each day at midnight `Renewals.run` ends the warm-up (restarting the queue-length
integral) once it is reached, takes a `WeekSnapshot` on Mondays, then decides the renewals
due that day, each at its customer's exact renewal date, so a churned account's later
failures are dropped from the moment it leaves (docs/model.md section 1: "Renewal",
"History before the run", "NPS").
"""

from __future__ import annotations

import heapq
import math

from simpy.events import ProcessGenerator

from sim.config.base import HOURS_PER_DAY
from sim.model.context import Context
from sim.world import quality
from sim.world.records import DETRACTOR, PASSIVE, PROMOTER


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


class Renewals:
    """Renewals at the customers' renewal dates, weekly snapshots, the warm-up reset."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        c = ctx.scenario.customers
        self.term_h = c.term_days * HOURS_PER_DAY
        offsets = ctx.world.renewal_offset_h
        n0 = ctx.world.initial_accounts
        self.order = sorted(range(n0), key=lambda a: offsets[a])  # by first renewal
        # accounts that join during the run: (next renewal, account, term), a heap
        self.new = [(offsets[a], a, 0) for a in range(n0, len(offsets))]
        self.pos = 0  # next account in `order`
        self.term = 0  # terms completed by every account before the one now renewing
        self.customer_hours = 0.0  # active customer-hours so far (rate of bad experiences)
        self.visits_seen = 0  # visits recorded at the last snapshot
        self.impute = c.impute_history
        self.odds: dict[int, tuple[float, float, float]] = {}  # by bad experiences

    def run(self) -> ProcessGenerator:
        """Day by day over the horizon."""
        ctx = self.ctx
        env = ctx.env
        warm = ctx.warmup <= 0
        day = 0
        while day * HOURS_PER_DAY <= ctx.horizon:
            t = day * HOURS_PER_DAY
            if t > env.now:
                yield env.timeout(t - env.now)
            if day:
                self.customer_hours += ctx.accounts.n_active * HOURS_PER_DAY
            if not warm and env.now >= ctx.warmup:
                ctx.jobs.restart_area(env.now)
                warm = True
            if day % 7 == 0:
                self._snapshot(day // 7)
            yield from self._renewals(t + HOURS_PER_DAY)
            if self.new:
                yield from self._new_renewals(t + HOURS_PER_DAY)
            day += 1

    def _snapshot(self, week: int) -> None:
        ctx, accounts = self.ctx, self.ctx.accounts
        n = len(ctx.out.visits)
        active = accounts.n_active
        row = (week, ctx.env.now, active, accounts.churned, ctx.jobs.waiting, n - self.visits_seen)
        ctx.out.weeks.append(row)  # a WeekSnapshot
        self.visits_seen = n

    def _renewals(self, until: float) -> ProcessGenerator:
        """The renewals due before `until`, each at its date."""
        env, order, offsets = self.ctx.env, self.order, self.ctx.world.renewal_offset_h
        while True:
            if self.pos == len(order):
                self.pos = 0
                self.term += 1
            c = order[self.pos]
            r = offsets[c] + self.term * self.term_h
            if r > env.now:
                if r >= until:
                    return
                yield env.timeout(r - env.now)
            self.pos += 1
            if self.ctx.accounts.active[c]:
                self._renew(c, r, self.term)

    def _new_renewals(self, until: float) -> ProcessGenerator:
        """The renewals of accounts that joined during the run, due before `until`."""
        env, heap = self.ctx.env, self.new
        while heap and heap[0][0] < until:
            r, c, term = heapq.heappop(heap)
            if r > env.now:
                yield env.timeout(r - env.now)
            if self.ctx.accounts.active[c]:
                self._renew(c, r, term)
                heapq.heappush(heap, (r + self.term_h, c, term + 1))

    def _odds(self, n_bad: int) -> tuple[float, float, float]:
        """P(churn), and the relational survey's P(promoter) and 1 - P(detractor), after
        `n_bad` bad experiences in the term (docs/model.md section 1)."""
        odds = self.odds.get(n_bad)
        if odds is None:
            cfg, nps = self.ctx.scenario.customers, self.ctx.scenario.nps
            p_churn = 1.0 - quality.renewal_prob(cfg, n_bad)
            pp = max(0.0, nps.relational_promoter - nps.relational_bad_shift * n_bad)
            pd = min(1.0 - pp, nps.relational_detractor + nps.relational_bad_shift * n_bad)
            odds = self.odds[n_bad] = (p_churn, pp, 1.0 - pd)
        return odds

    def _renew(self, c: int, r: float, term: int) -> None:
        """Account c's renewal decision at `r` (the end of its term number `term`), with its
        relational survey answer."""
        ctx, w, accounts = self.ctx, self.ctx.world, self.ctx.accounts
        n_bad = accounts.bad[c]
        if self.impute and r < self.term_h and self.customer_hours > 0.0:
            # the term began before the run: impute its unseen part at the rate of bad
            # experiences this run has shown so far (docs/model.md, "Memory")
            rate = accounts.bad_total / self.customer_hours
            n_bad += poisson_quantile(w.history_u[c], rate * (self.term_h - r))
        p_churn, pp, pd_lo = self._odds(n_bad)
        renewed = 0 if w.churn_u[c, term] < p_churn else 1
        ur = w.relational_u[c, term]
        rel = PROMOTER if ur < pp else (DETRACTOR if ur >= pd_lo else PASSIVE)
        ctx.out.renewals.append((c, r, renewed, n_bad, rel, w.annual_value[c]))  # a Renewal
        accounts.bad[c] = 0
        if not renewed:
            accounts.active[c] = False
            accounts.churned += 1
