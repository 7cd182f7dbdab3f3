"""Workforce sizing: the target's syntax, the per-scheme headcount, and the search."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from conftest import tiny_dict, tiny_scenario, write_yaml

from sim.cli.main import main
from sim.config.load import ScenarioError, scenario_from_dict
from sim.config.sizing import SIZING_KPIS, SizingTarget, parse_target
from sim.experiment.sizing import SizingError, evaluate, find_headcounts, size_workforce
from sim.experiment.tasks import run_experiment
from sim.metrics.kpis import KPI_COLUMNS
from sim.model.replication import crew_world, fit_reference, simulate_scheme, world_for
from sim.sweep.design import Design, Point, point_scenarios
from sim.sweep.params import SweepInputError
from sim.world.draws import build_world

#: A short tiny scenario: the search's brute-force check runs every headcount.
SHORT = {"horizon_days": 90, "warmup_days": 20, "sizing_search": {"replications": 2}}


def _sized(target: str, over: dict | None = None):
    d = tiny_dict({**SHORT, "workforce": {"sizing": target}})
    d["sizing_search"]["max_technicians"] = 8
    return scenario_from_dict({**d, **(over or {})})


# --------------------------------------------------------------------------- the target
@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("fixed", None),
        ("sla_compliance >= 0.9", SizingTarget("sla_compliance", ">=", 0.9)),
        ("utilisation<=0.85", SizingTarget("utilisation", "<=", 0.85)),
        (" mean_wait_hours <= 4 ", SizingTarget("mean_wait_hours", "<=", 4.0)),
        ("sla_compliance>=.95", SizingTarget("sla_compliance", ">=", 0.95)),
    ],
)
def test_targets_parse(text, want):
    assert parse_target(text) == want


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sla_compliance", "must be 'fixed' or a target '<kpi> >= <number>'"),
        ("sla_compliance >= high", "must be 'fixed' or a target"),
        ("sla_compliance > 0.9", "the comparison must be >= or <=, not '>'"),
        ("margin >= 1000", "'margin' is not a KPI a headcount can be sized to"),
        ("sla_compliance <= 0.9", "sla_compliance rises as technicians are added"),
        ("utilisation >= 0.5", "only a target 'utilisation <= <number>'"),
        ("sla_compliance >= 90", "sla_compliance is a share; give the target between 0 and 1"),
        ("mean_wait_hours <= -1", "the target must not be negative"),
    ],
)
def test_bad_targets_say_what_is_wrong_in_one_line(text, message):
    with pytest.raises(ValueError, match=re.escape(message)) as exc:
        parse_target(text)
    assert "\n" not in str(exc.value)
    with pytest.raises(ScenarioError) as exc2:
        scenario_from_dict(tiny_dict({"workforce": {"sizing": text}}), "x.yaml")
    assert str(exc2.value).startswith("x.yaml: workforce.sizing: ")
    assert f"(got {text!r})" in str(exc2.value)


def test_every_sizing_kpi_is_a_runs_csv_kpi():
    assert set(SIZING_KPIS) <= set(KPI_COLUMNS)


def test_headcount_and_search_bound_are_validated():
    with pytest.raises(ScenarioError, match="headcount: 'nope' is not one of the schemes"):
        scenario_from_dict(tiny_dict({"headcount": {"nope": 3}}), "x.yaml")
    with pytest.raises(ScenarioError, match=r"headcount\.hourly: Input should be greater"):
        scenario_from_dict(tiny_dict({"headcount": {"hourly": 0}}), "x.yaml")
    with pytest.raises(ScenarioError, match=r"max_technicians \(3\) must be at least"):
        _sized("sla_compliance >= 0.9", {"sizing_search": {"max_technicians": 3}})


# --------------------------------------------------------------------------- the headcount
def test_fixed_draws_the_world_it_always_did():
    sc = tiny_scenario()
    assert sc.sizing_target is None and sc.world_technicians == sc.workforce.technicians
    a, b = world_for(sc, 3, 0), build_world(sc, 3, 0)
    assert a.skill == b.skill and a.failure_t == b.failure_t


def test_a_scheme_with_n_technicians_runs_as_a_workforce_of_n():
    """The first n slots of a larger world are a world of n: the same skills, customers
    and draws (common random numbers across headcounts)."""
    sc = tiny_scenario({**SHORT, "headcount": {"hourly": 3}})
    assert sc.world_technicians == 4
    big = world_for(sc, sc.seed, 0)
    three = tiny_scenario({**SHORT, "workforce": {"technicians": 3}})
    small = build_world(three, sc.seed, 0)
    assert crew_world(big, 3).skill == small.skill
    _f, out = simulate_scheme(sc, big, "hourly")
    _f, want = simulate_scheme(three, small, "hourly")
    assert out.visits == want.visits and out.renewals == want.renewals
    # the others keep the nominal headcount
    runs = run_experiment(sc, replications=2).runs
    assert dict(runs.groupby("scheme")["technicians_needed"].first()) == {
        "jobs_per_day": 4,
        "outcome_weighted": 4,
        "hybrid": 4,
        "hourly": 3,
    }


def test_headcount_at_the_nominal_value_changes_nothing():
    sc = tiny_scenario(SHORT)
    same = tiny_scenario({**SHORT, "headcount": {s: 4 for s in sc.schemes}})
    assert run_experiment(sc, replications=2).runs.equals(run_experiment(same, replications=2).runs)


# --------------------------------------------------------------------------- the search
@pytest.mark.parametrize("target", ["sla_compliance >= 0.9", "utilisation <= 0.6"])
def test_the_search_finds_the_smallest_headcount_meeting_the_target(target):
    """Brute force on the same replications: the smallest n whose mean KPI meets the
    target. This can fail if the means of these seeds are not monotone in n."""
    sc = _sized(target)
    t = sc.sizing_target
    assert t is not None
    res = find_headcounts(sc)
    for name in ("jobs_per_day", "hourly"):
        means = {
            n: sum(evaluate(sc, sc.seed, r, name, n, t.kpi) for r in range(2)) / 2
            for n in range(1, 9)
        }
        smallest = min(n for n, m in means.items() if t.met(m))
        assert res.headcount[name] == smallest, (name, means)
        for n, m in res.evaluations[name].items():  # the search saw the same numbers
            assert m == pytest.approx(means[n], abs=1e-12)


def test_a_stricter_sla_needs_at_least_as_many_technicians():
    loose = find_headcounts(_sized("sla_compliance >= 0.8")).headcount
    strict = find_headcounts(_sized("sla_compliance >= 0.93")).headcount
    assert all(strict[s] >= loose[s] for s in loose)
    assert any(strict[s] > loose[s] for s in loose)


def test_the_run_uses_the_headcounts_and_agrees_with_the_search():
    sc, res = size_workforce(_sized("sla_compliance >= 0.9"))
    assert sc.headcount == res.headcount
    runs = run_experiment(sc, replications=2).runs
    for name, n in res.headcount.items():
        rows = runs[runs["scheme"] == name]
        assert (rows["technicians_needed"] == n).all()
        assert rows["sla_compliance"].mean() == pytest.approx(res.evaluations[name][n])


def test_an_unreachable_target_is_an_error():
    msg = "no headcount up to 8 (sizing_search.max_technicians) meets mean_wait_hours <= 0"
    with pytest.raises(SizingError, match=re.escape(msg)):
        find_headcounts(_sized("mean_wait_hours <= 0"))


def test_attrition_against_a_baseline_of_another_headcount():
    """Slots the baseline did not have expect its mean pay, as a new hire does."""
    assert fit_reference([100.0, 200.0], 4) == [100.0, 200.0, 150.0, 150.0]
    assert fit_reference([100.0, 200.0, 300.0], 2) == [100.0, 200.0]
    assert fit_reference(None, 3) is None
    att = {"enabled": True, "reference": "baseline", "window_weeks": 4, "base_quit_rate": 0.9}
    sc = tiny_scenario({**SHORT, "headcount": {"jobs_per_day": 3, "hourly": 6}, "attrition": att})
    runs = run_experiment(sc, replications=2).runs
    assert dict(runs.groupby("scheme")["technicians_needed"].first()) == {
        "jobs_per_day": 3,
        "outcome_weighted": 4,
        "hybrid": 4,
        "hourly": 6,
    }


def test_sweeps_refuse_a_sizing_target():
    sc = _sized("sla_compliance >= 0.9")
    with pytest.raises(SweepInputError, match=r"workforce\.sizing: sweeps do not run"):
        point_scenarios(sc, Design("grid", [], [Point(0, {})]))


# --------------------------------------------------------------------------- the CLI
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--size-to", "sla>=0.9"], "Error: --size-to: 'sla' is not a KPI"),
        (["--size-to", "utilisation >= 0.5"], "Error: --size-to: utilisation falls"),
    ],
)
def test_cli_rejects_a_bad_target_in_one_line(tmp_path, args, message):
    path = write_yaml(tmp_path / "s.yaml", tiny_dict(SHORT))
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["run", str(path), "--reps", "2", "--out", str(out), *args])
    assert r.exit_code == 2
    assert r.stderr.startswith(message) and r.stderr.count("\n") == 1
    assert not out.exists()


def test_cli_rejects_a_bad_scenario_target_in_one_line(tmp_path):
    path = write_yaml(tmp_path / "s.yaml", tiny_dict({"workforce": {"sizing": "nps >= 10"}}))
    r = CliRunner().invoke(main, ["validate", str(path)])
    assert r.exit_code == 2
    assert r.stderr.startswith(f"Error: {path}: workforce.sizing: 'nps' is not a KPI")
    assert r.stderr.count("\n") == 1


def test_cli_sizes_and_reports_one_line_per_scheme(tmp_path):
    d = tiny_dict(SHORT)
    d["schemes"] = {k: d["schemes"][k] for k in ("jobs_per_day", "hourly")}
    path = write_yaml(tmp_path / "s.yaml", d)
    out = tmp_path / "out"
    args = ["run", str(path), "--reps", "2", "--out", str(out), "--workers", "1", "-q"]
    r = CliRunner().invoke(main, [*args, "--size-to", "sla_compliance>=0.9"])
    assert r.exit_code == 0, r.output
    man = json.loads((out / "manifest.json").read_text())
    sizing = man["sizing"]
    assert sizing["target"] == "sla_compliance >= 0.9"
    assert man["scenario"]["workforce"]["sizing"] == "sla_compliance>=0.9"
    assert man["scenario"]["headcount"] == sizing["headcount"]
    for name, n in sizing["headcount"].items():
        assert str(n) in sizing["evaluations"][name]
        assert f"  {name}: {n} technicians" in r.output
    assert "of labour cost against jobs_per_day" in r.output
    # and with "fixed" the scenario's headcount, no search
    r = CliRunner().invoke(main, [*args, "--size-to", "fixed"])
    assert r.exit_code == 0, r.output
    assert "sizing" not in json.loads((out / "manifest.json").read_text())
