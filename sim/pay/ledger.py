"""Pay-term events: which visit earns which pay term, for whom, and when it is booked.

The single definition of the pay counts that come from visits (docs/model.md, "Pay").
`sim.metrics.kpis` sums them over the measured period of a whole run; the simulation keeps
`WeeklyLedger`s of them while it runs, for technicians who learn from their pay and quit
over it (docs/model.md section 11). Each event is one unit of a term:

    term              earned by (who)                       booked at
    visits            every visit (its technician)          t_done
    first_time_fixes  a first visit closed as fixed that    t_done + callback window
                      did not come back within the window
    repeat_visits     a repeat visit, charged to the        t_done of the repeat
                      technician whose visit caused it
    callbacks         a visit closed as fixed that came     next_ready (when it comes back)
                      back within the window
    promoters         a 9-10 survey answer after a visit    t_done
    detractors        a 0-6 survey answer after a visit     t_done
    downtime_hours    a repeat visit, charged to the        t_done of the repeat
                      technician whose visit caused it,
                      the hours the asset was down after
                      that visit: from its end (from the
                      callback for a visit that looked
                      fixed) to the end of the repeat

Each event is one unit of its term, but for `downtime_hours`, whose events carry their hours
(`TermEvents.amount`). `earned` is when the visit that earned the event was done (for a
repeat visit: the visit that caused it), which is what a technician credits to the way they
worked then.
Days, hours and retained contract value are not visit events: `sim.metrics.kpis` counts them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np

from sim.pay.formula import PayFormula, fixed_pay_per_day
from sim.world.records import (
    DETRACTOR,
    FIXED,
    LOOKED_FIXED,
    PROMOTER,
    VISIT_FIELDS,
    RecordLog,
    VisitRow,
)

#: The pay terms counted from visit records, in `PAY_TERMS` order.
VISIT_TERMS: tuple[str, ...] = (
    "visits",
    "first_time_fixes",
    "repeat_visits",
    "callbacks",
    "promoters",
    "detractors",
    "downtime_hours",
)

HOURS_PER_WEEK = 168.0


def columns(rows: Sequence[tuple], fields: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Records (tuples in `fields` order) as one float array per field."""
    n, m = len(rows), len(fields)
    # np.fromiter over the flattened records: the same numbers as np.array(rows, dtype=float),
    # a third faster on the visit records of a run
    a = np.fromiter(chain.from_iterable(rows), dtype=float, count=n * m).reshape(n, m)
    return {f: a[:, k] for k, f in enumerate(fields)}


@dataclass(frozen=True)
class TermEvents:
    """Events of one pay term over an array of visit records."""

    mask: np.ndarray  # the records that carry one unit of the term
    who: np.ndarray  # technician credited (or charged), per record
    booked: np.ndarray  # when the unit enters the pay statement (h), per record
    earned: np.ndarray  # when the visit that earned it was done (h), per record
    amount: np.ndarray | None = None  # units per record (None: one each)


def previous_done(v: dict[str, np.ndarray]) -> np.ndarray:
    """The done time of each record's previous visit to the same problem (NaN for first
    visits), from a complete set of visit records."""
    done = v["t_done"]
    order = np.lexsort((v["visit_no"], v["problem"]))
    p, d = v["problem"][order], done[order]
    prev = np.full(len(done), np.nan)
    same = np.flatnonzero(p[1:] == p[:-1])
    prev[order[same + 1]] = d[same]
    return prev


def term_events(
    v: dict[str, np.ndarray], window: float, cause_done: np.ndarray | None = None
) -> dict[str, TermEvents]:
    """The events of every visit term; `cause_done` is the done time of each record's
    previous visit to the same problem (NaN for first visits; `previous_done` if not given)."""
    tech = v["tech"].astype(int)
    done = v["t_done"]
    gap = v["next_ready"] - done
    first = v["visit_no"] == 1
    looked = v["outcome"] == LOOKED_FIXED
    repeat_of = v["caused_by"].astype(int).clip(0)
    cause = cause_done if cause_done is not None else previous_done(v)
    repeat = (v["visit_no"] > 1) & (v["caused_by"] >= 0)
    # down from the end of the visit that caused the repeat, or from the callback
    down = np.where(repeat, done - np.where(v["is_callback"] == 1, v["t_ready"], cause), 0.0)
    return {
        "visits": TermEvents(np.ones(len(done), dtype=bool), tech, done, done),
        "first_time_fixes": TermEvents(
            first & ((v["outcome"] == FIXED) | (looked & (gap > window))), tech, done + window, done
        ),
        "repeat_visits": TermEvents(repeat, repeat_of, done, cause),
        "callbacks": TermEvents(looked & (gap <= window), tech, v["next_ready"], done),
        "promoters": TermEvents(v["survey"] == PROMOTER, tech, done, done),
        "detractors": TermEvents(v["survey"] == DETRACTOR, tech, done, done),
        "downtime_hours": TermEvents(repeat, repeat_of, done, cause, down),
    }


