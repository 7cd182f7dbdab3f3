"""Where and how tasks run: one loop (`execute`) over three backends.

A *task* is a frozen, picklable value holding every input of a pure function (a validated
`Scenario`, a seed, replications ...), with a `key` naming it and a `run` method computing
its result: `execute(tasks, ReplicationTask.run, backend, on_done)`. A run's replications,
the budget-neutral search's pay evaluations and a sweep's chunks are such tasks
(`sim.experiment.tasks`, `sim.experiment.budget`, `sim.sweep.chunks`), so they all share
this loop and its backends:

- *inline*: in this process, one task at a time (one worker; no pool to start);
- *local*: a pool of worker processes on this machine;
- *dask*: an existing Dask distributed cluster, by its scheduler's address.

`execute` keeps at most `backend.window` tasks in flight and hands each result to a
callback in the calling thread as it finishes (so the caller can write it at once). Ctrl-C
cancels the queued tasks and keeps what finished: pool workers ignore SIGINT and leave it
to this process. A local worker process that dies breaks the pool: the pool is restarted
and the unfinished tasks are submitted again, up to `MAX_ATTEMPTS` times for a task that was
in flight at each break. On Dask the scheduler re-runs a lost worker's tasks itself and
retries a failed task twice. A task that raises is reported to `on_fail`, or, without one,
stops the loop with `TaskFailed`.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, ParamSpec, Protocol, TypeVar

MAX_ATTEMPTS = 3
#: How long to wait for a Dask scheduler before giving up (--connect-timeout overrides it).
CONNECT_TIMEOUT: str | float = "15s"
#: How long a client that never connected may take to close (distributed's default: 30 s).
CLOSE_TIMEOUT = 1.0

P = ParamSpec("P")
R = TypeVar("R")


class Task(Protocol):
    """What `execute` needs of a task: a name for progress and failure messages."""

    @property
    def key(self) -> str: ...


T = TypeVar("T", bound=Task)


class BackendError(RuntimeError):
    """The backend could not be started (e.g. no Dask scheduler at the address)."""


class TaskFailed(RuntimeError):
    """A task raised (or its worker died `MAX_ATTEMPTS` times) and no `on_fail` was given."""


def default_workers() -> int:
    """The cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


