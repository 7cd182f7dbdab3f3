"""Validation against exact results: Erlang C, Little's law, conservation of jobs and money.

The M/M/c reduction is `scenarios/mmc.yaml` (Poisson jobs, exponential on-site time,
c technicians always on shift, no travel, every visit fixes, no churn, fixed thoroughness,
FIFO), rescaled to other (lambda, mu, c). Simulated means are compared with Erlang C through
the replications' 95% confidence interval (`sim.metrics.stats.mean_ci`); each comparison also
requires the interval to be narrow enough that a real error of ~10% would be caught.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import SCENARIO_DIR, bundled_dict, deep_merge, mmc_dict, tiny_scenario

from sim.behaviour.best_response import choose_behaviour
from sim.config.base import HOURS_PER_DAY
from sim.config.load import load_scenario, scenario_from_dict
from sim.experiment.tasks import run_experiment
from sim.metrics.stats import mean_ci
from sim.model.simulation import simulate
from sim.pay.formula import PAY_TERMS, formula_for
from sim.world.draws import build_world
from sim.world.records import FIXED, VISIT_FIELDS

# --------------------------------------------------------------------------- Erlang C


def erlang_c(lam: float, mu: float, c: int) -> tuple[float, float]:
    """(mean wait in queue Wq, utilisation rho) of an M/M/c queue (Kleinrock 1975, 3.5)."""
    a = lam / mu
    rho = a / c
    assert rho < 1
    tail = a**c / math.factorial(c) / (1.0 - rho)
    p_wait = tail / (sum(a**k / math.factorial(k) for k in range(c)) + tail)
    return p_wait / (c * mu - lam), rho


def test_erlang_c_reference_values():
    # M/M/1: Wq = rho / (mu - lam); textbook M/M/2 with a = 1: C = 1/3, Wq = C/(2mu - lam)
    assert erlang_c(0.5, 1.0, 1) == pytest.approx((1.0, 0.5))
    assert erlang_c(1.0, 1.0, 2)[0] == pytest.approx((1 / 3) / 1.0)


#: (lambda per hour, mu per hour, c, horizon days, warm-up days, replications)
MMC_SETTINGS = [
    (2.0, 1.0, 3, 300, 10, 20),  # rho 0.67
    (1.4, 0.5, 4, 300, 10, 20),  # rho 0.70, long jobs
    (0.7, 1.0, 1, 300, 10, 20),  # M/M/1, rho 0.70
    (6.0, 2.0, 4, 150, 5, 20),  # rho 0.75, short jobs
]
SEED = 1  # fixed before looking at any result

_cache: dict = {}


def _mmc_runs(lam, mu, c, horizon, warmup, reps):
    key = (lam, mu, c, horizon, warmup, reps)
    if key not in _cache:
        sc = scenario_from_dict(mmc_dict(lam, mu, c, horizon, warmup, seed=SEED), "<mmc>")
        _cache[key] = run_experiment(sc, replications=reps, workers=2).runs
    return _cache[key]


def _check_erlang(runs, lam, mu, c):
    wq, rho = erlang_c(lam, mu, c)
    _, _, lo, hi = mean_ci(runs["mean_wait_hours"].to_numpy())
    assert lo <= wq <= hi, f"Wq: Erlang C {wq:.4f} outside the 95% CI [{lo:.4f}, {hi:.4f}]"
    assert (hi - lo) / 2 <= 0.08 * wq, "CI of the mean wait too wide to be a real check"
    _, _, lo, hi = mean_ci(runs["utilisation"].to_numpy())
    assert lo <= rho <= hi, f"rho: Erlang C {rho:.4f} outside the 95% CI [{lo:.4f}, {hi:.4f}]"
    assert (hi - lo) / 2 <= 0.02 * rho, "CI of the utilisation too wide to be a real check"
    # the arrival rate the model produced is the one asked for
    _, _, lo, hi = mean_ci(runs["arrival_rate_per_hour"].to_numpy())
    assert lo <= lam <= hi


@pytest.mark.parametrize("lam,mu,c,horizon,warmup,reps", MMC_SETTINGS)
def test_mmc_matches_erlang_c(lam, mu, c, horizon, warmup, reps):
    runs = _mmc_runs(lam, mu, c, horizon, warmup, reps)
    assert len(runs) == reps
    _check_erlang(runs, lam, mu, c)


def test_bundled_mmc_scenario_matches_erlang_c():
    sc = load_scenario(SCENARIO_DIR / "mmc.yaml")
    d = bundled_dict("mmc")
    count = d["customers"]["count"]
    lam = count * d["customers"]["failures_per_year"] / (365 * HOURS_PER_DAY)
    mu = 1.0 / d["jobs"]["types"]["job"]["onsite_hours_mean"]
    c = d["workforce"]["technicians"]
    assert (lam, mu, c) == pytest.approx((4.0, 1.0, 5))
    runs = run_experiment(sc, workers=2).runs  # the scenario's own seed and replications
    _check_erlang(runs, lam, mu, c)


def test_mmc_reduction_really_is_mmc():
    """Every visit fixes at once, no travel, one visit per problem, FIFO."""
    sc = scenario_from_dict(mmc_dict(2.0, 1.0, 3, 30, 2), "<mmc>")
    world = build_world(sc, 3, 0)
    theta, pace = choose_behaviour(sc, formula_for(sc, "hourly"), world.skill)
    out = simulate(sc, world, theta, pace=pace)
    v = np.array(out.visits, dtype=float)
    col = {f: v[:, k] for k, f in enumerate(VISIT_FIELDS)}
    assert (col["outcome"] == FIXED).all()
    assert (col["visit_no"] == 1).all()
    assert (col["t_arrive"] == col["t_start"]).all()
    assert (col["thoroughness"] == 1.0).all()
    # FIFO: dispatch order is ready order
    order = np.argsort(col["t_start"], kind="stable")
    assert (np.diff(col["t_ready"][order]) >= 0).all()
    # exponential on-site time with mean 1/mu: mean and cv close to 1
    d = col["t_done"] - col["t_arrive"]
    assert d.mean() == pytest.approx(1.0, rel=0.05)
    assert d.std() / d.mean() == pytest.approx(1.0, rel=0.05)


# --------------------------------------------------------------------------- Little's law


def _little_rel_error(runs):
    lam_w = runs["arrival_rate_per_hour"] * runs["mean_wait_hours"]
    return (runs["mean_queue_length"] / lam_w - 1.0).to_numpy()


def test_littles_law_mmc():
    runs = _mmc_runs(*MMC_SETTINGS[0])
    rel = _little_rel_error(runs)
    assert np.abs(rel).max() < 0.02
    assert abs(rel.mean()) < 0.01


def test_littles_law_realistic():
    """Shifts, travel, parts, callbacks, EDF, churn: L = lambda W within a few percent.

    The queue at the start and end of the measured period (jobs that wait over a weekend
    into it, jobs still waiting at its end) makes the finite-period identity approximate.
    """
    sc = tiny_scenario({"horizon_days": 240})
    runs = run_experiment(sc, replications=3, workers=2).runs
    rel = _little_rel_error(runs)
    assert (runs["mean_queue_length"] > 1).all()  # a real queue, not a trivial one
    assert np.abs(rel).max() < 0.05, rel


# --------------------------------------------------------------------------- conservation of jobs

CONSERVATION_CASES = {
    "tiny": {},
    "tiny_fifo_always_on_rushed": {
        "workforce": {
            "dispatch": "fifo",
            "shift_hours": 24,
            "shift_start_hour": 0,
            "days_per_week": 7,
            "technicians": 2,
        },
        "behaviour": {"model": "fixed", "thoroughness": 0.6},
    },
    "tiny_overloaded": {"workforce": {"technicians": 2}},
    "tiny_six_day_long_shifts": {
        "workforce": {"shift_hours": 10, "shift_start_hour": 7, "days_per_week": 6},
        "jobs": {"part_lead_time_hours": 0, "revisit_delay_hours": 0},
    },
    "mmc": "mmc",
    "medical": "medical",
}


def _scenario_for(case):
    over = CONSERVATION_CASES[case]
    if isinstance(over, str):
        d = deep_merge(bundled_dict(over), {"horizon_days": 60, "warmup_days": 10})
        return scenario_from_dict(d, f"<{over}>")
    return tiny_scenario(over)


def _first_visits_released(out, world):
    """Failures of customers still active when they occurred (churned ones are dropped)."""
    churned_at: dict[int, float] = {}
    for c, t, renewed, *_ in out.renewals:
        if not renewed:
            churned_at[c] = t
    return sum(
        1
        for t, c in zip(world.failure_t, world.failure_customer)
        if churned_at.get(c, math.inf) > t
    )


@pytest.mark.parametrize("case", list(CONSERVATION_CASES))
def test_jobs_are_conserved(case):
    sc = _scenario_for(case)
    ends = []
    for scheme in sc.schemes:
        for rep in (0, 1):
            world = build_world(sc, sc.seed, rep)
            theta, pace = choose_behaviour(sc, formula_for(sc, scheme), world.skill)
            out = simulate(sc, world, theta, pace=pace)
            # created = completed + waiting + in service, at the end
            assert out.jobs_created == out.jobs_completed + out.jobs_waiting + out.jobs_in_service
            assert out.jobs_completed == len(out.visits)
            assert 0 <= out.jobs_created_measured <= out.jobs_created
            # created = first visits released by failures + return visits released
            horizon = sc.horizon_days * HOURS_PER_DAY
            v = {
                f: np.array([r[k] for r in out.visits], dtype=float)
                for k, f in enumerate(VISIT_FIELDS)
            }
            returns_scheduled = int(((v["outcome"] != FIXED) & (v["next_ready"] < horizon)).sum())
            returns_released = returns_scheduled - out.jobs_scheduled
            assert out.jobs_created == _first_visits_released(out, world) + returns_released
            # each visit of a problem happens once, and a return visit follows its predecessor
            keys = set(zip(v["problem"].astype(int), v["visit_no"].astype(int)))
            assert len(keys) == len(out.visits)
            prev = {
                (int(p), int(n)): nr
                for p, n, nr in zip(v["problem"], v["visit_no"], v["next_ready"])
            }
            for p, n, ready in zip(v["problem"], v["visit_no"], v["t_ready"]):
                if n > 1:
                    assert prev[(int(p), int(n) - 1)] == ready
            ends.append((out.jobs_waiting, out.jobs_in_service, returns_released))
    # the identity is only a check if something was left over at the end somewhere
    if case in ("tiny_overloaded", "mmc"):
        assert max(e[0] for e in ends) > 0
    if case in ("mmc", "tiny_fifo_always_on_rushed"):
        assert max(e[1] for e in ends) > 0
    if case != "mmc":
        assert min(e[2] for e in ends) > 0


# --------------------------------------------------------------------------- money adds up


def _shift_days(sc) -> int:
    """Shift starts in the measured period, counted directly (day 0 is a Monday)."""
    wf = sc.workforce
    W, H = sc.warmup_days * HOURS_PER_DAY, sc.horizon_days * HOURS_PER_DAY
    return sum(
        1
        for d in range(int(sc.horizon_days) + 1)
        if d % 7 < wf.days_per_week and W <= d * HOURS_PER_DAY + wf.shift_start_hour < H
    )


@pytest.fixture(scope="module")
def money():
    sc = tiny_scenario({"horizon_days": 150})
    res = run_experiment(sc, replications=2)
    return sc, res.runs, res.technicians


def test_pay_is_the_sum_of_its_components(money):
    sc, runs, techs = money
    parts = techs[[f"pay_{t}" for t in PAY_TERMS]].sum(axis=1)
    np.testing.assert_allclose(techs["pay"], parts, rtol=1e-12, atol=1e-9)
    assert len(techs) == len(runs) * sc.workforce.technicians
    # total pay is the sum of the technicians' pay, and the derived KPIs follow from it
    per_run = techs.groupby(["scheme", "replication"], sort=False)["pay"].sum()
    r = runs.set_index(["scheme", "replication"])
    np.testing.assert_allclose(r["total_pay"], per_run.reindex(r.index), rtol=1e-12)
    days = _shift_days(sc)
    n = sc.workforce.technicians
    np.testing.assert_allclose(r["tech_pay_per_day"], r["total_pay"] / (n * days), rtol=1e-12)
    np.testing.assert_allclose(
        r["margin"], r["revenue"] - r["total_pay"] - r["visit_costs"], rtol=1e-9, atol=1e-6
    )
    np.testing.assert_allclose(r["labour_cost_per_job"], r["total_pay"] / r["problems_resolved"])
    np.testing.assert_allclose(r["visit_costs"], sc.workforce.cost_per_visit * r["visits"])
    # the technicians' visit counts add up to the visits KPI
    tv = techs.groupby(["scheme", "replication"], sort=False)["visits"].sum()
    np.testing.assert_array_equal(r["visits"], tv.reindex(r.index))
    techs_pd = techs.set_index(["scheme", "replication"])
    np.testing.assert_allclose(techs_pd["pay_per_day"], techs_pd["pay"] / days, rtol=1e-12)


def _by_scheme(techs, name):
    return techs[techs["scheme"] == name]


def test_scheme_formulas_coefficients(money):
    sc, _, techs = money
    days = _shift_days(sc)
    s = sc.schemes

    jpd = _by_scheme(techs, "jobs_per_day")
    expect = s["jobs_per_day"].base_per_day * days + s["jobs_per_day"].per_visit * jpd["visits"]
    np.testing.assert_allclose(jpd["pay"], expect, rtol=1e-12)
    assert (jpd["pay_first_time_fixes"] == 0).all() and (jpd["pay_hours"] == 0).all()

    ow_s = s["outcome_weighted"]
    ow = _by_scheme(techs, "outcome_weighted")
    expect = (
        ow_s.base_per_day * days
        + ow_s.per_first_time_fix * ow["first_time_fixes"]
        - ow_s.clawback_per_repeat_visit * ow["repeat_visits"]
        - ow_s.clawback_per_callback * ow["callbacks"]
        + ow_s.per_promoter * ow["promoters"]
        + ow_s.retained_value_share * ow["retained_value"]
    )
    np.testing.assert_allclose(ow["pay"], expect, rtol=1e-12)
    assert (ow["pay_visits"] == 0).all()
    # every term of the outcome scheme is exercised, so the check has teeth
    for col in ("first_time_fixes", "repeat_visits", "callbacks", "promoters", "retained_value"):
        assert ow[col].sum() > 0, col

    hr = _by_scheme(techs, "hourly")
    wf = sc.workforce
    paid_hours = wf.shift_hours * days + wf.overtime_pay_multiplier * hr["overtime_hours"]
    np.testing.assert_allclose(hr["pay"], s["hourly"].per_hour * paid_hours)
    assert hr["overtime_hours"].sum() > 0  # the overtime term is exercised


def test_hybrid_pay_is_the_blend(money):
    sc, _, techs = money
    days = _shift_days(sc)
    w = sc.schemes["hybrid"].weight
    a, b = sc.schemes["jobs_per_day"], sc.schemes["outcome_weighted"]
    h = _by_scheme(techs, "hybrid")
    pay_a = a.base_per_day * days + a.per_visit * h["visits"]
    pay_b = (
        b.base_per_day * days
        + b.per_first_time_fix * h["first_time_fixes"]
        - b.clawback_per_repeat_visit * h["repeat_visits"]
        - b.clawback_per_callback * h["callbacks"]
        + b.per_promoter * h["promoters"]
        + b.retained_value_share * h["retained_value"]
    )
    np.testing.assert_allclose(h["pay"], (1 - w) * pay_a + w * pay_b, rtol=1e-12)


def test_pay_counts_come_from_the_visit_records():
    """Visits and promoters per technician, recounted from the raw records."""
    from sim.metrics.kpis import replication_kpis
    from sim.world.records import PROMOTER

    sc = tiny_scenario()
    world = build_world(sc, sc.seed, 0)
    f = formula_for(sc, "outcome_weighted")
    theta, pace = choose_behaviour(sc, f, world.skill)
    out = simulate(sc, world, theta, pace=pace)
    _, techs = replication_kpis(sc, out, f)
    W, H = sc.warmup_days * HOURS_PER_DAY, sc.horizon_days * HOURS_PER_DAY
    i_tech, i_done, i_survey = (VISIT_FIELDS.index(k) for k in ("tech", "t_done", "survey"))
    for row in techs:
        mine = [r for r in out.visits if r[i_tech] == row["tech"] and W <= r[i_done] < H]
        assert row["visits"] == len(mine)
        assert row["promoters"] == sum(1 for r in mine if r[i_survey] == PROMOTER)
