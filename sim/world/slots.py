"""Each problem's pre-drawn visit numbers, held compactly.

A problem has `VISIT_SLOTS` visit slots, each with nine numbers (`FIELDS`: on-site hours,
travel, and the uniforms and callback delay of the visit's outcome). Drawn eagerly they
were nine float arrays [problem, slot], 432 bytes a problem, of which most problems use one
slot (about 85% of visits are first visits, and most of the rest second ones). So only the
first slot is kept, as nine float arrays [problem]; the later slots are drawn again when a
visit needs them, from each generator's state saved at the start of the block of
`BLOCK` problems, and the blocks drawn last are kept (`CACHED`).

The numbers are the same as drawn eagerly, bit for bit: every field's generator draws its
numbers in the same order (fields in `DRAW_ORDER`, each over the problems in order, each
problem's slots in order), and each of numpy's samplers used here (standard normal,
standard exponential, uniform) takes its numbers from the bit stream one value at a time,
so a block drawn on its own from the state saved at its start gives the values it gave in
the one long draw. tests/test_slots.py checks this against the eager draw.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.config.base import HOURS_PER_DAY
from sim.config.scenario import Scenario
from sim.world.distributions import draw_duration, lognormal
from sim.world.views import float_view

#: Visits per problem with pre-drawn numbers; later visits draw from the "extra" stream.
VISIT_SLOTS = 6
#: The numbers of a visit, in the order `Slots.visit` returns them.
FIELDS = (
    "duration",  # base on-site hours (before thoroughness)
    "travel",  # travel hours
    "part_u",  # whether the part is on the van
    "fix_u",  # whether the visit fixes the problem
    "detect_u",  # whether a failed fix is noticed
    "callback_delay_h",  # hours before an unnoticed failed fix comes back
    "rushed_u",  # whether the customer feels rushed
    "survey_u",  # whether the customer answers the survey
    "score_u",  # the survey's answer
)
#: The order the fields are drawn in (a generator shared by fields draws them in this order).
DRAW_ORDER = (
    "duration",
    "travel",
    "callback_delay_h",
    "part_u",
    "fix_u",
    "detect_u",
    "rushed_u",
    "survey_u",
    "score_u",
)
#: Problems per block of saved generator states.
BLOCK = 2048
#: Days of problems whose blocks are kept once drawn again: 99% of later visits come within
#: 33 days of the failure in hvac (docs/performance.md, section 2), so a block is drawn
#: again about once. Only speed depends on it, never a number.
CACHE_DAYS = 45

Visit = tuple[float, float, float, float, float, float, float, float, float]


@dataclass(frozen=True)
class _Segment:
    """Problems [start, stop) whose slots were drawn by generators (states is None: a
    planned visit's single slot, given)."""

    start: int
    stop: int
    jtype: np.ndarray  # the problems' job types (the on-site mean and CV)
    states: dict[str, list[Mapping[str, Any]]] | None  # field -> the state before each block


@dataclass(eq=False)
class Slots:
    """The visit numbers of every problem: slot 0 kept, the later slots drawn again on
    demand from the saved generator states (see the module docstring). Compared by
    identity: compare `full(name)` for the numbers."""

    distribution: str  # jobs.duration_distribution
    onsite_mean: np.ndarray  # per job type
    onsite_cv: np.ndarray
    travel_mean: float
    travel_cv: float
    callback_mean_h: float
    keep: int = 8  # blocks kept once drawn again (`keep_days`)
    redraws: int = 0  # blocks drawn again (for the benchmarks)
    segments: list[_Segment] = field(default_factory=list)
    # field -> slot 0 of every problem, in pieces as appended (joined by `first_slot`)
    _first: dict[str, list[np.ndarray]] = field(
        default_factory=lambda: {f: [] for f in FIELDS}, repr=False
    )
    _cache: OrderedDict[tuple[int, int], tuple[memoryview[float], ...]] = field(
        default_factory=OrderedDict, repr=False, compare=False
    )
    _scratch: np.random.Generator | None = field(default=None, repr=False, compare=False)

    @classmethod
    def for_scenario(cls, scenario: Scenario) -> Slots:
        jobs, wf = scenario.jobs, scenario.workforce
        types = list(jobs.types.values())
        return cls(
            distribution=jobs.duration_distribution,
            onsite_mean=np.array([t.onsite_hours_mean for t in types]),
            onsite_cv=np.array([t.onsite_hours_cv for t in types]),
            travel_mean=wf.travel_hours_mean,
            travel_cv=wf.travel_hours_cv,
            callback_mean_h=jobs.callback_delay_mean_days * HOURS_PER_DAY,
        )

    def __len__(self) -> int:
        return self.segments[-1].stop if self.segments else 0

    def draw(self, generators: dict[str, np.random.Generator], jtype: np.ndarray) -> None:
        """Append problems of job types `jtype`, every slot drawn from the generator of its
        field in `generators`; keep slot 0 and each generator's state before each block."""
        start = len(self)
        states: dict[str, list[Mapping[str, Any]]] = {}
        for f in DRAW_ORDER:
            rng, saved, col = generators[f], [], np.empty(len(jtype))
            for a in range(0, len(jtype), BLOCK):
                saved.append(rng.bit_generator.state)
                col[a : a + BLOCK] = self._field(f, rng, jtype[a : a + BLOCK])[:, 0]
            states[f] = saved
            self._first[f].append(col)
        self.segments.append(_Segment(start, start + len(jtype), np.asarray(jtype), states))

    def given(self, duration: np.ndarray, travel: np.ndarray) -> None:
        """Append problems with one slot of the given on-site hours and travel (planned
        visits); their other numbers, and their later slots, are zero."""
        start, n = len(self), len(duration)
        for f in FIELDS:
            col = duration if f == "duration" else travel if f == "travel" else np.zeros(n)
            self._first[f].append(np.asarray(col, dtype=float))
        self.segments.append(_Segment(start, start + n, np.zeros(n, dtype=int), None))

    def keep_days(self, days: float, horizon_days: float) -> None:
        """Keep the blocks of `days` days of problems (at their mean rate over the run)."""
        per_day = len(self) / horizon_days if horizon_days > 0 else len(self)
        self.keep = math.ceil(per_day * days / BLOCK) + 2 * len(self.segments)

    def first_slot(self) -> dict[str, np.ndarray]:
        """Field -> slot 0 of every problem."""
        for pieces in self._first.values():
            if len(pieces) != 1:
                pieces[:] = [np.concatenate(pieces) if pieces else np.zeros(0)]
        return {f: pieces[0] for f, pieces in self._first.items()}

    def visit(self, p: int, k: int) -> Visit:
        """The numbers of slot k (1 <= k < VISIT_SLOTS) of problem p, in `FIELDS` order."""
        s, seg = self._segment(p)
        if seg.states is None:
            return (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        b, r = divmod(p - seg.start, BLOCK)
        views = self._cache.get((s, b))
        if views is None:
            views = self._redraw(s, b)
        else:
            self._cache.move_to_end((s, b))
        d, t, pu, fu, du, cb, ru, su, sc = views
        return (d[r, k], t[r, k], pu[r, k], fu[r, k], du[r, k], cb[r, k], ru[r, k],
                su[r, k], sc[r, k])  # fmt: skip

    def full(self, name: str) -> np.ndarray:
        """Every slot of every problem of one field, [problem, slot] (for tests and
        checks: this is the eager draw's memory)."""
        out = np.zeros((len(self), VISIT_SLOTS))
        for seg in self.segments:
            if seg.states is None:
                out[seg.start : seg.stop, 0] = self.first_slot()[name][seg.start : seg.stop]
                continue
            for b, a in enumerate(range(seg.start, seg.stop, BLOCK)):
                rng = self._at(seg.states[name][b])
                out[a : min(a + BLOCK, seg.stop)] = self._field(name, rng, self._rows(seg, b))
        return out

    def _segment(self, p: int) -> tuple[int, _Segment]:
        for s, seg in enumerate(self.segments):
            if p < seg.stop:
                return s, seg
        raise IndexError(f"problem {p} of {len(self)}")

    def _rows(self, seg: _Segment, b: int) -> np.ndarray:
        return seg.jtype[b * BLOCK : (b + 1) * BLOCK]

    def _at(self, state: Mapping[str, Any]) -> np.random.Generator:
        if self._scratch is None:
            self._scratch = np.random.Generator(np.random.PCG64(0))
        self._scratch.bit_generator.state = state
        return self._scratch

    def _redraw(self, s: int, b: int) -> tuple[memoryview[float], ...]:
        """Block b of segment s drawn again, every field, kept in the cache."""
        seg = self.segments[s]
        assert seg.states is not None
        rows = self._rows(seg, b)
        drawn = {f: self._field(f, self._at(seg.states[f][b]), rows) for f in DRAW_ORDER}
        views = tuple(float_view(drawn[f]) for f in FIELDS)
        self._cache[(s, b)] = views
        self.redraws += 1
        if len(self._cache) > self.keep:
            self._cache.popitem(last=False)
        return views

    def _field(self, name: str, rng: np.random.Generator, jtype: np.ndarray) -> np.ndarray:
        """Every slot of problems of job types `jtype`, of one field, drawn from `rng`."""
        shape = (len(jtype), VISIT_SLOTS)
        if name == "duration":
            mean, cv = self.onsite_mean[jtype][:, None], self.onsite_cv[jtype][:, None]
            return draw_duration(rng, self.distribution, mean, cv, shape)
        if name == "travel":
            if self.travel_mean > 0 and self.travel_cv > 0:
                return lognormal(rng, self.travel_mean, self.travel_cv, shape)
            return np.full(shape, self.travel_mean)
        if name == "callback_delay_h":
            return rng.exponential(self.callback_mean_h, shape)
        return rng.random(shape)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_cache"], state["_scratch"] = OrderedDict(), None  # views do not pickle
        return state
