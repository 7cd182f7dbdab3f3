"""The column mapping of a work-order export (docs/calibration.md, "Other layouts").

A YAML file that says where the layout's columns are in an export, how its statuses read,
and what the export cannot say (the book of accounts, the flat-rate hours, the pay scheme in
force). Validated like a scenario: an unknown key or a wrong type is one line naming the
file and field. `SALESFORCE` is the bundled mapping for Salesforce Field Service.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from sim.calibrate.layout import (
    NO_CONTRACT,
    PLANNED_JOB_TYPE,
    RENEWAL_COLUMNS,
    STATUSES,
    VISIT_COLUMNS,
    names,
)
from sim.config.base import ConfigModel, Pos
from sim.config.load import load_yaml, model_from_dict
from sim.config.schemes import Scheme

SALESFORCE = Path(__file__).with_name("salesforce.yaml")


class OcelNames(ConfigModel):
    """The names an OCEL 2.0 log uses (defaults: those `techsim export --format ocel` writes)."""

    work_order: str = "work order"
    technician: str = "technician"
    account: str = "account"
    created: str = "create work order"
    dispatched: str = "start travel"
    arrival: str = "arrive"
    completion: str = "complete"
    renewed: str = "renew contract"
    lapsed: str = "lapse contract"
    revisit_of: str = "revisit of"
    job_type: str = "job type"
    status: str = "status"
    contract_type: str = "contract type"
    sla_violated: str = "sla violated"
    survey_score: str = "survey score"


class Mapping(ConfigModel):
    format: Literal["csv", "ocel"] = "csv"
    # the layout's column: the export's column
    columns: dict[str, str] = Field(default_factory=dict)
    renewal_columns: dict[str, str] = Field(default_factory=dict)
    # a renewals table beside the visits (relative to the mapping file)
    renewals: str | None = None
    # the export's status: the layout's (fixed, part_needed, not_fixed, completed) or
    # "ignore" (a cancelled order: the row is left out)
    status_values: dict[str, str] = Field(default_factory=dict)
    planned_job_types: list[str] = Field(default_factory=lambda: [PLANNED_JOB_TYPE])
    no_contract: list[str] = Field(default_factory=lambda: [NO_CONTRACT])
    # the export's values that mean "yes" in sla_violated (besides 1, true, yes)
    timestamp_format: str | None = None  # strftime format; default ISO 8601
    # what the export cannot say
    standard_hours: dict[str, Pos] = Field(default_factory=dict)  # flat-rate hours per job type
    accounts: dict[str, Annotated[int, Field(ge=1)]] = Field(default_factory=dict)  # per tier
    current_scheme: Scheme | None = None
    ocel: OcelNames = Field(default_factory=OcelNames)

    @model_validator(mode="after")
    def _check(self) -> Mapping:
        for field, table, known in (
            ("columns", self.columns, names(VISIT_COLUMNS)),
            ("renewal_columns", self.renewal_columns, names(RENEWAL_COLUMNS)),
        ):
            for key in table:
                if key not in known:
                    raise ValueError(
                        f"{field}.{key}: not a column of the layout ({', '.join(known)})"
                    )
        for value, status in self.status_values.items():
            if status not in (*STATUSES, "ignore"):
                raise ValueError(
                    f"status_values.{value}: {status!r} is not one of "
                    f"{', '.join((*STATUSES, 'ignore'))}"
                )
        return self


def load_mapping(path: str | Path | None) -> tuple[Mapping, Path | None]:
    """The mapping in `path` (the layout's own names when None) and its folder."""
    if path is None:
        return Mapping(), None
    data: Any = load_yaml(path)
    return model_from_dict(Mapping, data, str(path), "the mapping"), Path(path).parent
