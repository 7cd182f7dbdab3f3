"""The model's unsourced assumptions, each with a plausible range and why (the registry).

One home for what `techsim whatif` screens (`sim.sweep.whatif`), what the report's "What
would change this conclusion" lists (`sim.report.whatif`) and the table of docs/model.md
section 12, "What would change the answer" (a test checks that table against this one).
An entry names a scenario field by its sweep path (`techsim sweep -p PATH=lo:hi`), the
range a careful reader would still call plausible, and one line saying why that range.

A range is absolute (`low`, `high` in the field's units) or relative to the scenario's own
value (`relative=True`, REL in a row: `low` and `high` are factors), so a scenario with
other prices or volumes than hvac gets a range around its own numbers.

Adding an assumption is adding one row to `_ROWS` (`Assumption`'s arguments). Fields
change while the model grows (other branches add churn, sorting and referral parameters), so
nothing here assumes a path exists: `resolve` checks each against the scenario at run time
and returns the ones it cannot screen, with the reason, instead of failing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

#: A path's value as a number, or why it cannot be screened.
_MISSING = object()


@dataclass(frozen=True)
class Assumption:
    """A scenario field without a public source: its plausible range and why."""

    path: str
    low: float
    high: float
    why: str
    relative: bool = False  # low and high are factors of the scenario's value

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise ValueError(f"{self.path}: the range needs finite low < high")
        if self.relative and self.low <= 0:
            raise ValueError(f"{self.path}: a relative range needs factors > 0")

    def range_text(self) -> str:
        """ "0.2 to 0.6", or "x0.5 to x1.5 of the scenario's value"."""
        if self.relative:
            return f"x{self.low:.3g} to x{self.high:.3g} of the scenario's value"
        return f"{self.low:g} to {self.high:g}"


@dataclass(frozen=True)
class Resolved:
    """An assumption resolved against one scenario: the range in the field's units."""

    path: str
    low: float
    high: float
    base: float
    kind: str  # "int" or "float": the field's type
    why: str
    relative: bool = False

    def contains_base(self) -> bool:
        return self.low <= self.base <= self.high


#: A row of the registry: `Assumption`'s arguments, (path, low, high, why), with REL last
#: for a relative range.
Row = tuple[str, float, float, str] | tuple[str, float, float, str, bool]
#: The mark of a relative range: `low` and `high` are factors of the scenario's value.
REL = True
#: The tiers of the bundled scenarios (a scenario without one skips its entries).
_TIERS = ("gold", "silver", "bronze")


def _tiers(field: str, low: float, high: float, why: str) -> tuple[Row, ...]:
    """The same relative range of `field` for each of the bundled scenarios' tiers."""
    return tuple((f"customers.tiers.{t}.{field}", low, high, why, REL) for t in _TIERS)


def _sharing(why: str, *ranges: tuple[str, float, float]) -> tuple[Row, ...]:
    """Rows with one reason for their ranges: (path, low, high) each."""
    return tuple((path, low, high, why) for path, low, high in ranges)


