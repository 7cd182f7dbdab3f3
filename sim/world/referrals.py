"""Candidate referred accounts, drawn before the simulation (docs/model.md, "A steady book").

Promoters bring new accounts at a rate that depends on the scheme (`sim.model.referrals`):
lambda(t) = rho * P(t) / year with P(t) <= the accounts that are customers at t. So that
every scheme sees the same candidates (common random numbers), they are drawn here, once
per replication, as a point process whose rate bounds every scheme's:

    lambda_max(t) = rho * (N0 + J(t) + K(t)) / year,

N0 the accounts at the start, J(t) the other new accounts joined before t
(`new_accounts_per_year`) and K(t) the candidates before t: the rate if every account that
could be a customer at t were a promoter (a birth process: each candidate raises it).
Each candidate has a tier, renewal uniforms and its failures from its join time (as any
new account, `sim.world.draws`), and an acceptance uniform u. The simulation accepts
candidate k, due to join at t_k, if u_k * lambda_max(t_k) < lambda(t_k) (Lewis-Shedler
thinning), so a scheme changes only which candidates join; a rejected candidate never
becomes a customer and its failures and planned visits are dropped.
"""

from __future__ import annotations

import math
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
    top: np.ndarray  # lambda_max at its join time, candidates per hour
    tier: np.ndarray
    churn_u: np.ndarray  # [candidate, term] uniforms of the renewal decisions
    relational_u: np.ndarray  # [candidate, term] uniforms of the relational survey
    accept_u: np.ndarray  # the thinning uniform of each candidate
    fail_t: np.ndarray  # their failures: times (unsorted), ...
    fail_who: np.ndarray  # ... which candidate (from 0), ...
    fail_type: np.ndarray  # ... and job type


#: Exponential gaps drawn at a time.
BLOCK = 1024


def candidate_times(
    rng: np.random.Generator, rate: float, count: int, new_join: np.ndarray, horizon_h: float
) -> tuple[np.ndarray, np.ndarray]:
    """Times in [0, horizon_h) of the birth process at `rate` x (count + J(t) + K(t)) per
    hour (J: the sorted `new_join` before t, K: the process's own points before t), and that
    rate at each point. Unit exponential gaps of the integrated rate, drawn in blocks."""
    times: list[float] = []
    tops: list[float] = []
    t, j, k, nj = 0.0, 0, 0, len(new_join)
    gaps = rng.standard_exponential(BLOCK)
    b = 0
    while True:
        if b == BLOCK:
            gaps, b = rng.standard_exponential(BLOCK), 0
        e = float(gaps[b])
        b += 1
        while True:  # spend the gap, through the joins of other new accounts
            lam = rate * (count + j + k)
            nxt = float(new_join[j]) if j < nj else math.inf
            if t + e / lam < nxt:
                t += e / lam
                break
            e = max(0.0, e - lam * (nxt - t))
            t, j = nxt, j + 1
        if t >= horizon_h:
            return np.array(times), np.array(tops)
        times.append(t)
        tops.append(rate * (count + j + k))
        k += 1


def draw_candidates(
    scenario: Scenario,
    seed: int,
    replication: int,
    n_terms: int,
    multiplier: float,
    new_join: np.ndarray,
) -> Candidates:
    """The candidates (stream "referrals"), with the other new accounts joining at
    `new_join` (sorted), and their failures at `failures_per_year` x `multiplier` (the
    maintenance thinning's highest multiplier) from their join times (stream
    "referral_failures")."""
    c = scenario.customers
    horizon_h = scenario.horizon_days * HOURS_PER_DAY
    rng = stream(seed, replication, "referrals")
    rate = c.referrals_per_promoter_year / HOURS_PER_YEAR
    join, top = candidate_times(rng, rate, c.count, new_join, horizon_h)
    n = len(join)
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
    return Candidates(join, top, tier, churn_u, relational_u, accept_u, times, who, jtype)
