"""Customers judge problems, not visits (docs/model.md, "Memory", "Renewal"; the issue's
validation item 4: SQM Group's 5 / 9 / 25% reproduced from the per-problem rule).

The rule, its expectation and the class probabilities the best response uses are checked
against exact values and against an independent simulation of a problem; the model's
counts against the visit records (recounted here from scratch); and the churn of accounts
whose only problem of the term ended in a class against that class's rate.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import deep_merge, tiny_scenario
from scipy import stats

from sim.config.parts import Customers
from sim.metrics.kpis import renewal_columns, visit_columns
from sim.model.simulation import simulate
from sim.world import quality
from sim.world.draws import build_world
from sim.world.records import (
    AFTER_RETURN,
    CALLBACK,
    FIRST_TIME,
    FIXED,
    LATE,
    LOOKED_FIXED,
    PROBLEM_CLASSES,
    UNRESOLVED,
)

#: SQM Group: defection after first-contact resolution, two or more contacts, unresolved.
SQM = {"first_time": 0.05, "late": 0.09, "after_return": 0.09, "callback": 0.25, "unresolved": 0.25}


# --------------------------------------------------------------------------- the rule
def test_one_problem_of_each_class_churns_at_sqm_rates():
    c = Customers()
    assert 1.0 - quality.renewal_prob(c, [0] * 5) == pytest.approx(0.05, abs=1e-12)
    for k, name in enumerate(PROBLEM_CLASSES):
        one = np.eye(5)[k]
        assert 1.0 - quality.renewal_prob(c, one) == pytest.approx(SQM[name], abs=1e-12), name


def test_problems_compound_and_a_first_time_fix_costs_nothing():
    c = Customers()
    # a problem fixed after a parts return is one problem: 9%, not two bad visits (~41%)
    assert 1.0 - quality.renewal_prob(c, [0, 0, 1, 0, 0]) == pytest.approx(0.09)
    assert 1.0 - quality.renewal_prob(c, [0, 0, 2, 0, 0]) == pytest.approx(1 - 0.91**2 / 0.95)
    assert quality.renewal_prob(c, [3, 0, 0, 0, 0]) == pytest.approx(0.95)
    assert 1.0 - quality.renewal_prob(c, [1, 1, 1, 1, 1]) == pytest.approx(
        1 - 0.95 * (0.91 / 0.95) ** 2 * (0.75 / 0.95) ** 2
    )
    # churn_base is the level: raising it leaves each problem's own effect alone
    c2 = Customers(churn_base=0.15)
    for k in range(5):
        one = np.eye(5)[k]
        ratio = quality.renewal_prob(c2, one) / quality.renewal_prob(c, one)
        assert ratio == pytest.approx(0.85 / 0.95)


def test_expected_renewal_is_the_average_over_poisson_problems():
    c = Customers(churn_base=0.08)
    probs = [0.7, 0.05, 0.15, 0.08, 0.02]
    lam = 1.3
    r = 1.0 - np.array([h for _n, h in c.churn_per_problem])
    mean_r = float(np.dot(probs, r))
    exact = sum(stats.poisson.pmf(n, lam) * 0.92 * mean_r**n for n in range(60))
    assert float(quality.expected_renewal_prob(c, lam, probs)) == pytest.approx(exact, rel=1e-12)


def _simulate_problem(rng: np.random.Generator, m: float, f: float, d: float) -> int:
    """How one problem ends, visit by visit: an independent implementation of the rules."""
    if rng.random() < m:  # part missing at the first visit: a return visit follows
        returned, came_back = True, False
    elif rng.random() < f:
        return FIRST_TIME
    else:
        came_back = rng.random() >= d
        returned = True
    while rng.random() >= f:
        came_back = came_back or rng.random() >= d
    return CALLBACK if came_back else AFTER_RETURN if returned else FIRST_TIME


@pytest.mark.parametrize("m, f, d", [(0.1, 0.8, 0.6), (0.25, 0.6, 0.2), (0.0, 0.95, 1.0)])
def test_class_probabilities_of_a_problem(m, f, d):
    rng = np.random.default_rng(7)
    n = 40_000
    got = np.bincount([_simulate_problem(rng, m, f, d) for _ in range(n)], minlength=5) / n
    want = np.array(quality.problem_class_probs(m, f, d), dtype=float)
    assert want.sum() == pytest.approx(1.0)
    assert want[LATE] == want[UNRESOLVED] == 0.0
    se = np.sqrt(want * (1 - want) / n)
    assert np.all(np.abs(got - want) <= 4.5 * se + 1e-12), (got, want)


# --------------------------------------------------------------------------- the model
#: A small world with every class frequent: rushed work, few failures seen, tight SLAs
#: on a calendar clock (late first visits), long part lead times (problems open at renewal).
JUDGED = {
    "horizon_days": 240,
    "warmup_days": 20,
    "customers": {
        "count": 3000,
        "failures_per_year": 1.6,
        "term_days": 60,
        "impute_history": False,
        "tiers": {"gold": {"sla_hours": 6}, "bronze": {"sla_hours": 30}},
    },
    "quality": {"detect_prob": 0.4},
    "jobs": {"part_lead_time_hours": 240},
    "workforce": {"technicians": 6},
    "behaviour": {"model": "fixed", "thoroughness": 0.75},
}


def _run(over: dict, seed: int = 3) -> tuple[dict, dict]:
    sc = tiny_scenario(deep_merge(JUDGED, {**over, "seed": seed}))
    world = build_world(sc, seed, 0)
    out = simulate(sc, world, [sc.behaviour.thoroughness] * sc.workforce.technicians)
    return visit_columns(out), renewal_columns(out)


def _recount(v: dict, r: dict) -> np.ndarray:
    """Each renewal's counts per class, recounted from the visit records: a problem counts
    in the term it ended in (fixed, or looked fixed and did not come back in that term), by
    how it ended; a problem a visit left known not fixed, and no visit fixed by the
    renewal, counts as unresolved."""
    vis = pd.DataFrame({k: v[k] for k in ("problem", "customer", "visit_no", "t_done",
                                          "outcome", "late", "is_callback")})  # fmt: skip
    vis = vis[(vis["customer"] >= 0) & (vis["outcome"] <= LOOKED_FIXED)]
    vis = vis.sort_values(["problem", "visit_no"]).reset_index(drop=True)
    ren = pd.DataFrame({"customer": r["customer"].astype(int), "t": r["t"]})
    ren["term"] = ren.sort_values("t").groupby("customer").cumcount()
    by_term = {(c, tm): i for i, (c, tm) in enumerate(zip(ren["customer"], ren["term"]))}
    dates = ren.groupby("customer")["t"].apply(lambda s: np.sort(s.to_numpy())).to_dict()

    def term(c: int, t: float) -> int:  # the term of account c at time t: renewals before t
        return int(np.searchsorted(dates.get(c, np.zeros(0)), t, side="left"))

    want = np.zeros((len(ren), 5), dtype=int)
    for _p, g in vis.groupby("problem", sort=False):
        c = int(g["customer"].iloc[0])
        rows = g.to_dict("records")
        came_back = False
        for j, x in enumerate(rows):
            came_back = came_back or bool(x["is_callback"])
            nxt = rows[j + 1] if j + 1 < len(rows) else None
            if x["outcome"] in (FIXED, LOOKED_FIXED):
                k = (CALLBACK if came_back else AFTER_RETURN if x["visit_no"] > 1
                     else LATE if x["late"] else FIRST_TIME)  # fmt: skip
                tm = term(c, x["t_done"])
                if (
                    x["outcome"] == LOOKED_FIXED
                    and nxt is not None
                    and term(c, nxt["t_done"]) == tm
                ):
                    continue  # came back in the same term: counted once, when it ends
                if (c, tm) in by_term:
                    want[by_term[(c, tm)], k] += 1
            else:  # known not fixed from its end until the end of the next visit
                end = nxt["t_done"] if nxt is not None else math.inf
                for tm in range(term(c, x["t_done"]), term(c, end)):
                    if (c, tm) in by_term:
                        want[by_term[(c, tm)], UNRESOLVED] += 1
    return want


def test_renewal_counts_are_the_problems_the_visits_show():
    v, r = _run({})
    got = np.column_stack([r[k] for k in PROBLEM_CLASSES]).astype(int)
    want = _recount(v, r)
    # every class happens, and the model's counts are the recount, renewal by renewal
    assert (got.sum(axis=0) > 20).all(), got.sum(axis=0)
    np.testing.assert_array_equal(got, want)


def test_accounts_whose_only_problem_ended_in_a_class_churn_at_its_rate():
    """In simulation, accounts whose only problem of the term ended in class k churn at
    SQM's q_k (and those without problems at churn_base), within 4.5 standard errors."""
    counts, churned = [], []
    for seed in (3, 4, 5, 6):
        _v, r = _run({"customers": {"count": 6000, "impute_history": True}}, seed)
        counts.append(np.column_stack([r[k] for k in PROBLEM_CLASSES]).astype(int))
        churned.append(1 - r["renewed"].astype(int))
    n, lost = np.concatenate(counts), np.concatenate(churned)
    total = n.sum(axis=1)
    cases = {"none": (total == 0, 0.05)}
    for k, name in enumerate(PROBLEM_CLASSES):
        cases[name] = ((total == 1) & (n[:, k] == 1), SQM[name])
    for name, (mask, q) in cases.items():
        size = int(mask.sum())
        assert size >= 300, f"{name}: only {size} accounts"
        rate = lost[mask].mean()
        assert abs(rate - q) <= 4.5 * math.sqrt(q * (1 - q) / size), (name, rate, q, size)


