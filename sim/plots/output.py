"""The figures of a results directory, and their files.

`figures(results)` yields the figures the data allow, one at a time, in the house style:
the run figures (`RUN_FIGURES`, from `sim.plots.run`, `margin`, `causes`, `over_time` and
`pay`) or the sweep figures of `sim.plots.sweep`; `render` turns one into PNG, SVG or PDF bytes
without creation dates (the same results give the same files); `write_plots` saves them
into `RESULTS/plots/`.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from pathlib import Path

import matplotlib as mpl

from sim.plots.causes import fig_repeat_causes
from sim.plots.margin import fig_margin_decomposition
from sim.plots.over_time import fig_customers_over_time, fig_thoroughness_over_time
from sim.plots.pay import fig_tech_pay_change
from sim.plots.run import (
    fig_business_outcomes,
    fig_kpi_comparison,
    fig_paired_differences,
    fig_quits,
    fig_tradeoff,
)
from sim.plots.style import STYLE, FigureMaker, FigureSpec
from sim.plots.sweep import sweep_figures
from sim.store.files import atomic_write_bytes
from sim.store.results import Results, load_results

DPI = 150
FORMATS = ("png", "svg", "pdf")
#: The figures of a run, in order (each is skipped when its data are absent).
RUN_FIGURES: tuple[FigureMaker, ...] = (
    fig_kpi_comparison,
    fig_paired_differences,
    fig_margin_decomposition,
    fig_business_outcomes,
    fig_repeat_causes,
    fig_tradeoff,
    fig_customers_over_time,
    fig_tech_pay_change,
    fig_thoroughness_over_time,
    fig_quits,
)


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
