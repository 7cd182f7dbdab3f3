"""Regions: a company simulated as parts that do not share technicians (docs/model.md,
"Regions").

A scenario may list regions, each with its own technicians and contract accounts and any
overrides of the world's parameters (dotted paths under the sections in `OVERRIDABLE`, e.g.
`workforce.travel_hours_mean: 0.9` for a rural region). The region's scenario is the
company's with the region's headcount and book; the company's billable calls and (numeric)
new accounts are shared out in proportion to the accounts, then the overrides apply.
`sim.config.scenario.region_scenarios` builds and validates them; each region is simulated
apart with draws of its own (`region_seed`) and the KPIs combine exactly
(`sim.metrics.combine`).
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from pydantic import Field

from sim.config.base import ConfigModel

#: The sections a region may override: the world, not the levers or the experiment.
OVERRIDABLE = (
    "customers",
    "jobs",
    "workforce",
    "maintenance",
    "time_and_materials",
    "quality",
    "nps",
)


class Region(ConfigModel):
    technicians: Annotated[int, Field(ge=1)]
    accounts: Annotated[int, Field(ge=1)]
    # dotted path under one of OVERRIDABLE: value (validated with the region's scenario)
    overrides: dict[str, Any] = Field(default_factory=dict)


def region_seed(seed: int, index: int) -> int:
    """The seed of region `index` of a run with `seed`: a child of the run's seed sequence
    (spawn key (index,)), so regions draw apart and a region's numbers do not depend on the
    others, nor on which worker simulates it."""
    ss = np.random.SeedSequence(entropy=seed, spawn_key=(index,))
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
