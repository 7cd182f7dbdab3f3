"""The best of k systems with a guarantee: Kim and Nelson's fully sequential procedure KN
(S.-H. Kim and B. L. Nelson, "A fully sequential procedure for indifference-zone selection
in simulation", ACM TOMACS 11(3), 2001, 251-273).

Each system i gives one output X_ij per replication j (larger is better); replications are
paired across systems (common random numbers), and KN uses the variance of the paired
differences, so common random numbers shrink the work. With k systems, a first stage of n0
replications, an indifference zone delta > 0 and 1 - alpha the probability of correct
selection:

    eta    = ((2 alpha / (k - 1)) ** (-2 / (n0 - 1)) - 1) / 2
    h2     = 2 eta (n0 - 1)
    S2_il  = the sample variance of X_ij - X_lj over the first n0 replications
    W_il(r) = max(0, delta / (2 r) * (h2 S2_il / delta^2 - r))

after each replication r >= n0, system i is eliminated when its mean falls below another
survivor's by more than W_il(r):  Xbar_i(r) < Xbar_l(r) - W_il(r). The procedure stops when
one system is left; W_il(r) = 0 once r > h2 S2_il / delta^2, so it ends by then at the
latest (`max_replications` caps it; systems left at the cap are reported unseparated).

Guarantee (normal outputs, any correlation between systems): if the best system's mean
exceeds every other's by at least delta, KN selects it with probability at least 1 - alpha.

`select` takes the outputs through a callback, a batch of replications at a time, so the
replications of a batch can run in parallel; the eliminations are still checked after
each replication in order, and outputs past a system's elimination are ignored, so the
result does not depend on the batch size.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

#: sample(replications, systems) -> outputs [replication, system] (larger is better).
Sampler = Callable[[list[int], list[int]], np.ndarray]


def kn_constants(k: int, n0: int, alpha: float) -> tuple[float, float]:
    """(eta, h2) of KN for k systems, first stage n0 and 1 - alpha (c = 1)."""
    if k < 2 or n0 < 2 or not 0.0 < alpha < 1.0:
        raise ValueError("KN needs k >= 2 systems, n0 >= 2 and 0 < alpha < 1")
    eta = 0.5 * ((2.0 * alpha / (k - 1)) ** (-2.0 / (n0 - 1)) - 1.0)
    return eta, 2.0 * eta * (n0 - 1)


@dataclass
class Selection:
    """What KN did: the winner, the survivors at the stop, when each other system was
    eliminated (replications seen), the means over each system's replications."""

    systems: list[str]
    delta: float
    alpha: float
    n0: int
    eta: float
    h2: float
    winner: int
    survivors: list[int]
    eliminated_at: dict[int, int] = field(default_factory=dict)
    eliminated_by: dict[int, int] = field(default_factory=dict)
    replications: dict[int, int] = field(default_factory=dict)
    means: dict[int, float] = field(default_factory=dict)
    capped: bool = False  # stopped at the cap with more than one survivor

    @property
    def total_replications(self) -> int:
        return max(self.replications.values(), default=0)


def select(
    systems: Sequence[str],
    sample: Sampler,
    delta: float,
    alpha: float = 0.05,
    n0: int = 10,
    max_replications: int = 1000,
    batch: int = 1,
) -> Selection:
    """Kim-Nelson's KN over `systems` (see the module's docstring)."""
    k = len(systems)
    if k == 1:
        x = sample(list(range(n0)), [0])
        return Selection(list(systems), delta, alpha, n0, 0.0, 0.0, 0, [0], {}, {}, {0: n0},
                         {0: float(np.mean(x))})  # fmt: skip
    if not delta > 0.0:
        raise ValueError("the indifference zone delta must be > 0")
    eta, h2 = kn_constants(k, n0, alpha)
    first = np.asarray(sample(list(range(n0)), list(range(k))), dtype=float)
    if not np.all(np.isfinite(first)):
        raise ValueError("an output of the first stage is not a number")
    diffs = first[:, :, None] - first[:, None, :]
    s2 = diffs.var(axis=0, ddof=1)  # [i, l]
    sums = first.sum(axis=0)
    alive = list(range(k))
    out = Selection(list(systems), delta, alpha, n0, eta, h2, -1, [])
    r = n0
    alive = _screen(alive, sums, r, s2, h2, delta, out)
    while len(alive) > 1 and r < max_replications:
        reps = list(range(r, min(r + batch, max_replications)))
        cols = list(alive)  # the columns of this batch's outputs
        x = np.asarray(sample(reps, cols), dtype=float)
        for row in x:  # one replication at a time, in order
            if len(alive) == 1:
                break  # outputs past the last elimination are not used
            if not np.all(np.isfinite(row[[cols.index(i) for i in alive]])):
                raise ValueError(f"an output of replication {r} is not a number")
            for c, i in enumerate(cols):
                if i in alive:
                    sums[i] += row[c]
            r += 1
            alive = _screen(alive, sums, r, s2, h2, delta, out)
    for i in range(k):
        out.replications[i] = out.eliminated_at.get(i, r)
        out.means[i] = float(sums[i] / out.replications[i])
    out.survivors = alive
    out.capped = len(alive) > 1
    out.winner = max(alive, key=lambda i: (out.means[i], -i))
    return out


def _screen(
    alive: list[int],
    sums: np.ndarray,
    r: int,
    s2: np.ndarray,
    h2: float,
    delta: float,
    out: Selection,
) -> list[int]:
    """The survivors after replication r: i stays unless Xbar_i < Xbar_l - W_il for some
    survivor l (all compared with the means before this screening)."""
    mean = sums / r
    keep = []
    for i in alive:
        worse_than = None
        for j in alive:
            if j == i:
                continue
            w = max(0.0, delta / (2.0 * r) * (h2 * s2[i, j] / delta**2 - r))
            if mean[i] < mean[j] - w:
                worse_than = j
                break
        if worse_than is None:
            keep.append(i)
        else:
            out.eliminated_at[i] = r
            out.eliminated_by[i] = worse_than
    return keep


def tied_with(sel: Selection) -> list[int]:
    """Systems other than the winner whose mean is within delta of the winner's (over the
    replications each ran): at this delta, not told apart from it."""
    best = sel.means[sel.winner]
    return [
        i
        for i in range(len(sel.systems))
        if i != sel.winner and best - sel.means[i] < sel.delta and not math.isnan(sel.means[i])
    ]
