"""The fit report's figures: each estimated distribution, data against the calibrated model.

`fig_distributions(dists)` draws one panel per distribution (`sim.calibrate.fit.DistLine`):
the data's and the pooled simulated sample's histograms as densities on common bins (the
1st to 99th percentile of both), the relative Wasserstein distance in the panel's title.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.calibrate.fit import DistLine
from sim.plots.style import FigureSpec, new_figure, panel_grid

DATA, MODEL = "#000000", "#0072B2"


def fig_distributions(dists: Sequence[DistLine]) -> FigureSpec | None:
    if not dists:
        return None
    rows = 1 if len(dists) <= 4 else 2
    fig = new_figure((12.0, 3.6 * rows + 0.6))
    axes = panel_grid(fig, len(dists))
    for ax, d in zip(axes, dists):
        both = np.concatenate([d.data, d.sim])
        lo, hi = np.percentile(both, [1, 99])
        if hi <= lo:
            lo, hi = lo - 0.5, hi + 0.5
        bins = np.linspace(lo, hi, 31).tolist()
        # a sample wholly outside the common bins (one technician, say) has no density
        with np.errstate(invalid="ignore", divide="ignore"):
            ax.hist(d.sim, bins=bins, density=True, color=MODEL, alpha=0.35, label="model")
            ax.hist(
                d.data,
                bins=bins,
                density=True,
                histtype="step",
                color=DATA,
                linewidth=1.6,
                label="data",
            )
        ax.set_title(f"{d.name}\nW = {d.relative:.1%} of the mean ({d.verdict})", fontsize=11)
        ax.set_yticks([])
    axes[0].legend(loc="upper right", fontsize=10, frameon=False)
    return FigureSpec(
        "calibration_distributions",
        "Distributions: the export against the calibrated model",
        "Each panel: the export's sample (black outline) and the calibrated model's, pooled "
        "over its replications (blue), as densities; W is the Wasserstein distance between "
        "the two over the export's mean (good up to 5%, fair up to 15%).",
        fig,
    )
