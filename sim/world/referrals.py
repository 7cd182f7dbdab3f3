"""Candidate referred accounts, drawn before the simulation (docs/model.md, "A steady book").

Promoters bring new accounts at a rate that depends on the scheme (`sim.model.referrals`).
So that every scheme sees the same candidates (common random numbers), they are drawn here,
once per replication: a Poisson process at the highest rate the model allows,

    lambda_max = rho * B / year,    B = accounts at the start + the pre-drawn new accounts,

each candidate with a tier, renewal uniforms and its failures from its join time (as any
new account, `sim.world.draws`), and an acceptance uniform u. The simulation accepts
candidate k, due to join at t_k, if u_k * lambda_max < lambda(t_k) (Lewis-Shedler
thinning), so a scheme changes only which candidates join; a rejected candidate never
becomes a customer and its failures and planned visits are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.config.base import DAYS_PER_YEAR, HOURS_PER_DAY
from sim.config.scenario import Scenario
from sim.world.rng import stream

HOURS_PER_YEAR = DAYS_PER_YEAR * HOURS_PER_DAY


@dataclass(frozen=True)
class Candidates:
    """The candidate referred accounts of a replication, in order of their join times."""

    join: np.ndarray  # when each would join (h), sorted
    tier: np.ndarray
    churn_u: np.ndarray  # [candidate, term] uniforms of the renewal decisions
    relational_u: np.ndarray  # [candidate, term] uniforms of the relational survey
    accept_u: np.ndarray  # the thinning uniform of each candidate
    fail_t: np.ndarray  # their failures: times (unsorted), ...
    fail_who: np.ndarray  # ... which candidate (from 0), ...
    fail_type: np.ndarray  # ... and job type
    top: float  # lambda_max, candidates per hour


def max_referral_rate(scenario: Scenario, book: int) -> float:
    """lambda_max per hour: every one of `book` accounts a promoter."""
    return scenario.customers.referrals_per_promoter_year * book / HOURS_PER_YEAR


def draw_candidates(
    scenario: Scenario, seed: int, replication: int, n_terms: int, multiplier: float, book: int
) -> Candidates:
    """The candidates at rate `max_referral_rate(book)` (stream "referrals") and their
    failures at `failures_per_year` x `multiplier` (the maintenance thinning's highest
    multiplier) from their join times (stream "referral_failures")."""
    c = scenario.customers
    horizon_h = scenario.horizon_days * HOURS_PER_DAY
    top = max_referral_rate(scenario, book)
    rng = stream(seed, replication, "referrals")
    n = int(rng.poisson(top * horizon_h))
    join = np.sort(rng.uniform(0.0, horizon_h, size=n))
    tiers = list(c.tiers.values())
    tier = rng.choice(len(tiers), size=n, p=np.array([t.share for t in tiers]))
    churn_u = rng.random((n, n_terms))
    relational_u = rng.random((n, n_terms))
    accept_u = rng.random(n)
    rng = stream(seed, replication, "referral_failures")
    rate_h = c.failures_per_year * multiplier / HOURS_PER_YEAR
    per = rng.poisson(rate_h * (horizon_h - join)) if n else np.zeros(0, dtype=int)
    who = np.repeat(np.arange(n), per)
    times = rng.uniform(join[who], horizon_h) if len(who) else np.zeros(0)
    types = list(scenario.jobs.types.values())
    jtype = rng.choice(len(types), size=len(times), p=np.array([t.share for t in types]))
    return Candidates(join, tier, churn_u, relational_u, accept_u, times, who, jtype, top)
