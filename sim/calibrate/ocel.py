"""Reading an OCEL 2.0 log (JSON) into the work-order layout (docs/calibration.md, "OCEL 2.0").

Objects of the mapping's work-order type become visits: their attributes (at their latest
time) the job type, status, contract type, SLA flag and survey score; their events the
visit's times (creation, travel start, arrival, completion) and, by the events' relations,
the account and the technician; a revisit relates to its chain's first work order. Renew
and lapse events become renewals. A malformed object or event raises `ExportError` naming
its position. The result is checked like a CSV export (`sim.calibrate.read`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.calibrate.layout import RENEWAL_COLUMNS, VISIT_COLUMNS, ExportError, Where, names
from sim.calibrate.mapping import Mapping


def read_ocel(p: Path, mapping: Mapping) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """An OCEL 2.0 JSON log as the layout's tables: each work-order object a visit, its
    times from its events, its technician from the arrival's relations, its account from
    the creation's; renewals from the renew and lapse events (names: the mapping's `ocel`)."""
    o = mapping.ocel
    try:
        log = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ExportError(f"{p}: not an OCEL 2.0 JSON log ({type(exc).__name__})") from None
    src = str(p)
    if (
        not isinstance(log, dict)
        or not isinstance(log.get("objects"), list)
        or not isinstance(log.get("events"), list)
    ):
        raise ExportError(f"{src}: not an OCEL 2.0 JSON log (no 'objects' and 'events' lists)")
    types: dict[str, str] = {}
    first_row: dict[str, int] = {}
    rows: dict[str, dict[str, Any]] = {}
    for k, ob in enumerate(log["objects"]):
        where = Where(src, k + 1, "objects")
        if not isinstance(ob, dict) or "id" not in ob or "type" not in ob:
            raise where.error("an object needs an id and a type")
        if not isinstance(ob["id"], str | int) or isinstance(ob["id"], bool):
            raise where.error(f"an object's id is text, not {type(ob['id']).__name__}")
        if str(ob["id"]) in types:
            raise where.error(f"duplicate object id {str(ob['id'])[:40]!r}")
        types[str(ob["id"])] = str(ob["type"])
        if ob["type"] != o.work_order:
            continue
        attrs = _latest(_list(ob, "attributes", where), where)
        row: dict[str, Any] = {
            "work_order_id": str(ob["id"]),
            "job_type": attrs.get(o.job_type, ""),
            "status": attrs.get(o.status, ""),
            "contract_type": attrs.get(o.contract_type, ""),
            "sla_violated": attrs.get(o.sla_violated, ""),
            "survey_score": attrs.get(o.survey_score, ""),
            "root_work_order_id": "",
        }
        for rel in _list(ob, "relationships", where):
            if isinstance(rel, dict) and rel.get("qualifier") == o.revisit_of:
                row["root_work_order_id"] = str(rel.get("objectId", ""))
        rows[row["work_order_id"]] = row
        first_row[row["work_order_id"]] = k + 1
    steps = {
        o.created: "created",
        o.dispatched: "dispatched",
        o.arrival: "arrival",
        o.completion: "completion",
    }
    renewals = []
    times: list[Any] = []
    for k, ev in enumerate(log["events"]):
        where = Where(src, k + 1, "events")
        if not isinstance(ev, dict) or "type" not in ev or "time" not in ev:
            raise where.error("an event needs a type and a time")
        rel = [r for r in _list(ev, "relationships", where) if isinstance(r, dict)]
        times.append(ev["time"])
        by_type = {types.get(str(r.get("objectId")), ""): str(r.get("objectId")) for r in rel}
        if ev["type"] in steps:
            wo = by_type.get(o.work_order)
            if wo is None or wo not in rows:
                raise where.error(f"a {ev['type']!r} event relates to no work order")
            rows[wo][steps[ev["type"]]] = str(ev["time"])
            if o.account in by_type:
                rows[wo]["account_id"] = by_type[o.account]
            if o.technician in by_type and ev["type"] != o.created:
                rows[wo]["technician_id"] = by_type[o.technician]
        elif ev["type"] in (o.renewed, o.lapsed):
            acc = by_type.get(o.account)
            if acc is None:
                raise where.error(f"a {ev['type']!r} event relates to no account")
            ev_attrs: dict[str, Any] = {
                str(a.get("name")): a.get("value")
                for a in _list(ev, "attributes", where)
                if isinstance(a, dict)
            }
            renewals.append(
                {
                    "account_id": acc,
                    "contract_type": str(ev_attrs.get(o.contract_type, "")),
                    "renewal_date": str(ev["time"]),
                    "renewed": "1" if ev["type"] == o.renewed else "0",
                }
            )
    parsed = pd.to_datetime(
        pd.Series([t if isinstance(t, str) else "" for t in times], dtype=object),
        format="ISO8601",
        errors="coerce",
        utc=True,
    )
    if parsed.isna().any():
        k = int(np.flatnonzero(parsed.isna().to_numpy())[0])
        raise Where(src, k + 1, "events").error(f"'time' is not a timestamp ({times[k]!r:.40})")
    for wo, row in rows.items():
        for step in (o.created, o.arrival, o.completion):
            if steps[step] not in row:
                raise Where(src, first_row[wo], "objects").error(
                    f"work order {wo[:40]!r} has no {step!r} event"
                )
    visits = pd.DataFrame(list(rows.values()), columns=names(VISIT_COLUMNS)).fillna("")
    visits = visits.astype(str).replace({"nan": ""})
    ren = pd.DataFrame(renewals, columns=names(RENEWAL_COLUMNS)) if renewals else None
    return visits, ren


def _list(item: dict[str, Any], key: str, where: Where) -> list[Any]:
    """An OCEL object's or event's list under `key` (none when absent)."""
    value = item.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise where.error(f"{key!r} is not a list")
    return value


def _latest(attrs: list[Any], where: Where) -> dict[str, str]:
    """An OCEL object's attributes at their latest time."""
    out: dict[str, tuple[str, str]] = {}
    for a in attrs:
        if not isinstance(a, dict) or not isinstance(a.get("name"), str):
            raise where.error("an attribute needs a name")
        t = str(a.get("time", ""))
        if a["name"] not in out or t >= out[a["name"]][0]:
            val = a.get("value", "")
            out[a["name"]] = (t, "" if val is None else str(val))
    return {k: v for k, (_t, v) in out.items()}
