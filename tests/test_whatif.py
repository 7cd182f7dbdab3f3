"""`techsim whatif`: the registry of assumptions, the flip values, the screening and scan
on a small scenario, bad input, and the report's "What would change this conclusion"."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from conftest import REPO, bundled_dict, tiny_dict

from sim.cli.main import main
from sim.cli.whatif import DEFAULTS
from sim.config.assumptions import ASSUMPTIONS, Assumption, registry, resolve
from sim.config.load import scenario_from_dict, scenario_to_dict
from sim.report.whatif import TITLE, whatif_section
from sim.store.results import load_results
from sim.store.whatif import WHATIF_COLUMNS, load_whatif
from sim.sweep import whatif as lib
from sim.sweep import whatif_tables as tables
from sim.sweep.params import parse_param

#: The tiny scenario, short: every simulation here is sub-second.
SMALL = tiny_dict({"horizon_days": 60, "warmup_days": 10, "customers": {"count": 300}})
#: A pay level outside the registry that flips the margin difference (linear in the base
#: pay, so the root between two scan values is exact) and one that cannot move it.
FLIPS = "schemes.outcome_weighted.base_per_day=100:400"
NO_EFFECT = "nps.relational_detractor"  # moves only the relational NPS


# --------------------------------------------------------------------------- flip values
def test_flip_point_of_a_line_is_its_root():
    assert tables.flip_points([0, 1, 2, 3], [-3, -1, 1, 3]) == [(1.5, 1.0, 2.0)]
    # unsorted input, decreasing line
    assert tables.flip_points([3, 0, 2, 1], [-3, 3, -1, 1]) == [(1.5, 1.0, 2.0)]


def test_flip_point_is_interpolated_between_the_bracketing_values():
    """y = x^2 - 2 (root sqrt 2): linear interpolation between 1 (y = -1) and 1.5
    (y = 0.25) gives 1 + 0.5 * 1 / 1.25 = 1.4, within the bracket."""
    x = [0.0, 0.5, 1.0, 1.5, 2.0]
    (root, lo, hi), *rest = tables.flip_points(x, [v * v - 2 for v in x])
    assert not rest
    assert (lo, hi) == (1.0, 1.5)
    assert root == pytest.approx(1.4)
    assert lo < math.sqrt(2) < hi


def test_no_sign_change_no_flip_and_zeros():
    assert tables.flip_points([0, 1, 2], [1.0, 2.0, 3.0]) == []
    assert tables.flip_points([0, 1, 2], [1.0, 0.0, 1.0]) == []  # touches zero only
    assert tables.flip_points([0, 1, 2, 3], [-1.0, 0.0, 0.0, 1.0]) == [(1.5, 0.0, 3.0)]
    assert tables.flip_points([0, 1, 2], [-1.0, float("nan"), 1.0]) == [(1.0, 0.0, 2.0)]
    assert [f[0] for f in tables.flip_points([0, 1, 2, 3], [1, -1, -1, 1])] == [0.5, 2.5]


# --------------------------------------------------------------------------- the registry
def test_registry_paths_are_sweep_paths_of_hvac_with_the_base_inside():
    data = scenario_to_dict(scenario_from_dict(bundled_dict("hvac")))
    ok, skipped = resolve(registry(), data)
    assert [p for p, _ in skipped] == ["customers.tiers.bronze.planned_visits_per_year"]
    assert "0 in this scenario" in skipped[0][1]
    assert len({a.path for a in ASSUMPTIONS}) == len(ASSUMPTIONS), "a path twice"
    for r in ok:
        parse_param(f"{r.path}={r.low!r}:{r.high!r}", data, "morris")
        assert r.low <= r.base <= r.high, r
        assert r.why


def test_absent_or_unset_paths_are_skipped_with_the_reason():
    data = scenario_to_dict(scenario_from_dict(SMALL))
    extra = [
        Assumption("customers.referral_rate", 0.0, 0.1, "a field of another branch"),
        Assumption("workforce.max_overtime_hours", 0.5, 2.0, "unset in the tiny scenario"),
        Assumption("workforce.dispatch", 0.0, 1.0, "text"),
        Assumption("quality.skill_effect", 0.2, 0.6, "present"),
    ]
    ok, skipped = resolve(extra, data)
    assert [r.path for r in ok] == ["quality.skill_effect"]
    assert dict(skipped) == {
        "customers.referral_rate": "not a field of this scenario",
        "workforce.max_overtime_hours": "not set in this scenario",
        "workforce.dispatch": "not a number in this scenario ('edf')",
    }


def test_docs_table_is_the_registry():
    """docs/model.md's registry table: every assumption of hvac, its value and range."""
    text = (REPO / "docs" / "model.md").read_text(encoding="utf-8")
    sec = text.split("### What would change the answer", 1)[1].split("**Measured for hvac**")[0]
    rows = re.findall(r"^\| `([^`]+)` \| ([^|]+) \| ([^|]+) \|", sec, re.M)
    docs = {p: (v.strip(), r.strip()) for p, v, r in rows}
    data = scenario_to_dict(scenario_from_dict(bundled_dict("hvac")))
    ok, skipped = resolve(registry(), data)
    want = {r.path: (f"{r.base:g}", f"{r.low:.4g} to {r.high:.4g}") for r in ok}
    want |= {p: ("-", "skipped") for p, _ in skipped}
    assert docs == want


