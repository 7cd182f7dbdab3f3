"""Flat, fixed-schema records the simulation emits (tests pin these names).

Each kind of record has a schema, a named tuple class that gives its field names, types
and meaning once: `Visit`, `Renewal`, `WeekSnapshot` (`VISIT_FIELDS`, `RENEWAL_FIELDS` and
`WEEK_FIELDS` are their `_fields`). The simulation emits plain tuples in these field orders
(`VisitRow`, `RenewalRow`, `WeekRow`): a named tuple is a tuple subclass, which the garbage
collector keeps tracking (plain tuples of numbers it stops tracking), and emitting named
tuples made `simulate` 1-3% slower on the default scenario. Readers take fields by name:
`Visit._make(row).t_done` for one row, `sim.pay.ledger.columns(rows, VISIT_FIELDS)["t_done"]`
for an array per field.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain
from typing import Any, NamedTuple, get_type_hints

import numpy as np


class Visit(NamedTuple):
    """One completed visit (times in hours from the start of the run)."""

    problem: int  # problem (failure) id; all visits for one problem share it
    customer: int  # customer (account) id; -1 for a T&M call (no contract)
    visit_no: int  # 1 for the first visit of a problem, 2.. for repeat visits
    tech: int  # technician id
    job_type: int  # index into scenario.jobs.types (len(types) for a planned visit)
    t_failure: float  # when the problem first occurred
    t_ready: float  # when this visit could be dispatched
    t_start: float  # when the technician was dispatched (left for the site)
    t_arrive: float  # arrival on site: response time = t_arrive - t_ready
    t_done: float  # visit finished
    outcome: int  # OUTCOMES index
    late: int  # 1 if arrival after the SLA deadline
    rushed: int  # 1 if the customer perceived the visit as rushed
    survey: int  # NO_RESPONSE, PASSIVE, PROMOTER or DETRACTOR
    caused_by: int  # technician whose earlier visit made this one necessary, -1 for a first visit
    is_callback: int  # 1 if this visit answers a problem that had been closed as fixed
    next_ready: float  # when the problem's next visit becomes ready (inf if fixed)
    thoroughness: float  # the technician's thoroughness on this visit
    cause: int  # why this visit brings a return visit: CAUSES index, NO_CAUSE if it fixed


class Renewal(NamedTuple):
    """One renewal decision of an active customer."""

    customer: int
    t: float  # the renewal date (h)
    renewed: int  # 1 if the customer renewed, 0 if they churned
    # the term's problems by how they ended (PROBLEM_CLASSES), with the imputed history of a
    # first term (docs/model.md, "Memory"): the counts the decision used
    first_time: int  # fixed at the first visit, on time
    late: int  # fixed at the first visit, which came after the SLA deadline
    after_return: int  # fixed after a return visit (a part, or a failure the customer saw)
    callback: int  # looked fixed and came back, fixed since
    unresolved: int  # still known not fixed at the renewal
    relational: int  # relational survey answer: PASSIVE, PROMOTER or DETRACTOR
    annual_value: float  # the contract's annual value


class WeekSnapshot(NamedTuple):
    """The state at the start of a week (Monday, 00:00)."""

    week: int
    t: float  # h
    active_customers: int
    churned: int  # customers lost so far
    backlog: int  # jobs waiting in the queues
    visits_done: int  # visits completed since the previous snapshot


#: The records as the simulation emits them: plain tuples with the fields of the classes
#: above, in order (tests/test_schema.py checks that the types agree).
VisitRow = tuple[
    int, int, int, int, int, float, float, float, float, float,
    int, int, int, int, int, int, float, float, int,
]  # fmt: skip
RenewalRow = tuple[int, float, int, int, int, int, int, int, int, float]
WeekRow = tuple[int, float, int, int, int, int]

#: Field names of the records, in column order.
VISIT_FIELDS: tuple[str, ...] = Visit._fields
RENEWAL_FIELDS: tuple[str, ...] = Renewal._fields
WEEK_FIELDS: tuple[str, ...] = WeekSnapshot._fields

#: Visit outcomes.
#: A planned visit's outcome is MAINTAINED (it has no fault to fix).
FIXED, PART_MISSING, NOT_FIXED, LOOKED_FIXED, MAINTAINED = 0, 1, 2, 3, 4
OUTCOMES = ("fixed", "part_missing", "not_fixed", "looked_fixed", "maintained")

#: Why a visit brings a return visit (`Visit.cause`; docs/model.md, "Visit outcome"): the
#: part was missing (a first visit); a failed fix the technician would also have failed at
#: standard care (thoroughness 1, the same uniform); a failed fix standard care would have
#: fixed (rushed, ran out of time); anything else (a premature closure). NO_CAUSE: it fixed.
NO_CAUSE, PARTS, SKILL, TIME, OTHER = -1, 0, 1, 2, 3
CAUSES = ("parts", "skill", "time", "other")

#: How a contract problem ended, as its customer judges it at renewal (docs/model.md,
#: "Memory"): the `Renewal` count fields, and `customers.churn_per_problem`'s keys.
FIRST_TIME, LATE, AFTER_RETURN, CALLBACK, UNRESOLVED = 0, 1, 2, 3, 4
PROBLEM_CLASSES = ("first_time", "late", "after_return", "callback", "unresolved")
#: The classes counted over the term as problems end (all but UNRESOLVED, a state at the
#: renewal): those the history before the run imputes.
TERM_CLASSES = PROBLEM_CLASSES[:UNRESOLVED]

#: Transactional survey answers.
NO_RESPONSE, PASSIVE, PROMOTER, DETRACTOR = -1, 0, 1, 2


class RecordLog:
    """An append-only log of fixed-schema records, kept compactly (docs/performance.md,
    "Memory").

    The simulation appends plain tuples (`append` is the list's own, so the hot path costs
    what a list append costs); `compact()` moves them into a 2-D float64 array (a chunk), 8
    bytes a field instead of a tuple of Python numbers (~240 bytes a visit). The model
    compacts once a simulated week and at the end. Readers take columns
    (`columns(start)`: one read-only array per field, of the records from `start`) or, for
    a few, rows: `len`, indexing, slicing and iteration give tuples with the schema's int
    fields as ints, as appended.
    """

    def __init__(self, fields: tuple[str, ...], ints: tuple[str, ...]) -> None:
        self.fields = fields
        self._ints = tuple(f in ints for f in fields)
        self._rows: list[tuple] = []
        self._chunks: list[np.ndarray] = []
        self._n = 0  # records in the chunks
        self.append = self._rows.append

    def __getstate__(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if k != "append"}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self.append = self._rows.append

    def __len__(self) -> int:
        return self._n + len(self._rows)

    def __eq__(self, other: object) -> bool:
        """Equal records (to another log, or to a list of tuples)."""
        if isinstance(other, RecordLog):
            return self.fields == other.fields and np.array_equal(
                self.array(), other.array(), equal_nan=True
            )
        if isinstance(other, list):
            return list(self) == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def compact(self) -> None:
        """Move the appended tuples into a chunk."""
        rows = self._rows
        if rows:
            m = len(self.fields)
            a = np.fromiter(chain.from_iterable(rows), dtype=float, count=len(rows) * m)
            a = a.reshape(len(rows), m)
            a.flags.writeable = False
            self._chunks.append(a)
            self._n += len(rows)
            rows.clear()

    def array(self, start: int = 0) -> np.ndarray:
        """The records from `start` as one float array [record, field] (read-only)."""
        self.compact()
        if len(self._chunks) > 1 and start == 0:
            whole = np.concatenate(self._chunks)
            whole.flags.writeable = False
            self._chunks = [whole]
        pieces, at = [], 0
        for c in self._chunks:
            if at + len(c) > start:
                pieces.append(c[max(0, start - at) :])
            at += len(c)
        if not pieces:
            return np.empty((0, len(self.fields)))
        return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)

    def columns(self, start: int = 0) -> dict[str, np.ndarray]:
        """One array per field of the records from `start` (read-only views)."""
        a = self.array(start)
        return {f: a[:, k] for k, f in enumerate(self.fields)}

    def _row(self, values: np.ndarray) -> tuple:
        return tuple(int(x) if i else float(x) for x, i in zip(values.tolist(), self._ints))

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                return [self[i] for i in range(start, stop, step)]
            return [self._row(r) for r in self.array(start)[: max(0, stop - start)]]
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError("record index out of range")
        if index >= self._n:
            return self._rows[index - self._n]
        at = 0
        for c in self._chunks:
            if index < at + len(c):
                return self._row(c[index - at])
            at += len(c)
        raise IndexError(index)  # pragma: no cover

    def __iter__(self) -> Iterator[tuple]:
        for c in self._chunks:
            for values in c:
                yield self._row(values)
        yield from list(self._rows)


def visit_log() -> RecordLog:
    """An empty log of `Visit` records."""
    ints = tuple(f for f, t in get_type_hints(Visit).items() if t is int)
    return RecordLog(VISIT_FIELDS, ints)
