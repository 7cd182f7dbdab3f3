"""Precision on demand: replications in rounds until every paired difference is as precise
as asked (sim.config.precision, sim.experiment.precision; docs/model.md section 14)."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import tiny_dict, tiny_scenario
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from sim.cli.main import main
from sim.config.load import ScenarioError, scenario_from_dict
from sim.config.precision import Precision, parse_half_width, parse_targets
from sim.experiment.execution import Execution
from sim.experiment.precision import (
    PrecisionError,
    Width,
    check_targets,
    next_size,
    sequential,
    widths,
)
from sim.experiment.runner import run_scenario


# --------------------------------------------------------------------------- syntax
def test_targets_parse_numbers_and_points():
    assert parse_targets("margin=20000, first_time_fix_rate=0.5pts") == {
        "margin": 20000.0,
        "first_time_fix_rate": 0.005,
    }
    assert parse_targets("off") == {} and parse_targets(" None ") == {}
    assert parse_half_width(3) == 3.0 and parse_half_width("1e3") == 1000.0


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("margin", "expected KPI=HALFWIDTH"),
        ("margin=0", "positive"),
        ("margin=-5", "positive number"),
        ("margin=abc", "positive number"),
        ("margin=1,margin=2", "given twice"),
        ("9lives=3", "not a KPI name"),
    ],
)
def test_bad_targets_say_what_is_wrong(text, says):
    with pytest.raises(ValueError, match=says):
        parse_targets(text)


def test_scenario_precision_is_validated_where_it_enters():
    sc = scenario_from_dict(
        tiny_dict({"precision": {"targets": {"nps": 2, "retention_rate": "1pts"}}})
    )
    assert sc.precision.half_widths == {"nps": 2.0, "retention_rate": 0.01}
    for bad, says in (
        ({"targets": {"nps": "two"}}, "precision.targets"),
        (
            {"targets": {"nps": 1}, "min_replications": 10, "max_replications": 5},
            "max_replications",
        ),
        ({"min_replications": 2}, "min_replications"),
        ({"batch": 3}, "batch"),
    ):
        with pytest.raises(ScenarioError, match=says):
            scenario_from_dict(tiny_dict({"precision": bad}), "p.yaml")


def test_targets_must_name_kpis_and_points_only_shares():
    check_targets({"margin": 1.0, "first_time_fix_rate": 0.01})
    with pytest.raises(PrecisionError, match="'profit' is not a KPI"):
        check_targets({"profit": 1.0})
    with pytest.raises(PrecisionError, match="'pts' is for shares"):
        check_targets({"margin": 0.01}, {"margin": "1pts"})


# --------------------------------------------------------------------------- the rule
def _widths_of(diffs: np.ndarray, target: float):
    """evaluate(n) for a synthetic problem: one scheme whose paired differences are `diffs`."""

    def evaluate(n: int) -> list[Width]:
        d = diffs[:n]
        w = sps.t.ppf(0.975, n - 1) * d.std(ddof=1) / math.sqrt(n)
        return [Width("b", "margin", n, float(w), target)]

    return evaluate


@settings(max_examples=60, deadline=None)
@example(sd=10.46875, target=1.0234375, seed=44466, first=4)  # the cap ends a round at +1
@given(
    sd=st.floats(0.5, 20.0),
    target=st.floats(0.5, 5.0),
    seed=st.integers(0, 2**32 - 1),
    first=st.integers(3, 12),
)
def test_the_rule_stops_at_the_first_round_that_meets_the_target(sd, target, seed, first):
    """Every round but the last misses the target; the last meets it, or is the cap."""
    diffs = np.random.default_rng(seed).normal(1.0, sd, 400)
    prec = Precision(targets={"margin": target}, min_replications=first, max_replications=400)
    rounds = sequential(prec, _widths_of(diffs, target))
    seen = [r["worst"]["half_width"] for r in rounds.rounds]
    ns = [r["replications"] for r in rounds.rounds]
    assert all(w > target for w in seen[:-1])
    assert rounds.met == (seen[-1] <= target)
    assert rounds.met or ns[-1] == 400
    # rounds grow, at most twofold, by at least 2 unless the cap stops them sooner
    # (n_next = min(cap, max(n + 2, ...)): e.g. 376, 399, 400)
    assert ns[0] == first and all(
        (b - a >= 2 or b == 400) and b <= 2 * a for a, b in itertools.pairwise(ns)
    )
    # the half-width reported is the one of the first n differences
    n = ns[-1]
    want = sps.t.ppf(0.975, n - 1) * diffs[:n].std(ddof=1) / math.sqrt(n)
    assert rounds.binding().half_width == pytest.approx(want)


def test_the_rule_needs_about_the_replications_the_variance_says():
    """sd 10 and a target of 2: n with t(n-1) 10 / sqrt(n) <= 2, about 99; the rule ends
    within a round's overshoot of it, over many synthetic problems."""
    need = next(n for n in range(3, 1000) if sps.t.ppf(0.975, n - 1) * 10 / math.sqrt(n) <= 2)
    used = []
    for seed in range(200):
        diffs = np.random.default_rng(seed).normal(0.0, 10.0, 1000)
        prec = Precision(targets={"margin": 2.0}, min_replications=5, max_replications=1000)
        used.append(sequential(prec, _widths_of(diffs, 2.0)).replications)
    assert 0.85 * need <= np.median(used) <= 1.4 * need, (need, np.median(used))


