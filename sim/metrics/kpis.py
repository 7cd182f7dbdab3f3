"""KPIs of one replication, computed from its records (docs/model.md, "KPIs").

Everything is measured over the period after the warm-up, [W, H). Pay is computed here,
from the records and the scheme's pay formula, so the simulation never needs to know
how anybody is paid.
"""

from __future__ import annotations

import numpy as np

from sim.behaviour.attrition import vacant_shift_days
from sim.config.base import DAYS_PER_YEAR, HOURS_PER_DAY
from sim.config.scenario import Scenario
from sim.metrics.catalogue import KPIS
from sim.model.output import Output
from sim.pay.formula import PAY_TERMS, VARIABLE_TERMS, PayFormula
from sim.pay.ledger import (
    HOURS_PER_WEEK,
    VISIT_TERMS,
    TermEvents,
    WeeklyLedger,
    booked_pay,
    columns,
    counts_in,
    term_events,
)
from sim.world.calendar import Calendar
from sim.world.draws import n_weeks
from sim.world.records import (
    DETRACTOR,
    FIXED,
    LOOKED_FIXED,
    PROMOTER,
    RENEWAL_FIELDS,
    VISIT_FIELDS,
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


def visit_columns(out: Output) -> dict[str, np.ndarray]:
    """The visit records of `out` as columns (computed once per output)."""
    v = out.cache.get("visits")
    if v is None or out.cache.get("n_visits") != len(out.visits):
        v = out.cache["visits"] = columns(out.visits, VISIT_FIELDS)
        out.cache["n_visits"] = len(out.visits)
    return v


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den else float("nan")


def present_days(scenario: Scenario, out: Output, t0: float, t1: float) -> np.ndarray:
    """Shift days in [t0, t1) of every technician slot, less the days it stood vacant."""
    cal = Calendar(scenario)
    n = scenario.workforce.technicians
    return float(cal.shift_days(t0, t1)) - vacant_shift_days(cal, out.absences, n, t0, t1)


def tech_counts(
    scenario: Scenario, out: Output, events: dict[str, TermEvents] | None = None
) -> dict[str, np.ndarray]:
    """The pay-term counts of every technician over the measured period (sim.pay.ledger);
    `events`: the visits' `term_events`, if already computed."""
    n_tech = scenario.workforce.technicians
    W = scenario.warmup_days * HOURS_PER_DAY
    H = scenario.horizon_days * HOURS_PER_DAY
    v = visit_columns(out)
    if events is None:
        events = term_events(v, scenario.callback_window_days * HOURS_PER_DAY)
    days = present_days(scenario, out, W, H)
    counts = {
        "days": days,
        "hours": days * scenario.workforce.shift_hours,
        **counts_in(events, n_tech, W, H),
        "retained_value": _retained_value(scenario, out, v, n_tech, W, H),
    }
    return {t: counts[t] for t in PAY_TERMS}


def _retained_value(
    scenario: Scenario, out: Output, v: dict[str, np.ndarray], n_tech: int, W: float, H: float
) -> np.ndarray:
    """Annual value of customers renewing in [W, H), split equally among the visits to the
    customer done in the term before the renewal, (t - term, t]."""
    term = scenario.customers.term_days * HOURS_PER_DAY
    r = columns(out.renewals, RENEWAL_FIELDS)
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
    scenario: Scenario, out: Output, formula: PayFormula
) -> tuple[dict[str, float], list[dict[str, float]]]:
    """KPIs of one replication and its per-technician rows."""
    n_tech = scenario.workforce.technicians
    W = scenario.warmup_days * HOURS_PER_DAY
    H = scenario.horizon_days * HOURS_PER_DAY
    window = scenario.callback_window_days * HOURS_PER_DAY
    v = visit_columns(out)
    r = columns(out.renewals, RENEWAL_FIELDS)
    done = v["t_done"]
    meas = (done >= W) & (done < H)
    judged = meas & (done < H - window)  # visits whose callback window closed in the run
    events = term_events(v, window)  # first-time fixes and callbacks as paid (sim.pay.ledger)

    first = judged & (v["visit_no"] == 1)
    ftf = judged & events["first_time_fixes"].mask
    closed = judged & ((v["outcome"] == FIXED) | (v["outcome"] == LOOKED_FIXED))
    callback = judged & events["callbacks"].mask
    n_visits = int(meas.sum())
    responses = meas & (v["survey"] >= 0)
    prom = meas & (v["survey"] == PROMOTER)
    det = meas & (v["survey"] == DETRACTOR)

    rmeas = (r["t"] >= W) & (r["t"] < H)
    rel_prom = rmeas & (r["relational"] == PROMOTER)
    rel_det = rmeas & (r["relational"] == DETRACTOR)

    # revenue: contract value pro rata while the customer is active in [W, H)
    churn_t = np.full(scenario.customers.count, np.inf)
    lost = r["renewed"] == 0
    churn_t[r["customer"][lost].astype(int)] = r["t"][lost]
    annual = np.asarray(out.annual_value, dtype=float)
    active_h = np.clip(np.minimum(churn_t, H) - W, 0.0, H - W)
    revenue = float((annual * active_h).sum() / (DAYS_PER_YEAR * HOURS_PER_DAY))

    counts = tech_counts(scenario, out, events)
    comps = formula.components(counts)
    pay = formula.pay(counts)
    total_pay = float(pay.sum())
    tech_days = float(counts["days"].sum())  # shift days less vacancies
    busy = float((v["t_done"] - v["t_start"])[meas].sum())
    visit_costs = scenario.workforce.cost_per_visit * n_visits
    resolved = int((meas & (v["outcome"] == FIXED)).sum())
    ready_meas = (v["t_ready"] >= W) & (v["t_ready"] < H)
    margin = revenue - total_pay - visit_costs

    k = {
        "first_time_fix_rate": _ratio(ftf.sum(), first.sum()),
        "repeat_visit_rate": _ratio((meas & (v["visit_no"] > 1)).sum(), n_visits),
        "callback_rate": _ratio(callback.sum(), closed.sum()),
        "retention_rate": _ratio(r["renewed"][rmeas].sum(), rmeas.sum()),
        "nps": 100.0 * _ratio(prom.sum() - det.sum(), responses.sum()),
        "sla_compliance": 1.0 - _ratio(v["late"][meas].sum(), n_visits),
        "jobs_per_tech_day": _ratio(n_visits, tech_days),
        "utilisation": _ratio(busy, tech_days * scenario.workforce.shift_hours),
        "tech_pay_per_day": _ratio(total_pay, tech_days),
        "labour_cost_per_job": _ratio(total_pay, resolved),
        "revenue": revenue,
        "margin": margin,
        "margin_pct": 100.0 * _ratio(margin, revenue),
        "relational_nps": 100.0 * _ratio(rel_prom.sum() - rel_det.sum(), rmeas.sum()),
        "visits": float(n_visits),
        "problems_resolved": float(resolved),
        "mean_response_hours": float(np.mean((v["t_arrive"] - v["t_ready"])[meas]))
        if n_visits
        else float("nan"),
        "mean_wait_hours": float(np.mean((v["t_start"] - v["t_ready"])[ready_meas]))
        if ready_meas.any()
        else float("nan"),
        "mean_queue_length": out.queue_area_measured / (H - W),
        "arrival_rate_per_hour": out.jobs_created_measured / (H - W),
        "total_pay": total_pay,
        "visit_costs": float(visit_costs),
        "churned_customers": float((rmeas & lost).sum()),
        "lost_annual_value": float(r["annual_value"][rmeas & lost].sum()),
        "mean_thoroughness": float(np.mean(out.thoroughness)),
        "tech_quits": float(sum(1 for _i, t in out.quits if W <= t < H)),
        "vacancy_days": float(
            sum(max(0.0, min(a1, H) - max(a0, W)) for _i, a0, a1 in out.absences) / HOURS_PER_DAY
        ),
    }
    techs = []
    for i in range(n_tech):
        row = {
            "tech": i,
            "skill": out.skill[i],
            "thoroughness": out.thoroughness[i],
            **{t: float(counts[t][i]) for t in VARIABLE_TERMS},
            "pay": float(pay[i]),
            "pay_per_day": _ratio(pay[i], counts["days"][i]),
            **{f"pay_{t}": float(comps[t][i]) for t in PAY_TERMS},
        }
        techs.append({c: row[c] for c in TECH_COLUMNS})
    return k, techs


