"""The world's visit slots: kept compactly, drawn again on demand, the same numbers as one
eager draw of every slot (sim.world.slots)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.config.base import HOURS_PER_DAY
from sim.config.scenario import Scenario
from sim.model.replication import world_for
from sim.world import slots as slots_module
from sim.world.distributions import draw_duration, lognormal
from sim.world.draws import SLOT_STREAMS
from sim.world.rng import stream
from sim.world.slots import FIELDS, VISIT_SLOTS
from tests.conftest import simulate_one, tiny_scenario


def eager(sc: Scenario, draw: dict[str, np.random.Generator], jtype: np.ndarray) -> dict:
    """Every slot of problems of job types `jtype` drawn at once, field by field, as the
    world drew them before slots were kept compactly (the reference)."""
    jobs, wf = sc.jobs, sc.workforce
    types = list(jobs.types.values())
    shape = (len(jtype), VISIT_SLOTS)
    mean = np.array([t.onsite_hours_mean for t in types])[jtype][:, None]
    cv = np.array([t.onsite_hours_cv for t in types])[jtype][:, None]
    out = {"duration": draw_duration(draw["duration"], jobs.duration_distribution, mean, cv, shape)}
    if wf.travel_hours_mean > 0 and wf.travel_hours_cv > 0:
        out["travel"] = lognormal(draw["travel"], wf.travel_hours_mean, wf.travel_hours_cv, shape)
    else:
        out["travel"] = np.full(shape, wf.travel_hours_mean)
    scale = jobs.callback_delay_mean_days * HOURS_PER_DAY
    out["callback_delay_h"] = draw["callback_delay_h"].exponential(scale, shape)
    for f in ("part_u", "fix_u", "detect_u", "rushed_u", "survey_u", "score_u"):
        out[f] = draw[f].random(shape)
    return out


def reference(sc: Scenario, rep: int) -> dict[str, np.ndarray]:
    """The contract failures' and T&M calls' slots of replication `rep`, drawn eagerly."""
    w = world_for(sc, sc.seed, rep)
    gens = {s: stream(sc.seed, rep, s) for s in dict.fromkeys(SLOT_STREAMS.values())}
    jt = np.array(w.failure_type[: w.tm_first])
    ref = eager(sc, {f: gens[s] for f, s in SLOT_STREAMS.items()}, jt)
    if w.planned_first > w.tm_first:
        rng = stream(sc.seed, rep, "tm")  # the T&M stream draws its calls first
        types = list(sc.jobs.types.values())
        n_tm = int(rng.poisson(sc.time_and_materials.jobs_per_day * sc.horizon_days))
        tm_type = rng.choice(len(types), size=n_tm, p=np.array([t.share for t in types]))
        rng.uniform(0.0, 1.0, size=n_tm)
        tm = eager(sc, dict.fromkeys(FIELDS, rng), tm_type)
        ref = {f: np.concatenate([ref[f], tm[f]]) for f in FIELDS}
    return ref


SCENARIOS = {
    "lognormal, T&M, planned visits": {
        "time_and_materials": {"enabled": True, "jobs_per_day": 6},
        "maintenance": {"enabled": True},
        "customers": {"tiers": {"gold": {"planned_visits_per_year": 2}}},
    },
    "exponential durations": {"jobs": {"duration_distribution": "exponential"}},
    "fixed durations, fixed travel": {
        "jobs": {"duration_distribution": "fixed"},
        "workforce": {"travel_hours_cv": 0.0},
    },
}


@pytest.mark.parametrize("over", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_slots_are_the_eager_draw_bit_for_bit(over, monkeypatch):
    monkeypatch.setattr(slots_module, "BLOCK", 37)  # many blocks, a partial last one
    sc = tiny_scenario(over)
    w = world_for(sc, sc.seed, 2)
    ref = reference(sc, 2)
    n = w.planned_first
    assert n > 3 * 37
    for f in FIELDS:
        full = w.slots.full(f)
        assert np.array_equal(full[:n], ref[f]), f
        assert np.array_equal(w.slots.first_slot()[f][:n], ref[f][:, 0]), f
        if "maintenance" in over:  # planned visits: one slot, the rest zero
            assert len(full) > n
            assert not full[n:, 1:].any()
            assert f in ("duration", "travel") or not full[n:, 0].any()
    # any slot read through the cache, blocks evicted and drawn again: the same numbers
    w.slots.keep = 2
    rng = np.random.default_rng(0)
    fulls = np.stack([w.slots.full(f) for f in FIELDS], axis=-1)
    for p, k in zip(rng.integers(0, len(w.slots), 400), rng.integers(1, VISIT_SLOTS, 400)):
        assert w.slots.visit(int(p), int(k)) == tuple(fulls[p, k]), (p, k)
    assert w.slots.redraws > 2 and len(w.slots._cache) <= 2


def test_a_run_does_not_depend_on_the_block_size_or_the_cache(monkeypatch):
    """Blocks and cache are only memory and speed: the visits are the same."""
    sc = tiny_scenario({"time_and_materials": {"enabled": True, "jobs_per_day": 6}})
    _w, _f, base = simulate_one(sc)
    monkeypatch.setattr(slots_module, "BLOCK", 5)
    w = world_for(sc, sc.seed, 0)
    w.slots.keep = 1
    _w, _f, small = simulate_one(sc, world=w)
    assert w.slots.redraws > 10
    assert np.array_equal(base.visits.array(), small.visits.array())
    assert sum(1 for v in base.visits if v[2] > 1) > 20  # later visits were read