def test_met_at_once_stops_after_the_first_round_and_the_cap_stops_the_rest():
    prec = Precision(targets={"margin": 1.0}, min_replications=5, max_replications=8)
    assert next_size(5, Width("b", "margin", 5, 0.5, 1.0), prec) is None
    assert next_size(5, Width("b", "margin", 5, 1.5, 1.0), prec) == 8  # 5 x 2.25, capped
    assert next_size(8, Width("b", "margin", 8, 9.0, 1.0), prec) is None  # the cap
    assert next_size(5, Width("b", "margin", 5, math.inf, 1.0), prec) == 8  # unknown: x2


def test_widths_are_the_paired_differences_half_widths():
    runs = pd.DataFrame(
        {
            "scheme": ["a"] * 4 + ["b"] * 4,
            "replication": [0, 1, 2, 3] * 2,
            "margin": [10.0, 20.0, 30.0, 40.0, 11.0, 23.0, 30.0, 44.0],
        }
    )
    (w,) = widths(runs, {"margin": 1.0}, "a")
    d = np.array([1.0, 3.0, 0.0, 4.0])
    assert w.half_width == pytest.approx(sps.t.ppf(0.975, 3) * d.std(ddof=1) / 2.0)
    assert (w.scheme, w.kpi, w.n) == ("b", "margin", 4)


# --------------------------------------------------------------------------- in a run
PREC = {"targets": {"first_time_fix_rate": "1.5pts", "tech_pay_per_day": 5}, "max_replications": 9}


def test_a_run_stops_when_its_targets_are_met_and_says_so(tmp_path):
    sc = tiny_scenario({"precision": {**PREC, "min_replications": 3}})
    out = run_scenario(sc, tmp_path / "r", execution=Execution(seed=5))
    p = out.manifest["precision"]
    n = p["replications"]
    runs = pd.read_csv(tmp_path / "r" / "runs.csv")
    assert out.manifest["replications"] == n == runs["replication"].nunique()
    assert sorted(runs["replication"].unique()) == list(range(n))
    # what the manifest says is what summary.csv says
    summary = pd.read_csv(tmp_path / "r" / "summary.csv").set_index(["scheme", "kpi"])
    for w in p["final"]:
        row = summary.loc[(w["scheme"], w["kpi"])]
        assert w["half_width"] == pytest.approx((row["diff_ci_high"] - row["diff_ci_low"]) / 2)
        assert p["met"] <= (w["half_width"] <= w["target"])
    assert p["met"] or n == 9
    assert next(r["replications"] for r in p["rounds"]) == 3


def test_reps_turns_precision_off_and_a_resumed_run_replays_the_same_rounds(tmp_path):
    sc = tiny_scenario({"precision": {**PREC, "min_replications": 3}})
    fixed = run_scenario(sc, tmp_path / "f", replications=2, execution=Execution(seed=5))
    assert "precision" not in fixed.manifest and fixed.manifest["replications"] == 2
    first = run_scenario(sc, tmp_path / "a", execution=Execution(seed=5))
    (tmp_path / "a" / "runs.csv").unlink()
    again = run_scenario(sc, tmp_path / "a", execution=Execution(seed=5, resume=True))
    assert again.manifest["resumed_replications"] == first.manifest["replications"]
    assert again.manifest["precision"]["rounds"] == first.manifest["precision"]["rounds"]


def test_the_command_line_reads_precision_and_refuses_bad_targets(tmp_path):
    runner = CliRunner()
    path = tmp_path / "tiny.yaml"
    path.write_text(json.dumps(tiny_dict()))
    res = runner.invoke(
        main,
        ["run", str(path), "--precision", "tech_pay_per_day=5", "--max-reps", "4",
         "--out", str(tmp_path / "o"), "-q", "--workers", "1"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "Precision:" in res.output
    man = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert man["precision"]["max_replications"] == 4  # and the first round is 4, not 5
    assert man["precision"]["rounds"][0]["replications"] == 4
    for args, says in (
        (["--precision", "profit=3"], "--precision: 'profit' is not a KPI"),
        (["--precision", "margin=1pts"], "--precision: margin: 'pts' is for shares"),
        (["--precision", "margin"], "--precision: 'margin': expected KPI=HALFWIDTH"),
        (["--precision", "margin=5", "--max-reps", "2"], "--max-reps"),
    ):
        res = runner.invoke(main, ["run", str(path), "--out", str(tmp_path / "x"), *args])
        assert res.exit_code == 2, res.output
        assert says in res.output, res.output
        assert not (tmp_path / "x").exists()
    bad = tmp_path / "bad.yaml"
    bad.write_text(json.dumps(tiny_dict({"precision": {"targets": {"profit": 3}}})))
    res = runner.invoke(main, ["run", str(bad), "--out", str(tmp_path / "y")])
    assert res.exit_code == 2 and f"{bad}: precision.targets: 'profit'" in res.output
