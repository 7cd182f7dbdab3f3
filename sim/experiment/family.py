"""The scheme family `techsim optimise` searches (`sim.experiment.optimise`): its template,
the coefficients searched and their bounds, and a candidate formula as a scheme of the
scenario.

The template is the scenario's first scheme of the family's type, else the type's defaults;
a candidate is the template with the searched coefficients replaced, simulated as one more
scheme of the scenario (`CANDIDATE`), so it is validated as any scheme is.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sim.config.load import scenario_from_dict, scenario_to_dict
from sim.config.scenario import Scenario
from sim.config.schemes import (
    CustomScheme,
    HourlyScheme,
    HybridScheme,
    JobsPerDayScheme,
    OutcomeWeightedScheme,
)

#: The scheme types whose coefficients can be searched.
FAMILIES = {
    "hourly": HourlyScheme,
    "jobs_per_day": JobsPerDayScheme,
    "outcome_weighted": OutcomeWeightedScheme,
    "hybrid": HybridScheme,
    "custom": CustomScheme,
}
#: The name the candidate scheme has in the scenarios it is simulated in.
CANDIDATE = "optimised"


class OptimiseError(ValueError):
    """A family, a bound or a limit that cannot be searched: one line saying which."""


@dataclass(frozen=True)
class Bound:
    """A searched coefficient and its range."""

    name: str
    low: float
    high: float


def template(scenario: Scenario, family: str) -> dict[str, Any]:
    """The family's template: the scenario's first scheme of that type, else its defaults."""
    if family not in FAMILIES:
        raise OptimiseError(f"{family!r} is not a scheme type ({', '.join(FAMILIES)})")
    for s in scenario.schemes.values():
        if s.type == family:
            return s.model_dump(mode="python", exclude={"label"})
    return FAMILIES[family](type=family).model_dump(mode="python", exclude={"label"})


def default_bounds(
    scenario: Scenario, family: str, given: dict[str, tuple[float, float]]
) -> list[Bound]:
    """The searched coefficients: those given (`given`: name -> (low, high)); else every
    numeric coefficient of the template that is not zero, from 0 to twice its value (a
    hybrid's weight from 0 to 1). OptimiseError for a name that is not a coefficient."""
    tpl = template(scenario, family)
    numeric = {k: v for k, v in tpl.items() if k != "type" and isinstance(v, int | float)}
    for name, (lo, hi) in given.items():
        if name not in numeric:
            raise OptimiseError(
                f"{name!r} is not a coefficient of {family} ({', '.join(numeric) or 'none'})"
            )
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise OptimiseError(f"{name}: the bounds must be finite with low < high")
    if given:
        return [Bound(k, float(lo), float(hi)) for k, (lo, hi) in given.items()]
    out = []
    for k, v in numeric.items():
        if family == "hybrid" and k == "weight":
            out.append(Bound(k, 0.0, 1.0))
        elif v != 0:
            lo, hi = sorted((0.0, 2.0 * float(v)))
            out.append(Bound(k, lo, hi))
    if not out:
        raise OptimiseError(f"{family}: no coefficient to search; give --bound NAME=LOW:HIGH")
    return out


def candidate(scenario: Scenario, family: str, params: dict[str, float]) -> dict[str, Any]:
    """A candidate scheme: the family's template with the searched coefficients `params`."""
    return {**template(scenario, family), **params}


def with_candidates(
    scenario: Scenario,
    family: str,
    candidates: dict[str, dict[str, float]],
    what: str,
    keep: Collection[str] | None = None,
) -> Scenario:
    """The scenario with each candidate (scheme name -> coefficients) added as a scheme
    after those of its own schemes in `keep` (default: all), without precision targets;
    validated (a value outside the type's range is a ScenarioError naming `what`)."""
    data = scenario_to_dict(scenario)
    own = {n: v for n, v in data["schemes"].items() if keep is None or n in keep}
    added = {name: candidate(scenario, family, p) for name, p in candidates.items()}
    data["schemes"] = {**own, **added}
    data["precision"] = {"targets": {}}
    return scenario_from_dict(data, what)


def candidate_scenario(scenario: Scenario, family: str, params: dict[str, float]) -> Scenario:
    """The scenario with the candidate scheme added as `CANDIDATE`."""
    return with_candidates(scenario, family, {CANDIDATE: params}, "the candidate")
