"""Revisit chains and the KPIs an export shows (docs/calibration.md, "What is estimated").

`chains(visits)` orders each chain's visits (a problem: its first visit and the revisits
whose `root_work_order_id` names it) and adds what the estimators and the KPIs need: the
visit's number in its chain, the status before it and the gap since, whether a revisit
came within the callback window. `observed_kpis` computes, from an export alone, the KPIs
the fit report compares: the same function reads the company's export and the calibrated
model's simulated export (`sim.calibrate.export`), so the two sides are measured alike.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

HOUR = pd.Timedelta(hours=1)


def hours(delta: pd.Series) -> np.ndarray:
    return np.asarray(delta.dt.total_seconds(), dtype=float) / 3600.0


def chains(visits: pd.DataFrame, window_days: float) -> pd.DataFrame:
    """`visits` (the layout, as read) in chain order with, per visit: `visit_no` (1 for the
    first), `prev_status`, `gap_h` (hours from the previous visit's completion to this
    one's creation), `next_h` (hours to the next visit's creation, inf if none), `judged`
    (its callback window closed before the export ends), `callback_next` (the chain came
    back within the window after a "fixed" close)."""
    v = visits[~visits["orphan"]].sort_values(["root_work_order_id", "created", "work_order_id"])
    g = v.groupby("root_work_order_id", sort=False)
    v = v.assign(visit_no=g.cumcount() + 1)
    prev_status = g["status"].shift(1)
    prev_done = g["completion"].shift(1)
    next_created = g["created"].shift(-1)
    end = visits["completion"].max()
    window = window_days * 24.0
    v = v.assign(
        prev_status=prev_status.fillna(""),
        gap_h=hours(v["created"] - prev_done),
        next_h=np.nan_to_num(hours(next_created - v["completion"]), nan=np.inf),
        judged=hours(end - v["completion"]) >= window,
    )
    return v.assign(callback_next=(v["status"] == "fixed") & (v["next_h"] <= window))


def repair(c: pd.DataFrame) -> pd.DataFrame:
    return c[~c["planned"]]


def first_visits(c: pd.DataFrame) -> pd.DataFrame:
    """Repairs' first visits whose callback window closed."""
    return c[~c["planned"] & (c["visit_no"] == 1) & c["judged"]]


def true_fix(first: pd.DataFrame) -> pd.Series:
    """A first visit that fixed: closed fixed, and the chain did not come back in the window."""
    return (first["status"] == "fixed") & ~first["callback_next"]


def tech_days(visits: pd.DataFrame) -> int:
    """Days on which a technician made at least one visit."""
    day = visits["dispatched"].fillna(visits["arrival"]).dt.floor("D")
    return int(pd.MultiIndex.from_arrays([visits["technician_id"], day]).nunique())


def observed_kpis(
    visits: pd.DataFrame, renewals: pd.DataFrame | None, window_days: float, shift_hours: float
) -> dict[str, float]:
    """The KPIs of an export (NaN where it lacks the columns)."""
    c = chains(visits, window_days)
    rep = repair(c)
    first = first_visits(c)
    closed = rep[(rep["status"] == "fixed") & rep["judged"]]
    contract = rep[rep["contract"] & (rep["visit_no"] == 1)]
    days = tech_days(visits)
    scores = rep["survey_score"].dropna() if "survey_score" in rep else pd.Series(dtype=float)
    busy = hours(visits["completion"] - visits["dispatched"].fillna(visits["arrival"]))
    out = {
        "first_time_fix_rate": _mean(true_fix(first)),
        "repeat_visit_rate": _mean(rep["visit_no"] > 1),
        "callback_rate": _mean(closed["callback_next"]),
        "part_needed_rate": _mean(first["status"] == "part_needed"),
        "sla_compliance": 1.0 - _mean(contract["sla_violated"].dropna())
        if "sla_violated" in contract
        else np.nan,
        "jobs_per_tech_day": len(visits) / days if days else np.nan,
        "utilisation": float(busy.sum()) / (days * shift_hours) if days else np.nan,
        "mean_response_hours": float(np.mean(hours(contract["arrival"] - contract["created"])))
        if len(contract)
        else np.nan,
        "nps": 100.0 * (_mean(scores >= 9) - _mean(scores <= 6)) if len(scores) else np.nan,
        "retention_rate": _mean(renewals["renewed"] == 1) if renewals is not None else np.nan,
    }
    return {k: float(x) for k, x in out.items()}


def _mean(x: pd.Series | np.ndarray) -> float:
    a = np.asarray(x, dtype=float)
    return float(a.mean()) if a.size else float("nan")


def distributions(visits: pd.DataFrame, window_days: float) -> dict[str, np.ndarray]:
    """The samples the fit report compares (hours unless named otherwise): on-site time of
    first visits that did not wait for a part, by job type; travel; response; the delay of
    a callback (days); first-time fix per technician (the skill proxy)."""
    c = chains(visits, window_days)
    first = first_visits(c)
    worked = c[(c["visit_no"] == 1) & (c["status"] != "part_needed")]
    out: dict[str, np.ndarray] = {}
    for jt, grp in worked.groupby("job_type", sort=True):
        out[f"on-site hours: {jt}"] = hours(grp["completion"] - grp["arrival"])
    if visits["dispatched"].notna().any():
        out["travel hours"] = hours(visits["arrival"] - visits["dispatched"]).astype(float)
    contract = c[~c["planned"] & c["contract"] & (c["visit_no"] == 1)]
    out["response hours"] = hours(contract["arrival"] - contract["created"])
    cb = c[(c["prev_status"] == "fixed")]
    out["callback delay (days)"] = cb["gap_h"].to_numpy(dtype=float) / 24.0
    per_tech = true_fix(first).groupby(first["technician_id"]).agg(["mean", "size"])
    out["first-time fix per technician"] = per_tech.loc[per_tech["size"] >= 20, "mean"].to_numpy()
    return {k: a[np.isfinite(a)] for k, a in out.items()}
