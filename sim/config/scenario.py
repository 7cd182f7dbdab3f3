"""The scenario: the world (uncertainties) and the pay schemes (levers), validated on entry."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from sim.config.base import ConfigModel, NonNeg, Pos
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
    TimeAndMaterials,
    Workforce,
)
from sim.config.schemes import HybridScheme, Scheme, _default_schemes


# --------------------------------------------------------------------------- scenario
class Scenario(ConfigModel):
    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    source: str = ""
    seed: Annotated[int, Field(ge=0)] = 12345
    replications: Annotated[int, Field(ge=2)] = 20
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
        if self.baseline is not None and self.baseline not in self.schemes:
            raise ValueError(
                f"baseline: {self.baseline!r} is not one of the schemes ({', '.join(self.schemes)})"
            )
        for name in self.pay_scale:
            if name not in self.schemes:
                raise ValueError(
                    f"pay_scale: {name!r} is not one of the schemes ({', '.join(self.schemes)})"
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

    @property
    def baseline_scheme(self) -> str:
        return self.baseline if self.baseline is not None else next(iter(self.schemes))

    @property
    def measured_days(self) -> float:
        return self.horizon_days - self.warmup_days
