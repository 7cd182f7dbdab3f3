"""Referrals: promoters bring new accounts (docs/model.md, "A steady book").

With `customers.referrals_per_promoter_year` = rho > 0, new accounts are referred at the
rate

    lambda(t) = rho * P(t) / year

where P(t) counts the promoters among the accounts that are customers at t: an account
whose last relational survey answer in the run (at a renewal, docs/model.md section 1)
was a promoter counts 1; an account that has not yet answered in the run counts the share
of promoters among the answers so far (before any answer, the relational promoter
probability of a clean term). P(t) is at most the accounts that are customers, so
lambda(t) <= lambda_max(t), the rate of the candidates drawn in advance
(`sim.world.referrals`); `referrals` accepts candidate k at its time t_k if
u_k * lambda_max(t_k) < lambda(t_k), with the renewals due before t_k decided first.
"""

from __future__ import annotations

from simpy.events import ProcessGenerator

from sim.config.base import DAYS_PER_YEAR, HOURS_PER_DAY
from sim.model.arrivals import Arrivals
from sim.model.context import Context
from sim.world.records import PROMOTER, RenewalRow


class Promoters:
    """P(t), kept up to date from the renewal records as they are appended."""

    def __init__(self, rows: list[RenewalRow], prior: float) -> None:
        self.rows = rows
        self.seen = 0  # renewal rows taken in
        self.prior = prior  # the share before any answer
        self.last: dict[int, bool] = {}  # account -> its last answer was a promoter's
        self.answered = 0  # customers with an answer in the run
        self.promoters = 0  # ... whose last answer was a promoter's
        self.answers = 0  # every answer so far (those of accounts that left, too)
        self.promoter_answers = 0

    def count(self, active: int) -> float:
        """P(t) with `active` customers, from the renewals recorded so far."""
        rows, last = self.rows, self.last
        for c, _t, renewed, *_counts, rel, _value in rows[self.seen :]:
            was = last.pop(c, None)
            if was is not None:
                self.answered -= 1
                self.promoters -= was
            promoter = rel == PROMOTER
            self.answers += 1
            self.promoter_answers += promoter
            if renewed:
                last[c] = promoter
                self.answered += 1
                self.promoters += promoter
        self.seen = len(rows)
        share = self.promoter_answers / self.answers if self.answers else self.prior
        return self.promoters + share * (active - self.answered)


def referrals(ctx: Context, arrivals: Arrivals) -> ProcessGenerator:
    """Each candidate referred account, at its time, joins with probability
    lambda(t) / lambda_max (thinning with its pre-drawn uniform)."""
    env, w, accounts, out = ctx.env, ctx.world, ctx.accounts, ctx.out
    sc = ctx.scenario
    rate = sc.customers.referrals_per_promoter_year / (DAYS_PER_YEAR * HOURS_PER_DAY)
    first = w.initial_accounts + len(w.join_t)  # the first candidate's account
    top = w.referral_max  # lambda_max at each candidate (sim.world.referrals)
    promoters = Promoters(out.renewals, sc.nps.relational_promoter)
    for k, t in enumerate(w.referral_t):
        yield env.timeout(t - env.now)
        now = env.now
        if arrivals.due < now:
            arrivals.until(now)  # the renewals before now (and the failures in between)
        if w.referral_u[k] * top[k] < rate * promoters.count(accounts.n_active):
            accounts.active[first + k] = True
            accounts.joined += 1
            out.referred_t.append(t)
