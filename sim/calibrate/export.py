"""A simulated run as a work-order export (docs/calibration.md, "Export").

`workorders(scenario, world, out)` turns one simulation's visit and renewal records into the
tables of `sim.calibrate.layout`: one row per visit of the problems that began after the
warm-up, and the renewals after it. `ocel(...)` writes the same as an OCEL 2.0 log (JSON):
work orders, technicians and accounts as objects, the visit's steps and the renewals as
events. Both read back through `sim.calibrate.read`, so a run round-trips through the
calibration.

What the model does not hold is written as a real system would show it: times as
timestamps from `START` (a Monday, the model's day 0); a visit that looked fixed is closed
"fixed" (its callback is the next visit of the chain); the survey's category as a score
(promoter 10, passive 8, detractor 4: the model draws categories, not scores).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.calibrate.layout import (
    NO_CONTRACT,
    PLANNED_JOB_TYPE,
    RENEWAL_COLUMNS,
    VISIT_COLUMNS,
    names,
)
from sim.config.scenario import Scenario
from sim.model.output import Output
from sim.world.draws import World
from sim.world.records import (
    DETRACTOR,
    FIXED,
    LOOKED_FIXED,
    MAINTAINED,
    NOT_FIXED,
    PART_MISSING,
    PASSIVE,
    PROMOTER,
    RENEWAL_FIELDS,
)

if TYPE_CHECKING:
    import pandas as pd

#: The model's hour 0 as a date: a Monday at midnight.
START = "2025-01-06T00:00:00"
STATUS = {
    FIXED: "fixed",
    LOOKED_FIXED: "fixed",
    PART_MISSING: "part_needed",
    NOT_FIXED: "not_fixed",
    MAINTAINED: "completed",
}
SCORE = {PROMOTER: 10.0, PASSIVE: 8.0, DETRACTOR: 4.0}


def _stamps(hours: np.ndarray) -> pd.DatetimeIndex:
    import pandas as pd

    return pd.Timestamp(START) + pd.to_timedelta(np.round(hours * 3600.0), unit="s")


def workorders(scenario: Scenario, world: World, out: Output) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(visits, renewals) of one simulation as the layout's tables, after the warm-up."""
    import pandas as pd

    warm = scenario.warmup_days * 24.0
    types = [*scenario.jobs.types, PLANNED_JOB_TYPE]
    tiers = [*scenario.customers.tiers, NO_CONTRACT]
    cols = out.visits.columns()
    keep = cols["t_failure"] >= warm
    ints = ("problem", "customer", "visit_no", "tech", "job_type", "outcome", "late", "survey")
    v = {f: (a[keep].astype(int) if f in ints else a[keep]) for f, a in cols.items()}
    n = int(keep.sum())
    if n == 0:
        visits = pd.DataFrame(columns=names(VISIT_COLUMNS))
    else:
        problem, visit_no, cust = v["problem"], v["visit_no"], v["customer"]
        contract = cust >= 0
        tier_of = np.array(world.tier)
        tier = np.where(contract, tier_of[np.maximum(cust, 0)], len(tiers) - 1)
        wo = [f"WO{p}-{k}" for p, k in zip(problem, visit_no)]
        root = ["" if k == 1 else f"WO{p}-1" for p, k in zip(problem, visit_no)]
        account = [f"A{c}" if c >= 0 else f"C{p}" for c, p in zip(cust, problem)]
        planned = v["job_type"] == len(types) - 1
        visits = pd.DataFrame(
            {
                "work_order_id": wo,
                "root_work_order_id": root,
                "account_id": account,
                "contract_type": [tiers[t] for t in tier],
                "job_type": [types[j] for j in v["job_type"]],
                "technician_id": [f"T{t}" for t in v["tech"]],
                "created": _stamps(v["t_ready"]),
                "dispatched": _stamps(v["t_start"]),
                "arrival": _stamps(v["t_arrive"]),
                "completion": _stamps(v["t_done"]),
                "status": [STATUS[o] for o in v["outcome"]],
                "sla_violated": np.where(planned, 0, v["late"]).astype(int),
                "survey_score": [SCORE.get(s, math.nan) for s in v["survey"]],
            }
        )
        visits = visits.sort_values(["created", "work_order_id"], kind="stable")
    ren = [r for r in out.renewals if r[1] >= warm]
    rn = {f: np.array([r[k] for r in ren]) for k, f in enumerate(RENEWAL_FIELDS)}
    renewals = pd.DataFrame(
        {
            "account_id": [f"A{c}" for c in rn.get("customer", [])],
            "contract_type": [tiers[world.tier[c]] for c in rn.get("customer", [])],
            "renewal_date": _stamps(rn["t"]) if ren else pd.DatetimeIndex([]),
            "renewed": np.asarray(rn.get("renewed", []), dtype=int),
        },
        columns=names(RENEWAL_COLUMNS),
    )
    return visits.reset_index(drop=True), renewals


