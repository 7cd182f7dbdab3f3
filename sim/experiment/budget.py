"""Budget-neutral schemes: scale each scheme's variable pay to the baseline's mean pay.

A proposal is only fair when the new scheme costs what the old one did. For every scheme
s other than the baseline, find the factor f_s on its variable pay (every coefficient but
days and hours, `sim.pay.formula.scaled`; a scheme with no variable pay is scaled as a
whole) such that

    g(f) = P_s(f) / P_base - 1 = 0,   P = mean over replications of pay per tech-day

within `budget_search.tolerance` (default 0.2%, so that a full run lands within 1%).
P_s(f) is measured by simulation: the first `budget_search.replications` replications of
the run's seed, the same worlds for every scheme and every f (common random numbers),
with behaviour re-optimised at every f (technicians respond to the scaled formula).

The root search is a secant method started with a proportional step: with the pay at f_n
split into the fixed part F_n and the variable part V_n,

    f_1     = f_0 * (P_base - F_0) / V_0                 (exact if nobody responded)
    f_{n+1} = f_n - g_n * (f_n - f_{n-1}) / (g_n - g_{n-1})

falling back to the proportional step when the secant step is undefined or leaves
(0, max_factor]. All schemes advance together, one round of replications at a time, each
(scheme, factor, replication) a task on the backend given (`sim.experiment.executor`).
A search that does not converge raises `BudgetError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sim.config.scenario import Scenario
from sim.experiment.executor import Backend, local_backend
from sim.experiment.search import SchemeTask, run_round, scheme_kpis
from sim.model.replication import scheme_formula
from sim.pay.formula import FIXED_TERMS, PayFormula, formula_for, has_variable_pay, scaled

MAX_FACTOR = 100.0


class BudgetError(ValueError):
    """The budget-neutral search found no factor (no variable pay, or no convergence)."""


@dataclass
class BudgetResult:
    factors: dict[str, float]  # scheme -> factor on its variable pay
    pay_per_day: dict[str, float]  # scheme -> mean pay per tech-day at its factor
    target: float  # the baseline's mean pay per tech-day
    iterations: dict[str, int]
    replications: int
    history: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # (f, P)

    def manifest(self) -> dict[str, Any]:
        return {
            "factors": {k: round(v, 6) for k, v in self.factors.items()},
            "pay_per_tech_day": {k: round(v, 4) for k, v in self.pay_per_day.items()},
            "baseline_pay_per_tech_day": round(self.target, 4),
            "iterations": self.iterations,
            "replications": self.replications,
            "method": "secant on the variable-pay factor, proportional first step, common "
            "random numbers (sim.experiment.budget)",
        }


@dataclass(frozen=True)
class PayTask(SchemeTask):
    """One replication of one scheme at one factor on its variable pay."""

    factor: float

    @property
    def key(self) -> str:
        return f"{self.scheme}-x{self.factor:.6g}-rep-{self.replication:05d}"

    def run(self) -> tuple[float, float, float]:
        return _evaluate(self.scenario, self.seed, self.replication, self.scheme, self.factor)


def _evaluate(
    sc: Scenario, seed: int, rep: int, name: str, factor: float
) -> tuple[float, float, float]:
    """(pay per tech-day, fixed pay, total pay) of one scheme at one factor, one replication."""
    formula, kpis, techs = scheme_kpis(sc, seed, rep, name, _formula(sc, name, factor))
    # the part of pay the factor does not scale (none when the formula is scaled whole)
    fixed = 0.0
    if has_variable_pay(formula):
        fixed = sum(t[f"pay_{term}"] for t in techs for term in FIXED_TERMS)
    return kpis["tech_pay_per_day"], fixed, kpis["total_pay"]


def _formula(sc: Scenario, name: str, factor: float) -> PayFormula:
    if name == sc.baseline_scheme:
        return scheme_formula(sc, name)
    return scaled(formula_for(sc, name), factor)


def _mean_pay(
    scenario: Scenario,
    seed: int,
    reps: int,
    points: list[tuple[str, float]],
    backend: Backend,
) -> dict[tuple[str, float], tuple[float, float]]:
    """Mean pay per tech-day and its fixed part, for every (scheme, factor)."""

    def task(point: tuple[str, float], rep: int) -> PayTask:
        return PayTask(scenario, seed, rep, *point)

    out = {}
    for point, rows in run_round(points, reps, task, PayTask.run, backend).items():
        pay = sum(r[0] for r in rows) / reps
        share_fixed = sum(r[1] for r in rows) / max(sum(r[2] for r in rows), 1e-12)
        out[point] = (pay, pay * share_fixed)
    return out


def find_factors(
    scenario: Scenario, seed: int | None = None, backend: Backend | None = None
) -> BudgetResult:
    """The budget-neutral factor of every non-baseline scheme (see the module doc), its
    simulations on `backend` (in this process when None)."""
    bs = scenario.budget_search
    seed = scenario.seed if seed is None else seed
    reps = bs.replications
    base = scenario.baseline_scheme
    names = [n for n in scenario.schemes if n != base]
    backend = backend or local_backend(1)
    first = _mean_pay(scenario, seed, reps, [(base, 1.0)] + [(n, 1.0) for n in names], backend)
    target = first[(base, 1.0)][0]
    if target <= 0:
        raise BudgetError(f"the baseline scheme {base!r} pays nothing; nothing to match")
    hist = {n: [(1.0, *first[(n, 1.0)])] for n in names}
    todo = [n for n in names if abs(first[(n, 1.0)][0] / target - 1.0) > bs.tolerance]
    rounds = 0
    while todo:
        rounds += 1
        if rounds > bs.max_iterations:
            raise BudgetError(
                "budget-neutral search did not converge within "
                f"{bs.max_iterations} iterations for {', '.join(todo)}"
            )
        points = [(n, _next_factor(hist[n], target)) for n in todo]
        res = _mean_pay(scenario, seed, reps, points, backend)
        for n, f in points:
            hist[n].append((f, *res[(n, f)]))
        todo = [n for n in todo if abs(hist[n][-1][1] / target - 1.0) > bs.tolerance]
    return BudgetResult(
        factors={n: hist[n][-1][0] for n in names},
        pay_per_day={base: target, **{n: hist[n][-1][1] for n in names}},
        target=target,
        iterations={n: len(hist[n]) - 1 for n in names},
        replications=reps,
        history={n: [(f, p) for f, p, _fx in hist[n]] for n in names},
    )


def _next_factor(hist: list[tuple[float, float, float]], target: float) -> float:
    """The next factor: secant on g(f) = P(f)/target - 1, else the proportional step."""
    f, p, fixed = hist[-1]
    variable = p - fixed
    if variable <= 1e-12:
        raise BudgetError(
            "the scheme's variable pay is not positive; no factor matches the baseline's pay"
        )
    prop = f * (target - fixed) / variable
    nxt = prop
    if len(hist) >= 2:
        f0, p0, _ = hist[-2]
        g, g0 = p / target - 1.0, p0 / target - 1.0
        if g != g0:
            sec = f - g * (f - f0) / (g - g0)
            if 0.0 < sec <= MAX_FACTOR:
                nxt = sec
    if not 0.0 < nxt <= MAX_FACTOR:
        raise BudgetError(
            f"no positive factor up to {MAX_FACTOR:g} matches the baseline's pay (the fixed "
            "pay alone exceeds it)"
            if prop <= 0
            else f"the factor needed exceeds {MAX_FACTOR:g}"
        )
    return nxt


def neutralise(
    scenario: Scenario, seed: int | None = None, backend: Backend | None = None
) -> tuple[Scenario, BudgetResult]:
    """The scenario with `pay_scale` set to the budget-neutral factors, and the search."""
    res = find_factors(scenario, seed, backend)
    scale = {
        **{k: v for k, v in scenario.pay_scale.items() if k == scenario.baseline_scheme},
        **res.factors,
    }
    data = scenario.model_dump(mode="python")
    data["pay_scale"] = scale
    return Scenario.model_validate(data), res
