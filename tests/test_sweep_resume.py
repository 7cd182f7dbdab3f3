"""Nothing lost: a sweep killed with SIGKILL resumes to the same tables as a clean run, and
a local worker process killed mid-sweep is replaced without losing or duplicating rows."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from sim.cli.main import main
from sim.sweep.design import make_design
from sim.sweep.runner import run_sweep

#: ~0.1 s per replication, so a 1-worker sweep of 24 one-replication tasks runs for seconds.
MEDIUM = {"customers": {"count": 500}, "horizon_days": 80, "warmup_days": 10}
PARAMS = ["schemes.hybrid.weight=0,0.5,1", "workforce.technicians=3,4"]
REPS = 4


@pytest.fixture(scope="module")
def scenario_file(make_tiny_dict, tmp_path_factory):
    p = tmp_path_factory.mktemp("scen") / "medium.yaml"
    p.write_text(yaml.safe_dump(make_tiny_dict(MEDIUM), sort_keys=False), encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def clean(scenario_file, tmp_path_factory):
    """An uninterrupted sweep through the CLI (one worker)."""
    out = tmp_path_factory.mktemp("clean")
    args = [
        "sweep",
        str(scenario_file),
        *[a for p in PARAMS for a in ("-p", p)],
        "--reps",
        str(REPS),
        "--workers",
        "1",
        "--out",
        str(out),
        "-q",
    ]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    return out


def _tables(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    return pd.read_parquet(out / "runs.parquet"), pd.read_parquet(out / "summary.parquet")


def test_sigkilled_sweep_resumes_to_the_clean_result(scenario_file, clean, tmp_path):
    out = tmp_path / "killed"
    args = [
        "sweep",
        str(scenario_file),
        *[a for p in PARAMS for a in ("-p", p)],
        "--reps",
        str(REPS),
        "--workers",
        "1",
        "--reps-per-task",
        "1",
        "--out",
        str(out),
        "-q",
    ]
    proc = subprocess.Popen(
        [sys.executable, "-c", "from sim.cli.main import main; main()", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    parts = out / "parts"
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if parts.exists() and len(list(parts.glob("*.parquet"))) >= 3:
                break
            time.sleep(0.005)
        assert proc.poll() is None, (
            f"the sweep ended before it could be killed: {proc.stderr.read()}"
        )
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    done = sorted(p.stem for p in parts.glob("*.parquet"))
    man = json.loads((out / "manifest.json").read_text())
    assert man["status"] == "running" and not (out / "runs.parquet").exists()
    assert 3 <= len(done) < len(man["tasks"]) == 6 * REPS

    r = CliRunner().invoke(main, [*args, "--resume"])
    assert r.exit_code == 0, r.output
    man = json.loads((out / "manifest.json").read_text())
    assert man["status"] == "complete" and man["resumed_tasks"] == len(done)
    runs, summary = _tables(out)
    ref_runs, ref_summary = _tables(clean)
    pd.testing.assert_frame_equal(runs, ref_runs)
    pd.testing.assert_frame_equal(summary, ref_summary)
    pd.testing.assert_frame_equal(
        pd.read_csv(out / "summary.csv"), pd.read_csv(clean / "summary.csv")
    )


def test_local_worker_killed_mid_sweep(make_tiny, clean, tmp_path):
    """SIGKILL one pool process while tasks run: the pool is restarted, the unfinished tasks
    run again, and the tables equal the clean run's (no lost or duplicated rows)."""
    sc = make_tiny(MEDIUM)
    design = make_design(sc, PARAMS, "grid")
    killed: list[int] = []
    before = {p.pid for p in multiprocessing.active_children()}

    def kill_a_worker(task, ok):
        if not killed:
            pool = [p for p in multiprocessing.active_children() if p.pid not in before]
            assert pool
            killed.append(pool[0].pid)
            os.kill(pool[0].pid, signal.SIGKILL)

    res = run_sweep(
        sc, design, tmp_path, replications=REPS, workers=2, chunk=1, on_task=kill_a_worker
    )
    assert killed and res.stats.restarts >= 1 and not res.stats.failures
    assert res.manifest["pool_restarts"] >= 1
    runs, summary = _tables(clean)
    assert not res.runs.duplicated(["point", "scheme", "replication"]).any()
    pd.testing.assert_frame_equal(res.runs, runs)
    pd.testing.assert_frame_equal(res.summary, summary)
