"""`techsim sensitivity`: Sobol and Morris indices against known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from sim.cli.main import main
from sim.sweep.sensitivity import morris_indices, sobol_indices

SMALL = {"customers": {"count": 200}, "horizon_days": 45, "warmup_days": 10}


def test_sobol_ishigami_known_indices():
    """The Ishigami function (a=7, b=0.1): exact S1 = (0.314, 0.442, 0), ST = (0.558, 0.442,
    0.244); x3 has no first-order effect."""
    from SALib.sample import sobol
    from SALib.test_functions import Ishigami

    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
    x = sobol.sample(problem, 1024, calc_second_order=False, seed=1)
    idx = sobol_indices(problem, Ishigami.evaluate(x), seed=1).set_index("parameter")
    np.testing.assert_allclose(idx["S1"], [0.314, 0.442, 0.0], atol=0.04)
    np.testing.assert_allclose(idx["ST"], [0.558, 0.442, 0.244], atol=0.04)
    assert (idx["S1_conf"] > 0).all() and (idx["ST_conf"] < 0.1).all()


def test_morris_linear_function():
    """y = 3 x1 + 0 x2 on [0, 1]^2: mu* = 3 for x1, exactly 0 for x2; no interactions."""
    from SALib.sample import morris

    problem = {"num_vars": 2, "names": ["a", "b"], "bounds": [[0, 1], [0, 1]]}
    x = morris.sample(problem, 10, num_levels=4, seed=2)
    idx = morris_indices(problem, x, 3 * x[:, 0], seed=2).set_index("parameter")
    assert idx.loc["a", "mu_star"] == pytest.approx(3.0)
    assert idx.loc["b", "mu_star"] == 0.0
    assert idx["sigma"].max() == pytest.approx(0.0, abs=1e-12)


@pytest.fixture(scope="module")
def sobol_sweep(make_tiny_dict, tmp_path_factory):
    """A sobol sweep of a parameter that drives first-time fix (skill effect) and one that
    cannot touch it (the relational detractor share, which only moves relational NPS)."""
    d = tmp_path_factory.mktemp("sobol")
    scen = d / "s.yaml"
    # 90 days: enough judged first visits that FTF is a smooth function of the skill effect
    # (with 45 days it moves in steps of ~1/8 and the N = 8 Sobol estimate is mostly noise)
    small = {**SMALL, "horizon_days": 90}
    scen.write_text(yaml.safe_dump(make_tiny_dict(small), sort_keys=False), encoding="utf-8")
    out = d / "out"
    r = CliRunner().invoke(
        main,
        [
            "sweep",
            str(scen),
            "--design",
            "sobol",
            "--samples",
            "8",
            "--reps",
            "2",
            "-p",
            "quality.skill_effect=0.0:0.8",
            "-p",
            "nps.relational_detractor=0.02:0.4",
            "--workers",
            "1",
            "--out",
            str(out),
            "-q",
        ],
    )
    assert r.exit_code == 0, r.output
    return out


def test_sobol_sweep_no_effect_parameter_gets_zero(sobol_sweep):
    r = CliRunner().invoke(
        main,
        [
            "sensitivity",
            str(sobol_sweep),
            "--kpi",
            "first_time_fix_rate",
            "--kpi",
            "relational_nps",
            "--scheme",
            "jobs_per_day",
        ],
    )
    assert r.exit_code == 0, r.output
    assert "Sobol indices, jobs_per_day" in r.output
    s = pd.read_csv(sobol_sweep / "sensitivity.csv")
    assert list(s.columns)[:8] == [
        "scheme",
        "kpi",
        "parameter",
        "method",
        "S1",
        "S1_conf",
        "ST",
        "ST_conf",
    ]
    assert set(s["method"]) == {"sobol"} and set(s["scheme"]) == {"jobs_per_day"}
    ftf = s[s["kpi"] == "first_time_fix_rate"].set_index("parameter")
    # common random numbers: FTF is exactly the same whatever the detractor share
    assert abs(ftf.loc["nps.relational_detractor", "ST"]) < 1e-9
    assert abs(ftf.loc["nps.relational_detractor", "S1"]) < 1e-9
    # the one parameter that moves FTF (an estimate from 8 samples: noisy, well above 0)
    assert ftf.loc["quality.skill_effect", "ST"] > 0.3
    rel = s[s["kpi"] == "relational_nps"].set_index("parameter")
    assert rel.loc["nps.relational_detractor", "ST"] > 0.1


def test_diff_measure_and_all_schemes(sobol_sweep, tmp_path):
    out = tmp_path / "sens.csv"
    r = CliRunner().invoke(
        main, ["sensitivity", str(sobol_sweep), "--diff", "--out", str(out), "-q"]
    )
    assert r.exit_code == 0, r.output
    s = pd.read_csv(out)
    # the baseline's difference against itself is not analysed
    assert set(s["scheme"]) == {"outcome_weighted", "hybrid", "hourly"}
    assert set(s["measure"]) == {"diff"}
    assert len(s) == 3 * 6 * 2


def test_morris_sweep_columns(make_tiny_dict, tmp_path):
    scen = tmp_path / "s.yaml"
    scen.write_text(yaml.safe_dump(make_tiny_dict(SMALL), sort_keys=False), encoding="utf-8")
    out = tmp_path / "m"
    r = CliRunner().invoke(
        main,
        [
            "sweep",
            str(scen),
            "--design",
            "morris",
            "--samples",
            "3",
            "--reps",
            "2",
            "-p",
            "quality.skill_effect=0.0:0.8",
            "-p",
            "nps.relational_detractor=0.02:0.4",
            "--workers",
            "1",
            "--out",
            str(out),
            "-q",
        ],
    )
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(
        main,
        [
            "sensitivity",
            str(out),
            "--kpi",
            "first_time_fix_rate",
            "--kpi",
            "nps",
            "--scheme",
            "jobs_per_day",
        ],
    )
    assert r.exit_code == 0, r.output
    s = pd.read_csv(out / "sensitivity.csv")
    assert list(s.columns)[:7] == [
        "scheme",
        "kpi",
        "parameter",
        "method",
        "mu_star",
        "mu_star_conf",
        "sigma",
    ]
    idx = s[s["kpi"] == "first_time_fix_rate"].set_index("parameter")
    assert idx.loc["nps.relational_detractor", "mu_star"] == 0.0
    assert idx.loc["quality.skill_effect", "mu_star"] > 0


def test_sensitivity_bad_input(sobol_sweep, make_tiny_dict, tmp_path):
    r = CliRunner().invoke(main, ["sensitivity", str(tmp_path)])
    assert r.exit_code == 2 and "no manifest.json" in r.output
    r = CliRunner().invoke(main, ["sensitivity", str(sobol_sweep), "--kpi", "happiness"])
    assert r.exit_code == 2 and "--kpi happiness: not a KPI" in r.output
    r = CliRunner().invoke(main, ["sensitivity", str(sobol_sweep), "--scheme", "piecework"])
    assert r.exit_code == 2 and "--scheme piecework" in r.output
    scen = tmp_path / "s.yaml"
    scen.write_text(yaml.safe_dump(make_tiny_dict(SMALL), sort_keys=False), encoding="utf-8")
    grid = tmp_path / "grid"
    assert (
        CliRunner()
        .invoke(
            main,
            [
                "sweep",
                str(scen),
                "-p",
                "schemes.hybrid.weight=0,1",
                "--reps",
                "2",
                "--workers",
                "1",
                "--out",
                str(grid),
                "-q",
            ],
        )
        .exit_code
        == 0
    )
    r = CliRunner().invoke(main, ["sensitivity", str(grid)])
    assert r.exit_code == 2 and "--design sobol or --design morris" in r.output
