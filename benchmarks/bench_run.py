"""Benchmark of the main job (a script, not a test).

    python benchmarks/bench_run.py [--reps 20] [--workers 2] [--bare PATH]

1. The default `techsim run`: every scheme of the bundled default scenario (hvac: 40
   technicians, 20,000 customers, one measured year after the warm-up), 20 replications,
   on local worker processes. Target: under 60 s on a 2-core machine.
2. The model's cost per job against a bare SimPy model of the same visits
   (`../shared/reference/bare_simpy_field_service.py`, or --bare): one replication of one
   scheme, single process, simulate() alone and the whole replication (world draws +
   behaviour + simulation + KPIs), in microseconds per visit. Target: within 2x of bare.
Prints one JSON line per measurement.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sim.behaviour.best_response import choose_thoroughness
from sim.cli.common import bundled_scenarios
from sim.config.load import load_scenario
from sim.experiment.executor import default_workers
from sim.experiment.runner import run_scenario
from sim.experiment.tasks import run_replication
from sim.metrics.kpis import replication_kpis
from sim.model.simulation import simulate
from sim.pay.formula import formula_for
from sim.world.draws import build_world

HERE = Path(__file__).resolve().parent
BARE = HERE.parent.parent / "shared" / "reference" / "bare_simpy_field_service.py"


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--workers", type=int, default=default_workers())
    ap.add_argument("--bare", type=Path, default=BARE)
    ap.add_argument(
        "--repeat", type=int, default=3, help="repeats of the per-job timing (best kept)"
    )
    a = ap.parse_args()
    sc = load_scenario(bundled_scenarios()["hvac"])

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        res = run_scenario(sc, Path(tmp) / "out", replications=a.reps, workers=a.workers)
        wall = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "bench": "default_run",
                "scenario": sc.name,
                "schemes": len(sc.schemes),
                "replications": a.reps,
                "workers": a.workers,
                "technicians": sc.workforce.technicians,
                "customers": sc.customers.count,
                "measured_days": sc.measured_days,
                "wall_s": round(wall, 2),
                "target_s": 60,
                "ok": wall < 60,
                "visits_per_replication": float(res.result.runs["visits"].mean()),
            }
        )
    )

    # per-visit cost, single process
    name = sc.baseline_scheme
    best_sim = best_rep = float("inf")
    n_visits = 0
    for _ in range(a.repeat):
        world = build_world(sc, sc.seed, 0)
        formula = formula_for(sc, name)
        theta = choose_thoroughness(sc, formula, world.skill)
        t0 = time.perf_counter()
        out = simulate(sc, world, theta)
        best_sim = min(best_sim, time.perf_counter() - t0)
        replication_kpis(sc, out, formula)
        n_visits = len(out.visits)
        t0 = time.perf_counter()
        r = run_replication(sc, sc.seed, 0)
        best_rep = min(best_rep, (time.perf_counter() - t0) / len(r.runs))
    ours = {
        "simulate_us_per_visit": round(1e6 * best_sim / n_visits, 2),
        "replication_us_per_visit": round(1e6 * best_rep / n_visits, 2),
        "visits": n_visits,
    }

    bare = None
    if a.bare.exists():
        wf = sc.workforce
        mean_work = sum(t.share * t.onsite_hours_mean for t in sc.jobs.types.values())
        runs = []
        for _ in range(a.repeat):
            cp = subprocess.run(
                [
                    sys.executable,
                    str(a.bare),
                    "--jobs",
                    str(n_visits),
                    "--techs",
                    str(wf.technicians),
                    "--customers",
                    str(sc.customers.count),
                    "--travel",
                    str(wf.travel_hours_mean),
                    "--work",
                    str(mean_work),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            runs.append(json.loads(cp.stdout.strip().splitlines()[-1]))
        bare = min(r["us_per_job"] for r in runs)
    print(
        json.dumps(
            {
                "bench": "cost_per_visit",
                **ours,
                "bare_simpy_us_per_job": bare,
                "ratio_simulate": round(ours["simulate_us_per_visit"] / bare, 2) if bare else None,
                "ratio_replication": round(ours["replication_us_per_visit"] / bare, 2)
                if bare
                else None,
                "target_ratio": 2.0,
            }
        )
    )


if __name__ == "__main__":
    main()
