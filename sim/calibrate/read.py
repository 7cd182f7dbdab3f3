"""Reading a work-order export into the layout's tables (docs/calibration.md).

`read_export(path, fmt, mapping)` reads a CSV export (the layout's columns, or others through
a mapping; `salesforce` is a CSV read through the bundled Salesforce mapping) or an OCEL 2.0
JSON log, and checks it: required columns present, timestamps parseable, each visit's times
in order (created <= dispatched <= arrival <= completion), work-order ids unique, statuses
known, survey scores 0-10. The first problem raises `ExportError` naming the file, the data
row (counted from 1, after the header) and the column. Only the layout's columns are kept.
"""

from __future__ import annotations

import csv
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibrate.layout import (
    RENEWAL_COLUMNS,
    STATUSES,
    TIME_COLUMNS,
    VISIT_COLUMNS,
    ExportError,
    Where,
    names,
    required,
)
from sim.calibrate.mapping import SALESFORCE, Mapping, load_mapping
from sim.calibrate.ocel import read_ocel

#: The largest export read (a national provider's year is ~10 million visits; beyond this,
#: calibrate from a sample of regions or a shorter period).
MAX_BYTES = 4 << 30
YES = {"1", "true", "yes", "y", "t"}
NO = {"0", "false", "no", "n", "f", ""}


@dataclass
class Export:
    """An export read into the layout: visits (one row per visit, times as timestamps) and
    renewals (None when the export has none), with what was found missing on the way."""

    visits: pd.DataFrame
    renewals: pd.DataFrame | None
    source: str
    mapping: Mapping
    notes: list[str] = field(default_factory=list)

    @property
    def linked(self) -> bool:
        """Whether revisits name their chain's first visit (a root_work_order_id that is
        not the visit's own): else chains, first-time fix and part availability are unseen."""
        v = self.visits
        return bool((v["root_work_order_id"] != v["work_order_id"]).any())

    @property
    def has(self) -> set[str]:
        """The optional visit columns the export holds (not all empty)."""
        return {
            c for c in names(VISIT_COLUMNS) if c in self.visits and self.visits[c].notna().any()
        }


def read_export(
    path: str | Path,
    fmt: str = "csv",
    mapping_path: str | Path | None = None,
    renewals_path: str | Path | None = None,
) -> Export:
    """Read and check an export; ExportError (or ScenarioError for the mapping) otherwise."""
    if fmt == "salesforce" and mapping_path is None:
        mapping_path = SALESFORCE
    mapping, folder = load_mapping(mapping_path)
    p = Path(path)
    _check_file(p)
    if fmt == "ocel" or (fmt != "salesforce" and mapping.format == "ocel" and mapping_path):
        visits, renewals = read_ocel(p, mapping)
    else:
        raw = _read_csv(p)
        visits = _from_columns(raw, mapping.columns, VISIT_COLUMNS, str(p))
        renewals = None
        rpath = renewals_path or (
            folder / mapping.renewals if mapping.renewals and folder else None
        )
        if rpath is not None:
            _check_file(Path(rpath))
            rraw = _read_csv(Path(rpath))
            renewals = _from_columns(rraw, mapping.renewal_columns, RENEWAL_COLUMNS, str(rpath))
    if renewals_path is not None and fmt == "ocel":
        raise ExportError(f"{renewals_path}: an OCEL log holds its renewals; drop --renewals")
    ex = Export(visits, renewals, str(p), mapping)
    ex.visits = _check_visits(visits, mapping, str(p), ex.notes)
    if ex.renewals is not None:
        rsrc = str(
            renewals_path or (folder / mapping.renewals if folder and mapping.renewals else p)
        )
        ex.renewals = _within(_check_renewals(ex.renewals, rsrc), ex.visits, rsrc, ex.notes)
    return ex


#: How far outside the visits' period a renewal may fall (a renewal just before the first
#: visit in the export is still the export's).
SLACK = pd.Timedelta(days=7)


