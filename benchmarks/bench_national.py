"""Benchmark: a run from 40 to 10,000 technicians, on local workers and on a local Dask
cluster (a script, not a test; docs/performance.md has its table).

    python benchmarks/bench_national.py [--sizes 40,250,1000,10000] [--workers 2] [--dask]

Each size is one `techsim run` (`sim.experiment.runner.run_scenario`, one replication, the
scheme jobs_per_day) in a fresh process: 40, 250 and 1,000 technicians are hvac scaled in
proportion (one region: one task), 10,000 is the bundled `national` (nine regions: nine
tasks). Prints one JSON line per size: wall and CPU seconds (the process and its workers),
measured visits, CPU microseconds per visit, and the peak resident memory of the largest
process (a worker: the largest region's simulation). `--dask` also runs 10,000 on a local
Dask cluster of `--workers` processes (`run_scenario` with `Execution(scheduler=...)`).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)  # benchmarks/, for `scaled`
CHILD = r"""
import json, resource, sys, tempfile, time
sys.path.insert(0, sys.argv[4])
from scaled import hvac_scaled
from sim.experiment.execution import Execution
from sim.experiment.runner import run_scenario

n, workers, dask = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "dask"
sc = hvac_scaled(n, name="national" if n == 10000 else "hvac")
t0, c0 = time.perf_counter(), time.process_time()
with tempfile.TemporaryDirectory() as tmp:
    if dask:
        from dask.distributed import LocalCluster
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster:
            res = run_scenario(sc, tmp, 1, Execution(scheduler=cluster.scheduler_address,
                                                       force=True))
    else:
        res = run_scenario(sc, tmp, 1, Execution(workers=workers, force=True))
wall = time.perf_counter() - t0
me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
visits = float(res.result.runs["visits"].sum())
print(json.dumps({
    "bench": "national", "technicians": n, "regions": max(1, len(sc.regions)),
    "executor": "dask" if dask else "local", "workers": workers, "visits": round(visits),
    "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
    "cpu_us_per_visit": round(1e6 * cpu / visits, 1),
    "peak_rss_mb_main": round(me.ru_maxrss / 1024),
    "peak_rss_mb_largest_worker": round(kids.ru_maxrss / 1024),
}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="40,250,1000,10000")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--dask", action="store_true")
    args = ap.parse_args()
    runs = [(int(n), "local") for n in args.sizes.split(",")]
    if args.dask:
        runs.append((10000, "dask"))
    for n, how in runs:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(n), str(args.workers), how, HERE],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        line = out.stdout.strip().splitlines()
        print(line[-1] if line else f'{{"technicians": {n}, "error": {out.stderr[-300:]!r}}}')
        sys.stdout.flush()


if __name__ == "__main__":
    main()
