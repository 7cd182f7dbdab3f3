"""The shift calendar: when technicians work (docs/model.md section 3).

One shift pattern for the whole workforce: `days_per_week` days from Monday (day 0 is a
Monday), `shift_hours` from `shift_start_hour`; 24 hours on 7 days means always on shift.
The model asks it whether a technician may start a job, the KPIs how many shift days a
period holds (for day and hour pay).
"""

from __future__ import annotations

import math

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

    def on_shift(self, t: float) -> bool:
        if self.always:
            return True
        day = int(t // HOURS_PER_DAY)
        h = t - day * HOURS_PER_DAY
        return day % 7 < self.days and self.start <= h < self.start + self.hours

    def on_shift_until(self, t: float) -> float | None:
        """The end of the shift `t` falls in (infinite if always on shift), or None if `t`
        is off shift: `on_shift` and `shift_end` at once, for the technician's loop."""
        if self.always:
            return math.inf
        day = int(t // HOURS_PER_DAY)
        midnight = day * HOURS_PER_DAY
        if day % 7 < self.days and self.start <= t - midnight < self.start + self.hours:
            return midnight + self.start + self.hours
        return None

    def next_start(self, t: float) -> float:
        """The start of the next shift strictly after `t` (or `t` itself if always on)."""
        if self.always:
            return t
        day = int(t // HOURS_PER_DAY)
        while True:
            s = day * HOURS_PER_DAY + self.start
            if s > t and day % 7 < self.days:
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
