"""Benchmark: where a replication's time goes, per measured visit (a script, not a test).

    python benchmarks/bench_parts.py [TECHNICIANS ...]      # default: 40 250 1000

hvac scaled to each size (accounts and billable calls in proportion), one scheme
(jobs_per_day), in this process: CPU microseconds per measured visit of the steady book's
pilot run, the world's draws, behaviour and `simulate()`, the KPIs, and the weekly and
behaviour rows (docs/performance.md, section 1).
"""

from __future__ import annotations

import sys
import time

from scaled import hvac_scaled

from sim.metrics.kpis import replication_kpis
from sim.metrics.weekly import behaviour_rows, week_rows
from sim.model.replication import resolve_steady, simulate_schemes, world_for


def parts(n: int) -> dict[str, float]:
    sc = hvac_scaled(n)
    clock = time.process_time
    t = [clock()]
    steady = resolve_steady(sc, sc.seed)
    t.append(clock())
    world = world_for(steady, sc.seed, 0)
    t.append(clock())
    _name, formula, out = next(simulate_schemes(steady, world))
    t.append(clock())
    kpis, _techs = replication_kpis(steady, out, formula)
    t.append(clock())
    week_rows(out)
    behaviour_rows(steady, out, formula)
    t.append(clock())
    v = kpis["visits"]
    names = ("pilot", "world", "simulate", "kpis", "rows")
    return {"technicians": n, "visits": v} | {
        f"{k}_us_per_visit": round(1e6 * (b - a) / v, 1)
        for k, a, b in zip(names, t[:-1], t[1:], strict=True)
    }


if __name__ == "__main__":
    for size in [int(a) for a in sys.argv[1:]] or [40, 250, 1000]:
        print(parts(size))
