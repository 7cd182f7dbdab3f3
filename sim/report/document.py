"""The report as a plain document tree, rendered to HTML (`sim.report.html`) or PDF.

Blocks hold plain text only: escaping is the renderer's job, so no user-supplied string
(scenario, scheme or tier names) can carry markup into the output.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

#: Word joiner: a hint in the text that a line must not break here (e.g. inside "-$6.66");
#: renderers that break lines themselves drop it.
WJ = "\u2060"


@dataclass
class Cell:
    text: str
    cls: str = ""  # a CSS class: "sig", "ns", "num", ...
    swatch: str = ""  # a colour shown before the text (scheme colour)
    sub: str = ""  # a second, smaller line (e.g. the 95% CI under a mean)


@dataclass
class Table:
    header: list[Cell]
    rows: list[list[Cell]]
    caption: str = ""
    note: str = ""
    cls: str = ""


@dataclass
class Paragraph:
    text: str
    cls: str = ""


@dataclass
class Bullets:
    items: list[str]
    lead: str = ""


@dataclass
class FigureBlock:
    name: str
    title: str
    caption: str
    png: bytes


Block = Paragraph | Bullets | Table | FigureBlock


@dataclass
class Section:
    id: str
    title: str
    blocks: Sequence[Block] = field(default_factory=list)


@dataclass
class Document:
    title: str
    subtitle: str
    sections: list[Section]
    footer: str = ""


def cells(*texts: str, cls: str = "") -> list[Cell]:
    return [Cell(t, cls) for t in texts]
