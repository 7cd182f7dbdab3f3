"""The KPI catalogue: one entry per KPI column of runs.csv, and the selections drawn from it."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from sim.metrics import catalogue
from sim.metrics.catalogue import (
    EXTREMES_KPIS,
    KPI,
    KPIS,
    REPORT_KPIS,
    SUMMARY_KPIS,
    fmt,
)
from sim.metrics.kpis import KPI_COLUMNS
from sim.sweep.tables import extremes

SELECTIONS = {
    name: value
    for name, value in vars(catalogue).items()
    if name.endswith("_KPIS") and isinstance(value, tuple)
}


def test_every_kpi_column_has_one_entry_and_nothing_else():
    assert set(KPIS) == set(KPI_COLUMNS)
    assert len(KPIS) == len(KPI_COLUMNS)
    assert all(name == k.name for name, k in KPIS.items())


def test_labels_are_unique():
    labels = [k.label for k in KPIS.values()]
    assert len(set(labels)) == len(labels)


@pytest.mark.parametrize("name", sorted(SELECTIONS))
def test_selections_are_catalogue_entries_without_repeats(name):
    sel = SELECTIONS[name]
    assert sel and all(isinstance(k, KPI) and KPIS[k.name] is k for k in sel)
    assert len({k.name for k in sel}) == len(sel)


def test_the_executive_summary_talks_about_kpis_of_the_report_tables():
    assert set(SUMMARY_KPIS) <= set(REPORT_KPIS)


def test_best_and_worst_need_a_direction():
    assert all(k.better != "neither" for k in EXTREMES_KPIS)


def test_figure_units():
    ftf, nps, margin = KPIS["first_time_fix_rate"], KPIS["nps"], KPIS["margin"]
    assert (ftf.scale, ftf.axis_label, ftf.diff_label) == (100.0, "% of first visits", "pts")
    assert (nps.scale, nps.axis_label, nps.diff_label) == (1.0, "score, -100 to 100", "points")
    assert (margin.scale, margin.axis_label, margin.diff_label) == (
        1e-3,
        "$ thousand",
        "$ thousand",
    )
    assert KPIS["jobs_per_tech_day"].axis_label == "visits per day"
    assert KPIS["visit_costs"].axis_label == "$" and KPIS["callback_rate"].title == "Callbacks"


def test_plain_number_format():
    assert fmt(0.7123, "pct") == "71.2%"
    assert fmt(0.0904, "pct", signed=True) == "+9.04 pts"
    assert fmt(-30054.2, "money0") == "-30,054"
    assert fmt(1234.5, "money", signed=True) == "+1,234.50"
    assert fmt(0.583, "num2") == "0.58" and fmt(11.94, "num1") == "11.9"
    assert fmt(math.nan, "num1") == "n/a" and fmt(None, "pct") == "n/a"


def test_best_and_worst_points_follow_the_better_direction():
    summary = pd.DataFrame(
        {
            "point": [0, 1, 0, 1],
            "scheme": ["a"] * 4,
            "kpi": ["retention_rate"] * 2 + ["repeat_visit_rate"] * 2,
            "mean": [0.8, 0.9, 0.2, 0.1],
        }
    )
    ext = extremes(summary, (KPIS["retention_rate"], KPIS["repeat_visit_rate"]))
    best = ext[ext["which"] == "best"].set_index("kpi")["point"]
    assert best.to_dict() == {"retention_rate": 1, "repeat_visit_rate": 1}
    with pytest.raises(ValueError, match="utilisation: no better direction"):
        extremes(summary, (KPIS["utilisation"],))
