"""The tables of a what-if analysis (`sim.sweep.whatif`): where a scanned difference
changes sign (`flip_points`, linear interpolation between neighbouring values), the scan's
rows (whatif_scan.csv), the per-assumption table (whatif.csv) and the assumptions the
screening ranks highest."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.config.assumptions import Resolved
from sim.store.whatif import (
    SCAN_COLUMNS,
    WHATIF_COLUMNS,
)
from sim.sweep.design import Design

DEFAULT_SCHEME = "outcome_weighted"
DEFAULT_AGAINST = "jobs_per_day"
DEFAULT_KPI = "margin"
DEFAULT_TRAJECTORIES = 4
DEFAULT_REPS = 4
DEFAULT_TOP = 8
DEFAULT_POINTS = 5
#: Two scan values closer than this share of the range are the same point.
SAME_VALUE = 1e-9

#: The comparison `techsim whatif` makes unless told otherwise.
DEFAULT_SCHEME = "outcome_weighted"
DEFAULT_AGAINST = "jobs_per_day"
DEFAULT_KPI = "margin"


@dataclass(frozen=True)
class Comparison:
    """What is compared: `scheme` minus `against` on `kpi`."""

    scheme: str = DEFAULT_SCHEME
    against: str = DEFAULT_AGAINST
    kpi: str = DEFAULT_KPI


def flip_points(x: list[float], y: list[float]) -> list[tuple[float, float, float]]:
    """Where the piecewise-linear curve through (x, y) changes sign: (root, x_from, x_to)
    for each pair of neighbouring values (x sorted) whose y have opposite signs, the root
    by linear interpolation. A run of exact zeros between opposite signs is a root at its
    middle; NaNs are skipped; touching zero without changing sign is not a flip."""
    pts = sorted((float(a), float(b)) for a, b in zip(x, y) if not math.isnan(b))
    out: list[tuple[float, float, float]] = []
    prev: tuple[float, float] | None = None
    zeros: list[float] = []
    for xi, yi in pts:
        if yi == 0.0:
            zeros.append(xi)
            continue
        if prev is not None and (prev[1] > 0) != (yi > 0):
            if zeros:
                root = (zeros[0] + zeros[-1]) / 2
            else:
                root = prev[0] + (xi - prev[0]) * prev[1] / (prev[1] - yi)
            out.append((root, prev[0], xi))
        prev, zeros = (xi, yi), []
    return out


# --------------------------------------------------------------------------- tables
def scan_table(
    summary: pd.DataFrame, design: Design, top: list[Resolved], cmp: Comparison
) -> pd.DataFrame:
    """whatif_scan.csv: each scanned assumption's values with the paired difference (the
    base point listed under every assumption at the scenario's value)."""
    s = summary[(summary["scheme"] == cmp.scheme) & (summary["kpi"] == cmp.kpi)]
    by_point = {int(p): rec for p, rec in zip(s["point"], s.to_dict("records"))}
    rows = []
    for r in top:
        pts = [(r.base, 0, True)] + [
            (float(p.values[r.path]), p.index, False) for p in design.points if r.path in p.values
        ]
        for value, point, is_base in sorted(pts):
            row = by_point[point]
            rows.append(
                (r.path, value, is_base, int(row["n"]), float(row["diff_mean"]),
                 float(row["diff_ci_low"]), float(row["diff_ci_high"]))
            )  # fmt: skip
    return pd.DataFrame(rows, columns=list(SCAN_COLUMNS))


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _scan_columns(r: Resolved, curve: pd.DataFrame) -> dict[str, Any]:
    """The scan's columns of whatif.csv for one assumption."""
    curve = curve.sort_values("value")
    ends = {"low": curve.iloc[0], "high": curve.iloc[-1]}
    base = curve[curve["is_base"]].iloc[0]
    out: dict[str, Any] = {"scanned": "yes"}
    for name, row in (("low", ends["low"]), ("base", base), ("high", ends["high"])):
        out[f"diff_{name}"] = row["diff_mean"]
        out[f"diff_{name}_ci_low"] = row["diff_ci_low"]
        out[f"diff_{name}_ci_high"] = row["diff_ci_high"]
    d = curve["diff_mean"].to_numpy(dtype=float)
    out["swing"] = float(np.nanmax(d) - np.nanmin(d))
    flips = flip_points(curve["value"].tolist(), d.tolist())
    out["flips"] = _yes(bool(flips))
    if flips:
        root, lo, hi = min(flips, key=lambda f: abs(f[0] - r.base))
        end = ends["high"] if root >= r.base else ends["low"]
        clear = end["diff_ci_low"] > 0 or end["diff_ci_high"] < 0
        out.update(
            flip_value=root,
            flip_from=lo,
            flip_to=hi,
            flip_values=";".join(f"{f[0]:.6g}" for f in flips),
            flip_ci_excludes_zero=_yes(bool(clear)),
        )
    return out


def whatif_table(
    assumptions: list[Resolved],
    indices: pd.DataFrame,
    scan: pd.DataFrame | None,
    base: pd.Series | None,
    cmp: Comparison,
) -> pd.DataFrame:
    """whatif.csv: one row per assumption, by mu* (largest first)."""
    idx = indices.set_index("parameter")
    rows = []
    for r in assumptions:
        row: dict[str, Any] = {
            "path": r.path,
            "low": r.low,
            "high": r.high,
            "base": r.base,
            "relative": _yes(r.relative),
            "why": r.why,
            "mu_star": idx.loc[r.path, "mu_star"] if r.path in idx.index else math.nan,
            "mu_star_conf": idx.loc[r.path, "mu_star_conf"] if r.path in idx.index else math.nan,
            "sigma": idx.loc[r.path, "sigma"] if r.path in idx.index else math.nan,
            "scanned": "no",
            "scheme": cmp.scheme,
            "against": cmp.against,
            "kpi": cmp.kpi,
        }
        if base is not None:
            row.update(
                diff_base=base["diff_mean"],
                diff_base_ci_low=base["diff_ci_low"],
                diff_base_ci_high=base["diff_ci_high"],
            )
        if scan is not None and (scan["path"] == r.path).any():
            row.update(_scan_columns(r, scan[scan["path"] == r.path]))
        rows.append(row)
    df = pd.DataFrame(rows, columns=[c for c in WHATIF_COLUMNS if c != "rank"])
    df = df.sort_values("mu_star", ascending=False, kind="stable", na_position="last")
    df.insert(0, "rank", range(1, len(df) + 1))
    return df.reset_index(drop=True)


def top_assumptions(table: pd.DataFrame, assumptions: list[Resolved], top: int) -> list[Resolved]:
    """The `top` assumptions by mu*, leaving out those with no effect at all (mu* = 0)."""
    by_path = {r.path: r for r in assumptions}
    t = table[table["mu_star"].fillna(0) > 0]
    return [by_path[p] for p in t["path"].head(top)]


# --------------------------------------------------------------------------- the analysis
