"""A replication of a scenario with regions: each region simulated apart, then combined
(docs/model.md, "Regions").

`run_region` simulates every scheme on one region (its scenario from
`sim.config.scenario.region_scenarios`, its draws from `region_seed`), its rows carrying the
run's scenario name and seed and each runs row its bases. `combine_regions` makes the
replication's rows from its regions': KPIs combined exactly (`sim.metrics.combine`),
technicians numbered on across regions (region k's first technician follows region k-1's
last), the weekly snapshots summed, behaviour rows renumbered. A run may execute a
replication's regions as separate tasks (`sim.experiment.runner`) or in turn
(`sim.experiment.tasks.run_replication`): the rows are the same.
"""

from __future__ import annotations

import functools
from typing import Any

from sim.config.regions import region_seed
from sim.config.scenario import Scenario, region_scenarios
from sim.experiment.tasks import TaskResult, simulate_replication
from sim.metrics.combine import combine
from sim.metrics.kpis import WEEK_COLUMNS

#: Weekly snapshot columns that are not summed over regions (the same in every region).
WEEK_KEYS = ("week", "t")


@functools.lru_cache(maxsize=8)
def _regions(scenario_json: str) -> list[tuple[str, Scenario]]:
    return region_scenarios(Scenario.model_validate_json(scenario_json))


def regions_of(scenario: Scenario) -> list[tuple[str, Scenario]]:
    """The region scenarios of `scenario` (built once per scenario per process)."""
    return _regions(scenario.model_dump_json())


def run_region(
    scenario: Scenario, seed: int, replication: int, k: int, resolved: Scenario | None = None
) -> TaskResult:
    rsc = resolved or regions_of(scenario)[k][1]
    ids = {"scenario": scenario.name, "seed": seed}
    res = simulate_replication(rsc, region_seed(seed, k), replication, ids, with_bases=True)
    res.region = k
    return res


def combine_regions(
    scenario: Scenario, seed: int, replication: int, parts: list[TaskResult]
) -> TaskResult:
    """The replication's rows from its regions' results (any order)."""
    parts = sorted(parts, key=lambda p: p.region if p.region is not None else -1)
    if [p.region for p in parts] != list(range(len(scenario.regions))):
        raise ValueError(f"replication {replication}: regions missing or repeated")
    res = TaskResult(replication=replication)
    for i, row in enumerate(parts[0].runs):
        ids = {k: row[k] for k in ("scenario", "scheme", "replication", "seed")}
        kpis, bases = combine(
            [({k: v for k, v in p.runs[i].items() if k not in ids}, p.bases[i]) for p in parts]
        )
        res.runs.append({**ids, **kpis})
        res.bases.append(bases)
    offset = 0
    for p, (_name, rsc) in zip(parts, regions_of(scenario)):
        res.technicians.extend({**t, "tech": t["tech"] + offset} for t in p.technicians)
        res.behaviour.extend({**b, "tech": b["tech"] + offset} for b in p.behaviour)
        offset += rsc.workforce.technicians
    weeks: dict[tuple[Any, ...], dict[str, Any]] = {}
    for p in parts:
        for w in p.weeks:
            key = (w["scheme"], w["week"])
            if key not in weeks:
                weeks[key] = dict(w)
            else:
                acc = weeks[key]
                for c in WEEK_COLUMNS:
                    if c not in WEEK_KEYS:
                        acc[c] += w[c]
    res.weeks.extend(weeks.values())
    return res
