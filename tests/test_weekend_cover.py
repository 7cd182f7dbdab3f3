"""Weekend cover (docs/model.md, "Weekend cover"): technicians on shift on non-working days
by a rota, paid for those shifts, taking repairs as on weekdays.

Off (`workforce.weekend_cover: 0`, the default) the calendar is the one pattern of before
and results are unchanged: `tests/test_schema.py`'s golden summary guards that.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.metrics.kpis import present_days, tech_counts, visit_columns
from sim.model.output import Output
from sim.world.calendar import Calendar, TechShifts
from tests.conftest import runs_by_scheme, simulate_one, tiny_scenario

H = 24.0
WEEK = 7 * H


def cover(c: int, **workforce) -> dict:
    return {"workforce": {"weekend_cover": c, **workforce}}


@pytest.mark.parametrize(("n", "c", "days"), [(4, 1, 5), (4, 2, 5), (5, 2, 6), (3, 3, 5)])
def test_the_rota_puts_c_technicians_on_each_day_off_and_is_fair(n, c, days):
    cal = Calendar(tiny_scenario(cover(c, technicians=n, days_per_week=days)))
    weeks = 10 * n
    per_tech = cal.cover_days(0.0, weeks * WEEK)
    for day in range(weeks * 7):
        on = [i for i in range(n) if day % 7 >= days and cal.covers(i, day)]
        assert len(on) == (c if day % 7 >= days else 0)
    assert per_tech.sum() == weeks * (7 - days) * c
    assert per_tech.max() - per_tech.min() <= 1  # every slot covers as often, give or take one


def test_without_cover_every_technician_keeps_the_common_calendar():
    cal = Calendar(tiny_scenario())
    assert cal.cover == 0 and cal.for_tech(2) is cal
    assert not cal.on_shift(5 * H + 10.0)  # Saturday 10:00
    on = Calendar(tiny_scenario(cover(1)))
    assert isinstance(on.for_tech(2), TechShifts)
    assert on.on_shift(5 * H + 10.0) and not on.on_shift(5 * H + 20.0)


def test_a_technician_works_only_on_their_own_shifts():
    sc = tiny_scenario(cover(1))
    cal = Calendar(sc)
    _world, _f, out = simulate_one(sc)
    v = visit_columns(out)
    start, tech = v["t_start"], v["tech"].astype(int)
    weekend = cal.non_working(start)
    assert weekend.sum() > 50
    for t, i in zip(start[weekend], tech[weekend]):
        assert cal.for_tech(int(i)).on_shift_until(float(t)) is not None
        assert cal.covers(int(i), int(t // H))
    assert all(cal.on_shift(float(t)) for t in start)


def test_weekend_cover_answers_weekend_jobs_sooner_and_keeps_more_slas():
    """Calendar SLAs of 24-72 h are missed by jobs that wait out a weekend: cover answers
    them on the day, so weekend response falls and compliance rises, under every scheme."""
    for rep in (0, 1):
        off, on = runs_by_scheme(tiny_scenario(), rep), runs_by_scheme(tiny_scenario(cover(1)), rep)
        assert (off["weekend_visits"] == 0).all() and (on["weekend_visits"] > 50).all()
        assert (on["weekend_response_hours"] < 0.8 * off["weekend_response_hours"]).all()
        assert (on["sla_compliance"] > off["sla_compliance"]).all()
        more = runs_by_scheme(tiny_scenario(cover(2)), rep)
        assert (more["weekend_visits"] > on["weekend_visits"]).all()
        assert (more["weekend_response_hours"] < on["weekend_response_hours"]).all()


def test_cover_does_not_move_business_hour_deadlines():
    """The SLA counts the contract's working week whether or not the firm staffs weekends:
    a visit is late against the deadline of the calendar without cover."""
    business = {"customers": {"sla_clock": "business"}}
    contract = Calendar(tiny_scenario(business))
    assert contract.add_business_hours(4 * H + 15.0, 4.0) == 7 * H + 8.0 + 3.0  # Fri -> Mon
    world, _f, out = simulate_one(tiny_scenario({**cover(2), **business}))
    v = visit_columns(out)
    first = (v["visit_no"] == 1) & (v["customer"] >= 0)
    ready, arrive = v["t_ready"][first], v["t_arrive"][first]
    sla = np.array(world.sla_hours)[v["customer"][first].astype(int)]
    deadline = np.array([contract.add_business_hours(t, h) for t, h in zip(ready, sla)])
    assert np.array_equal(v["late"][first] == 1, arrive > deadline)
    weekend = contract.non_working(ready)
    assert weekend.sum() > 20 and (deadline[weekend] > 7 * H * (ready[weekend] // WEEK + 1)).all()


def test_cover_shifts_are_paid_days_and_hours_at_the_overtime_multiplier():
    sc0, sc1 = tiny_scenario(), tiny_scenario(cover(1))
    _w, _f, out = simulate_one(sc1)
    W, Hz = sc1.warmup_days * H, sc1.horizon_days * H
    extra = Calendar(sc1).cover_days(W, Hz)
    assert extra.sum() > 0
    days0, days1 = present_days(sc0, out, W, Hz), present_days(sc1, out, W, Hz)
    assert np.array_equal(days1 - days0, extra)
    counts0, counts1 = tech_counts(sc0, out), tech_counts(sc1, out)
    assert np.allclose(counts1["days"] - counts0["days"], extra)
    # each cover hour paid 1.5 x: 8 h x 1.5 per cover shift
    assert np.allclose(counts1["hours"] - counts0["hours"], 1.5 * 8.0 * extra)


def test_a_vacant_slot_is_not_paid_for_its_cover_shifts():
    sc = tiny_scenario(cover(1))
    out = Output(absences=[(0, 0.0, 4 * WEEK)])
    full = Calendar(sc).cover_days(0.0, 4 * WEEK)
    days = present_days(sc, out, 0.0, 4 * WEEK)
    plain = present_days(tiny_scenario(), out, 0.0, 4 * WEEK)
    assert days[0] == plain[0] == 0.0  # the slot stood vacant the whole time
    assert np.array_equal((days - plain)[1:], full[1:])


def test_the_same_seed_gives_the_same_numbers():
    sc = tiny_scenario(cover(2))
    pd.testing.assert_frame_equal(runs_by_scheme(sc), runs_by_scheme(sc))
