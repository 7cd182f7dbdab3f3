"""What the `techsim` commands share: scenario lookup, output directory names, consoles.

One place for the pieces every command module uses (as rasterio keeps its shared options in
`rio/options.py`), so `sim.cli.main`, `sim.cli.sweep` and `sim.cli.report` do not import each
other.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console

from sim.cli.errors import BadInput
from sim.config.load import ScenarioError, load_scenario
from sim.config.scenario import Scenario
from sim.store.files import safe_filename

if TYPE_CHECKING:
    from rich.progress import Progress, ProgressColumn

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"
DEFAULT_SCENARIO = "hvac"
#: Width of the tables when stdout is not a terminal (a pipe or a file).
PIPE_WIDTH = 160


def bundled_scenarios() -> dict[str, Path]:
    """Name -> path of the scenarios shipped in scenarios/."""
    return {p.stem: p for p in sorted(SCENARIO_DIR.glob("*.yaml"))}


def resolve_scenario(arg: str | None) -> tuple[Scenario, Path]:
    """A path, or the name of a bundled scenario; the default when None."""
    if arg is None:
        arg = DEFAULT_SCENARIO
    path = Path(arg)
    if not path.exists() and arg in bundled_scenarios():
        path = bundled_scenarios()[arg]
    try:
        return load_scenario(path), path
    except ScenarioError as exc:
        raise BadInput(str(exc)) from None


def safe_dirname(name: str) -> str:
    """A scenario name made safe as a directory name (results/<name>)."""
    return safe_filename(name, "scenario")


def stdout_console() -> Console:
    """The console of the tables: the terminal's width, or PIPE_WIDTH when piped."""
    return Console(
        highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else PIPE_WIDTH
    )


def progress_bar(quiet: bool, *extra: ProgressColumn) -> Progress | None:
    """A rich progress bar on stderr, not started (None when quiet or stderr is no terminal).

    `extra` columns follow the standard ones (description, bar, n of m, elapsed, eta).
    """
    err = Console(stderr=True)
    if quiet or not err.is_terminal:
        return None
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        *extra,
        console=err,
    )


def experiment_options(what: str, out_default: str) -> Callable:
    """The options every experiment command shares (--reps, --seed, --out, --workers)."""

    def decorate(f: Callable) -> Callable:
        for opt in reversed(
            (
                click.option(
                    "--reps",
                    type=click.IntRange(min=2),
                    default=None,
                    help=f"Replications per {what} (default: the scenario's).",
                ),
                click.option(
                    "--seed",
                    type=click.IntRange(min=0),
                    default=None,
                    help="Root seed (default: the scenario's).",
                ),
                click.option(
                    "--out",
                    "out_dir",
                    type=click.Path(file_okay=False, path_type=Path),
                    default=None,
                    help=f"Output directory (default: {out_default}).",
                ),
                click.option(
                    "--workers",
                    type=click.IntRange(min=1),
                    default=None,
                    help="Local worker processes (default: all cores).",
                ),
            )
        ):
            f = opt(f)
        return f

    return decorate
