"""The pay scheme's effect comes out of the model, not out of code written per scheme.

On the default scenario (hvac, its economics unchanged, fewer replications) jobs-per-day pay
must give more jobs per technician-day, lower first-time fix, more repeat visits and lower
retention than outcome-weighted pay: each asserted with the paired-difference 95% CI
excluding 0. Behaviour follows from the pay formula alone: a 0.3 hybrid lies strictly
between its two base schemes, a new `custom` scheme gets its own response, and more pay per
visit means less thoroughness.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
from conftest import bundled_dict, tiny_dict, tiny_scenario

from sim.behaviour.best_response import best_response, choose_behaviour
from sim.config.load import scenario_from_dict
from sim.experiment.tasks import run_experiment
from sim.metrics.stats import summarise
from sim.pay.formula import PayFormula, formula_for

REPS = 5


@pytest.fixture(scope="module")
def hvac_effect():
    d = bundled_dict("hvac")
    d["schemes"] = {k: d["schemes"][k] for k in ("jobs_per_day", "outcome_weighted")}
    d["baseline"] = "outcome_weighted"
    sc = scenario_from_dict(d, "hvac")
    runs = run_experiment(sc, replications=REPS, workers=2).runs
    kpis = [
        "jobs_per_tech_day",
        "first_time_fix_rate",
        "repeat_visit_rate",
        "retention_rate",
        "callback_rate",
        "mean_thoroughness",
    ]
    s = summarise(runs, kpis, baseline="outcome_weighted")
    return s[s["scheme"] == "jobs_per_day"].set_index("kpi")


@pytest.mark.parametrize(
    "kpi,sign",
    [
        ("jobs_per_tech_day", +1),  # more jobs per technician-day
        ("first_time_fix_rate", -1),  # lower first-time fix
        ("repeat_visit_rate", +1),  # more repeat visits
        ("retention_rate", -1),  # lower retention
        ("callback_rate", +1),
        ("mean_thoroughness", -1),
    ],
)
def test_jobs_per_day_vs_outcome_weighted_on_default_scenario(hvac_effect, kpi, sign):
    row = hvac_effect.loc[kpi]
    assert row["n"] == REPS
    lo, hi = row["diff_ci_low"], row["diff_ci_high"]
    if sign > 0:
        assert lo > 0, f"{kpi}: jobs_per_day - outcome_weighted CI [{lo:.4g}, {hi:.4g}]"
    else:
        assert hi < 0, f"{kpi}: jobs_per_day - outcome_weighted CI [{lo:.4g}, {hi:.4g}]"


def _hvac_with(schemes: dict) -> object:
    d = bundled_dict("hvac")
    d["schemes"] = {**d["schemes"], **schemes}
    return scenario_from_dict(d, "hvac")


SKILLS = [0.4, 0.55, 0.7, 0.85, 1.0]


def test_hybrid_03_is_strictly_between_its_base_schemes():
    sc = _hvac_with(
        {"h03": {"type": "hybrid", "weight": 0.3, "between": ["jobs_per_day", "outcome_weighted"]}}
    )
    for skill in SKILLS:
        a = best_response(sc, formula_for(sc, "jobs_per_day"), skill)
        h = best_response(sc, formula_for(sc, "h03"), skill)
        b = best_response(sc, formula_for(sc, "outcome_weighted"), skill)
        assert min(a, b) < h < max(a, b), (skill, a, h, b)


def test_hybrid_response_moves_monotonically_with_the_weight():
    sc = _hvac_with({})
    fa, fb = formula_for(sc, "jobs_per_day"), formula_for(sc, "outcome_weighted")
    thetas = [best_response(sc, fa.blend(fb, w), 0.7) for w in np.linspace(0, 1, 11)]
    assert thetas[0] == best_response(sc, fa, 0.7)
    assert thetas[-1] == best_response(sc, fb, 0.7)
    assert all(x <= y for x, y in pairwise(thetas)), thetas
    assert thetas[0] < thetas[-1]


def test_hybrid_in_the_simulation_is_between():
    """End to end: mean thoroughness of the 0.3 hybrid lies between the base schemes."""
    runs = run_experiment(tiny_scenario(), replications=2).runs
    m = runs.groupby("scheme")["mean_thoroughness"].mean()
    assert m["jobs_per_day"] < m["hybrid"] < m["outcome_weighted"]


def test_custom_scheme_gets_a_response_with_no_new_code():
    base = {"type": "custom", "base_per_day": 160}
    sc = _hvac_with(
        {
            "base_only": base,
            "ftf_bonus": {**base, "per_first_time_fix": 60},
            "callback_clawback": {**base, "per_callback": -80, "per_repeat_visit": -40},
        }
    )
    th = {
        n: best_response(sc, formula_for(sc, n), 0.7)
        for n in ("base_only", "ftf_bonus", "callback_clawback")
    }
    assert th["ftf_bonus"] != th["base_only"]
    assert th["callback_clawback"] > th["base_only"]  # penalising comebacks buys care
    # and the response flows into the simulation (tiny scenario, two schemes)
    d = tiny_dict()
    d["schemes"] = {
        "base_only": base,
        "clawback": {**base, "per_callback": -80, "per_repeat_visit": -40},
    }
    d["baseline"] = None
    runs = run_experiment(scenario_from_dict(d), replications=2).runs
    m = runs.groupby("scheme")[["mean_thoroughness", "first_time_fix_rate"]].mean()
    assert m.loc["clawback", "mean_thoroughness"] > m.loc["base_only", "mean_thoroughness"]
    assert m.loc["clawback", "first_time_fix_rate"] > m.loc["base_only", "first_time_fix_rate"]


def test_more_pay_per_visit_means_less_thoroughness():
    sc = _hvac_with({})
    for skill in (0.55, 0.7, 0.9):
        thetas = [
            best_response(sc, PayFormula(days=100, visits=v), skill)
            for v in (0, 10, 20, 40, 80, 160)
        ]
        assert all(x >= y for x, y in pairwise(thetas)), thetas
        assert thetas[0] > thetas[-1]


def test_behaviour_code_knows_no_scheme_names():
    """Two schemes with the same formula under different names and types behave alike."""
    sc = _hvac_with(
        {
            "renamed": {"type": "custom", "base_per_day": 100, "per_visit": 45},
        }
    )
    skills = [0.5, 0.7, 0.9]
    assert formula_for(sc, "renamed") == formula_for(sc, "jobs_per_day")
    assert choose_behaviour(sc, formula_for(sc, "renamed"), skills) == choose_behaviour(
        sc, formula_for(sc, "jobs_per_day"), skills
    )
