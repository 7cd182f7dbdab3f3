"""Property tests (hypothesis): invariants over random small scenarios and parameters."""

from __future__ import annotations

import math

import numpy as np
from conftest import tiny_dict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.behaviour.best_response import best_response, theta_grid
from sim.config.base import HOURS_PER_DAY
from sim.config.load import scenario_from_dict
from sim.config.parts import JobType, Quality
from sim.experiment.tasks import run_replication
from sim.metrics.kpis import replication_kpis
from sim.model.simulation import simulate
from sim.pay.formula import PAY_TERMS, PayFormula, formula_for
from sim.world import quality
from sim.world.draws import build_world
from sim.world.records import FIXED, LOOKED_FIXED, PROBLEM_CLASSES, VISIT_FIELDS

# small example counts keep the suite fast; derandomized so CI runs are reproducible;
# no example database is written into the repo
SIM = settings(
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
FAST = settings(max_examples=200, deadline=None, database=None, derandomize=True)

RATES = [
    "first_time_fix_rate",
    "repeat_visit_rate",
    "callback_rate",
    "retention_rate",
    "sla_compliance",
]

prob = st.floats(0.0, 1.0)


@st.composite
def small_scenarios(draw):
    """Random small scenarios: workforce, shifts, demand, job odds, churn, windows."""
    shift = draw(st.sampled_from([4.0, 8.0, 10.0, 24.0]))
    start = 0.0 if shift == 24.0 else draw(st.floats(0.0, 24.0 - shift))
    horizon = draw(st.integers(15, 70))
    over = {
        "seed": draw(st.integers(0, 2**31)),
        "horizon_days": horizon,
        "warmup_days": draw(st.integers(0, horizon // 2)),
        "callback_window_days": draw(st.sampled_from([0, 7, 30])),
        "customers": {
            "count": draw(st.integers(20, 400)),
            "failures_per_year": draw(st.floats(0.5, 6.0)),
            "term_days": draw(st.sampled_from([10, 30, 90])),
            "churn_base": draw(st.floats(0.0, 0.2)),
            "churn_per_problem": {k: draw(st.floats(0.0, 0.9)) for k in PROBLEM_CLASSES},
        },
        "jobs": {
            "types": {
                "simple": {"fix_prob": draw(prob), "part_on_van": draw(prob)},
                "complex": {
                    "min_skill": draw(prob),
                    "fix_prob": draw(prob),
                    "part_on_van": draw(prob),
                },
            },
            "duration_distribution": draw(st.sampled_from(["lognormal", "exponential", "fixed"])),
            "part_lead_time_hours": draw(st.floats(0, 72)),
            "revisit_delay_hours": draw(st.floats(0, 48)),
        },
        "workforce": {
            "technicians": draw(st.integers(1, 4)),
            "skill_sd": draw(st.floats(0.0, 0.3)),
            "shift_hours": shift,
            "shift_start_hour": start,
            "days_per_week": draw(st.integers(1, 7)),
            "travel_hours_mean": draw(st.floats(0.0, 1.0)),
            "dispatch": draw(st.sampled_from(["edf", "fifo"])),
        },
        "quality": {"skill_effect": draw(st.floats(0, 1)), "detect_prob": draw(prob)},
        "behaviour": {
            "model": draw(st.sampled_from(["best_response", "fixed"])),
            "thoroughness": draw(st.floats(0.5, 1.5)),
            "intrinsic_weight": draw(prob),
            "grid_points": 21,
        },
    }
    d = tiny_dict(over)
    del d["jobs"]["types"]["standard"]
    d["jobs"]["types"]["simple"]["share"] = 0.6
    d["jobs"]["types"]["complex"]["share"] = 0.4
    return scenario_from_dict(d, "<random>")


def _nonneg(x: float) -> bool:
    """NaN or >= 0, allowing float rounding (SimPy adds delays to the clock)."""
    return math.isnan(x) or x >= -1e-9


def _in_unit(x: float) -> bool:
    return math.isnan(x) or 0.0 <= x <= 1.0


@SIM
@given(small_scenarios(), st.integers(0, 3))
def test_kpis_are_sensible_on_random_scenarios(sc, rep):
    res = run_replication(sc, sc.seed, rep)
    n_tech = sc.workforce.technicians
    for row in res.runs:
        for k in RATES:
            assert _in_unit(row[k]), (k, row[k])
        assert math.isnan(row["nps"]) or -100.0 <= row["nps"] <= 100.0
        assert math.isnan(row["relational_nps"]) or -100.0 <= row["relational_nps"] <= 100.0
        # NaN where the denominator is empty (no shift day, no visit ready in the period)
        for k in ("utilisation", "jobs_per_tech_day", "mean_wait_hours", "mean_response_hours"):
            assert _nonneg(row[k]), (k, row[k])
        assert 0 <= row["problems_resolved"] <= row["visits"]
        assert row["revenue"] >= 0 and row["mean_queue_length"] >= 0
        assert row["churned_customers"] <= sc.customers.count
    techs = res.technicians
    assert len(techs) == n_tech * len(sc.schemes)
    for scheme in sc.schemes:
        rows = [t for t in techs if t["scheme"] == scheme]
        visits = sum(t["visits"] for t in rows)
        run = next(r for r in res.runs if r["scheme"] == scheme)
        assert visits == run["visits"]
        # repeat visits charged to technicians never exceed the visits made
        assert sum(t["repeat_visits"] for t in rows) <= visits
        b = sc.behaviour
        for t in rows:
            assert t["first_time_fixes"] >= 0 and t["repeat_visits"] >= 0
            assert t["callbacks"] >= 0 and t["promoters"] + t["detractors"] <= t["visits"]
            if b.model == "fixed":
                assert t["thoroughness"] == b.thoroughness
            else:
                assert b.min_thoroughness <= t["thoroughness"] <= b.max_thoroughness


@SIM
@given(small_scenarios(), st.integers(0, 3))
def test_first_time_fix_is_bounded_by_the_visit_outcomes(sc, rep):
    """Per replication: repeat visits <= visits, and FTF lies between strict and loose fixes."""
    world = build_world(sc, sc.seed, rep)
    scheme = next(iter(sc.schemes))
    f = formula_for(sc, scheme)
    theta = [1.0] * sc.workforce.technicians
    out = simulate(sc, world, theta)
    k, _ = replication_kpis(sc, out, f)
    W, H = sc.warmup_days * HOURS_PER_DAY, sc.horizon_days * HOURS_PER_DAY
    window = sc.callback_window_days * HOURS_PER_DAY
    v = np.array(out.visits, dtype=float).reshape(-1, len(VISIT_FIELDS))
    col = {f: v[:, i] for i, f in enumerate(VISIT_FIELDS)}
    meas = (col["t_done"] >= W) & (col["t_done"] < H)
    repeats = int((meas & (col["visit_no"] > 1)).sum())
    assert repeats <= int(meas.sum())
    first = meas & (col["t_done"] < H - window) & (col["visit_no"] == 1)
    if first.sum():
        strict = (first & (col["outcome"] == FIXED)).sum() / first.sum()
        loose = (first & np.isin(col["outcome"], [FIXED, LOOKED_FIXED])).sum() / first.sum()
        assert strict - 1e-12 <= k["first_time_fix_rate"] <= loose + 1e-12
    else:
        assert math.isnan(k["first_time_fix_rate"])


coef = st.floats(0.0, 200.0)


@SIM
@given(small_scenarios(), st.lists(coef, min_size=len(PAY_TERMS), max_size=len(PAY_TERMS)))
def test_pay_is_at_least_base_pay_with_nonnegative_coefficients(sc, coefs):
    c = dict(zip(PAY_TERMS, coefs))
    c["retained_value"] = c["retained_value"] / 1000.0  # a share of contract value
    scheme = {
        "type": "custom",
        "base_per_day": c["days"],
        "per_hour": c["hours"],
        "per_visit": c["visits"],
        "per_first_time_fix": c["first_time_fixes"],
        "per_repeat_visit": c["repeat_visits"],
        "per_callback": c["callbacks"],
        "per_promoter": c["promoters"],
        "per_detractor": c["detractors"],
        "per_downtime_hour": c["downtime_hours"] / 10.0,
        "retained_value_share": c["retained_value"],
    }
    d = sc.model_dump(mode="python")
    d["schemes"], d["baseline"] = {"any": scheme}, None
    sc = scenario_from_dict(d, "<random>")
    res = run_replication(sc, sc.seed, 0)
    for t in res.technicians:
        base = t["pay_days"] + t["pay_hours"]
        assert t["pay"] >= base - 1e-9
        assert math.isclose(
            t["pay"], sum(t[f"pay_{k}"] for k in PAY_TERMS), rel_tol=1e-12, abs_tol=1e-9
        )
        assert all(t[f"pay_{k}"] >= 0 for k in PAY_TERMS)


signed = st.floats(-200.0, 200.0)
formulas = st.builds(
    PayFormula,
    days=signed,
    hours=signed,
    visits=signed,
    first_time_fixes=signed,
    repeat_visits=signed,
    callbacks=signed,
    promoters=signed,
    detractors=signed,
    downtime_hours=st.floats(-20.0, 20.0),
    retained_value=st.floats(-1.0, 1.0),
)


@st.composite
def behaviour_scenarios(draw):
    lo = draw(st.floats(0.2, 1.0))  # the range holds the default starting thoroughness 1
    hi = draw(st.floats(1.0, 3.0))
    return scenario_from_dict(
        tiny_dict(
            {
                "behaviour": {
                    "min_thoroughness": lo,
                    "max_thoroughness": hi,
                    "comfortable_thoroughness": draw(st.floats(0.3, 2.0)),
                    "effort_cost_per_hour": draw(st.floats(0.0, 100.0)),
                    "intrinsic_weight": draw(prob),
                    "grid_points": draw(st.integers(3, 101)),
                },
                "quality": {
                    "thoroughness_curvature": draw(st.floats(0.1, 5.0)),
                    "detect_slope": draw(st.floats(0.0, 2.0)),
                },
            }
        ),
        "<random>",
    )


@settings(max_examples=60, deadline=None, database=None, derandomize=True)
@given(behaviour_scenarios(), formulas, st.floats(0.05, 1.0))
def test_best_response_is_on_the_grid_within_bounds(sc, formula, skill):
    th = best_response(sc, formula, skill)
    b = sc.behaviour
    assert b.min_thoroughness <= th <= b.max_thoroughness
    assert np.isclose(theta_grid(sc), th).any()


qualities = st.builds(
    Quality,
    skill_effect=st.floats(0.0, 2.0),
    skill_reference=prob,
    thoroughness_curvature=st.floats(0.05, 10.0),
    max_fix_prob=prob,
    detect_prob=prob,
    detect_slope=st.floats(0.0, 3.0),
    rushed_reference=st.floats(0.1, 3.0),
    rushed_span=st.floats(0.05, 3.0),
)
jobs = st.builds(
    JobType,
    share=st.just(1.0),
    onsite_hours_mean=st.floats(0.1, 10.0),
    fix_prob=prob,
    part_on_van=prob,
)
thetas = st.floats(0.01, 3.0)


@FAST
@given(qualities, jobs, prob, prob, thetas, thetas)
def test_fix_prob_is_monotone_in_thoroughness_and_skill(q, job, s1, s2, t1, t2):
    s_lo, s_hi = sorted((s1, s2))
    t_lo, t_hi = sorted((t1, t2))

    def p(s, t):
        return float(quality.fix_prob(q, s, job, t))

    assert 0.0 <= p(s_lo, t_lo) <= 1.0
    assert p(s_lo, t_lo) <= p(s_lo, t_hi) + 1e-12
    assert p(s_lo, t_lo) <= p(s_hi, t_lo) + 1e-12
    assert p(s_hi, t_hi) <= q.max_fix_prob + 1e-12
    # detection rises and the chance of a rushed visit falls with thoroughness
    assert quality.detect_prob(q, t_lo) <= quality.detect_prob(q, t_hi)
    assert quality.rushed_prob(q, t_lo) >= quality.rushed_prob(q, t_hi)
    assert 0.0 <= float(quality.rushed_prob(q, t_lo)) <= 1.0


@FAST
@given(prob, prob, prob, prob, st.booleans(), st.booleans(), st.booleans(), st.booleans())
def test_survey_probabilities_are_a_distribution(prom, det, shift1, shift2, u, r, la, ru):
    from sim.config.parts import NPS

    nps = NPS(promoter=prom, detractor=det, unresolved_shift=shift1, repeat_shift=shift2)
    pp, pd = quality.promoter_detractor(nps, u, r, la, ru)
    assert 0.0 <= pp <= 1.0 and 0.0 <= pd <= 1.0 and pp + pd <= 1.0 + 1e-12


counts_st = st.fixed_dictionaries({t: st.floats(0.0, 1e4) for t in PAY_TERMS})


@FAST
@given(formulas, formulas, st.floats(0.0, 1.0), counts_st)
def test_blend_is_linear(a, b, w, counts):
    m = a.blend(b, w)
    expect = (1 - w) * a.pay(counts) + w * b.pay(counts)
    assert math.isclose(m.pay(counts), expect, rel_tol=1e-9, abs_tol=1e-6)
    for k, x, y, z in zip(PAY_TERMS, a.coefficients(), b.coefficients(), m.coefficients()):
        assert math.isclose(z, (1 - w) * x + w * y, rel_tol=1e-12, abs_tol=1e-12), k
    assert a.blend(b, 0.0).coefficients() == a.coefficients()
    assert np.allclose(a.blend(b, 1.0).coefficients(), b.coefficients(), rtol=0, atol=1e-12)
    assert math.isclose(
        sum(a.components(counts).values()), a.pay(counts), rel_tol=1e-12, abs_tol=1e-9
    )
