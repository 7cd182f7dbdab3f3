"""Why problems needed a return visit (`Visit.cause`, runs.csv `repeat_cause_*`; the issue's
validation item 3 compares the default scenario with Aberdeen 2013, docs/model.md section 4).

Skill and time are told apart by a counterfactual under common random numbers: a failed fix
is `time` when the same technician, on the same pre-drawn uniform, would have fixed it at
standard care (thoroughness 1). With identical technicians the counterfactual can be run:
the first visits of the same problems at thoroughness 1 fix exactly those whose failure at
a lower thoroughness was recorded as time.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import deep_merge, tiny_scenario

from sim.metrics.kpis import replication_kpis, visit_columns
from sim.model.simulation import simulate
from sim.pay.formula import formula_for
from sim.world.draws import build_world
from sim.world.records import CAUSES, FIXED, NO_CAUSE, OTHER, PART_MISSING, PARTS, SKILL, TIME

#: Identical technicians (same skill: the fix probability does not depend on who comes).
SAME_SKILL = {"workforce": {"skill_sd": 0.0, "technicians": 5}, "horizon_days": 150}


def _run(theta: float, over: dict | None = None):
    fixed = {"behaviour": {"model": "fixed", "thoroughness": theta}}
    sc = tiny_scenario(deep_merge(SAME_SKILL, {**fixed, **(over or {})}))
    world = build_world(sc, sc.seed, 0)
    out = simulate(sc, world, [theta] * sc.workforce.technicians)
    kpis = replication_kpis(sc, out, formula_for(sc, sc.baseline_scheme))[0]
    return visit_columns(out), kpis


def _shares(kpis: dict) -> np.ndarray:
    return np.array([kpis[f"repeat_cause_{c}"] for c in CAUSES])


def test_a_visit_has_a_cause_exactly_when_it_did_not_fix():
    v, kpis = _run(0.7)
    repair = v["outcome"] <= 3
    assert ((v["cause"] == NO_CAUSE) == (v["outcome"] == FIXED) | ~repair).all()
    assert ((v["cause"] == PARTS) == (v["outcome"] == PART_MISSING)).all()
    assert set(np.unique(v["cause"])) == {NO_CAUSE, PARTS, SKILL, TIME}
    assert _shares(kpis).sum() == pytest.approx(1.0)


def test_time_is_what_standard_care_would_have_fixed():
    rushed, _k = _run(0.7)
    standard, _k = _run(1.0)

    def first_visits(v):
        m = (v["visit_no"] == 1) & (v["outcome"] <= 3)
        return dict(zip(v["problem"][m].astype(int), zip(v["outcome"][m], v["cause"][m])))

    a, b = first_visits(rushed), first_visits(standard)
    both = sorted(set(a) & set(b))
    assert len(both) > 1000
    time = [p for p in both if a[p][1] == TIME]
    skill = [p for p in both if a[p][1] == SKILL]
    assert len(time) > 30 and len(skill) > 30
    assert all(b[p][0] == FIXED for p in time)  # standard care fixed every one of them
    assert all(b[p][0] != FIXED and b[p][1] == SKILL for p in skill)
    # and standard care fixed nothing that rushing failed for another reason
    failed = [p for p in both if a[p][0] != FIXED]
    assert {p for p in failed if b[p][0] == FIXED} == set(time)


def test_the_mix_follows_thoroughness_and_parts():
    _v, careful = _run(1.2)
    _v, rushed = _run(0.6)
    assert careful["repeat_cause_time"] == 0.0  # above standard care nothing fails for time
    assert rushed["repeat_cause_time"] > 0.3
    assert rushed["repeat_cause_parts"] < careful["repeat_cause_parts"]
    types = {t: {"part_on_van": 1.0} for t in ("simple", "standard", "complex")}
    _v, stocked = _run(0.6, {"jobs": {"types": types}})
    assert stocked["repeat_cause_parts"] == 0.0
    assert stocked["repeat_cause_other"] == 0.0
    assert _shares(stocked).sum() == pytest.approx(1.0)


def test_other_is_a_premature_closure():
    # a first-time-fix bonus without a callback clawback and a short window pays for
    # closing known failures as fixed (tests/test_gaming.py); each such visit is "other"
    over = {
        "callback_window_days": 3.0,
        "gaming": {"premature_closure": True, "closure_max_prob": 0.9, "closure_half_gain": 5.0},
        "schemes": {"bonus": {"type": "custom", "base_per_day": 160, "per_first_time_fix": 80}},
        "baseline": "bonus",
    }
    sc = tiny_scenario(deep_merge(SAME_SKILL, over))
    sc = sc.model_copy(update={"schemes": {"bonus": sc.schemes["bonus"]}})
    world = build_world(sc, sc.seed, 0)
    f = formula_for(sc, "bonus")
    out = simulate(sc, world, [0.9] * sc.workforce.technicians, f)
    v = visit_columns(out)
    assert out.premature_closures > 10
    assert (v["cause"] == OTHER).sum() == out.premature_closures
