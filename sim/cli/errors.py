"""The one error class of the command line: bad input from the user.

Every command turns a library error about its input (a scenario that does not validate, a
bad --param, a results directory that is not one, a refused --resume) into `BadInput`:
one line on stderr naming the file and field, exit status 2, no traceback.
"""

from __future__ import annotations

from typing import IO, Any

import click


class BadInput(click.ClickException):
    """Bad input: one line on stderr, exit status 2."""

    exit_code = 2

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)