class InlineExecutor(Executor):
    """Runs each task at once in this process, when it is submitted."""

    def submit(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> Future[R]:
        fut: Future[R] = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except Exception as exc:
            fut.set_exception(exc)
        return fut


def _ignore_sigint() -> None:
    """Pool workers leave Ctrl-C and SIGTERM to the parent, which cancels the queue and
    keeps results (the workers finish their task and exit when the pool shuts down)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _cancel_pool(ex: Executor) -> None:
    ex.shutdown(wait=False, cancel_futures=True)


def _cancel_dask(ex: Executor) -> None:
    ex.shutdown(wait=False)  # Dask's ClientExecutor cancels its futures (no cancel_futures)


def _nothing() -> None:
    pass


@dataclass
class Backend:
    """Where tasks run. Its executor is started on first use and kept for the next `execute`
    (the budget search's rounds, then the run); `close` when done (or use `with`)."""

    kind: str  # "inline", "local" or "dask"
    workers: int  # worker slots (processes or Dask threads)
    window: int  # tasks in flight at once
    start: Callable[[], Executor]
    restartable: bool  # a broken executor can be replaced by a new one (a local pool)
    cancel: Callable[[Executor], None] = _cancel_pool  # stop at once, dropping queued tasks
    address: str | None = None
    on_close: Callable[[], None] = _nothing
    _live: Executor | None = field(default=None, init=False, repr=False)

    def executor(self) -> Executor:
        if self._live is None:
            self._live = self.start()
        return self._live

    def discard(self) -> None:
        """Drop the executor after a break or an interruption, cancelling its queued tasks."""
        if self._live is not None:
            ex, self._live = self._live, None
            self.cancel(ex)

    def close(self) -> None:
        if self._live is not None:
            ex, self._live = self._live, None
            ex.shutdown(wait=True)
        self.on_close()

    def describe(self) -> dict[str, Any]:
        """The backend as the manifests record it."""
        kind = "local" if self.kind == "inline" else self.kind
        return {"kind": kind, "workers": self.workers, "scheduler": self.address}

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def local_backend(workers: int | None = None) -> Backend:
    """`workers` local processes (all cores when None); one worker runs inline."""
    n = workers or default_workers()
    if n <= 1:
        return Backend("inline", 1, 1, InlineExecutor, False)
    return Backend(
        "local",
        n,
        2 * n,
        lambda: ProcessPoolExecutor(max_workers=n, initializer=_ignore_sigint),
        True,
    )


def dask_backend(address: str, timeout: float | None = None) -> Backend:
    """An existing Dask distributed cluster (its workers need techsim installed).

    The connection is given `timeout` seconds (CONNECT_TIMEOUT when None); any failure to
    connect (refused, unreachable, an unknown address scheme, something that is not a Dask
    scheduler answering) is one BackendError, raised at once: the half-made client is
    closed within CLOSE_TIMEOUT instead of distributed's 30 s."""
    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - a dependency
        raise BackendError(f"--scheduler needs the 'distributed' package: {exc}") from None

    class QuickClient(Client):
        def __del__(self) -> None:
            with contextlib.suppress(Exception):
                self.close(timeout=CLOSE_TIMEOUT)

    wait_s = CONNECT_TIMEOUT if timeout is None else timeout
    try:
        client = QuickClient(address, timeout=wait_s, set_as_default=False)
    except Exception as exc:  # distributed raises many kinds; none may escape as a traceback
        why = " ".join(str(exc).split()) or type(exc).__name__
        if isinstance(exc, MemoryError):
            why = "the server at that address does not speak Dask's protocol"
        raise BackendError(
            f"cannot connect to the Dask scheduler at {address}: {why[:200]}"
        ) from None
    slots = sum(client.nthreads().values())
    return Backend(
        "dask",
        slots,
        max(64, 4 * slots),
        lambda: client.get_executor(pure=False, retries=2),
        False,
        _cancel_dask,
        address,
        client.close,
    )


def choose_backend(
    workers: int | None = None, scheduler: str | None = None, timeout: float | None = None
) -> Backend:
    """Dask when a scheduler address is given (or DASK_SCHEDULER_ADDRESS), else local.

    `timeout`: seconds to wait for the scheduler (CONNECT_TIMEOUT when None)."""
    address = scheduler_address(scheduler)
    return dask_backend(address, timeout) if address else local_backend(workers)


def scheduler_address(scheduler: str | None) -> str | None:
    """The Dask scheduler's address: `scheduler`, else DASK_SCHEDULER_ADDRESS; None: none."""
    return scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or None


@contextlib.contextmanager
def backend_for(
    backend: Backend | None,
    workers: int | None = None,
    scheduler: str | None = None,
    timeout: float | None = None,
) -> Iterator[Backend]:
    """`backend` when given (its owner closes it), else one from `choose_backend`, closed
    at the end of the block: how an experiment gets the backend its tasks run on."""
    if backend is not None:
        yield backend
        return
    with choose_backend(workers, scheduler, timeout) as own:
        yield own


@dataclass
class ExecStats:
    """What one `execute` went through: pool restarts, failed tasks as (key, error)."""

    restarts: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)


def execute(
    tasks: Sequence[T],
    run: Callable[[T], R],
    backend: Backend,
    on_done: Callable[[T, R], None],
    on_fail: Callable[[T, str], None] | None = None,
) -> ExecStats:
    """`run(task)` for every task on the backend; results to `on_done` as they finish.

    `run` is a module-level function or a method of a module-level class (workers find it
    by name), e.g. `ReplicationTask.run`. Callbacks run in the calling thread, in completion
    order. A task that fails goes to `on_fail` and the others go on; without `on_fail` the
    first failure cancels the rest and raises `TaskFailed`.
    """
    stats = ExecStats()
    queue = deque(range(len(tasks)))
    attempts: Counter[int] = Counter()

    def fail(i: int, why: str, exc: BaseException | None = None) -> None:
        stats.failures.append((tasks[i].key, why))
        if on_fail is None:
            raise TaskFailed(f"task {tasks[i].key} failed: {why}") from exc
        on_fail(tasks[i], why)

    while queue:
        ex = backend.executor()
        inflight: dict[Future[R], int] = {}
        broken = False
        try:
            while (queue or inflight) and not broken:
                while queue and len(inflight) < backend.window:
                    i = queue.popleft()
                    try:
                        inflight[ex.submit(run, tasks[i])] = i
                    except BrokenProcessPool:
                        queue.appendleft(i)
                        broken = True
                        break
                if not inflight:
                    break
                done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                failed: list[tuple[int, BaseException]] = []
                for fut in done:
                    i = inflight.pop(fut)
                    exc = fut.exception()
                    if exc is None:
                        on_done(tasks[i], fut.result())
                    elif isinstance(exc, BrokenProcessPool) and backend.restartable:
                        broken = True
                        inflight[fut] = i  # handled with the others below
                    else:
                        failed.append((i, exc))
                for i, exc in failed:  # after the successes, which are kept either way
                    fail(i, f"{type(exc).__name__}: {exc}", exc)
            if broken:
                # the pool is gone: keep what finished, queue the rest again
                lost = []
                for fut, i in inflight.items():
                    if fut.done() and not fut.cancelled() and fut.exception() is None:
                        on_done(tasks[i], fut.result())
                    else:
                        lost.append(i)
                for i in sorted(lost, reverse=True):
                    attempts[i] += 1
                    if attempts[i] >= MAX_ATTEMPTS:
                        fail(i, f"a worker process died {attempts[i]} times while it ran")
                    else:
                        queue.appendleft(i)
                stats.restarts += 1
                backend.discard()
        except BaseException:
            # Ctrl-C, a failure or an error in a callback: drop the queued tasks
            backend.discard()
            raise
    return stats
