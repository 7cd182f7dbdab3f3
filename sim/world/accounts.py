"""Demand of contract accounts beyond the initial book's failures (docs/model.md,
"Capacity that pays"): accounts that join during the run, with their failures (streams
"acquisition" and "new_failures"), and the planned maintenance visits of every account
(stream "maintenance", with `maintenance.enabled`). `sim.world.draws.build_world` puts
them into the world."""

from __future__ import annotations

import numpy as np

from sim.config.base import DAYS_PER_YEAR, HOURS_PER_DAY
from sim.config.scenario import Scenario
from sim.world.rng import stream


def resolved_new_accounts(scenario: Scenario) -> float:
    """New accounts per year as a number (a "steady" rate must be resolved first, by
    `sim.model.replication.world_for`)."""
    rate = scenario.customers.new_accounts_per_year
    if isinstance(rate, str):
        raise ValueError(
            "customers.new_accounts_per_year is 'steady': resolve it with "
            "sim.model.replication.world_for"
        )
    return float(rate)


def new_accounts(
    scenario: Scenario, seed: int, replication: int, n_terms: int, multiplier: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Accounts that join during the run: join times (sorted), tiers, churn and relational
    uniforms, and their failures (times, account index from 0)."""
    c = scenario.customers
    horizon_h = scenario.horizon_days * HOURS_PER_DAY
    rate = resolved_new_accounts(scenario)
    rng = stream(seed, replication, "acquisition")
    n_new = int(rng.poisson(rate * scenario.horizon_days / DAYS_PER_YEAR)) if rate else 0
    join = np.sort(rng.uniform(0.0, horizon_h, size=n_new))
    tiers = list(c.tiers.values())
    tier = rng.choice(len(tiers), size=n_new, p=np.array([t.share for t in tiers]))
    churn_u = rng.random((n_new, n_terms))
    relational_u = rng.random((n_new, n_terms))
    rng = stream(seed, replication, "new_failures")
    rate_h = c.failures_per_year * multiplier / (DAYS_PER_YEAR * HOURS_PER_DAY)
    per = rng.poisson(rate_h * (horizon_h - join)) if n_new else np.zeros(0, dtype=int)
    who = np.repeat(np.arange(n_new), per)
    times = rng.uniform(join[who], horizon_h) if len(who) else np.zeros(0)
    return join, tier, churn_u, relational_u, times, who


def planned_visits(
    scenario: Scenario, rng: np.random.Generator, tier: np.ndarray, start: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Planned visits of accounts of tiers `tier` that are customers from `start` (h):
    ready times (sorted), accounts, deadlines."""
    m = scenario.maintenance
    horizon_h = scenario.horizon_days * HOURS_PER_DAY
    per_year = np.array([t.planned_visits_per_year for t in scenario.customers.tiers.values()])
    n = per_year[tier]
    period = np.where(n > 0, DAYS_PER_YEAR * HOURS_PER_DAY / np.maximum(n, 1e-12), np.inf)
    phase = start + rng.uniform(0.0, 1.0, size=len(tier)) * np.where(n > 0, period, 0.0)
    k = np.where(n > 0, np.ceil((horizon_h - phase) / period), 0).clip(0).astype(int)
    who = np.repeat(np.arange(len(tier)), k)
    first = np.cumsum(k) - k
    due = phase[who] + (np.arange(len(who)) - np.repeat(first, k)) * period[who]
    half = m.window_days * HOURS_PER_DAY / 2.0
    ready = np.maximum(due - half, start[who])
    order = np.argsort(ready, kind="stable")
    return ready[order], who[order], (due + half)[order]