def _within(ren: pd.DataFrame, visits: pd.DataFrame, src: str, notes: list[str]) -> pd.DataFrame:
    """The renewals within the visits' period: none is an error (the two files cover
    different times); those outside are left out with a note (their terms' problems are
    not in the export, and they would inflate the book)."""
    if ren.empty:
        return ren
    t0, t1 = visits["created"].min(), visits["completion"].max()
    out = ((ren["renewal_date"] < t0 - SLACK) | (ren["renewal_date"] > t1 + SLACK)).to_numpy()
    if out.all():
        raise Where(src, None, "renewal_date").error(
            f"no renewal falls in the export's period ({t0:%Y-%m-%d} to {t1:%Y-%m-%d}): do "
            "the two files cover the same time?"
        )
    if out.any():
        notes.append(
            f"{int(out.sum())} of {len(ren):,} renewals fall outside the export's period "
            f"({t0:%Y-%m-%d} to {t1:%Y-%m-%d}) and are left out"
        )
    return ren[~out].reset_index(drop=True)


def from_frames(
    visits: pd.DataFrame, renewals: pd.DataFrame | None, source: str, mapping: Mapping | None = None
) -> Export:
    """An export already in the layout's columns (`sim.calibrate.export.workorders`), checked
    and completed as `read_export` does a file."""
    m = mapping if mapping is not None else Mapping()
    ex = Export(visits, renewals, source, m)
    ex.visits = _check_visits(visits.astype({"status": str}), m, source, ex.notes)
    if renewals is not None:
        ex.renewals = _check_renewals(renewals.astype({"renewed": str}), source)
    return ex


def _check_file(p: Path) -> None:
    if not p.exists():
        raise ExportError(f"{p}: file not found")
    if p.is_dir():
        raise ExportError(f"{p}: is a directory, not an export file")
    if p.stat().st_size > MAX_BYTES:
        raise ExportError(f"{p}: larger than {MAX_BYTES >> 30} GiB")


def _read_csv(p: Path) -> pd.DataFrame:
    try:
        with p.open(encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh), [])
        raw = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8")
        raw.attrs["twice"] = sorted({h for h in header if header.count(h) > 1})
        return raw
    except UnicodeDecodeError as exc:
        raise ExportError(f"{p}: not UTF-8 text (byte {exc.start})") from None
    except pd.errors.EmptyDataError:
        raise ExportError(f"{p}: empty file (no header row)") from None
    except (pd.errors.ParserError, csv.Error, ValueError) as exc:
        text = " ".join(str(exc).split())
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
        if m:
            want, line, saw = (int(x) for x in m.groups())
            raise Where(str(p), line - 1).error(
                f"{saw} fields where the header has {want}"
            ) from None
        m = re.search(r"EOF inside string starting at row (\d+)", text)
        if m:
            raise Where(str(p), int(m.group(1))).error("a quote is never closed") from None
        raise ExportError(f"{p}: not a CSV table ({' '.join(str(exc).split())[:120]})") from None
    except OSError as exc:
        raise ExportError(f"{p}: cannot read ({exc.strerror or exc})") from None


def _from_columns(
    raw: pd.DataFrame, columns: dict[str, str], layout: tuple[tuple[str, bool, str], ...], src: str
) -> pd.DataFrame:
    """The layout's columns of `raw`, found under the mapping's names (else their own)."""
    out = {}
    twice = raw.attrs.get("twice", [])
    for name, req, _ in layout:
        col = columns.get(name, name)
        if col in twice:
            raise ExportError(
                f"{src}: column {col!r}: named more than once in the header (rename the others)"
            )
        if col in raw.columns:
            out[name] = raw[col].astype(str).str.strip()
        elif req:
            where = f" (mapped from {col!r})" if col != name else ""
            raise ExportError(f"{src}: column {name!r}{where}: required, not in the file")
    return pd.DataFrame(out, index=raw.index)


