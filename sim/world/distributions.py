"""The distributions the world draws from: lognormal by mean and coefficient of
variation, on-site durations under `jobs.duration_distribution`, and technicians'
intrinsic weights under `behaviour.intrinsic_weight_dist`. Each takes the generator to
draw from (a named stream of `sim.world.rng`)."""

from __future__ import annotations

from typing import overload

import numpy as np

from sim.config.scenario import Scenario

#: The shape of an array of draws.
Shape = int | tuple[int, ...]


@overload
def lognormal(rng: np.random.Generator, mean: float, cv: float, size: None = None) -> float: ...


@overload
def lognormal(
    rng: np.random.Generator, mean: float | np.ndarray, cv: float | np.ndarray, size: Shape
) -> np.ndarray: ...


def lognormal(
    rng: np.random.Generator,
    mean: float | np.ndarray,
    cv: float | np.ndarray,
    size: Shape | None = None,
) -> float | np.ndarray:
    """Lognormal draws with mean `mean` and coefficient of variation `cv` > 0 (arrays
    broadcast; `size` None draws one number)."""
    s2 = np.log1p(cv * cv)
    return np.exp(np.log(mean) - s2 / 2.0 + np.sqrt(s2) * rng.standard_normal(size))


def draw_duration(
    rng: np.random.Generator, distribution: str, mean: np.ndarray, cv: np.ndarray, size: Shape
) -> np.ndarray:
    """Base on-site hours (before thoroughness) under `jobs.duration_distribution`."""
    if distribution == "exponential":
        return rng.exponential(1.0, size) * mean
    if distribution == "fixed":
        return np.broadcast_to(mean, size).astype(float).copy()
    return lognormal(rng, mean, cv, size)


def draw_intrinsic(scenario: Scenario, rng: np.random.Generator, size: Shape) -> np.ndarray:
    """Intrinsic weights on customer outcomes from `behaviour.intrinsic_weight_dist` (whose
    validator ensures the parameters of its kind are given)."""
    b = scenario.behaviour
    d = b.intrinsic_weight_dist
    if d is None:
        return np.full(size, b.intrinsic_weight)
    if d.kind == "fixed":
        assert d.value is not None
        return np.full(size, d.value)
    if d.kind == "uniform":
        assert d.low is not None and d.high is not None
        return rng.uniform(d.low, d.high, size)
    assert d.a is not None and d.b is not None
    return rng.beta(d.a, d.b, size)
