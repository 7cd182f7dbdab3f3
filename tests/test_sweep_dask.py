"""Sweeps on a real Dask cluster (two worker processes on loopback): the same numbers as one
local worker, and a worker killed mid-sweep loses and duplicates nothing."""

from __future__ import annotations

import json
import os
import signal

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from sim.cli.main import main
from sim.sweep.design import make_design
from sim.sweep.runner import run_sweep

distributed = pytest.importorskip("distributed")

#: ~0.1 s per replication: 24 one-replication tasks keep two workers busy for ~1.5 s.
MEDIUM = {"customers": {"count": 500}, "horizon_days": 80, "warmup_days": 10}
PARAMS = ["schemes.hybrid.weight=0,0.5,1", "workforce.technicians=3,4"]
REPS = 4


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    ) as c:
        with distributed.Client(c, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=60)
        yield c


@pytest.fixture(scope="module")
def sc(make_tiny):
    return make_tiny(MEDIUM)


@pytest.fixture(scope="module")
def reference(sc, tmp_path_factory):
    design = make_design(sc, PARAMS, "grid")
    return run_sweep(sc, design, tmp_path_factory.mktemp("ref"), replications=REPS, workers=1)


def test_dask_cluster_gives_the_same_numbers(cluster, sc, reference, make_tiny_dict, tmp_path):
    scen = tmp_path / "s.yaml"
    scen.write_text(yaml.safe_dump(make_tiny_dict(MEDIUM), sort_keys=False), encoding="utf-8")
    out = tmp_path / "dask"
    r = CliRunner().invoke(
        main,
        [
            "sweep",
            str(scen),
            *[a for p in PARAMS for a in ("-p", p)],
            "--reps",
            str(REPS),
            "--reps-per-task",
            "1",
            "--scheduler",
            cluster.scheduler_address,
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "on 2 Dask threads" in r.output
    m = json.loads((out / "manifest.json").read_text())
    assert m["executor"] == {"kind": "dask", "workers": 2, "scheduler": cluster.scheduler_address}
    assert len(m["tasks"]) == 6 * REPS
    pd.testing.assert_frame_equal(pd.read_parquet(out / "runs.parquet"), reference.runs)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "summary.parquet"), reference.summary)


def test_scheduler_from_environment(cluster, sc, reference, tmp_path, monkeypatch):
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster.scheduler_address)
    design = make_design(sc, PARAMS, "grid")
    res = run_sweep(sc, design, tmp_path, replications=REPS, chunk=2)
    assert res.manifest["executor"]["kind"] == "dask"
    pd.testing.assert_frame_equal(res.runs, reference.runs)


def test_dask_worker_killed_mid_sweep(cluster, sc, reference, tmp_path):
    """SIGKILL a worker process that is running a task: the scheduler re-runs its tasks on
    the other worker (and the restarted one); the tables equal the reference."""
    design = make_design(sc, PARAMS, "grid")
    killed: list[int] = []
    with distributed.Client(cluster.scheduler_address, set_as_default=False) as client:

        def kill_busy_worker(task, ok):
            if killed:
                return
            busy = [w for w, keys in client.processing().items() if keys]
            pids = client.run(os.getpid, workers=busy[:1])
            pid = next(iter(pids.values()))
            killed.append(pid)
            os.kill(pid, signal.SIGKILL)

        res = run_sweep(
            sc,
            design,
            tmp_path,
            replications=REPS,
            chunk=1,
            scheduler=cluster.scheduler_address,
            on_task=kill_busy_worker,
        )
        assert killed and killed[0] not in client.run(os.getpid).values()
    assert killed and not res.stats.failures
    assert not res.runs.duplicated(["point", "scheme", "replication"]).any()
    pd.testing.assert_frame_equal(res.runs, reference.runs)
    pd.testing.assert_frame_equal(res.summary, reference.summary)