#: Every unsourced assumption the what-if analysis screens, with its plausible range.
#: Sourced values (churn after a problem fixed first time, after a return visit and left
#: unresolved, the job mix, shift patterns) are not here;
#: nor are bounds and switches that are off in the bundled scenarios (learning, gaming,
#: attrition), which cannot change a comparison they are not part of.
_ROWS: tuple[Row, ...] = (
    # customers and contracts
    ("customers.failures_per_year", 0.7, 1.4,
     "no failure data for maintained equipment; up to the schema default 1.4 a year, at "
     "which repairs alone keep a workforce ~70% utilised", REL),
    *_tiers("annual_value", 0.5, 1.5,
            "no public price list for this mix of equipment and coverage: half to 1.5 times"),
    *_tiers("planned_visits_per_year", 0.5, 1.5,
            "tune-ups per plan are a product choice (twice a year is the common HVAC plan)"),
    *_tiers("sla_hours", 0.5, 2.0,
            "response targets are contract terms that differ by firm: half to twice"),
    # how customers judge a problem at renewal (SQM's 5 / 9 / 25% are sourced; these are not)
    ("customers.churn_per_problem.late", 0.0, 0.1,
     "a first-visit fix after the SLA deadline: SQM has no figure; from none to twice a "
     "two-contact problem's 4.2%"),
    ("customers.churn_per_problem.callback", 0.042, 0.3,
     "a problem that looked fixed and came back: SQM has no figure; from a two-contact "
     "problem's 4.2% to more than an unresolved one's 21%"),
    # survey answers
    *_sharing("chosen to give NPS of +20 to +50 (commonly cited for B2B field service); no "
              "survey data", ("nps.promoter", 0.45, 0.75), ("nps.detractor", 0.05, 0.2)),
    ("nps.unresolved_shift", 0.2, 0.6,
     "how much an unresolved problem moves a survey answer: no data; +-50%"),
    ("nps.repeat_shift", 0.1, 0.3, "the same for a repeat visit: no data; +-50%"),
    ("nps.late_shift", 0.05, 0.25, "the same for a late arrival: no data"),
    *_sharing("renewal-survey odds: no data; they move only the relational NPS",
              ("nps.relational_promoter", 0.4, 0.7), ("nps.relational_detractor", 0.05, 0.2),
              ("nps.relational_bad_shift", 0.05, 0.25)),
    # quality of work
    ("quality.skill_effect", 0.2, 0.6, "fix probability per unit of skill: no data; +-50% of 0.4"),
    ("quality.thoroughness_curvature", 2.0, 6.0,
     "the speed-quality trade-off's shape: 30% less time costs 13% (k = 2) to 1% (k = 6) of "
     "fixes; Hill & Beatty 2024's pickers give k ~ 4"),
    ("quality.detect_prob", 0.4, 0.8,
     "how often a technician notices a failed fix at normal care: no data"),
    ("quality.detect_slope", 0.4, 1.2, "how much care raises that: no data; +-50%"),
    # workforce
    ("workforce.skill_mean", 0.6, 0.8, "skill is a model scale, not a measurement"),
    ("workforce.skill_sd", 0.06, 0.18, "the spread of that scale: +-50%"),
    ("workforce.cost_per_visit", 2 / 3, 2.0,
     "TSIA puts a truck roll at $150-500 with the technician's time, which the margin "
     "charges apart: two thirds to twice", REL),
    ("workforce.labour_overhead", 0.3, 0.55,
     "BLS ECEC: benefits ~30% of compensation (0.43 on wages); lean to generous"),
    ("workforce.max_overtime_hours", 0.5, 2.0,
     "a dispatcher's rule of thumb: half an hour to two hours past the shift end"),
    # technician behaviour
    ("behaviour.effort_cost_per_hour", 15.0, 60.0,
     "the cost of working to another standard than one's habit: no data"),
    ("behaviour.intrinsic_weight", 0.0, 0.3,
     "the weight technicians put on customer outcomes: none to three times 0.1"),
    ("behaviour.customer_value_per_fix", 50.0, 200.0,
     "what a fix is worth to a technician who cares: half to twice $100"),
    ("behaviour.expected_return_wait_hours", 4.0, 24.0,
     "a return visit's expected wait; matters only when a scheme prices downtime"),
    ("behaviour.pace.effort_cost_per_hour", 7.0, 15.0,
     "calibrated to a +20-25% piece-rate pace (Shearer 2004: +20%); 8 to 12 moves the "
     "jobs-per-day pace from 1.33 to 1.16"),
    ("behaviour.pace.elasticity", 0.25, 1.0,
     "how strongly pace answers the rate: no data; half to twice 0.5"),
    ("behaviour.pace.skill_effect", 1.0, 3.0,
     "how much cheaper pace is for the skilled: no data; +-50% of 2"),
    # planned maintenance
    ("maintenance.failure_effect", 0.1, 0.5,
     "failures a planned visit prevents: DOE FEMP reports fewer breakdowns, with no figure "
     "for HVAC contracts"),
    ("maintenance.window_days", 0.5, 2.0, "how early or late a tune-up may be: no data", REL),
    ("maintenance.onsite_hours_mean", 2 / 3, 5 / 3, "a tune-up's duration: no data", REL),
    ("maintenance.onsite_hours_cv", 0.5, 2.0, "its spread: no data; half to twice", REL),
    # billable calls
    ("time_and_materials.jobs_per_day", 0.5, 2.0,
     "billable demand beyond the contracts: no data; half to twice", REL),
    ("time_and_materials.revenue_per_job", 2 / 3, 1.5,
     "a flat-rate call's price: no public price list (hvac: $200 to $450)", REL),
    ("time_and_materials.patience_days", 0.5, 2.5,
     "how long a caller waits before calling a competitor: no data", REL),
)  # fmt: skip
#: The registry: one `Assumption` per row.
ASSUMPTIONS: tuple[Assumption, ...] = tuple(Assumption(*row) for row in _ROWS)


def registry(paths: list[str] | None = None) -> list[Assumption]:
    """The registry's entries, or those of `paths` in that order (KeyError on an unknown
    path: the caller says it is not in the registry)."""
    if paths is None:
        return list(ASSUMPTIONS)
    by_path = {a.path: a for a in ASSUMPTIONS}
    return [by_path[p] for p in paths]


def value_at(data: dict[str, Any], path: str) -> Any:
    """The value at a dotted path of a scenario dict, or `_MISSING`."""
    cur: Any = data
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return _MISSING
        cur = cur[part]
    return cur


def resolve(
    assumptions: list[Assumption], data: dict[str, Any]
) -> tuple[list[Resolved], list[tuple[str, str]]]:
    """The assumptions that can be screened in the scenario `data` (its `model_dump`), with
    their ranges in the field's units, and the others as (path, why not)."""
    ok: list[Resolved] = []
    skipped: list[tuple[str, str]] = []
    for a in assumptions:
        v = value_at(data, a.path)
        if v is _MISSING:
            skipped.append((a.path, "not a field of this scenario"))
            continue
        if v is None:
            skipped.append((a.path, "not set in this scenario"))
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            skipped.append((a.path, f"not a number in this scenario ({v!r})"))
            continue
        base = float(v)
        lo, hi = (a.low * base, a.high * base) if a.relative else (a.low, a.high)
        kind = "int" if isinstance(v, int) else "float"
        if kind == "int":
            lo, hi = float(round(lo)), float(round(hi))
        if not lo < hi:
            why = "0 in this scenario, so a range relative to it is empty"
            skipped.append((a.path, why if base == 0 else "its range is empty here"))
            continue
        ok.append(Resolved(a.path, lo, hi, base, kind, a.why, a.relative))
    return ok, skipped
