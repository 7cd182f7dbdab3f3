"""Calibration from a work-order export (docs/calibration.md).

The round trip: simulate a scenario with known parameters, export its visits as a work-order
export, calibrate from the export alone (the template supplies only what an export cannot
show), and recover the parameters within stated tolerances. Then the formats (CSV, OCEL,
Salesforce through its mapping) read to the same tables, bad exports fail in one line naming
file, row and column with exit 2 and nothing written, and no personal data reaches an output.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from sim.calibrate.build import calibrate
from sim.calibrate.export import ocel, workorders
from sim.calibrate.fit import fit
from sim.calibrate.infer import pace_step
from sim.calibrate.mapping import SALESFORCE
from sim.calibrate.read import read_export
from sim.cli.main import main
from sim.config.load import load_yaml, scenario_from_dict
from sim.model.replication import simulate_scheme, world_for

REPO = Path(__file__).resolve().parent.parent
CSV_DATE = "%Y-%m-%dT%H:%M:%S"


def _scenario_dict() -> dict:
    """hvac at 25 technicians, its book and billable calls in proportion, 245 days."""
    d = load_yaml(REPO / "scenarios" / "hvac.yaml")
    d["workforce"]["technicians"] = 25
    d["customers"]["count"] = 12500
    d["time_and_materials"]["jobs_per_day"] = 12.5
    d["horizon_days"] = 245
    d.pop("precision")
    return d


@pytest.fixture(scope="module")
def truth(tmp_path_factory):
    """The known scenario, one simulated replication of its jobs_per_day scheme, and its
    export written as CSV files and as an OCEL log."""
    folder = tmp_path_factory.mktemp("export")
    d = _scenario_dict()
    sc = scenario_from_dict(d)
    world = world_for(sc, sc.seed, 0)
    _f, out = simulate_scheme(sc, world, "jobs_per_day")
    visits, renewals = workorders(sc, world, out)
    visits.to_csv(folder / "orders.csv", index=False, date_format=CSV_DATE)
    renewals.to_csv(folder / "renewals.csv", index=False, date_format=CSV_DATE)
    (folder / "log.ocel.json").write_text(json.dumps(ocel(visits, renewals)))
    (folder / "template.yaml").write_text(yaml.safe_dump(d, sort_keys=False))
    return {"sc": sc, "out": out, "world": world, "folder": folder, "visits": visits}


@pytest.fixture(scope="module")
def calibrated(truth):
    ex = read_export(truth["folder"] / "orders.csv", renewals_path=truth["folder"] / "renewals.csv")
    cal = calibrate(ex, truth["sc"], "jobs_per_day")
    result = fit(cal, ex, reps=2)
    return ex, cal, result


def test_round_trip_recovers_the_parameters(truth, calibrated):
    """Stated tolerances (docs/calibration.md, "Round trip"): rates within 5%, shares within
    2 points, the scheme's mean pace within one step of its grid, fix probabilities within
    3 points (the crew's mean skill moves them: skill_mean is not identified)."""
    sc, out = truth["sc"], truth["out"]
    _ex, cal, _fit = calibrated
    got = cal.scenario
    assert got.customers.failures_per_year == pytest.approx(
        sc.customers.failures_per_year, rel=0.05
    )
    tm_true, tm_got = sc.time_and_materials.jobs_per_day, got.time_and_materials.jobs_per_day
    assert tm_got == pytest.approx(tm_true, rel=0.05)
    assert got.customers.count == pytest.approx(sc.customers.count, rel=0.05)
    for name, tier in sc.customers.tiers.items():
        assert got.customers.tiers[name].share == pytest.approx(tier.share, abs=0.02), name
        mine = got.customers.tiers[name].planned_visits_per_year
        assert mine == pytest.approx(tier.planned_visits_per_year, rel=0.05, abs=0.02), name
    assert set(got.jobs.types) == set(sc.jobs.types)
    for name, job in sc.jobs.types.items():
        mine = got.jobs.types[name]
        assert mine.share == pytest.approx(job.share, abs=0.02), name
        assert mine.part_on_van == pytest.approx(job.part_on_van, abs=0.03), name
        assert mine.onsite_hours_cv == pytest.approx(job.onsite_hours_cv, abs=0.06), name
        assert mine.fix_prob == pytest.approx(job.fix_prob, abs=0.03), name
    wf, true_wf = got.workforce, sc.workforce
    assert wf.travel_hours_mean == pytest.approx(true_wf.travel_hours_mean, rel=0.05)
    assert (wf.shift_start_hour, wf.shift_hours, wf.days_per_week) == (8.0, 8.0, 5)
    assert wf.technicians == true_wf.technicians
    assert got.jobs.part_lead_time_hours == pytest.approx(sc.jobs.part_lead_time_hours, rel=0.05)
    assert got.jobs.callback_delay_mean_days == pytest.approx(7.0, rel=0.15)
    assert got.customers.churn_base == pytest.approx(sc.customers.churn_base, abs=0.02)
    assert got.nps.response_rate == pytest.approx(sc.nps.response_rate, abs=0.02)
    assert got.nps.promoter == pytest.approx(sc.nps.promoter, abs=0.04)
    # the pace: inferred, not observed; against the simulated technicians' own paces
    busy = np.bincount([r[3] for r in out.visits], minlength=len(out.pace))
    true_pace = float(np.average(out.pace, weights=busy))
    assert abs(cal.inferred.mean_pace - true_pace) <= pace_step(sc) + 1e-9
    assert got.behaviour.pace.effort_cost_per_hour == pytest.approx(
        sc.behaviour.pace.effort_cost_per_hour, rel=0.25
    )
    assert got.baseline == "jobs_per_day"


def test_fit_report_lines_match(calibrated):
    _ex, _cal, result = calibrated
    verdicts = {k.kpi: k.verdict for k in result.kpis}
    off = {k: v for k, v in verdicts.items() if v not in ("matches", "not measured")}
    assert not off, off
    assert all(d.verdict != "poor" for d in result.dists), [
        (d.name, d.relative) for d in result.dists
    ]


def test_ocel_and_csv_read_to_the_same_tables(truth):
    f = truth["folder"]
    a = read_export(f / "orders.csv", renewals_path=f / "renewals.csv")
    b = read_export(f / "log.ocel.json", fmt="ocel")
    va = a.visits.sort_values("work_order_id").reset_index(drop=True)
    vb = b.visits.sort_values("work_order_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(va, vb[va.columns], check_dtype=False)
    assert b.renewals is not None and a.renewals is not None
    assert len(b.renewals) == len(a.renewals)
    assert b.renewals["renewed"].sum() == a.renewals["renewed"].sum()


SF_STATUS = {"fixed": "Completed", "part_needed": "Parts Needed", "not_fixed": "Cannot Complete",
             "completed": "Maintenance Completed"}  # fmt: skip


def test_salesforce_mapping_reads_a_salesforce_export(truth, tmp_path):
    """The export with Salesforce's column names and statuses, read with --format salesforce,
    gives the layout's tables."""
    m = yaml.safe_load(SALESFORCE.read_text())
    v = truth["visits"].copy()
    v["status"] = v["status"].map(SF_STATUS)
    v["job_type"] = v["job_type"].replace({"maintenance": "Preventive Maintenance"})
    v["contract_type"] = v["contract_type"].replace({"none": ""})
    v = v.rename(columns={k: col for k, col in m["columns"].items()})
    v["Account.Name"] = "Jane Doe"  # a column techsim never reads
    v.to_csv(tmp_path / "sf.csv", index=False, date_format=CSV_DATE)
    sf = read_export(tmp_path / "sf.csv", fmt="salesforce")
    plain = read_export(truth["folder"] / "orders.csv")
    assert (sf.visits["status"] == plain.visits["status"]).all()
    assert (sf.visits["planned"] == plain.visits["planned"]).all()
    assert (sf.visits["contract"] == plain.visits["contract"]).all()
    assert (sf.visits["arrival"] == plain.visits["arrival"]).all()


# --------------------------------------------------------------------------- the command


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_calibrate_command_writes_scenario_and_report_without_personal_data(truth, tmp_path):
    f = truth["folder"]
    v = pd.read_csv(f / "orders.csv", dtype=str, keep_default_na=False)
    v.insert(2, "customer_name", "ZZ-SECRET-NAME")
    v["address"] = "1 ZZ-SECRET Street"
    v.to_csv(tmp_path / "orders.csv", index=False)
    out = tmp_path / "mine.yaml"
    res = invoke("calibrate", str(tmp_path / "orders.csv"), "--renewals", str(f / "renewals.csv"),
                 "--template", str(f / "template.yaml"), "--current", "jobs_per_day",
                 "--out", str(out), "--reps", "2")  # fmt: skip
    assert res.exit_code == 0, res.output
    report = tmp_path / "mine-fit.html"
    assert out.exists() and report.exists()
    sc = scenario_from_dict(load_yaml(out), str(out))  # the scenario validates
    assert sc.baseline == "jobs_per_day"
    for path in (out, report):
        text = re.sub(r"data:image/png;base64,[^\"]+", "", path.read_text())
        assert "ZZ-SECRET" not in text
        assert "WO1" not in text and "A12" not in text  # no ids of the export's rows
    assert "KPIs match" in res.output
    # run again: techsim overwrites its own files
    tpl = str(f / "template.yaml")
    again = invoke("calibrate", str(tmp_path / "orders.csv"), "--template", tpl,
                   "--current", "jobs_per_day", "--out", str(out), "--reps", "2")  # fmt: skip
    assert again.exit_code == 0, again.output


def _bad(tmp_path: Path, edit) -> Path:
    src = REPO / "docs" / "examples" / "workorders.csv"
    v = pd.read_csv(src, dtype=str, keep_default_na=False)
    v = edit(v)
    p = tmp_path / "bad.csv"
    v.to_csv(p, index=False)
    return p


def _set(col: str, row: int, value: str):
    def edit(v: pd.DataFrame) -> pd.DataFrame:
        v.loc[row - 1, col] = value
        return v

    return edit


BAD = {
    "missing column": (
        lambda v: v.drop(columns=["technician_id"]), ("'technician_id'", "required")
    ),
    "timestamp": (_set("arrival", 7, "2025-13-45 25:00"), ("row 7", "'arrival'", "timestamp")),
    "out of order": (
        _set("completion", 3, "2020-01-01T00:00:00"), ("row 3", "'completion'", "before")
    ),
    "duplicate id": (
        lambda v: _set("work_order_id", 5, v.loc[1, "work_order_id"])(v),
        ("row 5", "'work_order_id'", "duplicate"),
    ),
    "status": (_set("status", 4, "Done-ish"), ("row 4", "'status'", "status_values")),
    "survey": (_set("survey_score", 9, "eleven"), ("row 9", "'survey_score'")),
    "empty id": (_set("account_id", 2, ""), ("row 2", "'account_id'", "empty")),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD))
def test_bad_export_one_line_exit_2_nothing_written(tmp_path, case):
    edit, must = BAD[case]
    path = _bad(tmp_path, edit)
    out = tmp_path / "out" / "mine.yaml"
    res = invoke("calibrate", str(path), "--current", "jobs_per_day", "--out", str(out))
    assert res.exit_code == 2, res.output
    msg = res.stderr.strip()
    assert "\n" not in msg and "Traceback" not in res.output
    assert str(path) in msg
    for s in must:
        assert s in msg, (s, msg)
    assert not out.exists() and not out.with_name("mine-fit.html").exists()


def test_bad_mapping_and_missing_file(tmp_path):
    (tmp_path / "map.yaml").write_text("columns:\n  technican_id: Tech\n")
    ex = str(REPO / "docs" / "examples" / "workorders.csv")
    res = invoke("calibrate", ex, "--mapping", str(tmp_path / "map.yaml"), "--current",
                 "jobs_per_day", "--out", str(tmp_path / "m.yaml"))  # fmt: skip
    assert res.exit_code == 2 and "map.yaml" in res.stderr and "technican_id" in res.stderr
    res = invoke("calibrate", str(tmp_path / "nope.csv"), "--current", "jobs_per_day",
                 "--out", str(tmp_path / "m.yaml"))  # fmt: skip
    assert res.exit_code == 2 and "nope.csv: file not found" in res.stderr
    res = invoke("calibrate", ex, "--out", str(tmp_path / "m.yaml"))
    assert res.exit_code == 2 and "--current" in res.stderr
    assert not (tmp_path / "m.yaml").exists()


def test_export_command_round_trips_through_calibrate(tmp_path):
    """`techsim export` of a run reads back as an export (both formats)."""
    d = _scenario_dict()
    d["workforce"]["technicians"] = 6
    d["customers"]["count"] = 2000
    d["time_and_materials"]["jobs_per_day"] = 2
    d["horizon_days"] = 120
    d["replications"] = 2
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(d))
    res = invoke("run", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "r"), "--quiet",
                 "--workers", "1", "--reps", "2")  # fmt: skip
    assert res.exit_code == 0, res.output
    res = invoke("export", str(tmp_path / "r"))
    assert res.exit_code == 0, res.output
    csv = tmp_path / "r" / "export" / "workorders.csv"
    a = read_export(csv, renewals_path=csv.with_name("workorders-renewals.csv"))
    res = invoke("export", str(tmp_path / "r"), "--format", "ocel", "--scheme", "hourly")
    assert res.exit_code == 0, res.output
    b = read_export(tmp_path / "r" / "export" / "workorders.ocel.json", fmt="ocel")
    assert len(a.visits) > 100 and len(b.visits) > 100
    assert a.renewals is not None and b.renewals is not None
    res = invoke("export", str(tmp_path / "r"), "--scheme", "nope")
    assert res.exit_code == 2 and "nope" in res.stderr


def test_mapping_lists_as_given_and_no_contract_book_refused(tmp_path):
    (tmp_path / "map.yaml").write_text("planned_job_types: []\n")
    ex = REPO / "docs" / "examples" / "workorders.csv"
    got = read_export(ex, mapping_path=tmp_path / "map.yaml")
    assert not got.visits["planned"].any()  # [] means no job type is a planned visit
    v = pd.read_csv(ex, dtype=str, keep_default_na=False)
    v["contract_type"] = "none"
    v.to_csv(tmp_path / "tm.csv", index=False)
    res = invoke("calibrate", str(tmp_path / "tm.csv"), "--current", "jobs_per_day", "--out",
                 str(tmp_path / "m.yaml"))  # fmt: skip
    assert res.exit_code == 2 and "no repair of a contract account" in res.stderr
    assert not (tmp_path / "m.yaml").exists()
