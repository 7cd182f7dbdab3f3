"""Hostile exports and mappings for `techsim calibrate` (docs/calibration.md, "Bad exports").

Each bad input is one line on stderr starting "Error: " naming the file (and the data row
and column where there is one), exit status 2, no traceback and nothing written. Exports
that lack an optional column, or whose values are odd but valid, still calibrate, and the
notes say what could not be estimated.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from sim.calibrate.build import calibrate, scenario_yaml
from sim.calibrate.fit import DistLine
from sim.calibrate.read import read_export
from sim.cli.common import resolve_scenario
from sim.cli.main import main
from sim.plots.calibration import fig_distributions

REPO = Path(__file__).resolve().parent.parent
ORDERS = REPO / "docs" / "examples" / "workorders.csv"
RENEWALS = REPO / "docs" / "examples" / "renewals.csv"


def _frame(path: Path = ORDERS) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _write(tmp_path: Path, df: pd.DataFrame, name: str = "bad.csv") -> Path:
    p = tmp_path / name
    df.to_csv(p, index=False)
    return p


def _refused(tmp_path: Path, *args: str | Path, must: tuple[str, ...] = ()) -> str:
    """Run calibrate on `args`; assert the contract for bad input; return the message."""
    out = tmp_path / "out" / "mine.yaml"
    argv = ["calibrate", *map(str, args), "--out", str(out)]
    if "--current" not in args:
        argv += ["--current", "jobs_per_day"]
    res = CliRunner().invoke(main, argv)
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert res.exit_code == 2, res.output
    msg = res.stderr.strip()
    assert "\n" not in msg, msg
    assert msg.startswith("Error: "), msg
    for s in must:
        assert s in msg, (s, msg)
    assert not out.exists() and not out.with_name("mine-fit.html").exists()
    return msg


# ----------------------------------------------------------------------------- CSV exports
def test_duplicate_header_name_is_refused(tmp_path):
    v = _frame()
    v.insert(3, "other", v["account_id"])
    p = tmp_path / "dup.csv"
    v.to_csv(p, index=False)
    p.write_text(p.read_text().replace("other", "account_id", 1))
    _refused(tmp_path, p, must=(str(p), "'account_id'", "more than once"))


def test_row_with_extra_fields_names_the_data_row(tmp_path):
    lines = ORDERS.read_text().splitlines()
    lines[5] += ",extra,x"  # data row 5
    p = tmp_path / "extra.csv"
    p.write_text("\n".join(lines) + "\n")
    _refused(tmp_path, p, must=(str(p), "row 5", "15 fields"))


def test_unclosed_quote_names_the_data_row(tmp_path):
    lines = ORDERS.read_text().splitlines()
    lines[5] = '"' + lines[5]
    p = tmp_path / "quote.csv"
    p.write_text("\n".join(lines) + "\n")
    _refused(tmp_path, p, must=(str(p), "row 5", "quote"))


@pytest.mark.parametrize(
    ("col", "value", "row", "named"),
    [
        ("completion", "9999-12-31T23:59:59", 11, "'completion'"),  # a placeholder date
        ("completion", "2262-04-12T00:00:00", 11, "'completion'"),  # beyond pandas' ns
        ("created", "1970-01-01T00:00:00", 11, "'arrival'"),  # epoch: a 55-year wait
    ],
)
def test_absurd_timestamps_are_refused(tmp_path, col, value, row, named):
    v = _frame()
    v.loc[row - 1, col] = value
    p = _write(tmp_path, v)
    _refused(tmp_path, p, must=(str(p), f"row {row}", named, "wrong year"))


def test_a_whole_row_years_away_is_refused(tmp_path):
    v = _frame()
    for c in ("created", "dispatched", "arrival", "completion"):
        v.loc[6, c] = v.loc[6, c].replace("2025", "2075")
    p = _write(tmp_path, v)
    _refused(tmp_path, p, must=(str(p), "row 7", "'created'", "years"))


def test_time_zones_mixed_with_none_are_refused(tmp_path):
    v = _frame()
    v.loc[2, "arrival"] += "+02:00"
    p = _write(tmp_path, v)
    _refused(tmp_path, p, must=(str(p), "row 3", "'arrival'", "time zone"))


def test_timestamps_with_offsets_read_as_the_local_clock(tmp_path):
    v = _frame()
    for c in ("created", "dispatched", "arrival", "completion"):
        v[c] = v[c].where(v[c] == "", v[c] + "+02:00")
    ex = read_export(_write(tmp_path, v))
    plain = read_export(ORDERS)
    assert (ex.visits["arrival"] == plain.visits["arrival"]).all()  # not shifted to UTC


def test_bad_timestamp_format_in_mapping(tmp_path):
    (tmp_path / "map.yaml").write_text("timestamp_format: '%Q'\n")
    _refused(tmp_path, ORDERS, "--mapping", tmp_path / "map.yaml",
             must=(str(ORDERS), "'created'", "timestamp_format"))  # fmt: skip


def test_all_part_needed_names_the_file(tmp_path):
    v = _frame()
    v["status"] = v["status"].where(v["job_type"] == "maintenance", "part_needed")
    p = _write(tmp_path, v)
    _refused(tmp_path, p, must=(str(p), "part_needed"))


def test_standard_hours_for_no_job_type_names_the_file(tmp_path):
    (tmp_path / "map.yaml").write_text("standard_hours: {nosuch: 1.0}\n")
    _refused(tmp_path, ORDERS, "--mapping", tmp_path / "map.yaml",
             must=(str(ORDERS), "standard_hours"))  # fmt: skip


def test_unknown_current_refused_before_reading(tmp_path):
    res = CliRunner().invoke(main, ["calibrate", str(ORDERS), "--current", "nonsense",
                                    "--out", str(tmp_path / "m.yaml")])  # fmt: skip
    assert res.exit_code == 2
    assert res.stderr.strip().startswith("Error: --current: 'nonsense'")  # no Note before


# ----------------------------------------------------------------------------- OCEL logs
def _ocel(tmp_path: Path) -> dict:
    """A small well-formed OCEL 2.0 log: one work order's events."""
    return {
        "objects": [
            {"id": "W1", "type": "work order", "attributes": [], "relationships": []},
            {"id": "A1", "type": "account"},
            {"id": "T1", "type": "technician"},
        ],
        "events": [
            {"id": "e1", "type": "create work order", "time": "2025-01-01T08:00:00Z",
             "relationships": [{"objectId": "W1"}, {"objectId": "A1"}]},
            {"id": "e2", "type": "arrive", "time": "2025-01-01T09:00:00Z",
             "relationships": [{"objectId": "W1"}, {"objectId": "T1"}]},
            {"id": "e3", "type": "complete", "time": "2025-01-01T10:00:00Z",
             "relationships": [{"objectId": "W1"}, {"objectId": "T1"}]},
        ],
    }  # fmt: skip


