"""`techsim select` as a library call: the best scheme of a scenario, with a guarantee.

Kim and Nelson's fully sequential procedure (`sim.metrics.ranking.select`) on the
scenario's schemes: replications of the schemes still in contention, in rounds of
`batch` replications run together on the backend (local processes or Dask); each scheme's
objective per replication (`sim.experiment.objective`) comes from its KPIs. Schemes share
each replication's world (common random numbers), which KN exploits through the variance
of paired differences. Each replication's KPIs are written at once to
`parts/rep-NNNNN.json`, so an interrupted selection resumes (`resume=True`) and replays the
same eliminations; the result does not depend on the batch size or the workers.

Files (in `out`): `select.csv` (per scheme: replications run, mean objective, when and by
whom it was eliminated, winner and tied), `runs.csv` (the KPIs of every scheme and
replication run) and `manifest.json` (kind "select": the objective, delta, PCS, n0, the
procedure's constants, the winner, the tied schemes and the guarantee in words).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config.regions import region_seed
from sim.config.scenario import Scenario
from sim.experiment.execution import DEFAULT_EXECUTION, Execution
from sim.experiment.executor import execute
from sim.experiment.objective import Objective, objective_for
from sim.experiment.tasks import RUN_ID_COLUMNS, sort_rows
from sim.metrics.catalogue import CURRENCY, KPIS, fmt
from sim.metrics.combine import combine
from sim.metrics.kpis import KPI_COLUMNS, replication_kpis
from sim.metrics.ranking import Selection, select, tied_with
from sim.model.replication import needs_baseline_first, scheme_scenario, simulate_scheme, world_for
from sim.store.files import manifest, now_iso, write_csv, write_json
from sim.store.parts import (
    Parts,
    encode_part,
    json_hash,
    scenario_hash,
    start_parts,
)

#: What identifies a selection on --resume, and how a change is named in the refusal.
SELECT_IDENTITY = {
    "scenario_hash": "the scenario",
    "seed": "--seed",
    "objective": "--objective",
    "delta": "--delta",
    "pcs": "--pcs",
    "n0": "--n0",
    "max_replications": "--max-reps",
}
SELECT_COLUMNS = (
    "scheme",
    "replications",
    "mean_objective",
    "eliminated_at",
    "eliminated_by",
    "winner",
    "tied",
)


@dataclass(frozen=True)
class SubsetTask:
    """One replication of some of the schemes (those still in contention)."""

    scenario: Scenario
    seed: int
    replication: int
    schemes: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"rep-{self.replication:05d}"

    def run(self) -> dict[str, dict[str, float]]:
        return subset_kpis(self.scenario, self.seed, self.replication, self.schemes)


def subset_kpis(
    scenario: Scenario, seed: int, rep: int, schemes: tuple[str, ...]
) -> dict[str, dict[str, float]]:
    """The KPIs of `schemes` in replication `rep`, each simulated as a run simulates it, on
    the replication's one world (the baseline first when the others need its pay); with
    regions, each region in turn, combined (`sim.experiment.regions`)."""
    if scenario.regions:
        from sim.experiment.regions import regions_of

        parts = []
        for k, (_name, rsc) in enumerate(regions_of(scenario)):
            bases: dict[str, dict[str, float]] = {name: {} for name in schemes}
            parts.append((_subset(rsc, region_seed(seed, k), rep, schemes, bases), bases))
        return {n: combine([(p[n], b[n]) for p, b in parts])[0] for n in schemes}
    return _subset(scenario, seed, rep, schemes)


def _subset(
    scenario: Scenario,
    seed: int,
    rep: int,
    schemes: tuple[str, ...],
    bases: dict[str, dict[str, float]] | None = None,
) -> dict[str, dict[str, float]]:
    world = world_for(scenario, seed, rep)
    ref = None
    base = scenario.baseline_scheme
    done: dict[str, dict[str, float]] = {}
    if needs_baseline_first(scenario):
        formula, out = simulate_scheme(scenario, world, base)
        ref = out.reference_pay
        if base in schemes:
            b = bases[base] if bases is not None else None
            done[base] = replication_kpis(scheme_scenario(scenario, base), out, formula, b)[0]
    for name in schemes:
        if name not in done:
            formula, out = simulate_scheme(scenario, world, name, ref)
            b = bases[name] if bases is not None else None
            done[name] = replication_kpis(scheme_scenario(scenario, name), out, formula, b)[0]
    return {name: done[name] for name in schemes}


@dataclass
class SelectOutput:
    selection: Selection
    objective: Objective
    table: pd.DataFrame
    manifest: dict[str, Any]
    out_dir: Path


def describe_delta(obj: Objective, delta: float) -> str:
    """The indifference zone in the objective's units ("0.50 pts", "$25,000")."""
    k = KPIS.get(obj.kpi or "")
    if k is None:
        return f"{delta:g}"
    if k.kind == "pct":
        return f"{100 * delta:.2f} pts"
    return (
        f"{CURRENCY}{fmt(delta, k.kind)}" if k.kind in ("money", "money0") else fmt(delta, k.kind)
    )


