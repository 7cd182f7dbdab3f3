"""Churn at renewal from the renewals and the term's problems (docs/calibration.md, "Churn").

The model's renewal rule (docs/model.md, "Renewal"; `sim.world.quality.renewal_prob`) is

    P(renew) = (1 - churn_base) * prod_k (1 - h_k) ** n_k

with n_k the term's problems that ended in class k (first_time, late, after_return,
callback, unresolved). Each renewal in the export is classified by the account's chains
before its date (`classify`); the part of a term before the export began is unseen, and
enters as the expectation of its factor, exp(-mu f sum_k p_k h_k) (f the unseen fraction
of the term, mu the problems of a term, p_k the classes' shares), as the model's own
`expected_renewal_prob`. `fit_churn` maximises the likelihood over churn_base and the h_k;
intervals from the inverse of the observed information (Wald), clipped to [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import optimize

from sim.world.records import PROBLEM_CLASSES

Z = 1.959963984540054


def classify(c: pd.DataFrame, renewals: pd.DataFrame, term_days: float) -> pd.DataFrame:
    """Per renewal: the counts of the term's problems by class (columns PROBLEM_CLASSES),
    the unseen fraction of the term (`unseen`) and `renewed`. `c` is `chains(...)`: a
    problem counts in a term when its first visit was created in it, and is classed by its
    visits completed before the renewal (what the customer knew then)."""
    term = pd.Timedelta(days=term_days)
    t0 = c["created"].min()
    ren = renewals.reset_index(drop=True).assign(rid=lambda d: np.arange(len(d)))
    rep = c[~c["planned"] & c["contract"]]
    opened = rep.loc[rep["visit_no"] == 1].set_index("root_work_order_id")["created"]
    rep = rep.assign(opened=rep["root_work_order_id"].map(opened))
    cols = [
        "account_id",
        "root_work_order_id",
        "opened",
        "completion",
        "created",
        "status",
        "prev_status",
        "sla_violated",
        "visit_no",
    ]
    cols = [k for k in cols if k in rep]
    m = ren[["rid", "account_id", "renewal_date"]].merge(rep[cols], on="account_id")
    m = m[(m["completion"] < m["renewal_date"]) & (m["opened"] >= m["renewal_date"] - term)]
    m = m.sort_values(["rid", "root_work_order_id", "visit_no"])
    g = m.groupby(["rid", "root_work_order_id"], sort=False)
    late = (
        g["sla_violated"].first().fillna(0) == 1
        if "sla_violated" in m
        else pd.Series(False, index=g.size().index)
    )
    per = pd.DataFrame(
        {
            "last": g["status"].last(),
            "callback": g["prev_status"].agg(lambda x: bool((x == "fixed").any())),
            "n": g.size(),
            "late": late,
        }
    )
    conds = [per["last"] != "fixed", per["callback"], per["n"] > 1, per["late"]]
    cls = np.select(
        [np.asarray(x, dtype=bool) for x in conds],
        ["unresolved", "callback", "after_return", "late"],
        "first_time",
    )
    per = per.assign(cls=cls).reset_index()
    counts = pd.crosstab(per["rid"], per["cls"]).reindex(
        index=ren["rid"], columns=list(PROBLEM_CLASSES), fill_value=0
    )
    start = ren["renewal_date"] - term
    unseen = ((t0 - start) / term).clip(0.0, 1.0).to_numpy(dtype=float)
    out = counts.reset_index(drop=True).astype(int)
    out["unseen"] = unseen
    out["renewed"] = ren["renewed"].astype(int).to_numpy()
    out["contract_type"] = ren["contract_type"].to_numpy() if "contract_type" in ren else ""
    return out


def fit_churn(classes: pd.DataFrame) -> dict[str, tuple[float, float, float]]:
    """MLE of churn_base and the per-problem churn h_k: {name: (value, low, high)}."""
    n = classes[list(PROBLEM_CLASSES)].to_numpy(dtype=float)
    y = classes["renewed"].to_numpy(dtype=float)
    f = classes["unseen"].to_numpy(dtype=float)
    seen = n.sum(axis=1)
    # problems a full term holds, and their classes' shares, from the fully seen terms
    full = f == 0
    mu = float(seen[full].mean()) if full.any() else float(seen.mean() / max(1e-9, 1 - f.mean()))
    share = n.sum(axis=0) / max(1.0, n.sum())

    def loglik(x: np.ndarray) -> float:
        b, h = x[0], x[1:]
        logp = math.log1p(-b) + n @ np.log1p(-h) - mu * f * float(share @ h)
        p = np.clip(np.exp(logp), 1e-12, 1 - 1e-12)
        return float(np.sum(y * np.log(p) + (1 - y) * np.log1p(-p)))

    x0 = np.array([0.05, *([0.05] * len(PROBLEM_CLASSES))])
    bounds = [(0.0, 0.95)] * len(x0)
    res = optimize.minimize(lambda x: -loglik(x), x0, method="L-BFGS-B", bounds=bounds)
    x = res.x
    seen_class = np.concatenate([[True], n.sum(axis=0) > 0])
    free = seen_class & (x > 1e-4) & (x < bounds[0][1] - 1e-4)
    x = np.where(seen_class, x, np.nan)
    se = _wald_se(loglik, np.nan_to_num(x), free)
    names = ["churn_base", *(f"churn_per_problem.{k}" for k in PROBLEM_CLASSES)]
    return {
        k: (float(v), max(0.0, float(v - Z * s)), min(1.0, float(v + Z * s)))
        if math.isfinite(s)
        else (float(v), math.nan, math.nan)
        for k, v, s in zip(names, x, se)
    }


def _wald_se(loglik: Callable[[np.ndarray], float], x: np.ndarray, free: np.ndarray) -> np.ndarray:
    """Standard errors from the numerical Hessian of the log-likelihood at `x` over the
    `free` parameters (NaN for the others: at a bound, or a class the data never saw)."""
    idx = np.flatnonzero(free)
    se = np.full(len(x), np.nan)
    if idx.size == 0:
        return se
    eps = 1e-5

    def at(i: int, di: float, j: int, dj: float) -> float:
        z = x.copy()
        z[i] += di
        z[j] += dj
        return loglik(z)

    hess = np.zeros((idx.size, idx.size))
    for a, i in enumerate(idx.tolist()):
        for b, j in enumerate(idx[a:].tolist(), start=a):
            val = at(i, eps, j, eps) - at(i, eps, j, -eps) - at(i, -eps, j, eps)
            hess[a, b] = hess[b, a] = (val + at(i, -eps, j, -eps)) / (4 * eps * eps)
    try:
        var = np.diag(np.linalg.inv(-hess))
    except np.linalg.LinAlgError:
        return se
    se[idx] = np.where(var > 0, np.sqrt(np.abs(var)), np.nan)
    return se
