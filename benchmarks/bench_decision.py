"""Benchmark: time to a decision (a script, not a test).

    python benchmarks/bench_decision.py [--workers 2] [--fixed 20] [--seed N]

The default comparison (every scheme of the bundled default scenario, hvac) run twice
with the same seed: at the scenario's precision targets (`precision:`, replications in
rounds until every paired difference is that precise), and with a fixed --fixed
replications (the old default). Prints one JSON line per run (wall time, replications,
CPU-seconds other processes used meanwhile) and one comparing them: the speed-up, and
whether the two give the same decision: the same sign (CI excluding zero or not) of every
targeted paired difference and the same ranking of the schemes by mean margin.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import pandas as pd
from bench_run import _busy_cpu_s, _own_cpu_s

from sim.cli.common import bundled_scenarios
from sim.config.load import load_scenario
from sim.experiment.execution import Execution
from sim.experiment.executor import default_workers
from sim.experiment.runner import run_scenario


def _verdicts(summary: pd.DataFrame, kpis: list[str], baseline: str) -> dict[str, str]:
    """Per (scheme, KPI): '+', '-' or '0' (the paired CI straddles zero)."""
    out = {}
    for _, r in summary[(summary["scheme"] != baseline) & summary["kpi"].isin(kpis)].iterrows():
        lo, hi = r["diff_ci_low"], r["diff_ci_high"]
        out[f"{r['scheme']}:{r['kpi']}"] = "+" if lo > 0 else "-" if hi < 0 else "0"
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--workers", type=int, default=default_workers())
    ap.add_argument("--fixed", type=int, default=20)
    ap.add_argument("--seed", type=int, default=None)
    a = ap.parse_args()
    sc = load_scenario(bundled_scenarios()["hvac"])
    kpis = list(sc.precision.half_widths)
    got = {}
    for name, reps in (("precision", None), ("fixed", a.fixed)):
        with tempfile.TemporaryDirectory() as tmp:
            busy0, own0, t0 = _busy_cpu_s(), _own_cpu_s(), time.perf_counter()
            res = run_scenario(
                sc, Path(tmp) / "out", reps, Execution(seed=a.seed, workers=a.workers)
            )
            wall = time.perf_counter() - t0
            other = _busy_cpu_s() - busy0 - (_own_cpu_s() - own0)
        margin = res.summary[res.summary["kpi"] == "margin"].set_index("scheme")["mean"]
        got[name] = {
            "wall_s": round(wall, 2),
            "replications": res.manifest["replications"],
            "verdicts": _verdicts(res.summary, kpis, sc.baseline_scheme),
            "ranking": list(margin.sort_values(ascending=False).index),
        }
        print(json.dumps({"bench": f"decision_{name}", "workers": a.workers,
                          "other_cpu_s": round(other, 1), **got[name]}))  # fmt: skip
    p, f = got["precision"], got["fixed"]
    print(
        json.dumps(
            {
                "bench": "time_to_decision",
                "speedup": round(f["wall_s"] / p["wall_s"], 2),
                "replications": [p["replications"], f["replications"]],
                "same_verdicts": p["verdicts"] == f["verdicts"],
                "same_ranking": p["ranking"] == f["ranking"],
            }
        )
    )


if __name__ == "__main__":
    main()
