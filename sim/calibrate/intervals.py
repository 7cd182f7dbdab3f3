"""The intervals of calibration's estimates (docs/calibration.md, "What is estimated").

95% intervals: Wilson's for a share, Student's t for a mean, the delta method for a
coefficient of variation (McKay's approximation of its standard error), Garwood's exact one
for a Poisson rate, a percentile bootstrap over technicians for the spread of their
first-time fix; and the maximum-likelihood mean of an exponential seen only below a cap.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

Z = 1.959963984540054


def wilson(k: float, n: float) -> tuple[float, float, float]:
    if n <= 0:
        return math.nan, math.nan, math.nan
    p = k / n
    den = 1 + Z * Z / n
    mid = (p + Z * Z / (2 * n)) / den
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / den
    return p, max(0.0, mid - half), min(1.0, mid + half)


def mean_ci(x: np.ndarray) -> tuple[float, float, float]:
    x = np.asarray(x, dtype=float)
    if x.size < 2:
        return (float(x.mean()) if x.size else math.nan), math.nan, math.nan
    m, se = float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size))
    t = float(stats.t.ppf(0.975, x.size - 1))
    return m, m - t * se, m + t * se


def cv_ci(x: np.ndarray) -> tuple[float, float, float]:
    """The coefficient of variation, with a delta-method interval (McKay's approximation
    for its standard error: cv sqrt((0.5 + cv^2) / n))."""
    x = np.asarray(x, dtype=float)
    if x.size < 2 or x.mean() <= 0:
        return math.nan, math.nan, math.nan
    cv = float(x.std(ddof=1) / x.mean())
    se = cv * math.sqrt((0.5 + cv * cv) / x.size)
    return cv, max(0.0, cv - Z * se), cv + Z * se


def rate_ci(k: int, exposure: float) -> tuple[float, float, float]:
    """A Poisson rate k / exposure with the exact (Garwood) interval."""
    if exposure <= 0:
        return math.nan, math.nan, math.nan
    lo = stats.chi2.ppf(0.025, 2 * k) / 2 if k > 0 else 0.0
    hi = stats.chi2.ppf(0.975, 2 * k + 2) / 2
    return k / exposure, lo / exposure, hi / exposure


def spread_ci(rate: np.ndarray, n: np.ndarray, boot: int = 400) -> tuple[float, float, float]:
    """The sd over technicians of their true fix rate (`rate` over `n` visits each), the
    binomial noise removed, with a percentile bootstrap interval over technicians (fixed
    seed: the same export gives the same interval)."""

    def sd(r: np.ndarray, k: np.ndarray) -> float:
        p = float(np.average(r, weights=k))
        return math.sqrt(max(float(np.var(r, ddof=1)) - float(np.mean(p * (1 - p) / k)), 0.0))

    rng = np.random.default_rng(20261205)
    idx = rng.integers(0, len(rate), size=(boot, len(rate)))
    sds = np.array([sd(rate[i], n[i]) for i in idx])
    lo, hi = np.percentile(sds, [2.5, 97.5])
    return sd(rate, n), float(lo), float(hi)


def truncated_exp_mean(x: np.ndarray, cap: float) -> float:
    """The MLE of an exponential's mean from a sample observed only below `cap`."""
    xbar = float(np.mean(x))

    def score(m: float) -> float:
        return xbar - m + cap * math.exp(-cap / m) / (1 - math.exp(-cap / m))

    lo, hi = 1e-3, 1e3
    if score(hi) > 0:
        return hi
    for _ in range(100):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if score(mid) > 0 else (lo, mid)
    return math.sqrt(lo * hi)
