"""The figures of a results directory, and their files.

`figures(results)` yields the figures the data allow (the run figures of `sim.plots.run`, or
the sweep figures of `sim.plots.sweep`), one at a time, in the house style; `render` turns
one into PNG, SVG or PDF bytes without creation dates (the same results give the same
files); `write_plots` saves them into `RESULTS/plots/`.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from pathlib import Path

import matplotlib as mpl

from sim.plots.run import RUN_FIGURES
from sim.plots.style import STYLE, FigureMaker, FigureSpec
from sim.plots.sweep import sweep_figures
from sim.store.files import atomic_write_bytes
from sim.store.results import Results, load_results

DPI = 150
FORMATS = ("png", "svg", "pdf")


def figures(res: Results) -> Iterator[FigureSpec]:
    """The figures that the data of `res` allow, one at a time, in the house style."""
    makers: Sequence[FigureMaker] = sweep_figures(res) if res.kind == "sweep" else RUN_FIGURES
    for make in makers:
        with mpl.rc_context(STYLE):
            spec = make(res)
        if spec is not None:
            yield spec


def render(spec: FigureSpec, fmt: str = "png", dpi: int = DPI) -> bytes:
    """The figure as file bytes; the figure is cleared afterwards (no state kept)."""
    buf = io.BytesIO()
    with mpl.rc_context(STYLE):
        spec.figure.savefig(buf, format=fmt, dpi=dpi, metadata=_metadata(fmt))
    spec.figure.clear()
    return buf.getvalue()


def _metadata(fmt: str) -> dict[str, str | None] | None:
    # no creation dates: the same results give the same files
    if fmt == "svg":
        return {"Date": None}
    if fmt == "pdf":
        return {"CreationDate": None}
    return None


def write_plots(results: str | Path | Results, fmt: str = "png") -> list[Path]:
    """Write every figure of a results directory (or loaded `Results`) into RESULTS/plots/.

    Returns the paths written.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format: {fmt!r} is not one of {', '.join(FORMATS)}")
    res = results if isinstance(results, Results) else load_results(results)
    out = res.path / "plots"
    written = []
    for spec in figures(res):
        path = out / f"{spec.name}.{fmt}"
        atomic_write_bytes(path, render(spec, fmt))
        written.append(path)
    return written
