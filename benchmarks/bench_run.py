"""Benchmark of the main job (a script, not a test).

    python benchmarks/bench_run.py [--runs 3] [--repeat 3] [--reps 20] [--workers 2] [--bare PATH]

1. The default `techsim run`: every scheme of the bundled default scenario (hvac: 40
   technicians, 20,000 customers, one measured year after the warm-up), 20 replications,
   on local worker processes, --runs times: the median wall time (and every run's).
   Target (issue 9): under 30 s on a 2-core machine.
2. One replication of every scheme in one process (`run_replication`, the unit of work of
   a run: world draws, the steady book's pilot run already cached, behaviour, simulation
   and KPIs of each scheme), --repeat times: median seconds.
3. The model's cost per visit against a bare SimPy model of the same visits
   (`../shared/reference/bare_simpy_field_service.py`, or --bare): one replication of one
   scheme, single process, simulate() alone and the whole replication, in microseconds per
   visit (median of --repeat). Target: within 2x of bare.
The machine may be shared: each measurement comes with the CPU-seconds that other
processes used while it ran (Linux, /proc/stat), since other work on the cores makes
every figure slower. Compare a change with its base side by side in one session.
Prints one JSON line per measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sim.behaviour.best_response import choose_behaviour
from sim.cli.common import bundled_scenarios
from sim.config.load import load_scenario
from sim.experiment.execution import Execution
from sim.experiment.executor import default_workers
from sim.experiment.runner import run_scenario
from sim.experiment.tasks import run_replication
from sim.metrics.kpis import replication_kpis
from sim.model.replication import resolve_steady
from sim.model.simulation import simulate
from sim.pay.formula import formula_for
from sim.world.draws import build_world

HERE = Path(__file__).resolve().parent
BARE = HERE.parent.parent / "shared" / "reference" / "bare_simpy_field_service.py"


#: The default run's target wall time (issue 9), seconds.
TARGET_S = 30.0


def _busy_cpu_s() -> float:
    """CPU-seconds the whole machine has been busy (all processes), from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            a = [int(v) for v in f.readline().split()[1:]]
    except OSError:
        return float("nan")
    return (sum(a) - a[3] - a[4]) / os.sysconf("SC_CLK_TCK")


def _own_cpu_s() -> float:
    """CPU-seconds of this process and its finished children (the worker processes)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--workers", type=int, default=default_workers())
    ap.add_argument("--bare", type=Path, default=BARE)
    ap.add_argument("--runs", type=int, default=3, help="default runs timed (median kept)")
    ap.add_argument(
        "--repeat", type=int, default=3, help="repeats of the per-replication and per-visit timings"
    )
    a = ap.parse_args()
    sc = load_scenario(bundled_scenarios()["hvac"])

    walls, others, visits_per_rep = [], [], 0.0
    for _ in range(a.runs):
        with tempfile.TemporaryDirectory() as tmp:
            busy0, own0, t0 = _busy_cpu_s(), _own_cpu_s(), time.perf_counter()
            res = run_scenario(sc, Path(tmp) / "out", a.reps, Execution(workers=a.workers))
            walls.append(time.perf_counter() - t0)
            others.append(_busy_cpu_s() - busy0 - (_own_cpu_s() - own0))
        visits_per_rep = float(res.result.runs["visits"].mean())
    wall = statistics.median(walls)
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
                "wall_s_runs": [round(w, 2) for w in walls],
                "other_cpu_s_runs": [round(o, 1) for o in others],
                "target_s": TARGET_S,
                "ok": wall < TARGET_S,
                "visits_per_replication": visits_per_rep,
            }
        )
    )

    # one replication of every scheme, single process (the steady book's pilot run is
    # cached per process, as in a worker, so it is run once before the timing)
    run_replication(sc, sc.seed, 0)
    reps = []
    busy0, own0 = _busy_cpu_s(), _own_cpu_s()
    for k in range(a.repeat):
        t0 = time.perf_counter()
        run_replication(sc, sc.seed, k)
        reps.append(time.perf_counter() - t0)
    print(
        json.dumps(
            {
                "bench": "replication",
                "schemes": len(sc.schemes),
                "seconds": round(statistics.median(reps), 3),
                "seconds_runs": [round(r, 3) for r in reps],
                "other_cpu_s": round(_busy_cpu_s() - busy0 - (_own_cpu_s() - own0), 1),
            }
        )
    )

    # per-visit cost, single process
    name = sc.baseline_scheme
    sims, whole = [], []
    n_visits = 0
    world_sc = resolve_steady(sc, sc.seed)
    for _ in range(a.repeat):
        world = build_world(world_sc, sc.seed, 0)
        formula = formula_for(sc, name)
        theta, pace = choose_behaviour(sc, formula, world.skill)
        t0 = time.perf_counter()
        out = simulate(sc, world, theta, pace=pace)
        sims.append(time.perf_counter() - t0)
        replication_kpis(sc, out, formula)
        n_visits = len(out.visits)
        t0 = time.perf_counter()
        r = run_replication(sc, sc.seed, 0)
        whole.append((time.perf_counter() - t0) / len(r.runs))
    ours = {
        "simulate_us_per_visit": round(1e6 * statistics.median(sims) / n_visits, 2),
        "replication_us_per_visit": round(1e6 * statistics.median(whole) / n_visits, 2),
        "simulate_us_per_visit_min": round(1e6 * min(sims) / n_visits, 2),
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
        bare = statistics.median(r["us_per_job"] for r in runs)
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
