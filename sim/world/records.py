"""Flat, fixed-schema records the simulation emits (tests pin these names).

The model appends plain tuples in these field orders; `sim.metrics.kpis` turns them into arrays.
"""

from __future__ import annotations

#: One row per completed visit.
VISIT_FIELDS: tuple[str, ...] = (
    "problem",  # problem (failure) id; all visits for one problem share it
    "customer",  # customer id
    "visit_no",  # 1 for the first visit of a problem, 2.. for repeat visits
    "tech",  # technician id
    "job_type",  # index into scenario.jobs.types
    "t_failure",  # when the problem first occurred (h)
    "t_ready",  # when this visit could be dispatched (h)
    "t_start",  # when the technician was dispatched (left for the site) (h)
    "t_arrive",  # arrival on site (h): response time = t_arrive - t_ready
    "t_done",  # visit finished (h)
    "outcome",  # OUTCOMES index
    "late",  # 1 if arrival after the SLA deadline
    "rushed",  # 1 if the customer perceived the visit as rushed
    "survey",  # SURVEY index
    "caused_by",  # technician whose earlier visit made this one necessary, -1 for a first visit
    "is_callback",  # 1 if this visit answers a problem that had been closed as fixed
    "next_ready",  # when the problem's next visit becomes ready (inf if fixed)
    "thoroughness",  # the technician's thoroughness on this visit
)

#: Visit outcomes.
FIXED, PART_MISSING, NOT_FIXED, LOOKED_FIXED = 0, 1, 2, 3
OUTCOMES = ("fixed", "part_missing", "not_fixed", "looked_fixed")

#: Transactional survey answers.
NO_RESPONSE, PASSIVE, PROMOTER, DETRACTOR = -1, 0, 1, 2

#: One row per renewal decision.
RENEWAL_FIELDS: tuple[str, ...] = (
    "customer",
    "t",
    "renewed",
    "bad_experiences",
    "relational",
    "annual_value",
)

#: One row per week (snapshot at the start of each week).
WEEK_FIELDS: tuple[str, ...] = (
    "week",
    "t",
    "active_customers",
    "churned",
    "backlog",
    "visits_done",
)
