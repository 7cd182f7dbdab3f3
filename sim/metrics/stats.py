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


# --------------------------------------------------------------------------- decomposition
#: Relative tolerance of "adds up": result files keep 10 significant digits
#: (`sim.store.files`), so an identity that holds exactly in memory holds to ~1e-9 there.
ADDS_UP_RTOL = 1e-8

#: A part of a total: a runs.csv column and its sign in the total (+1 adds, -1 subtracts).
Part = tuple[str, int]


def paired_differences(
    runs: pd.DataFrame, kpis: list[str], baseline: str, group: list[str] | None = None
) -> pd.DataFrame:
    """Each scheme's KPIs minus the baseline's in the same replication (and group...).

    One row per (group..., scheme, replication) of every scheme but the baseline; the
    columns are group..., scheme, replication, then the KPIs.
    """
    keys = [*(group or []), "replication"]
    base = runs[runs["scheme"] == baseline].set_index(keys)[kpis]
    frames = []
    for scheme, sdf in runs[runs["scheme"] != baseline].groupby("scheme", sort=False):
        s = sdf.set_index(keys)[kpis]
        d = (s - base.reindex(s.index)).reset_index()
        d.insert(len(keys) - 1, "scheme", scheme)
        frames.append(d)
    cols = [*keys[:-1], "scheme", "replication", *kpis]
    if not frames:
        return pd.DataFrame(columns=cols)
    return pd.concat(frames, ignore_index=True)[cols]


def decomposition_gap(runs: pd.DataFrame, total: str, parts: list[Part]) -> str | None:
    """Why `total` cannot be decomposed into `parts` in `runs`, or None when it can: every
    column is there and total = sum of sign x part in every row (to ADDS_UP_RTOL)."""
    missing = [c for c in (total, *(p for p, _ in parts)) if c not in runs.columns]
    if missing:
        return f"no column(s) {', '.join(missing)}"
    t = runs[total].to_numpy(dtype=float)
    terms = np.array([sign * runs[p].to_numpy(dtype=float) for p, sign in parts])
    gap = np.abs(t - terms.sum(axis=0))
    scale = np.abs(terms).sum(axis=0) + np.abs(t)
    bad = ~(gap <= ADDS_UP_RTOL * scale)  # NaN counts as not adding up
    if bad.any():
        return f"{total} is not the sum of its parts in {int(bad.sum())} row(s)"
    return None


def decompose(
    runs: pd.DataFrame,
    total: str,
    parts: list[Part],
    baseline: str,
    group: list[str] | None = None,
) -> pd.DataFrame:
    """The paired difference of `total` against `baseline`, split into its parts.

    One row per (group..., scheme, replication) of every scheme but the baseline: each
    part's contribution, sign x (part - the baseline's part), and the difference of `total`
    itself. Where total = sum of sign x part in every row of `runs` (`decomposition_gap`),
    the contributions add up to the total's difference in every row, and so do their means.
    """
    names = [p for p, _ in parts]
    d = paired_differences(runs, [*names, total], baseline, group)
    for p, sign in parts:
        d[p] = sign * d[p]
    return d


def summarise_decomposition(
    decomposition: pd.DataFrame, total: str, parts: list[Part], group: list[str] | None = None
) -> pd.DataFrame:
    """Mean and 95% CI of each part's contribution and of the total, per (group..., scheme):
    columns group..., scheme, kpi, sign (0 for the total), n, diff_mean, diff_ci_low,
    diff_ci_high, diff_p_value; the parts in order, then the total."""
    group = list(group or [])
    rows = []
    for gkey, g in decomposition.groupby([*group, "scheme"], sort=False):
        gkey = gkey if isinstance(gkey, tuple) else (gkey,)
        for kpi, sign in [*parts, (total, 0)]:
            d = g[kpi].to_numpy(dtype=float)
            m, _sd, lo, hi = mean_ci(d)
            rows.append(
                {
                    **dict(zip([*group, "scheme"], gkey)),
                    "kpi": kpi,
                    "sign": sign,
                    "n": int(np.sum(~np.isnan(d))),
                    "diff_mean": m,
                    "diff_ci_low": lo,
                    "diff_ci_high": hi,
                    "diff_p_value": paired_p_value(d),
                }
            )
    cols = [*group, "scheme", "kpi", "sign", "n", "diff_mean", "diff_ci_low", "diff_ci_high"]
    return pd.DataFrame(rows, columns=[*cols, "diff_p_value"])