def _break_rel(log):
    log["objects"][0]["relationships"] = 5


def _break_ev_rel(log):
    log["events"][1]["relationships"] = 7


def _break_attr(log):
    log["objects"][0]["attributes"] = [{"name": ["x"], "value": 1}]


def _dup_object(log):
    log["objects"].append(dict(log["objects"][0]))


def _bad_time(log):
    log["events"][2]["time"] = "soon"


def _lonely(log):
    log["objects"].append({"id": "W2", "type": "work order"})


OCEL_BAD = {
    "object relationships not a list": (_break_rel, ("row 1", "'objects'", "not a list")),
    "event relationships not a list": (_break_ev_rel, ("row 2", "'events'", "not a list")),
    "attribute name not text": (_break_attr, ("row 1", "'objects'", "name")),
    "duplicate object id": (_dup_object, ("row 4", "'objects'", "duplicate")),
    "event time": (_bad_time, ("row 3", "'events'", "timestamp")),
    "work order without events": (_lonely, ("row 4", "'objects'", "no 'create work order'")),
}


@pytest.mark.parametrize("case", list(OCEL_BAD))
def test_bad_ocel(tmp_path, case):
    edit, must = OCEL_BAD[case]
    log = _ocel(tmp_path)
    edit(log)
    p = tmp_path / "log.json"
    p.write_text(json.dumps(log))
    _refused(tmp_path, p, "--format", "ocel", must=(str(p), *must))


