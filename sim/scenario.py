"""The scenario: the world (uncertainties) and the pay schemes (levers), validated on entry.

A scenario is read from YAML into frozen pydantic models that reject unknown keys,
wrong types and out-of-range values. Every error is turned into a `ScenarioError`
naming the file and the dotted field path, so the CLI can print one clear line.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

HOURS_PER_DAY = 24.0
DAYS_PER_YEAR = 365.0

Prob = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]
Pos = Annotated[float, Field(gt=0.0)]


class ScenarioError(ValueError):
    """Bad scenario input: carries the file and field path for a one-line message."""

    def __init__(self, source: str, field: str, message: str) -> None:
        self.source, self.field, self.message = source, field, message
        where = f"{source}: {field}: " if field else f"{source}: "
        super().__init__(where + message)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


# --------------------------------------------------------------------------- customers
class Tier(_Model):
    """A contract tier: share of accounts, SLA response target and annual contract value."""

    share: Prob
    sla_hours: Pos
    annual_value: NonNeg


class Customers(_Model):
    count: Annotated[int, Field(ge=1)] = 20_000
    failures_per_year: Pos = 1.4
    term_days: Pos = 365.0
    churn_base: Prob = 0.05
    churn_after_bad_experience: Prob = 0.25
    impute_history: bool = True
    tiers: dict[str, Tier] = Field(
        default_factory=lambda: {
            "gold": Tier(share=0.2, sla_hours=24, annual_value=600),
            "silver": Tier(share=0.5, sla_hours=48, annual_value=275),
            "bronze": Tier(share=0.3, sla_hours=72, annual_value=150),
        }
    )

    @model_validator(mode="after")
    def _check(self) -> Customers:
        if not self.tiers:
            raise ValueError("tiers: at least one tier is required")
        total = sum(t.share for t in self.tiers.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"tiers: shares must add up to 1 (they add up to {total:g})")
        if self.churn_after_bad_experience < self.churn_base:
            raise ValueError(
                "churn_after_bad_experience must be >= churn_base "
                f"({self.churn_after_bad_experience:g} < {self.churn_base:g})"
            )
        return self


# --------------------------------------------------------------------------- jobs
class JobType(_Model):
    """A job type: its share of failures, on-site time, required skill, fix and part odds."""

    share: Prob
    onsite_hours_mean: Pos
    onsite_hours_cv: NonNeg = 0.5
    min_skill: Prob = 0.0
    fix_prob: Prob = 0.9
    part_on_van: Prob = 0.9


class Jobs(_Model):
    types: dict[str, JobType] = Field(
        default_factory=lambda: {
            "simple": JobType(share=0.45, onsite_hours_mean=0.8, fix_prob=0.97, part_on_van=0.97),
            "standard": JobType(share=0.40, onsite_hours_mean=1.5, fix_prob=0.90, part_on_van=0.88),
            "complex": JobType(
                share=0.15, onsite_hours_mean=2.5, min_skill=0.55, fix_prob=0.80, part_on_van=0.75
            ),
        }
    )
    duration_distribution: Literal["lognormal", "exponential", "fixed"] = "lognormal"
    part_lead_time_hours: NonNeg = 48.0
    revisit_delay_hours: NonNeg = 24.0
    callback_delay_mean_days: Pos = 7.0
    diagnosis_fraction: Prob = 0.5

    @model_validator(mode="after")
    def _check(self) -> Jobs:
        if not self.types:
            raise ValueError("types: at least one job type is required")
        total = sum(t.share for t in self.types.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"types: shares must add up to 1 (they add up to {total:g})")
        return self


# --------------------------------------------------------------------------- workforce
class Workforce(_Model):
    technicians: Annotated[int, Field(ge=1)] = 40
    skill_mean: Prob = 0.7
    skill_sd: NonNeg = 0.12
    shift_hours: Annotated[float, Field(gt=0.0, le=24.0)] = 8.0
    shift_start_hour: Annotated[float, Field(ge=0.0, lt=24.0)] = 8.0
    days_per_week: Annotated[int, Field(ge=1, le=7)] = 5
    travel_hours_mean: NonNeg = 0.6
    travel_hours_cv: NonNeg = 0.5
    dispatch: Literal["edf", "fifo"] = "edf"
    cost_per_visit: NonNeg = 45.0

    @model_validator(mode="after")
    def _check(self) -> Workforce:
        if self.shift_start_hour + self.shift_hours > 24.0 and self.shift_hours < 24.0:
            raise ValueError("shift_start_hour + shift_hours must not pass midnight")
        return self


# --------------------------------------------------------------------------- quality and NPS
class Quality(_Model):
    """How skill and thoroughness turn into fixes, detection and rushed visits."""

    skill_effect: NonNeg = 0.4
    skill_reference: Prob = 0.7
    thoroughness_curvature: Pos = 2.0
    detect_prob: Prob = 0.6
    detect_slope: NonNeg = 0.8
    max_fix_prob: Prob = 0.99
    rushed_reference: Annotated[float, Field(gt=0.0, le=3.0)] = 1.0
    rushed_span: Pos = 0.5


class NPS(_Model):
    response_rate: Prob = 0.3
    promoter: Prob = 0.60
    detractor: Prob = 0.10
    unresolved_shift: Prob = 0.40
    repeat_shift: Prob = 0.20
    late_shift: Prob = 0.15
    rushed_shift: Prob = 0.15
    relational_promoter: Prob = 0.55
    relational_detractor: Prob = 0.12
    relational_bad_shift: Prob = 0.15


# --------------------------------------------------------------------------- behaviour
Theta = Annotated[float, Field(gt=0.0, le=3.0)]


class IntrinsicWeightDist(_Model):
    """Each technician's intrinsic weight on customer outcomes (docs/model.md section 11).

    `fixed` (value), `uniform` (low, high) or `beta` (a, b); drawn once per technician
    from the "behaviour" random stream, and for every new hire from the "hiring" stream.
    """

    kind: Literal["fixed", "uniform", "beta"]
    value: Prob | None = None
    low: Prob | None = None
    high: Prob | None = None
    a: Pos | None = None
    b: Pos | None = None

    @model_validator(mode="after")
    def _check(self) -> IntrinsicWeightDist:
        needs = {"fixed": ("value",), "uniform": ("low", "high"), "beta": ("a", "b")}[self.kind]
        for name in ("value", "low", "high", "a", "b"):
            given = getattr(self, name) is not None
            if name in needs and not given:
                raise ValueError(f"{name} is required for kind {self.kind!r}")
            if name not in needs and given:
                raise ValueError(f"{name} does not apply to kind {self.kind!r} (it takes "
                                 f"{', '.join(needs)})")
        if self.kind == "uniform" and self.low > self.high:  # type: ignore[operator]
            raise ValueError(f"low must be <= high ({self.low:g} > {self.high:g})")
        return self


class Learning(_Model):
    """The learning rule: a perturbed finite-difference step on realised utility per period."""

    period_weeks: Annotated[int, Field(ge=1, le=13)] = 1
    exploration: Annotated[float, Field(gt=0.0, le=1.0)] = 0.15
    step: NonNeg = 0.001
    max_step: Annotated[float, Field(gt=0.0, le=3.0)] = 0.1
    baseline_rate: Annotated[float, Field(gt=0.0, le=1.0)] = 0.2


class Behaviour(_Model):
    model: Literal["best_response", "fixed", "learning"] = "best_response"
    thoroughness: Theta = 1.0
    initial_thoroughness: Theta = 1.0
    min_thoroughness: Theta = 0.5
    max_thoroughness: Theta = 1.5
    comfortable_thoroughness: Theta = 1.0
    effort_cost_per_hour: NonNeg = 35.0
    intrinsic_weight: Prob = 0.1
    intrinsic_weight_dist: IntrinsicWeightDist | None = None
    customer_value_per_fix: NonNeg = 100.0
    grid_points: Annotated[int, Field(ge=3, le=10_001)] = 201
    learning: Learning = Field(default_factory=Learning)

    @model_validator(mode="after")
    def _check(self) -> Behaviour:
        if self.min_thoroughness > self.max_thoroughness:
            raise ValueError("min_thoroughness must be <= max_thoroughness")
        if not self.min_thoroughness <= self.initial_thoroughness <= self.max_thoroughness:
            raise ValueError(
                f"initial_thoroughness ({self.initial_thoroughness:g}) must lie within "
                f"[min_thoroughness, max_thoroughness] = [{self.min_thoroughness:g}, "
                f"{self.max_thoroughness:g}]"
            )
        return self


class Gaming(_Model):
    """Gaming of the pay formula, each switch off by default (docs/model.md section 11, "Gaming")."""

    cherry_picking: bool = False
    min_gain_per_hour: NonNeg = 1.0
    sla_guard_hours: NonNeg = 0.0
    premature_closure: bool = False
    closure_max_prob: Prob = 0.5
    closure_half_gain: Pos = 20.0


class Attrition(_Model):
    """Technicians who quit when their pay falls short of their expectation."""

    enabled: bool = False
    window_weeks: Annotated[int, Field(ge=1, le=52)] = 8
    reference: Literal["baseline", "peers", "own_start"] = "baseline"
    tolerance: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.05
    base_quit_rate: Prob = 0.15
    pay_elasticity: NonNeg = 4.0
    hiring_lag_days: NonNeg = 45.0
    new_hire_skill_gap: Prob = 0.15
    ramp_days: NonNeg = 180.0


class BudgetSearch(_Model):
    """The root search of the budget-neutral variable-pay factors (sim.budget)."""

    replications: Annotated[int, Field(ge=1, le=1000)] = 4
    tolerance: Annotated[float, Field(gt=0.0, le=0.01)] = 0.002
    max_iterations: Annotated[int, Field(ge=1, le=50)] = 10


# --------------------------------------------------------------------------- schemes (levers)
class _Scheme(_Model):
    label: str | None = None


class HourlyScheme(_Scheme):
    type: Literal["hourly"]
    per_hour: NonNeg = 30.0


class JobsPerDayScheme(_Scheme):
    type: Literal["jobs_per_day"]
    base_per_day: NonNeg = 100.0
    per_visit: NonNeg = 45.0


class OutcomeWeightedScheme(_Scheme):
    type: Literal["outcome_weighted"]
    base_per_day: NonNeg = 160.0
    per_first_time_fix: NonNeg = 40.0
    clawback_per_repeat_visit: NonNeg = 20.0
    clawback_per_callback: NonNeg = 30.0
    per_promoter: NonNeg = 10.0
    retained_value_share: Prob = 0.0


class HybridScheme(_Scheme):
    type: Literal["hybrid"]
    weight: Prob = 0.5
    between: tuple[str, str] = ("jobs_per_day", "outcome_weighted")


class CustomScheme(_Scheme):
    """Any linear pay formula: the coefficient of every pay term, signed."""

    type: Literal["custom"]
    base_per_day: float = 0.0
    per_hour: float = 0.0
    per_visit: float = 0.0
    per_first_time_fix: float = 0.0
    per_repeat_visit: float = 0.0
    per_callback: float = 0.0
    per_promoter: float = 0.0
    per_detractor: float = 0.0
    retained_value_share: float = 0.0


Scheme = Annotated[
    HourlyScheme | JobsPerDayScheme | OutcomeWeightedScheme | HybridScheme | CustomScheme,
    Field(discriminator="type"),
]


def _default_schemes() -> dict[str, Any]:
    return {
        "jobs_per_day": JobsPerDayScheme(type="jobs_per_day"),
        "outcome_weighted": OutcomeWeightedScheme(type="outcome_weighted"),
    }


# --------------------------------------------------------------------------- scenario
class Scenario(_Model):
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
    quality: Quality = Field(default_factory=Quality)
    nps: NPS = Field(default_factory=NPS)
    behaviour: Behaviour = Field(default_factory=Behaviour)
    gaming: Gaming = Field(default_factory=Gaming)          # docs/model.md section 11
    attrition: Attrition = Field(default_factory=Attrition)
    schemes: dict[str, Scheme] = Field(default_factory=_default_schemes)
    baseline: str | None = None
    # scale every non-baseline scheme's variable pay to the baseline's mean pay (sim.budget)
    budget_neutral: bool = False
    budget_search: BudgetSearch = Field(default_factory=BudgetSearch)
    # variable-pay factor per scheme (sim.replication.scaled): set by the search, or by hand
    pay_scale: dict[str, Pos] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        if self.warmup_days >= self.horizon_days:
            raise ValueError(
                f"warmup_days ({self.warmup_days:g}) must be shorter than "
                f"horizon_days ({self.horizon_days:g})"
            )
        if not self.schemes:
            raise ValueError("schemes: at least one pay scheme is required")
        if self.baseline is not None and self.baseline not in self.schemes:
            raise ValueError(
                f"baseline: {self.baseline!r} is not one of the schemes "
                f"({', '.join(self.schemes)})"
            )
        for name in self.pay_scale:
            if name not in self.schemes:
                raise ValueError(
                    f"pay_scale: {name!r} is not one of the schemes ({', '.join(self.schemes)})"
                )
        for name, s in self.schemes.items():
            if isinstance(s, HybridScheme):
                for part in s.between:
                    if part not in self.schemes:
                        raise ValueError(f"schemes.{name}.between: unknown scheme {part!r}")
                    if isinstance(self.schemes[part], HybridScheme):
                        raise ValueError(  # noqa: TRY004 (pydantic reports ValueError only)
                            f"schemes.{name}.between: {part!r} is a hybrid; blend base schemes"
                        )
        return self

    @property
    def baseline_scheme(self) -> str:
        return self.baseline if self.baseline is not None else next(iter(self.schemes))

    @property
    def measured_days(self) -> float:
        return self.horizon_days - self.warmup_days


# --------------------------------------------------------------------------- loading
def _loc(loc: tuple[Any, ...]) -> str:
    parts = []
    for p in loc:
        # pydantic puts the discriminator tag into the location of union members
        if isinstance(p, str) and p in {
            "hourly", "jobs_per_day", "outcome_weighted", "hybrid", "custom",
            "function-after[_check(), Scheme]",
        } and parts and parts[-2:-1] == ["schemes"]:
            continue
        if isinstance(p, str) and p.startswith("function-"):
            continue
        parts.append(str(p))
    return ".".join(parts)


def _tagged_members(ann: Any) -> dict[str, type[BaseModel]]:
    """The models of a (possibly Annotated) union, by the tag of their `type` field."""
    args = get_args(get_args(ann)[0]) if get_origin(ann) is Annotated else get_args(ann)
    return {
        str(tag): m
        for m in args
        if isinstance(m, type) and issubclass(m, BaseModel) and "type" in m.model_fields
        for tag in get_args(m.model_fields["type"].annotation)
    }


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names allowed at `loc` (to suggest a correction for a typo)."""
    cur: Any = model
    for p in loc[:-1]:
        if isinstance(cur, type) and issubclass(cur, BaseModel):
            f = cur.model_fields.get(str(p))
            if f is None:
                return []
            ann = f.annotation
            args = getattr(ann, "__args__", ())
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                cur = ann
            elif args and isinstance(args[-1], type) and issubclass(args[-1], BaseModel):
                cur = args[-1]  # dict[str, Model]: next loc part is the key
                cur = ("dict", cur)
            elif args and _tagged_members(args[-1]):
                cur = ("dict", _tagged_members(args[-1]))  # dict[str, Scheme]: key, then tag
            else:
                return []
        elif isinstance(cur, tuple):
            cur = cur[1]
        elif isinstance(cur, dict):
            cur = cur.get(str(p))
        else:
            return []
    if isinstance(cur, type) and issubclass(cur, BaseModel):
        return list(cur.model_fields)
    return []


