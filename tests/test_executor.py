"""The one task loop (`sim.experiment.executor`): results as they finish on every local
backend, failures, Ctrl-C, and what a worker receives (the validated Scenario, pickled)."""

from __future__ import annotations

import pickle
from dataclasses import dataclass

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import tiny_dict, write_yaml

from sim.cli.main import main
from sim.experiment.executor import (
    Backend,
    BackendError,
    TaskFailed,
    execute,
    local_backend,
)
from sim.experiment.tasks import ReplicationTask, run_replication


@dataclass(frozen=True)
class Square:
    n: int

    @property
    def key(self) -> str:
        return f"sq-{self.n}"

    def run(self) -> int:
        if self.n < 0:
            raise ValueError(f"negative {self.n}")
        return self.n * self.n


def _run_all(tasks: list[Square], backend: Backend) -> tuple[dict[int, int], list[str]]:
    done: dict[int, int] = {}
    failed: list[str] = []
    execute(
        tasks,
        Square.run,
        backend,
        lambda t, r: done.__setitem__(t.n, r),
        lambda t, why: failed.append(f"{t.key}: {why}"),
    )
    return done, failed


@pytest.mark.parametrize("workers", [1, 2])
def test_every_result_arrives_and_a_failure_does_not_stop_the_others(workers):
    tasks = [Square(n) for n in (3, -1, 5, 7)]
    with local_backend(workers) as backend:
        assert backend.kind == ("inline" if workers == 1 else "local")
        done, failed = _run_all(tasks, backend)
        # the backend is kept for the next call (a budget search's rounds, then the run)
        assert _run_all([Square(2)], backend) == ({2: 4}, [])
    assert done == {3: 9, 5: 25, 7: 49}
    assert failed == ["sq--1: ValueError: negative -1"]


def test_without_on_fail_the_first_failure_raises_and_keeps_what_finished():
    done: list[int] = []
    with pytest.raises(TaskFailed, match="task sq--1 failed: ValueError: negative -1") as exc:
        execute(
            [Square(2), Square(-1), Square(4)],
            Square.run,
            local_backend(1),
            lambda t, r: done.append(r),
        )
    assert done == [4]  # the task after the failure never ran
    assert isinstance(exc.value.__cause__, ValueError)


def test_ctrl_c_cancels_the_queue_and_keeps_what_finished():
    backend = local_backend(2)
    done: list[int] = []

    def on_done(task: Square, result: int) -> None:
        done.append(result)
        raise KeyboardInterrupt

    with backend:
        with pytest.raises(KeyboardInterrupt):
            execute([Square(n) for n in range(20)], Square.run, backend, on_done)
        assert len(done) == 1
        # the pool was dropped with its queued tasks; the next call starts a new one
        assert _run_all([Square(2)], backend) == ({2: 4}, [])


def test_workers_receive_the_validated_scenario(make_tiny):
    """A task carries the Scenario itself (pydantic models pickle): nothing re-validates it,
    and a pickled task gives the same replication."""
    sc = make_tiny()
    task = ReplicationTask(sc, sc.seed, 1)
    copy = pickle.loads(pickle.dumps(task))
    assert copy.scenario == sc and copy.key == "rep-00001"
    np.testing.assert_equal(copy.run().runs, run_replication(sc, sc.seed, 1).runs)  # NaN == NaN


def test_an_unreachable_scheduler_is_one_line_exit_2(tmp_path, monkeypatch):
    import socket

    import sim.experiment.executor as ex

    monkeypatch.setattr(ex, "CONNECT_TIMEOUT", "1s")
    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(BackendError, match="cannot connect to the Dask scheduler"):
        ex.choose_backend(scheduler=f"tcp://127.0.0.1:{port}")
    path = write_yaml(tmp_path / "s.yaml", tiny_dict())
    for args in (
        ["run", str(path)],
        ["sweep", str(path), "-p", "workforce.technicians=3,4"],
    ):
        out = tmp_path / args[0]
        address = f"tcp://127.0.0.1:{port}"
        r = CliRunner().invoke(main, [*args, "--out", str(out), "--scheduler", address, "-q"])
        assert r.exit_code == 2, r.output
        msg = r.stderr.strip()
        assert msg.startswith(f"Error: cannot connect to the Dask scheduler at {address}")
        assert "\n" not in msg and "Traceback" not in r.output
        assert not out.exists()  # nothing written


@pytest.mark.parametrize(
    ("error", "code", "message"),
    [
        (KeyboardInterrupt, 130, "Interrupted: 2 finished replications are kept in"),
        (RuntimeError, 1, "task rep-00002 failed: RuntimeError: replication 2"),
    ],
)
def test_an_interrupted_or_failed_run_keeps_its_parts_and_resumes(
    tmp_path, monkeypatch, error, code, message
):
    """Ctrl-C or a failing replication: the finished ones are kept, --resume runs the rest
    and gives the files of an uninterrupted run."""
    path = write_yaml(tmp_path / "s.yaml", tiny_dict())
    args = ["run", str(path), "--reps", "4", "--workers", "1", "-q", "--out"]
    clean = CliRunner().invoke(main, [*args, str(tmp_path / "clean")])
    assert clean.exit_code == 0, clean.output
    real = ReplicationTask.run

    def stop_at_2(task: ReplicationTask):
        if task.replication == 2:
            raise error(f"replication {task.replication}")
        return real(task)

    monkeypatch.setattr(ReplicationTask, "run", stop_at_2)
    out = tmp_path / "out"
    r = CliRunner().invoke(main, [*args, str(out)])
    assert r.exit_code == code, r.output
    assert message in r.stderr and "--resume" in r.stderr
    assert sorted(p.name for p in (out / "parts").glob("rep-*")) == [
        "rep-00000.json",
        "rep-00001.json",
    ]
    monkeypatch.setattr(ReplicationTask, "run", real)
    r = CliRunner().invoke(main, [*args, str(out), "--resume"])
    assert r.exit_code == 0, r.output
    for name in ("runs.csv", "summary.csv", "technicians.csv", "timeseries.csv"):
        assert (out / name).read_bytes() == (tmp_path / "clean" / name).read_bytes(), name
