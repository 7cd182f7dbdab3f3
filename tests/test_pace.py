"""Pace and care, two decisions (docs/model.md section 6): pace divides the on-site time at
the same quality and costs effort; care (thoroughness) takes time and buys quality. Every
scheme's response comes from its formula."""

from __future__ import annotations

import numpy as np
from conftest import bundled_dict, tiny_dict, tiny_scenario
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.behaviour.best_response import best_behaviour, choose_behaviour
from sim.config.load import scenario_from_dict
from sim.model.simulation import simulate
from sim.pay.formula import PayFormula, formula_for, scaled
from sim.world.draws import build_world
from sim.world.records import MAINTAINED, PART_MISSING, VISIT_FIELDS
from sim.world.slots import VISIT_SLOTS

FAST = settings(max_examples=40, deadline=None, database=None, derandomize=True)


def _piece(per_visit: float, per_ftf: float = 0.0):
    return PayFormula(days=100.0, visits=per_visit, first_time_fixes=per_ftf)


@FAST
@given(st.floats(0.3, 1.0), st.floats(0.0, 1.0), st.floats(5.0, 80.0))
def test_hourly_pay_gets_the_supervised_standard_pace(skill, lam, per_hour):
    sc = tiny_scenario({"behaviour": {"pace": {"standard": 0.9}}})
    _theta, pace = best_behaviour(sc, PayFormula(hours=per_hour), skill, lam)
    assert pace == 0.9


def test_a_piece_rate_raises_pace_and_lowers_care_monotonically():
    sc = tiny_scenario()
    paces, cares = [], []
    for rate in (0.0, 15.0, 30.0, 45.0, 60.0, 90.0):
        theta, pace = best_behaviour(sc, _piece(rate), 0.7, 0.1)
        paces.append(pace)
        cares.append(theta)
    assert paces == sorted(paces) and paces[-1] > paces[0] == 1.0
    assert cares == sorted(cares, reverse=True) and cares[-1] < cares[0]


def test_outcome_pay_raises_care_monotonically():
    sc = tiny_scenario()
    outcome = formula_for(sc, "outcome_weighted")  # a first-time-fix bonus and clawbacks
    cares = [best_behaviour(sc, scaled(outcome, k), 0.7, 0.1)[0] for k in (0, 0.5, 1, 1.5, 2)]
    assert cares == sorted(cares) and cares[-1] > cares[0]


def test_under_a_piece_rate_the_skilled_work_faster_under_hourly_nobody_does():
    sc = scenario_from_dict(bundled_dict("hvac"))
    skills = [0.4, 0.55, 0.7, 0.85, 1.0]
    _t, piece = choose_behaviour(sc, formula_for(sc, "jobs_per_day"), skills)
    _t, hourly = choose_behaviour(sc, formula_for(sc, "hourly"), skills)
    assert piece == sorted(piece) and piece[-1] > piece[0]
    assert hourly == [sc.behaviour.pace.standard] * len(skills)


def test_pace_divides_the_on_site_time_and_leaves_the_outcome_draws_alone():
    # T&M calls beyond what the crew can do: a faster crew turns its pace into visits
    d = tiny_dict(
        {
            "behaviour": {"model": "fixed", "thoroughness": 0.9},
            "time_and_materials": {"enabled": True, "jobs_per_day": 200},
        }
    )
    runs = {}
    for pace in (1.0, 1.25):
        d["behaviour"]["pace"] = {"fixed": pace}
        sc = scenario_from_dict(d)
        world = build_world(sc, sc.seed, 0)
        theta, paces = choose_behaviour(sc, formula_for(sc, "hourly"), world.skill)
        assert paces == [pace] * len(paces)
        out = simulate(sc, world, theta, pace=paces)
        v = np.array(out.visits, dtype=float)
        col = {f: v[:, k] for k, f in enumerate(VISIT_FIELDS)}
        p, k = col["problem"].astype(int), col["visit_no"].astype(int) - 1
        ok = (k < VISIT_SLOTS) & (col["outcome"] != MAINTAINED) & (col["outcome"] != PART_MISSING)
        onsite = (col["t_done"] - col["t_arrive"])[ok]
        drawn = world.slots.full("duration")[p[ok], k[ok]]
        np.testing.assert_allclose(onsite, 0.9 / pace * drawn, rtol=1e-9, atol=1e-9)
        runs[pace] = out
    assert len(runs[1.25].visits) > 1.1 * len(runs[1.0].visits)