def test_command_defaults_are_the_librarys():
    assert DEFAULTS == {
        "scheme": tables.DEFAULT_SCHEME,
        "against": tables.DEFAULT_AGAINST,
        "kpi": tables.DEFAULT_KPI,
        "trajectories": lib.DEFAULT_TRAJECTORIES,
        "reps": lib.DEFAULT_REPS,
        "top": lib.DEFAULT_TOP,
        "points": lib.DEFAULT_POINTS,
    }


# --------------------------------------------------------------------------- end to end
@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    """A run of the small scenario and its what-if analysis in RESULTS/whatif (two
    assumptions, two trajectories: 6 screening points and 6 scan values)."""
    d = tmp_path_factory.mktemp("whatif")
    (d / "s.yaml").write_text(yaml.safe_dump(SMALL, sort_keys=False), encoding="utf-8")
    run = d / "run"
    r = CliRunner().invoke(
        main, ["run", str(d / "s.yaml"), "--reps", "2", "--workers", "1", "--out", str(run), "-q"]
    )
    assert r.exit_code == 0, r.output
    args = ["whatif", str(d / "s.yaml"), "-a", FLIPS, "-a", NO_EFFECT, "--trajectories", "2",
            "--reps", "2", "--scan-reps", "3", "--points", "4", "--workers", "1",
            "--out", str(run / "whatif")]  # fmt: skip
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    return d, run, args, r.output


def test_whatif_writes_its_files_and_finds_the_flip(analysed):
    _d, run, _args, output = analysed
    out = run / "whatif"
    for name in ("whatif.csv", "whatif_scan.csv", "whatif.json", "whatif.png"):
        assert (out / name).is_file(), name
    w = load_whatif(out)
    assert w.complete and w.meta["scheme"] == "outcome_weighted"
    assert list(w.table.columns) == list(WHATIF_COLUMNS)
    t = w.table.set_index("path")
    pay = t.loc["schemes.outcome_weighted.base_per_day"]
    assert t.index[0] == "schemes.outcome_weighted.base_per_day"  # most influential first
    assert pay["scanned"] == "yes" and pay["flips"] == "yes"
    assert pay["diff_low"] > 0 > pay["diff_high"]
    # the flip is the interpolation between the scan's bracketing values
    scan = w.scan[w.scan["path"] == pay.name].set_index("value")["diff_mean"]
    x0, x1 = pay["flip_from"], pay["flip_to"]
    y0, y1 = scan[x0], scan[x1]
    assert y0 > 0 > y1
    assert pay["flip_value"] == pytest.approx(x0 + (x1 - x0) * y0 / (y0 - y1))
    assert pay["flip_ci_excludes_zero"] == "yes"
    assert "flips at" in output


def test_an_assumption_with_no_effect_has_mu_star_zero(analysed):
    """Common random numbers: every point runs on the same worlds, so a field that cannot
    move the margin leaves the paired difference exactly unchanged."""
    _d, run, _args, _out = analysed
    t = load_whatif(run / "whatif").table.set_index("path")
    assert t.loc[NO_EFFECT, "mu_star"] == 0.0
    assert t.loc[NO_EFFECT, "scanned"] == "no"  # not worth a scan
    assert t.loc["schemes.outcome_weighted.base_per_day", "mu_star"] > 1000


