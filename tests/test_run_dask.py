"""`techsim run --scheduler`: a run and a budget-neutral run on a Dask cluster write the same
tables, byte for byte, as local worker processes. (The cluster runs in this process, so tasks
are not pickled here; tests/test_sweep_dask.py sends Scenario objects to worker processes.)"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conftest import tiny_dict, write_yaml

from sim.cli.main import main

distributed = pytest.importorskip("distributed")

TABLES = ("runs.csv", "summary.csv", "technicians.csv", "timeseries.csv", "behaviour.csv")
SMALL = {"horizon_days": 100, "warmup_days": 20, "budget_search": {"replications": 2}}


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, processes=False, threads_per_worker=1, dashboard_address=None
    ) as c:
        yield c


def _run(path, out, *extra: str) -> dict:
    r = CliRunner().invoke(main, ["run", str(path), "--reps", "3", "--out", str(out), "-q", *extra])
    assert r.exit_code == 0, r.output
    return json.loads((out / "manifest.json").read_text())


def _same_tables(a, b) -> None:
    for name in TABLES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_run_on_dask_writes_the_tables_of_local_workers(cluster, tmp_path):
    path = write_yaml(tmp_path / "s.yaml", tiny_dict(SMALL))
    _run(path, tmp_path / "local", "--workers", "2")
    man = _run(path, tmp_path / "dask", "--scheduler", cluster.scheduler_address)
    assert man["executor"] == {"kind": "dask", "workers": 2, "scheduler": cluster.scheduler_address}
    _same_tables(tmp_path / "dask", tmp_path / "local")


def test_budget_neutral_run_on_dask_from_the_environment(cluster, tmp_path, monkeypatch):
    """The budget search runs on the same backend as the run, and finds the same factors."""
    d = tiny_dict(SMALL)
    d["schemes"] = {k: d["schemes"][k] for k in ("jobs_per_day", "outcome_weighted")}
    path = write_yaml(tmp_path / "s.yaml", d)
    local = _run(path, tmp_path / "local", "--workers", "1", "--budget-neutral")
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster.scheduler_address)
    dask = _run(path, tmp_path / "dask", "--budget-neutral")
    assert dask["executor"]["kind"] == "dask"
    assert dask["budget_neutral"] == local["budget_neutral"]
    _same_tables(tmp_path / "dask", tmp_path / "local")
