"""`techsim scenarios` and `techsim init`: the bundled scenarios, listed, shown and copied.

The bundled scenarios are package data (`sim.cli.common.scenario_dir`), so these commands
work the same from a checkout and from an installed wheel. `init` gives a user a commented
scenario to start from without knowing where the package was installed.
"""

from __future__ import annotations

from pathlib import Path

import click

from sim.cli.common import DEFAULT_SCENARIO, bundled_scenario, bundled_scenarios
from sim.cli.errors import BadInput
from sim.config.load import ScenarioError, load_scenario


@click.command(
    epilog="\b\nExamples:\n  techsim scenarios\n  techsim scenarios --show hvac > my.yaml"
)
@click.option(
    "--show", "show", metavar="NAME", default=None, help="Print this scenario's commented YAML."
)
def scenarios(show: str | None) -> None:
    """List the bundled scenarios, one line each; or print one with --show."""
    if show is not None:
        click.echo(bundled_scenario(show).read_text(encoding="utf-8"), nl=False)
        return
    for name, path in bundled_scenarios().items():
        try:
            desc = load_scenario(path).description.strip().splitlines()[0]
        except (ScenarioError, IndexError):
            desc = ""
        default = " (default)" if name == DEFAULT_SCENARIO else ""
        click.echo(f"{name:<10} {desc}{default}")


@click.command(
    epilog="\b\nExamples:\n  techsim init hvac                  # writes hvac.yaml here"
    "\n  techsim init medical my-clinic.yaml\n  techsim run my-clinic.yaml"
)
@click.argument("name")
@click.argument("file", required=False, type=click.Path(path_type=Path))
def init(name: str, file: Path | None) -> None:
    """Write the bundled scenario NAME to FILE (default: NAME.yaml here), to edit and run.

    An existing FILE is never overwritten.
    """
    text = bundled_scenario(name).read_text(encoding="utf-8")
    target = file if file is not None else Path(f"{name}.yaml")
    if not target.parent.is_dir():
        raise BadInput(f"{target}: folder {target.parent} does not exist")
    try:
        with target.open("x", encoding="utf-8") as fh:  # "x": fails if it exists
            fh.write(text)
    except FileExistsError:
        raise BadInput(f"{target}: already exists, not overwritten") from None
    except OSError as exc:
        raise BadInput(f"{target}: cannot write: {exc.strerror or exc}") from None
    click.echo(
        f"Wrote {target} (the bundled scenario {name}). Edit it, then: "
        f"techsim validate {target}; techsim run {target}"
    )
