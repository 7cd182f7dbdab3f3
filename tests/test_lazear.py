"""Validation item 1 (docs/validation.md): Lazear's Safelite result on the bundled
`safelite` scenario. Moving installers from hourly pay to a piece rate (a redo unpaid)
raised output per worker by about 44%, about half from the same workers working harder
and half from who stayed and who joined (Lazear 2000).

Three runs of the scenario's first six replications (its seed, its full three years):
- with sorting, as bundled: the total gain;
- attrition off, the same worlds: effort alone, on the workforce both schemes start with;
- attrition off with the workforce hourly pay kept in the measured year (the mean and spread
  of its skill, from the first run): the effort of the incumbents, as Lazear's worker fixed
  effects measure it; the rest of the total is sorting (composition).
The full 10 replications are in docs/validation.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import pytest
from conftest import bundled_dict

from sim.config.load import scenario_from_dict
from sim.experiment.tasks import ExperimentResult, run_experiment
from sim.metrics.stats import mean_ci

REPS = 6
KPI = "resolved_per_tech_day"


def _run(attrition: bool, skill: tuple[float, float] | None = None) -> ExperimentResult:
    d: dict[str, Any] = bundled_dict("safelite")
    d["attrition"]["enabled"] = attrition
    if skill is not None:
        d["workforce"]["skill_mean"], d["workforce"]["skill_sd"] = skill
    return run_experiment(scenario_from_dict(d), replications=REPS, workers=2)


def _incumbents(result: ExperimentResult) -> tuple[float, float]:
    """Mean and SD of the skill of hourly pay's installers in post in the measured year."""
    b = result.behaviour
    assert b is not None
    warmup_weeks = result.scenario.warmup_days / 7
    kept = b[(b["scheme"] == "hourly") & (b["week"] >= warmup_weeks) & (b["present"] > 0)]
    return float(kept["skill"].mean()), float(kept["skill"].std())


@dataclass(frozen=True)
class Safelite:
    on: pd.DataFrame  # runs with sorting, indexed by (scheme, replication)
    off: pd.DataFrame  # attrition off
    incumbents: pd.DataFrame  # attrition off, hourly pay's workforce
    skill: tuple[float, float]  # that workforce's skill: mean, SD

    def gain(self, runs: pd.DataFrame, kpi: str = KPI) -> pd.Series:
        """Piece rate minus hourly, per replication."""
        return runs.loc["piece_rate"][kpi] - runs.loc["hourly"][kpi]


@pytest.fixture(scope="module")
def safelite() -> Safelite:
    on = _run(True)
    skill = _incumbents(on)
    runs = [
        r.runs.set_index(["scheme", "replication"]) for r in (on, _run(False), _run(False, skill))
    ]
    return Safelite(*runs, skill=skill)


def test_the_piece_rate_raises_output_by_20_to_44_percent(safelite: Safelite) -> None:
    hourly = safelite.on.loc["hourly"][KPI].mean()
    gain = safelite.gain(safelite.on).mean() / hourly
    assert 0.20 <= gain <= 0.44, gain
    # piece-rate installers work faster; hourly ones at the supervised standard
    pace = safelite.on.groupby(level="scheme")["mean_pace"].mean()
    assert pace["hourly"] == 1.0 and pace["piece_rate"] > 1.1, pace
    # the piece rate is calibrated to Safelite's pay rise (about 10%; the scenario's comment)
    pay = safelite.off.groupby(level="scheme")["tech_pay_per_day"].mean()
    assert 0.05 <= pay["piece_rate"] / pay["hourly"] - 1 <= 0.15, pay


def test_sorting_adds_to_the_effort_of_the_same_workers(safelite: Safelite) -> None:
    # Lazear's decomposition: the piece rate's own workforce against hourly pay's, both
    # under the piece rate; paired by replication, its 95% CI is above zero
    total = safelite.gain(safelite.on)
    composition = safelite.on.loc["piece_rate"][KPI] - safelite.incumbents.loc["piece_rate"][KPI]
    _, _, low, _ = mean_ci(composition.to_numpy())
    assert low > 0.0, composition
    share = composition.mean() / total.mean()
    assert 0.20 <= share <= 0.60, share  # Lazear: 35-46%; measured ~30%
    # hourly pay's incumbents, run under hourly pay, produce what hourly pay does with
    # sorting: the workforce is described well enough by the mean and spread of its skill
    incumbents = safelite.incumbents.loc["hourly"][KPI].mean()
    assert incumbents == pytest.approx(safelite.on.loc["hourly"][KPI].mean(), rel=0.01)
    # why: hourly pay loses its skilled installers to the outside market, the piece rate,
    # which pays skill through pace, keeps them
    skill = safelite.on.groupby(level="scheme")["mean_skill_end"].mean()
    start = safelite.off.groupby(level="scheme")["mean_skill_end"].mean()
    assert skill["hourly"] < start["hourly"] - 0.05, (skill, start)
    assert skill["piece_rate"] > skill["hourly"] + 0.05, skill


def test_effort_alone_is_most_of_the_gain(safelite: Safelite) -> None:
    # the split by attrition off: effort on the workforce both schemes start with, the
    # market's, which is more skilled than hourly pay's incumbents and speeds up more
    total, effort = safelite.gain(safelite.on), safelite.gain(safelite.off)
    incumbents = safelite.gain(safelite.incumbents)
    assert effort.mean() / safelite.off.loc["hourly"][KPI].mean() >= 0.15, effort
    assert incumbents.mean() < effort.mean() - 0.1, (incumbents, effort)
    # the rest, sorting net of turnover, is small: not significantly negative (measured
    # +2 points, not significantly positive either; docs/validation.md)
    _, _, _, high = mean_ci((total - effort).to_numpy())
    assert high > 0.0, total - effort