def test_perceived_rushed_is_off_by_default_and_moves_only_survey_answers():
    fixed = {"behaviour": {"model": "fixed", "thoroughness": 0.6}}
    v_off, r_off = _run(fixed)
    v_on, r_on = _run({**fixed, "nps": {"perceived_rushed": True}})
    assert v_off["rushed"].sum() == 0  # no source: nobody perceives a visit as rushed
    assert v_on["rushed"].mean() == pytest.approx(0.8, abs=0.02)  # (1 - 0.6) / 0.5
    # the same visits and renewals; only transactional answers differ, and only for the worse
    for col in ("problem", "outcome", "t_done"):
        np.testing.assert_array_equal(v_off[col], v_on[col])
    for col in ("renewed", "relational", *PROBLEM_CLASSES):
        np.testing.assert_array_equal(r_off[col], r_on[col])
    answered = v_off["survey"] >= 0
    assert (v_on["survey"][answered] == 1).sum() < (v_off["survey"][answered] == 1).sum()


def test_the_best_responses_class_probabilities_are_the_models():
    """How problems end in the simulation (first time, after a return visit, as a callback)
    matches `problem_class_probs`, which the best response prices retention with; the
    technicians are identical, so each problem's probabilities are known."""
    theta = 0.6  # many failures, most of them seen: several attempts per problem
    sc = tiny_scenario(
        deep_merge(
            JUDGED,
            {
                "customers": {"count": 8000},
                "quality": {"detect_prob": 0.9},
                "workforce": {"skill_sd": 0.0, "technicians": 14},
                "behaviour": {"thoroughness": theta},
                "seed": 5,
            },
        )
    )
    out = simulate(sc, build_world(sc, 5, 0), [theta] * sc.workforce.technicians)
    v = visit_columns(out)
    vis = pd.DataFrame({k: v[k] for k in ("problem", "visit_no", "outcome", "job_type", "t_done")})
    vis = vis[vis["outcome"] <= LOOKED_FIXED]
    g = vis.sort_values("visit_no").groupby("problem")
    first = g.first()
    last = g.last()
    # problems that started early enough to have ended by the horizon
    done = (last["outcome"] == FIXED) & (first["t_done"] < 0.6 * sc.horizon_days * 24)
    looked = vis[vis["outcome"] == LOOKED_FIXED]["problem"].unique()
    cls = np.where(
        first["outcome"] == FIXED,
        FIRST_TIME,
        np.where(first.index.isin(looked), CALLBACK, AFTER_RETURN),
    )[done.to_numpy()]
    got = np.bincount(cls, minlength=5) / len(cls)
    q, skill = sc.quality, sc.workforce.skill_mean
    want = np.zeros(5)
    for jt in sc.jobs.types.values():
        f = float(quality.fix_prob(q, skill, jt, theta))
        d = float(quality.detect_prob(q, theta))
        want += jt.share * np.array(quality.problem_class_probs(1 - jt.part_on_van, f, d))
    se = np.sqrt(want * (1 - want) / len(cls))
    assert len(cls) > 4000
    assert np.all(np.abs(got - want) <= 4.5 * se + 1e-12), (got, want)
