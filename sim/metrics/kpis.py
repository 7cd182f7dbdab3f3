"""KPIs of one replication, computed from its records (docs/model.md, "KPIs").

Everything is measured over the period after the warm-up, [W, H). Pay is computed here,
from the records and the scheme's pay formula, so the simulation never needs to know
how anybody is paid.
"""

from __future__ import annotations

import math

import numpy as np

from sim.behaviour.attrition import vacant_shift_days
from sim.config.base import DAYS_PER_YEAR, HOURS_PER_DAY
from sim.config.scenario import Scenario
from sim.metrics.catalogue import KPIS
from sim.metrics.service import downtime, referral_and_weekend_kpis, repeat_causes
from sim.model.output import Output
from sim.pay.formula import PAY_TERMS, VARIABLE_TERMS, PayFormula
from sim.pay.ledger import (
    VISIT_TERMS,
    TermEvents,
    columns,
    counts_in,
    term_events,
)
from sim.world.calendar import Calendar
from sim.world.records import (
    DETRACTOR,
    FIXED,
    LOOKED_FIXED,
    MAINTAINED,
    PROMOTER,
    RENEWAL_FIELDS,
    WEEK_FIELDS,
)

#: KPI columns of runs.csv, in order (the required ones first): the catalogue's order.
#: Tests pin these names.
KPI_COLUMNS: tuple[str, ...] = tuple(KPIS)

#: Per-technician columns of technicians.csv (after scenario, scheme, replication).
TECH_COLUMNS: tuple[str, ...] = (
    "tech",
    "skill",
    "thoroughness",
    "pace",
    "overtime_hours",
    *VISIT_TERMS,
    "retained_value",
    "pay",
    "pay_per_day",
    *tuple(f"pay_{t}" for t in PAY_TERMS),
)

#: Columns of timeseries.csv (after scenario, scheme, replication).
WEEK_COLUMNS: tuple[str, ...] = WEEK_FIELDS

#: Columns of behaviour.csv (after scenario, scheme, replication, seed): one row per
#: technician slot and week; thoroughness is the habit at the start of the week.
BEHAVIOUR_COLUMNS: tuple[str, ...] = (
    "week",
    "tech",
    "thoroughness",
    "intrinsic_weight",
    "skill",
    "present",
    "pay_week",
)


def _cached_columns(out: Output, name: str, rows: list, fields: tuple[str, ...]):
    """Records of `out` as columns, computed once per output (and again if rows were added)."""
    c = out.cache.get(name)
    if c is None or out.cache.get(f"n_{name}") != len(rows):
        c = out.cache[name] = columns(rows, fields)
        out.cache[f"n_{name}"] = len(rows)
    return c


def visit_columns(out: Output) -> dict[str, np.ndarray]:
    """The visit records of `out` as columns (computed once per output)."""
    c = out.cache.get("visits")
    if c is None or out.cache.get("n_visits") != len(out.visits):
        c = out.cache["visits"] = out.visits.columns()
        out.cache["n_visits"] = len(out.visits)
    return c


def renewal_columns(out: Output) -> dict[str, np.ndarray]:
    """The renewal records of `out` as columns (computed once per output)."""
    return _cached_columns(out, "renewals", out.renewals, RENEWAL_FIELDS)


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den else float("nan")


def present_days(scenario: Scenario, out: Output, t0: float, t1: float) -> np.ndarray:
    """Shift days in [t0, t1) of every technician slot, less the days it stood vacant."""
    cal = Calendar(scenario)
    n = scenario.workforce.technicians
    days = float(cal.shift_days(t0, t1)) - vacant_shift_days(cal, out.absences, n, t0, t1)
    return days + present_cover_days(scenario, out, t0, t1) if cal.cover else days


def present_cover_days(scenario: Scenario, out: Output, t0: float, t1: float) -> np.ndarray:
    """Weekend cover shifts in [t0, t1) of every technician slot, less those it stood vacant
    (docs/model.md, "Weekend cover"); zeros without cover."""
    cal = Calendar(scenario)
    days = cal.cover_days(t0, t1)
    if cal.cover:
        for tech, a0, a1 in out.absences:
            lo, hi = max(a0, t0), min(a1, t1)
            if hi > lo:
                days[tech] -= cal.cover_days(lo, hi)[tech]
    return days


