"""Attrition: technicians who quit over pay, vacancies, and replacements who ramp up."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import tiny_dict

from sim.behaviour import attrition
from sim.config.load import scenario_from_dict
from sim.config.parts import Attrition
from sim.experiment.tasks import run_replication
from sim.metrics.kpis import KPI_COLUMNS
from sim.model.replication import simulate_schemes
from sim.world.draws import build_world


def _scenario(schemes: dict, baseline: str, **att) -> object:
    d = tiny_dict(
        {
            "horizon_days": 400,
            "warmup_days": 50,
            "customers": {"count": 2500, "term_days": 365},
            "workforce": {"technicians": 10},
            "attrition": {"enabled": True, **att},
            "baseline": baseline,
        }
    )
    d["schemes"] = schemes
    return scenario_from_dict(d)


EQUAL_PAY = {
    "hourly": {"type": "hourly", "per_hour": 30},
    "day_rate": {"type": "custom", "base_per_day": 240},
}
PAY_CUT = {"hourly": {"type": "hourly", "per_hour": 30}, "cut": {"type": "hourly", "per_hour": 20}}


def test_kpi_columns_hold_the_attrition_columns_and_are_zero_when_off(make_tiny):
    assert {"tech_quits", "vacancy_days"} <= set(KPI_COLUMNS)
    sc = make_tiny()
    runs = pd.DataFrame(run_replication(sc, sc.seed, 0).runs)
    assert (runs["tech_quits"] == 0).all() and (runs["vacancy_days"] == 0).all()


@pytest.mark.parametrize("reference", ["baseline", "peers", "own_start"])
def test_attrition_is_zero_when_no_ones_pay_drops(reference):
    sc = _scenario(
        EQUAL_PAY,
        "hourly",
        reference=reference,
        base_quit_rate=1.0,
        pay_elasticity=10.0,
        tolerance=0.0,
    )
    for rep in range(2):
        res = run_replication(sc, sc.seed, rep)
        runs = pd.DataFrame(res.runs)
        assert (runs["tech_quits"] == 0).all(), runs[["scheme", "tech_quits"]]
        assert (runs["vacancy_days"] == 0).all()
        assert (pd.DataFrame(res.behaviour)["present"] == 1).all()


def test_a_pay_cut_makes_technicians_quit_and_leaves_vacancies():
    sc = _scenario(PAY_CUT, "hourly", base_quit_rate=0.5, hiring_lag_days=30)
    world = build_world(sc, sc.seed, 0)
    runs = {name: (f, out) for name, f, out in simulate_schemes(sc, world)}
    base_out, cut_out = runs["hourly"][1], runs["cut"][1]
    assert base_out.quits == []
    assert len(cut_out.quits) >= 3
    # the cut scheme was judged against what the baseline paid each slot (a 40 h week)
    assert cut_out.reference_pay == pytest.approx([1200.0] * 10)
    assert base_out.reference_pay == cut_out.reference_pay
    # no quit before the first pay window (L = 5 weeks of incomplete statements + N = 8)
    first_week = min(t for _i, t in cut_out.quits) / 168.0
    assert first_week >= 13
    for i, t in cut_out.quits:
        assert (i, t, t + 30 * 24.0) in cut_out.absences
    res = pd.DataFrame(run_replication(sc, sc.seed, 0).runs).set_index("scheme")
    W, H = 50 * 24.0, 400 * 24.0
    vac = sum(max(0.0, min(a1, H) - max(a0, W)) for _i, a0, a1 in cut_out.absences) / 24.0
    assert res.loc["cut", "vacancy_days"] == pytest.approx(vac)
    assert res.loc["cut", "tech_quits"] == sum(1 for _i, t in cut_out.quits if W <= t < H)
    # vacant days are not paid: pay per filled tech-day stays 160 (and overtime at 1.5 x 20),
    # the bill falls
    overtime = res.loc["cut", "overtime_hours"]
    assert res.loc["cut", "tech_pay_per_day"] == pytest.approx(160.0 + 30.0 * overtime)
    assert res.loc["cut", "total_pay"] < (160.0 + 30.0 * overtime) * 10 * 250


def test_replacements_start_less_skilled_and_ramp_up():
    sc = _scenario(
        PAY_CUT,
        "hourly",
        base_quit_rate=0.8,
        hiring_lag_days=7,
        new_hire_skill_gap=0.2,
        ramp_days=70,
    )
    world = build_world(sc, sc.seed, 1)
    out = {name: o for name, _f, o in simulate_schemes(sc, world)}["cut"]
    assert out.quits
    skills = np.array(out.skill_weeks)
    present = np.array(out.present_weeks)
    i, t = out.quits[0]
    w_quit = int(t // 168)
    w_hire = next(w for w in range(w_quit + 1, len(present)) if present[w, i])
    ramp = skills[w_hire : w_hire + 12, i]
    ramp = ramp[~np.isnan(ramp)]
    assert np.all(np.diff(ramp[:10]) > 0)  # rising week by week
    assert ramp[-1] - ramp[0] == pytest.approx(0.2, abs=0.03)  # by the skill gap
    assert np.isnan(skills[w_quit, i]) and present[w_quit, i] == 0  # vacant from the quit
    # the replacement's target skill comes from the hiring stream, the same under any scheme
    assert ramp[-1] == pytest.approx(world.hire_skill[i, 0])


def test_quit_probability_rule():
    att = Attrition(enabled=True, tolerance=0.05, base_quit_rate=0.15, pay_elasticity=4.0)
    assert attrition.quit_prob(1000.0, 1000.0, att) == 0.0
    assert attrition.quit_prob(1200.0, 1000.0, att) == 0.0
    assert attrition.quit_prob(960.0, 1000.0, att) == 0.0  # within the tolerance
    rate = 0.15 * (0.8**-4.0 - 1.0)
    assert attrition.quit_prob(800.0, 1000.0, att) == pytest.approx(1 - math.exp(-rate * 7 / 365))
    ps = [attrition.quit_prob(x, 1000.0, att) for x in (900, 800, 600, 300)]
    assert ps == sorted(ps) and ps[-1] < 1.0
    assert attrition.quit_prob(0.0, 1000.0, att) == 1.0
