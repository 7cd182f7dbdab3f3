"""What the `techsim` commands share: scenario lookup, output directory names, notes,
consoles and option helpers.

One place for the pieces every command module uses (as rasterio keeps its shared options in
`rio/options.py`), so `sim.cli.main`, `sim.cli.sweep` and `sim.cli.report` do not import each
other. What only the experiment commands (run, sweep) share is `sim.cli.experiment`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from sim.cli.errors import BadInput
from sim.config.load import ScenarioError, load_scenario
from sim.config.scenario import Scenario
from sim.store.files import safe_filename

DEFAULT_SCENARIO = "hvac"
#: Width of the tables when stdout is not a terminal (a pipe or a file).
PIPE_WIDTH = 160

F = TypeVar("F", bound=Callable[..., Any])


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
        note(f"scenario {name!r} writes to results/{folder}/")
    return Path("results") / folder


def note(text: str) -> None:
    """A note for the user on stderr ("Note: ..."), e.g. a damaged part run again."""
    click.echo(f"Note: {text}", err=True)


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


def choice_option(
    flag: str, dest: str | None, choices: Sequence[str], default: str, help: str
) -> Callable[[F], F]:
    """An option with a fixed set of values and a shown default."""
    decls = (flag, dest) if dest else (flag,)
    return click.option(
        *decls, type=click.Choice(choices), default=default, show_default=True, help=help
    )


def range_option(
    *decls: str,
    low: float | None = None,
    high: float | None = None,
    default: float | None = None,
    help: str | None = None,
    **extra: Any,
) -> Callable[[F], F]:
    """An option taking a number from `low` to `high` (None: unbounded on that side), an
    integer when the bounds and the default are integers, else a float; a default other
    than None is shown in --help. `extra`: click.option's other settings (metavar, ...)."""
    kind: click.ParamType = click.FloatRange(low, high)
    if all(v is None or isinstance(v, int) for v in (low, high, default)):
        kind = click.IntRange(
            None if low is None else int(low), None if high is None else int(high)
        )
    return click.option(
        *decls,
        type=kind,
        default=default,
        show_default=default is not None,
        help=help,
        **extra,
    )


def flag_option(*decls: str, help: str) -> Callable[[F], F]:
    """An on/off option, off unless given."""
    return click.option(*decls, is_flag=True, help=help)


def refuse_regions(sc: Scenario, path: Path | str, what: str) -> None:
    """BadInput when the scenario has regions and the command `what` does not take them."""
    if sc.regions:
        raise BadInput(
            f"{path}: regions: {what} does not take a scenario with regions yet; run it on "
            "one region's scenario, or drop the regions"
        )
