"""Sorting: quits and hires against an outside option that rises with skill, so a scheme
changes who stays and who joins (docs/model.md section 11, "Sorting")."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import tiny_dict

from sim.behaviour import sorting
from sim.config.load import scenario_from_dict
from sim.config.parts import Attrition, Workforce
from sim.config.scenario import Scenario
from sim.experiment.tasks import run_replication
from sim.metrics.kpis import replication_kpis
from sim.model.output import Output
from sim.model.replication import needs_baseline_first, simulate_schemes, world_for
from sim.world.applicants import applicants, max_rounds
from sim.world.draws import build_world

#: Hourly pay and a merit scheme that pays per first-time fix, at about the same mean pay
#: per tech-day in the world of `_scenario` (260 and 260 $ with pace; checked in the test).
FLAT_AND_MERIT = {
    "hourly": {"type": "hourly", "per_hour": 30},
    "merit": {"type": "custom", "base_per_day": 55, "per_first_time_fix": 117},
}

SORTING = {
    "enabled": True,
    "reference": "outside_option",
    "hiring": "selective",
    "base_quit_rate": 0.6,
    "outside_option": {"pay_per_day": 240.0, "skill_premium": 0.1},
}


def _scenario(att: dict, schemes: dict | None = None, **over) -> Scenario:
    """12 technicians over 500 days; skill matters twice as much as by default."""
    d = tiny_dict(
        {
            "horizon_days": 500,
            "warmup_days": 50,
            "customers": {"count": 2500, "term_days": 365},
            "workforce": {"technicians": 12},
            "quality": {"skill_effect": 0.8},
            "attrition": att,
            "baseline": "hourly",
            **over,
        }
    )
    d["schemes"] = schemes or FLAT_AND_MERIT
    return scenario_from_dict(d)


def _runs(sc: Scenario, reps: int) -> dict[str, list[tuple[dict, Output]]]:
    """Per scheme, the KPIs and output of each replication."""
    got: dict[str, list[tuple[dict, Output]]] = {}
    for rep in range(reps):
        for name, formula, out in simulate_schemes(sc, world_for(sc, sc.seed, rep)):
            got.setdefault(name, []).append((replication_kpis(sc, out, formula)[0], out))
    return got


def _same(a, b) -> None:
    """Two replications' results are identical, number for number (NaN equals NaN)."""
    for part in ("runs", "technicians", "weeks", "behaviour"):
        x, y = pd.DataFrame(getattr(a, part)), pd.DataFrame(getattr(b, part))
        pd.testing.assert_frame_equal(x, y, check_exact=True)


def _skill_at_quit(sc: Scenario, rep: int, out: Output) -> list[float]:
    """The skill (once ramped up) of each technician who quit, from the hires before it."""
    skill = list(build_world(sc, sc.seed, rep).skill)
    events = sorted(
        [(t, 1, i, None) for i, t in out.quits] + [(t, 0, i, s) for i, t, s, _ in out.hires]
    )
    quitters = []
    for _t, kind, i, s in events:
        if kind == 0:
            skill[i] = s
        else:
            quitters.append(skill[i])
    return quitters


# --------------------------------------------------------------------------- rules
def test_outside_option_is_the_anchor_at_mean_skill_and_rises_by_the_premium():
    att = Attrition(outside_option={"skill_premium": 0.1})
    wf = Workforce(skill_mean=0.7, skill_sd=0.12)
    assert sorting.outside_pay(att, wf, 0.7, 250.0) == pytest.approx(250.0)
    assert sorting.outside_pay(att, wf, 0.82, 250.0) == pytest.approx(250.0 * math.exp(0.1))
    assert sorting.outside_pay(att, wf, 0.58, 250.0) == pytest.approx(250.0 * math.exp(-0.1))
    flat = Workforce(skill_mean=0.7, skill_sd=0.0)
    assert sorting.outside_pay(att, flat, 0.9, 250.0) == pytest.approx(250.0)


