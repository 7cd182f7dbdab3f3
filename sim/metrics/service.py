"""Service KPIs of one replication beyond the core set: accounts referred by promoters,
weekend work, and why problems needed a return visit (docs/model.md section 7).
`sim.metrics.kpis.replication_kpis` adds them to runs.csv."""

from __future__ import annotations

import numpy as np

from sim.config.base import HOURS_PER_DAY
from sim.config.scenario import Scenario
from sim.model.output import Output
from sim.world.calendar import Calendar
from sim.world.records import CAUSES


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den else float("nan")


def referral_and_weekend_kpis(
    scenario: Scenario,
    out: Output,
    v: dict[str, np.ndarray],
    contract: np.ndarray,
    bases: dict[str, float] | None = None,
) -> dict[str, float]:
    """Accounts referred by promoters that joined in [W, H); visits started on non-working
    days and the mean response to contract repairs ready on one (docs/model.md section 7).
    `contract`: the measured contract repair visits."""
    W = scenario.warmup_days * HOURS_PER_DAY
    H = scenario.horizon_days * HOURS_PER_DAY
    referred = np.asarray(out.referred_t, dtype=float)
    cal = Calendar(scenario)
    done = v["t_done"]
    weekend = cal.non_working(v["t_start"]) & (done >= W) & (done < H)
    ready = contract & cal.non_working(v["t_ready"])
    if bases is not None:
        bases["weekend_ready"] = float(ready.sum())
    return {
        "referred_accounts": float(((referred >= W) & (referred < H)).sum()),
        "weekend_visits": float(weekend.sum()),
        "weekend_response_hours": float(np.mean((v["t_arrive"] - v["t_ready"])[ready]))
        if ready.any()
        else float("nan"),
    }


def repeat_causes(
    v: dict[str, np.ndarray], repair: np.ndarray, bases: dict[str, float] | None = None
) -> dict[str, float]:
    """Why problems needed a return visit: of the problems whose first visit (a repair in
    `repair`, the measured period's) did not fix, the share of each cause of that visit
    (`Visit.cause`: parts, skill, time, other; NaN without such a problem)."""
    cause = v["cause"][repair & (v["visit_no"] == 1)]
    needed = cause[cause >= 0]
    if bases is not None:
        bases["first_visits_not_fixed"] = float(len(needed))
    return {
        f"repeat_cause_{name}": _ratio((needed == k).sum(), len(needed))
        for k, name in enumerate(CAUSES)
    }
