"""Statistics across replications: means with 95% t-intervals and paired differences.

Replications are independent; schemes within a replication share random numbers, so a
scheme is compared with the baseline by the per-replication difference (paired t-interval),
which is far tighter than comparing two independent means.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats as sps

CONFIDENCE = 0.95

#: Columns of summary.csv. Tests pin these names.
SUMMARY_COLUMNS: tuple[str, ...] = (
    "scenario",
    "scheme",
    "kpi",
    "n",
    "mean",
    "sd",
    "ci_low",
    "ci_high",
    "baseline",
    "diff_mean",
    "diff_ci_low",
    "diff_ci_high",
    "diff_p_value",
)


def mean_ci(x: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float, float, float]:
    """(mean, sd, ci_low, ci_high) with a Student-t interval; NaNs are dropped."""
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return (math.nan,) * 4
    m = float(x.mean())
    if n == 1:
        return m, math.nan, math.nan, math.nan
    sd = float(x.std(ddof=1))
    h = float(sps.t.ppf(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n)
    return m, sd, m - h, m + h


def paired_p_value(d: np.ndarray) -> float:
    d = np.asarray(d, dtype=float)
    d = d[~np.isnan(d)]
    if len(d) < 2:
        return math.nan
    sd = d.std(ddof=1)
    if sd == 0:
        return 1.0 if d.mean() == 0 else 0.0
    t = d.mean() / (sd / math.sqrt(len(d)))
    return float(2 * sps.t.sf(abs(t), len(d) - 1))


def summarise(
    runs: pd.DataFrame, kpis: list[str], baseline: str, group: list[str] | None = None
) -> pd.DataFrame:
    """Mean and CI per (group..., scheme, kpi), with the paired difference to `baseline`.

    `runs` has one row per (group..., scheme, replication). Pairs are matched on
    (group..., replication).
    """
    group = list(group or [])
    rows = []
    keys = [*group, "replication"]
    for gkey, gdf in runs.groupby(group, sort=False) if group else [((), runs)]:
        gkey = gkey if isinstance(gkey, tuple) else (gkey,)
        base = gdf[gdf["scheme"] == baseline].set_index(keys)
        for scheme, sdf in gdf.groupby("scheme", sort=False):
            s = sdf.set_index(keys)
            for kpi in kpis:
                m, sd, lo, hi = mean_ci(s[kpi].to_numpy())
                if len(base):
                    d = (s[kpi] - base[kpi].reindex(s.index)).to_numpy(dtype=float)
                    dm, _, dlo, dhi = mean_ci(d)
                    p = paired_p_value(d)
                else:
                    dm = dlo = dhi = p = math.nan
                rows.append(
                    {
                        **dict(zip(group, gkey)),
                        "scenario": sdf["scenario"].iloc[0],
                        "scheme": scheme,
                        "kpi": kpi,
                        "n": int(s[kpi].notna().sum()),
                        "mean": m,
                        "sd": sd,
                        "ci_low": lo,
                        "ci_high": hi,
                        "baseline": baseline,
                        "diff_mean": dm,
                        "diff_ci_low": dlo,
                        "diff_ci_high": dhi,
                        "diff_p_value": p,
                    }
                )
    return pd.DataFrame(rows, columns=group + list(SUMMARY_COLUMNS))