def test_separation_rule_is_the_base_rate_at_the_outside_option():
    att = Attrition(base_quit_rate=0.15, pay_elasticity=4.0)
    week = 7.0 / 365.0
    assert sorting.separation_prob(100.0, 100.0, att) == pytest.approx(1 - math.exp(-0.15 * week))
    below = sorting.separation_prob(80.0, 100.0, att)
    assert below == pytest.approx(1 - math.exp(-0.15 * 0.8**-4 * week))
    assert sorting.separation_prob(120.0, 100.0, att) < sorting.separation_prob(100.0, 100.0, att)
    assert sorting.separation_prob(0.0, 100.0, att) == 1.0
    assert sorting.separation_prob(50.0, 0.0, att) == 0.0


def test_applicant_accepts_at_the_outside_option_less_tolerance():
    att = Attrition(tolerance=0.05)
    assert sorting.accepts(95.0, 100.0, att) and not sorting.accepts(94.9, 100.0, att)
    # what the job pays now, scaled by the applicant's variable pay rate against the staff's
    assert sorting.expected_pay(100.0, 50.0, 12.0, 10.0) == pytest.approx(160.0)
    assert sorting.expected_pay(240.0, 0.0, 0.0, 0.0) == pytest.approx(240.0)


def test_the_anchor_needs_the_baseline_run_first_unless_it_is_given():
    on = {"enabled": True, "reference": "outside_option"}
    assert needs_baseline_first(_scenario(on))
    given = {**on, "outside_option": {"pay_per_day": 200.0}}
    assert not needs_baseline_first(_scenario(given))
    assert needs_baseline_first(
        _scenario({"enabled": True, "reference": "peers", "hiring": "selective"})
    )
    assert not needs_baseline_first(_scenario({"enabled": True, "reference": "peers"}))


# --------------------------------------------------------------------------- applicants
def test_applicants_are_drawn_per_slot_and_hire_and_start_with_the_random_hire():
    sc = _scenario(SORTING)
    a = build_world(sc, sc.seed, 0)
    b = build_world(sc, sc.seed, 0)
    assert a.hire_skill is not None and a.hire_intrinsic is not None
    later = applicants(sc, b, 3, 1)  # drawn in another order: the same numbers
    first = applicants(sc, a, 3, 1)
    assert first == later
    assert first.skill[0] == a.hire_skill[3, 1] and first.intrinsic[0] == a.hire_intrinsic[3, 1]
    assert len(first.skill) == sc.attrition.max_applicants * max_rounds(sc)
    assert applicants(sc, a, 3, 2).skill[1:] != first.skill[1:]
    assert applicants(sc, a, 4, 1).skill[1:] != first.skill[1:]
    other = build_world(sc, sc.seed, 1)
    assert applicants(sc, other, 3, 1).skill[1:] != first.skill[1:]
    skills = np.array(first.skill)
    assert ((skills >= 0.05) & (skills <= 1.0)).all()


# --------------------------------------------------------------------------- identity
def test_sorting_settings_change_nothing_while_sorting_is_off():
    """Attrition against the baseline with random hiring ignores the outside option."""
    plain = {"enabled": True, "reference": "baseline", "base_quit_rate": 0.6}
    sc = _scenario(plain, schemes={**FLAT_AND_MERIT, "cut": {"type": "hourly", "per_hour": 22}})
    tuned = _scenario(
        {
            **plain,
            "max_applicants": 2,
            "outside_option": {"pay_per_day": 500.0, "skill_premium": 1},
        },
        schemes={**FLAT_AND_MERIT, "cut": {"type": "hourly", "per_hour": 22}},
    )
    a, b = run_replication(sc, sc.seed, 0), run_replication(tuned, tuned.seed, 0)
    _same(a, b)
    assert sum(r["tech_quits"] for r in a.runs) > 0  # somebody quit: the hires were compared


