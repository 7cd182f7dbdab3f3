"""A sweep's tables: the point table, the summary per point, the best and worst points.

`summarise_points` gives the same numbers as `sim.metrics.stats.summarise(runs, kpis, baseline,
group=["point"])` (same `mean_ci` and `paired_p_value`) without a pandas lookup per cell.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.metrics.catalogue import EXTREMES_KPIS, KPI
from sim.metrics.kpis import KPI_COLUMNS
from sim.metrics.stats import SUMMARY_COLUMNS, mean_ci, paired_p_value
from sim.sweep.design import Design


def point_table(design: Design) -> pd.DataFrame:
    """One row per point: `point` and the value of each swept parameter."""
    return pd.DataFrame(
        [{"point": p.index, **p.values} for p in design.points], columns=["point", *design.paths]
    )


def summarise_points(
    runs: pd.DataFrame, design: Design, baseline: str, kpis: tuple[str, ...] = KPI_COLUMNS
) -> pd.DataFrame:
    """Mean and 95% CI per point x scheme x KPI, and the paired difference to the baseline.

    The same numbers as `sim.metrics.stats.summarise(runs, kpis, baseline, group=["point"])` (same
    `mean_ci` and `paired_p_value`), without a pandas lookup per cell, so sweeps of
    thousands of points summarise in seconds; the swept parameters follow `point`.
    """
    rows = []
    names = list(kpis)
    for point, g in runs.groupby("point", sort=False):
        reps = g["replication"].to_numpy()
        values = g[names].to_numpy(dtype=float)
        schemes = g["scheme"].to_numpy()
        is_base = schemes == baseline
        base_row = {r: k for k, r in zip(np.flatnonzero(is_base), reps[is_base])}
        for scheme in dict.fromkeys(schemes):
            sel = np.flatnonzero(schemes == scheme)
            x = values[sel]
            if base_row:
                b = np.full_like(x, np.nan)
                for j, r in enumerate(reps[sel]):
                    if r in base_row:
                        b[j] = values[base_row[r]]
            scen = g["scenario"].iloc[sel[0]]
            for j, kpi in enumerate(names):
                m, sd, lo, hi = mean_ci(x[:, j])
                if base_row:
                    d = x[:, j] - b[:, j]
                    dm, _, dlo, dhi = mean_ci(d)
                    p = paired_p_value(d)
                else:
                    dm = dlo = dhi = p = math.nan
                rows.append(
                    (
                        point,
                        scen,
                        scheme,
                        kpi,
                        int(np.count_nonzero(~np.isnan(x[:, j]))),
                        m,
                        sd,
                        lo,
                        hi,
                        baseline,
                        dm,
                        dlo,
                        dhi,
                        p,
                    )
                )
    summary = pd.DataFrame(rows, columns=["point", *SUMMARY_COLUMNS])
    summary = point_table(design).merge(summary, on="point", how="right")
    return summary[["point", *design.paths, *SUMMARY_COLUMNS]]


def extremes(summary: pd.DataFrame, kpis: tuple[KPI, ...] = EXTREMES_KPIS) -> pd.DataFrame:
    """The best and the worst (point, scheme) by mean for each KPI, by its better direction.

    `ties` counts the other (point, scheme) pairs with exactly the same mean (common random
    numbers make exact ties common where a parameter does not touch a scheme)."""
    rows = []
    for k in kpis:
        if k.better == "neither":
            raise ValueError(f"{k.name}: no better direction, so no best and worst point")
        sub = summary[summary["kpi"] == k.name].dropna(subset=["mean"])
        if sub.empty:
            continue
        means = sub["mean"].to_numpy(dtype=float)
        hi_row, lo_row = sub.iloc[int(np.argmax(means))], sub.iloc[int(np.argmin(means))]
        best, worst = (hi_row, lo_row) if k.better == "higher" else (lo_row, hi_row)
        for which, r in (("best", best), ("worst", worst)):
            ties = int((sub["mean"] == r["mean"]).sum()) - 1
            rows.append({"kpi": k.name, "which": which, **r.to_dict(), "ties": ties})
    return pd.DataFrame(rows)
