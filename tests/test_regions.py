"""Regions: a company simulated as parts that do not share technicians (docs/model.md,
"Regions"), their KPIs combined exactly.

The proof: a scenario split into regions that are copies of one region gives the KPIs of
that region run on its own once per region (with each region's seed), combined; a total is
the sum and a rate is recombined over its basis, never averaged. Then the same rows whether
a run executes a replication's regions as separate tasks (on processes) or in turn, resume
at region granularity, and the scenario's checks.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import tiny_dict

from sim.config.load import ScenarioError, scenario_from_dict
from sim.config.regions import region_seed
from sim.config.scenario import region_scenarios
from sim.experiment.execution import Execution
from sim.experiment.runner import run_scenario
from sim.experiment.tasks import run_replication, simulate_replication
from sim.metrics.catalogue import BASES, PER_BASIS
from sim.metrics.combine import combine
from sim.metrics.kpis import KPI_COLUMNS

SEED = 7


def _company(n: int = 3, over: dict | None = None) -> dict:
    """`n` copies of the tiny scenario as regions of one company."""
    one = tiny_dict()
    d = tiny_dict()
    d["workforce"]["technicians"] = n * one["workforce"]["technicians"]
    d["customers"]["count"] = n * one["customers"]["count"]
    tm = d.get("time_and_materials", {})
    if tm.get("jobs_per_day"):
        tm["jobs_per_day"] = n * tm["jobs_per_day"]
    d["regions"] = {
        f"r{k}": {
            "technicians": one["workforce"]["technicians"],
            "accounts": one["customers"]["count"],
            **({"overrides": over} if over and k == 1 else {}),
        }
        for k in range(n)
    }
    return d


def test_every_kpi_is_a_total_or_has_a_basis():
    assert set(PER_BASIS) <= set(KPI_COLUMNS)
    assert set(BASES) == set(PER_BASIS.values())


def test_regions_that_are_copies_combine_to_the_regions_run_alone():
    company = scenario_from_dict(_company(3))
    alone = scenario_from_dict(tiny_dict())
    got = run_replication(company, SEED, 0)
    parts = [
        simulate_replication(alone, region_seed(SEED, k), 0, with_bases=True) for k in range(3)
    ]
    for i, row in enumerate(got.runs):
        want, _ = combine([({c: p.runs[i][c] for c in KPI_COLUMNS}, p.bases[i]) for p in parts])
        for c in KPI_COLUMNS:
            a, b = row[c], want[c]
            assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-12), c
    # totals are sums; rates are recombined over their basis, not averaged
    i = 0
    assert got.runs[i]["visits"] == sum(p.runs[i]["visits"] for p in parts)
    ftf = sum(p.runs[i]["first_time_fix_rate"] * p.bases[i]["first_visits_judged"] for p in parts)
    den = sum(p.bases[i]["first_visits_judged"] for p in parts)
    assert got.runs[i]["first_time_fix_rate"] == pytest.approx(ftf / den, rel=1e-12)
    # technicians numbered on, weeks summed
    n = alone.workforce.technicians
    techs = pd.DataFrame(got.technicians)
    assert sorted(techs[techs["scheme"] == got.runs[0]["scheme"]]["tech"]) == list(range(3 * n))
    scheme = got.runs[0]["scheme"]

    def done_in_week5(rows: list) -> int:
        w = pd.DataFrame(rows)
        return int(w[(w["scheme"] == scheme) & (w["week"] == 5)]["visits_done"].iloc[0])

    assert done_in_week5(got.weeks) == sum(done_in_week5(p.weeks) for p in parts)


def test_regions_draw_apart_and_overrides_apply():
    company = scenario_from_dict(_company(2, {"workforce.travel_hours_mean": 1.5}))
    (_a, ra), (_b, rb) = region_scenarios(company)
    assert ra.workforce.travel_hours_mean != rb.workforce.travel_hours_mean == 1.5
    assert region_seed(SEED, 0) != region_seed(SEED, 1)
    got = run_replication(company, SEED, 0)
    assert len(got.runs) == len(company.schemes)


def _same_as_run_alone(company, runs: pd.DataFrame, kpis: tuple[str, ...]) -> None:
    """A run's runs.csv rows (replications 0 and 1) against the replications run on their
    own, each region in turn (`run_replication`)."""
    seq = [run_replication(company, company.seed, r) for r in range(2)]
    alone = pd.DataFrame([r for t in seq for r in t.runs])
    for c in kpis:
        x = runs.sort_values(["scheme", "replication"])[c].to_numpy()
        y = alone.sort_values(["scheme", "replication"])[c].to_numpy()
        np.testing.assert_allclose(x, y, rtol=1e-12)


def test_run_executes_regions_as_tasks_and_resumes(tmp_path):
    """The same tables from regions as separate tasks on two processes as from regions in
    turn; a run interrupted after some regions resumes from their parts."""
    company = scenario_from_dict(_company(2))
    a = run_scenario(company, tmp_path / "a", replications=2, execution=Execution(workers=2))
    _same_as_run_alone(company, a.result.runs, ("visits", "first_time_fix_rate", "margin",
                                                 "retention_rate"))  # fmt: skip
    parts = sorted(p.name for p in (tmp_path / "a" / "parts").glob("rep-*"))
    assert parts == [f"rep-{r:05d}-r{k:04d}.json" for r in range(2) for k in range(2)]
    # lose one region's part: resume runs that region only and gives the same files
    (tmp_path / "a" / "parts" / "rep-00001-r0001.json").unlink()
    b = run_scenario(company, tmp_path / "a", replications=2, execution=Execution(resume=True))
    assert b.manifest["resumed_replications"] >= 1
    pd.testing.assert_frame_equal(a.result.runs, b.result.runs)


@pytest.mark.parametrize(
    ("regions", "msg"),
    [
        ({"r0": {"technicians": 1, "accounts": 10}}, "add up"),
        ({"r0": {"technicians": 3, "accounts": 1000, "overrides": {"schemes.x": 1}}}, "overrides"),
        (
            {"r0": {"technicians": 3, "accounts": 1000, "overrides": {"jobs.nope": 1}}},
            "no such field",
        ),
        (
            {"r0": {"technicians": 3, "accounts": 1000,
                    "overrides": {"workforce.travel_hours_mean": -1}}},
            "regions.r0",
        ),
    ],
)  # fmt: skip
def test_bad_regions_name_the_field(regions, msg):
    d = tiny_dict()
    d["regions"] = regions
    if "add up" not in msg:
        d["workforce"]["technicians"] = 3
        d["customers"]["count"] = 1000
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(d, "company.yaml")
    assert "company.yaml" in str(err.value) and msg in str(err.value)


def test_selection_and_searches_measure_regions_as_a_run_does():
    """`techsim select` (subset_kpis) and the searches (scheme_kpis: budget-neutral,
    optimise) combine a regioned replication exactly as `techsim run` does."""
    from sim.experiment.search import scheme_kpis
    from sim.experiment.select import subset_kpis

    company = scenario_from_dict(_company(2, {"workforce.travel_hours_mean": 1.2}))
    run = {r["scheme"]: r for r in run_replication(company, SEED, 1).runs}
    names = tuple(company.schemes)
    sel = subset_kpis(company, SEED, 1, names)
    for name in names:
        _f, kpis, techs = scheme_kpis(company, SEED, 1, name)
        assert len(techs) == company.workforce.technicians
        for c in ("visits", "first_time_fix_rate", "margin", "tech_pay_per_day"):
            assert sel[name][c] == pytest.approx(run[name][c], rel=1e-12), (name, c)
            assert kpis[c] == pytest.approx(run[name][c], rel=1e-12), (name, c)


def test_export_refuses_a_run_with_regions(tmp_path):
    from click.testing import CliRunner

    from sim.cli.main import main

    company = scenario_from_dict(_company(2))
    run_scenario(company, tmp_path / "r", replications=2)
    res = CliRunner().invoke(main, ["export", str(tmp_path / "r")], catch_exceptions=False)
    assert res.exit_code == 2 and "regions" in res.stderr


def test_a_runs_steady_pilots_run_once_each_as_tasks(tmp_path, monkeypatch):
    """A steady book's pilot runs once per region for the whole run, as a task: every
    replication task carries its region's resolved scenario, the same a worker would have
    resolved, and the run's tables are those of the replications run on their own."""
    import sim.experiment.runner as runner
    import sim.experiment.tasks as tasks
    from sim.experiment.tasks import PilotTask, ReplicationTask
    from sim.model.replication import resolve_steady

    d = _company(2, over={"customers.failures_per_year": 1.5})
    d["customers"]["new_accounts_per_year"] = "steady"
    company = scenario_from_dict(d)
    seen: list = []
    real = runner.execute

    def spy(tasks, run, backend, on_done, on_fail=None):
        seen.append(list(tasks))
        return real(tasks, run, backend, on_done, on_fail)

    monkeypatch.setattr(runner, "execute", spy)
    monkeypatch.setattr(tasks, "execute", spy)
    a = run_scenario(company, tmp_path / "a", replications=2, execution=Execution(workers=2))
    pilots = [t for batch in seen for t in batch if isinstance(t, PilotTask)]
    assert sorted(t.key for t in pilots) == ["pilot-r0000", "pilot-r0001"]
    reps = [t for batch in seen for t in batch if isinstance(t, ReplicationTask)]
    assert len(reps) == 4
    for t in reps:
        assert t.region is not None and t.resolved is not None
        rate = t.resolved.customers.new_accounts_per_year
        assert isinstance(rate, float) and rate > 0
        region = region_scenarios(company)[t.region][1]
        assert t.resolved == resolve_steady(region, region_seed(company.seed, t.region))
    _same_as_run_alone(company, a.result.runs, ("visits", "margin", "retention_rate",
                                                 "new_accounts"))  # fmt: skip
