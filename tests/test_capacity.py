"""The mechanisms of a fair contest (docs/model.md section 12): T&M calls, planned maintenance,
new accounts, the overtime cap, the SLA clock, the full cost of a visit and uptime.

Each test states a property that the mechanism must have and that a wrong implementation
breaks; small scenarios keep them fast.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.config.load import load_scenario
from sim.metrics.kpis import visit_columns
from sim.metrics.service import downtime
from sim.model.crew import Crew, expected_hours
from sim.model.dispatch import PriorityDispatcher, by_deadline
from sim.model.replication import simulate_schemes, steady_rate, world_for
from sim.model.state import PLANNED as PLANNED_RANK
from sim.model.state import TM_CALL, Jobs
from sim.pay.formula import formula_for
from sim.world.calendar import Calendar
from sim.world.draws import build_world
from sim.world.quality import failure_multiplier
from sim.world.records import MAINTAINED, PROBLEM_CLASSES
from tests.conftest import SCENARIO_DIR, deep_merge, runs_by_scheme, simulate_one, tiny_scenario

H = 24.0
TM = {"time_and_materials": {"enabled": True, "jobs_per_day": 6, "patience_days": 1}}
PLANNED = {
    "maintenance": {"enabled": True, "failure_effect": 0.5},
    "customers": {
        "tiers": {
            "gold": {
                "share": 0.3,
                "sla_hours": 24,
                "annual_value": 1200,
                "planned_visits_per_year": 4,
            },
            "bronze": {"share": 0.7, "sla_hours": 72, "annual_value": 400},
        }
    },
}


def _fixed(theta: float) -> dict:
    return {"behaviour": {"model": "fixed", "thoroughness": theta, "min_thoroughness": 0.5}}


# --------------------------------------------------------------------------- T&M calls
def test_tm_calls_fill_spare_capacity_and_earn_revenue():
    off, on = runs_by_scheme(tiny_scenario()), runs_by_scheme(tiny_scenario(TM))
    assert (off["tm_jobs"] == 0).all() and (on["tm_jobs"] > 0).all()
    assert (on["utilisation"] > off["utilisation"] + 0.05).all()
    assert on["tm_revenue"].equals(on["tm_jobs"] * 350.0)
    assert np.allclose(on["revenue"], on["contract_revenue"] + on["tm_revenue"])


def test_tm_calls_wait_behind_repairs_within_their_patience_and_jobs_are_conserved():
    sc = tiny_scenario(TM)
    _world, _f, out = simulate_one(sc)
    v = visit_columns(out)
    tm_first = (v["customer"] < 0) & (v["visit_no"] == 1)
    repair_first = (v["customer"] >= 0) & (v["visit_no"] == 1) & (v["outcome"] != MAINTAINED)
    wait = v["t_start"] - v["t_ready"]
    assert tm_first.sum() > 50 and repair_first.sum() > 50
    assert (wait[tm_first] <= 1 * H + 1e-9).all()  # nobody starts a call past its patience
    assert out.jobs_lost > 0  # demand exceeds what is left of the capacity
    assert out.jobs_created == (
        out.jobs_completed + out.jobs_waiting + out.jobs_in_service + out.jobs_lost
    )


def test_a_waiting_repair_goes_before_planned_work_and_calls_whatever_their_deadlines():
    sc = tiny_scenario({**TM, **PLANNED})
    world = build_world(sc, sc.seed, 0)
    f = formula_for(sc, "jobs_per_day")
    crew = Crew.start(sc, f, [1.0] * 4, [0.9] * 4, [0.1] * 4)
    env = simpy.Environment()
    jobs = Jobs(env, Calendar(sc), world.failure_type, crew.can_do, by_deadline, 0.0)
    rule = PriorityDispatcher(sc, crew)
    tm, planned = world.tm_first, world.planned_first
    simple = next(p for p in range(tm) if world.failure_type[p] == 0)
    tm_simple = next(p for p in range(tm, planned) if world.failure_type[p] == 0)
    jobs.ready((tm_simple, 1, 0.0, 1.0, -1, False), 0.0, TM_CALL)  # due first
    jobs.ready((planned, 1, 0.0, 2.0, -1, False), 0.0, PLANNED_RANK)
    jobs.ready((simple, 1, 0.0, 500.0, -1, False), 0.0)  # a repair, due last
    order = [rule.take(0, jobs.queues, 0.0) for _ in range(3)]
    assert [j[0] for j in order if j] == [simple, planned, tm_simple]


# --------------------------------------------------------------------------- planned visits
def test_planned_visits_follow_the_tiers_and_their_windows():
    sc = tiny_scenario(PLANNED)
    world = build_world(sc, sc.seed, 0)
    first = world.planned_first
    accounts = world.failure_customer[first:]
    assert {world.tier[c] for c in accounts} == {0}  # only gold has planned visits
    n_gold = sum(1 for t in world.tier if t == 0)
    expected = n_gold * 4 * sc.horizon_days / 365.0
    assert abs(len(accounts) - expected) <= n_gold  # at most one visit more or less each
    ready = np.array(world.failure_t[first:])
    deadline = np.array(world.planned_deadline)
    assert (np.diff(ready) >= 0).all()
    assert (deadline - ready <= sc.maintenance.window_days * H + 1e-9).all()
    _w, _f, out = simulate_one(sc)
    v = visit_columns(out)
    planned = v["outcome"] == MAINTAINED
    assert planned.sum() > 0.8 * len(accounts)
    assert (v["survey"][planned] == -1).all() and (v["visit_no"][planned] == 1).all()


def test_the_failure_multiplier_is_one_at_normal_care_and_falls_with_care():
    sc = tiny_scenario(PLANNED)
    theta = np.linspace(0.5, 1.5, 11)
    m = failure_multiplier(sc, theta)
    assert failure_multiplier(sc, 1.0) == pytest.approx(1.0)
    assert (np.diff(m) < 0).all() and (m >= 0).all()


def test_careless_maintenance_causes_more_failures():
    """Same world draws, fixed thoroughness, no churn: rushed planned visits leave more
    failures (M(0.6) / M(1.4) = 1.30 once every account has had a planned visit)."""
    every_tier = {
        "customers": {
            "churn_base": 0.0,  # nobody leaves: only the failure rate differs
            "churn_per_problem": dict.fromkeys(PROBLEM_CLASSES, 0.0),
            "tiers": {
                "gold": {"planned_visits_per_year": 6},
                "bronze": {"planned_visits_per_year": 6},
            },
        },
        "horizon_days": 240,
        "workforce": {"technicians": 12},
    }
    counts = {}
    for theta in (0.6, 1.4):
        sc = tiny_scenario(deep_merge(PLANNED, {**every_tier, **_fixed(theta)}))
        _w, _f, out = simulate_one(sc)
        v = visit_columns(out)
        assert (v["outcome"] == MAINTAINED).sum() > 0.9 * 6 * 1000 * 240 / 365 * 0.8
        counts[theta] = out.failures_opened
    assert counts[0.6] > 1.15 * counts[1.4], counts


# --------------------------------------------------------------------------- a steady book
def test_a_steady_book_keeps_the_baseline_accounts_within_5_percent():
    sc = tiny_scenario(
        {"customers": {"new_accounts_per_year": "steady", "count": 3000}, "horizon_days": 200}
    )
    rate = steady_rate(sc.model_dump_json(), sc.seed)
    assert rate > 0
    ends = [runs_by_scheme(sc, rep).loc["jobs_per_day", "active_accounts_end"] for rep in range(2)]
    assert all(abs(e / 3000 - 1.0) < 0.05 for e in ends), ends


def test_new_accounts_get_no_visit_before_they_join():
    sc = tiny_scenario({"customers": {"new_accounts_per_year": 2000}})
    world, _f, out = simulate_one(sc)
    assert len(world.join_t) > 100
    v = visit_columns(out)
    new = v["customer"] >= world.initial_accounts
    join = np.array(world.join_t)[(v["customer"][new] - world.initial_accounts).astype(int)]
    assert new.sum() > 0 and (v["t_ready"][new] >= join).all()


# --------------------------------------------------------------------------- overtime
def test_no_job_starts_that_is_expected_to_end_past_the_overtime_cap():
    sc = tiny_scenario({"workforce": {"max_overtime_hours": 0.5}, **TM, **PLANNED})
    _world, _f, out = simulate_one(sc)
    cal = Calendar(sc)
    v = visit_columns(out)
    need = np.array(
        [expected_hours(sc, th, pc) for th, pc in zip(out.thoroughness, out.pace)]
    )  # [tech, queue]
    expected_end = v["t_start"] + need[v["tech"].astype(int), v["job_type"].astype(int)]
    end = np.array([cal.shift_end(t) for t in v["t_start"]])
    repair = (v["outcome"] != MAINTAINED) & ~((v["customer"] < 0) & (v["visit_no"] == 1))
    assert (expected_end[repair] <= end[repair] + 0.5 + 1e-9).all()
    # planned visits and new T&M calls must be expected to end by the shift end
    assert (expected_end[~repair] <= end[~repair] + 1e-9).all()


def test_an_overtime_cap_cuts_overtime():
    free = runs_by_scheme(tiny_scenario(TM))
    capped = runs_by_scheme(tiny_scenario({"workforce": {"max_overtime_hours": 0.25}, **TM}))
    assert (capped["overtime_hours"] < free["overtime_hours"]).all()


# --------------------------------------------------------------------------- SLA clock
@settings(max_examples=60, deadline=None)
@given(t=st.floats(0.0, 24.0 * 30), hours=st.floats(0.0, 40.0))
def test_business_hours_count_only_shift_hours(t, hours):
    cal = Calendar(tiny_scenario())
    d = cal.add_business_hours(t, hours)
    assert d >= t + hours - 1e-9
    # the shift hours between t and d, counted on a fine grid, are `hours`
    grid = np.arange(t, d, 1 / 60)
    on = sum(1 for x in grid + 1 / 120 if cal.on_shift(x)) / 60
    assert on == pytest.approx(hours, abs=2 / 60)


def test_sla_compliance_falls_as_headcount_falls():
    tiers = {"gold": {"sla_hours": 2}, "bronze": {"sla_hours": 4}}
    over = {"customers": {"sla_clock": "business", "tiers": tiers}, "horizon_days": 90}
    sla = {}
    for n in (6, 4, 3):
        runs = runs_by_scheme(tiny_scenario({**over, "workforce": {"technicians": n}}))
        sla[n] = runs.loc["outcome_weighted", "sla_compliance"]
    assert sla[6] > sla[4] > sla[3], sla


# --------------------------------------------------------------------------- cost and uptime
def test_downtime_periods_from_records():
    # problem 0: part missing, then fixed; problem 1: looked fixed, came back, fixed
    rows = {
        "problem": [0, 0, 1, 1],
        "customer": [3, 3, 4, 4],
        "visit_no": [1, 2, 1, 2],
        "is_callback": [0, 0, 0, 1],
        "t_ready": [10.0, 60.0, 20.0, 100.0],
        "t_done": [12.0, 62.0, 22.0, 103.0],
        "outcome": [1, 0, 3, 0],
    }
    v = {k: np.array(x, dtype=float) for k, x in rows.items()}
    start, end = downtime(v, 1000.0)
    assert sorted(zip(start, end)) == [(10.0, 62.0), (20.0, 22.0), (100.0, 103.0)]


def test_the_default_scenario_puts_a_visit_at_the_published_200_to_300_dollars():
    sc = load_scenario(SCENARIO_DIR / "hvac.yaml")
    sc = sc.model_copy(update={"horizon_days": 180.0})
    world = world_for(sc, sc.seed, 0)
    from sim.metrics.kpis import replication_kpis

    for _name, f, out in simulate_schemes(sc, world):
        k, _t = replication_kpis(sc, out, f)
        assert 200.0 <= k["loaded_cost_per_visit"] <= 300.0, (_name, k["loaded_cost_per_visit"])
        assert 0.9 < k["availability"] < 1.0
        assert k["downtime_hours_per_failure"] > 0 and not math.isnan(k["sla_compliance"])