def counts_in(
    events: dict[str, TermEvents], n_tech: int, t0: float, t1: float
) -> dict[str, np.ndarray]:
    """Per-technician counts of every visit term booked in [t0, t1)."""
    out = {}
    for term, e in events.items():
        m = e.mask & (e.booked >= t0) & (e.booked < t1)
        w = None if e.amount is None else e.amount[m]
        out[term] = np.bincount(e.who[m], w, minlength=n_tech).astype(float)[:n_tech]
    return out


class WeeklyLedger:
    """Per-technician counts of the visit terms per week, booked and earned, kept as the
    visit records come in (in order of completion), plus hours worked and first visits
    per week of the work. Weeks are [168 w, 168 (w + 1)) hours from the start."""

    def __init__(self, n_tech: int, weeks: int, window: float, track_earned: bool = True) -> None:
        self.n_tech = n_tech
        self.window = window
        cols = weeks + math.ceil(window / HOURS_PER_WEEK) + 2
        self.cols = cols
        self.booked = {t: np.zeros((n_tech, cols)) for t in VISIT_TERMS}
        self.earned = {t: np.zeros((n_tech, cols)) for t in VISIT_TERMS}
        self.busy = np.zeros((n_tech, cols))  # hours travelling and on site, by week done
        self.first = np.zeros((n_tech, cols))  # first visits, by week done
        self._last_done: dict[int, float] = {}  # problem -> done time of its last visit
        self._seen = 0
        self.track_earned = track_earned

    def _week(self, t: np.ndarray) -> np.ndarray:
        return np.clip(np.floor(t / HOURS_PER_WEEK), 0, self.cols - 1).astype(int)

    def add(self, rows: Sequence[VisitRow] | RecordLog) -> None:
        """Take in the records appended since the last call."""
        start, self._seen = self._seen, len(rows)
        if self._seen == start:
            return
        if isinstance(rows, RecordLog):
            v = rows.columns(start)
        else:
            v = columns(rows[start:], VISIT_FIELDS)
        new = v["problem"]
        # the done time of each problem's previous visit, which may be in an earlier batch
        last = self._last_done
        cause = np.empty(len(new))
        problems = v["problem"].astype(int).tolist()
        for k, (p, done) in enumerate(zip(problems, v["t_done"].tolist())):
            cause[k] = last.get(p, math.nan)
            last[p] = done
        self.add_columns(v, cause)

    def add_columns(self, v: dict[str, np.ndarray], cause: np.ndarray | None = None) -> None:
        """Take in visit records given as columns (`cause`: see `term_events`; when it is not
        given, `v` must hold every visit so far)."""
        events = term_events(v, self.window, cause)
        for term, e in events.items():
            m = e.mask
            units = 1.0 if e.amount is None else e.amount[m]
            np.add.at(self.booked[term], (e.who[m], self._week(e.booked[m])), units)
            if self.track_earned:
                m = m & ~np.isnan(e.earned)
                units = 1.0 if e.amount is None else e.amount[m]
                np.add.at(self.earned[term], (e.who[m], self._week(e.earned[m])), units)
        tech, wk = v["tech"].astype(int), self._week(v["t_done"])
        np.add.at(self.busy, (tech, wk), v["t_done"] - v["t_start"])
        f = v["visit_no"] == 1
        np.add.at(self.first, (tech[f], wk[f]), 1.0)


def booked_pay(
    formula: PayFormula,
    booked: dict[str, np.ndarray],
    present_days: np.ndarray,
    shift_hours: float,
) -> np.ndarray:
    """The weekly pay statement [technician, week]: the visit terms as booked (`booked`,
    e.g. `WeeklyLedger.booked`), then the fixed terms for the shift days in post
    (`present_days`, same shape). The retained-value term, booked at renewals, is not in it."""
    pay = formula.pay(booked, VISIT_TERMS)
    per_day = fixed_pay_per_day(formula, shift_hours)
    return pay + per_day * present_days if per_day else pay