def _times(df: pd.DataFrame, col: str, src: str, fmt: str | None, need: bool) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(df[col]):
        return df[col]
    text = df[col].replace("", np.nan)
    if not fmt:
        # the local wall clock (a shift starts at 8 wherever it is): `_same_zones` saw that
        # all carry a zone or none do
        text = text.str.replace(ZONE, "", regex=True)
    try:
        parsed = pd.to_datetime(text, format=fmt or "ISO8601", errors="coerce", utc=True)
    except ValueError as exc:
        raise Where(src, None, col).error(
            f"the mapping's timestamp_format {fmt!r} is not a strptime format ({exc})"
        ) from None
    bad = parsed.isna() & (text.notna() | need)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        value = df[col].iloc[i]
        what = "empty" if not value else f"not a timestamp ({value[:40]!r})"
        if value and fmt:
            what += f" in the mapping's timestamp_format {fmt!r}"
        raise Where(src, i + 1, col).error(what)
    return parsed.dt.tz_localize(None)


def _check_visits(df: pd.DataFrame, mapping: Mapping, src: str, notes: list[str]) -> pd.DataFrame:
    df = df.copy()
    if df.empty:
        raise ExportError(f"{src}: no visits")
    for col in required(VISIT_COLUMNS):
        empty = df[col] == ""
        if col == "contract_type" and "" in mapping.no_contract:
            continue  # an empty contract is a call without one
        if col not in TIME_COLUMNS and empty.any():
            raise Where(src, int(np.flatnonzero(empty.to_numpy())[0]) + 1, col).error("empty")
    status = df["status"].map(lambda s: mapping.status_values.get(s, s))
    bad = ~status.isin([*STATUSES, "ignore"])
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise Where(src, i + 1, "status").error(
            f"{df['status'].iloc[i][:40]!r} is not a status ({', '.join(STATUSES)}); map the "
            "export's values in the mapping's status_values"
        )
    df["status"] = status
    dup = df["work_order_id"].duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise Where(src, i + 1, "work_order_id").error(
            f"duplicate id {df['work_order_id'].iloc[i][:40]!r}"
        )
    _same_zones(df, src)
    for col in TIME_COLUMNS:
        if col in df:
            df[col] = _times(df, col, src, mapping.timestamp_format, col != "dispatched")
    order = [c for c in TIME_COLUMNS if c in df]
    for a, b in itertools.pairwise(order):
        wrong = (df[b] < df[a]).to_numpy()
        if wrong.any():
            i = int(np.flatnonzero(wrong)[0])
            raise Where(src, i + 1, b).error(f"before {a} (times out of order)")
    for a, b, most, what in SPANS:
        if a in df:
            long = (df[b] - df[a] > most).to_numpy()
            if long.any():
                i = int(np.flatnonzero(long)[0])
                raise Where(src, i + 1, b).error(
                    f"{(df[b].iloc[i] - df[a].iloc[i]).days} days after {a} ({what} is at most "
                    f"{most.days} days; a wrong year?)"
                )
    mid = df["created"].median()
    off = (df["created"] - mid).abs()
    if off.max() > LONGEST / 2:
        i = int(off.to_numpy().argmax())
        raise Where(src, i + 1, "created").error(
            f"{df['created'].iloc[i]:%Y-%m-%d}, {off.iloc[i].days // 365} years from the "
            "export's other visits (a wrong year?)"
        )
    if "dispatched" not in df:
        df["dispatched"] = pd.Series(pd.NaT, index=df.index, dtype=df["arrival"].dtype)
    if "sla_violated" in df:
        df["sla_violated"] = _flags(df["sla_violated"], src, "sla_violated", allow_empty=True)
    if "survey_score" in df:
        text = df["survey_score"].replace("", np.nan)
        score = pd.to_numeric(text, errors="coerce")
        bad = (text.notna() & score.isna()) | (score < 0) | (score > 10)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise Where(src, i + 1, "survey_score").error(
                f"not a score from 0 to 10 ({df['survey_score'].iloc[i][:20]!r})"
            )
        df["survey_score"] = score
    if "root_work_order_id" not in df:
        df["root_work_order_id"] = ""
    linked = (df["root_work_order_id"] != "") & (df["root_work_order_id"] != df["work_order_id"])
    if not linked.any():
        notes.append(
            "no root_work_order_id (or none names another visit): revisits cannot be linked "
            "to their first visit, so first-time fix, part availability, the skill spread and "
            "the delays before a revisit or a callback keep the template's values"
        )
    if "sla_violated" not in df or df["sla_violated"].isna().all():
        notes.append(
            "no sla_violated: SLA compliance is not measured, and churn does not tell late "
            "problems from first-time fixes"
        )
    ignored = int((df["status"] == "ignore").sum())
    if ignored:
        notes.append(f"{ignored} visits with a status mapped to 'ignore' left out")
        df = df[df["status"] != "ignore"]
    # the mapping's lists as given: [] means "none of them" (the defaults are its defaults)
    df["planned"] = df["job_type"].isin(mapping.planned_job_types)
    df["contract"] = ~df["contract_type"].isin(mapping.no_contract)
    root = df["root_work_order_id"].where(df["root_work_order_id"] != "", df["work_order_id"])
    df["root_work_order_id"] = root
    orphan = ~root.isin(df["work_order_id"])
    if orphan.any():
        notes.append(
            f"{int(orphan.sum())} revisits whose first visit is not in the export (it began "
            "before the export's period): their chains are left out of the chain statistics"
        )
    df["orphan"] = orphan
    return df.reset_index(drop=True)


