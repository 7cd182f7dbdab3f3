"""`techsim optimise`: a constrained search of a scheme family's coefficients (Optuna's
seeded TPE), then re-evaluation by selection (sim.experiment.optimise)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import tiny_dict, tiny_scenario

from sim.cli.main import main
from sim.experiment.execution import Execution
from sim.experiment.family import Bound, OptimiseError, default_bounds
from sim.experiment.optimise import Evaluation, Limits, best, run_optimise, search

LIMITS = Limits(max_pay_change=0.2, max_losers=0.5, loss_threshold=0.1)
BOUNDS = [Bound("x", 0.0, 1.0), Bound("y", 0.0, 1.0)]


def synthetic(n: int, p: dict[str, float]) -> Evaluation:
    """Maximise x + y with |x + y - 1| <= 0.2 and y <= 0.5: the optimum is x + y = 1.2,
    on a line of points; the unconstrained one (2) is infeasible."""
    return Evaluation(p["x"] + p["y"], p["x"] + p["y"] - 1.0, p["y"])


@pytest.mark.parametrize("seed", range(5))
def test_the_search_finds_the_constrained_optimum_and_never_crowns_an_infeasible_trial(seed):
    trials = search(BOUNDS, synthetic, 60, LIMITS, seed)
    (top,) = best(trials)
    assert top.feasible and top.evaluation.objective >= 1.15
    assert abs(top.evaluation.pay_change) <= 0.2 and top.evaluation.loser_share <= 0.5
    # trials better than the best are all infeasible
    better = [t for t in trials if t.evaluation.objective > top.evaluation.objective]
    assert better and not any(t.feasible for t in better)


def test_the_same_seed_gives_the_same_trials():
    a = search(BOUNDS, synthetic, 15, LIMITS, 3)
    b = search(BOUNDS, synthetic, 15, LIMITS, 3)
    assert [t.params for t in a] == [t.params for t in b]
    assert [t.params for t in a] != [t.params for t in search(BOUNDS, synthetic, 15, LIMITS, 4)]


def test_no_feasible_trial_means_no_best():
    trials = search(BOUNDS, synthetic, 8, Limits(0.0, 0.0, 0.1), 1)
    assert best(trials) == [] and not any(t.feasible for t in trials)


def test_bounds_default_to_twice_the_template_and_refuse_what_is_not_a_coefficient():
    sc = tiny_scenario()
    names = {b.name: (b.low, b.high) for b in default_bounds(sc, "outcome_weighted", {})}
    ow = sc.schemes["outcome_weighted"]
    assert names["base_per_day"] == (0.0, 2 * ow.base_per_day)
    assert "clawback_per_downtime_hour" not in names  # zero: not searched unless given
    with pytest.raises(OptimiseError, match="not a coefficient"):
        default_bounds(sc, "outcome_weighted", {"per_visit": (0.0, 1.0)})
    with pytest.raises(OptimiseError, match="not a scheme type"):
        default_bounds(sc, "bonus", {})
    with pytest.raises(OptimiseError, match="low < high"):
        default_bounds(sc, "outcome_weighted", {"base_per_day": (5.0, 1.0)})


def test_an_optimisation_of_the_tiny_scenario_writes_its_files_and_resumes(tmp_path):
    sc = tiny_scenario()
    limits = Limits(0.5, 1.0, 0.1)  # loose: most trials feasible
    bounds = {"base_per_day": (100.0, 250.0), "per_first_time_fix": (0.0, 60.0)}
    out = run_optimise(sc, tmp_path / "o", "outcome_weighted", "margin", limits, trials=4,
                       replications=2, bounds=bounds, top=2, delta=1e9)  # fmt: skip
    trials = pd.read_csv(tmp_path / "o" / "trials.csv")
    assert len(trials) == 4 and {"base_per_day", "per_first_time_fix"} <= set(trials.columns)
    info = out.manifest["optimise"]
    assert info["feasible_trials"] == int(trials["feasible"].sum())
    assert (tmp_path / "o" / "select" / "select.csv").exists() == bool(info["top"])
    for row in info["top"]:
        assert row["feasible"] and abs(row["pay_change"]) <= 0.5
    again = run_optimise(sc, tmp_path / "o", "outcome_weighted", "margin", limits, trials=4,
                         replications=2, bounds=bounds, top=2, delta=1e9,
                         execution=Execution(resume=True))  # fmt: skip
    assert [t.params for t in again.trials] == [t.params for t in out.trials]
    assert [t.evaluation for t in again.trials] == [t.evaluation for t in out.trials]


def test_the_command_line_refuses_bad_input(tmp_path):
    runner = CliRunner()
    path = tmp_path / "tiny.yaml"
    path.write_text(json.dumps(tiny_dict()))
    for args, says in (
        (["--family", "bonus"], "--family: 'bonus' is not a scheme type"),
        (["--family", "outcome_weighted", "--bound", "per_visit=0:1"], "--bound: 'per_visit'"),
        (["--family", "outcome_weighted", "--bound", "base_per_day=a:b"], "expected NAME=LOW:HIGH"),
        (["--family", "outcome_weighted", "--objective", "profit"], "--objective: 'profit'"),
        (["--family", "outcome_weighted", "--max-losers", "2"], "--max-losers"),
        (["--family", "outcome_weighted", "--max-losers", "-0.1"], "--max-losers"),
        (["--family", "outcome_weighted", "--max-pay-change", "150"], "--max-pay-change"),
        (["--family", "outcome_weighted", "--loss-threshold", "-5"], "--loss-threshold"),
        (["--family", "outcome_weighted", "--trials", "0"], "--trials"),
        (["--family", "outcome_weighted", "--reps", "1"], "--reps"),
        (["--family", "outcome_weighted", "--bound", "base_per_day=5:1"], "low < high"),
        (["--family", "outcome_weighted", "--delta", "-1"], "--delta"),
    ):
        res = runner.invoke(main, ["optimise", str(path), "--out", str(tmp_path / "x"), *args])
        assert res.exit_code == 2, res.output
        assert says in res.output, res.output
        assert not (tmp_path / "x").exists()


def test_the_report_recommends_from_an_optimisation(tmp_path):
    from sim.experiment.runner import run_scenario
    from sim.report.build import build_document
    from sim.store.results import load_results

    sc = tiny_scenario()
    run_scenario(sc, tmp_path / "r", replications=2, execution=Execution(seed=5))
    run_optimise(sc, tmp_path / "r" / "optimise", "outcome_weighted", "margin",
                 Limits(0.5, 1.0, 0.1), trials=3, replications=2,
                 bounds={"base_per_day": (100.0, 250.0)}, top=1, delta=1e9)  # fmt: skip
    first = build_document(load_results(tmp_path / "r")).sections[0]
    text = " ".join(str(getattr(b, "text", "")) for b in first.blocks)
    assert first.title == "Recommendation"
    assert "An optimisation of the outcome_weighted family searched 3 formulas" in text
    # the optimisation's own section (sim.report.optimise; not in the report yet)
    from sim.report.optimise import optimise_section

    res = load_results(tmp_path / "r")
    section = optimise_section(res, dpi=40)
    assert section is not None and section.title == "Optimised pay formula"
    kinds = [type(b).__name__ for b in section.blocks]
    assert kinds.count("Table") == 2 and "FigureBlock" in kinds
    lead = section.blocks[0].text  # type: ignore[union-attr]
    assert "outcome_weighted family" in lead and "3 formulas were tried" in lead
    (tmp_path / "r" / "optimise" / "manifest.json").write_text("{}")
    broken = optimise_section(res)
    assert broken is not None and "cannot be read" in broken.blocks[0].text  # type: ignore[union-attr]
    from sim.store.optimise import find_optimisation

    assert find_optimisation(tmp_path) is None  # no optimisation: no section


def test_an_interrupted_optimisation_resumes_on_more_workers_to_the_same_trials(tmp_path):
    """Trials kept as parts are read, not run again; the rest are proposed as before, so
    the search ends where an uninterrupted one on one worker ends."""
    from sim.store.parts import Parts

    sc = tiny_scenario()
    args = (sc, tmp_path / "o", "outcome_weighted", "margin", Limits(0.5, 1.0, 0.1))
    kw = {"trials": 3, "replications": 2, "bounds": {"base_per_day": (100.0, 250.0)},
          "top": 1, "delta": 1e9}  # fmt: skip
    whole = run_optimise(*args, **kw)
    # an interruption after two trials: no third trial, no outputs
    parts = Parts(tmp_path / "o", ".json")
    parts.path("trial-00002").unlink()
    for name in ("manifest.json", "trials.csv", "optimised.yaml"):
        (tmp_path / "o" / name).unlink(missing_ok=True)
    kept = {k: parts.path(k).stat().st_mtime_ns for k in ("trial-00000", "trial-00001")}
    again = run_optimise(*args, **kw, execution=Execution(workers=2, resume=True))
    assert [t.params for t in again.trials] == [t.params for t in whole.trials]
    assert [t.evaluation for t in again.trials] == [t.evaluation for t in whole.trials]
    assert {k: parts.path(k).stat().st_mtime_ns for k in kept} == kept
    assert parts.has("trial-00002") and (tmp_path / "o" / "trials.csv").exists()
    assert again.manifest["optimise"]["winner"] == whole.manifest["optimise"]["winner"]
