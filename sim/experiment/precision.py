"""Precision on demand: when a run has enough replications (docs/model.md section 14).

A run with precision targets (`sim.config.precision`) starts with `min_replications` and,
after each round, computes for every scheme but the baseline and every target KPI the 95%
CI half-width of the paired difference against the baseline,

    w(n) = t_{0.975, n-1} * s_d(n) / sqrt(n)

(s_d: the standard deviation over replications of the scheme's KPI minus the baseline's in
the same replication; common random numbers make it small). It stops when w <= its target
for every pair, or at `max_replications`. Otherwise the next round size comes from the
worst ratio r = w / target: as w falls like 1 / sqrt(n), n r^2 replications would meet it,

    n_next = min(max, max(n + 2, min(ceil(n r^2), 2 n)))

growing at most twofold per round so that a noisy early estimate cannot overshoot far. The
rounds depend only on the replications' results, never on the number of workers or on an
interruption: the same seed gives the same rounds and the same stopping point.

Stopping on a half-width estimated from the same data makes the final interval's coverage
slightly below 95% when few replications are needed (Law, *Simulation Modeling and
Analysis*, 5th ed., section 9.4.1, the sequential procedure for a half-width); a first round
of at least 5 replications keeps the t-quantile and the variance estimate honest.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.config.precision import Precision
from sim.metrics.catalogue import KPIS
from sim.metrics.stats import mean_ci


class PrecisionError(ValueError):
    """A precision target that names no KPI, or gives points for a KPI that is no share."""


def check_targets(targets: dict[str, float], texts: dict[str, Any] | None = None) -> None:
    """Every target names a runs.csv KPI; PrecisionError naming the first that does not."""
    for name in targets:
        if name not in KPIS:
            close = [k for k in KPIS if name in k or k in name][:3]
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise PrecisionError(f"{name!r} is not a KPI of runs.csv{hint}")
        text = (texts or {}).get(name)
        if isinstance(text, str) and text.strip().endswith("pts") and KPIS[name].kind != "pct":
            raise PrecisionError(f"{name}: 'pts' is for shares, and {name} is not one")


@dataclass(frozen=True)
class Width:
    """One pair's precision after a round: scheme, KPI, replications, half-width, target."""

    scheme: str
    kpi: str
    n: int
    half_width: float
    target: float

    @property
    def ratio(self) -> float:
        """w / target (inf when the half-width is unknown: fewer than 2 paired values)."""
        return self.half_width / self.target if math.isfinite(self.half_width) else math.inf

    @property
    def met(self) -> bool:
        return self.ratio <= 1.0

    def record(self) -> dict[str, Any]:
        """The fields as the manifest records them."""
        return asdict(self)


def widths(runs: pd.DataFrame, targets: dict[str, float], baseline: str) -> list[Width]:
    """The half-width of every (scheme, target KPI) paired difference in `runs` (one row per
    scheme x replication), schemes in order of appearance."""
    base = runs[runs["scheme"] == baseline].set_index("replication")
    out = []
    for scheme, sdf in runs.groupby("scheme", sort=False):
        if scheme == baseline:
            continue
        s = sdf.set_index("replication")
        for kpi, target in targets.items():
            d = (s[kpi] - base[kpi].reindex(s.index)).to_numpy(dtype=float)
            _m, _sd, lo, hi = mean_ci(d)
            w = (hi - lo) / 2.0 if math.isfinite(lo) else math.inf
            out.append(Width(str(scheme), kpi, int(np.sum(~np.isnan(d))), w, target))
    return out


def binding(ws: list[Width]) -> Width | None:
    """The pair furthest from its target (the largest ratio; the first on ties)."""
    return max(ws, key=lambda w: w.ratio, default=None)


def next_size(n: int, worst: Width | None, precision: Precision) -> int | None:
    """The replications of the next round after `n`, or None to stop: every target is met
    (no pair left unmet) or the cap is reached."""
    cap = precision.max_replications
    if worst is None or worst.met or n >= cap:
        return None
    want = n * worst.ratio**2 if math.isfinite(worst.ratio) else 2.0 * n
    return min(cap, max(n + 2, min(math.ceil(want), 2 * n)))


@dataclass
class Rounds:
    """What the sequential rule saw: one entry per round, and how it ended."""

    targets: dict[str, float]
    min_replications: int
    max_replications: int
    rounds: list[dict[str, Any]] = field(default_factory=list)
    widths: list[Width] = field(default_factory=list)

    def add(self, n: int, ws: list[Width]) -> None:
        worst = binding(ws)
        self.widths = ws
        self.rounds.append(
            {
                "replications": n,
                "worst": None if worst is None else worst.record(),
                "met": all(w.met for w in ws),
            }
        )

    @property
    def replications(self) -> int:
        return self.rounds[-1]["replications"] if self.rounds else 0

    @property
    def met(self) -> bool:
        return bool(self.rounds) and bool(self.rounds[-1]["met"])

    def binding(self) -> Width | None:
        """The target that bound: at the stop, the pair closest to (or furthest past) its
        target, the one that needed the most replications."""
        return binding(self.widths)

    def manifest(self) -> dict[str, Any]:
        """The manifest's "precision": targets, rounds, replications used, met, binding."""
        b = self.binding()
        return {
            "targets": self.targets,
            "min_replications": self.min_replications,
            "max_replications": self.max_replications,
            "replications": self.replications,
            "met": self.met,
            "binding": None if b is None else b.record(),
            "rounds": self.rounds,
            "final": [w.record() for w in self.widths],
        }


def sequential(precision: Precision, evaluate: Callable[[int], list[Width]]) -> Rounds:
    """Run the rounds: `evaluate(n)` makes replications 0..n-1 available and returns the
    widths over them; stop as `next_size` says. The rounds' record."""
    rounds = Rounds(precision.half_widths, precision.min_replications, precision.max_replications)
    n: int | None = precision.min_replications
    while n is not None:
        rounds.add(n, evaluate(n))
        n = next_size(n, rounds.binding(), precision)
    return rounds
