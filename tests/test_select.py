"""Selecting the best scheme with a guarantee: Kim and Nelson's KN (sim.metrics.ranking)
on synthetic problems with a known best, the objectives, and `techsim select`."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import tiny_dict, tiny_scenario

from sim.cli.main import main
from sim.config.load import scenario_from_dict
from sim.experiment.execution import Execution
from sim.experiment.objective import ObjectiveError, objective_for
from sim.experiment.select import run_selection
from sim.metrics.ranking import kn_constants, select, tied_with


def normal_problem(mu, sd, rho, seed):
    """A sampler of k normal systems with means mu, sds sd and correlation rho between
    systems in a replication (common random numbers): outputs fixed per replication."""
    rng = np.random.default_rng(seed)
    sd = np.asarray(sd, dtype=float)
    cov = rho * np.outer(sd, sd) + np.diag((1.0 - rho) * sd**2)
    chol = np.linalg.cholesky(cov)
    cache: dict[int, np.ndarray] = {}

    def sample(reps, systems):
        rows = []
        for r in reps:
            if r not in cache:
                cache[r] = np.asarray(mu, dtype=float) + chol @ rng.standard_normal(len(mu))
            rows.append(cache[r][systems])
        return np.array(rows)

    return sample


def test_constants_are_kim_and_nelsons():
    eta, h2 = kn_constants(2, 10, 0.05)
    assert eta == pytest.approx(0.5 * (0.1 ** (-2 / 9) - 1))
    assert h2 == pytest.approx(2 * eta * 9)
    # more systems, or more confidence, widen the continuation region
    assert kn_constants(5, 10, 0.05)[1] > h2 < kn_constants(2, 10, 0.01)[1]


@pytest.mark.parametrize(
    ("mu", "sd", "rho"),
    [
        ([1.0, 0.0, 0.0, 0.0, 0.0], [2.0] * 5, 0.0),  # slippage, independent
        ([1.0, 0.0, 0.0, 0.0, 0.0], [2.0] * 5, 0.8),  # common random numbers
        ([1.0, 0.0, -0.5, 0.0, -1.0], [1.0, 3.0, 2.0, 1.5, 2.5], 0.4),  # unequal variances
        ([0.0, 1.0, 0.0], [1.5, 1.5, 1.5], 0.5),  # the best is not the first
    ],
)
def test_probability_of_correct_selection_is_at_least_nominal(mu, sd, rho):
    """400 macro-replications, the best exactly delta = 1 better (the least favourable
    configuration): the share of correct selections is at least 1 - alpha = 0.95."""
    best = int(np.argmax(mu))
    names = [f"s{i}" for i in range(len(mu))]
    right = sum(
        select(names, normal_problem(mu, sd, rho, m), 1.0, 0.05, 10).winner == best
        for m in range(400)
    )
    assert right / 400 >= 0.95, right


def test_common_random_numbers_need_fewer_replications():
    used = {}
    for rho in (0.0, 0.8):
        used[rho] = np.mean(
            [
                sum(select(list("abcd"), normal_problem([1, 0, 0, 0], [2] * 4, rho, m), 1.0)
                    .replications.values())
                for m in range(100)
            ]
        )  # fmt: skip
    assert used[0.8] < 0.5 * used[0.0], used


def test_the_batch_size_does_not_change_the_selection():
    for m in range(30):
        a = select(list("abcde"), normal_problem([1, 0.2, 0, 0.5, 0], [2] * 5, 0.3, m), 1.0)
        b = select(
            list("abcde"), normal_problem([1, 0.2, 0, 0.5, 0], [2] * 5, 0.3, m), 1.0, batch=7
        )
        assert (a.winner, a.eliminated_at, a.eliminated_by, a.means) == (
            b.winner,
            b.eliminated_at,
            b.eliminated_by,
            b.means,
        )


def test_equal_systems_run_to_the_cap_and_say_so():
    sel = select(list("ab"), normal_problem([0, 0], [1, 1], 0.0, 3), 0.01, max_replications=40)
    assert sel.capped and sel.survivors == [0, 1] and sel.total_replications == 40
    assert sel.winner == max(sel.survivors, key=lambda i: sel.means[i])


def test_the_winner_is_the_best_mean_and_within_delta_are_tied():
    sel = select(list("abc"), normal_problem([1.0, 0.9, -5.0], [0.1] * 3, 0.0, 1), 0.5)
    assert sel.winner == 0 and tied_with(sel) == [1]
    assert sel.eliminated_at[2] == 10  # far worse: out after the first stage


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="delta"):
        select(list("ab"), normal_problem([0, 0], [1, 1], 0, 0), 0.0)
    with pytest.raises(ValueError, match="KN needs"):
        kn_constants(2, 1, 0.05)
    nan = lambda reps, systems: np.full((len(reps), len(systems)), math.nan)  # noqa: E731
    with pytest.raises(ValueError, match="not a number"):
        select(list("ab"), nan, 1.0)


# --------------------------------------------------------------------------- objectives
def test_objectives_follow_the_catalogue_or_the_scenario():
    sc = scenario_from_dict(
        tiny_dict({"objectives": {"value": {"margin": 1.0, "retention_rate": 2e6}}})
    )
    assert objective_for(sc, "margin").value({"margin": 5.0}) == 5.0
    assert objective_for(sc, "labour_cost").value({"labour_cost": 5.0}) == -5.0  # lower better
    v = objective_for(sc, "value")
    assert v.value({"margin": 10.0, "retention_rate": 0.5}) == 10.0 + 1e6
    with pytest.raises(ObjectiveError, match="neither a KPI"):
        objective_for(sc, "profit")
    with pytest.raises(ObjectiveError, match="neither better"):
        objective_for(sc, "mean_pace")
    bad = scenario_from_dict(tiny_dict({"objectives": {"v": {"profit": 1.0}}}))
    with pytest.raises(ObjectiveError, match=r"objectives\.v: 'profit'"):
        objective_for(bad, "v")


# --------------------------------------------------------------------------- in a run
def test_a_selection_on_the_tiny_scenario_writes_its_files_and_resumes(tmp_path):
    """Technician pay per day: jobs_per_day pays most by far in the tiny scenario."""
    sc = tiny_scenario({"objectives": {"pay": {"tech_pay_per_day": 1.0}}})
    out = run_selection(sc, tmp_path / "s", "pay", 5.0, n0=5, max_replications=30)
    sel = out.manifest["selection"]
    runs = pd.read_csv(tmp_path / "s" / "runs.csv")
    table = pd.read_csv(tmp_path / "s" / "select.csv")
    means = runs.groupby("scheme")["tech_pay_per_day"].mean()
    assert sel["winner"] == table.loc[table["winner"], "scheme"].item()
    # the winner has the best mean over the replications every survivor ran
    n = int(table["replications"].min())
    first = runs[runs["replication"] < n].groupby("scheme")["tech_pay_per_day"].mean()
    assert first.idxmax() == sel["winner"] or sel["winner"] in sel["tied"] or sel["capped"]
    assert set(runs["scheme"]) == set(sc.schemes) and len(means) == len(sc.schemes)
    assert "probability at least 95%" in sel["guarantee"]
    again = run_selection(
        sc, tmp_path / "s", "pay", 5.0, n0=5, max_replications=30, execution=Execution(resume=True)
    )
    assert again.manifest["selection"] == sel


def test_the_command_line_selects_and_refuses_bad_input(tmp_path):
    runner = CliRunner()
    path = tmp_path / "tiny.yaml"
    path.write_text(json.dumps(tiny_dict()))
    res = runner.invoke(
        main,
        ["select", str(path), "--objective", "first_time_fix_rate", "--delta", "5pts",
         "--n0", "5", "--max-reps", "12", "--workers", "1", "--out", str(tmp_path / "o")],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "selects it with probability at least 95%" in res.output
    man = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert man["kind"] == "select" and man["selection"]["delta"] == 0.05
    for args, says in (
        (["--objective", "profit", "--delta", "1"], "--objective: 'profit' is neither"),
        (["--objective", "margin", "--delta", "0"], "--delta: must be a positive"),
        (["--objective", "margin", "--delta", "1pts"], "--delta: 'pts' is for shares"),
        (["--objective", "margin", "--delta", "1", "--n0", "20", "--max-reps", "10"],
         "--max-reps: must be at least --n0"),
        (["--objective", "margin", "--delta", "1", "--reps", "3"], "No such option"),
    ):  # fmt: skip
        res = runner.invoke(main, ["select", str(path), "--out", str(tmp_path / "x"), *args])
        assert res.exit_code == 2, res.output
        assert says in res.output, res.output
        assert not (tmp_path / "x").exists()


def test_the_report_leads_with_the_recommendation(tmp_path):
    from sim.experiment.runner import run_scenario
    from sim.report.build import build_document
    from sim.store.results import load_results

    sc = tiny_scenario()
    run_scenario(sc, tmp_path / "r", replications=3, execution=Execution(seed=5))
    assert build_document(load_results(tmp_path / "r")).sections[0].id != "recommendation"
    out = run_selection(sc, tmp_path / "r" / "select", "margin", 1e9, n0=5, max_replications=5)
    doc = build_document(load_results(tmp_path / "r"))
    first = doc.sections[0]
    assert first.title == "Recommendation"
    text = " ".join(
        str(getattr(b, "text", "")) + " ".join(getattr(b, "items", ())) for b in first.blocks
    )
    win = out.manifest["selection"]["winner"]
    assert (
        f"Recommended: {win}" in text
        or f"Recommended: {load_results(tmp_path / 'r').label(win)}" in text
    )
    assert "probability at least 95%" in text
    if win != sc.baseline_scheme:
        assert "Margin:" in text and "Who loses" in text
