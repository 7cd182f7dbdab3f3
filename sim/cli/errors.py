"""The one error class of the command line: bad input from the user.

Every command turns a library error about its input (a scenario that does not validate, a
bad --param, a results directory that is not one, a refused --resume) into `BadInput`:
one line on stderr naming the file and field, exit status 2, no traceback.
"""

from __future__ import annotations

from typing import IO, Any

import click


def one_line(text: str) -> str:
    """`text` on one line: newlines, tabs and other control characters shown escaped."""
    return "".join(
        c if c.isprintable() or c == " " else repr(c)[1:-1] for c in " ".join(text.splitlines())
    )


class BadInput(click.ClickException):
    """Bad input: one line on stderr, exit status 2."""

    exit_code = 2

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"Error: {one_line(self.format_message())}", err=True)


class OneLineGroup(click.Group):
    """A click group whose usage errors (a bad option value, an unknown option or command)
    are one line naming the option, exit status 2, like every other bad input."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as exc:
            raise _usage(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise _usage(exc) from None


def _usage(exc: click.UsageError) -> BadInput:
    where = exc.ctx.command_path if exc.ctx is not None else "techsim"
    return BadInput(f"{exc.format_message()} (see '{where} --help')")
