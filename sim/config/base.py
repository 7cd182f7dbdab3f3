"""Building blocks of the scenario schema: units, number types and the strict base model."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

HOURS_PER_DAY = 24.0
DAYS_PER_YEAR = 365.0

Prob = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]
Pos = Annotated[float, Field(gt=0.0)]


class ConfigModel(BaseModel):
    """Frozen, and rejects unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)
