"""Service KPIs of one replication beyond the core set: accounts referred by promoters,
weekend work, why problems needed a return visit, and the assets' down periods
(docs/model.md section 7 and "Uptime").
`sim.metrics.kpis.replication_kpis` adds them to runs.csv."""

from __future__ import annotations

import numpy as np

from sim.config.base import HOURS_PER_DAY
from sim.config.scenario import Scenario
from sim.model.output import Output
from sim.world.calendar import Calendar
from sim.world.records import CAUSES, FIXED, LOOKED_FIXED, MAINTAINED


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


def downtime(v: dict[str, np.ndarray], horizon: float) -> tuple[np.ndarray, np.ndarray]:
    """Down periods of contract assets, from the visit records: a period starts when a
    problem becomes ready for its first visit or comes back after looking fixed (a callback),
    and ends at the visit that closes it as fixed (or at `horizon`). Returns their starts
    and ends (docs/model.md, "Uptime")."""
    m = (v["customer"] >= 0) & (v["outcome"] != MAINTAINED)
    if not m.any():
        return np.zeros(0), np.zeros(0)
    order = np.lexsort((v["visit_no"][m], v["problem"][m]))
    ready, done = v["t_ready"][m][order], v["t_done"][m][order]
    out = v["outcome"][m][order]
    opens = (v["visit_no"][m][order] == 1) | (v["is_callback"][m][order] == 1)
    period = np.cumsum(opens) - 1
    start = ready[opens]
    closes = (out == FIXED) | (out == LOOKED_FIXED)
    end = np.full(len(start), horizon)
    end[period[closes]] = done[closes]
    return start, end
