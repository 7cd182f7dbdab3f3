"""The behaviour no export shows, inferred through the model (docs/calibration.md, "Inferred").

An export shows how long visits took and how often they fixed, not why. In the model a
visit's on-site time is the job type's normal time x thoroughness / pace, and its fix
probability min(max_fix_prob, q(s, j) h(theta)) with q(s, j) = fix_prob_j + skill_effect
(s - skill_reference) (docs/model.md sections 4 and 6); thoroughness and pace are each
technician's best response to the pay scheme in force (`sim.behaviour.best_response`).
So, with the scheme in force known (the mapping's `current_scheme`, or --current):

1. the pace's effort cost c (`behaviour.pace.effort_cost_per_hour`) is the one at which the
   technicians' best responses make visits take, relative to the normal times (the
   mapping's `standard_hours`, a flat-rate book; else the template's on-site times), as
   long as the export shows: E_w[theta(s) / pace(s)] = observed / normal time, the mean
   over the skill distribution weighted by the visits each skill makes (a fast technician
   makes more of them);
2. each job type's fix_prob is the one at which E_w[P(fix)] equals the export's share of
   first visits that fixed with the part on the van (no callback in the window);
3. the skill spread (`workforce.skill_sd`) is the one at which the spread over technicians
   of the model's fix rate (each skill's mix of the job types it is qualified for, at its
   care, capped at max_fix_prob) equals the technicians' observed spread of first-time
   fix, binomial noise removed; it replaces the template's only when the template's lies
   outside its 95% interval (a bootstrap over technicians: with tens of technicians, and
   fix rates near their cap, the spread is weakly identified).

Steps 1 and 2 depend on each other (care depends on fix_prob), so they alternate until the
pace stops moving. Structural parameters (the curvature k, skill_effect, the care effort
cost, the intrinsic weight, skill_mean) stay the template's: with one scheme observed they
are not identified, and the fit report says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from sim.behaviour.best_response import best_behaviour, pace_grid
from sim.config.scenario import Scenario
from sim.pay.formula import PayFormula
from sim.world import quality

#: Skill quantiles the expectations run over.
QUANTILES = 15
#: Candidate pace effort costs ($ per hour): log-spaced.
COSTS = np.geomspace(0.5, 400.0, 49)


@dataclass
class Inferred:
    pace_cost: float  # behaviour.pace.effort_cost_per_hour
    ratio: float  # predicted E_w[theta / pace] at it
    observed_ratio: float
    mean_pace: float  # E_w[pace]
    mean_thoroughness: float
    fix_prob: dict[str, float]
    skill_sd: float | None  # adopted: the data reject the template's (outside the CI)
    skill_sd_ci: tuple[float, float, float]  # the estimate and its 95% CI
    at_bound: bool  # the observed ratio lies outside what any cost gives
    iterations: int


def skills(sc: Scenario) -> np.ndarray:
    wf = sc.workforce
    u = (np.arange(QUANTILES) + 0.5) / QUANTILES
    return np.clip(wf.skill_mean + wf.skill_sd * stats.norm.ppf(u), 0.05, 1.0)


def with_pace_cost(sc: Scenario, cost: float) -> Scenario:
    b = sc.behaviour
    pace = b.pace.model_copy(update={"effort_cost_per_hour": float(cost)})
    return sc.model_copy(update={"behaviour": b.model_copy(update={"pace": pace})})


def with_fix_probs(sc: Scenario, fix: dict[str, float]) -> Scenario:
    types = {
        k: t.model_copy(update={"fix_prob": fix[k]}) if k in fix else t
        for k, t in sc.jobs.types.items()
    }
    return sc.model_copy(update={"jobs": sc.jobs.model_copy(update={"types": types})})


def behaviours(sc: Scenario, formula: PayFormula, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pairs = [best_behaviour(sc, formula, float(x)) for x in s]
    return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])


def weights(sc: Scenario, theta: np.ndarray, pace: np.ndarray) -> np.ndarray:
    """Visits per hour of each skill quantile (hours per visit: travel and on-site time)."""
    types = sc.jobs.types.values()
    onsite = sum(t.share * t.onsite_hours_mean for t in types)
    w = 1.0 / (sc.workforce.travel_hours_mean + onsite * theta / pace)
    return w / w.sum()


def solve_fix(
    sc: Scenario, s: np.ndarray, theta: np.ndarray, w: np.ndarray, target: dict[str, float]
) -> dict[str, float]:
    """Each job type's fix_prob at which the visit-weighted P(fix) over the qualified
    skill quantiles equals the observed rate (bisection; 0 or 1 at the ends)."""
    q = sc.quality
    gain = np.asarray(quality.thoroughness_gain(q, theta))
    out = {}
    for name, job in sc.jobs.types.items():
        if name not in target or not math.isfinite(target[name]):
            continue
        ok = s >= job.min_skill
        ww = (w * ok) / max((w * ok).sum(), 1e-12)

        def rate(fp: float, ww: np.ndarray = ww) -> float:
            base = np.clip(fp + q.skill_effect * (s - q.skill_reference), 0.0, 1.0)
            return float(ww @ np.minimum(q.max_fix_prob, base * gain))

        lo, hi = 0.0, 1.0
        for _ in range(40):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if rate(mid) < target[name] else (lo, mid)
        out[name] = round((lo + hi) / 2, 4)
    return out


def infer(
    sc: Scenario,
    formula: PayFormula,
    observed_ratio: float,
    fix_target: dict[str, float],
    tech_fix_sd: tuple[float, float, float],
    max_iter: int = 6,
) -> Inferred:
    """Infer the pace cost, the fix probabilities and the skill spread (module docstring)."""
    q = sc.quality
    sc0 = sc
    cost = sc.behaviour.pace.effort_cost_per_hour
    skill_sd = None
    sd_ci: tuple[float, ...] = (math.nan, math.nan, math.nan)
    prev = math.nan
    iterations = 0
    for it in range(1, max_iter + 1):
        iterations = it
        s = skills(sc)
        theta, pace = behaviours(with_pace_cost(sc, cost), formula, s)
        w = weights(sc, theta, pace)
        sc = with_fix_probs(sc, solve_fix(sc, s, theta, w, fix_target))
        if all(math.isfinite(x) for x in tech_fix_sd) and q.skill_effect > 0:
            sd_ci = tuple(solve_skill_sd(sc0, s, theta, x) for x in tech_fix_sd)
            if not sd_ci[1] <= sc0.workforce.skill_sd <= sd_ci[2]:
                skill_sd = sd_ci[0]
                wf = sc.workforce.model_copy(update={"skill_sd": round(skill_sd, 4)})
                sc = sc.model_copy(update={"workforce": wf})
        ratios = [ratio_at(sc, formula, s, c) for c in COSTS]
        cost = _solve_cost(sc, formula, s, ratios, observed_ratio)
        if math.isfinite(prev) and abs(math.log(cost / prev)) < 1e-3:
            break
        prev = cost
    s = skills(sc)
    theta, pace = behaviours(with_pace_cost(sc, cost), formula, s)
    w = weights(sc, theta, pace)
    ratio = float(w @ (theta / pace))
    lo, hi = min(ratios), max(ratios)
    return Inferred(
        pace_cost=cost,
        ratio=ratio,
        observed_ratio=observed_ratio,
        mean_pace=float(w @ pace),
        mean_thoroughness=float(w @ theta),
        fix_prob={k: t.fix_prob for k, t in sc.jobs.types.items() if k in fix_target},
        skill_sd=skill_sd,
        skill_sd_ci=(sd_ci[0], sd_ci[1], sd_ci[2]),
        at_bound=not lo - 1e-9 <= observed_ratio <= hi + 1e-9,
        iterations=iterations,
    )


def tech_fix_rate(sc: Scenario, s: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """The model's first-visit fix rate (the part there) of a technician of each skill in
    `s` at care `theta`: the job types it is qualified for, by their shares."""
    q = sc.quality
    num = np.zeros_like(s)
    den = np.zeros_like(s)
    for job in sc.jobs.types.values():
        ok = (s >= job.min_skill) * job.share
        p = np.asarray([quality.fix_prob(q, float(x), job, float(t)) for x, t in zip(s, theta)])
        num += ok * p
        den += ok
    return num / np.maximum(den, 1e-12)


def solve_skill_sd(sc: Scenario, s: np.ndarray, theta: np.ndarray, target: float) -> float:
    """The skill sd at which the model's fix rate varies over technicians as much as the
    data's (bisection over [0.01, 0.4]; care read off the current quantiles' by skill)."""
    mean = sc.workforce.skill_mean
    u = stats.norm.ppf((np.arange(QUANTILES) + 0.5) / QUANTILES)
    order = np.argsort(s)

    def spread(sd: float) -> float:
        x = np.clip(mean + sd * u, 0.05, 1.0)
        th = np.interp(x, s[order], theta[order])
        return float(np.std(tech_fix_rate(sc, x, th)))

    lo, hi = 0.01, 0.4
    if spread(hi) < target:
        return hi
    for _ in range(30):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if spread(mid) < target else (lo, mid)
    return (lo + hi) / 2


def ratio_at(sc: Scenario, formula: PayFormula, s: np.ndarray, cost: float) -> float:
    """E_w[theta / pace] over the skill quantiles `s` at pace effort cost `cost`."""
    th, pa = behaviours(with_pace_cost(sc, cost), formula, s)
    return float(weights(sc, th, pa) @ (th / pa))


def _solve_cost(
    sc: Scenario, formula: PayFormula, s: np.ndarray, ratios: list[float], target: float
) -> float:
    """The cost whose ratio is nearest `target`: the nearest candidate, then bisection (in
    log cost) between it and the neighbour on the other side of the target (the ratio
    rises with the cost: a dearer pace is a slower one)."""
    r = np.array(ratios)
    k = int(np.argmin(np.abs(r - target)))
    lo = k - 1 if k > 0 and (r[k] - target) > 0 else k
    hi = lo + 1
    if hi >= len(COSTS) or not (r[lo] - target) * (r[hi] - target) <= 0:
        return float(COSTS[k])
    a, b = math.log(COSTS[lo]), math.log(COSTS[hi])
    best, err = float(COSTS[k]), abs(r[k] - target)
    for _ in range(14):
        m = (a + b) / 2
        rm = ratio_at(sc, formula, s, math.exp(m))
        if abs(rm - target) < err:
            best, err = math.exp(m), abs(rm - target)
        a, b = (m, b) if rm < target else (a, m)
    return best


def pace_step(sc: Scenario) -> float:
    """The pace grid's step: how finely a technician's pace is chosen."""
    g = pace_grid(sc)
    return float(g[1] - g[0]) if len(g) > 1 else 0.0
