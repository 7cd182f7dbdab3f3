"""Where a sweep's tasks run: a local process pool, this process, or a Dask cluster.

`execute` runs every task on a `Backend` through the `concurrent.futures.Executor`
interface (one code path for all), keeps at most `backend.window` tasks in flight and hands
each result to a callback in the calling thread, in completion order. A local worker process
that dies breaks the process pool: the pool is restarted and the unfinished tasks are
submitted again (a task that was in flight at `MAX_ATTEMPTS` breaks is given up as failed).
On Dask the scheduler re-runs the tasks of a lost worker itself.
"""

from __future__ import annotations

import os
import signal
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sim.experiment.tasks import default_workers

MAX_ATTEMPTS = 3
T = TypeVar("T")
R = TypeVar("R")


class BackendError(RuntimeError):
    """The executor could not be started (e.g. no Dask scheduler at the address)."""


class InlineExecutor(Executor):
    """Runs each task at once in this process (one worker: no pool, same code path)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except Exception as exc:
            fut.set_exception(exc)
        return fut


def _ignore_sigint() -> None:
    """Pool workers leave Ctrl-C to the parent, which stops submitting and keeps parts."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@dataclass
class Backend:
    """Where tasks run: makes executors, says whether a broken one can be restarted."""

    kind: str  # "local" or "dask"
    workers: int  # worker slots (processes or Dask threads)
    window: int  # tasks in flight at once
    make: Callable[[], Executor]
    restartable: bool
    address: str | None = None
    close: Callable[[], None] = lambda: None

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "workers": self.workers, "scheduler": self.address}


def local_backend(workers: int | None = None) -> Backend:
    n = workers or default_workers()
    if n <= 1:
        return Backend("local", 1, 1, InlineExecutor, False)
    return Backend(
        "local",
        n,
        2 * n,
        lambda: ProcessPoolExecutor(max_workers=n, initializer=_ignore_sigint),
        True,
    )


def dask_backend(address: str) -> Backend:
    """An existing Dask distributed cluster (the tasks need techsim installed on workers)."""
    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - a dependency
        raise BackendError(f"--scheduler needs the 'distributed' package: {exc}") from None
    try:
        client = Client(address, timeout="15s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise BackendError(f"cannot connect to the Dask scheduler at {address}: {exc}") from None
    slots = sum(client.nthreads().values())
    executor = client.get_executor(pure=False, retries=2)
    return Backend(
        "dask", slots, max(64, 4 * slots), lambda: executor, False, address, client.close
    )


def choose_backend(workers: int | None = None, scheduler: str | None = None) -> Backend:
    """Dask when a scheduler address is given (or DASK_SCHEDULER_ADDRESS), else local."""
    address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
    return dask_backend(address) if address else local_backend(workers)


@dataclass
class ExecStats:
    """What one `execute` call went through: pool restarts, failed tasks as (id, error)."""

    restarts: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)


def execute(
    tasks: list[T],
    fn: Callable[..., R],
    args: Callable[[T], tuple],
    backend: Backend,
    on_done: Callable[[T, R], None],
    on_fail: Callable[[T, str], None] | None = None,
) -> ExecStats:
    """Run `fn(*args(task))` for every task on the backend; one code path for all.

    Tasks must be hashable and orderable and have an `id` (e.g. `sim.sweep.runner.Task`).
    At most `backend.window` tasks are in flight. Results are handed to `on_done` in the
    calling thread, in completion order.
    """
    stats = ExecStats()
    queue = deque(tasks)
    attempts: Counter[T] = Counter()

    def fail(t: T, why: str) -> None:
        stats.failures.append((t.id, why))
        if on_fail:
            on_fail(t, why)

    while queue:
        ex = backend.make()
        inflight: dict[Future, T] = {}
        broken = False
        clean = False
        try:
            while (queue or inflight) and not broken:
                while queue and len(inflight) < backend.window:
                    t = queue.popleft()
                    try:
                        inflight[ex.submit(fn, *args(t))] = t
                    except BrokenProcessPool:
                        queue.appendleft(t)
                        broken = True
                        break
                if not inflight:
                    break
                done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                for fut in done:
                    t = inflight.pop(fut)
                    exc = fut.exception()
                    if exc is None:
                        on_done(t, fut.result())
                    elif isinstance(exc, BrokenProcessPool) and backend.restartable:
                        broken = True
                        inflight[fut] = t  # handled with the others below
                    else:
                        fail(t, f"{type(exc).__name__}: {exc}")
            if broken:
                # the pool is gone: keep what finished, queue the rest again
                lost = []
                for fut, t in inflight.items():
                    if fut.done() and fut.exception() is None:
                        on_done(t, fut.result())
                    else:
                        lost.append(t)
                for t in sorted(lost, reverse=True):
                    attempts[t] += 1
                    if attempts[t] >= MAX_ATTEMPTS:
                        fail(t, f"a worker process died {attempts[t]} times while it ran")
                    else:
                        queue.appendleft(t)
                stats.restarts += 1
            clean = not broken
        finally:
            _shutdown(ex, clean)
    return stats


def _shutdown(ex: Executor, clean: bool) -> None:
    """Wait for a clean executor; drop the queued work of a broken or interrupted one."""
    if clean:
        ex.shutdown(wait=True)
        return
    try:
        ex.shutdown(wait=False, cancel_futures=True)
    except TypeError:  # Dask's ClientExecutor cancels its futures on shutdown anyway
        ex.shutdown(wait=False)