#: (from, to, the longest, what): a longer span is a wrong timestamp (a year off, a
#: placeholder like 9999-12-31 or 1970-01-01), which would stretch the export's period.
SPANS = (
    ("dispatched", "arrival", pd.Timedelta(days=7), "travel"),
    ("arrival", "completion", pd.Timedelta(days=7), "a visit"),
    ("created", "arrival", pd.Timedelta(days=366), "the wait for a visit"),
)
#: The longest period an export may span.
LONGEST = pd.Timedelta(days=20 * 365)
ZONE = re.compile(r"(?:[zZ]|[+-]\d\d:?\d\d)$")


def _same_zones(df: pd.DataFrame, src: str) -> None:
    """Refuse timestamps some with a time zone (or offset), some without: the naive ones
    would be read as UTC, hours off from the others."""
    first: bool | None = None
    for col in TIME_COLUMNS:
        if col not in df or pd.api.types.is_datetime64_any_dtype(df[col]):
            continue
        text = df[col]
        filled = (text != "").to_numpy()
        zoned = text.str.contains(ZONE).to_numpy()
        if not filled.any():
            continue
        if first is None:
            first = bool(zoned[filled][0])
        odd = filled & (zoned != first)
        if odd.any():
            i = int(np.flatnonzero(odd)[0])
            has = "has a time zone" if not first else "has no time zone"
            other = "others have none" if not first else "others have one"
            raise Where(src, i + 1, col).error(
                f"{has} ({text.iloc[i][:40]!r}) where {other}: give every timestamp the same way"
            )


def _flags(s: pd.Series, src: str, col: str, allow_empty: bool) -> pd.Series:
    low = s.astype(str).str.strip().str.lower()
    ok = low.isin(YES | NO) if allow_empty else low.isin((YES | NO) - {""})
    if not ok.all():
        i = int(np.flatnonzero(~ok.to_numpy())[0])
        raise Where(src, i + 1, col).error(f"not 1/0, true/false or yes/no ({s.iloc[i][:20]!r})")
    out = low.map(lambda v: 1.0 if v in YES else (np.nan if v == "" else 0.0))
    return out.astype(float)


def _check_renewals(df: pd.DataFrame, src: str) -> pd.DataFrame:
    df = df.copy()
    df["renewal_date"] = _times(df, "renewal_date", src, None, True)
    df["renewed"] = _flags(df["renewed"], src, "renewed", allow_empty=False).astype(int)
    empty = df["account_id"] == ""
    if empty.any():
        raise Where(src, int(np.flatnonzero(empty.to_numpy())[0]) + 1, "account_id").error("empty")
    return df.reset_index(drop=True)
