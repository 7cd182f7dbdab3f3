"""`techsim plot` and `techsim report` (issue 4: to be written)."""

import click


@click.command()
def plot() -> None:
    """Figures of a results directory (not yet available)."""
    raise click.ClickException("techsim plot is not built yet")


@click.command()
def report() -> None:
    """The compensation-proposal report (not yet available)."""
    raise click.ClickException("techsim report is not built yet")
