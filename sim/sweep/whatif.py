"""What would change the answer: the unsourced assumptions screened (`techsim whatif`).

A comparison of two schemes on one KPI (default: outcome_weighted against jobs_per_day on
margin) is run on the scenario cut to those two schemes, with `against` as the baseline, so
every design point's paired difference (scheme minus against, replication by replication,
on the same worlds: common random numbers) is what `sim.sweep.tables` already computes.
Two sweeps of the one sweep runner (`sim.sweep.runner.run_sweep`), each resumable:

1. *screening* (`screening/`): a Morris design, N trajectories and N(D+1) points, over the
   plausible range of every assumption of the registry (`sim.config.assumptions`) that the
   scenario has; `sim.sweep.sensitivity.analyse(measure="diff")`, the code of
   `techsim sensitivity --diff`, gives each one's mu* and sigma;
2. *scan* (`scan/`): the `top` assumptions by mu*, one at a time, at `points` values
   evenly spaced over the range, the others at the scenario's values; one base point (every
   assumption at the scenario's value) is shared, and a scan value equal to the scenario's
   value is that point. Where the mean difference changes sign between two neighbouring
   values, the flip value is the linear interpolation between them (`flip_points`).

The tables (`sim.store.whatif`: whatif.csv, whatif_scan.csv, whatif.json) are written after
the screening (the scan columns empty, status "scanning") and again when the scan is done.
The tornado figure is drawn one layer up, by `sim.plots.whatif`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import __version__
from sim.config.assumptions import Assumption, Resolved, registry, resolve
from sim.config.load import ScenarioError, scenario_from_dict, scenario_to_dict
from sim.config.scenario import Scenario
from sim.experiment.executor import Backend, choose_backend
from sim.metrics.kpis import KPI_COLUMNS
from sim.store.files import git_commit, now_iso, write_csv, write_json
from sim.store.whatif import (
    META,
    SCAN,
    SCAN_DIR,
    SCREENING_DIR,
    TABLE,
    check_whatif_dir,
)
from sim.sweep.design import Design, Point, make_design, point_scenarios
from sim.sweep.params import Parameter, parse_param
from sim.sweep.runner import Chunk, SweepOutput, run_sweep
from sim.sweep.sensitivity import analyse
from sim.sweep.whatif_tables import (
    Comparison,
    scan_table,
    top_assumptions,
    whatif_table,
)

DEFAULT_COMPARISON = Comparison()
DEFAULT_TRAJECTORIES = 4
DEFAULT_REPS = 4
DEFAULT_TOP = 8
DEFAULT_POINTS = 5
#: Two scan values closer than this share of the range are the same point.
SAME_VALUE = 1e-9


class WhatIfInputError(ValueError):
    """Bad what-if input (scheme, KPI, an --assumption): one line."""


# --------------------------------------------------------------------------- inputs
def comparison_scenario(sc: Scenario, cmp: Comparison) -> Scenario:
    """The scenario cut to the two schemes (and the schemes a hybrid blends), `against` as
    the baseline; WhatIfInputError naming an unknown scheme or KPI."""
    names = list(sc.schemes)
    for opt, s in (("--scheme", cmp.scheme), ("--against", cmp.against)):
        if s not in sc.schemes:
            raise WhatIfInputError(
                f"{opt} {s}: not a scheme of scenario {sc.name!r} ({', '.join(names)})"
            )
    if cmp.scheme == cmp.against:
        raise WhatIfInputError(f"--against {cmp.against}: the same scheme as --scheme")
    if cmp.kpi not in KPI_COLUMNS:
        raise WhatIfInputError(f"--kpi {cmp.kpi}: not a KPI (one of {', '.join(KPI_COLUMNS)})")
    keep = [cmp.against, cmp.scheme]
    for s in list(keep):
        keep += [p for p in getattr(sc.schemes[s], "between", ()) if p not in keep]
    data = scenario_to_dict(sc)
    data["schemes"] = {k: data["schemes"][k] for k in keep}
    data["baseline"] = cmp.against
    data["pay_scale"] = {k: v for k, v in data.get("pay_scale", {}).items() if k in keep}
    data["headcount"] = {k: v for k, v in data.get("headcount", {}).items() if k in keep}
    try:
        return scenario_from_dict(data, f"{sc.name} ({cmp.scheme} against {cmp.against})")
    except ScenarioError as exc:
        raise WhatIfInputError(str(exc)) from None


def select_assumptions(texts: list[str]) -> list[Assumption]:
    """The registry, or the assumptions named by `--assumption PATH` / `PATH=lo:hi` (a range
    replaces the registry's; a path outside the registry needs one)."""
    if not texts:
        return registry()
    known = {a.path: a for a in registry()}
    out: list[Assumption] = []
    for text in texts:
        path, _, rng = (t.strip() for t in text.partition("="))
        if any(a.path == path for a in out):
            raise WhatIfInputError(f"--assumption {path}: given twice")
        if not rng:
            if path not in known:
                raise WhatIfInputError(
                    f"--assumption {path}: not in the registry of assumptions "
                    "(techsim whatif --list); give its range as PATH=lo:hi"
                )
            out.append(known[path])
            continue
        parts = rng.split(":")
        try:
            lo, hi = (float(p) for p in parts)
        except ValueError:
            raise WhatIfInputError(
                f"--assumption {path}: expected PATH=lo:hi with two numbers (got {rng!r})"
            ) from None
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise WhatIfInputError(f"--assumption {path}: the range needs lo < hi (got {rng!r})")
        why = known[path].why if path in known else "range given with --assumption"
        out.append(Assumption(path, lo, hi, why))
    return out


def _param(sc: Scenario, r: Resolved) -> Parameter:
    """The sweep parameter of an assumption (its path checked as a sweep checks it)."""
    return parse_param(f"{r.path}={r.low!r}:{r.high!r}", scenario_to_dict(sc), "morris")


# --------------------------------------------------------------------------- designs
def screening_design(
    sc: Scenario, assumptions: list[Resolved], trajectories: int, seed: int
) -> Design:
    """The Morris design over the assumptions' ranges (`sim.sweep.design.make_design`)."""
    if len(assumptions) < 2:
        raise WhatIfInputError(
            f"--assumption: the screening needs at least 2 assumptions that the scenario "
            f"has (got {len(assumptions)})"
        )
    texts = [f"{r.path}={r.low!r}:{r.high!r}" for r in assumptions]
    return make_design(sc, texts, "morris", trajectories, seed)


def scan_values(r: Resolved, points: int) -> list[float]:
    """`points` values evenly spaced over the range (whole numbers for an integer field)."""
    grid = np.linspace(r.low, r.high, points)
    vals = [float(round(v)) if r.kind == "int" else float(v) for v in grid]
    return list(dict.fromkeys(vals))


def scan_design(sc: Scenario, top: list[Resolved], points: int, seed: int) -> Design:
    """One-at-a-time points: point 0 the scenario as it is, then each assumption's values
    (a value equal to the scenario's is point 0, not run again)."""
    params: list[Parameter] = []
    pts = [Point(0, {})]
    for r in top:
        p = _param(sc, r)
        vals = [
            v
            for v in scan_values(r, points)
            if abs(v - r.base) > SAME_VALUE * max(1.0, abs(r.high - r.low))
        ]
        params.append(replace(p, values=tuple(int(v) if r.kind == "int" else v for v in vals)))
        for v in vals:
            pts.append(Point(len(pts), {r.path: int(v) if r.kind == "int" else v}))
    return Design("one-at-a-time", params, pts, points, seed)


# --------------------------------------------------------------------------- flips
@dataclass
class WhatIfOutput:
    table: pd.DataFrame
    scan: pd.DataFrame | None
    meta: dict[str, Any]
    out_dir: Path


#: on_start(stage, total tasks, already done) and on_task(stage, ok) for progress.
StartFn = Callable[[str, int, int], None]
TaskFn = Callable[[str, bool], None]


def run_whatif(
    scenario: Scenario,
    out_dir: str | Path,
    cmp: Comparison = DEFAULT_COMPARISON,
    assumptions: list[Assumption] | None = None,
    trajectories: int = DEFAULT_TRAJECTORIES,
    top: int = DEFAULT_TOP,
    points: int = DEFAULT_POINTS,
    replications: int = DEFAULT_REPS,
    scan_replications: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    force: bool = False,
    connect_timeout: float | None = None,
    on_start: StartFn | None = None,
    on_task: TaskFn | None = None,
    on_note: Callable[[str], None] | None = None,
) -> WhatIfOutput:
    """Screen the assumptions, scan the most influential, write the what-if files.

    Bad input (scheme, KPI, assumptions, a design point the schema refuses) raises
    WhatIfInputError or SweepInputError before anything runs; the sweeps' own errors
    (ResumeError, OutDirError, ResourceError, BackendError, SweepFailed) pass through.
    """
    note = on_note or (lambda _t: None)
    scan_reps = replications if scan_replications is None else scan_replications
    seed = scenario.seed if seed is None else seed
    if trajectories < 2:
        raise WhatIfInputError(f"--trajectories: at least 2 (got {trajectories})")
    if points < 2:
        raise WhatIfInputError(f"--points: at least 2 (got {points})")
    if min(replications, scan_reps) < 2:
        raise WhatIfInputError("--reps, --scan-reps: at least 2 (a paired difference needs a CI)")
    if top < 1:
        raise WhatIfInputError(f"--top: at least 1 (got {top})")
    sc = comparison_scenario(scenario, cmp)
    resolved, skipped = resolve(assumptions or registry(), scenario_to_dict(sc))
    if len(resolved) < 2:
        why = "; ".join(f"{p}: {w}" for p, w in skipped)
        raise WhatIfInputError(
            "--assumption: the screening needs at least 2 assumptions that the scenario has "
            f"(got {len(resolved)}" + (f"; skipped {why})" if why else ")")
        )
    for r in resolved:
        _param(sc, r)  # the sweep's own check of the path (SweepInputError)
    design = screening_design(sc, resolved, trajectories, seed)
    point_scenarios(sc, design)  # every point valid (SweepInputError) before any worker starts
    out = Path(out_dir)
    check_whatif_dir(out, sc.name, resume, force)
    for path, why in skipped:
        note(f"assumption {path} skipped: {why}")
    t0, started = time.perf_counter(), now_iso()
    meta: dict[str, Any] = {
        "kind": "whatif",
        "status": "screening",
        "scenario_name": sc.name,
        "scheme": cmp.scheme,
        "against": cmp.against,
        "kpi": cmp.kpi,
        "method": {
            "screening": f"Morris, {trajectories} trajectories, {len(design.points)} points",
            "scan": f"one at a time, {points} values over each range, top {top} by mu*",
        },
        "trajectories": trajectories,
        "top": top,
        "points": points,
        "replications": replications,
        "scan_replications": scan_reps,
        "seed": seed,
        "assumptions": [asdict(r) for r in resolved],
        "skipped": [{"path": p, "why": w} for p, w in skipped],
        "techsim_version": __version__,
        "git_commit": git_commit(),
        "started": started,
        "scenario": scenario_to_dict(scenario),
    }
    backend: Backend = choose_backend(workers, scheduler, connect_timeout)
    try:

        def sweep(stage: str, dsg: Design, sub: str, reps: int) -> SweepOutput:
            def start(total: int, done: int) -> None:
                if on_start:
                    on_start(stage, total, done)

            def task(_c: Chunk, ok: bool) -> None:
                if on_task:
                    on_task(stage, ok)

            return run_sweep(
                sc, dsg, out / sub, reps, seed, resume=resume, on_start=start,
                on_task=task, backend=backend, force=force, on_note=note,
            )  # fmt: skip

        screen = sweep("screening", design, SCREENING_DIR, replications)
        _method, indices = analyse(out / SCREENING_DIR, [cmp.kpi], [cmp.scheme], "diff")
        s = screen.summary
        d = s[(s["scheme"] == cmp.scheme) & (s["kpi"] == cmp.kpi)]["diff_mean"].to_numpy(float)
        meta["screening"] = {
            "points": len(d),
            "positive": int((d > 0).sum()),
            "negative": int((d < 0).sum()),
            "min": float(np.nanmin(d)),
            "max": float(np.nanmax(d)),
        }
        table = whatif_table(resolved, indices, None, None, cmp)
        meta["status"] = "scanning"
        _write(out, table, None, meta)
        chosen = top_assumptions(table, resolved, top)
        scan_dsg = scan_design(sc, chosen, points, seed)
        scanned = sweep("scan", scan_dsg, SCAN_DIR, scan_reps)
        scan = scan_table(scanned.summary, scan_dsg, chosen, cmp)
        base_rows = scanned.summary
        base = base_rows[
            (base_rows["point"] == 0)
            & (base_rows["scheme"] == cmp.scheme)
            & (base_rows["kpi"] == cmp.kpi)
        ].iloc[0]
        table = whatif_table(resolved, indices, scan, base, cmp)
    finally:
        backend.close()
    meta.update(
        status="complete",
        finished=now_iso(),
        wall_time_s=round(time.perf_counter() - t0, 1),
        base={k: float(base[k]) for k in ("diff_mean", "diff_ci_low", "diff_ci_high")},
    )
    _write(out, table, scan, meta)
    return WhatIfOutput(table, scan, meta, out)


def _write(out: Path, table: pd.DataFrame, scan: pd.DataFrame | None, meta: dict[str, Any]) -> None:
    write_csv(out / TABLE, table)
    if scan is not None:
        write_csv(out / SCAN, scan)
    write_json(out / META, meta)
