"""Behaviour models: learning technicians, heterogeneous intrinsic weights, behaviour.csv."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import tiny_dict, write_yaml

from sim.behaviour.best_response import best_response, choose_behaviour
from sim.cli.main import main
from sim.config.load import ScenarioError, scenario_from_dict
from sim.experiment.tasks import run_replication
from sim.metrics.kpis import BEHAVIOUR_COLUMNS, replication_kpis
from sim.model.replication import simulate_scheme
from sim.model.simulation import simulate
from sim.pay.formula import formula_for
from sim.world.draws import build_world, n_weeks


def _learning(seed: int, initial: float, **over) -> object:
    d = tiny_dict(
        {
            "seed": seed,
            "horizon_days": 500,
            "warmup_days": 20,
            # no imputed history: first renewals are judged on the simulated part of the term
            # only, so churn, and with it demand and pay, stay close to stationary
            "customers": {"count": 2000, "term_days": 365, "impute_history": False},
            "workforce": {"technicians": 8},
            "behaviour": {"model": "learning", "initial_thoroughness": initial},
        }
    )
    for k, v in over.items():
        d[k] = v
    return scenario_from_dict(d)


# tolerance of the convergence test: after 71 weeks of stationary pay, the habits of the
# last 10 weeks lie within 0.05 of the best response on average over technicians and
# seeds (bias), within 0.12 in mean absolute deviation (noise of weekly pay), and every
# technician within 0.3; started 0.4 or more away from it.
BIAS_TOL, MAD_TOL, MAX_TOL = 0.05, 0.12, 0.3


@pytest.mark.parametrize("scheme,initial", [("jobs_per_day", 1.2), ("outcome_weighted", 0.55)])
def test_learning_converges_to_best_response_under_stationary_pay(scheme, initial):
    devs, start = [], []
    for seed in (1, 2, 3):
        sc = _learning(seed, initial)
        world = build_world(sc, seed, 0)
        formula, out = simulate_scheme(sc, world, scheme)
        br = np.array([best_response(sc, formula, s) for s in world.skill])
        habits = np.array(out.theta_weeks)
        assert habits.shape == (n_weeks(sc), sc.workforce.technicians)
        devs.append(habits[-10:].mean(axis=0) - br)
        start.append(habits[0] - br)
    devs, start = np.concatenate(devs), np.concatenate(start)
    assert np.abs(start).min() >= 0.4  # it had somewhere to go
    assert abs(devs.mean()) <= BIAS_TOL
    assert np.abs(devs).mean() <= MAD_TOL
    assert np.abs(devs).max() <= MAX_TOL


def test_learning_transition_is_gradual_from_the_habit():
    sc = _learning(4, 1.2)
    world = build_world(sc, 4, 0)
    _f, out = simulate_scheme(sc, world, "jobs_per_day")
    habits = np.array(out.theta_weeks)
    assert np.all(habits[0] == 1.2)
    steps = np.abs(np.diff(habits, axis=0))
    assert steps.max() <= sc.behaviour.learning.max_step + 1e-12
    # nothing is judged before the first pay statement is complete (30-day window: 5 weeks)
    assert np.all(habits[:6] == 1.2)
    # and then it moves, a little at a time, towards the best response (0.735 here)
    assert habits[-10:].mean() < 0.95
    assert (steps[6:] > 0).mean() > 0.5


def test_without_a_pay_signal_learning_does_not_drift_much():
    # under hourly pay the best response is about 1.0 (effort and the small intrinsic term)
    sc = _learning(5, 1.0)
    world = build_world(sc, 5, 0)
    formula, out = simulate_scheme(sc, world, "hourly")
    br = np.array([best_response(sc, formula, s) for s in world.skill])
    last = np.array(out.theta_weeks)[-10:].mean(axis=0)
    assert np.abs(last - br).mean() <= MAD_TOL


@pytest.mark.parametrize("model", ["best_response", "learning"])
def test_with_every_intrinsic_weight_at_its_maximum_the_scheme_has_no_effect(model):
    d = tiny_dict(
        {
            "horizon_days": 150,
            "behaviour": {
                "model": model,
                "initial_thoroughness": 0.8,
                "intrinsic_weight_dist": {"kind": "fixed", "value": 1.0},
            },
        }
    )
    sc = scenario_from_dict(d)
    res = run_replication(sc, sc.seed, 0)
    beh = pd.DataFrame(res.behaviour)
    per_scheme = {
        s: g.sort_values(["week", "tech"])["thoroughness"].to_numpy()
        for s, g in beh.groupby("scheme")
    }
    first = per_scheme.pop("jobs_per_day")
    for s, th in per_scheme.items():
        np.testing.assert_array_equal(th, first, err_msg=s)
    runs = pd.DataFrame(res.runs).set_index("scheme")
    assert runs["first_time_fix_rate"].nunique() == 1
    assert runs["mean_thoroughness"].nunique() == 1
    if model == "learning":
        assert first.std() > 0  # they did learn something: the outcome term moves them


def test_intrinsic_weights_are_heterogeneous_and_common_to_all_schemes():
    d = tiny_dict(
        {
            "workforce": {"technicians": 30},
            "behaviour": {"intrinsic_weight_dist": {"kind": "beta", "a": 0.5, "b": 0.5}},
        }
    )
    sc = scenario_from_dict(d)
    w1, w2 = build_world(sc, sc.seed, 0), build_world(sc, sc.seed, 0)
    assert w1.intrinsic == w2.intrinsic and len(set(w1.intrinsic)) == 30
    lam = np.array(w1.intrinsic)
    piece, _ = choose_behaviour(sc, formula_for(sc, "jobs_per_day"), w1.skill, w1.intrinsic)
    outcome, _ = choose_behaviour(sc, formula_for(sc, "outcome_weighted"), w1.skill, w1.intrinsic)
    piece, outcome = np.array(piece), np.array(outcome)
    # the technicians who care most stay thorough whatever the pay ...
    caring = lam > 0.9
    assert caring.any()
    assert np.all(piece[caring] >= 1.3) and np.all(outcome[caring] >= 1.3)
    assert np.abs(piece[caring] - outcome[caring]).max() <= 0.15
    # ... while the piece rate makes the others rush
    assert piece[lam < 0.1].mean() < outcome[lam < 0.1].mean()


def test_uniform_weights_lie_in_their_range():
    d = tiny_dict(
        {
            "workforce": {"technicians": 50},
            "behaviour": {"intrinsic_weight_dist": {"kind": "uniform", "low": 0.2, "high": 0.4}},
        }
    )
    sc = scenario_from_dict(d)
    lam = np.array(build_world(sc, 3, 1).intrinsic)
    assert lam.min() >= 0.2 and lam.max() <= 0.4 and lam.std() > 0.03


@pytest.mark.parametrize(
    "dist,message",
    [
        ({"kind": "beta", "a": 2}, "b is required for kind 'beta'"),
        ({"kind": "fixed", "value": 0.3, "a": 1}, "a does not apply to kind 'fixed'"),
        ({"kind": "uniform", "low": 0.5, "high": 0.2}, "low must be <= high"),
        ({"kind": "normal"}, "Input should be 'fixed', 'uniform' or 'beta'"),
    ],
)
def test_bad_intrinsic_weight_distribution_names_the_field(dist, message):
    with pytest.raises(ScenarioError) as e:
        scenario_from_dict(tiny_dict({"behaviour": {"intrinsic_weight_dist": dist}}), "x.yaml")
    assert "behaviour.intrinsic_weight_dist" in str(e.value)
    assert message in str(e.value)


def test_initial_habit_must_lie_in_the_thoroughness_range():
    with pytest.raises(ScenarioError, match=r"initial_thoroughness .* must lie within"):
        scenario_from_dict(tiny_dict({"behaviour": {"initial_thoroughness": 2.0}}), "x.yaml")


def test_passing_the_formula_changes_nothing_with_the_options_off(make_tiny):
    sc = make_tiny()
    world = build_world(sc, sc.seed, 0)
    f = formula_for(sc, "outcome_weighted")
    theta, pace = choose_behaviour(sc, f, world.skill)
    a, b = simulate(sc, world, theta, pace=pace), simulate(sc, world, theta, f, pace=pace)
    assert a.visits == b.visits and a.renewals == b.renewals and a.theta_weeks is None
    np.testing.assert_equal(replication_kpis(sc, a, f)[0], replication_kpis(sc, b, f)[0])


def test_options_that_respond_to_pay_need_the_formula(make_tiny):
    sc = make_tiny({"behaviour": {"model": "learning"}})
    world = build_world(sc, sc.seed, 0)
    with pytest.raises(ValueError, match="need the pay formula"):
        simulate(sc, world, [1.0] * sc.workforce.technicians)


def test_behaviour_csv_has_weekly_thoroughness_per_technician_and_scheme(tmp_path):
    path = write_yaml(
        tmp_path / "s.yaml", tiny_dict({"horizon_days": 84, "behaviour": {"model": "learning"}})
    )
    r = CliRunner().invoke(
        main,
        ["run", str(path), "--reps", "2", "--out", str(tmp_path / "out"), "--workers", "1", "-q"],
    )
    assert r.exit_code == 0, r.output
    beh = pd.read_csv(tmp_path / "out" / "behaviour.csv")
    assert list(beh.columns) == ["scenario", "scheme", "replication", "seed", *BEHAVIOUR_COLUMNS]
    assert list(BEHAVIOUR_COLUMNS[:3]) == ["week", "tech", "thoroughness"]
    assert len(beh) == 4 * 2 * 12 * 4  # schemes x replications x weeks x technicians
    assert (
        beh.groupby(["scheme", "replication", "tech"])["week"]
        .apply(list)
        .map(lambda w: w == list(range(12)))
        .all()
    )
    assert (beh["thoroughness"].between(0.5, 1.5)).all()
    # the pay of the week is the weekly pay statement: day rates are exact
    hourly = beh[beh["scheme"] == "hourly"]
    assert (hourly["pay_week"][hourly["week"] < 11] == 30 * 8 * 5).all()
