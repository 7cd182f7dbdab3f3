"""The sections built from an experiment's own results folder (a selection, an
optimisation, a what-if analysis): one way to read it, and one note when it cannot be read.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sim.report.document import Block, Paragraph, Section

T = TypeVar("T")


def results_section(
    ident: str,
    title: str,
    what: str,
    folder: Path,
    load: Callable[[Path], T],
    error: type[Exception],
    blocks: Callable[[T], list[Block]],
) -> Section:
    """The section of the results in `folder`: the `blocks` of what `load` reads, or, when it
    raises `error` (whose message names the file), one note that the `what` cannot be read."""
    try:
        results = load(folder)
    except error as exc:
        return Section(ident, title, [Paragraph(f"The {what} cannot be read: {exc}.", "note")])
    return Section(ident, title, blocks(results))
