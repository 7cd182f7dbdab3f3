"""Results directories for the plot and report tests (tests/test_plots.py, test_report*.py).

`make_run` runs a tiny scenario for real; `make_sweep` runs the tiny scenario at each point of
a small grid and writes the sweep schema (runs.parquet, summary.*, manifest.json with
"kind": "sweep", optionally sensitivity.csv); `add_behaviour` adds the attrition/learning
outputs (behaviour.csv, runs.csv columns tech_quits and vacancy_days) with values derived
from the run's own numbers, so the figures have something real-looking to draw.
"""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config.load import load_yaml, scenario_from_dict, scenario_to_dict
from sim.experiment.runner import run_scenario
from sim.experiment.tasks import assemble, run_tasks
from sim.metrics.kpis import KPI_COLUMNS
from sim.metrics.stats import summarise
from sim.world.rng import stream

ROOT = Path(__file__).resolve().parent.parent
EVIL = '<script>alert("x")</script><b>bold</b> & co'


def tiny_dict(name: str = "tiny") -> dict[str, Any]:
    d = load_yaml(ROOT / "scenarios" / "hvac.yaml")
    d["name"] = name
    d["customers"]["count"] = 400
    d["workforce"]["technicians"] = 5
    d["horizon_days"] = 150
    d["warmup_days"] = 20
    return d


def sweep_dict(name: str = "tiny-sweep") -> dict[str, Any]:
    """The tiny scenario with a hybrid in place of the Safelite-style scheme: the sweeps
    vary its weight (hvac has no hybrid)."""
    d = tiny_dict(name)
    d["schemes"].pop("safelite", None)
    d["schemes"]["hybrid"] = {
        "type": "hybrid",
        "weight": 0.5,
        "between": ["jobs_per_day", "outcome_weighted"],
    }
    return d


def make_run(out: Path, name: str = "tiny", reps: int = 3, mutate=None) -> Path:
    d = tiny_dict(name)
    if mutate is not None:
        mutate(d)
    run_scenario(scenario_from_dict(d), out, reps)
    return out


def _set(d: dict[str, Any], path: str, value: Any) -> None:
    keys = path.split(".")
    for k in keys[:-1]:
        d = d.setdefault(k, {})
    d[keys[-1]] = value


def make_sweep(
    out: Path,
    params: dict[str, list[float]],
    reps: int = 3,
    sensitivity: str | None = None,
    name: str = "tiny-sweep",
) -> Path:
    """A grid sweep in the sweep output schema, each point run for real."""
    base = sweep_dict(name)
    names = list(params)
    runs = []
    for point, values in enumerate(itertools.product(*params.values())):
        d = copy.deepcopy(base)
        for p, v in zip(names, values):
            _set(d, p, v)
        sc = scenario_from_dict(d)
        res = assemble(sc, sc.seed, run_tasks(sc, sc.seed, range(reps)))
        r = res.runs.copy()
        r.insert(0, "point", point)
        for p, v in zip(names, values):
            r[p] = v
        runs.append(r)
    runs_df = pd.concat(runs, ignore_index=True)
    sc0 = scenario_from_dict(base)
    summary = summarise(runs_df, list(KPI_COLUMNS), sc0.baseline_scheme, ["point", *names])
    out.mkdir(parents=True, exist_ok=True)
    runs_df.to_parquet(out / "runs.parquet", index=False)
    summary.to_parquet(out / "summary.parquet", index=False)
    summary.to_csv(out / "summary.csv", index=False)
    man = {
        "kind": "sweep",
        "scenario_name": sc0.name,
        "design": "grid",
        "seed": sc0.seed,
        "replications": reps,
        "schemes": list(sc0.schemes),
        "baseline": sc0.baseline_scheme,
        "techsim_version": "0.1.0",
        "git_commit": None,
        "started": "2026-01-01T00:00:00+00:00",
        "finished": "2026-01-01T00:01:00+00:00",
        "parameters": [{"path": p, "values": params[p]} for p in names],
        "points": len(runs),
        "scenario": scenario_to_dict(sc0),
    }
    (out / "manifest.json").write_text(json.dumps(man, indent=2))
    if sensitivity:
        write_sensitivity(out, names, sensitivity)
    return out


def write_sensitivity(out: Path, names: list[str], method: str) -> None:
    rows = []
    g = stream(1, 0, "extra")
    for kpi in ("first_time_fix_rate", "retention_rate", "jobs_per_tech_day", "margin", "nps"):
        for i, p in enumerate(names):
            if method == "sobol":
                s1 = 0.6 / (i + 1) + 0.05 * g.random()
                rows.append(
                    {
                        "kpi": kpi,
                        "parameter": p,
                        "method": "sobol",
                        "S1": s1,
                        "S1_conf": 0.05,
                        "ST": s1 + 0.1,
                        "ST_conf": 0.06,
                    }
                )
            else:
                mu = 2.0 / (i + 1) + 0.1 * g.random()
                rows.append(
                    {
                        "kpi": kpi,
                        "parameter": p,
                        "method": "morris",
                        "mu_star": mu,
                        "mu_star_conf": 0.2,
                        "sigma": mu / 3,
                    }
                )
    pd.DataFrame(rows).to_csv(out / "sensitivity.csv", index=False)


