"""The scenario: the world (uncertainties) and the pay schemes (levers), validated on entry."""

from __future__ import annotations

import copy
from typing import Annotated

from pydantic import Field, model_validator

from sim.config.base import DAYS_PER_YEAR, ConfigModel, NonNeg, Pos
from sim.config.parts import (
    NPS,
    Attrition,
    Behaviour,
    BudgetSearch,
    Customers,
    Gaming,
    Jobs,
    Maintenance,
    Quality,
    SizingSearch,
    TimeAndMaterials,
    Workforce,
)
from sim.config.precision import Precision
from sim.config.regions import OVERRIDABLE, Region
from sim.config.schemes import HybridScheme, Scheme, _default_schemes
from sim.config.sizing import SizingTarget, parse_target

#: The largest referrals_per_promoter_year x horizon in years (sim.world.referrals).
MAX_REFERRAL_GROWTH = 3.0


# --------------------------------------------------------------------------- scenario
class Scenario(ConfigModel):
    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    source: str = ""
    seed: Annotated[int, Field(ge=0)] = 12345
    replications: Annotated[int, Field(ge=2)] = 20
    # replications until paired differences are this precise (sim.config.precision)
    precision: Precision = Field(default_factory=Precision)
    # named objectives for `techsim select` and `techsim optimise`: a weighted sum of runs.csv
    # KPIs, larger is better (sim.experiment.objective)
    objectives: dict[str, dict[str, float]] = Field(default_factory=dict)
    horizon_days: Pos = 425.0
    warmup_days: NonNeg = 60.0
    callback_window_days: NonNeg = 30.0
    customers: Customers = Field(default_factory=Customers)
    jobs: Jobs = Field(default_factory=Jobs)
    workforce: Workforce = Field(default_factory=Workforce)
    maintenance: Maintenance = Field(default_factory=Maintenance)
    time_and_materials: TimeAndMaterials = Field(default_factory=TimeAndMaterials)
    quality: Quality = Field(default_factory=Quality)
    nps: NPS = Field(default_factory=NPS)
    behaviour: Behaviour = Field(default_factory=Behaviour)
    gaming: Gaming = Field(default_factory=Gaming)  # docs/model.md section 11
    attrition: Attrition = Field(default_factory=Attrition)
    schemes: dict[str, Scheme] = Field(default_factory=_default_schemes)
    baseline: str | None = None
    # scale every non-baseline scheme's variable pay to the baseline's mean pay
    # (sim.experiment.budget)
    budget_neutral: bool = False
    budget_search: BudgetSearch = Field(default_factory=BudgetSearch)
    # variable-pay factor per scheme (sim.model.replication.scaled): set by the search, or by hand
    pay_scale: dict[str, Pos] = Field(default_factory=dict)
    sizing_search: SizingSearch = Field(default_factory=SizingSearch)
    # technicians per scheme, overriding workforce.technicians for that scheme
    # (sim.model.replication.scheme_scenario): set by the sizing search, or by hand
    headcount: dict[str, Annotated[int, Field(ge=1)]] = Field(default_factory=dict)
    # parts of the company simulated apart, their KPIs combined (sim.config.regions)
    regions: dict[str, Region] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        for what, text in (
            ("name", self.name),
            *((f"schemes.{k}", k) for k in self.schemes),
            *((f"schemes.{k}.label", s.label or "") for k, s in self.schemes.items()),
        ):
            if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in text):
                raise ValueError(f"{what}: contains a control character (got {text!r})")
        if self.warmup_days >= self.horizon_days:
            raise ValueError(
                f"warmup_days ({self.warmup_days:g}) must be shorter than "
                f"horizon_days ({self.horizon_days:g})"
            )
        if not self.schemes:
            raise ValueError("schemes: at least one pay scheme is required")
        baseline = [] if self.baseline is None else [self.baseline]
        for field, names in (
            ("baseline", baseline),
            ("pay_scale", self.pay_scale),
            ("headcount", self.headcount),
        ):
            for name in names:
                if name not in self.schemes:
                    raise ValueError(
                        f"{field}: {name!r} is not one of the schemes ({', '.join(self.schemes)})"
                    )
        self._check_referrals()
        if self.regions:
            self._check_regions()
        if self.sizing_target is not None and self.max_technicians < self.workforce.technicians:
            raise ValueError(
                f"sizing_search.max_technicians ({self.max_technicians}) must be at least "
                f"workforce.technicians ({self.workforce.technicians})"
            )
        for name, s in self.schemes.items():
            if isinstance(s, HybridScheme):
                if s.between[0] == s.between[1]:
                    raise ValueError(
                        f"schemes.{name}.between: blends {s.between[0]!r} with itself; "
                        "name two different schemes"
                    )
                for part in s.between:
                    if part not in self.schemes:
                        raise ValueError(f"schemes.{name}.between: unknown scheme {part!r}")
                    if isinstance(self.schemes[part], HybridScheme):
                        raise ValueError(
                            f"schemes.{name}.between: {part!r} is a hybrid; blend base schemes"
                        )
        return self

    def _check_regions(self) -> None:
        """Regions add up to the company, use no option that sizes or scales the company
        as a whole, and each builds a valid scenario (`region_scenarios`)."""
        for what, total, parts in (
            ("workforce.technicians", self.workforce.technicians,
             sum(r.technicians for r in self.regions.values())),
            ("customers.count", self.customers.count,
             sum(r.accounts for r in self.regions.values())),
        ):  # fmt: skip
            if total != parts:
                raise ValueError(f"regions: add up to {parts} for {what}, which is {total}")
        if self.headcount or self.sizing_target is not None:
            raise ValueError("regions: not with headcount or workforce.sizing (size each region)")
        region_scenarios(self)

    def _check_referrals(self) -> None:
        """The candidate referred accounts grow as exp(rho x years) (sim.world.referrals):
        refuse a pool of more than e^3 (20) times the book."""
        rho = self.customers.referrals_per_promoter_year
        years = self.horizon_days / DAYS_PER_YEAR
        if rho * years > MAX_REFERRAL_GROWTH:
            raise ValueError(
                f"customers.referrals_per_promoter_year ({rho:g}) x the horizon in years "
                f"({years:.3g}) must be at most {MAX_REFERRAL_GROWTH:g}"
            )

    @property
    def baseline_scheme(self) -> str:
        return self.baseline if self.baseline is not None else next(iter(self.schemes))

    @property
    def sizing_target(self) -> SizingTarget | None:
        """The parsed `workforce.sizing` (None: fixed)."""
        return parse_target(self.workforce.sizing)

    @property
    def max_technicians(self) -> int:
        """The largest headcount the sizing search tries."""
        m = self.sizing_search.max_technicians
        return 4 * self.workforce.technicians if m is None else m

    @property
    def world_technicians(self) -> int:
        """Technician slots a replication's world draws (`sim.model.replication.world_for`):
        the workforce, every per-scheme headcount, and under a sizing target the search's
        largest headcount, so that the search and the run draw the same world whatever
        headcount a scheme gets (each scheme takes the first slots)."""
        n = max(self.workforce.technicians, *self.headcount.values(), 1)
        return max(n, self.max_technicians) if self.sizing_target is not None else n

    @property
    def measured_days(self) -> float:
        return self.horizon_days - self.warmup_days


