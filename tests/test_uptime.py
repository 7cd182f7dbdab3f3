"""The uptime pay term (docs/model.md, "Uptime"): customer downtime after a visit that did
not fix, charged to the technician whose visit it was, and what pricing it does."""

from __future__ import annotations

import itertools
from collections import defaultdict

import numpy as np
from conftest import tiny_scenario

from sim.behaviour.best_response import best_response, expectation, theta_grid
from sim.config.base import HOURS_PER_DAY
from sim.metrics.kpis import replication_kpis, tech_counts
from sim.model.replication import simulate_scheme
from sim.pay.formula import PayFormula, formula_for
from sim.pay.ledger import counts_in, term_events
from sim.world.draws import build_world
from sim.world.records import FIXED, LOOKED_FIXED, NOT_FIXED, PART_MISSING, VISIT_FIELDS, Visit


def _columns(rows: list[dict]) -> dict[str, np.ndarray]:
    full = [Visit(**{f: 0 for f in VISIT_FIELDS} | r) for r in rows]
    return {f: np.array([getattr(v, f) for v in full], dtype=float) for f in VISIT_FIELDS}


def test_downtime_runs_from_the_failed_visit_or_the_callback_to_the_next_visits_end():
    v = _columns(
        [
            # problem 0: tech 0 leaves it not fixed at 10; tech 1 fixes it at 20
            dict(problem=0, visit_no=1, tech=0, t_done=10.0, outcome=NOT_FIXED, caused_by=-1),
            dict(problem=1, visit_no=1, tech=1, t_done=5.0, outcome=LOOKED_FIXED, caused_by=-1),
            dict(
                problem=0, visit_no=2, tech=1, t_ready=14.0, t_done=20.0, outcome=FIXED, caused_by=0
            ),
            # problem 1 looked fixed at 5, came back at 100: down from 100 to 104
            dict(
                problem=1,
                visit_no=2,
                tech=0,
                t_ready=100.0,
                t_done=104.0,
                outcome=FIXED,
                caused_by=1,
                is_callback=1,
            ),
        ]
    )
    c = counts_in(term_events(v, 30 * HOURS_PER_DAY), 2, 0.0, 1e9)
    assert c["downtime_hours"].tolist() == [10.0, 4.0]
    assert c["repeat_visits"].tolist() == [1.0, 1.0]


def _by_hand(out) -> np.ndarray:
    """The downtime term per technician from the visit rows, problem by problem."""
    per_problem: dict[int, list[Visit]] = defaultdict(list)
    for row in out.visits:
        per_problem[row[0]].append(Visit._make(row))
    n = max(v.tech for vs in per_problem.values() for v in vs) + 1
    down = np.zeros(n)
    for visits in per_problem.values():
        visits.sort(key=lambda v: v.visit_no)
        for prev, v in itertools.pairwise(visits):
            start = v.t_ready if v.is_callback else prev.t_done
            down[v.caused_by] += v.t_done - start
    return down


def test_the_runs_downtime_counts_agree_with_a_problem_by_problem_count():
    sc = tiny_scenario({"workforce": {"technicians": 5}, "warmup_days": 0})
    _f, out = simulate_scheme(sc, build_world(sc, sc.seed, 0), "jobs_per_day")
    counts = tech_counts(sc, out)["downtime_hours"]
    hand = _by_hand(out)
    assert hand.sum() > 0
    # the run's counts are those booked in the horizon: every repeat visit is
    assert np.allclose(counts, np.pad(hand, (0, len(counts) - len(hand))), rtol=1e-12)
    assert any(Visit._make(r).outcome == PART_MISSING for r in out.visits)


def _with_downtime_clawback(k: float):
    return tiny_scenario(
        {
            "schemes": {
                "piece": {"type": "custom", "base_per_day": 100, "per_visit": 45},
                "piece_uptime": {
                    "type": "custom",
                    "base_per_day": 100,
                    "per_visit": 45,
                    "per_downtime_hour": -k,
                },
            },
            "baseline": "piece",
        }
    )


def test_pricing_downtime_raises_care_monotonically():
    thetas = []
    for k in (0.0, 0.5, 1.0, 2.0, 4.0):
        sc = _with_downtime_clawback(k)
        thetas.append(best_response(sc, formula_for(sc, "piece_uptime"), 0.7))
    assert thetas == sorted(thetas)
    assert thetas[-1] > thetas[0]
    sc = _with_downtime_clawback(0.0)
    ex = expectation(sc, 0.7, theta_grid(sc))
    # more care, less downtime after the technician's visits
    assert np.all(np.diff(ex.counts["downtime_hours"]) < 0)


def test_a_downtime_clawback_shortens_the_customers_downtime():
    sc = _with_downtime_clawback(3.0)
    world = build_world(sc, sc.seed, 0)
    k = {}
    for name in ("piece", "piece_uptime"):
        f, out = simulate_scheme(sc, world, name)
        k[name] = replication_kpis(sc, out, f)[0]
    assert k["piece_uptime"]["mean_thoroughness"] > k["piece"]["mean_thoroughness"]
    assert k["piece_uptime"]["repeat_visit_rate"] < k["piece"]["repeat_visit_rate"]
    assert k["piece_uptime"]["availability"] > k["piece"]["availability"]
    assert formula_for(sc, "piece_uptime") == PayFormula(days=100, visits=45, downtime_hours=-3)