def forget_checksums(run_dir: Path) -> None:
    """Drop the manifest's checksums: results edited by hand (or written before techsim
    recorded checksums) are read with the structural checks only."""
    mpath = run_dir / "manifest.json"
    man = json.loads(mpath.read_text())
    man.pop("checksums", None)
    mpath.write_text(json.dumps(man, indent=2))


def strip_behaviour(run_dir: Path) -> None:
    """Results as written before the behaviour/attrition outputs existed."""
    (run_dir / "behaviour.csv").unlink(missing_ok=True)
    cols = ["tech_quits", "vacancy_days"]
    runs = pd.read_csv(run_dir / "runs.csv")
    runs.drop(columns=[c for c in cols if c in runs.columns]).to_csv(
        run_dir / "runs.csv", index=False
    )
    s = pd.read_csv(run_dir / "summary.csv")
    s[~s["kpi"].isin(cols)].to_csv(run_dir / "summary.csv", index=False)


#: runs.csv columns added with T&M calls, planned maintenance, new accounts, overtime, the
#: loaded visit cost and uptime (issue 9, "A fair contest between pay schemes").
FAIR_CONTEST_KPIS = (
    "overtime_hours",
    "loaded_cost_per_visit",
    "labour_cost",
    "contract_revenue",
    "tm_jobs",
    "tm_revenue",
    "planned_visits",
    "planned_on_time_rate",
    "new_accounts",
    "active_accounts_end",
    "downtime_hours_per_failure",
    "availability",
)


#: runs.csv columns added with the causes of return visits (issue 10).
CAUSE_KPIS = ("repeat_cause_parts", "repeat_cause_skill", "repeat_cause_time", "repeat_cause_other")


def strip_fair_contest(run_dir: Path) -> None:
    """Results as written before runs.csv had the fair-contest KPIs (and so the margin's
    parts), and the causes of return visits, which came later. The manifest's checksums are
    dropped, as such results had none."""
    forget_checksums(run_dir)
    cols = [*FAIR_CONTEST_KPIS, *CAUSE_KPIS]
    runs = pd.read_csv(run_dir / "runs.csv")
    runs.drop(columns=[c for c in cols if c in runs.columns]).to_csv(
        run_dir / "runs.csv", index=False
    )
    s = pd.read_csv(run_dir / "summary.csv")
    s[~s["kpi"].isin(cols)].to_csv(run_dir / "summary.csv", index=False)


def add_static_behaviour(run_dir: Path) -> None:
    """behaviour.csv with each technician's thoroughness constant, and nobody quitting."""
    techs = pd.read_csv(run_dir / "technicians.csv")
    weeks = sorted(pd.read_csv(run_dir / "timeseries.csv")["week"].unique())
    rows = [
        {
            "scenario": t.scenario,
            "scheme": t.scheme,
            "replication": t.replication,
            "seed": t.seed,
            "week": w,
            "tech": t.tech,
            "thoroughness": t.thoroughness,
        }
        for t in techs.itertuples()
        for w in weeks
    ]
    pd.DataFrame(rows).to_csv(run_dir / "behaviour.csv", index=False)
    runs = pd.read_csv(run_dir / "runs.csv")
    runs["tech_quits"] = 0.0
    runs["vacancy_days"] = 0.0
    runs.to_csv(run_dir / "runs.csv", index=False)


def add_behaviour(run_dir: Path) -> None:
    """behaviour.csv and attrition columns, derived from the run's technicians and runs."""
    techs = pd.read_csv(run_dir / "technicians.csv")
    ts = pd.read_csv(run_dir / "timeseries.csv")
    weeks = sorted(ts["week"].unique())
    rows = []
    for (scheme, rep), g in techs.groupby(["scheme", "replication"], sort=False):
        for _, t in g.iterrows():
            rng = stream(int(t["seed"]), int(rep), "behaviour")
            # a learning path from the comfortable pace towards the best response
            target = float(t["thoroughness"])
            noise = rng.normal(0, 0.02, len(weeks))
            for w, e in zip(weeks, noise):
                th = 1.0 + (target - 1.0) * (1 - np.exp(-w / 6.0)) + e
                rows.append(
                    {
                        "scenario": t["scenario"],
                        "scheme": scheme,
                        "replication": rep,
                        "seed": t["seed"],
                        "week": w,
                        "tech": int(t["tech"]),
                        "thoroughness": th,
                    }
                )
    pd.DataFrame(rows).to_csv(run_dir / "behaviour.csv", index=False)
    runs = pd.read_csv(run_dir / "runs.csv")
    runs["tech_quits"] = (runs["repeat_visit_rate"] * 10).round()
    runs["vacancy_days"] = runs["tech_quits"] * 30.0
    runs.to_csv(run_dir / "runs.csv", index=False)
