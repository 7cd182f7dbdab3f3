"""Gaming of the pay formula: cherry-picking from the queue and premature closure."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import tiny_dict

from sim.behaviour import gaming
from sim.config.load import scenario_from_dict
from sim.metrics.kpis import replication_kpis
from sim.model.replication import simulate_scheme
from sim.pay.formula import PayFormula, formula_for
from sim.world.draws import build_world
from sim.world.records import LOOKED_FIXED, NOT_FIXED, VISIT_FIELDS

TECH, JOB_TYPE, T_READY, T_START = (
    VISIT_FIELDS.index(f) for f in ("tech", "job_type", "t_ready", "t_start")
)


def _busy(**over):
    """A loaded tiny world (queues form, so the order of service matters)."""
    d = tiny_dict(
        {"horizon_days": 150, "customers": {"count": 1300}, "workforce": {"technicians": 5}}
    )
    for k, v in over.items():
        d[k] = {**d.get(k, {}), **v} if isinstance(v, dict) else v
    return scenario_from_dict(d)


def _waits_by_type(out, n_types=3) -> np.ndarray:
    v = np.array(out.visits)
    wait = v[:, T_START] - v[:, T_READY]
    return np.array([wait[v[:, JOB_TYPE] == j].mean() for j in range(n_types)])


def test_cherry_picking_raises_the_waits_of_complex_jobs_under_piece_rates():
    off, on = _busy(), _busy(gaming={"cherry_picking": True})
    rises = []
    for rep in range(3):
        w_off, w_on = build_world(off, off.seed, rep), build_world(on, on.seed, rep)
        waits_off = _waits_by_type(simulate_scheme(off, w_off, "jobs_per_day")[1])
        waits_on = _waits_by_type(simulate_scheme(on, w_on, "jobs_per_day")[1])
        rises.append(waits_on - waits_off)
    rises = np.array(rises)
    # complex jobs (type 2) wait longer in every replication, simple ones (type 0) less
    assert np.all(rises[:, 2] > 0.5), rises
    assert rises[:, 0].mean() < 0


def test_cherry_picking_follows_the_formula_not_the_scheme_name():
    sc = _busy(gaming={"cherry_picking": True})
    # under hourly pay every job type pays the same per hour: nobody picks
    w = build_world(sc, sc.seed, 0)
    off = _busy()
    a = simulate_scheme(off, build_world(off, off.seed, 0), "hourly")[1]
    b = simulate_scheme(sc, w, "hourly")[1]
    assert a.visits == b.visits
    # a piece rate ranks quick jobs first; an outcome formula with the same ranking picks alike
    piece = gaming.pick_rates(sc, formula_for(sc, "jobs_per_day"), 0.7, 1.0, 0.1)
    assert piece[0] > piece[1] > piece[2] > 0
    hourly = gaming.pick_rates(sc, formula_for(sc, "hourly"), 0.7, 1.0, 0.1)
    assert hourly == [0.0, 0.0, 0.0]
    # a technician who only cares about customers does not pick
    assert gaming.pick_rates(sc, formula_for(sc, "jobs_per_day"), 0.7, 1.0, 1.0) == [0.0] * 3
    # the tabulated ranking the simulation uses matches the direct one
    piece_f = formula_for(sc, "jobs_per_day")
    table = gaming.PickTable(sc, piece_f, 0.7)
    np.testing.assert_allclose(
        table.pick_rates(0.93, 0.1), gaming.pick_rates(sc, piece_f, 0.7, 0.93, 0.1), rtol=1e-3
    )


def test_the_dispatcher_override_protects_the_sla():
    loose = _busy(gaming={"cherry_picking": True})
    guarded = _busy(gaming={"cherry_picking": True, "sla_guard_hours": 1000.0})
    plain = _busy()
    out = [
        simulate_scheme(s, build_world(s, s.seed, 0), "jobs_per_day")[1]
        for s in (plain, loose, guarded)
    ]
    # with every job "due soon", the override always takes the most urgent job: as without gaming
    assert out[2].visits == out[0].visits
    assert out[1].visits != out[0].visits


# ------------------------------------------------------------------ premature closure
def _closure(window_days: float, **scheme):
    return _busy(
        callback_window_days=window_days,
        gaming={"premature_closure": True, "closure_max_prob": 0.9, "closure_half_gain": 5.0},
        schemes={
            "jobs_per_day": {"type": "jobs_per_day"},
            "ftf_bonus": {
                "type": "custom",
                "base_per_day": 160,
                "per_first_time_fix": 80,
                **scheme,
            },
            "outcome_weighted": {"type": "outcome_weighted"},
        },
    )


def test_closure_gain_is_the_formula_incentive():
    sc = _closure(3.0)
    f = PayFormula(days=160, first_time_fixes=40, promoters=10, callbacks=-30)
    lam = 0.1
    p_cb = 1 - math.exp(-3.0 / 7.0)
    d_prom = sc.nps.response_rate * sc.nps.unresolved_shift  # promoter odds if "fixed"
    expected = (1 - lam) * (40 * (1 - p_cb) - 30 * p_cb + 10 * d_prom) - lam * 100.0
    assert gaming.closure_gain(sc, f, lam, True) == pytest.approx(expected)
    # no FTF bonus on a repeat visit
    expected_rep = (1 - lam) * (-30 * p_cb + 10 * d_prom) - lam * 100.0
    assert gaming.closure_gain(sc, f, lam, False) == pytest.approx(expected_rep)
    g = gaming.closure_gain(sc, PayFormula(first_time_fixes=40), lam, True)
    assert gaming.closure_prob(sc, PayFormula(first_time_fixes=40), lam, True) == pytest.approx(
        0.9 * g / (g + 5.0)
    )
    # nothing to gain under a piece rate or day rate; a clawback deters; lam = 1 never games
    deterred = PayFormula(days=160, first_time_fixes=40, callbacks=-90)
    for formula in (PayFormula(days=100, visits=45), PayFormula(hours=30), deterred):
        assert gaming.closure_prob(sc, formula, lam, True) == 0.0
    assert gaming.closure_prob(sc, PayFormula(first_time_fixes=40), 1.0, True) == 0.0


def test_premature_closure_turns_known_failures_into_callbacks_only_where_it_pays():
    # a 7-day window: the FTF bonus without clawback pays for closing, the clawback of
    # outcome_weighted (30 per callback, 63% of false closures caught) does not
    sc = _closure(7.0)
    world = build_world(sc, sc.seed, 0)
    res = {}
    for name in sc.schemes:
        f, out = simulate_scheme(sc, world, name)
        res[name] = (out, replication_kpis(sc, out, f)[0])
    bonus_out, bonus_k = res["ftf_bonus"]
    assert bonus_out.premature_closures > 10
    assert res["jobs_per_day"][0].premature_closures == 0
    assert res["outcome_weighted"][0].premature_closures == 0
    # the same scheme without gaming: fewer closed-but-broken visits, fewer callbacks
    plain = _busy(callback_window_days=7.0, schemes=sc.model_dump()["schemes"])
    f, out = simulate_scheme(plain, build_world(plain, plain.seed, 0), "ftf_bonus")
    k = replication_kpis(plain, out, f)[0]

    def outcomes(o):
        return np.array([r[VISIT_FIELDS.index("outcome")] for r in o.visits])

    assert (outcomes(bonus_out) == LOOKED_FIXED).sum() > (outcomes(out) == LOOKED_FIXED).sum()
    assert (outcomes(bonus_out) == NOT_FIXED).sum() < (outcomes(out) == NOT_FIXED).sum()
    assert bonus_k["callback_rate"] > k["callback_rate"]


def test_a_long_callback_window_removes_the_incentive():
    # with a 30-day window almost every false closure comes back in time to cost the bonus
    sc = _closure(30.0)
    f = formula_for(sc, "ftf_bonus")
    assert gaming.closure_prob(sc, f, 0.1, True) == 0.0
    assert gaming.closure_prob(sc, f, 0.0, True) > 0.0  # a purely mercenary tech still would
