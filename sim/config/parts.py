"""The world a scenario describes (uncertainties): customers, jobs, workforce, quality,
NPS, behaviour and the model options. Each part is a frozen pydantic model."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from sim.config.base import ConfigModel, NonNeg, Pos, Prob, check_shares
from sim.config.sizing import parse_target


# --------------------------------------------------------------------------- customers
class Tier(ConfigModel):
    """A contract tier: share of accounts, SLA response target and annual contract value."""

    share: Prob
    sla_hours: Pos
    annual_value: NonNeg
    planned_visits_per_year: NonNeg = 0.0  # with `maintenance.enabled`


#: SQM Group: of customers whose contact was resolved on the first contact, 5% would
#: defect; after two or more contacts, 9%; unresolved, 25% (docs/model.md, "Renewal").
SQM_FIRST_CONTACT, SQM_TWO_OR_MORE, SQM_UNRESOLVED = 0.05, 0.09, 0.25


def _sqm(total: float) -> float:
    """The per-problem churn that, on top of SQM's first-contact 5% as the churn of a term
    without problems, gives `total` for a term with one such problem."""
    return 1.0 - (1.0 - total) / (1.0 - SQM_FIRST_CONTACT)


class ProblemChurn(ConfigModel):
    """The probability that a problem makes its customer leave at the renewal, by how it
    ended (the classes of `sim.world.records.PROBLEM_CLASSES`), on top of `churn_base`
    (docs/model.md, "Renewal"). The defaults reproduce SQM Group's 5 / 9 / 25% with
    `churn_base` 0.05 (a term with one problem of a class); `late` and `callback` are
    assumptions."""

    first_time: Prob = 0.0  # fixed at the first visit, on time: SQM's 5% is churn_base
    late: Prob = _sqm(SQM_TWO_OR_MORE)  # fixed first time, after the SLA deadline: 0.0421
    after_return: Prob = _sqm(SQM_TWO_OR_MORE)  # fixed after a return visit: 0.0421
    callback: Prob = _sqm(SQM_UNRESOLVED)  # looked fixed, came back: 0.2105
    unresolved: Prob = _sqm(SQM_UNRESOLVED)  # still known not fixed at the renewal: 0.2105


class Customers(ConfigModel):
    count: Annotated[int, Field(ge=1)] = 20_000
    failures_per_year: Pos = 1.4
    term_days: Pos = 365.0
    churn_base: Prob = SQM_FIRST_CONTACT  # churn at renewal after a term without problems
    churn_per_problem: ProblemChurn = Field(default_factory=ProblemChurn)
    impute_history: bool = True
    # new contract accounts per year: a number, or "steady", the rate that keeps the baseline
    # scheme's book steady (measured by a pilot run; sim.model.replication)
    new_accounts_per_year: NonNeg | Literal["steady"] = 0.0
    # the SLA clock: calendar hours, or business hours (shift hours on working days)
    sla_clock: Literal["calendar", "business"] = "calendar"
    # referrals: new accounts a promoter (relational NPS 9-10) brings per year; 0 = off
    # (docs/model.md, "A steady book"; sim.model.referrals)
    referrals_per_promoter_year: NonNeg = 0.0
    tiers: dict[str, Tier] = Field(
        default_factory=lambda: {
            "gold": Tier(share=0.2, sla_hours=24, annual_value=600),
            "silver": Tier(share=0.5, sla_hours=48, annual_value=275),
            "bronze": Tier(share=0.3, sla_hours=72, annual_value=150),
        }
    )

    @model_validator(mode="before")
    @classmethod
    def _replaced(cls, data: object) -> object:
        if isinstance(data, dict) and "churn_after_bad_experience" in data:
            raise ValueError(
                "churn_after_bad_experience is gone: customers now judge problems, not visits; "
                "give churn_per_problem (first_time, late, after_return, callback, "
                'unresolved) instead (docs/model.md, "Renewal")'
            )
        return data

    @model_validator(mode="after")
    def _check(self) -> Customers:
        check_shares("tiers", "tier", (t.share for t in self.tiers.values()))
        return self


# --------------------------------------------------------------------------- jobs
class JobType(ConfigModel):
    """A job type: its share of failures, on-site time, required skill, fix and part odds."""

    share: Prob
    onsite_hours_mean: Pos
    onsite_hours_cv: NonNeg = 0.5
    min_skill: Prob = 0.0
    fix_prob: Prob = 0.9
    part_on_van: Prob = 0.9


class Jobs(ConfigModel):
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
        check_shares("types", "job type", (t.share for t in self.types.values()))
        return self


# --------------------------------------------------------------------------- workforce
class Workforce(ConfigModel):
    technicians: Annotated[int, Field(ge=1)] = 40
    skill_mean: Prob = 0.7
    skill_sd: NonNeg = 0.12
    shift_hours: Annotated[float, Field(gt=0.0, le=24.0)] = 8.0
    shift_start_hour: Annotated[float, Field(ge=0.0, lt=24.0)] = 8.0
    days_per_week: Annotated[int, Field(ge=1, le=7)] = 5
    travel_hours_mean: NonNeg = 0.6
    travel_hours_cv: NonNeg = 0.5
    dispatch: Literal["edf", "fifo"] = "edf"
    cost_per_visit: NonNeg = 45.0  # direct cost of a dispatch (truck, fuel, parts handling)
    labour_overhead: NonNeg = 0.0  # employer cost on top of pay, as a share of pay
    # overtime: no job starts that is expected to end more than this many hours after the
    # shift end (None: any job may start until the shift ends, with no limit on its end)
    max_overtime_hours: NonNeg | None = None
    overtime_pay_multiplier: NonNeg = 1.5  # hours past the shift end, under hourly pay
    # technicians on shift on each non-working day, by a rota through the crew; 0 = off
    # (docs/model.md, "Weekend cover"; sim.world.calendar)
    weekend_cover: Annotated[int, Field(ge=0)] = 0
    # "fixed" (every scheme runs with `technicians`) or a target such as
    # "sla_compliance >= 0.9": each scheme runs with the smallest headcount meeting it
    # (sim.config.sizing, sim.experiment.sizing)
    sizing: str = "fixed"

    @field_validator("sizing")
    @classmethod
    def _sizing(cls, v: str) -> str:
        parse_target(v)  # raises ValueError with a one-line message
        return v

    @model_validator(mode="after")
    def _check(self) -> Workforce:
        if self.shift_start_hour + self.shift_hours > 24.0 and self.shift_hours < 24.0:
            raise ValueError("shift_start_hour + shift_hours must not pass midnight")
        self._check_cover()
        return self

    def _check_cover(self) -> None:
        """Weekend cover needs days off to cover, and no more technicians than there are."""
        if self.weekend_cover and self.days_per_week == 7:
            raise ValueError(
                "weekend_cover needs non-working days to cover (days_per_week is 7); set it to 0"
            )
        if self.weekend_cover > self.technicians:
            raise ValueError(
                f"weekend_cover ({self.weekend_cover}) must not exceed technicians "
                f"({self.technicians})"
            )


# --------------------------------------------------------------------------- work beyond repairs
class Maintenance(ConfigModel):
    """Planned maintenance visits of contract accounts (docs/model.md, "Planned maintenance").

    An account of a tier with `planned_visits_per_year` = n gets a planned visit due every
    1/n years from a random phase; it may be done within `window_days` around the due date,
    is dispatched after every waiting repair, and its thoroughness sets the account's failure
    rate until its next planned visit."""

    enabled: bool = False
    window_days: Pos = 30.0
    onsite_hours_mean: Pos = 0.75
    onsite_hours_cv: NonNeg = 0.3
    failure_effect: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.3


class TimeAndMaterials(ConfigModel):
    """Billable repairs for customers without a contract (docs/model.md, "T&M demand").

    Calls arrive as a Poisson process; a call not started within `patience_days` goes to a
    competitor. They are dispatched after repairs and planned visits; the first visit is
    billed `revenue_per_job`, return visits are free."""

    enabled: bool = False
    jobs_per_day: NonNeg = 0.0
    patience_days: Pos = 2.0
    revenue_per_job: NonNeg = 350.0


# --------------------------------------------------------------------------- quality and NPS
class Quality(ConfigModel):
    """How skill and thoroughness turn into fixes, detection and rushed visits."""

    skill_effect: NonNeg = 0.4
    skill_reference: Prob = 0.7
    thoroughness_curvature: Pos = 2.0
    detect_prob: Prob = 0.6
    detect_slope: NonNeg = 0.8
    max_fix_prob: Prob = 0.99
    rushed_reference: Annotated[float, Field(gt=0.0, le=3.0)] = 1.0
    rushed_span: Pos = 0.5


class NPS(ConfigModel):
    response_rate: Prob = 0.3
    # whether customers perceive visits below `quality.rushed_reference` as rushed, which
    # shifts their transactional survey answer by `rushed_shift` (no source: off)
    perceived_rushed: bool = False
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


class IntrinsicWeightDist(ConfigModel):
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
                raise ValueError(
                    f"{name} does not apply to kind {self.kind!r} (it takes {', '.join(needs)})"
                )
        if self.kind == "uniform" and self.low > self.high:  # type: ignore[operator]
            raise ValueError(f"low must be <= high ({self.low:g} > {self.high:g})")
        return self


class Learning(ConfigModel):
    """The learning rule: a perturbed finite-difference step on realised utility per period."""

    period_weeks: Annotated[int, Field(ge=1, le=13)] = 1
    exploration: Annotated[float, Field(gt=0.0, le=1.0)] = 0.15
    step: NonNeg = 0.001
    max_step: Annotated[float, Field(gt=0.0, le=3.0)] = 0.1
    baseline_rate: Annotated[float, Field(gt=0.0, le=1.0)] = 0.2


class Pace(ConfigModel):
    """Working intensity (docs/model.md section 6, "Pace and care"): on-site time is divided
    by the pace, at the same quality; effort rises with it, more slowly for the skilled."""

    # the pace a supervisor enforces under any pay (1: the job types' normal on-site times)
    standard: Annotated[float, Field(gt=0.0, le=10.0)] = 1.0
    max: Annotated[float, Field(gt=0.0, le=10.0)] = 1.6
    # the effort cost per hour of pace pi is kappa(s) (pi^g - 1) / g, g = 1 + 1 / elasticity
    effort_cost_per_hour: NonNeg = 10.0
    elasticity: Annotated[float, Field(gt=0.0, le=10.0)] = 0.5
    # kappa(s) = effort_cost_per_hour * exp(-skill_effect * (s - quality.skill_reference))
    skill_effect: Annotated[float, Field(ge=0.0, le=20.0)] = 2.0
    grid_points: Annotated[int, Field(ge=2, le=1001)] = 61
    # the pace under behaviour.model `fixed`
    fixed: Annotated[float, Field(gt=0.0, le=10.0)] = 1.0

    @model_validator(mode="after")
    def _check(self) -> Pace:
        if self.standard > self.max:
            raise ValueError(f"standard must be <= max ({self.standard:g} > {self.max:g})")
        return self


class Behaviour(ConfigModel):
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
    # what a technician expects a return visit to wait for a technician (h): prices the
    # downtime pay term in the best response (docs/model.md, "Uptime"); an assumption
    expected_return_wait_hours: NonNeg = 8.0
    grid_points: Annotated[int, Field(ge=3, le=10_001)] = 201
    pace: Pace = Field(default_factory=Pace)
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


class Gaming(ConfigModel):
    """Gaming of the pay formula, each switch off by default (docs/model.md section 11)."""

    cherry_picking: bool = False
    min_gain_per_hour: NonNeg = 1.0
    sla_guard_hours: NonNeg = 0.0
    premature_closure: bool = False
    closure_max_prob: Prob = 0.5
    closure_half_gain: Pos = 20.0


class OutsideOption(ConfigModel):
    """What a technician would earn elsewhere, rising with skill (docs/model.md, "Sorting"):
    `pay_per_day` at the mean skill (None: the baseline scheme's mean pay per shift day at
    the start of its run) times exp(`skill_premium` x skill in standard deviations from
    the mean)."""

    pay_per_day: Pos | None = None
    skill_premium: Annotated[float, Field(ge=0.0, le=1.0)] = 0.10


class Attrition(ConfigModel):
    """Technicians who quit when their pay falls short of their expectation."""

    enabled: bool = False
    window_weeks: Annotated[int, Field(ge=1, le=52)] = 8
    reference: Literal["baseline", "peers", "own_start", "outside_option"] = "baseline"
    tolerance: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.05
    base_quit_rate: Prob = 0.15
    pay_elasticity: NonNeg = 4.0
    hiring_lag_days: NonNeg = 45.0
    new_hire_skill_gap: Prob = 0.15
    ramp_days: NonNeg = 180.0
    # sorting (docs/model.md, "Sorting"): who is hired depends on the scheme
    hiring: Literal["random", "selective"] = "random"
    max_applicants: Annotated[int, Field(ge=1, le=100)] = 5
    outside_option: OutsideOption = Field(default_factory=OutsideOption)

    @model_validator(mode="after")
    def _check(self) -> Attrition:
        if self.hiring == "selective" and self.hiring_lag_days <= 0.0:
            raise ValueError(
                "hiring_lag_days must be > 0 with hiring: selective (a vacancy that no "
                "applicant accepts is advertised again after the lag)"
            )
        return self


class SizingSearch(ConfigModel):
    """The search of each scheme's headcount under `workforce.sizing` (sim.experiment.sizing)."""

    replications: Annotated[int, Field(ge=1, le=1000)] = 4
    # the largest headcount tried (None: 4 x workforce.technicians)
    max_technicians: Annotated[int, Field(ge=1, le=10_000)] | None = None


class BudgetSearch(ConfigModel):
    """The root search of the budget-neutral variable-pay factors (sim.experiment.budget)."""

    replications: Annotated[int, Field(ge=1, le=1000)] = 4
    tolerance: Annotated[float, Field(gt=0.0, le=0.01)] = 0.002
    max_iterations: Annotated[int, Field(ge=1, le=50)] = 10
