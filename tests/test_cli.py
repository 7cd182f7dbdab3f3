"""The command line: bad input gives one clear line and exit status 2, nothing written;
the commands, their help and the result files.

Every test runs in a temporary working directory, so the default `results/` would be
created inside it (and the tests check that it is not, on bad input).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import SCENARIO_DIR, tiny_dict, write_yaml

from sim import __version__
from sim.cli.common import bundled_scenarios, scenario_dir
from sim.cli.main import main
from sim.experiment.tasks import RUN_ID_COLUMNS
from sim.metrics.kpis import KPI_COLUMNS
from sim.metrics.stats import SUMMARY_COLUMNS

BUNDLED = ("hvac", "appliance", "medical", "telecom", "safelite", "mmc", "national")


@pytest.fixture
def cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _one_line_error(result, *must_contain: str) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    msg = result.stderr.strip()
    assert msg, "no message on stderr"
    assert "\n" not in msg, f"more than one line: {msg!r}"
    assert msg.startswith("Error: ")
    for s in must_contain:
        assert s in msg, f"{s!r} not in {msg!r}"
    assert result.stdout.strip() == ""
    return msg


# --------------------------------------------------------------------------- bad input


def _with(over: dict) -> dict:
    return tiny_dict(over)


def _typo(section: str, good: str, bad: str) -> dict:
    d = tiny_dict()
    d[section] = dict(d[section])
    d[section][bad] = d[section].pop(good)
    return d


def _scheme_typo() -> dict:
    d = tiny_dict()
    d["schemes"]["jobs_per_day"]["per_vist"] = d["schemes"]["jobs_per_day"].pop("per_visit")
    return d


def _tier_typo() -> dict:
    d = tiny_dict()
    d["customers"]["tiers"]["gold"]["sla_hour"] = d["customers"]["tiers"]["gold"].pop("sla_hours")
    return d


def _top_typo() -> dict:
    d = tiny_dict()
    d["custmers"] = d.pop("customers")
    return d


#: case -> (file content: dict or raw text, strings the message must contain)
BAD = {
    "yaml_syntax": ("name: x\ncustomers: [1, 2\nworkforce: {}\n", ["YAML syntax error", "line "]),
    "yaml_bad_indent": (
        "name: x\ncustomers:\n  count: 10\n failures_per_year: 2\n",
        ["YAML syntax error", "line 4"],
    ),
    "not_a_mapping": ("- just\n- a list\n", ["mapping"]),
    "empty_file": ("", ["mapping"]),
    "unknown_top_key": (_top_typo(), ["custmers", "did you mean 'customers'"]),
    "unknown_nested_key": (
        _typo("customers", "count", "cout"),
        ["customers.cout", "did you mean 'count'"],
    ),
    "unknown_tier_key": (
        _tier_typo(),
        ["customers.tiers.gold.sla_hour", "did you mean 'sla_hours'"],
    ),
    "unknown_scheme_key": (
        _scheme_typo(),
        ["schemes.jobs_per_day.per_vist", "did you mean 'per_visit'"],
    ),
    "unknown_scheme_type": (
        _with({"schemes": {"hourly": {"type": "piecework"}}}),
        ["schemes.hourly", "piecework"],
    ),
    "string_for_int": (
        _with({"workforce": {"technicians": "five"}}),
        ["workforce.technicians", "integer", "'five'"],
    ),
    "string_for_float": (
        _with({"customers": {"failures_per_year": "often"}}),
        ["customers.failures_per_year", "'often'"],
    ),
    "negative_rate": (
        _with({"customers": {"failures_per_year": -2.0}}),
        ["customers.failures_per_year", "greater than 0", "-2"],
    ),
    "negative_pay_rate": (
        _with({"schemes": {"jobs_per_day": {"per_visit": -5}}}),
        ["schemes.jobs_per_day.per_visit", "-5"],
    ),
    "probability_above_one": (
        _with({"customers": {"churn_base": 1.5}}),
        ["customers.churn_base", "less than or equal to 1", "1.5"],
    ),
    "job_probability_above_one": (
        _with({"jobs": {"types": {"simple": {"fix_prob": 1.2}}}}),
        ["jobs.types.simple.fix_prob", "1.2"],
    ),
    "zero_technicians": (
        _with({"workforce": {"technicians": 0}}),
        ["workforce.technicians", "greater than or equal to 1"],
    ),
    "warmup_longer_than_horizon": (
        _with({"horizon_days": 30, "warmup_days": 45}),
        ["warmup_days", "horizon_days"],
    ),
    "unknown_baseline": (_with({"baseline": "piece_rate"}), ["baseline", "'piece_rate'"]),
    "hybrid_unknown_scheme": (
        _with({"schemes": {"hybrid": {"between": ["jobs_per_day", "outcome_wieghted"]}}}),
        ["schemes.hybrid.between", "'outcome_wieghted'"],
    ),
    "tier_shares": (
        _with({"customers": {"tiers": {"gold": {"share": 0.5}}}}),
        ["customers", "shares must add up to 1"],
    ),
}


def _write_bad(cwd: Path, content) -> Path:
    path = cwd / "bad.yaml"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        write_yaml(path, content)
    return path


@pytest.mark.parametrize("case", list(BAD))
@pytest.mark.parametrize("command", ["run", "validate"])
def test_bad_input_one_line_exit_2_nothing_written(cwd, case, command):
    content, needles = BAD[case]
    _write_bad(cwd, content)
    before = _files(cwd)
    args = [command, "bad.yaml"] + (["--reps", "2", "--quiet"] if command == "run" else [])
    _one_line_error(invoke(*args), "bad.yaml", *needles)
    assert _files(cwd) == before, "something was written"
    assert not (cwd / "results").exists()


@pytest.mark.parametrize("case", ["unknown_nested_key", "zero_technicians"])
def test_bad_input_with_out_dir_writes_nothing(cwd, case):
    content, needles = BAD[case]
    _write_bad(cwd, content)
    res = invoke("run", "bad.yaml", "--reps", "2", "--out", "outdir", "--quiet")
    _one_line_error(res, "bad.yaml", *needles)
    assert not (cwd / "outdir").exists()
    assert not (cwd / "results").exists()


@pytest.mark.parametrize("command", ["run", "validate"])
def test_missing_file(cwd, command):
    res = invoke(command, "no_such_scenario.yaml")
    _one_line_error(res, "no_such_scenario.yaml", "not found")
    assert _files(cwd) == set()


def test_directory_instead_of_file(cwd):
    (cwd / "adir").mkdir()
    _one_line_error(invoke("validate", "adir"), "adir")


def test_bad_options_exit_2(cwd):
    write_yaml(cwd / "tiny.yaml", tiny_dict())
    for args in (["--reps", "1"], ["--reps", "many"], ["--seed", "-3"], ["--workers", "0"]):
        res = invoke("run", "tiny.yaml", "--quiet", *args)
        assert res.exit_code == 2, args
        assert "Traceback" not in res.output
    assert _files(cwd) == {"tiny.yaml"}


# --------------------------------------------------------------------------- commands


def test_version():
    res = invoke("--version")
    assert res.exit_code == 0
    assert "techsim" in res.output and __version__ in res.output


def test_help_on_every_command():
    res = invoke("--help")
    assert res.exit_code == 0 and "Usage:" in res.output and "Examples" in res.output
    assert {"run", "validate", "scenarios", "init"} <= set(main.commands)
    for name in main.commands:
        res = invoke(name, "--help")
        assert res.exit_code == 0, name
        assert "Usage:" in res.output and name in res.output, name
    for name in ("run", "validate", "scenarios", "init"):
        assert "Example" in invoke(name, "--help").output, name


def test_scenarios_lists_the_bundled_ones():
    res = invoke("scenarios")
    assert res.exit_code == 0
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    names = [ln.split()[0] for ln in lines]
    assert set(BUNDLED) <= set(names)
    assert sorted(names) == sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))
    for ln in lines:
        assert len(ln.split()) > 1, f"no description: {ln!r}"
    assert "(default)" in next(ln for ln in lines if ln.split()[0] == "hvac")


# --------------------------------------------------------------------------- bundled scenarios


def test_bundled_scenarios_are_the_repository_folder():
    """One copy: the package data sim/scenarios is a symlink to scenarios/, which a wheel
    carries as files (tests/test_install.py)."""
    assert (SCENARIO_DIR.parent / "sim" / "scenarios").is_symlink()
    assert scenario_dir().resolve() == SCENARIO_DIR.resolve()
    assert sorted(bundled_scenarios()) == sorted(BUNDLED)


@pytest.mark.parametrize("name", BUNDLED)
def test_scenarios_show_prints_the_commented_yaml(cwd, name):
    res = invoke("scenarios", "--show", name)
    assert res.exit_code == 0, res.output
    assert res.stdout == (SCENARIO_DIR / f"{name}.yaml").read_text(encoding="utf-8")
    assert res.stdout.lstrip().startswith("#")  # the comments come along
    assert _files(cwd) == set()


def test_scenarios_show_unknown_name(cwd):
    _one_line_error(invoke("scenarios", "--show", "hvca"), "hvca", *BUNDLED)


def test_init_writes_a_bundled_scenario_to_start_from(cwd):
    res = invoke("init", "medical")
    assert res.exit_code == 0, res.output
    assert "medical.yaml" in res.stdout
    written = (cwd / "medical.yaml").read_text(encoding="utf-8")
    assert written == (SCENARIO_DIR / "medical.yaml").read_text(encoding="utf-8")
    assert invoke("validate", "medical.yaml").exit_code == 0
    res = invoke("init", "hvac", "mine.yaml")
    assert res.exit_code == 0, res.output
    assert (cwd / "mine.yaml").read_bytes() == (SCENARIO_DIR / "hvac.yaml").read_bytes()
    assert _files(cwd) == {"medical.yaml", "mine.yaml"}


def test_init_never_overwrites(cwd):
    (cwd / "hvac.yaml").write_text("mine\n")
    (cwd / "adir").mkdir()
    _one_line_error(invoke("init", "hvac"), "hvac.yaml", "already exists")
    _one_line_error(invoke("init", "mmc", "adir"), "adir", "already exists")
    assert (cwd / "hvac.yaml").read_text() == "mine\n"
    assert _files(cwd) == {"hvac.yaml", "adir"}


def test_init_bad_input(cwd):
    _one_line_error(invoke("init", "hvca"), "hvca", *BUNDLED)
    _one_line_error(invoke("init", "hvac", "no/such/dir/x.yaml"), "no/such/dir", "does not exist")
    assert _files(cwd) == set()


def test_run_unknown_name_lists_the_bundled_ones(cwd):
    _one_line_error(invoke("run", "hvca"), "hvca", "not found", *BUNDLED)
    assert _files(cwd) == set()


@pytest.mark.parametrize("name", BUNDLED)
def test_validate_bundled(name):
    res = invoke("validate", str(SCENARIO_DIR / f"{name}.yaml"))
    assert res.exit_code == 0, res.output
    assert "valid" in res.output
    res = invoke("validate", name)  # by bundled name
    assert res.exit_code == 0, res.output


# --------------------------------------------------------------------------- run and its files

TECH_REQUIRED = [
    "scenario",
    "scheme",
    "replication",
    "tech",
    "visits",
    "first_time_fixes",
    "repeat_visits",
    "pay",
    "thoroughness",
]
WEEK_REQUIRED = [
    "scenario",
    "scheme",
    "replication",
    "week",
    "active_customers",
    "churned",
    "backlog",
    "visits_done",
]


@pytest.fixture
def tiny_run(cwd):
    write_yaml(cwd / "tiny.yaml", tiny_dict())
    res = invoke("run", "tiny.yaml", "--reps", "2", "--out", "out", "--quiet", "--workers", "1")
    assert res.exit_code == 0, res.output
    return cwd / "out", res


def test_run_writes_the_result_files(tiny_run):
    out, res = tiny_run
    assert res.output.strip() == ""  # --quiet
    for name in ("runs.csv", "summary.csv", "technicians.csv", "timeseries.csv", "manifest.json"):
        assert (out / name).is_file(), name
    runs = pd.read_csv(out / "runs.csv")
    assert list(runs.columns) == list(RUN_ID_COLUMNS) + list(KPI_COLUMNS)
    schemes = list(tiny_dict()["schemes"])
    assert len(runs) == 2 * len(schemes)
    assert list(runs["scheme"].unique()) == schemes
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns) == list(SUMMARY_COLUMNS)
    assert len(summary) == len(schemes) * len(KPI_COLUMNS)
    techs = pd.read_csv(out / "technicians.csv")
    assert set(TECH_REQUIRED) <= set(techs.columns)
    assert len(techs) == 2 * len(schemes) * tiny_dict()["workforce"]["technicians"]
    weeks = pd.read_csv(out / "timeseries.csv")
    assert set(WEEK_REQUIRED) <= set(weeks.columns)
    man = json.loads((out / "manifest.json").read_text())
    for key in (
        "seed",
        "replications",
        "techsim_version",
        "git_commit",
        "started",
        "finished",
        "wall_time_s",
        "scenario",
    ):
        assert key in man, key
    assert man["seed"] == tiny_dict()["seed"] and man["replications"] == 2
    assert man["techsim_version"] == __version__
    assert man["scenario"]["workforce"]["technicians"] == 4  # the resolved scenario
    assert "quality" in man["scenario"]  # defaults filled in
    assert not (Path(os.getcwd()) / "results").exists()  # --out was honoured


def test_run_default_out_dir_is_results_name(cwd):
    write_yaml(cwd / "tiny.yaml", tiny_dict())
    res = invoke("run", "tiny.yaml", "--reps", "2", "--quiet", "--workers", "1")
    assert res.exit_code == 0, res.output
    assert (cwd / "results" / "tiny" / "runs.csv").is_file()


def test_run_prints_the_tables_when_not_quiet(cwd):
    write_yaml(cwd / "tiny.yaml", tiny_dict())
    res = invoke("run", "tiny.yaml", "--reps", "2", "--out", "o", "--workers", "1")
    assert res.exit_code == 0, res.output
    assert "first-time fix" in res.stdout and "outcome_weighted" in res.stdout
    assert "±" in res.stdout and "Paired difference" in res.stdout


def test_resume_after_losing_a_part_gives_identical_runs(tiny_run):
    out, _ = tiny_run
    first = (out / "runs.csv").read_bytes()
    parts = sorted((out / "parts").glob("rep-*.json"))
    assert len(parts) == 2
    parts[1].unlink()
    res = invoke(
        "run", "tiny.yaml", "--reps", "2", "--out", "out", "--quiet", "--resume", "--workers", "1"
    )
    assert res.exit_code == 0, res.output
    assert (out / "runs.csv").read_bytes() == first
    assert parts[1].exists()
    man = json.loads((out / "manifest.json").read_text())
    assert man.get("resumed_replications", 1) == 1


def test_resume_with_a_different_scenario_is_refused(tiny_run):
    out, _ = tiny_run
    d = tiny_dict({"workforce": {"technicians": 3}})
    write_yaml(Path("tiny.yaml"), d)
    before = (out / "runs.csv").read_bytes()
    res = invoke("run", "tiny.yaml", "--reps", "2", "--out", "out", "--quiet", "--resume")
    _one_line_error(res, "out")
    assert (out / "runs.csv").read_bytes() == before