def guarantee(sel: Selection, objective: Objective, delta_text: str) -> str:
    """The procedure's guarantee, and what this selection says, in words."""
    pcs = f"{1.0 - sel.alpha:.0%}"
    text = (
        f"If the best scheme's expected {objective.label} is better than every other "
        f"scheme's by at least {delta_text}, this procedure (Kim and Nelson's KN, with common "
        f"random numbers) selects it with probability at least {pcs}. "
    )
    win = sel.systems[sel.winner]
    tied = [sel.systems[i] for i in tied_with(sel)]
    if sel.capped:
        left = ", ".join(sel.systems[i] for i in sel.survivors)
        return text + (
            f"Here it stopped at the cap of {sel.total_replications} replications with "
            f"{left} still in contention: the guarantee does not hold, and {win} has the best "
            "mean among them."
        )
    text += f"It selected {win} after {sel.total_replications} replications."
    if tied:
        text += (
            f" {', '.join(tied)} came within {delta_text} of it: at this indifference zone "
            "they are statistically tied with the winner, and choosing among them is a "
            "matter of the other KPIs."
        )
    return text


def run_selection(
    scenario: Scenario,
    out_dir: str | Path,
    objective: str,
    delta: float,
    delta_text: str | None = None,
    pcs: float = 0.95,
    n0: int = 10,
    max_replications: int = 200,
    batch: int | None = None,
    execution: Execution = DEFAULT_EXECUTION,
    on_done: Callable[[int], None] | None = None,
) -> SelectOutput:
    """Select the best scheme of `scenario` by `objective` (a KPI or a named objective;
    ObjectiveError otherwise) with indifference zone `delta` (in the objective's units) and
    probability of correct selection `pcs`; write the files into `out_dir`. The tasks run
    where `execution` says (`sim.experiment.execution`), in rounds of `batch` replications
    (default: one per worker)."""
    obj = objective_for(scenario, objective)
    seed = execution.seed_for(scenario)
    if not 0.5 <= pcs < 1.0:
        raise ValueError(f"pcs must be in [0.5, 1), got {pcs:g}")
    out = Path(out_dir)
    execution.check(scenario, max_replications, out, "select")
    ident = {
        "scenario_hash": scenario_hash(scenario),
        "seed": seed,
        "objective": obj.name,
        "delta": delta,
        "pcs": pcs,
        "n0": n0,
        "max_replications": max_replications,
    }
    parts = start_parts(
        out, ".json", "select", scenario.name, ident, SELECT_IDENTITY, execution.resume
    )
    names = list(scenario.schemes)
    rows: dict[tuple[int, str], dict[str, float]] = {}
    started, t0 = now_iso(), time.perf_counter()
    with execution.started() as live:
        step = batch or max(1, live.workers)

        def sample(reps: list[int], systems: list[int]) -> np.ndarray:
            want = tuple(names[i] for i in systems)
            todo = []
            for rep in reps:
                task = SubsetTask(scenario, seed, rep, want)
                got = _read(parts, task, execution.note)
                if got is None:
                    todo.append(task)
                else:
                    _keep(rows, rep, got, on_done)

            def keep(task: SubsetTask, result: dict[str, dict[str, float]]) -> None:
                parts.write(task.key, encode_part(task.key, {"kpis": result}))
                _keep(rows, task.replication, result, on_done)

            execute(todo, SubsetTask.run, live, keep)
            return np.array([[obj.value(rows[(r, s)]) for s in want] for r in reps])

        sel = select(names, sample, delta, 1.0 - pcs, n0, max_replications, step)
        workers_used = live.workers
    wall = time.perf_counter() - t0
    table = selection_table(sel)
    runs = _runs_table(scenario, seed, rows)
    write_csv(out / "select.csv", table)
    write_csv(out / "runs.csv", runs)
    dtext = delta_text or describe_delta(obj, delta)
    man = manifest(
        scenario,
        seed,
        sel.total_replications,
        started,
        wall,
        workers_used,
        {
            "kind": "select",
            "files": ["select.csv", "runs.csv"],
            "experiment_hash": json_hash(ident),
            "selection": {
                "objective": obj.name,
                "objective_label": obj.label,
                "weights": dict(obj.weights),
                "delta": delta,
                "delta_text": dtext,
                "pcs": pcs,
                "n0": n0,
                "max_replications": max_replications,
                "eta": sel.eta,
                "h2": sel.h2,
                "winner": sel.systems[sel.winner],
                "tied": [sel.systems[i] for i in tied_with(sel)],
                "capped": sel.capped,
                "survivors": [sel.systems[i] for i in sel.survivors],
                "replications_run": int(sum(sel.replications.values())),
                "guarantee": guarantee(sel, obj, dtext),
            },
        },
    )
    write_json(out / "manifest.json", man)
    return SelectOutput(sel, obj, table, man, out)