def tech_counts(
    scenario: Scenario,
    out: Output,
    events: dict[str, TermEvents] | None = None,
    overtime_hours: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The pay-term counts of every technician over the measured period (sim.pay.ledger);
    `events`, `overtime_hours`: the visits' `term_events` and each technician's overtime
    (`overtime_by_tech`), if already computed."""
    n_tech = scenario.workforce.technicians
    W = scenario.warmup_days * HOURS_PER_DAY
    H = scenario.horizon_days * HOURS_PER_DAY
    v = visit_columns(out)
    if events is None:
        events = term_events(v, scenario.callback_window_days * HOURS_PER_DAY)
    if overtime_hours is None:
        overtime_hours = overtime_by_tech(scenario, v, n_tech, W, H)
    days = present_days(scenario, out, W, H)
    wf = scenario.workforce
    counts = {
        "days": days,
        # paid hours: the shift hours in post, and each hour past the shift end at the
        # overtime multiplier (docs/model.md, "Overtime")
        "hours": days * wf.shift_hours
        + wf.overtime_pay_multiplier * overtime_hours
        + cover_premium_hours(scenario, out, W, H),
        **counts_in(events, n_tech, W, H),
        "retained_value": _retained_value(scenario, out, v, n_tech, W, H),
    }
    return {t: counts[t] for t in PAY_TERMS}


def cover_premium_hours(scenario: Scenario, out: Output, W: float, H: float) -> np.ndarray | float:
    """The premium of each slot's weekend cover shifts in [W, H) in paid hours: a cover hour
    is paid at the overtime multiplier, and its plain hour is in the shift days already
    (docs/model.md, "Weekend cover"); 0 without cover."""
    wf = scenario.workforce
    if not wf.weekend_cover or wf.overtime_pay_multiplier == 1.0:
        return 0.0
    cover = present_cover_days(scenario, out, W, H)
    return (wf.overtime_pay_multiplier - 1.0) * wf.shift_hours * cover


def mean_skill_end(out: Output) -> float:
    """Mean skill of the technicians in post at the end, new hires at the skill they ramp up
    to (with attrition; without, every technician's skill)."""
    skills = out.skill if out.skill_end is None else out.skill_end
    present = [s for s in skills if not math.isnan(s)]  # vacant slots are NaN
    return float(np.mean(present)) if present else float("nan")


def overtime(scenario: Scenario, v: dict[str, np.ndarray]) -> np.ndarray:
    """Hours of each visit worked past the end of the shift it started in."""
    cal = Calendar(scenario)
    if cal.always:
        return np.zeros(len(v["t_start"]))
    start = v["t_start"]
    end = np.floor(start / HOURS_PER_DAY) * HOURS_PER_DAY + cal.start + cal.hours
    return np.clip(v["t_done"] - np.maximum(start, end), 0.0, None)


def overtime_by_tech(
    scenario: Scenario, v: dict[str, np.ndarray], n_tech: int, W: float, H: float
) -> np.ndarray:
    """Overtime hours of each technician on the visits done in [W, H)."""
    done = v["t_done"]
    m = (done >= W) & (done < H)
    return np.bincount(v["tech"][m].astype(int), overtime(scenario, v)[m], minlength=n_tech)


def _retained_value(
    scenario: Scenario, out: Output, v: dict[str, np.ndarray], n_tech: int, W: float, H: float
) -> np.ndarray:
    """Annual value of customers renewing in [W, H), split equally among the visits to the
    customer done in the term before the renewal, (t - term, t]."""
    term = scenario.customers.term_days * HOURS_PER_DAY
    r = renewal_columns(out)
    keep = (r["renewed"] == 1) & (r["t"] >= W) & (r["t"] < H)
    rc, rt, value = r["customer"][keep], r["t"][keep], r["annual_value"][keep]
    # visits by (customer, done): records are appended in order of completion, so a stable
    # sort by customer keeps each customer's visits in time order; complex numbers compare
    # lexicographically (real, then imaginary part)
    order = np.argsort(v["customer"], kind="stable")
    key = v["customer"][order] + 1j * v["t_done"][order]
    lo = np.searchsorted(key, rc + 1j * (rt - term), side="right")
    hi = np.searchsorted(key, rc + 1j * rt, side="right")
    n = hi - lo
    credit = np.zeros(n_tech)
    if n.sum():
        share = value[n > 0] / n[n > 0]
        lo, n = lo[n > 0], n[n > 0]
        # the visits of every renewal, renewal by renewal (the order credit is added in)
        idx = np.arange(n.sum()) + np.repeat(lo - np.cumsum(n) + n, n)
        np.add.at(credit, v["tech"][order][idx].astype(int), np.repeat(share, n))
    return credit


def replication_kpis(
    scenario: Scenario,
    out: Output,
    formula: PayFormula,
    bases: dict[str, float] | None = None,
) -> tuple[dict[str, float], list[dict[str, float]]]:
    """KPIs of one replication and its per-technician rows; `bases`, when given, is filled
    with what each ratio KPI is a ratio over (`sim.metrics.catalogue.PER_BASIS`), so that
    the KPIs of parts of a company simulated apart combine exactly (`sim.metrics.combine`)."""
    n_tech = scenario.workforce.technicians
    W = scenario.warmup_days * HOURS_PER_DAY
    H = scenario.horizon_days * HOURS_PER_DAY
    window = scenario.callback_window_days * HOURS_PER_DAY
    v = visit_columns(out)
    r = renewal_columns(out)
    wf = scenario.workforce
    done = v["t_done"]
    meas = (done >= W) & (done < H)
    planned = v["outcome"] == MAINTAINED
    repair = meas & ~planned
    contract = repair & (v["customer"] >= 0)
    tm = repair & (v["customer"] < 0)
    judged = repair & (done < H - window)  # visits whose callback window closed in the run
    events = term_events(v, window)  # first-time fixes and callbacks as paid (sim.pay.ledger)

    first = judged & (v["visit_no"] == 1)
    ftf = judged & events["first_time_fixes"].mask
    closed = judged & ((v["outcome"] == FIXED) | (v["outcome"] == LOOKED_FIXED))
    callback = judged & events["callbacks"].mask
    n_visits = int(meas.sum())
    n_repairs = int(repair.sum())
    n_contract = int(contract.sum())
    responses = meas & (v["survey"] >= 0)
    prom = meas & (v["survey"] == PROMOTER)
    det = meas & (v["survey"] == DETRACTOR)

    rmeas = (r["t"] >= W) & (r["t"] < H)
    rel_prom = rmeas & (r["relational"] == PROMOTER)
    rel_det = rmeas & (r["relational"] == DETRACTOR)

    # contract revenue: contract value pro rata while the account is a customer in [W, H)
    annual = np.asarray(out.annual_value, dtype=float)
    joined = np.zeros(len(annual))
    joined[out.initial_accounts :] = out.join_t
    churn_t = np.full(len(annual), np.inf)
    lost = r["renewed"] == 0
    churn_t[r["customer"][lost].astype(int)] = r["t"][lost]
    active_h = np.clip(np.minimum(churn_t, H) - np.maximum(joined, W), 0.0, H - W)
    contract_revenue = float((annual * active_h).sum() / (DAYS_PER_YEAR * HOURS_PER_DAY))
    tm_jobs = int((tm & (v["visit_no"] == 1)).sum())
    tm_revenue = tm_jobs * scenario.time_and_materials.revenue_per_job
    revenue = contract_revenue + tm_revenue

    ot_by_tech = overtime_by_tech(scenario, v, n_tech, W, H)
    counts = tech_counts(scenario, out, events, ot_by_tech)
    comps = formula.components(counts)
    pay = formula.pay(counts)
    total_pay = float(pay.sum())
    tech_days = float(counts["days"].sum())  # shift days less vacancies
    busy = float((v["t_done"] - v["t_start"])[meas].sum())
    ot_hours = float(ot_by_tech.sum())
    labour = total_pay * (1.0 + wf.labour_overhead)  # pay and the employer's cost on it
    truck_costs = wf.cost_per_visit * n_visits
    resolved = int((repair & (v["outcome"] == FIXED)).sum())
    ready_meas = contract & (v["t_ready"] >= W) & (v["t_ready"] < H)
    margin = revenue - labour - truck_costs
    d0, d1 = downtime(v, H)
    closed_meas = (d1 >= W) & (d1 < H)
    down_h = float((np.minimum(d1, H) - np.maximum(d0, W)).clip(0.0).sum())
    pl = meas & planned

    k = {
        "first_time_fix_rate": _ratio(ftf.sum(), first.sum()),
        "repeat_visit_rate": _ratio((repair & (v["visit_no"] > 1)).sum(), n_repairs),
        "callback_rate": _ratio(callback.sum(), closed.sum()),
        "retention_rate": _ratio(r["renewed"][rmeas].sum(), rmeas.sum()),
        "nps": 100.0 * _ratio(prom.sum() - det.sum(), responses.sum()),
        "sla_compliance": 1.0 - _ratio(v["late"][contract].sum(), n_contract),
        "jobs_per_tech_day": _ratio(n_visits, tech_days),
        "utilisation": _ratio(busy, tech_days * wf.shift_hours),
        "tech_pay_per_day": _ratio(total_pay, tech_days),
        "labour_cost_per_job": _ratio(total_pay, resolved),
        "revenue": revenue,
        "margin": margin,
        "margin_pct": 100.0 * _ratio(margin, revenue),
        "relational_nps": 100.0 * _ratio(rel_prom.sum() - rel_det.sum(), rmeas.sum()),
        "visits": float(n_visits),
        "problems_resolved": float(resolved),
        "mean_response_hours": float(np.mean((v["t_arrive"] - v["t_ready"])[contract]))
        if n_contract
        else float("nan"),
        "mean_wait_hours": float(np.mean((v["t_start"] - v["t_ready"])[ready_meas]))
        if ready_meas.any()
        else float("nan"),
        "mean_queue_length": out.queue_area_measured / (H - W),
        "arrival_rate_per_hour": out.jobs_created_measured / (H - W),
        "total_pay": total_pay,
        "visit_costs": float(truck_costs),
        "churned_customers": float((rmeas & lost).sum()),
        "lost_annual_value": float(r["annual_value"][rmeas & lost].sum()),
        "mean_thoroughness": float(np.mean(out.thoroughness)),
        "tech_quits": float(sum(1 for _i, t in out.quits if W <= t < H)),
        "vacancy_days": float(
            sum(max(0.0, min(a1, H) - max(a0, W)) for _i, a0, a1 in out.absences) / HOURS_PER_DAY
        ),
        "overtime_hours": _ratio(ot_hours, tech_days),
        "loaded_cost_per_visit": wf.cost_per_visit + _ratio(labour, n_visits),
        "labour_cost": labour,
        "contract_revenue": contract_revenue,
        "tm_jobs": float(tm_jobs),
        "tm_revenue": float(tm_revenue),
        "planned_visits": float(pl.sum()),
        "planned_on_time_rate": 1.0 - _ratio(v["late"][pl].sum(), pl.sum()),
        "new_accounts": float(((joined >= W) & (joined < H))[out.initial_accounts :].sum()),
        "active_accounts_end": float(out.active_end),
        "downtime_hours_per_failure": float(np.mean((d1 - d0)[closed_meas]))
        if closed_meas.any()
        else float("nan"),
        "availability": 1.0 - _ratio(down_h, float(active_h.sum())),
        # the headcount the scheme ran with (its own under workforce.sizing)
        "technicians_needed": float(n_tech),
        "mean_pace": float(np.mean(out.pace)) if out.pace else 1.0,
        "resolved_per_tech_day": _ratio(resolved, tech_days),
        **referral_and_weekend_kpis(scenario, out, v, contract, bases),
        **repeat_causes(v, repair, bases),
        "hires": float(sum(1 for h in out.hires if W <= h[1] < H)),
        "mean_skill_end": mean_skill_end(out),
    }
    if bases is not None:
        skills = out.skill if out.skill_end is None else out.skill_end
        bases.update(
            {
                "first_visits_judged": float(first.sum()),
                "repair_visits": float(n_repairs),
                "closed_judged": float(closed.sum()),
                "renewals": float(rmeas.sum()),
                "survey_responses": float(responses.sum()),
                "contract_repair_visits": float(n_contract),
                "tech_days": tech_days,
                "shift_hours_total": tech_days * wf.shift_hours,
                "resolved": float(resolved),
                "revenue": revenue,
                "contract_ready": float(ready_meas.sum()),
                "technicians": float(n_tech),
                "visits": float(n_visits),
                "planned_visits": float(pl.sum()),
                "down_periods_closed": float(closed_meas.sum()),
                "account_hours": float(active_h.sum()),
                "technicians_in_post": float(sum(1 for s in skills if not math.isnan(s))),
            }
        )
    techs = []
    for i in range(n_tech):
        row = {
            "tech": i,
            "skill": out.skill[i],
            "thoroughness": out.thoroughness[i],
            "pace": out.pace[i] if out.pace else 1.0,
            "overtime_hours": float(ot_by_tech[i]),
            **{t: float(counts[t][i]) for t in VARIABLE_TERMS},
            "pay": float(pay[i]),
            "pay_per_day": _ratio(pay[i], counts["days"][i]),
            **{f"pay_{t}": float(comps[t][i]) for t in PAY_TERMS},
        }
        techs.append({c: row[c] for c in TECH_COLUMNS})
    return k, techs
