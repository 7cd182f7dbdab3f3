"""A results directory (a run or a sweep), read once for the figures and the report.

`load_results(path)` reads manifest.json and whichever tables exist (Parquet before CSV),
checks the columns the figures and the report rely on, and returns a `Results`: the tables,
the scheme order of the manifest, the baseline, the scheme labels and colours. Anything
that is not a readable results directory raises `ResultsError` naming the file.
"""

from __future__ import annotations

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


def scheme_colours(schemes: list[str]) -> dict[str, str]:
    """Scheme -> colour, by position in the manifest's scheme order."""
    return {s: OKABE_ITO[i % len(OKABE_ITO)] for i, s in enumerate(schemes)}


# --------------------------------------------------------------------------- loading
def _read_table(path: Path, name: str, required: bool = False) -> pd.DataFrame | None:
    """`name`.csv or `name`.parquet, whichever exists (Parquet first)."""
    for p in (path / f"{name}.parquet", path / f"{name}.csv"):
        if p.exists():
            try:
                return pd.read_parquet(p) if p.suffix == ".parquet" else pd.read_csv(p)
            except Exception as exc:
                raise ResultsError(f"{p}: cannot be read ({type(exc).__name__}: {exc})") from None
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
    try:
        man = json.loads(mpath.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultsError(f"{mpath}: not valid JSON ({exc})") from None
    if not isinstance(man, dict):
        raise ResultsError(f"{mpath}: not a techsim manifest (not a JSON object)")
    kind = man.get("kind", "run")
    if kind not in ("run", "sweep"):
        raise ResultsError(f"{mpath}: kind: unknown kind {kind!r} (expected run or sweep)")
    summary = _need(
        _read_table(p, "summary", required=True),
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
    res.runs = _read_table(p, "runs")
    res.technicians = _need(
        _read_table(p, "technicians"),
        ("scheme", "replication", "tech", "pay_per_day"),
        p / "technicians.csv",
    )
    res.timeseries = _need(
        _read_table(p, "timeseries"),
        ("scheme", "replication", "week", "active_customers"),
        p / "timeseries.csv",
    )
    res.behaviour = _need(
        _read_table(p, "behaviour"),
        ("scheme", "replication", "week", "tech", "thoroughness"),
        p / "behaviour.csv",
    )
    res.sensitivity = _need(
        _read_table(p, "sensitivity"), ("kpi", "parameter", "method"), p / "sensitivity.csv"
    )
    for df in (res.runs, res.technicians, res.timeseries, res.behaviour, res.sensitivity):
        if df is not None and "scheme" in df.columns:
            df["scheme"] = df["scheme"].astype(str)
    return res
