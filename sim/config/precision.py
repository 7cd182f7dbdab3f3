"""Precision on demand (`precision:` in a scenario, `techsim run --precision`): how precise
each paired difference must be before a run stops adding replications.

A target is a KPI and the largest 95% CI half-width its paired difference against the
baseline may have, under every scheme: `margin=20000`, `first_time_fix_rate=0.5pts`
(percentage points: 0.005 of a share). Half-widths are absolute, in the KPI's own units,
never relative to a mean: a margin difference near zero is exactly the one that needs it.
The run starts with `min_replications` and adds replications in rounds until every target
is met or `max_replications` is reached (`sim.experiment.precision`, docs/model.md section
14). Which names are KPIs is checked when the run starts (`sim.experiment.precision
.check_targets`; config may not import the KPI catalogue).
"""

from __future__ import annotations

import math
import re
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from sim.config.base import ConfigModel

#: `pts` after a number: percentage points of a share (0.5pts = 0.005).
_HALF_WIDTH = re.compile(r"^\s*(?P<num>(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)\s*(?P<pts>pts)?\s*$")
#: A KPI name as a runs.csv column spells it.
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: The words that turn precision off (`--precision off`).
OFF = ("off", "none")


def parse_half_width(value: object) -> float:
    """A half-width: a positive number, or a string `<number>` or `<number>pts`; ValueError
    saying what is wrong otherwise (the caller names the input)."""
    if isinstance(value, bool):
        raise ValueError(f"must be a positive number or '<number>pts' (got {value!r})")
    if isinstance(value, int | float):
        x = float(value)
    elif isinstance(value, str):
        m = _HALF_WIDTH.match(value)
        if m is None:
            raise ValueError(f"must be a positive number or '<number>pts' (got {value!r})")
        x = float(m["num"]) / (100.0 if m["pts"] else 1.0)
    else:
        raise ValueError(f"must be a positive number or '<number>pts' (got {value!r})")
    if not (math.isfinite(x) and x > 0.0):
        raise ValueError(f"must be a positive, finite half-width (got {value!r})")
    return x


def parse_targets(text: str) -> dict[str, float]:
    """`KPI=HALFWIDTH[,KPI=HALFWIDTH...]` (the --precision option) as {kpi: half-width};
    {} for `off` or `none`; ValueError with one line otherwise."""
    return {k: parse_half_width(v) for k, v in split_targets(text).items()}


def split_targets(text: str) -> dict[str, str]:
    """`KPI=HALFWIDTH[,...]` as {kpi: half-width as written}, each checked (`parse_targets`)."""
    if text.strip().lower() in OFF:
        return {}
    targets: dict[str, str] = {}
    for item in text.split(","):
        if "=" not in item:
            raise ValueError(
                f"{item.strip()!r}: expected KPI=HALFWIDTH, e.g. margin=20000 or "
                "first_time_fix_rate=0.5pts"
            )
        name, value = (s.strip() for s in item.split("=", 1))
        if not _NAME.match(name):
            raise ValueError(f"{name!r}: not a KPI name")
        if name in targets:
            raise ValueError(f"{name}: given twice")
        try:
            parse_half_width(value)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
        targets[name] = value
    return targets


class Precision(ConfigModel):
    """Replications until every target is met (none: the scenario's fixed `replications`)."""

    # KPI -> the largest acceptable 95% CI half-width of its paired difference, as written
    # (a number, or "<number>pts"; `half_widths` has the numbers)
    targets: dict[str, float | str] = Field(default_factory=dict)
    min_replications: Annotated[int, Field(ge=3)] = 5  # the first round
    max_replications: Annotated[int, Field(ge=3)] = 100  # the cap

    @field_validator("targets", mode="before")
    @classmethod
    def _targets(cls, v: object) -> object:
        if not isinstance(v, dict):
            return v
        for name, value in v.items():
            if not isinstance(name, str) or not _NAME.match(name):
                raise ValueError(f"{name!r}: not a KPI name")
            try:
                parse_half_width(value)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
        return v

    @model_validator(mode="after")
    def _check(self) -> Precision:
        if self.max_replications < self.min_replications:
            raise ValueError(
                f"max_replications ({self.max_replications}) must be at least "
                f"min_replications ({self.min_replications})"
            )
        return self

    @property
    def half_widths(self) -> dict[str, float]:
        """The targets as numbers (points turned into shares)."""
        return {k: parse_half_width(v) for k, v in self.targets.items()}

    @property
    def on(self) -> bool:
        return bool(self.targets)
