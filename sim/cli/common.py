"""What the `techsim` commands share: scenario lookup, output directory names, consoles,
the experiment options (--reps, --seed, --out, --workers, --scheduler) and the progress bar.

One place for the pieces every command module uses (as rasterio keeps its shared options in
`rio/options.py`), so `sim.cli.main`, `sim.cli.sweep` and `sim.cli.report` do not import each
other.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click
from rich.console import Console
from rich.markup import escape

from sim.cli.errors import BadInput
from sim.config.load import ScenarioError, load_scenario
from sim.config.scenario import Scenario
from sim.store.files import safe_filename

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

DEFAULT_SCENARIO = "hvac"
#: Width of the tables when stdout is not a terminal (a pipe or a file).
PIPE_WIDTH = 160

F = TypeVar("F", bound=Callable[..., Any])
#: Bounds of the numeric options, far beyond real use (the resource guard judges the rest).
MAX_REPS = 1_000_000
MAX_SEED = 2**63 - 1
MAX_WORKERS = 1024


def scenario_dir() -> Path:
    """The folder of the bundled scenarios: the package data `sim/scenarios`.

    In a checkout (and an editable install) `sim/scenarios` is a symlink to the repository's
    `scenarios/`, the one copy; a wheel carries the files themselves (docs/development.md).
    An installed package is a folder on disk, so the resource is a path.
    """
    return Path(str(resources.files("sim").joinpath("scenarios")))


def bundled_scenarios() -> dict[str, Path]:
    """Name -> path of the bundled scenarios, sorted by name."""
    return {p.stem: p for p in sorted(scenario_dir().glob("*.yaml"))}


def bundled_scenario(name: str) -> Path:
    """The path of the bundled scenario `name`; BadInput listing the bundled names if none."""
    bundled = bundled_scenarios()
    if name not in bundled:
        raise BadInput(f"{name}: no bundled scenario of that name ({_listed(bundled)})")
    return bundled[name]


def _listed(bundled: dict[str, Path]) -> str:
    return f"bundled: {', '.join(bundled)}" if bundled else "no scenarios are bundled"


def resolve_scenario(arg: str | None) -> tuple[Scenario, Path]:
    """A path, or the name of a bundled scenario; the default when None."""
    if arg is None:
        arg = DEFAULT_SCENARIO
    path = Path(arg)
    if not path.exists():
        bundled = bundled_scenarios()
        if arg in bundled:
            path = bundled[arg]
        elif not path.suffix and len(path.parts) == 1:  # a name, not a path
            raise BadInput(
                f"{arg}: file not found, and not a bundled scenario ({_listed(bundled)})"
            )
    try:
        return load_scenario(path), path
    except ScenarioError as exc:
        raise BadInput(str(exc)) from None


def safe_dirname(name: str) -> str:
    """A scenario name made safe as a directory name (results/<name>)."""
    return safe_filename(name, "scenario")


def default_out(name: str, suffix: str, quiet: bool) -> Path:
    """results/<scenario name><suffix>, the name made safe for the file system; says so on
    stderr (unless quiet) when the folder's name is not the scenario's."""
    folder = safe_dirname(name) + suffix
    if folder != name + suffix and not quiet:
        click.echo(f"Note: scenario {name!r} writes to results/{folder}/", err=True)
    return Path("results") / folder


def stdout_console() -> Console:
    """The console of the tables: the terminal's width, or PIPE_WIDTH when piped. Text is
    shown literally: no console markup, emoji codes or highlighting (a scenario called
    "[bold]x" prints as "[bold]x")."""
    return Console(
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=False,
        width=None if sys.stdout.isatty() else PIPE_WIDTH,
    )


def force_option(f: F) -> F:
    """--force: replace another scenario's results in --out, and run what the resource
    guard refuses."""
    return click.option(
        "--force",
        is_flag=True,
        help="Replace another scenario's results in --out; run even when the resource "
        "estimate exceeds this machine.",
    )(f)


class TaskProgress:
    """Finished tasks of an experiment: counted, and shown as a rich progress bar on stderr
    (description, bar, n of m, elapsed, eta, failures) unless quiet or stderr is no terminal.

    Its methods fit the library's callbacks: `start` is `on_start(total, already)`,
    `advance` is called per finished task.
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
        self.total, self.done = total, already
        if self.bar is not None:
            self.bar.start()
            self._id = self.bar.add_task(
                self.description, total=total, completed=already, failures=""
            )

    def advance(self, ok: bool = True) -> None:
        self.done += ok
        self.failures += not ok
        if self.bar is not None and self._id is not None:
            f = self.failures
            self.bar.update(self._id, advance=1, failures=f"[red]{f} failed" if f else "")

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def choice_option(
    flag: str, dest: str | None, choices: Sequence[str], default: str, help: str
) -> Callable[[F], F]:
    """An option with a fixed set of values and a shown default."""
    decls = (flag, dest) if dest else (flag,)
    return click.option(
        *decls, type=click.Choice(choices), default=default, show_default=True, help=help
    )


def out_path(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    """--out as a Path; `--out ''` is a mistake, not the current folder."""
    if value is None:
        return None
    if not value.strip():
        raise click.BadParameter("empty; give a folder")
    return Path(value)


def experiment_options(what: str, out_default: str) -> Callable[[F], F]:
    """The options every experiment command shares: --reps, --seed, --out, and where the
    tasks run (--workers, or --scheduler / DASK_SCHEDULER_ADDRESS for a Dask cluster)."""
    options = (
        click.option("--reps", type=click.IntRange(min=2, max=MAX_REPS), default=None,
                     help=f"Replications per {what} (default: the scenario's)."),
        click.option("--seed", type=click.IntRange(min=0, max=MAX_SEED), default=None,
                     help="Root seed (default: the scenario's)."),
        click.option("--out", "out_dir", type=click.Path(file_okay=False),
                     default=None, callback=out_path,
                     help=f"Output directory (default: {out_default})."),
        click.option("--workers", type=click.IntRange(min=1, max=MAX_WORKERS), default=None,
                     help="Local worker processes (default: all cores)."),
        click.option("--scheduler", envvar="DASK_SCHEDULER_ADDRESS", default=None,
                     metavar="ADDR", help="Run on a Dask cluster, e.g. tcp://host:8786 "
                     "(or DASK_SCHEDULER_ADDRESS)."),
        click.option("--connect-timeout", type=click.FloatRange(min=0.1, max=3600),
                     default=None, metavar="SECONDS",
                     help="How long to wait for the Dask scheduler (default: 15)."),
    )  # fmt: skip

    def decorate(f: F) -> F:
        for opt in reversed(options):
            f = opt(f)
        return f

    return decorate


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


def interrupted(progress: TaskProgress, message: str, exc: BaseException | None = None) -> NoReturn:
    """After Ctrl-C (exit 130) or SIGTERM (exit 143): stop the bar, say what is kept and how
    to finish."""
    progress.stop()
    if isinstance(exc, Terminated):
        message = "Terminated" + message.removeprefix("Interrupted")
    click.echo(message, err=True)
    raise click.exceptions.Exit(143 if isinstance(exc, Terminated) else 130)