def _read(
    parts: Parts, task: SubsetTask, note: Callable[[str], None]
) -> dict[str, dict[str, float]] | None:
    """A kept replication holding every scheme the task needs, or None to run it."""
    body = parts.body(
        task.key, lambda exc: note(f"{exc}; running replication {task.replication} again")
    )
    kpis = None if body is None else body.get("kpis")
    if not isinstance(kpis, dict) or not all(
        isinstance(kpis.get(s), dict) and set(KPI_COLUMNS) <= set(kpis[s]) for s in task.schemes
    ):
        return None
    return {s: {k: float(v) for k, v in kpis[s].items()} for s in task.schemes}


def _keep(
    rows: dict[tuple[int, str], dict[str, float]],
    rep: int,
    result: dict[str, dict[str, float]],
    on_done: Callable[[int], None] | None,
) -> None:
    for scheme, kpis in result.items():
        rows[(rep, scheme)] = kpis
    if on_done:
        on_done(rep)


def selection_table(sel: Selection) -> pd.DataFrame:
    """select.csv: one row per scheme, in the scenario's order."""
    tied = set(tied_with(sel))
    return pd.DataFrame(
        [
            {
                "scheme": name,
                "replications": sel.replications[i],
                "mean_objective": sel.means[i],
                "eliminated_at": sel.eliminated_at.get(i),
                "eliminated_by": sel.systems[sel.eliminated_by[i]]
                if i in sel.eliminated_by
                else None,
                "winner": i == sel.winner,
                "tied": i in tied,
            }
            for i, name in enumerate(sel.systems)
        ],
        columns=list(SELECT_COLUMNS),
    )


def _runs_table(
    scenario: Scenario, seed: int, rows: dict[tuple[int, str], dict[str, float]]
) -> pd.DataFrame:
    """runs.csv of a selection: the KPIs of every (scheme, replication) it ran."""
    data = [
        {"scenario": scenario.name, "scheme": s, "replication": r, "seed": seed, **kpis}
        for (r, s), kpis in rows.items()
    ]
    df = pd.DataFrame(data, columns=list(RUN_ID_COLUMNS) + list(KPI_COLUMNS))
    return sort_rows(df, scenario, ["scheme", "replication"])
