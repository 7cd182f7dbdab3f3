"""The work-order layout techsim reads and writes (docs/calibration.md, "The layout").

One row per visit (a work order, or a service appointment of one): a revisit is a row of its
own whose `root_work_order_id` names the chain's first visit. A second, optional table holds
contract renewals. Any other layout is read through a column mapping (`sim.calibrate.read`).
Only these columns are ever read: anything else in an export (names, addresses, notes) is
never looked at, so it cannot reach a scenario, a report or a log.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Visit columns: (name, required, meaning).
VISIT_COLUMNS: tuple[tuple[str, bool, str], ...] = (
    ("work_order_id", True, "unique id of the visit's work order"),
    (
        "root_work_order_id",
        False,
        "the chain's first work order (empty or itself for a first visit)",
    ),
    ("account_id", True, "the customer account"),
    (
        "contract_type",
        True,
        "the account's contract tier, or the no-contract value for a billable call",
    ),
    ("job_type", True, "the job type; the planned-maintenance value for a planned visit"),
    ("technician_id", True, "the technician who made the visit"),
    ("created", True, "when the work order was created (ready to dispatch)"),
    ("dispatched", False, "when the technician left for the site (travel start)"),
    ("arrival", True, "arrival on site (actual start)"),
    ("completion", True, "the visit finished (actual end)"),
    ("status", True, "fixed, part_needed, not_fixed or completed (planned visits)"),
    ("sla_violated", False, "1 if the arrival broke the contract's response target"),
    ("survey_score", False, "the customer's 0-10 survey answer about the visit"),
)
#: Renewal columns.
RENEWAL_COLUMNS: tuple[tuple[str, bool, str], ...] = (
    ("account_id", True, "the contract account"),
    ("contract_type", False, "its tier"),
    ("renewal_date", True, "the end of the term, when the account renewed or lapsed"),
    ("renewed", True, "1 if the account renewed, 0 if it lapsed"),
)
TIME_COLUMNS = ("created", "dispatched", "arrival", "completion")
STATUSES = ("fixed", "part_needed", "not_fixed", "completed")
#: The values that mark a planned visit and a call without a contract, unless a mapping
#: names others.
PLANNED_JOB_TYPE = "maintenance"
NO_CONTRACT = "none"


def required(columns: tuple[tuple[str, bool, str], ...]) -> list[str]:
    return [name for name, req, _ in columns if req]


def names(columns: tuple[tuple[str, bool, str], ...]) -> list[str]:
    return [name for name, _req, _ in columns]


class ExportError(ValueError):
    """A work-order export that cannot be read: the message names the file, row and column."""


@dataclass(frozen=True)
class Where:
    """A place in an export for `ExportError`: file, 1-based data row, column."""

    file: str
    row: int | None = None
    column: str | None = None

    def error(self, message: str) -> ExportError:
        parts = [self.file]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        return ExportError(f"{', '.join(parts)}: {message}")