def _format_error(err: dict[str, Any], model: type[BaseModel]) -> tuple[str, str]:
    loc = tuple(err.get("loc", ()))
    field = _loc(loc)
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        allowed = _allowed_keys(model, loc)
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return field, f"unknown key {key!r}{hint}"
    msg = err.get("msg", "invalid value")
    msg = msg.removeprefix("Value error, ")
    if "input" in err and kind not in {"missing"} and not isinstance(err["input"], dict):
        msg = f"{msg} (got {err['input']!r})"
    return field, msg


def scenario_from_dict(data: Any, source: str = "<scenario>") -> Scenario:
    """Validate a mapping into a Scenario; raise ScenarioError naming source and field."""
    if not isinstance(data, dict):
        raise ScenarioError(source, "", "the scenario must be a YAML mapping of keys to values")
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        # a misspelt key also makes the real one "missing": report the typo, it explains both
        err = next((e for e in errors if e.get("type") == "extra_forbidden"), errors[0])
        field, msg = _format_error(err, Scenario)
        n = exc.error_count()
        if n > 1:
            msg += f" (and {n - 1} more error{'s' if n > 2 else ''})"
        raise ScenarioError(source, field, msg) from None


def load_yaml(path: str | Path) -> Any:
    p = Path(path)
    if not p.exists():
        raise ScenarioError(str(p), "", "file not found")
    if p.is_dir():
        raise ScenarioError(str(p), "", "is a directory, not a scenario file")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(str(p), "", f"cannot read: {exc}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(str(p), "", f"YAML syntax error at {where}{problem}") from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario YAML file."""
    return scenario_from_dict(load_yaml(path), str(path))


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """The fully resolved scenario (defaults filled in), JSON-friendly."""
    return scenario.model_dump(mode="json")
