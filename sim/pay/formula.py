"""Pay schemes as linear pay formulas.

Every scheme, whatever its type, resolves to one `PayFormula`: a coefficient for each
measured pay term. A technician's pay over a period is

    pay = sum_k coef_k * count_k

with the counts of `PAY_TERMS` (shift days, paid hours, visits, confirmed first-time
fixes, repeat visits and callbacks charged to the technician, promoter and detractor
survey answers, hours of customer downtime that followed the technician's visits that did
not fix, and the contract value retained at renewal attributed to the technician).
Clawbacks are negative coefficients. A hybrid is the weighted sum of two formulas,
so behaviour under a hybrid follows from the formula with no code of its own.

`PayFormula.pay` is the one place pay is computed from counts: a technician's statement,
per-technician arrays, per-technician-per-week tables and expected counts per problem all
go through it, as do the pay components (`PayFormula.components`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, fields, replace
from typing import overload

import numpy as np

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
    "downtime_hours",  # customer downtime after this technician's visits that did not fix
    "retained_value",  # annual value of renewing customers, attributed by visits in the term
)

#: The terms that do not depend on what a technician does: earned per shift day in post.
FIXED_TERMS: tuple[str, ...] = ("days", "hours")

#: The terms that pay for the work done (every term but days and hours), in `PAY_TERMS` order.
VARIABLE_TERMS: tuple[str, ...] = tuple(t for t in PAY_TERMS if t not in FIXED_TERMS)


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
    downtime_hours: float = 0.0
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

    @overload
    def components(
        self, counts: Mapping[str, float], terms: Collection[str] = PAY_TERMS
    ) -> dict[str, float]: ...
    @overload
    def components(
        self, counts: Mapping[str, np.ndarray], terms: Collection[str] = PAY_TERMS
    ) -> dict[str, np.ndarray]: ...
    def components(
        self,
        counts: Mapping[str, float] | Mapping[str, np.ndarray],
        terms: Collection[str] = PAY_TERMS,
    ) -> dict[str, float] | dict[str, np.ndarray]:
        """Pay per term, coef_k * count_k, for the terms of `PAY_TERMS` in `terms` (in
        `PAY_TERMS` order); `counts` holds a number or an array (per technician, per
        technician and week, per thoroughness ...) for each of them."""
        return {t: getattr(self, t) * counts[t] for t in PAY_TERMS if t in terms}

    @overload
    def pay(self, counts: Mapping[str, float], terms: Collection[str] = PAY_TERMS) -> float: ...
    @overload
    def pay(
        self, counts: Mapping[str, np.ndarray], terms: Collection[str] = PAY_TERMS
    ) -> np.ndarray: ...
    def pay(
        self,
        counts: Mapping[str, float] | Mapping[str, np.ndarray],
        terms: Collection[str] = PAY_TERMS,
    ) -> float | np.ndarray:
        """sum_k coef_k * count_k over the terms of `PAY_TERMS` in `terms`: the components
        added one at a time in `PAY_TERMS` order, starting from 0.0 (so a result is the same
        to the last bit wherever it is computed). Element-wise for arrays."""
        total: float | np.ndarray = 0.0
        for part in self.components(counts, terms).values():
            total = total + part
        return total


def has_variable_pay(formula: PayFormula) -> bool:
    """Whether any of the `VARIABLE_TERMS` has a coefficient."""
    return any(getattr(formula, t) for t in VARIABLE_TERMS)


def scaled(formula: PayFormula, factor: float) -> PayFormula:
    """The formula with its variable pay (`VARIABLE_TERMS`) times `factor`; a formula with
    no variable pay (hourly, day rate) is scaled as a whole."""
    terms = VARIABLE_TERMS if has_variable_pay(formula) else PAY_TERMS
    return replace(formula, **{t: getattr(formula, t) * factor for t in terms})


def fixed_pay_per_day(formula: PayFormula, shift_hours: float) -> float:
    """The pay of the `FIXED_TERMS` for one shift day in post (`shift_hours` paid hours)."""
    return formula.pay({"days": 1.0, "hours": shift_hours}, FIXED_TERMS)


def fixed_pay_per_hour(formula: PayFormula, shift_hours: float) -> float:
    """The pay of the `FIXED_TERMS` per hour of a shift, days / shift_hours + hours: what the
    best response and learning add to the variable pay per hour of work."""
    return formula.days / shift_hours + formula.hours


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
            downtime_hours=-scheme.clawback_per_downtime_hour,
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
            downtime_hours=scheme.per_downtime_hour,
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
