"""Benchmark: memory per visit, and whether it grows with the horizon (a script, not a test).

    python benchmarks/bench_memory.py [--technicians 250] [--years 1,2]

hvac scaled to --technicians (accounts and billable calls in proportion), one scheme
(jobs_per_day), its measured period set to each of --years, in this process and traced
with `tracemalloc` (the steady book's pilot run first, untraced): the bytes per visit
(every visit, the warm-up's too) held by the world's draws, after the simulation, and at
the peak of the simulation and of the KPIs; then the peak resident set of a fresh process
running the whole replication as a worker does (`run_replication`), per measured visit.
Prints one JSON line per horizon (docs/performance.md, section 2).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tracemalloc
from pathlib import Path

from scaled import hvac_scaled

from sim.metrics.kpis import replication_kpis
from sim.model.replication import resolve_steady, simulate_schemes, world_for

HERE = str(Path(__file__).resolve().parent)  # benchmarks/, for `scaled`
RSS = r"""
import json, resource, sys
sys.path.insert(0, sys.argv[3])
from scaled import hvac_scaled
from sim.experiment.tasks import run_replication
sc = hvac_scaled(int(sys.argv[1]), float(sys.argv[2]))
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
r = run_replication(sc, sc.seed, 0)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"rss_mb": peak // 1024, "rss_imports_mb": base // 1024,
                  "measured_visits": r.runs[0]["visits"]}))
"""


def traced(technicians: int, years: float) -> dict[str, float]:
    sc = hvac_scaled(technicians, years)
    steady = resolve_steady(sc, sc.seed)  # the pilot, untraced
    tracemalloc.start()
    world = world_for(steady, sc.seed, 0)
    world_b = tracemalloc.get_traced_memory()[0]
    _name, formula, out = next(simulate_schemes(steady, world))
    after, sim_peak = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    replication_kpis(steady, out, formula)
    kpi_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    n = len(out.visits)
    child = subprocess.run(
        [sys.executable, "-c", RSS, str(technicians), str(years), HERE],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    rss = json.loads(child.stdout.strip().splitlines()[-1])
    return {
        "technicians": technicians,
        "measured_years": years,
        "visits": n,
        "world_bytes_per_visit": round(world_b / n),
        "after_simulate_bytes_per_visit": round(after / n),
        "simulate_peak_bytes_per_visit": round(sim_peak / n),
        "kpi_peak_bytes_per_visit": round(kpi_peak / n),
        "rss_mb": rss["rss_mb"],
        "rss_bytes_per_measured_visit": round(rss["rss_mb"] * 2**20 / rss["measured_visits"]),
    }


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--technicians", type=int, default=250)
    ap.add_argument("--years", default="1,2")
    args = ap.parse_args()
    for y in (float(x) for x in args.years.split(",")):
        print(json.dumps({"bench": "memory"} | traced(args.technicians, y)), flush=True)
