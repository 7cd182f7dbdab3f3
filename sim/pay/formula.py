"""Pay schemes as linear pay formulas.

Every scheme, whatever its type, resolves to one `PayFormula`: a coefficient for each
measured pay term. A technician's pay over a period is

    pay = sum_k coef_k * count_k

with the counts of `PAY_TERMS` (shift days, paid hours, visits, confirmed first-time
fixes, repeat visits and callbacks charged to the technician, promoter and detractor
survey answers, and the contract value retained at renewal attributed to the technician).
Clawbacks are negative coefficients. A hybrid is the weighted sum of two formulas,
so behaviour under a hybrid follows from the formula with no code of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from sim.config.scenario import Scenario
from sim.config.schemes import (
    CustomScheme,
    HourlyScheme,
    HybridScheme,
    JobsPerDayScheme,
    OutcomeWeightedScheme,
)

#: The measured quantities pay can depend on, in a fixed order.
PAY_TERMS: tuple[str, ...] = (
    "days",  # shift days in the period
    "hours",  # paid shift hours in the period
    "visits",  # completed visits (repeat visits count, as in piece-rate plans)
    "first_time_fixes",  # first visits fixed with no return within the callback window
    "repeat_visits",  # repeat visits caused by this technician's earlier visit
    "callbacks",  # visits closed as fixed that came back within the window
    "promoters",  # transactional survey answers 9-10 after this technician's visits
    "detractors",  # transactional survey answers 0-6
    "retained_value",  # annual value of renewing customers, attributed by visits in the term
)


@dataclass(frozen=True)
class PayFormula:
    """Coefficients of pay per unit of each term of `PAY_TERMS`."""

    days: float = 0.0
    hours: float = 0.0
    visits: float = 0.0
    first_time_fixes: float = 0.0
    repeat_visits: float = 0.0
    callbacks: float = 0.0
    promoters: float = 0.0
    detractors: float = 0.0
    retained_value: float = 0.0

    def coefficients(self) -> tuple[float, ...]:
        return tuple(getattr(self, t) for t in PAY_TERMS)

    def blend(self, other: PayFormula, weight: float) -> PayFormula:
        """(1 - weight) * self + weight * other."""
        return PayFormula(
            **{
                f.name: (1.0 - weight) * getattr(self, f.name) + weight * getattr(other, f.name)
                for f in fields(self)
            }
        )

    def components(self, counts: dict[str, float]) -> dict[str, float]:
        """Pay per term for the given counts; their sum is the pay."""
        return {t: getattr(self, t) * float(counts.get(t, 0.0)) for t in PAY_TERMS}

    def pay(self, counts: dict[str, float]) -> float:
        return sum(self.components(counts).values())


def _base_formula(scheme: object) -> PayFormula:
    if isinstance(scheme, HourlyScheme):
        return PayFormula(hours=scheme.per_hour)
    if isinstance(scheme, JobsPerDayScheme):
        return PayFormula(days=scheme.base_per_day, visits=scheme.per_visit)
    if isinstance(scheme, OutcomeWeightedScheme):
        return PayFormula(
            days=scheme.base_per_day,
            first_time_fixes=scheme.per_first_time_fix,
            repeat_visits=-scheme.clawback_per_repeat_visit,
            callbacks=-scheme.clawback_per_callback,
            promoters=scheme.per_promoter,
            retained_value=scheme.retained_value_share,
        )
    if isinstance(scheme, CustomScheme):
        return PayFormula(
            days=scheme.base_per_day,
            hours=scheme.per_hour,
            visits=scheme.per_visit,
            first_time_fixes=scheme.per_first_time_fix,
            repeat_visits=scheme.per_repeat_visit,
            callbacks=scheme.per_callback,
            promoters=scheme.per_promoter,
            detractors=scheme.per_detractor,
            retained_value=scheme.retained_value_share,
        )
    raise TypeError(f"not a base scheme: {scheme!r}")


def formula_for(scenario: Scenario, name: str) -> PayFormula:
    """The pay formula of the named scheme of the scenario."""
    scheme = scenario.schemes[name]
    if isinstance(scheme, HybridScheme):
        a, b = scheme.between
        return _base_formula(scenario.schemes[a]).blend(
            _base_formula(scenario.schemes[b]), scheme.weight
        )
    return _base_formula(scheme)
