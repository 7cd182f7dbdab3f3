"""Budget-neutral schemes: variable pay scaled so mean pay matches the baseline's."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import tiny_dict, write_yaml

from sim.cli.main import main
from sim.config.load import ScenarioError, scenario_from_dict
from sim.experiment.budget import BudgetError, find_factors, neutralise
from sim.experiment.tasks import run_experiment
from sim.model.replication import scheme_formula
from sim.pay.formula import PayFormula, formula_for, scaled

SMALL = {"horizon_days": 100, "warmup_days": 20, "budget_search": {"replications": 2}}


def _pay(runs: pd.DataFrame) -> pd.Series:
    return runs.groupby("scheme")["tech_pay_per_day"].mean()


def test_budget_neutral_pay_lands_within_one_percent_of_the_baseline():
    sc = scenario_from_dict(tiny_dict(SMALL))
    before = _pay(run_experiment(sc, replications=2).runs)
    assert abs(before["outcome_weighted"] / before["jobs_per_day"] - 1) > 0.03  # work to do
    neutral, found = neutralise(sc)
    assert set(found.factors) == {"outcome_weighted", "hybrid", "hourly"}
    assert neutral.pay_scale == found.factors
    pay = _pay(run_experiment(neutral, replications=2).runs)
    for name in found.factors:
        assert pay[name] / pay["jobs_per_day"] == pytest.approx(1.0, abs=0.01), name
        assert found.pay_per_day[name] / found.target == pytest.approx(1.0, abs=0.002)
    # the baseline is untouched, and so are the fixed parts of the scaled formulas
    assert pay["jobs_per_day"] == pytest.approx(before["jobs_per_day"])
    f = scheme_formula(neutral, "outcome_weighted")
    assert f.days == formula_for(sc, "outcome_weighted").days
    assert f.first_time_fixes == pytest.approx(40 * found.factors["outcome_weighted"])


def test_a_scheme_with_no_variable_pay_is_scaled_whole():
    f = scaled(PayFormula(hours=30.0), 0.8)
    assert f == PayFormula(hours=24.0)
    g = scaled(PayFormula(days=100.0, visits=45.0, callbacks=-10.0), 2.0)
    assert g == PayFormula(days=100.0, visits=90.0, callbacks=-20.0)


def test_a_scheme_whose_fixed_pay_alone_exceeds_the_baseline_has_no_factor():
    d = tiny_dict(SMALL)
    d["schemes"] = {
        "jobs_per_day": d["schemes"]["jobs_per_day"],
        "rich": {"type": "custom", "base_per_day": 900, "per_visit": 5},
    }
    with pytest.raises(BudgetError, match="fixed pay alone exceeds it"):
        find_factors(scenario_from_dict(d))


def test_pay_scale_must_name_schemes():
    with pytest.raises(ScenarioError, match="pay_scale: 'nope' is not one of the schemes"):
        scenario_from_dict(tiny_dict({"pay_scale": {"nope": 1.1}}), "x.yaml")


def test_cli_prints_the_factors_and_stores_them_in_the_manifest(tmp_path):
    d = tiny_dict(SMALL)
    d["schemes"] = {k: d["schemes"][k] for k in ("jobs_per_day", "outcome_weighted")}
    path = write_yaml(tmp_path / "s.yaml", d)
    out = tmp_path / "out"
    r = CliRunner().invoke(
        main,
        [
            "run",
            str(path),
            "--reps",
            "2",
            "--out",
            str(out),
            "--workers",
            "1",
            "--budget-neutral",
            "-q",
        ],
    )
    assert r.exit_code == 0, r.output
    man = json.loads((out / "manifest.json").read_text())
    factor = man["budget_neutral"]["factors"]["outcome_weighted"]
    assert f"outcome_weighted x{factor:.4f}" in r.output
    assert man["scenario"]["pay_scale"]["outcome_weighted"] == pytest.approx(factor)
    pay = _pay(pd.read_csv(out / "runs.csv"))
    assert pay["outcome_weighted"] / pay["jobs_per_day"] == pytest.approx(1.0, abs=0.01)
    # the scenario option does the same
    d["budget_neutral"] = True
    path2 = write_yaml(tmp_path / "s2.yaml", d)
    r2 = CliRunner().invoke(
        main,
        ["run", str(path2), "--reps", "2", "--out", str(tmp_path / "out2"), "--workers", "1", "-q"],
    )
    assert r2.exit_code == 0, r2.output
    man2 = json.loads((tmp_path / "out2" / "manifest.json").read_text())
    assert man2["budget_neutral"]["factors"]["outcome_weighted"] == pytest.approx(factor)


def test_cli_reports_an_impossible_budget_match_in_one_line(tmp_path):
    d = tiny_dict(SMALL)
    d["schemes"] = {
        "jobs_per_day": d["schemes"]["jobs_per_day"],
        "rich": {"type": "custom", "base_per_day": 900, "per_visit": 5},
    }
    path = write_yaml(tmp_path / "s.yaml", d)
    r = CliRunner().invoke(
        main,
        ["run", str(path), "--reps", "2", "--out", str(tmp_path / "out"), "--budget-neutral", "-q"],
    )
    assert r.exit_code == 2
    assert "budget_neutral" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "out").exists()
