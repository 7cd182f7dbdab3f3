"""The workforce-sizing target (`workforce.sizing`): its syntax and the KPIs it may name.

`fixed` keeps the headcount of `workforce.technicians`; a target `<kpi> <op> <number>`
(op `>=` or `<=`), such as `sla_compliance >= 0.9` or `utilisation <= 0.85`, asks for the
smallest headcount per scheme whose mean KPI meets it (`sim.experiment.sizing`).

A target only has a smallest headcount when the KPI moves one way as technicians are added,
so the KPIs allowed are those that do in expectation, with that direction: a KPI that rises
with headcount takes `>=`, one that falls takes `<=`. Every name is a runs.csv KPI column
(`sim.metrics.catalogue`; tests/test_sizing.py checks it: config may not import metrics).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

#: KPIs a headcount can be sized to: how each moves as technicians are added, and whether it
#: is a share (a target between 0 and 1).
SIZING_KPIS: dict[str, tuple[Literal["rises", "falls"], bool]] = {
    "sla_compliance": ("rises", True),
    "availability": ("rises", True),
    "planned_on_time_rate": ("rises", True),
    "utilisation": ("falls", True),
    "mean_response_hours": ("falls", False),
    "mean_wait_hours": ("falls", False),
    "mean_queue_length": ("falls", False),
    "downtime_hours_per_failure": ("falls", False),
    "jobs_per_tech_day": ("falls", False),
}

FIXED = "fixed"
_SYNTAX = re.compile(
    r"^\s*(?P<kpi>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op>>=|<=|=>|=<|>|<|==|=)\s*"
    r"(?P<value>[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)\s*$"
)


@dataclass(frozen=True)
class SizingTarget:
    """`kpi op value`: the mean KPI over the search's replications must satisfy it."""

    kpi: str
    op: Literal[">=", "<="]
    value: float

    def met(self, mean: float) -> bool:
        """Whether a mean KPI meets the target (NaN never does)."""
        return mean >= self.value if self.op == ">=" else mean <= self.value

    def __str__(self) -> str:
        return f"{self.kpi} {self.op} {self.value:g}"


def parse_target(text: str) -> SizingTarget | None:
    """`fixed` -> None; `<kpi> <op> <number>` -> a SizingTarget; otherwise ValueError, one
    line saying what is wrong (the caller names the input: field path or option)."""
    if text.strip() == FIXED:
        return None
    m = _SYNTAX.match(text)
    if m is None:
        raise ValueError(
            "must be 'fixed' or a target '<kpi> >= <number>' or '<kpi> <= <number>' "
            "(e.g. 'sla_compliance >= 0.9')"
        )
    kpi, op, value = m["kpi"], m["op"], float(m["value"])
    if op not in (">=", "<="):
        raise ValueError(f"the comparison must be >= or <=, not {op!r}")
    if kpi not in SIZING_KPIS:
        raise ValueError(
            f"{kpi!r} is not a KPI a headcount can be sized to (one of {', '.join(SIZING_KPIS)})"
        )
    direction, share = SIZING_KPIS[kpi]
    want = ">=" if direction == "rises" else "<="
    if op != want:
        raise ValueError(
            f"{kpi} {direction} as technicians are added, so only a target "
            f"'{kpi} {want} <number>' has a smallest headcount"
        )
    if share and not 0.0 <= value <= 1.0:
        raise ValueError(f"{kpi} is a share; give the target between 0 and 1")
    if value < 0.0:
        raise ValueError("the target must not be negative")
    return SizingTarget(kpi, ">=" if op == ">=" else "<=", value)
