"""Pay schemes (levers): each type's parameters, validated on entry.

`sim.pay.formula.formula` turns any of them into a linear pay formula."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from sim.config.base import ConfigModel, NonNeg, Prob


# --------------------------------------------------------------------------- schemes (levers)
class _Scheme(ConfigModel):
    label: str | None = None


class HourlyScheme(_Scheme):
    type: Literal["hourly"]
    per_hour: NonNeg = 30.0


class JobsPerDayScheme(_Scheme):
    type: Literal["jobs_per_day"]
    base_per_day: NonNeg = 100.0
    per_visit: NonNeg = 45.0


class OutcomeWeightedScheme(_Scheme):
    type: Literal["outcome_weighted"]
    base_per_day: NonNeg = 160.0
    per_first_time_fix: NonNeg = 40.0
    clawback_per_repeat_visit: NonNeg = 20.0
    clawback_per_callback: NonNeg = 30.0
    per_promoter: NonNeg = 10.0
    # the uptime term (docs/model.md, "Uptime"): off unless set
    clawback_per_downtime_hour: NonNeg = 0.0
    retained_value_share: Prob = 0.0


class HybridScheme(_Scheme):
    type: Literal["hybrid"]
    weight: Prob = 0.5
    # a YAML list [a, b]: the one field that takes a list for a tuple (strict=False)
    between: Annotated[tuple[str, str], Field(strict=False)] = ("jobs_per_day", "outcome_weighted")


class CustomScheme(_Scheme):
    """Any linear pay formula: the coefficient of every pay term, signed."""

    type: Literal["custom"]
    base_per_day: float = 0.0
    per_hour: float = 0.0
    per_visit: float = 0.0
    per_first_time_fix: float = 0.0
    per_repeat_visit: float = 0.0
    per_callback: float = 0.0
    per_promoter: float = 0.0
    per_detractor: float = 0.0
    per_downtime_hour: float = 0.0
    retained_value_share: float = 0.0


Scheme = Annotated[
    HourlyScheme | JobsPerDayScheme | OutcomeWeightedScheme | HybridScheme | CustomScheme,
    Field(discriminator="type"),
]


def _default_schemes() -> dict[str, Any]:
    return {
        "jobs_per_day": JobsPerDayScheme(type="jobs_per_day"),
        "outcome_weighted": OutcomeWeightedScheme(type="outcome_weighted"),
    }