def _iso(ts: Any) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def ocel(visits: pd.DataFrame, renewals: pd.DataFrame) -> dict[str, Any]:
    """The layout's tables as an OCEL 2.0 log (the JSON serialisation): objects work order
    (job type, status, survey score, contract type), technician and account; events
    "create work order", "start travel", "arrive", "complete", "renew contract" and
    "lapse contract"; a revisit's work order relates to its chain's first ("revisit of")."""
    epoch = "1970-01-01T00:00:00Z"
    objects: dict[str, dict[str, Any]] = {}
    events: list[dict[str, Any]] = []

    def obj(oid: str, otype: str, attrs: dict[str, Any] | None = None) -> dict[str, Any]:
        if oid not in objects:
            objects[oid] = {
                "id": oid,
                "type": otype,
                "attributes": [
                    {"name": k, "time": epoch, "value": val} for k, val in (attrs or {}).items()
                ],
                "relationships": [],
            }
        return objects[oid]

    def event(etype: str, time: Any, rel: list[tuple[str, str]], **attrs: Any) -> None:
        events.append(
            {
                "id": f"e{len(events)}",
                "type": etype,
                "time": _iso(time),
                "attributes": [{"name": k, "value": val} for k, val in attrs.items()],
                "relationships": [{"objectId": o, "qualifier": q} for o, q in rel],
            }
        )

    for r in visits.to_dict("records"):
        attrs: dict[str, Any] = {
            "job type": r["job_type"],
            "status": r["status"],
            "contract type": r["contract_type"],
            "sla violated": int(r["sla_violated"]),
        }
        if not (isinstance(r["survey_score"], float) and math.isnan(r["survey_score"])):
            attrs["survey score"] = float(r["survey_score"])
        wo = obj(r["work_order_id"], "work order", attrs)
        if r["root_work_order_id"]:
            wo["relationships"].append(
                {"objectId": r["root_work_order_id"], "qualifier": "revisit of"}
            )
        obj(r["account_id"], "account")
        obj(r["technician_id"], "technician")
        w, a, t = r["work_order_id"], r["account_id"], r["technician_id"]
        event("create work order", r["created"], [(w, "work order"), (a, "account")])
        event("start travel", r["dispatched"], [(w, "work order"), (t, "technician")])
        event("arrive", r["arrival"], [(w, "work order"), (t, "technician")])
        event("complete", r["completion"], [(w, "work order"), (t, "technician")])
    for r in renewals.to_dict("records"):
        obj(r["account_id"], "account")
        kind = "renew contract" if int(r["renewed"]) else "lapse contract"
        event(
            kind,
            r["renewal_date"],
            [(r["account_id"], "account")],
            **{"contract type": r["contract_type"]},
        )
    string = "string"
    return {
        "objectTypes": [
            {
                "name": "work order",
                "attributes": [
                    {"name": "job type", "type": string},
                    {"name": "status", "type": string},
                    {"name": "contract type", "type": string},
                    {"name": "sla violated", "type": "integer"},
                    {"name": "survey score", "type": "float"},
                ],
            },
            {"name": "technician", "attributes": []},
            {"name": "account", "attributes": []},
        ],
        "eventTypes": [
            {"name": e, "attributes": []}
            for e in ("create work order", "start travel", "arrive", "complete")
        ]
        + [
            {"name": e, "attributes": [{"name": "contract type", "type": string}]}
            for e in ("renew contract", "lapse contract")
        ],
        "objects": list(objects.values()),
        "events": events,
    }
