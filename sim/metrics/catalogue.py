"""The KPI catalogue: each KPI of runs.csv once, with how it is named, written and judged.

A `KPI` holds the runs.csv column, a label for running text, the kind of number it is (how
it is written), which direction is better, its unit and how a figure shows it. The terminal
tables (`sim.cli.display`), the report (`sim.report`), the figures (`sim.plots`) and the
sweep tables (`sim.sweep.tables`, `sim.sweep.sensitivity`) all read it; the selections at the
end say which KPIs each of them shows, and in which order. tests/test_catalogue.py checks
that the catalogue has exactly the columns of `sim.metrics.kpis.KPI_COLUMNS`.

Numbers are written by kind: a share ("pct") as %, a difference of shares in points, money
with thousands separators; `fmt` writes one as plain text (the terminal), the report
typesets its own (`sim.report.text.num`) with the same `DECIMALS`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

#: The kinds of number: a share (0-1, written as %), plain numbers with 1 or 2 decimals,
#: money with cents or in whole units.
Kind = Literal["pct", "num1", "num2", "money", "money0"]
#: Decimals of each kind (a share's in % points).
DECIMALS: Mapping[Kind, int] = {"pct": 1, "num1": 1, "num2": 2, "money": 2, "money0": 0}
CURRENCY = "$"


#: Which direction of a KPI is better ("neither": a trade-off, e.g. pay or utilisation).
Better = Literal["higher", "lower", "neither"]


@dataclass(frozen=True)
class KPI:
    """One KPI: its runs.csv column `name`, how it is written, and which way is better.

    `label` reads in running text ("first-time fix"; `title` capitalises it). `unit` is the
    unit of a plain number ("score"); a share is in % and money in $ by its `kind`. A figure's
    axis says `axis` when that says more than the unit ("% of first visits"), a difference's
    axis `diff_axis` when it differs from the axis ("points" for a score); figures show the
    value x `scale` (x100 for a share, and `axis_scale` on top: 1e-3 for "$ thousand").
    """

    name: str
    label: str
    kind: Kind
    better: Better
    unit: str = ""
    axis: str = ""
    diff_axis: str = ""
    axis_scale: float = 1.0

    @property
    def title(self) -> str:
        """The label at the start of a sentence or as a title: "First-time fix"."""
        return self.label[:1].upper() + self.label[1:]

    @property
    def scale(self) -> float:
        """Factor from the runs.csv value to a figure's axis."""
        return (100.0 if self.kind == "pct" else 1.0) * self.axis_scale

    @property
    def axis_label(self) -> str:
        """A figure's axis title for the KPI: `axis`, else its unit, "%" or "$"."""
        if self.axis or self.unit:
            return self.axis or self.unit
        if self.kind == "pct":
            return "%"
        return CURRENCY if self.kind in ("money", "money0") else ""

    @property
    def diff_label(self) -> str:
        """A figure's axis title for a difference of the KPI ("pts" for a share)."""
        return "pts" if self.kind == "pct" else self.diff_axis or self.axis_label


def _score(name: str, label: str) -> KPI:
    """An NPS-like score from -100 to 100, higher is better."""
    return KPI(name, label, "num1", "higher", "score", "score, -100 to 100", "points")


def _thousands(name: str, label: str) -> KPI:
    """An amount of money shown in thousands on figures, higher is better."""
    return KPI(name, label, "money0", "higher", axis=f"{CURRENCY} thousand", axis_scale=1e-3)


