"""What the experiment commands (`techsim run`, `sweep`, `select`, `optimise`, `whatif`)
share: their options (--reps, --seed, --out, --workers, --scheduler, --connect-timeout,
--resume, --quiet, --force), the progress bar, and the handling of the library's errors, of
Ctrl-C and of SIGTERM around the call.
"""

from __future__ import annotations

import contextlib
import functools
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, cast

import click
from rich.console import Console
from rich.markup import escape

from sim.cli.common import F, default_out, flag_option, note, range_option
from sim.cli.errors import BadInput

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from sim.experiment.execution import Execution

#: Bounds of the numeric options, far beyond real use (the resource guard judges the rest).
MAX_REPS = 1_000_000
MAX_SEED = 2**63 - 1
MAX_WORKERS = 1024


class TaskProgress:
    """Finished tasks of an experiment: counted, and shown as a rich progress bar on stderr
    (description, bar, n of m, elapsed, eta, failures) unless quiet or stderr is no terminal.

    Its methods fit the library's callbacks: `start` is `on_start(total, already)`,
    `advance` is called per finished task (`tick` when the callback is handed it).
    """

    def __init__(self, quiet: bool, description: str) -> None:
        self.description = description
        self.total = self.done = self.failures = 0
        self.description = escape(description)  # shown literally, never as markup
        self.bar: Progress | None = None
        self._id: TaskID | None = None
        err = Console(stderr=True)
        if quiet or not err.is_terminal:
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[failures]}"),
            console=err,
        )

    def note(self, text: str) -> None:
        """A line on stderr above the bar (nothing when there is no bar)."""
        if self.bar is not None:
            self.bar.console.print(text, markup=False, emoji=False)

    def start(self, total: int, already: int) -> None:
        """The tasks to run and those already done; called again when a run with precision
        targets adds a round (the bar grows)."""
        again = self.total > 0
        self.total, self.done = total, already
        if self.bar is not None and again and self._id is not None:
            self.bar.update(self._id, total=total, completed=already)
            return
        if self.bar is not None:
            self.bar.start()
            self._id = self.bar.add_task(
                self.description, total=total, completed=already, failures=""
            )

    def tick(self, _finished: object) -> None:
        """`advance` as a callback handed what finished (a replication, a trial)."""
        self.advance()

    def advance(self, ok: bool = True) -> None:
        self.done += ok
        self.failures += not ok
        if self.bar is not None and self._id is not None:
            f = self.failures
            self.bar.update(self._id, advance=1, failures=f"[red]{f} failed" if f else "")

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def out_path(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    """--out as a Path; `--out ''` is a mistake, not the current folder."""
    if value is None:
        return None
    if not value.strip():
        raise click.BadParameter("empty; give a folder")
    return Path(value)


def experiment_options(
    what: str, kept: str, out_default: str, reps: bool = True
) -> Callable[[F], F]:
    """The options every experiment command shares: --reps (per `what`), --seed, --out,
    where the tasks run (--workers, or --scheduler / DASK_SCHEDULER_ADDRESS for a Dask
    cluster, --connect-timeout), --resume (keeping the finished `kept`), --quiet and --force.

    The command receives them as one argument, `experiment: ExperimentOptions`. Without
    `reps` there is no --reps (the command decides how many replications run)."""
    options = (
        range_option("--reps", low=2, high=MAX_REPS,
                     help=f"Replications per {what} (default: the scenario's)."),
        range_option("--seed", low=0, high=MAX_SEED, help="Root seed (default: the scenario's)."),
        click.option("--out", "out_dir", type=click.Path(file_okay=False),
                     default=None, callback=out_path,
                     help=f"Output directory (default: {out_default})."),
        range_option("--workers", low=1, high=MAX_WORKERS,
                     help="Local worker processes (default: all cores)."),
        click.option("--scheduler", envvar="DASK_SCHEDULER_ADDRESS", default=None,
                     metavar="ADDR", help="Run on a Dask cluster, e.g. tcp://host:8786 "
                     "(or DASK_SCHEDULER_ADDRESS)."),
        range_option("--connect-timeout", low=0.1, high=3600, metavar="SECONDS",
                     help="How long to wait for the Dask scheduler (default: 15)."),
        flag_option("--resume", help=f"Keep finished {kept} in --out; run the rest."),
        flag_option("--quiet", "-q", help="No progress bar and no tables."),
        flag_option("--force",
                     help="Replace another scenario's results in --out; run even when the "
                     "resource estimate exceeds this machine."),
    )  # fmt: skip

    chosen = options if reps else options[1:]

    def decorate(f: F) -> F:
        @functools.wraps(f)
        def command(*args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("reps", None)
            fields = {name: kwargs.pop(name) for name in ExperimentOptions.__dataclass_fields__}
            return f(*args, experiment=ExperimentOptions(**fields), **kwargs)

        for opt in reversed(chosen):
            command = opt(command)
        return cast(F, command)

    return decorate


@dataclass(frozen=True)
class ExperimentOptions:
    """The values of `experiment_options`, handed to the command as one argument,
    `experiment` (None: the scenario's or the library's default)."""

    reps: int | None
    seed: int | None
    out_dir: Path | None
    workers: int | None
    scheduler: str | None
    connect_timeout: float | None
    resume: bool
    quiet: bool
    force: bool

    def out(self, name: str, suffix: str) -> Path:
        """--out, or results/<scenario name><suffix> (`default_out`)."""
        if self.out_dir is not None:
            return self.out_dir
        return default_out(name, suffix, self.quiet)

    def progress(self, description: str) -> TaskProgress:
        """The progress bar of the experiment's tasks (none with --quiet)."""
        return TaskProgress(self.quiet, description)

    def execution(self) -> Execution:
        """How the library runs the experiment: --seed, --workers (default: all cores),
        --scheduler, --connect-timeout, --resume and --force, with notes on stderr."""
        from sim.experiment.execution import Execution
        from sim.experiment.executor import default_workers

        return Execution(
            seed=self.seed,
            workers=self.workers or default_workers(),
            resume=self.resume,
            scheduler=self.scheduler,
            force=self.force,
            connect_timeout=self.connect_timeout,
            on_note=note,
        )


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that it is handled exactly like Ctrl-C."""


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM (a kill, a batch system's stop) raises `Terminated`: the
    queued tasks are cancelled and the finished ones kept for --resume, as on Ctrl-C."""

    def handler(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends at once
        raise Terminated()

    try:
        old = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


@contextlib.contextmanager
def experiment_errors(
    progress: TaskProgress, too_large: str, kept: Callable[[], str]
) -> Iterator[None]:
    """The error handling every experiment command shares, around its call of the library.

    SIGTERM is handled as Ctrl-C (`sigterm_as_interrupt`); the library's input errors (a
    resume that does not fit, a backend that cannot start, an output folder that is not
    ours, the resource guard's refusal) become `BadInput`; running out of memory is one line,
    the exception's name and `too_large`; Ctrl-C ends through `interrupted` with the message
    `kept()` (called then, so it can count what is kept). The bar is stopped in every case.
    A command catches its own errors inside the block.
    """
    from sim.experiment.executor import BackendError
    from sim.experiment.guard import ResourceError
    from sim.store.outdir import OutDirError
    from sim.store.parts import ResumeError

    with sigterm_as_interrupt():
        try:
            yield
        except (ResumeError, BackendError, OutDirError, ResourceError) as exc:
            raise BadInput(str(exc)) from None
        except (MemoryError, OverflowError) as exc:
            raise click.ClickException(f"{type(exc).__name__} {too_large}") from None
        except KeyboardInterrupt as exc:
            interrupted(progress, kept(), exc)
        finally:
            progress.stop()


def interrupted(progress: TaskProgress, message: str, exc: BaseException | None = None) -> NoReturn:
    """After Ctrl-C (exit 130) or SIGTERM (exit 143): stop the bar, say what is kept and how
    to finish."""
    progress.stop()
    if isinstance(exc, Terminated):
        message = "Terminated" + message.removeprefix("Interrupted")
    click.echo(message, err=True)
    raise click.exceptions.Exit(143 if isinstance(exc, Terminated) else 130)
