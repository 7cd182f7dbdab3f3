"""Sweep designs: which scenarios a sweep runs.

A *parameter* is a scenario field named by its dotted path (`schemes.hybrid.weight`,
`customers.churn_per_problem.unresolved`, `jobs.types.complex.share`) with the values to try:
a list `a,b,c`, a linear range `lo:hi:n` or a log range `lo:hi:n:log` (grid), or the bounds
`lo:hi` / `lo:hi:log` inside which lhs, sobol and morris draw their points (SALib samplers).
A *point* is one assignment of values to every parameter; applied to the resolved scenario
it gives a scenario that is validated like a scenario file, so a bad path, a value of the
wrong type or a point that breaks a rule (shares not adding up to 1) is reported before
anything runs, as a `SweepInputError` naming the path.

Integer fields (`workforce.technicians`, `customers.count`) take whole numbers: a range or a
sampled value is rounded to the nearest integer (the unrounded sampler value is kept as
`x`, which is what the sensitivity analysis of a sobol/morris sweep uses). Parameters and
their values are parsed in `sim.sweep.params`.
"""

from __future__ import annotations

import copy
import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.config.load import ScenarioError, scenario_from_dict
from sim.config.scenario import Scenario
from sim.sweep.params import SAMPLED, Parameter, SweepInputError, parse_param, set_path

DESIGNS = ("grid", *SAMPLED)
#: Default --samples of the sampled designs (sobol: base samples N, N*(D+2) points;
#: morris: trajectories, N*(D+1) points).
DEFAULT_SAMPLES = {"lhs": 16, "sobol": 32, "morris": 10}
#: The most design points a sweep may have: checked before the points are laid out, so a
#: typo such as `--samples 1000000000` is one line, not a MemoryError. Far above what a
#: sweep can run (the resource guard, sim.experiment.guard, judges the time).
MAX_POINTS = 1_000_000
MORRIS_LEVELS = 4
#: Groups of shares that must add up to 1 (see --rebalance-shares).
SHARE_GROUPS = ("jobs.types", "customers.tiers")


@dataclass(frozen=True)
class Point:
    """One design point: the values applied, and the sampler's unrounded coordinates."""

    index: int
    values: dict[str, Any]
    x: tuple[float, ...] = ()


@dataclass
class Design:
    method: str
    parameters: list[Parameter]
    points: list[Point]
    samples: int | None = None
    seed: int = 0
    rebalance_shares: bool = False
    problem: dict[str, Any] = field(default_factory=dict)

    @property
    def paths(self) -> list[str]:
        return [p.path for p in self.parameters]

    def spec(self) -> dict[str, Any]:
        """The JSON form recorded in the manifest (it identifies the sweep on --resume)."""
        return {
            "method": self.method,
            "samples": self.samples,
            "seed": self.seed,
            "rebalance_shares": self.rebalance_shares,
            "morris_levels": MORRIS_LEVELS if self.method == "morris" else None,
            "problem": self.problem or None,
            "points": [
                {"point": p.index, "values": p.values, **({"x": list(p.x)} if p.x else {})}
                for p in self.points
            ],
        }


# --------------------------------------------------------------------------- designs
def _problem(params: list[Parameter]) -> dict[str, Any]:
    """SALib's description of the sampled parameters."""
    bounds = [list(p.bounds()) for p in params]
    return {"num_vars": len(params), "names": [p.path for p in params], "bounds": bounds}


def _sampled_values(params: list[Parameter], x: np.ndarray) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for p, v in zip(params, x):
        v = float(10.0**v) if p.log else float(v)
        out[p.path] = round(v) if p.kind == "int" else v
    return out


def sample(method: str, params: list[Parameter], samples: int, seed: int) -> np.ndarray:
    """The sampler's matrix (one row per point), in sampling space (log10 for log ranges)."""
    from SALib.sample import latin, morris, sobol

    problem = _problem(params)
    if method == "lhs":
        return latin.sample(problem, samples, seed=seed)
    if method == "sobol":
        return sobol.sample(problem, samples, calc_second_order=False, seed=seed)
    if method == "morris":
        return morris.sample(problem, samples, num_levels=MORRIS_LEVELS, seed=seed)
    raise SweepInputError(f"--design {method!r}: not one of {', '.join(DESIGNS)}")


