"""A results directory (a run or a sweep), read once for the figures and the report.

`load_results(path)` reads manifest.json and whichever tables exist (Parquet before CSV),
checks the columns the figures and the report rely on, and returns a `Results`: the tables,
the scheme order of the manifest, the baseline, the scheme labels and colours. Anything
that is not a readable results directory raises `ResultsError` naming the file.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

#: Okabe & Ito (2008), reordered so the first colours are the most distinct on white.
OKABE_ITO: tuple[str, ...] = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#D55E00",
    "#56B4E9",
    "#000000",
    "#F0E442",
)


class ResultsError(ValueError):
    """A directory that is not a readable techsim results directory."""


@dataclass
class Results:
    """The tables of one results directory (a run or a sweep)."""

    path: Path
    manifest: dict[str, Any]
    kind: str
    schemes: list[str]
    baseline: str
    labels: dict[str, str]
    summary: pd.DataFrame
    runs: pd.DataFrame | None = None
    technicians: pd.DataFrame | None = None
    timeseries: pd.DataFrame | None = None
    behaviour: pd.DataFrame | None = None
    sensitivity: pd.DataFrame | None = None
    parameters: list[str] = field(default_factory=list)

    @property
    def colours(self) -> dict[str, str]:
        return scheme_colours(self.schemes)

    @property
    def replications(self) -> int | None:
        r = self.manifest.get("replications")
        return int(r) if isinstance(r, (int, float)) else None

    @property
    def scenario(self) -> dict[str, Any]:
        """The resolved scenario of the manifest ({} when it holds none)."""
        sc = self.manifest.get("scenario")
        return sc if isinstance(sc, dict) else {}

    @property
    def name(self) -> str:
        """The scenario's name (else the directory's)."""
        return str(
            self.manifest.get("scenario_name") or self.scenario.get("name") or self.path.name
        )

    def label(self, scheme: str) -> str:
        return self.labels.get(scheme, scheme)

    def summary_row(self, scheme: str, kpi: str, point: int | None = None) -> pd.Series | None:
        """The summary row of (scheme, KPI), at a sweep's `point` if given; None if absent."""
        s = self.summary
        m = (s["scheme"] == scheme) & (s["kpi"] == kpi)
        if point is not None:
            m &= s["point"] == point
        rows = s[m]
        return None if rows.empty else rows.iloc[0]


def scheme_colours(schemes: list[str]) -> dict[str, str]:
    """Scheme -> colour, by position in the manifest's scheme order."""
    return {s: OKABE_ITO[i % len(OKABE_ITO)] for i, s in enumerate(schemes)}


# --------------------------------------------------------------------------- checks
def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


#: What the figures and the report read of a manifest: key -> (check, what it must be).
_MANIFEST_SHAPE: dict[str, tuple[Any, str]] = {
    "schemes": (lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
                "a list of scheme names"),
    "baseline": (lambda v: v is None or isinstance(v, str), "a scheme name"),
    "scenario": (lambda v: isinstance(v, dict), "a mapping (the resolved scenario)"),
    "parameters": (lambda v: isinstance(v, list)
                   and all(isinstance(x, (str, dict)) for x in v), "a list of parameters"),
    "replications": (lambda v: _is_int(v) and v >= 1, "a whole number >= 1"),
    "seed": (lambda v: _is_int(v) and v >= 0, "a whole number >= 0"),
    "scenario_name": (lambda v: isinstance(v, str), "text"),
    "design": (lambda v: v is None or isinstance(v, (dict, str)), "a mapping"),
    "executor": (lambda v: isinstance(v, dict), "a mapping"),
    "budget_neutral": (lambda v: v is None or (isinstance(v, dict) and isinstance(
        v.get("factors", {}), dict) and all(isinstance(f, (int, float))
                                             for f in v.get("factors", {}).values())),
                       "a mapping with numeric factors"),
    "checksums": (lambda v: isinstance(v, dict) and all(
        isinstance(r, dict) and _is_int(r.get("rows")) and isinstance(r.get("sha256"), str)
        for r in v.values()), "a mapping of file -> rows and sha256"),
}  # fmt: skip


def check_manifest(man: Any, mpath: Path) -> dict[str, Any]:
    """`man` if it has the shape techsim writes; ResultsError naming the field otherwise."""
    if not isinstance(man, dict):
        raise ResultsError(f"{mpath}: not a techsim manifest (not a JSON object)")
    kind = man.get("kind", "run")
    if kind not in ("run", "sweep"):
        raise ResultsError(f"{mpath}: kind: unknown kind {kind!r} (expected run or sweep)")
    for key, (ok, what) in _MANIFEST_SHAPE.items():
        if key in man and not ok(man[key]):
            raise ResultsError(f"{mpath}: {key}: must be {what} (a damaged or edited manifest)")
    sc = man.get("scenario") or {}
    if not isinstance(sc.get("schemes", {}), dict):
        raise ResultsError(f"{mpath}: scenario.schemes: must be a mapping")
    return man