def test_selective_hiring_that_every_applicant_accepts_is_random_hiring():
    plain = {"enabled": True, "base_quit_rate": 0.6}
    cut = {**FLAT_AND_MERIT, "cut": {"type": "hourly", "per_hour": 22}}
    sc = _scenario(plain, schemes=cut)
    easy = _scenario(
        {**plain, "hiring": "selective", "outside_option": {"pay_per_day": 1.0}}, schemes=cut
    )
    a, b = run_replication(sc, sc.seed, 1), run_replication(easy, easy.seed, 1)
    _same(a, b)
    assert sum(r["hires"] for r in a.runs) > 0


def test_same_seed_same_numbers_with_sorting_on():
    sc = _scenario(SORTING)
    a, b = run_replication(sc, sc.seed, 0), run_replication(sc, sc.seed, 0)
    _same(a, b)
    c = run_replication(sc, sc.seed + 1, 0)
    with pytest.raises(AssertionError):
        _same(a, c)


# --------------------------------------------------------------------------- sorting
def test_hires_are_more_skilled_when_pay_rises_with_skill():
    """Same applicants (common random numbers), about the same mean pay: the merit scheme
    hires the skilled applicants that flat hourly pay loses to the outside market."""
    got = _runs(_scenario(SORTING), reps=4)
    pay = {n: np.mean([k["tech_pay_per_day"] for k, _ in r]) for n, r in got.items()}
    assert pay["merit"] == pytest.approx(pay["hourly"], rel=0.03)
    hired = {n: [h[2] for _, out in r for h in out.hires] for n, r in got.items()}
    assert len(hired["hourly"]) >= 15 and len(hired["merit"]) >= 15
    assert np.mean(hired["merit"]) > np.mean(hired["hourly"]) + 0.03
    # under hourly pay nobody above the acceptance threshold is hired:
    # 1 >= 0.95 exp(0.1 z)  <=>  z <= 10 ln(1 / 0.95) = 0.513
    top = 0.7 + 0.12 * 10 * math.log(1 / 0.95)
    assert max(hired["hourly"]) <= top + 1e-9
    assert max(hired["merit"]) > top
    end = {n: np.mean([k["mean_skill_end"] for k, _ in r]) for n, r in got.items()}
    assert end["merit"] > end["hourly"]
    # a round nobody accepted keeps the vacancy open: more applicants than hires were asked
    asked = [h[3] for _, out in got["hourly"] for h in out.hires]
    assert max(asked) > 1


def test_quits_concentrate_among_the_skilled_under_flat_pay():
    """Hourly pay, the outside option rising with skill: the skilled quit more often."""

    def quitters_z(premium: float) -> tuple[list[float], int, int]:
        att = {
            "enabled": True,
            "reference": "outside_option",
            "base_quit_rate": 0.6,
            "outside_option": {"pay_per_day": 240.0, "skill_premium": premium},
        }
        sc = _scenario(att, schemes={"hourly": FLAT_AND_MERIT["hourly"]})
        zs: list[float] = []
        for rep in range(6):
            out = next(simulate_schemes(sc, world_for(sc, sc.seed, rep)))[2]
            zs += [(s - 0.7) / 0.12 for s in _skill_at_quit(sc, rep, out)]
        return zs, sum(z > 0 for z in zs), sum(z <= 0 for z in zs)

    zs, high, low = quitters_z(0.3)
    assert len(zs) >= 20
    assert high > 1.5 * low
    assert np.mean(zs) > 0.3
    flat, _, _ = quitters_z(0.0)  # no premium: quits do not depend on skill
    assert np.mean(flat) < np.mean(zs) - 0.3


def test_kpis_of_sorting_are_in_runs():
    sc = _scenario(SORTING)
    runs = pd.DataFrame(run_replication(sc, sc.seed, 0).runs)
    assert (runs["hires"] > 0).all()
    assert runs["mean_skill_end"].between(0.05, 1.0).all()
    assert (runs["resolved_per_tech_day"] > 0).all()
