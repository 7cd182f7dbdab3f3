"""Schema pins: users' notebooks depend on these names and orders, so a change must be
deliberate (update the pin here, and say why in the commit)."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import get_args, get_type_hints

import numpy as np
import pandas as pd
import pytest
from conftest import tiny_scenario

from sim.experiment.runner import run_scenario
from sim.experiment.tasks import RUN_ID_COLUMNS, run_experiment
from sim.metrics.kpis import KPI_COLUMNS, TECH_COLUMNS, WEEK_COLUMNS
from sim.metrics.stats import SUMMARY_COLUMNS, summarise
from sim.model.simulation import simulate
from sim.pay.formula import PAY_TERMS
from sim.world.draws import build_world
from sim.world.records import (
    CAUSES,
    OUTCOMES,
    PROBLEM_CLASSES,
    RENEWAL_FIELDS,
    VISIT_FIELDS,
    WEEK_FIELDS,
    Renewal,
    RenewalRow,
    Visit,
    VisitRow,
    WeekRow,
    WeekSnapshot,
)

#: The KPI names the issue requires, exactly.
REQUIRED_KPIS = (
    "first_time_fix_rate",
    "repeat_visit_rate",
    "callback_rate",
    "retention_rate",
    "nps",
    "sla_compliance",
    "jobs_per_tech_day",
    "utilisation",
    "tech_pay_per_day",
    "labour_cost_per_job",
    "revenue",
    "margin",
)

PINNED_KPI_COLUMNS = (
    "first_time_fix_rate",
    "repeat_visit_rate",
    "callback_rate",
    "retention_rate",
    "nps",
    "sla_compliance",
    "jobs_per_tech_day",
    "utilisation",
    "tech_pay_per_day",
    "labour_cost_per_job",
    "revenue",
    "margin",
    "margin_pct",
    "relational_nps",
    "visits",
    "problems_resolved",
    "mean_response_hours",
    "mean_wait_hours",
    "mean_queue_length",
    "arrival_rate_per_hour",
    "total_pay",
    "visit_costs",
    "churned_customers",
    "lost_annual_value",
    "mean_thoroughness",
    "tech_quits",
    "vacancy_days",
    "overtime_hours",
    "loaded_cost_per_visit",
    "labour_cost",
    "contract_revenue",
    "tm_jobs",
    "tm_revenue",
    "planned_visits",
    "planned_on_time_rate",
    "new_accounts",
    "active_accounts_end",
    "downtime_hours_per_failure",
    "availability",
    "technicians_needed",
    "mean_pace",
    "resolved_per_tech_day",
    "referred_accounts",
    "weekend_visits",
    "weekend_response_hours",
    "repeat_cause_parts",
    "repeat_cause_skill",
    "repeat_cause_time",
    "repeat_cause_other",
    "hires",
    "mean_skill_end",
)

PINNED_VISIT_FIELDS = (
    "problem",
    "customer",
    "visit_no",
    "tech",
    "job_type",
    "t_failure",
    "t_ready",
    "t_start",
    "t_arrive",
    "t_done",
    "outcome",
    "late",
    "rushed",
    "survey",
    "caused_by",
    "is_callback",
    "next_ready",
    "thoroughness",
    "cause",
)

PINNED_SUMMARY_COLUMNS = (
    "scenario",
    "scheme",
    "kpi",
    "n",
    "mean",
    "sd",
    "ci_low",
    "ci_high",
    "baseline",
    "diff_mean",
    "diff_ci_low",
    "diff_ci_high",
    "diff_p_value",
)

PINNED_PAY_TERMS = (
    "days",
    "hours",
    "visits",
    "first_time_fixes",
    "repeat_visits",
    "callbacks",
    "promoters",
    "detractors",
    "downtime_hours",
    "retained_value",
)

PINNED_TECH_COLUMNS = (
    "tech",
    "skill",
    "thoroughness",
    "pace",
    "overtime_hours",
    "visits",
    "first_time_fixes",
    "repeat_visits",
    "callbacks",
    "promoters",
    "detractors",
    "downtime_hours",
    "retained_value",
    "pay",
    "pay_per_day",
    *tuple(f"pay_{t}" for t in PINNED_PAY_TERMS),
)

PINNED_WEEK_COLUMNS = ("week", "t", "active_customers", "churned", "backlog", "visits_done")


def test_required_kpis_present_with_exact_names_and_first():
    assert KPI_COLUMNS[: len(REQUIRED_KPIS)] == REQUIRED_KPIS


def test_kpi_columns_pinned():
    assert KPI_COLUMNS == PINNED_KPI_COLUMNS
    assert len(set(KPI_COLUMNS)) == len(KPI_COLUMNS)


def test_record_fields_pinned():
    assert VISIT_FIELDS == PINNED_VISIT_FIELDS
    assert RENEWAL_FIELDS == (
        "customer",
        "t",
        "renewed",
        "first_time",
        "late",
        "after_return",
        "callback",
        "unresolved",
        "relational",
        "annual_value",
    )
    assert WEEK_FIELDS == PINNED_WEEK_COLUMNS
    assert OUTCOMES == ("fixed", "part_missing", "not_fixed", "looked_fixed", "maintained")
    assert CAUSES == ("parts", "skill", "time", "other")
    assert PROBLEM_CLASSES == ("first_time", "late", "after_return", "callback", "unresolved")


def test_record_rows_have_the_types_of_their_schemas(make_tiny):
    for schema, row in ((Visit, VisitRow), (Renewal, RenewalRow), (WeekSnapshot, WeekRow)):
        assert tuple(get_type_hints(schema).values()) == get_args(row)
    # and the simulation emits rows of these lengths
    sc = make_tiny()
    out = simulate(sc, build_world(sc, sc.seed, 0), [1.0] * sc.workforce.technicians)
    for rows, fields in ((out.visits, VISIT_FIELDS), (out.renewals, RENEWAL_FIELDS)):
        assert rows and all(type(r) is tuple and len(r) == len(fields) for r in rows)
    assert all(len(w) == len(WEEK_FIELDS) for w in out.weeks)
    assert Visit._make(out.visits[0]).visit_no == out.visits[0][VISIT_FIELDS.index("visit_no")]


def test_summary_and_pay_columns_pinned():
    assert SUMMARY_COLUMNS == PINNED_SUMMARY_COLUMNS
    assert PAY_TERMS == PINNED_PAY_TERMS
    assert TECH_COLUMNS == PINNED_TECH_COLUMNS
    assert WEEK_COLUMNS == PINNED_WEEK_COLUMNS
    assert RUN_ID_COLUMNS == ("scenario", "scheme", "replication", "seed")


def test_tables_follow_the_pins(tmp_path):
    sc = tiny_scenario()
    res = run_experiment(sc, replications=2)
    assert list(res.runs.columns) == list(RUN_ID_COLUMNS) + list(PINNED_KPI_COLUMNS)
    assert list(res.technicians.columns) == list(RUN_ID_COLUMNS) + list(PINNED_TECH_COLUMNS)
    assert list(res.weeks.columns) == list(RUN_ID_COLUMNS) + list(PINNED_WEEK_COLUMNS)
    # and the files on disk: runs.csv starts scenario, scheme, replication, seed, then KPIs
    run_scenario(sc, tmp_path, replications=2)
    runs = pd.read_csv(tmp_path / "runs.csv")
    assert list(runs.columns) == list(RUN_ID_COLUMNS) + list(PINNED_KPI_COLUMNS)
    assert list(pd.read_csv(tmp_path / "summary.csv").columns) == list(PINNED_SUMMARY_COLUMNS)
    techs = pd.read_csv(tmp_path / "technicians.csv")
    assert list(techs.columns) == list(RUN_ID_COLUMNS) + list(PINNED_TECH_COLUMNS)
    weeks = pd.read_csv(tmp_path / "timeseries.csv")
    assert list(weeks.columns) == list(RUN_ID_COLUMNS) + list(PINNED_WEEK_COLUMNS)


# --------------------------------------------------------------------------- golden summary
GOLDEN = Path(__file__).resolve().parent / "golden" / "tiny_summary.csv"
GOLDEN_REPS = 2


def _golden_table() -> pd.DataFrame:
    """Mean of every KPI per scheme for the tiny scenario, its seed, 2 replications."""
    sc = tiny_scenario()
    runs = run_experiment(sc, replications=GOLDEN_REPS).runs
    s = summarise(runs, list(KPI_COLUMNS), sc.baseline_scheme)
    return s[["scheme", "kpi", "mean", "diff_mean"]].reset_index(drop=True)


def test_golden_summary_of_the_tiny_scenario():
    """The tiny scenario's summary is committed: a change that moves it must say why.

    To accept a deliberate change, regenerate the file and commit it with the reason:
        TECHSIM_UPDATE_GOLDEN=1 python -m pytest tests/test_schema.py -k golden
    """
    got = _golden_table()
    if os.environ.get("TECHSIM_UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        got.to_csv(GOLDEN, index=False, float_format="%.12g")
    want = pd.read_csv(GOLDEN)
    assert list(got["scheme"]) == list(want["scheme"])
    assert list(got["kpi"]) == list(want["kpi"])
    for col in ("mean", "diff_mean"):
        a, b = got[col].to_numpy(dtype=float), want[col].to_numpy(dtype=float)
        moved = ~np.isclose(a, b, rtol=1e-7, atol=1e-9, equal_nan=True)
        assert not moved.any(), (
            "the tiny scenario's summary moved:\n"
            + got.loc[moved, ["scheme", "kpi"]].assign(now=a[moved], golden=b[moved]).to_string()
        )


def test_record_log_keeps_records_compactly_and_gives_them_back():
    """`RecordLog` (Output.visits): tuples appended, compacted into float columns, read back
    as the same tuples (int fields as ints), by index, slice, iteration, columns, pickle."""
    import pickle

    from sim.world.records import visit_log

    log = visit_log()
    rows = [
        (i, -1, 1, 2, 0, 1.5 * i, 2.0, 3.0, 4.0, 5.0, 0, 0, 0, -1, -1, 0, math.inf, 0.9, -1)
        for i in range(10)
    ]
    for r in rows[:6]:
        log.append(r)
    log.compact()
    for r in rows[6:]:
        log.append(r)
    assert len(log) == 10 and list(log) == rows and log == rows
    assert log[3] == rows[3] and log[8] == rows[8] and log[-1] == rows[-1]
    assert log[2:9] == rows[2:9] and log[::3] == rows[::3]
    assert type(log[3][0]) is int and type(log[3][5]) is float
    assert list(log.columns(7)["problem"]) == [7.0, 8.0, 9.0]
    with pytest.raises(ValueError):
        log.columns()["t_done"][0] = 1.0  # read-only: readers cannot change the records
    again = pickle.loads(pickle.dumps(log))
    again.append(rows[0])
    assert len(again) == 11 and len(log) == 10