def region_scenarios(scenario: Scenario) -> list[tuple[str, Scenario]]:
    """Each region's scenario, in the scenario's order (`sim.config.regions`); ValueError
    naming the region and the override when one does not apply or does not validate."""
    from pydantic import ValidationError

    base = scenario.model_dump(mode="json")
    base["regions"] = {}
    base["precision"] = {}
    out = []
    for name, region in scenario.regions.items():
        share = region.accounts / scenario.customers.count
        d = copy.deepcopy(base)
        d["name"] = f"{scenario.name}/{name}"
        d["workforce"]["technicians"] = region.technicians
        d["customers"]["count"] = region.accounts
        d["time_and_materials"]["jobs_per_day"] *= share
        if not isinstance(d["customers"]["new_accounts_per_year"], str):
            d["customers"]["new_accounts_per_year"] *= share
        for path, value in region.overrides.items():
            keys = path.split(".")
            where = f"regions.{name}.overrides.{path}"
            if keys[0] not in OVERRIDABLE or len(keys) < 2:
                raise ValueError(f"{where}: a region overrides {', '.join(OVERRIDABLE)}")
            node = d
            for k in keys[:-1]:
                if not isinstance(node.get(k), dict):
                    raise ValueError(f"{where}: no such field")
                node = node[k]
            if keys[-1] not in node:
                raise ValueError(f"{where}: no such field")
            node[keys[-1]] = value
        try:
            out.append((name, Scenario.model_validate(d)))
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(x) for x in err["loc"])
            raise ValueError(
                f"regions.{name}: its scenario is not valid: {loc}: {err['msg']}"
            ) from None
    return out
