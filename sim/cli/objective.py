"""What `techsim select` and `techsim optimise` share: --objective (what is maximised) and
--delta (the indifference zone), each declared and read in one place.

The commands keep their own help texts (select requires both; optimise has defaults); the
option's name, metavar and the reading of its value, with the error naming the option,
are here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from sim.cli.common import F
from sim.cli.errors import BadInput

if TYPE_CHECKING:
    from sim.config.scenario import Scenario
    from sim.experiment.objective import Objective


def objective_option(help: str, **extra: Any) -> Callable[[F], F]:
    """--objective KPI|NAME: a runs.csv KPI or a named objective of the scenario, read by
    `checked_objective`."""
    return click.option("--objective", metavar="KPI|NAME", help=help, **extra)


def delta_option(help: str, **extra: Any) -> Callable[[F], F]:
    """--delta D: an indifference zone in the objective's units, read by `parsed_delta`; the
    command receives the text as `delta_text`."""
    return click.option("--delta", "delta_text", metavar="D", help=help, **extra)


def checked_objective(sc: Scenario, text: str) -> Objective:
    """The objective --objective names in `sc`; BadInput naming the option otherwise."""
    from sim.experiment.objective import ObjectiveError, objective_for

    try:
        return objective_for(sc, text)
    except ObjectiveError as exc:
        raise BadInput(f"--objective: {exc}") from None


def parsed_delta(text: str) -> float:
    """--delta as a number ('0.5pts' a share); BadInput naming the option otherwise."""
    from sim.config.precision import parse_half_width

    try:
        return parse_half_width(text)
    except ValueError as exc:
        raise BadInput(f"--delta: {exc}") from None
