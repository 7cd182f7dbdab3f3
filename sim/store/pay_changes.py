"""Who wins and who loses: each technician's pay under a scheme against the baseline.

Technicians are the same people under every scheme (same skill, same world), so each one is
paired with themself by (replication, tech); a change within `PAY_TOLERANCE` of baseline pay
counts as "about the same". Used by the technicians' figure and the report.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.store.results import Results

#: Pay changes within +/- this share of baseline pay count as "about the same".
PAY_TOLERANCE = 0.01


def pay_changes(res: Results) -> pd.DataFrame | None:
    """Each technician's pay per day under each scheme against the baseline scheme.

    Technicians are the same people under every scheme (same skill, same world), so they
    are paired by (replication, tech). Columns: scheme, replication, tech, skill,
    base_pay_per_day, pay_per_day, change, change_pct, outcome (rises / falls / same).
    """
    t = res.technicians
    if t is None or t.empty:
        return None
    keys = ["replication", "tech"]
    cols = keys + ["pay_per_day"] + (["skill"] if "skill" in t.columns else [])
    base = t.loc[t["scheme"] == res.baseline, cols].rename(
        columns={"pay_per_day": "base_pay_per_day"}
    )
    if base.empty:
        return None
    base = base.drop(columns=["skill"], errors="ignore")
    out = []
    for s in res.schemes:
        if s == res.baseline:
            continue
        cur = t.loc[t["scheme"] == s, cols]
        if cur.empty:
            continue
        m = cur.merge(base, on=keys, how="inner")
        m.insert(0, "scheme", s)
        out.append(m)
    if not out:
        return None
    df = pd.concat(out, ignore_index=True)
    if "skill" not in df.columns:
        df["skill"] = np.nan
    df["change"] = df["pay_per_day"] - df["base_pay_per_day"]
    with np.errstate(divide="ignore", invalid="ignore"):
        df["change_pct"] = (
            100.0 * df["change"] / df["base_pay_per_day"].where(df["base_pay_per_day"] != 0)
        )
    tol = PAY_TOLERANCE * df["base_pay_per_day"].abs()
    df["outcome"] = np.where(
        df["change"] > tol, "rises", np.where(df["change"] < -tol, "falls", "same")
    )
    return df


def pay_change_summary(changes: pd.DataFrame) -> pd.DataFrame:
    """Per scheme: how many technicians gain, lose, stay the same, and by how much."""
    rows = []
    for s, g in changes.groupby("scheme", sort=False):
        up, down = g[g["outcome"] == "rises"], g[g["outcome"] == "falls"]
        n = len(g)
        rows.append(
            {
                "scheme": s,
                "n": n,
                "share_rises": len(up) / n,
                "share_falls": len(down) / n,
                "share_same": (n - len(up) - len(down)) / n,
                "median_rise": float(up["change"].median()) if len(up) else math.nan,
                "median_fall": float(down["change"].median()) if len(down) else math.nan,
                "median_rise_pct": float(up["change_pct"].median()) if len(up) else math.nan,
                "median_fall_pct": float(down["change_pct"].median()) if len(down) else math.nan,
                "mean_change": float(g["change"].mean()),
                "p05": float(g["change"].quantile(0.05)),
                "p95": float(g["change"].quantile(0.95)),
                "skill_rises": float(up["skill"].mean()) if len(up) else math.nan,
                "skill_falls": float(down["skill"].mean()) if len(down) else math.nan,
            }
        )
    return pd.DataFrame(rows)