def make_design(
    base: Scenario | dict[str, Any],
    param_texts: list[str],
    method: str = "grid",
    samples: int | None = None,
    seed: int = 0,
    rebalance_shares: bool = False,
) -> Design:
    """Parse the parameters and lay out the points (not yet validated: see `point_scenarios`)."""
    if method not in DESIGNS:
        raise SweepInputError(f"--design {method!r}: not one of {', '.join(DESIGNS)}")
    data = base.model_dump(mode="json") if isinstance(base, Scenario) else base
    if not param_texts:
        raise SweepInputError("--param: give at least one PATH=VALUES")
    params = [parse_param(t, data, method) for t in param_texts]
    seen: set[str] = set()
    for p in params:
        if p.path in seen:
            raise SweepInputError(f"--param {p.path}: given twice")
        seen.add(p.path)
    if method == "grid":
        if samples is not None:
            raise SweepInputError(
                "--samples: only for lhs, sobol and morris (a grid crosses the values given)"
            )
        size = math.prod(len(p.values) for p in params)
        if size > MAX_POINTS:
            raise SweepInputError(
                f"--param: the grid crosses {' x '.join(str(len(p.values)) for p in params)} "
                f"= {size:,} points, more than {MAX_POINTS:,}; give fewer values"
            )
        points = [
            Point(i, dict(zip([p.path for p in params], combo)))
            for i, combo in enumerate(itertools.product(*(p.values for p in params)))
        ]
        return Design(method, params, points, None, seed, rebalance_shares)
    n = DEFAULT_SAMPLES[method] if samples is None else samples
    if n < 2:
        raise SweepInputError(f"--samples: at least 2 for {method} (got {n})")
    if method == "sobol" and n & (n - 1):
        raise SweepInputError(
            f"--samples: the sobol design needs a power of 2 (got {n}; "
            f"try {1 << (n - 1).bit_length()})"
        )
    if method == "morris" and len(params) < 2:
        raise SweepInputError("--design morris: needs at least 2 parameters")
    size = n * {"lhs": 1, "sobol": len(params) + 2, "morris": len(params) + 1}[method]
    if size > MAX_POINTS:
        raise SweepInputError(
            f"--samples {n}: the {method} design would have {size:,} points, more than "
            f"{MAX_POINTS:,}; give fewer samples"
        )
    x = sample(method, params, n, seed)
    points = [
        Point(i, _sampled_values(params, row), tuple(float(v) for v in row))
        for i, row in enumerate(x)
    ]
    return Design(method, params, points, n, seed, rebalance_shares, _problem(params))


# --------------------------------------------------------------------------- applying points
def _rebalance(data: dict[str, Any], swept: set[str]) -> None:
    """Rescale the unswept shares of each share group so that the group adds up to 1."""
    for group in SHARE_GROUPS:
        section, key = group.split(".")
        members = data[section][key]
        fixed = [k for k in members if f"{group}.{k}.share" in swept]
        if not fixed:
            continue
        free = [k for k in members if k not in fixed]
        rest = 1.0 - sum(members[k]["share"] for k in fixed)
        free_total = sum(members[k]["share"] for k in free)
        if free and free_total > 0 and rest >= 0:
            for k in free:
                members[k]["share"] = members[k]["share"] * rest / free_total


def apply_point(
    base: dict[str, Any], point: Point, rebalance_shares: bool = False
) -> dict[str, Any]:
    """The scenario dict of one point: `base` with the point's values set (a copy)."""
    data = copy.deepcopy(base)
    for path, value in point.values.items():
        set_path(data, path, value)
    if rebalance_shares:
        _rebalance(data, set(point.values))
    return data


def describe(point: Point) -> str:
    return ", ".join(
        f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in point.values.items()
    )


def point_scenarios(base: Scenario, design: Design) -> list[Scenario]:
    """The validated scenario of every point, in point order (what the workers run).

    Raises SweepInputError naming the point, its values and the offending field.
    """
    data = base.model_dump(mode="json")
    out = []
    for point in design.points:
        d = apply_point(data, point, design.rebalance_shares)
        try:
            sc = scenario_from_dict(d, f"point {point.index} ({describe(point)})")
        except ScenarioError as exc:
            msg = str(exc)
            if "shares must add up to 1" in msg and not design.rebalance_shares:
                msg += "; add --rebalance-shares to rescale the other shares of the group"
            raise SweepInputError(msg) from None
        if sc.budget_neutral:
            # the search (sim.experiment.budget) is not run per point: refuse rather than ignore it
            raise SweepInputError(
                f"point {point.index} ({describe(point)}): budget_neutral: sweeps do not run "
                "the budget-neutral search; set budget_neutral: false and give the factors "
                "in pay_scale (e.g. from the manifest of 'techsim run --budget-neutral')"
            )
        if sc.sizing_target is not None:
            # nor the sizing search (sim.experiment.sizing)
            raise SweepInputError(
                f"point {point.index} ({describe(point)}): workforce.sizing: sweeps do not run "
                "the sizing search; set it to 'fixed' and give the headcounts in headcount "
                "(e.g. from the manifest of 'techsim run --size-to')"
            )
        out.append(sc)
    return out
