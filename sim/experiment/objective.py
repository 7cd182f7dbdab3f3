"""What `techsim select` and `techsim optimise` maximise: a KPI, or a weighted sum of KPIs
written in the scenario (`objectives:`).

A KPI alone is maximised when higher is better and minimised (its negative maximised) when
lower is better, by the catalogue's direction (`sim.metrics.catalogue`); a KPI that is
neither cannot be an objective. A named objective is `sum_k w_k x KPI_k`, maximised; its
weights carry the signs and the exchange rates (e.g. `margin: 1`, `retention_rate: 2e6`
values a point of retention at $20,000).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from sim.config.scenario import Scenario
from sim.metrics.catalogue import KPIS


class ObjectiveError(ValueError):
    """An objective that names no KPI or scenario objective, or a KPI with no better side."""


@dataclass(frozen=True)
class Objective:
    """A weighted sum of KPIs to maximise, and how to speak of it."""

    name: str
    weights: tuple[tuple[str, float], ...]
    label: str

    def value(self, kpis: Mapping[str, float]) -> float:
        """The objective of one replication's KPIs (NaN when a KPI is NaN)."""
        return math.fsum(w * float(kpis[k]) for k, w in self.weights)

    @property
    def kpi(self) -> str | None:
        """The KPI when the objective is one KPI with weight +1 or -1."""
        return self.weights[0][0] if len(self.weights) == 1 else None

    @property
    def sign(self) -> float:
        """+1 when the objective is the KPI itself, -1 when it is its negative."""
        return self.weights[0][1] if len(self.weights) == 1 else 1.0


def objective_for(scenario: Scenario, text: str) -> Objective:
    """The objective `text`: a name in the scenario's `objectives:`, else a runs.csv KPI;
    ObjectiveError saying which names exist otherwise."""
    name = text.strip()
    if name in scenario.objectives:
        weights = scenario.objectives[name]
        unknown = [k for k in weights if k not in KPIS]
        if unknown:
            raise ObjectiveError(f"objectives.{name}: {unknown[0]!r} is not a KPI of runs.csv")
        if not weights:
            raise ObjectiveError(f"objectives.{name}: no KPI with a weight")
        terms = " + ".join(f"{w:g} x {k}" for k, w in weights.items())
        return Objective(name, tuple(weights.items()), f"{name} ({terms})")
    if name not in KPIS:
        named = ", ".join(scenario.objectives) or "none in this scenario"
        raise ObjectiveError(
            f"{name!r} is neither a KPI of runs.csv nor a named objective ({named})"
        )
    k = KPIS[name]
    if k.better == "neither":
        raise ObjectiveError(f"{name} is neither better higher nor lower: not an objective")
    if k.better == "higher":
        return Objective(name, ((name, 1.0),), k.label)
    return Objective(name, ((name, -1.0),), f"{k.label} (lower is better)")
