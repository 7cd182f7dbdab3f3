"""KPIs of parts of a company simulated apart, combined exactly (docs/model.md, "Regions").

A scenario's regions are simulated separately (their own technicians, accounts and draws;
technicians do not cross regions). Their KPIs combine as the company's would have been
computed: a total is summed; a ratio or mean is recombined over its basis (what its
denominator counts, `sim.metrics.catalogue.PER_BASIS`): sum(kpi x basis) / sum(basis), NaN
when no region has any of the basis. So first-time fix is all regions' first-time fixes over
all their first visits, never a mean of regional rates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from sim.metrics.catalogue import BASES, PER_BASIS


def combine(
    parts: Sequence[tuple[dict[str, float], dict[str, float]]],
) -> tuple[dict[str, float], dict[str, float]]:
    """(KPIs, bases) of the whole from each part's (KPIs, bases)."""
    if not parts:
        raise ValueError("nothing to combine")
    bases = {b: math.fsum(p[1][b] for p in parts) for b in BASES}
    out: dict[str, float] = {}
    for kpi in parts[0][0]:
        basis = PER_BASIS.get(kpi)
        if basis is None:
            out[kpi] = math.fsum(p[0][kpi] for p in parts)
            continue
        total = bases[basis]
        num = math.fsum(p[0][kpi] * p[1][basis] for p in parts if p[1][basis] > 0)
        out[kpi] = num / total if total > 0 else math.nan
    return out, bases
