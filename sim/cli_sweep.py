"""`techsim sweep` and `techsim sensitivity` (issue 3: to be written)."""

import click


@click.command()
def sweep() -> None:
    """Parameter sweeps (not yet available)."""
    raise click.ClickException("techsim sweep is not built yet")


@click.command()
def sensitivity() -> None:
    """Sensitivity indices of a sweep (not yet available)."""
    raise click.ClickException("techsim sensitivity is not built yet")
