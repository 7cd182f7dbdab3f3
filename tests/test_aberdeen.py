"""Validation items 3 and 5 (docs/validation.md) on the bundled default scenario, hvac:
why problems need a return visit under its baseline (jobs-per-day pay), against Aberdeen
Group's 2013 survey (parts 51%, inexperience 25%, ran out of time 13%), and first-time fix
against the published range (63-80% for the baseline, at most ~90% for the best scheme).

The first 4 of the scenario's replications (its seed, its full horizon; ~15 s of one core).
The shares are over thousands of problems a replication, so 4 replications are close to the
full 20 of docs/model.md section 4: baseline parts / skill / time 50.8 / 28.5 / 20.7% here
against 50.5 / 28.3 / 21.2%, first-time fix 75.4% against 75.6%. The time share has the
smallest margin, 13% + 10 = 23%: its replication SD is 0.8 points, so a 4-replication mean
is within ~1 point (2 SE) of the 20-replication one; they clear the bound by 2.3 and 1.8.
The tolerance is the issue's 10 points, not widened for the noise.

It can fail: the time share needs the speed-quality curvature k above ~3.7 over 20
replications, ~3.6 on these 4 (hvac has 4; at k = 3.5 it is 23.8% here, at k = 3, the
reading of Hill & Beatty at standard care, 27.4% over 20), and the parts figure of hvac
(with the schema's parts on the van and k = 2, parts are 36.6%, time 36.8%): docs/model.md
section 4, "Against Aberdeen".
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
    runs = run_experiment(sc, replications=4, workers=1).runs
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