#: Every KPI, by runs.csv column, in the order of runs.csv's KPI columns
#: (`sim.metrics.kpis.KPI_COLUMNS` is this order; tests pin it).
# fmt: off
KPIS: Mapping[str, KPI] = {
    k.name: k
    for k in (
        KPI("first_time_fix_rate", "first-time fix", "pct", "higher", axis="% of first visits"),
        KPI("repeat_visit_rate", "repeat visits", "pct", "lower", axis="% of visits"),
        KPI("callback_rate", "callbacks", "pct", "lower", axis="% of visits closed as fixed"),
        KPI("retention_rate", "retention", "pct", "higher", axis="% of renewals"),
        _score("nps", "NPS (transactional)"),
        KPI("sla_compliance", "SLA compliance", "pct", "higher", axis="% of visits on time"),
        KPI("jobs_per_tech_day", "jobs per tech-day", "num2", "higher",
            unit="visits per day", diff_axis="visits/day"),
        KPI("utilisation", "utilisation", "pct", "neither", axis="% of shift hours"),
        KPI("tech_pay_per_day", "pay per tech-day", "money", "neither",
            axis=f"{CURRENCY} per day", diff_axis=f"{CURRENCY}/day"),
        KPI("labour_cost_per_job", "labour cost per job", "money", "lower",
            axis=f"{CURRENCY} per job"),
        _thousands("revenue", "revenue"),
        _thousands("margin", "margin"),
        KPI("margin_pct", "margin rate", "num1", "higher", unit="% of revenue"),
        _score("relational_nps", "NPS (relational)"),
        KPI("visits", "visits", "num1", "neither", unit="per run"),
        KPI("problems_resolved", "problems resolved", "num1", "higher", unit="per run"),
        KPI("mean_response_hours", "response time", "num2", "lower", unit="hours"),
        KPI("mean_wait_hours", "wait for dispatch", "num2", "lower", unit="hours"),
        KPI("mean_queue_length", "queue length", "num2", "lower", unit="jobs waiting"),
        KPI("arrival_rate_per_hour", "arrivals", "num2", "neither", unit="jobs per hour"),
        KPI("total_pay", "total pay", "money0", "neither"),
        KPI("visit_costs", "visit costs", "money0", "lower"),
        KPI("churned_customers", "customers lost", "num1", "lower", unit="per run"),
        KPI("lost_annual_value", "annual value lost", "money0", "lower"),
        KPI("mean_thoroughness", "care (thoroughness)", "num2", "neither",
            unit="1 = normal time"),
        KPI("tech_quits", "technicians who quit", "num1", "lower", unit="per run",
            axis="quits per run", diff_axis="quits"),
        KPI("vacancy_days", "vacancy days", "num1", "lower", unit="days",
            axis="days without a technician", diff_axis="days"),
        KPI("overtime_hours", "overtime", "num2", "lower", unit="hours per tech-day"),
        KPI("loaded_cost_per_visit", "loaded cost per visit", "money", "lower",
            axis=f"{CURRENCY} per visit"),
        KPI("labour_cost", "labour cost", "money0", "lower"),
        KPI("contract_revenue", "contract revenue", "money0", "higher"),
        KPI("tm_jobs", "T&M jobs", "num1", "higher", unit="per run"),
        _thousands("tm_revenue", "T&M revenue"),
        KPI("planned_visits", "planned visits", "num1", "neither", unit="per run"),
        KPI("planned_on_time_rate", "planned visits on time", "pct", "higher",
            axis="% of planned visits"),
        KPI("new_accounts", "new accounts", "num1", "neither", unit="per run"),
        KPI("active_accounts_end", "accounts at the end", "num1", "higher", unit="accounts"),
        KPI("downtime_hours_per_failure", "downtime per failure", "num1", "lower",
            unit="hours"),
        KPI("availability", "availability", "pct", "higher", axis="% of account-hours"),
        KPI("technicians_needed", "technicians", "num1", "lower", unit="technicians"),
        KPI("mean_pace", "pace", "num2", "neither", unit="1 = standard time"),
        KPI("resolved_per_tech_day", "problems fixed per tech-day", "num2", "higher",
            unit="per day", diff_axis="problems/day"),
        KPI("referred_accounts", "referred accounts", "num1", "higher", unit="per run"),
        KPI("weekend_visits", "weekend visits", "num1", "neither", unit="per run"),
        KPI("weekend_response_hours", "weekend response time", "num2", "lower",
            unit="hours"),
        KPI("repeat_cause_parts", "return visits for parts", "pct", "neither",
            axis="% of problems needing a return visit"),
        KPI("repeat_cause_skill", "return visits for skill", "pct", "neither",
            axis="% of problems needing a return visit"),
        KPI("repeat_cause_time", "return visits for time", "pct", "neither",
            axis="% of problems needing a return visit"),
        KPI("repeat_cause_other", "return visits for other causes", "pct", "neither",
            axis="% of problems needing a return visit"),
        KPI("hires", "technicians hired", "num1", "neither", unit="per run",
            axis="hires per run", diff_axis="hires"),
        KPI("mean_skill_end", "skill at the end", "num2", "higher",
            unit="skill of the technicians in post"),
    )
}
# fmt: on


