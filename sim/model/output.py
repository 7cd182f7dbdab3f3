"""What one simulation emits: the flat records (`sim.world.records`) and its end state.

`sim.metrics.kpis` computes every KPI and all pay from an `Output`; the job counters let
tests check that the run conserves jobs (created = completed + waiting + in service).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sim.world.records import RecordLog, RenewalRow, WeekRow, visit_log


@dataclass
class Output:
    """Everything one simulation emits: flat records and the end state."""

    visits: RecordLog = field(default_factory=visit_log)  # in order of completion
    renewals: list[RenewalRow] = field(default_factory=list)  # in time order
    weeks: list[WeekRow] = field(default_factory=list)
    thoroughness: list[float] = field(default_factory=list)
    pace: list[float] = field(default_factory=list)  # per slot, at the end of the run
    skill: list[float] = field(default_factory=list)
    annual_value: list[float] = field(default_factory=list)
    jobs_created: int = 0  # visits that entered the queue
    jobs_created_measured: int = 0  # ... after the warm-up
    jobs_completed: int = 0
    jobs_waiting: int = 0  # in the queue at the end
    jobs_in_service: int = 0  # travelling or on site at the end
    jobs_scheduled: int = 0  # next visits scheduled but not yet ready at the end
    queue_area_measured: float = 0.0  # integral of queue length over the measured period
    end_time: float = 0.0
    # model options (docs/model.md section 11); empty or None when off
    intrinsic: list[float] = field(default_factory=list)  # intrinsic weight per technician
    quits: list[tuple[int, float]] = field(default_factory=list)  # (tech slot, t)
    absences: list[tuple[int, float, float]] = field(default_factory=list)  # (slot, from, to)
    reference_pay: list[float] | None = None  # expected weekly pay per slot (attrition)
    hires: list[tuple[int, float, float, int]] = field(default_factory=list)  # (slot, t,
    # skill once ramped up, applicants asked for the hire)
    skill_end: list[float] | None = None  # skill once ramped up per slot at the end (NaN: vacant)
    premature_closures: int = 0
    theta_weeks: list[list[float]] | None = None  # [week][slot] habit at the week's start
    skill_weeks: list[list[float]] | None = None
    intrinsic_weeks: list[list[float]] | None = None
    present_weeks: list[list[int]] | None = None
    # work beyond contract repairs, and new accounts (docs/model.md, "Capacity that pays")
    failures_opened: int = 0  # failures of active accounts that opened a problem
    jobs_lost: int = 0  # T&M calls nobody started within their patience
    initial_accounts: int = 0
    join_t: list[float] = field(default_factory=list)  # join time of each new account
    tm_first: int = 0  # problems from here are T&M calls ...
    planned_first: int = 0  # ... and from here planned visits
    active_end: int = 0  # accounts that are customers at the end of the run
    referred_t: list[float] = field(default_factory=list)  # join times of referred accounts
    cache: dict = field(default_factory=dict, repr=False)  # derived arrays (sim.metrics.kpis)