# ----------------------------------------------------------------------------- still works
@pytest.fixture(scope="module")
def hvac():
    return resolve_scenario("hvac")[0]


def test_no_dispatched_column_still_calibrates(tmp_path, hvac):
    ex = read_export(_write(tmp_path, _frame().drop(columns=["dispatched"])))
    cal = calibrate(ex, hvac, "jobs_per_day")
    assert cal.scenario.workforce.travel_hours_mean == hvac.workforce.travel_hours_mean
    travel = [e for e in cal.estimates if e.path == "workforce.travel_hours_mean"]
    assert travel and travel[0].kept


def test_no_sla_column_is_noted(tmp_path):
    ex = read_export(_write(tmp_path, _frame().drop(columns=["sla_violated"])))
    assert any("no sla_violated" in n for n in ex.notes)


@pytest.mark.parametrize("how", ["dropped", "blank"])
def test_unlinked_revisits_keep_the_templates_chain_parameters(tmp_path, hvac, how):
    """Without root_work_order_id every visit looks like a first visit: fix probabilities,
    parts on the van and delays keep the template's (was: fix_prob 1.0, and no note when
    the column was there but empty)."""
    v = _frame()
    v = (
        v.drop(columns=["root_work_order_id"])
        if how == "dropped"
        else v.assign(root_work_order_id="")
    )
    ex = read_export(_write(tmp_path, v))
    assert not ex.linked
    assert any("no root_work_order_id" in n for n in ex.notes)
    cal = calibrate(ex, hvac, "jobs_per_day")
    for name, t in cal.scenario.jobs.types.items():
        tpl = hvac.jobs.types[name]
        assert (t.fix_prob, t.part_on_van) == (tpl.fix_prob, tpl.part_on_van), name
    assert cal.scenario.jobs.callback_delay_mean_days == hvac.jobs.callback_delay_mean_days
    assert "jobs.types.*.fix_prob" not in scenario_yaml(cal, "x", "y")


def test_renewals_of_unknown_accounts(tmp_path, hvac):
    """Renewals none of whose accounts appear in the visits (was: a numpy TypeError)."""
    r = _frame(RENEWALS)
    r["account_id"] = "ZZ" + r["account_id"]
    ex = read_export(ORDERS, renewals_path=_write(tmp_path, r, "ren.csv"))
    cal = calibrate(ex, hvac, "jobs_per_day")
    assert any("none of the" in n and "account ids" in n for n in cal.notes)


def test_distribution_panel_with_no_overlap_warns_nothing():
    """A sample wholly outside the common bins (one technician) drew a numpy warning."""
    d = DistLine("x", np.array([100.0]), np.linspace(0, 1, 200), 1.0, 1.0, "poor")
    with np.errstate(all="raise"):
        fig_distributions([d])


def test_bad_name_is_blamed_on_name_not_the_export(tmp_path):
    msg = _refused(tmp_path, ORDERS, "--name", "a\nb")
    assert msg.startswith("Error: --name:") and str(ORDERS) not in msg


def test_renewals_from_another_period(tmp_path):
    """Renewals years before the export were fitted as if their terms had no problems."""
    r = _frame(RENEWALS)
    r["renewal_date"] = r["renewal_date"].str.replace("2025", "2021")
    p = _write(tmp_path, r, "old.csv")
    _refused(tmp_path, ORDERS, "--renewals", p, must=(str(p), "'renewal_date'", "period"))
    r.loc[:99, "renewal_date"] = _frame(RENEWALS).loc[:99, "renewal_date"]
    ex = read_export(ORDERS, renewals_path=_write(tmp_path, r, "some.csv"))
    assert ex.renewals is not None and len(ex.renewals) == 100
    assert any("outside the export's period" in n for n in ex.notes)