#: How each KPI combines over the parts of a company simulated apart (the regions of a
#: scenario, `sim.metrics.combine`): a KPI named here is a mean or a ratio over its basis
#: (what its denominator counts), recombined as sum(kpi x basis) / sum(basis); every other
#: KPI is a total, summed. `sim.metrics.kpis.replication_kpis` reports each basis.
PER_BASIS: Mapping[str, str] = {
    "first_time_fix_rate": "first_visits_judged",
    "repeat_visit_rate": "repair_visits",
    "callback_rate": "closed_judged",
    "retention_rate": "renewals",
    "nps": "survey_responses",
    "sla_compliance": "contract_repair_visits",
    "jobs_per_tech_day": "tech_days",
    "utilisation": "shift_hours_total",
    "tech_pay_per_day": "tech_days",
    "labour_cost_per_job": "resolved",
    "margin_pct": "revenue",
    "relational_nps": "renewals",
    "mean_response_hours": "contract_repair_visits",
    "mean_wait_hours": "contract_ready",
    "mean_thoroughness": "technicians",
    "overtime_hours": "tech_days",
    "loaded_cost_per_visit": "visits",
    "planned_on_time_rate": "planned_visits",
    "downtime_hours_per_failure": "down_periods_closed",
    "availability": "account_hours",
    "mean_pace": "technicians",
    "resolved_per_tech_day": "tech_days",
    "weekend_response_hours": "weekend_ready",
    "repeat_cause_parts": "first_visits_not_fixed",
    "repeat_cause_skill": "first_visits_not_fixed",
    "repeat_cause_time": "first_visits_not_fixed",
    "repeat_cause_other": "first_visits_not_fixed",
    "mean_skill_end": "technicians_in_post",
}
#: The bases, in a fixed order (the columns of a region's part file).
BASES: tuple[str, ...] = tuple(dict.fromkeys(PER_BASIS.values()))


def _select(names: str) -> tuple[KPI, ...]:
    """The KPIs named in a space-separated list, in that order."""
    return tuple(KPIS[n] for n in names.split())


# --------------------------------------------------------------------------- selections
#: The terminal's tables of a run (`techsim run`), in order.
TERMINAL_KPIS = _select(
    "first_time_fix_rate repeat_visit_rate callback_rate retention_rate nps relational_nps"
    " sla_compliance jobs_per_tech_day utilisation tech_pay_per_day labour_cost_per_job"
    " revenue margin mean_thoroughness mean_pace overtime_hours loaded_cost_per_visit availability"
    " active_accounts_end tm_revenue"
)
#: Attrition: shown in the report and the figures only when somebody quit.
ATTRITION_KPIS = _select("tech_quits vacancy_days hires")
#: The report's KPI tables.
REPORT_KPIS = TERMINAL_KPIS + ATTRITION_KPIS
#: The KPIs the report's executive summary talks about, in order (one that is zero under
#: every scheme, e.g. T&M revenue without T&M calls, is left out).
SUMMARY_KPIS = _select(
    "first_time_fix_rate repeat_visit_rate retention_rate nps sla_compliance"
    " jobs_per_tech_day tech_pay_per_day margin tm_revenue active_accounts_end availability"
    " overtime_hours tech_quits"
)
#: The headline KPIs of the figures (then the attrition KPIs, when somebody quit).
FIGURE_KPIS = _select(
    "first_time_fix_rate repeat_visit_rate retention_rate nps sla_compliance"
    " jobs_per_tech_day tech_pay_per_day margin"
)
#: The business outcomes of a run, one figure (`sim.plots.run`): what the company sells
#: besides contracts, what it keeps, what its customers get, what a visit costs.
BUSINESS_KPIS = _select(
    "tm_revenue active_accounts_end availability overtime_hours loaded_cost_per_visit"
    " planned_on_time_rate"
)
#: The margin and its parts, each with its sign (`sim.metrics.kpis`: margin = contract
#: revenue + T&M revenue - labour cost - visit costs): the report's margin decomposition
#: and its figure (`sim.metrics.stats.decompose`).
MARGIN = KPIS["margin"]
MARGIN_PARTS: tuple[tuple[KPI, int], ...] = tuple(
    zip(_select("contract_revenue tm_revenue labour_cost visit_costs"), (1, 1, -1, -1))
)
#: Why problems needed a return visit, one share per `sim.world.records.CAUSES` (they sum
#: to 1): the report's table and figure of repeat-visit causes.
CAUSE_KPIS = _select("repeat_cause_parts repeat_cause_skill repeat_cause_time repeat_cause_other")
#: The heatmaps of a sweep over two or more parameters.
HEATMAP_KPIS = _select("first_time_fix_rate retention_rate jobs_per_tech_day margin")
#: The best and worst points of a sweep (each needs a better direction).
EXTREMES_KPIS = _select("first_time_fix_rate repeat_visit_rate retention_rate nps margin")
#: The KPIs `techsim sensitivity` analyses when none are named.
SENSITIVITY_KPIS = _select(
    "first_time_fix_rate repeat_visit_rate retention_rate nps margin tech_pay_per_day"
)


# --------------------------------------------------------------------------- numbers
def fmt(value: float | None, kind: Kind, signed: bool = False) -> str:
    """A value as plain text: a share as % (a signed one as pts, 2 decimals); n/a for NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    sign = "+" if signed else ""
    if kind == "pct":
        return f"{100 * value:{sign}.1f}%" if not signed else f"{100 * value:+.2f} pts"
    sep = "," if kind in ("money", "money0") else ""
    return f"{value:{sign}{sep}.{DECIMALS[kind]}f}"
