"""Validation items 3 and 5 (docs/validation.md) on the bundled default scenario, hvac:
why problems need a return visit under its baseline (jobs-per-day pay), against Aberdeen
Group's 2013 survey (parts 51%, inexperience 25%, ran out of time 13%), and first-time fix
against the published range (63-80% for the baseline, at most ~90% for the best scheme).

Four replications of the scenario's seed (the full run's 20 differ by about a point):
shares of problems, so each replication's thousands of problems make them precise.
"""

from __future__ import annotations

import pytest
from conftest import bundled_dict

from sim.config.load import scenario_from_dict
from sim.experiment.tasks import run_experiment

#: Aberdeen 2013 (as quoted by ServiceMax): why second and third visits happen.
ABERDEEN = {"parts": 0.51, "skill": 0.25, "time": 0.13}
TOLERANCE = 0.10  # issue 10: each share within 10 points


@pytest.fixture(scope="module")
def means():
    sc = scenario_from_dict(bundled_dict("hvac"))
    runs = run_experiment(sc, replications=4, workers=2).runs
    return sc.baseline_scheme, runs.groupby("scheme").mean(numeric_only=True)


def test_the_baselines_repeat_visit_causes_are_aberdeens(means):
    base, m = means
    got = {c: float(m.loc[base, f"repeat_cause_{c}"]) for c in ABERDEEN}
    for cause, want in ABERDEEN.items():
        assert abs(got[cause] - want) <= TOLERANCE, (cause, got)
    # and the schemes that do not pay per visit leave almost nothing to "ran out of time"
    assert float(m.loc["outcome_weighted", "repeat_cause_time"]) < 0.05


def test_first_time_fix_is_in_the_published_range(means):
    base, m = means
    ftf = m["first_time_fix_rate"]
    assert 0.63 <= ftf[base] <= 0.80, ftf[base]
    assert ftf.max() <= 0.90, ftf.max()
    assert ftf.idxmin() == base  # pay per visit rushes the most