def verified_bytes(path: Path, man: dict[str, Any]) -> bytes:
    """The bytes of a result file, checked: against the manifest's SHA-256 when it records
    one (`checksums`), else a CSV must end with a newline (not cut off mid-line)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ResultsError(f"{path}: cannot be read ({exc.strerror})") from None
    rec = (man.get("checksums") or {}).get(path.name)
    if rec is not None:
        if hashlib.sha256(data).hexdigest() != rec["sha256"]:
            raise ResultsError(
                f"{path}: damaged: its SHA-256 differs from the one in manifest.json "
                f"({rec['rows']} rows written); run the experiment again"
            )
    elif path.suffix == ".csv" and data and not data.endswith(b"\n"):
        raise ResultsError(f"{path}: damaged: cut off in the middle of a line")
    return data


# --------------------------------------------------------------------------- loading
def _read_table(
    path: Path, name: str, man: dict[str, Any], required: bool = False
) -> pd.DataFrame | None:
    """`name`.csv or `name`.parquet, whichever exists (Parquet first), checked
    (`verified_bytes`, and the row count the manifest records)."""
    for p in (path / f"{name}.parquet", path / f"{name}.csv"):
        if p.exists():
            data = verified_bytes(p, man)
            try:
                buf = io.BytesIO(data)
                df = pd.read_parquet(buf) if p.suffix == ".parquet" else pd.read_csv(buf)
            except Exception as exc:
                raise ResultsError(f"{p}: cannot be read ({type(exc).__name__})") from None
            rec = (man.get("checksums") or {}).get(p.name)
            if rec is not None and rec["rows"] != len(df):
                raise ResultsError(f"{p}: damaged: {len(df)} rows, {rec['rows']} written")
            return df
    if required:
        raise ResultsError(f"{path}: not a techsim results directory (no {name}.csv)")
    return None


def _need(df: pd.DataFrame | None, cols: tuple[str, ...], where: Path) -> pd.DataFrame | None:
    if df is None:
        return None
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ResultsError(f"{where}: missing column(s) {', '.join(missing)}")
    return df


def read_json(path: Path) -> Any:
    """A manifest's JSON; ResultsError naming the file when it cannot be read or parsed."""
    try:
        if path.stat().st_size > 64 << 20:
            raise ResultsError(f"{path}: larger than any manifest techsim writes")
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path}: cannot be read ({exc})") from None
    except (ValueError, RecursionError) as exc:
        msg = exc.msg if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
        raise ResultsError(f"{path}: not valid JSON ({msg})") from None


def load_results(path: str | Path) -> Results:
    """Read a results directory; `ResultsError` names the file when it is not one."""
    p = Path(path)
    if not p.exists():
        raise ResultsError(f"{p}: no such directory")
    if not p.is_dir():
        raise ResultsError(f"{p}: not a directory")
    mpath = p / "manifest.json"
    if not mpath.exists():
        raise ResultsError(f"{p}: not a techsim results directory (no manifest.json)")
    man = check_manifest(read_json(mpath), mpath)
    kind = man.get("kind", "run")
    summary = _need(
        _read_table(p, "summary", man, required=True),
        ("scheme", "kpi", "mean", "ci_low", "ci_high"),
        p / "summary.csv",
    )
    if summary is None or summary.empty:
        raise ResultsError(f"{p / 'summary.csv'}: no rows")
    raw = man.get("scenario")
    scenario: dict[str, Any] = raw if isinstance(raw, dict) else {}
    present = list(dict.fromkeys(summary["scheme"].astype(str)))
    order = man.get("schemes") or list((scenario.get("schemes") or {}).keys()) or present
    schemes = [str(s) for s in order if str(s) in present] + [s for s in present if s not in order]
    baseline = man.get("baseline") or scenario.get("baseline")
    if not baseline and "baseline" in summary.columns:
        baseline = str(summary["baseline"].iloc[0])
    baseline = str(baseline) if baseline else schemes[0]
    labels = {}
    for s, spec in (scenario.get("schemes") or {}).items():
        lab = spec.get("label") if isinstance(spec, dict) else None
        labels[str(s)] = str(lab) if lab else str(s)
    params = []
    for prm in man.get("parameters") or []:
        name = prm.get("path") if isinstance(prm, dict) else prm
        if name is not None:
            params.append(str(name))
    summary = summary.assign(scheme=summary["scheme"].astype(str))
    res = Results(
        path=p,
        manifest=man,
        kind=kind,
        schemes=schemes,
        baseline=baseline,
        labels=labels,
        summary=summary,
        parameters=params,
    )
    res.runs = _read_table(p, "runs", man)
    res.technicians = _need(
        _read_table(p, "technicians", man),
        ("scheme", "replication", "tech", "pay_per_day"),
        p / "technicians.csv",
    )
    res.timeseries = _need(
        _read_table(p, "timeseries", man),
        ("scheme", "replication", "week", "active_customers"),
        p / "timeseries.csv",
    )
    res.behaviour = _need(
        _read_table(p, "behaviour", man),
        ("scheme", "replication", "week", "tech", "thoroughness"),
        p / "behaviour.csv",
    )
    res.sensitivity = _need(
        _read_table(p, "sensitivity", man), ("kpi", "parameter", "method"), p / "sensitivity.csv"
    )
    for df in (res.runs, res.technicians, res.timeseries, res.behaviour, res.sensitivity):
        if df is not None and "scheme" in df.columns:
            df["scheme"] = df["scheme"].astype(str)
    return res