def test_resume_gives_the_same_tables(analysed):
    _d, run, args, _out = analysed
    before = (run / "whatif" / "whatif.csv").read_bytes()
    r = CliRunner().invoke(main, [*args, "--resume", "-q"])
    assert r.exit_code == 0, r.output
    assert (run / "whatif" / "whatif.csv").read_bytes() == before


def test_report_section_lists_the_flip(analysed):
    _d, run, _args, _out = analysed
    sec = whatif_section(load_results(run))
    assert sec.title == TITLE
    text = " ".join(getattr(b, "text", "") + " ".join(getattr(b, "items", [])) for b in sec.blocks)
    assert "schemes.outcome_weighted.base_per_day" in text
    assert "changes sign at about" in text
    assert any(type(b).__name__ == "FigureBlock" for b in sec.blocks)


def test_report_says_how_to_make_one_without_it(analysed, tmp_path, monkeypatch):
    _d, run, _args, _out = analysed
    alone = tmp_path / "alone"
    alone.mkdir()
    for f in run.iterdir():
        if f.is_file():
            (alone / f.name).write_bytes(f.read_bytes())
    sec = whatif_section(load_results(alone))
    assert len(sec.blocks) == 1
    assert "techsim whatif" in sec.blocks[0].text and "--out" in sec.blocks[0].text
    # and --whatif points the report at the analysis elsewhere (the command's hook); the
    # run's own figures are left out to keep the test fast
    monkeypatch.setattr("sim.report.build.figures", lambda _res: iter(()))
    r = CliRunner().invoke(main, ["report", str(alone), "--whatif", str(run / "whatif")])
    assert r.exit_code == 0, r.output
    html = (alone / "report.html").read_text(encoding="utf-8")
    assert TITLE in html and "changes sign at about" in html


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--scheme", "nope"], ("--scheme nope", "not a scheme", "outcome_weighted")),
        (["--against", "nope"], ("--against nope", "not a scheme")),
        (["--kpi", "profit"], ("--kpi profit", "not a KPI")),
        (["-a", "customers.nope"], ("--assumption customers.nope", "not in the registry")),
        (["-a", "nps.promoter=0.7:0.2"], ("--assumption nps.promoter", "lo < hi")),
        (["-a", "customers.referral_rate=0:1", "-a", "nps.promoter"],
         ("at least 2", "customers.referral_rate: not a field of this scenario")),
        (["-a", "nps.promoter=0.2:1.5", "-a", "nps.detractor"], ("nps.promoter",)),
    ],
    ids=["scheme", "against", "kpi", "unknown-path", "empty-range", "absent-path",
         "out-of-schema"],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(tmp_path, monkeypatch, args, needles):
    monkeypatch.chdir(tmp_path)
    Path("s.yaml").write_text(yaml.safe_dump(SMALL, sort_keys=False), encoding="utf-8")
    r = CliRunner().invoke(main, ["whatif", "s.yaml", "--out", "out", *args])
    assert r.exit_code == 2, r.output
    msg = r.stderr.strip()
    assert "\n" not in msg and msg.startswith("Error: "), msg
    assert "Traceback" not in r.output
    for n in needles:
        assert n in msg, (n, msg)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"], "nothing is written"


def test_list_prints_the_registry():
    r = CliRunner().invoke(main, ["whatif", "--list"])
    assert r.exit_code == 0, r.output
    rows = [ln for ln in r.output.splitlines() if ln.startswith("| `")]
    assert len(rows) == len(ASSUMPTIONS)


def test_table_is_sorted_by_mu_star():
    rs = resolve(registry(["nps.promoter", "nps.detractor"]), scenario_to_dict(
        scenario_from_dict(SMALL)))[0]  # fmt: skip
    idx = pd.DataFrame(
        {"parameter": ["nps.promoter", "nps.detractor"], "mu_star": [1.0, 5.0],
         "mu_star_conf": [0.1, 0.2], "sigma": [0.0, 0.0]}
    )  # fmt: skip
    t = tables.whatif_table(rs, idx, None, None, tables.Comparison())
    assert list(t["path"]) == ["nps.detractor", "nps.promoter"]
    assert list(t["rank"]) == [1, 2]
    assert [a.path for a in tables.top_assumptions(t, rs, 1)] == ["nps.detractor"]
