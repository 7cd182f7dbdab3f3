"""Building blocks of the scenario schema: units, number types and the strict base model.

Every model is strict (`ConfigModel`): a number field takes a number, never true/false or a
string; a whole-number field (a count) takes a whole number, never 2.5 or 2.0; a float
field takes only finite values (`.inf` and `.nan` are refused). The YAML side (duplicate
keys, nesting depth, size of numbers) is checked in `sim.config.load`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

HOURS_PER_DAY = 24.0
DAYS_PER_YEAR = 365.0

Prob = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]
Pos = Annotated[float, Field(gt=0.0)]


class ConfigModel(BaseModel):
    """Frozen, strict (no bool for numbers, whole numbers for counts, finite floats only),
    and rejects unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


def check_shares(field: str, one: str, shares: Iterable[float]) -> None:
    """The shares of a group (contract tiers, job types): at least one `one`, adding up to 1
    (to 1e-6); ValueError naming `field` otherwise."""
    shares = list(shares)
    if not shares:
        raise ValueError(f"{field}: at least one {one} is required")
    total = sum(shares)
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"{field}: shares must add up to 1 (they add up to {total:g})")
