"""The applicants for a vacancy under selective hiring (docs/model.md, "Sorting").

With `attrition.hiring: selective` a vacancy is offered to applicants one after the other,
in a fixed order, until one accepts (`sim.behaviour.sorting`, `sim.model.dynamics`). Who
applies, and in which order, is drawn here per technician slot and hire, independent of the
scheme, so every scheme of a replication sees the same applicants in the same order
(common random numbers): the scheme only changes who accepts.

Applicant 0 of each hire is the replacement that `hiring: random` takes
(`World.hire_skill`, `World.hire_intrinsic`), so a scheme that every applicant accepts hires
exactly the technicians random hiring does. The later applicants come from the "hiring"
stream's child sequence for (slot, hire) (`sim.world.rng.substream`): the stream's own
draws do not move, and a slot's applicants do not depend on how many other vacancies were
filled. Skills are drawn like the first workforce's (Normal(skill_mean, skill_sd) clipped to
[0.05, 1]), intrinsic weights like the replacements' (`behaviour.intrinsic_weight_dist`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.config.scenario import Scenario
from sim.world.draws import World, draw_intrinsic
from sim.world.rng import substream


@dataclass(frozen=True)
class Applicants:
    """The applicants for one hire of one slot, in the order they are asked."""

    skill: list[float]
    intrinsic: list[float]


def max_rounds(scenario: Scenario) -> int:
    """Rounds of applicants a vacancy can go through before the horizon: the first round
    comes after the hiring lag, each further one a lag later."""
    return math.ceil(scenario.horizon_days / scenario.attrition.hiring_lag_days) + 1


def applicants(scenario: Scenario, world: World, slot: int, hire: int) -> Applicants:
    """The applicants for hire number `hire` (0, 1, ...) of technician slot `slot`:
    `max_applicants` per round, for as many rounds as the run can hold (computed once per
    world, in `World.cache`, and shared by every scheme)."""
    key = ("applicants", slot, hire)
    found = world.cache.get(key)
    if found is not None:
        return found
    if world.hire_skill is None or world.hire_intrinsic is None:
        raise ValueError(
            "applicants: the world was built without attrition; build it with "
            "sim.world.draws.build_world(this scenario)"
        )
    wf = scenario.workforce
    h = min(hire, world.hire_skill.shape[1] - 1)
    n = scenario.attrition.max_applicants * max_rounds(scenario) - 1
    rng = substream(world.seed, world.replication, "hiring", slot, hire)
    skill = np.clip(rng.normal(wf.skill_mean, wf.skill_sd, size=n), 0.05, 1.0)
    lam = draw_intrinsic(scenario, rng, n)
    found = Applicants(
        [float(world.hire_skill[slot, h]), *skill.tolist()],
        [float(world.hire_intrinsic[slot, h]), *np.asarray(lam, dtype=float).tolist()],
    )
    world.cache[key] = found
    return found
