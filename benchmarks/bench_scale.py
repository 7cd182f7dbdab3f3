"""Benchmark: how one replication's cost grows with the company (a script, not a test).

    python benchmarks/bench_scale.py [--sizes 40,250,1000] [--scheme jobs_per_day]

The default scenario (hvac) scaled in proportion: technicians, contract accounts, T&M calls
and new accounts x (size / 40). For each size, in a fresh process (so peak memory is that
size's alone): the world's draws, one scheme's `simulate()` and its KPIs, with wall and CPU
seconds, visits, microseconds per visit and the process's peak resident memory (bytes per
visit). Issue 14's goal: the cost per visit at 1,000 technicians within 1.2x of the
40-technician figure, and under 1 KB of memory per visit. Prints one JSON line per size.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
from sim.behaviour.best_response import choose_behaviour
from sim.cli.common import bundled_scenarios
from sim.config.load import load_scenario, scenario_from_dict, scenario_to_dict
from sim.metrics.kpis import replication_kpis
from sim.model.replication import resolve_steady
from sim.model.simulation import simulate
from sim.pay.formula import formula_for
from sim.world.draws import build_world

n, scheme = int(sys.argv[1]), sys.argv[2]
d = scenario_to_dict(load_scenario(bundled_scenarios()["hvac"]))
f = n / d["workforce"]["technicians"]
d["workforce"]["technicians"] = n
d["customers"]["count"] = round(d["customers"]["count"] * f)
d["time_and_materials"]["jobs_per_day"] *= f
if isinstance(d["customers"].get("new_accounts_per_year"), (int, float)):
    d["customers"]["new_accounts_per_year"] *= f
sc = resolve_steady(scenario_from_dict(d), d["seed"])
t0, c0 = time.perf_counter(), time.process_time()
world = build_world(sc, sc.seed, 0)
t1, c1 = time.perf_counter(), time.process_time()
formula = formula_for(sc, scheme)
theta, pace = choose_behaviour(sc, formula, world.skill)
out = simulate(sc, world, theta, formula, pace=pace)
t2, c2 = time.perf_counter(), time.process_time()
replication_kpis(sc, out, formula)
t3, c3 = time.perf_counter(), time.process_time()
visits = len(out.visits)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({
    "bench": "scale", "technicians": n, "accounts": d["customers"]["count"], "visits": visits,
    "world_s": round(t1 - t0, 2), "simulate_s": round(t2 - t1, 2), "kpis_s": round(t3 - t2, 2),
    "cpu_s": round(c3 - c0, 2),
    "simulate_us_per_visit": round(1e6 * (t2 - t1) / visits, 2),
    "total_us_per_visit": round(1e6 * (t3 - t0) / visits, 2),
    "peak_rss_mb": round(peak / 2**20), "peak_bytes_per_visit": round(peak / visits),
}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="40,250,1000")
    ap.add_argument("--scheme", default="jobs_per_day")
    a = ap.parse_args()
    for n in (int(x) for x in a.sizes.split(",")):
        cp = subprocess.run([sys.executable, "-c", CHILD, str(n), a.scheme],
                            capture_output=True, text=True, check=True)  # fmt: skip
        print(cp.stdout.strip().splitlines()[-1], flush=True)


if __name__ == "__main__":
    main()
