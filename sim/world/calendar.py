"""The shift calendar: when technicians work (docs/model.md section 3).

One shift pattern for the whole workforce: `days_per_week` days from Monday (day 0 is a
Monday), `shift_hours` from `shift_start_hour`; 24 hours on 7 days means always on shift.
The model asks it whether a technician may start a job, the KPIs how many shift days a
period holds (for day and hour pay).

Weekend cover (`workforce.weekend_cover` = c > 0, docs/model.md "Weekend cover"): on each
non-working day, c technicians work the same shift hours, by a rota through the crew
(`covers`). `on_shift`, `on_shift_until` and `next_start` then answer for the crew
(someone is on shift); `for_tech(i)` answers for technician i. The SLA's business hours
(`add_business_hours`) stay the working week's: cover does not change the contract.
"""

from __future__ import annotations

import math

import numpy as np

from sim.config.base import HOURS_PER_DAY
from sim.config.scenario import Scenario


class Calendar:
    """The common shift pattern: `days_per_week` days from Monday, `shift_hours` from start."""

    def __init__(self, scenario: Scenario) -> None:
        wf = scenario.workforce
        self.start = wf.shift_start_hour
        self.hours = wf.shift_hours
        self.days = wf.days_per_week
        self.always = wf.shift_hours >= 24.0 and wf.days_per_week == 7
        # weekend cover: technicians on shift on each non-working day (at most the crew)
        self.n_tech = wf.technicians
        self.cover = min(wf.weekend_cover, wf.technicians) if wf.days_per_week < 7 else 0

    def on_shift(self, t: float) -> bool:
        """Whether anybody is on shift at `t` (with weekend cover, on non-working days too)."""
        if self.always:
            return True
        day = int(t // HOURS_PER_DAY)
        h = t - day * HOURS_PER_DAY
        return (day % 7 < self.days or self.cover > 0) and self.start <= h < self.start + self.hours

    def on_shift_until(self, t: float) -> float | None:
        """The end of the shift `t` falls in (infinite if always on shift), or None if `t`
        is off shift: `on_shift` and `shift_end` at once, for the technician's loop."""
        if self.always:
            return math.inf
        day = int(t // HOURS_PER_DAY)
        midnight = day * HOURS_PER_DAY
        if (day % 7 < self.days or self.cover > 0) and (
            self.start <= t - midnight < self.start + self.hours
        ):
            return midnight + self.start + self.hours
        return None

    def next_start(self, t: float) -> float:
        """The start of the next shift strictly after `t` (or `t` itself if always on)."""
        if self.always:
            return t
        day = int(t // HOURS_PER_DAY)
        while True:
            s = day * HOURS_PER_DAY + self.start
            if s > t and (day % 7 < self.days or self.cover > 0):
                return s
            day += 1

    def shift_end(self, t: float) -> float:
        """The end of the shift of the day of `t` (infinite if always on shift)."""
        if self.always:
            return math.inf
        return (t // HOURS_PER_DAY) * HOURS_PER_DAY + self.start + self.hours

    def add_business_hours(self, t: float, hours: float) -> float:
        """The time `hours` of shift time after `t` (the SLA deadline in business hours):
        only shift hours on working days count."""
        if self.always:
            return t + hours
        day = int(t // HOURS_PER_DAY)
        left = hours
        while True:
            if day % 7 < self.days:
                s = day * HOURS_PER_DAY + self.start
                e = s + self.hours
                a = max(t, s)
                if a < e:
                    if a + left <= e:
                        return a + left
                    left -= e - a
            day += 1

    def shift_days(self, t0: float, t1: float) -> int:
        """Shift starts in [t0, t1)."""
        if self.always:
            return round((t1 - t0) / HOURS_PER_DAY)
        n = 0
        day = int(t0 // HOURS_PER_DAY)
        while day * HOURS_PER_DAY + self.start < t1:
            if day % 7 < self.days and day * HOURS_PER_DAY + self.start >= t0:
                n += 1
            day += 1
        return n

    # ------------------------------------------------------------------ weekend cover
    def covers(self, i: int, day: int) -> bool:
        """Whether technician slot i is on the cover rota of `day` (a non-working day).

        The non-working days are numbered m = 0, 1, ... from the start; day m is covered by
        slots m c, m c + 1, ..., m c + c - 1 (mod n), so the rota goes round the crew and
        every slot covers the same number of days, give or take one."""
        off = 7 - self.days
        m = (day // 7) * off + (day % 7 - self.days)
        return (i - m * self.cover) % self.n_tech < self.cover

    def for_tech(self, i: int) -> Calendar | TechShifts:
        """The shifts of technician slot i: this calendar without weekend cover (the crew
        works one pattern), else the working days plus i's cover days."""
        return TechShifts(self, i) if self.cover else self

    def cover_days(self, t0: float, t1: float) -> np.ndarray:
        """Cover shifts starting in [t0, t1) of each technician slot."""
        days = np.zeros(self.n_tech)
        if not self.cover:
            return days
        day = max(0, int(t0 // HOURS_PER_DAY))
        while day * HOURS_PER_DAY + self.start < t1:
            if day % 7 >= self.days and day * HOURS_PER_DAY + self.start >= t0:
                off = 7 - self.days
                m = (day // 7) * off + (day % 7 - self.days)
                for r in range(self.cover):
                    days[(m * self.cover + r) % self.n_tech] += 1.0
            day += 1
        return days

    def non_working(self, t: np.ndarray) -> np.ndarray:
        """Whether each time in `t` falls on a non-working day (a weekend)."""
        return np.floor(t / HOURS_PER_DAY) % 7 >= self.days


class TechShifts:
    """One technician's shifts under weekend cover: the working days' shifts and the cover
    days of its rota (`Calendar.covers`); the technician process asks it when to work."""

    def __init__(self, cal: Calendar, i: int) -> None:
        self.cal, self.i = cal, i
        self.start, self.hours, self.days = cal.start, cal.hours, cal.days

    def _works(self, day: int) -> bool:
        return day % 7 < self.days or self.cal.covers(self.i, day)

    def on_shift_until(self, t: float) -> float | None:
        """The end of the technician's shift `t` falls in, or None if off shift."""
        day = int(t // HOURS_PER_DAY)
        midnight = day * HOURS_PER_DAY
        if self.start <= t - midnight < self.start + self.hours and self._works(day):
            return midnight + self.start + self.hours
        return None

    def next_start(self, t: float) -> float:
        """The start of the technician's next shift strictly after `t`."""
        day = int(t // HOURS_PER_DAY)
        while True:
            s = day * HOURS_PER_DAY + self.start
            if s > t and self._works(day):
                return s
            day += 1