def week_rows(out: Output) -> list[dict[str, float]]:
    """The weekly snapshots of `out` as rows (WEEK_COLUMNS)."""
    return [dict(zip(WEEK_COLUMNS, w)) for w in out.weeks]


def weekly_pay(scenario: Scenario, out: Output, formula: PayFormula) -> np.ndarray:
    """Pay booked in each week [tech, week] (the weekly pay statement; sim.pay.ledger), without
    the retained-value term, which is booked at renewals."""
    weeks = n_weeks(scenario)
    H = scenario.horizon_days * HOURS_PER_DAY
    ledger = WeeklyLedger(
        scenario.workforce.technicians,
        weeks,
        scenario.callback_window_days * HOURS_PER_DAY,
        track_earned=False,
    )
    ledger.add_columns(visit_columns(out))
    booked = {t: b[:, :weeks] for t, b in ledger.booked.items()}
    present = np.zeros((scenario.workforce.technicians, weeks))
    for w in range(weeks):
        t0 = w * HOURS_PER_WEEK
        present[:, w] = present_days(scenario, out, t0, min(t0 + HOURS_PER_WEEK, H))
    return booked_pay(formula, booked, present, scenario.workforce.shift_hours)


def behaviour_rows(scenario: Scenario, out: Output, formula: PayFormula) -> list[dict[str, float]]:
    """One row per technician slot and week: thoroughness habit, intrinsic weight, skill,
    presence and the pay booked that week (BEHAVIOUR_COLUMNS)."""
    weeks = n_weeks(scenario)
    n_tech = scenario.workforce.technicians
    pay = weekly_pay(scenario, out, formula)
    theta, skill, lam, present = (
        out.theta_weeks,
        out.skill_weeks,
        out.intrinsic_weeks,
        out.present_weeks,
    )
    if theta is None or skill is None or lam is None or present is None:
        # no weekly snapshots (no learning, no attrition): the run's values every week
        theta = [out.thoroughness] * weeks
        skill = [out.skill] * weeks
        lam = [out.intrinsic] * weeks
        present = [[1] * n_tech] * weeks
    rows = []
    for w in range(weeks):
        th, sk, la, pr, pw = theta[w], skill[w], lam[w], present[w], pay[:, w].tolist()
        for i in range(n_tech):
            rows.append(
                {
                    "week": w,
                    "tech": i,
                    "thoroughness": th[i],
                    "intrinsic_weight": la[i],
                    "skill": sk[i],
                    "present": pr[i],
                    "pay_week": pw[i],
                }
            )
    return rows
