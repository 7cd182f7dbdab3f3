"""The calibrated scenario against the data (docs/calibration.md, "The fit report").

`fit(calibration, export, reps)` simulates the scheme in force on the calibrated scenario
(`reps` replications, common seeds), turns each run into a work-order export
(`sim.calibrate.export`) and measures it exactly as the company's export was measured
(`sim.calibrate.chains`). Two rates the simulation shapes are first corrected by it: the
failures per account-year (planned maintenance lowers the rate between visits) and the
billable calls (calls nobody reaches in time never appear in an export): each is scaled by
data / simulated, measured alike, once. Then, per KPI, the data against the simulated mean
and its 95% CI over the replications, with a verdict; per distribution, the Wasserstein
distance between the data and the pooled simulated sample, relative to the data's mean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from sim.calibrate.build import Calibration, set_at
from sim.calibrate.chains import distributions, observed_kpis
from sim.calibrate.estimate import estimate
from sim.calibrate.export import workorders
from sim.calibrate.read import Export, from_frames
from sim.config.assumptions import value_at
from sim.config.load import scenario_from_dict
from sim.config.scenario import Scenario
from sim.model.replication import simulate_scheme, world_for

#: A KPI matches when the data lies within the simulated CI or within this of its mean:
#: (absolute, relative); "close" within twice that.
TOLERANCE: dict[str, tuple[float, float]] = {
    "first_time_fix_rate": (0.02, 0.0),
    "repeat_visit_rate": (0.02, 0.0),
    "callback_rate": (0.02, 0.0),
    "part_needed_rate": (0.02, 0.0),
    "sla_compliance": (0.02, 0.0),
    "utilisation": (0.03, 0.0),
    "retention_rate": (0.01, 0.0),
    "jobs_per_tech_day": (0.0, 0.05),
    "mean_response_hours": (0.0, 0.15),
    "nps": (5.0, 0.0),
}
#: The KPIs of revisit chains: not measured in an export whose revisits are not linked.
UNLINKED = ("first_time_fix_rate", "repeat_visit_rate", "callback_rate", "part_needed_rate")
#: Relative Wasserstein distance: good up to the first, fair up to the second.
W_GOOD, W_FAIR = 0.05, 0.15


@dataclass
class KpiLine:
    kpi: str
    data: float
    sim: float
    low: float
    high: float
    verdict: str


@dataclass
class DistLine:
    name: str
    data: np.ndarray
    sim: np.ndarray
    distance: float  # Wasserstein-1, in the sample's unit
    relative: float  # ... over the data's mean
    verdict: str


@dataclass
class Fit:
    reps: int
    kpis: list[KpiLine]
    dists: list[DistLine]
    corrections: dict[str, tuple[float, float]] = field(default_factory=dict)


def simulated(sc: Scenario, scheme: str, reps: int, seed: int) -> list[Export]:
    """`reps` replications of `scheme` on `sc`, each as a checked export."""
    out = []
    for r in range(reps):
        world = world_for(sc, seed, r)
        _f, run = simulate_scheme(sc, world, scheme)
        v, ren = workorders(sc, world, run)
        out.append(from_frames(v, ren, f"<simulated replication {r}>"))
    return out


#: The rates the simulation shapes, corrected by it: failures (maintenance lowers them),
#: planned visits (churned accounts lose theirs; a visit due near the end is not yet made)
#: and billable calls (calls nobody reaches in time never appear in an export).
CORRECTED = ("customers.failures_per_year", "time_and_materials.jobs_per_day")
PLANNED = ".planned_visits_per_year"


def _rates(ex: Export, sc: Scenario) -> dict[str, float]:
    ests, _ = estimate(ex, sc)
    return {
        e.path: e.value
        for e in ests
        if (e.path in CORRECTED or e.path.endswith(PLANNED)) and not e.kept
    }


def correct(
    cal: Calibration, export: Export, reps: int, seed: int
) -> dict[str, tuple[float, float]]:
    """Scale each rate the simulation shapes by data / simulated (measured alike);
    updates `cal.scenario`; returns {field: (before, after)}."""
    sc = cal.scenario
    data = _rates(export, sc)
    sims = [_rates(ex, sc) for ex in simulated(sc, cal.current, reps, seed)]
    changes: dict[str, tuple[float, float]] = {}
    d = sc.model_dump(mode="json")
    for key, want in data.items():
        if key == "time_and_materials.jobs_per_day" and not sc.time_and_materials.enabled:
            continue
        got = [s[key] for s in sims if s.get(key, 0.0) > 0]
        before = float(value_at(d, key))
        if not got or want <= 0 or before <= 0:
            continue
        after = round(before * want / float(np.mean(got)), 4)
        changes[key] = (before, after)
        set_at(d, key, after)
    cal.scenario = scenario_from_dict(d, "<calibrated scenario, corrected by simulation>")
    return changes


def _verdict(kpi: str, data: float, mean: float, lo: float, hi: float) -> str:
    if not (math.isfinite(data) and math.isfinite(mean)):
        return "not measured"
    ab, rel = TOLERANCE.get(kpi, (0.0, 0.05))
    tol = max(ab, rel * abs(data))
    diff = abs(data - mean)
    if diff <= tol or (math.isfinite(lo) and lo <= data <= hi):
        return "matches"
    return "close" if diff <= 2 * tol else "off"


def compare(cal: Calibration, export: Export, reps: int, seed: int) -> Fit:
    sc = cal.scenario
    window, shift = sc.callback_window_days, sc.workforce.shift_hours
    sims = simulated(sc, cal.current, reps, seed)
    data_k = observed_kpis(export.visits, export.renewals, window, shift)
    if not export.linked:  # every visit would look like a first visit
        for kpi in UNLINKED:
            data_k[kpi] = math.nan
    sim_k = pd.DataFrame([observed_kpis(e.visits, e.renewals, window, shift) for e in sims])
    lines = []
    for kpi, d in data_k.items():
        x = sim_k[kpi].to_numpy(dtype=float)
        x = x[np.isfinite(x)]
        m = float(x.mean()) if x.size else math.nan
        if x.size >= 2:
            half = float(stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
        else:
            half = math.nan
        lines.append(
            KpiLine(kpi, d, m, m - half, m + half, _verdict(kpi, d, m, m - half, m + half))
        )
    data_d = distributions(export.visits, window)
    if not export.linked:
        data_d.pop("first-time fix per technician", None)
    sim_d = [distributions(e.visits, window) for e in sims]
    dists = []
    for name, a in data_d.items():
        b = np.concatenate([s.get(name, np.array([])) for s in sim_d])
        if a.size == 0 or b.size == 0:
            continue
        w = float(stats.wasserstein_distance(a, b))
        rel = w / abs(float(a.mean())) if a.mean() else math.nan
        verdict = "good" if rel <= W_GOOD else ("fair" if rel <= W_FAIR else "poor")
        dists.append(DistLine(name, a, b, w, rel, verdict))
    return Fit(reps, lines, dists)


def fit(cal: Calibration, export: Export, reps: int = 3, seed: int | None = None) -> Fit:
    """Correct the simulated rates, then compare (module docstring)."""
    seed = cal.scenario.seed if seed is None else seed
    changes = correct(cal, export, reps, seed)
    result = compare(cal, export, reps, seed)
    result.corrections = changes
    return result
