"""Benchmark: how techsim's cost per visit grows with the technicians, against a bare SimPy
model of the same shape (a script, not a test).

    python benchmarks/bench_floor.py [--sizes 40,250,1000] [--repeats 3]

Each measurement runs in a fresh process, the sizes and the two models interleaved, and
reports CPU microseconds per visit of the simulation alone (`process_time` around
`env.run()` / `simulate()`; the world's draws and the steady pilot are not timed):

- **techsim**: hvac scaled to the size (accounts and billable calls in proportion), one
  scheme (jobs_per_day), `simulate()` of the first replication.
- **bare**: the floor, a SimPy model with nothing but the shape of techsim's hot loop: one
  process per technician that takes the oldest job from one heap queue (or waits on an
  event until a job wakes it), travels and works (two exponential draws, one timeout),
  keeps a 9-field record tuple and, with probability 0.2, queues a revisit after an
  exponential delay (a timeout with a callback); a Poisson process opens failures at 80%
  utilisation, round the clock. 1,500 visits per technician, as techsim's hvac has per
  simulated horizon.
- **bare, nothing kept**: the same without the record (SimPy's event loop, the queue and
  the processes alone).

The ratio of each model's cost at a size to its cost at the smallest size says how much of
techsim's growth any SimPy model of that shape has on this machine (docs/performance.md,
section 1).
"""

from __future__ import annotations

import argparse
import heapq
import json
import random
import statistics
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import simpy
from simpy.events import ProcessGenerator

HERE = str(Path(__file__).resolve().parent)  # benchmarks/, for `scaled`
MODELS = ("techsim", "bare", "bare_nothing_kept")


def bare(
    technicians: int, keep_records: bool = True, visits_per_tech: int = 1500, seed: int = 1
) -> dict[str, float]:
    """The floor model at `technicians`: CPU microseconds per visit of `env.run()`."""
    travel, work, p_fix, revisit_h, util = 0.5, 1.5, 0.8, 48.0, 0.8
    env = simpy.Environment()
    rng = random.Random(seed)  # its own generator; no global state (stdlib for speed)
    expo, uniform = rng.expovariate, rng.random
    queue: list[tuple[float, int, tuple[int, int, float]]] = []
    idle: dict[int, simpy.Event] = {}
    records: list[tuple[int, int, int, float, float, float, float, bool, int]] = []
    seq, done = [0], [0]
    total = visits_per_tech * technicians
    failure_rate = technicians * util / (travel + work) * p_fix

    def ready(job: tuple[int, int, float], _event: object = None) -> None:
        seq[0] += 1
        heapq.heappush(queue, (env.now, seq[0], job))
        if idle:
            idle.pop(next(iter(idle))).succeed()

    def failures() -> ProcessGenerator:
        k = 0
        while done[0] < total:
            yield env.timeout(expo(failure_rate))
            k += 1
            ready((k, 1, env.now))

    def technician(i: int) -> ProcessGenerator:
        timeout, keep = env.timeout, records.append
        while done[0] < total:
            if not queue:
                ev = idle[i] = env.event()
                yield ev
                continue
            problem, visit, t_ready = heapq.heappop(queue)[2]
            start = env.now
            tr = expo(1.0 / travel)
            yield timeout(tr + expo(1.0 / work))
            fixed = uniform() < p_fix
            done[0] += 1
            if keep_records:
                keep((problem, visit, i, t_ready, start, start + tr, env.now, fixed, 0))
            if not fixed:
                later = env.timeout(expo(1.0 / revisit_h))
                later.callbacks.append(partial(ready, (problem, visit + 1, 0.0)))

    env.process(failures())
    for i in range(technicians):
        env.process(technician(i))
    t0 = time.process_time()
    env.run()
    cpu = time.process_time() - t0
    return {"us_per_visit": 1e6 * cpu / done[0], "visits": done[0]}


def techsim(technicians: int) -> dict[str, float]:
    """techsim's `simulate()` of hvac scaled to `technicians`: CPU microseconds per visit."""
    sys.path.insert(0, HERE)
    from scaled import hvac_scaled

    from sim.model.replication import resolve_steady, simulate_schemes, world_for

    sc = hvac_scaled(technicians)
    steady = resolve_steady(sc, sc.seed)
    world = world_for(steady, sc.seed, 0)
    t0 = time.process_time()
    _name, _formula, out = next(simulate_schemes(steady, world))
    cpu = time.process_time() - t0
    return {"us_per_visit": 1e6 * cpu / len(out.visits), "visits": len(out.visits)}


def measure(model: str, technicians: int) -> dict[str, float]:
    """One measurement in a fresh process (no heap left over from another size)."""
    cmd = [sys.executable, __file__, "--one", model, str(technicians)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="40,250,1000")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--one", nargs=2, metavar=("MODEL", "TECHNICIANS"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        runs = {"techsim": techsim, "bare": bare}
        runs["bare_nothing_kept"] = partial(bare, keep_records=False)
        run = runs[a.one[0]]
        print(json.dumps(run(int(a.one[1]))))
        return
    sizes = [int(s) for s in a.sizes.split(",")]
    got: dict[tuple[str, int], list[float]] = {}
    for _ in range(a.repeats):
        for n in sizes:
            for model in MODELS:
                got.setdefault((model, n), []).append(measure(model, n)["us_per_visit"])
    med = {k: statistics.median(v) for k, v in got.items()}
    print("| technicians | " + " | ".join(f"{m} us/visit | x smallest" for m in MODELS) + " |")
    print("|---:|" + "---:|---:|" * len(MODELS))
    for n in sizes:
        cells = [f"{med[m, n]:.1f} | {med[m, n] / med[m, sizes[0]]:.2f}" for m in MODELS]
        print(f"| {n:,} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
