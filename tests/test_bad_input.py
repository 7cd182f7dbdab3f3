"""Bad input, tried as a careless or hostile user would: one table of cases.

Each case sets up a working directory (a scenario file, an output folder, a damaged results
folder), runs one `techsim` command, and asserts what issue 11 asks of every bad input:
exit status 2 (or the status named in the case), one line on stderr naming the field or
file, no traceback, and no file that existed before changed, added or removed.

Cases are grouped by class (the first part of the id): `scenario` (the YAML file), `option`
(the command line), `folder` (output folders and resume), `damaged` (results read back by
plot, report and sensitivity) and `dask`. The scenarios are tiny and most cases fail before
anything is simulated, so the table runs in seconds.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import pickle
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from conftest import deep_merge, tiny_dict

from sim.cli.main import main

Setup = Callable[[Path], None]

#: The tiny scenario, cut to two schemes and a short horizon (the runs here stay sub-second).
SMALL = deep_merge(
    tiny_dict(),
    {"horizon_days": 60, "warmup_days": 10, "customers": {"count": 300}},
)
SMALL["schemes"] = {k: SMALL["schemes"][k] for k in ("jobs_per_day", "outcome_weighted")}


def small(over: dict[str, Any] | None = None) -> dict[str, Any]:
    return deep_merge(SMALL, over or {})


def yaml_text(over: dict[str, Any] | None = None) -> str:
    return yaml.safe_dump(small(over), sort_keys=False)


def write(name: str, content: str | bytes) -> Setup:
    """Setup: write `content` to `name` (a scenario file, usually)."""

    def setup(cwd: Path) -> None:
        p = cwd / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")

    return setup


def scenario(over: dict[str, Any] | None = None, text: str | None = None) -> Setup:
    """Setup: bad.yaml holding the small scenario with `over` merged in, or raw `text`."""
    return write("bad.yaml", yaml_text(over) if text is None else text)


def replace(old: str, new: str, count: int = 1) -> Setup:
    """Setup: bad.yaml = the small scenario's YAML with a textual edit."""
    text = yaml_text()
    assert old in text, old
    return scenario(text=text.replace(old, new, count))


def insert_after(line: str, extra: str) -> Setup:
    """Setup: bad.yaml with `extra` (lines, already indented) after the line `line`."""
    text = yaml_text()
    assert line + "\n" in text, line
    return scenario(text=text.replace(line + "\n", line + "\n" + extra, 1))


def ok_scenario(name: str = "ok.yaml", over: dict[str, Any] | None = None) -> Setup:
    """Setup: a valid small scenario file."""
    return write(name, yaml_text(over))


#: Where the good results of this session are built once (see `good`).
_BUILT: dict[str, Path] = {}
_BASE: list[Path] = []


def good(kind: str) -> Path:
    """A good results folder of the small scenario, built once per session: "run" (2
    replications), "sweep" (a sobol sweep, 8 points) or "other" (a run of another scenario)."""
    if kind not in _BUILT:
        base = _BASE[0] / kind
        base.mkdir(parents=True)
        (base / "s.yaml").write_text(
            yaml_text({"name": "other"} if kind == "other" else None), encoding="utf-8"
        )
        out = str(base / "out")
        if kind == "sweep":
            args = ["sweep", str(base / "s.yaml"), "--design", "sobol", "--samples", "2",
                    "-p", "quality.skill_effect=0.2:0.6", "-p", "workforce.skill_sd=0.05:0.2",
                    "--reps", "2", "--workers", "1", "--out", out, "--quiet"]  # fmt: skip
        else:
            args = ["run", str(base / "s.yaml"), "--reps", "2", "--workers", "1", "--out", out,
                    "--quiet"]  # fmt: skip
        res = CliRunner().invoke(main, args)
        assert res.exit_code == 0, res.output
        if kind == "sweep":
            res = CliRunner().invoke(main, ["sensitivity", out, "--quiet"])
            assert res.exit_code == 0, res.output
        _BUILT[kind] = Path(out)
    return _BUILT[kind]


def results(kind: str, to: str = "res", edit: Callable[[Path], None] | None = None) -> Setup:
    """Setup: a copy of good results of `kind` in `to`, then `edit(folder)` (the damage)."""

    def setup(cwd: Path) -> None:
        shutil.copytree(good(kind), cwd / to)
        (cwd / "ok.yaml").write_text(yaml_text(), encoding="utf-8")
        if edit is not None:
            edit(cwd / to)

    return setup


def both(*setups: Setup) -> Setup:
    def setup(cwd: Path) -> None:
        for s in setups:
            s(cwd)

    return setup


def cut(name: str, keep: float = 0.5) -> Callable[[Path], None]:
    """Damage: cut the file off at `keep` of its length (mid-line, as a full disk does)."""

    def edit(d: Path) -> None:
        data = (d / name).read_bytes()
        n = int(len(data) * keep)
        if data[n - 1 : n] == b"\n":
            n -= 1
        (d / name).write_bytes(data[:n])

    return edit


def flip(name: str) -> Callable[[Path], None]:
    """Damage: one digit changed in the middle of the file (a silent bit error)."""

    def edit(d: Path) -> None:
        data = bytearray((d / name).read_bytes())
        i = next(i for i in range(len(data) // 2, len(data)) if chr(data[i]).isdigit())
        data[i] = ord("7") if data[i] != ord("7") else ord("3")
        (d / name).write_bytes(bytes(data))

    return edit


def garble(name: str) -> Callable[[Path], None]:
    """Damage: bytes in the middle of a binary file overwritten."""

    def edit(d: Path) -> None:
        data = bytearray((d / name).read_bytes())
        mid = len(data) // 2
        data[mid : mid + 64] = b"\xde\xad" * 32
        (d / name).write_bytes(bytes(data[: len(data) - 16]))

    return edit


def manifest(**changes: Any) -> Callable[[Path], None]:
    """Damage: manifest.json with fields replaced (a wrong shape)."""

    def edit(d: Path) -> None:
        man = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
        for k, v in changes.items():
            if isinstance(v, dict) and isinstance(man.get(k), dict) and v.pop("__merge__", False):
                man[k] = {**man[k], **v}
            else:
                man[k] = v
        (d / "manifest.json").write_text(json.dumps(man), encoding="utf-8")

    return edit


def put(name: str, content: str | bytes) -> Callable[[Path], None]:
    """Damage: a file replaced (or added) with `content`."""

    def edit(d: Path) -> None:
        (d / name).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            (d / name).write_bytes(content)
        else:
            (d / name).write_text(content, encoding="utf-8")

    return edit


class _Pwn:
    """A pickle that would create the file `pwned` when loaded (it must never be)."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (Path("pwned"),))


@dataclass(frozen=True)
class Case:
    id: str
    setup: Setup
    args: tuple[str, ...]
    needles: tuple[str, ...]
    status: int = 2


RUN = ("run", "bad.yaml", "--reps", "2", "--quiet")

CASES: list[Case] = [
    # ---------------------------------------------------------------- scenario: numbers
    Case("scenario-inf-rate", replace("failures_per_year: 2.8", "failures_per_year: .inf"),
         RUN, ("bad.yaml", "customers.failures_per_year", "finite")),
    Case("scenario-nan-value", replace("annual_value: 1200", "annual_value: .nan"),
         RUN, ("bad.yaml", "customers.tiers.gold.annual_value", "finite")),
    Case("scenario-minus-inf-pay", replace(" per_visit: 45", " per_visit: -.inf"),
         RUN, ("bad.yaml", "schemes.jobs_per_day.per_visit", "finite")),
    Case("scenario-overflow-float", replace("horizon_days: 60", "horizon_days: 1.0e+400"),
         RUN, ("bad.yaml", "horizon_days", "finite")),
    Case("scenario-custom-nan-coefficient",
         scenario({"schemes": {"c": {"type": "custom", "per_hour": float("nan")}}}),
         RUN, ("bad.yaml", "schemes.c.per_hour", "finite")),
    Case("scenario-inf-pay-scale", scenario({"pay_scale": {"outcome_weighted": float("inf")}}),
         RUN, ("bad.yaml", "pay_scale.outcome_weighted", "finite")),
    Case("scenario-bool-count", replace("technicians: 4", "technicians: true"),
         RUN, ("bad.yaml", "workforce.technicians", "integer", "True")),
    Case("scenario-bool-probability", replace("churn_base: 0.05", "churn_base: yes"),
         RUN, ("bad.yaml", "customers.churn_base", "number", "True")),
    Case("scenario-replaced-churn-key",
         scenario({"customers": {"churn_after_bad_experience": 0.25}}), ("validate", "bad.yaml"),
         ("bad.yaml", "customers", "churn_after_bad_experience is gone", "churn_per_problem")),
    Case("scenario-bool-replications", replace("replications: 2", "replications: true"),
         ("validate", "bad.yaml"), ("bad.yaml", "replications", "integer")),
    Case("scenario-decimal-count", replace("count: 300", "count: 300.5"),
         RUN, ("bad.yaml", "customers.count", "integer", "300.5")),
    Case("scenario-float-for-whole", replace("days_per_week: 5", "days_per_week: 5.0"),
         RUN, ("bad.yaml", "workforce.days_per_week", "integer")),
    Case("scenario-quoted-number", replace("skill_sd: 0.12", "skill_sd: '0.12'"),
         RUN, ("bad.yaml", "workforce.skill_sd", "number", "'0.12'")),
    Case("scenario-null-number", replace("count: 300", "count: null"),
         RUN, ("bad.yaml", "customers.count", "integer", "None")),
    Case("scenario-date-for-number", replace("horizon_days: 60", "horizon_days: 2024-01-01"),
         RUN, ("bad.yaml", "horizon_days", "number")),
    Case("scenario-list-for-number", replace("warmup_days: 10", "warmup_days: [10, 20]"),
         RUN, ("bad.yaml", "warmup_days", "number")),
    Case("scenario-huge-integer", replace("count: 300", "count: " + "9" * 5000),
         RUN, ("bad.yaml", "line ", "too large", "5000 digits")),
    Case("scenario-int-beyond-int64", replace("seed: 11", f"seed: {2**70}"),
         RUN, ("bad.yaml", "line 3", "too large")),
    Case("scenario-float-seed", replace("seed: 11", "seed: 1.0e+30"),
         RUN, ("bad.yaml", "seed", "integer")),
    Case("scenario-negative-seed", replace("seed: 11", "seed: -1"),
         RUN, ("bad.yaml", "seed", "greater than or equal to 0")),
    Case("scenario-negative-referrals",
         scenario({"customers": {"referrals_per_promoter_year": -0.1}}),
         RUN, ("bad.yaml", "customers.referrals_per_promoter_year", "greater than or equal")),
    Case("scenario-explosive-referrals",
         scenario({"customers": {"referrals_per_promoter_year": 50}}),
         RUN, ("bad.yaml", "customers.referrals_per_promoter_year", "at most 3")),
    Case("scenario-decimal-weekend-cover", scenario({"workforce": {"weekend_cover": 1.5}}),
         RUN, ("bad.yaml", "workforce.weekend_cover", "integer")),
    Case("scenario-weekend-cover-over-crew", scenario({"workforce": {"weekend_cover": 5}}),
         RUN, ("bad.yaml", "workforce", "weekend_cover (5)", "technicians (4)")),
    Case("scenario-weekend-cover-without-weekend",
         scenario({"workforce": {"weekend_cover": 1, "days_per_week": 7}}),
         RUN, ("bad.yaml", "workforce", "weekend_cover", "days_per_week is 7")),
    # ---------------------------------------------------------------- scenario: YAML shape
    Case("scenario-deep-flow", scenario(text="name: x\nquality: " + "[" * 5000 + "]" * 5000),
         RUN, ("bad.yaml", "line 2", "nested more than")),
    Case("scenario-deep-block",
         scenario(text="name: x\n" + "".join("  " * i + f"k{i}:\n" for i in range(60))),
         RUN, ("bad.yaml", "nested more than")),
    Case("scenario-alias-bomb", scenario(text="name: x\n" + "".join(
        f"l{i}: &l{i} [{', '.join([f'*l{i - 1}' if i else 'x'] * 10)}]\n" for i in range(7)
    )), RUN, ("bad.yaml", "more than", "aliases")),
    Case("scenario-too-large-file", scenario(text="name: x\n" + "# padding\n" * 200_000),
         RUN, ("bad.yaml", "larger than")),
    Case("scenario-not-utf8", write("bad.yaml", b"name: \xff\xfe\x00binary\n"),
         RUN, ("bad.yaml", "UTF-8")),
    Case("scenario-python-tag",
         scenario(text='name: x\nseed: !!python/object/apply:os.system ["touch pwned"]\n'),
         RUN, ("bad.yaml", "YAML", "line 2")),
    Case("scenario-two-documents", scenario(text=yaml_text() + "---\nname: y\n"),
         RUN, ("bad.yaml", "YAML", "single document")),
    Case("scenario-tab-indent", scenario(text="name: x\ncustomers:\n\tcount: 3\n"),
         RUN, ("bad.yaml", "YAML", "line 3")),
    Case("scenario-mapping-for-name", replace("name: tiny", "name: {a: 1}"),
         RUN, ("bad.yaml", "name")),
    Case("scenario-empty-name", replace("name: tiny", "name: ''"),
         RUN, ("bad.yaml", "name", "at least 1")),
    Case("scenario-control-char-name", replace("name: tiny", 'name: "ti\\x1b[2Jny"'),
         RUN, ("bad.yaml", "name", "control character")),
    # ---------------------------------------------------------------- scenario: duplicate keys
    Case("scenario-duplicate-top-key", insert_after("seed: 11", "seed: 12\n"),
         RUN, ("bad.yaml", "line 4", "duplicate key 'seed'", "line 3")),
    Case("scenario-duplicate-scheme",
         insert_after("schemes:", "  outcome_weighted:\n    type: hourly\n"),
         RUN, ("bad.yaml", "duplicate key 'outcome_weighted'")),
    Case("scenario-duplicate-tier-field", insert_after("      share: 0.3", "      share: 0.4\n"),
         RUN, ("bad.yaml", "duplicate key 'share'")),
    Case("scenario-duplicate-flow-key", replace("dispatch: edf", "dispatch: {a: 1, a: 2}"),
         RUN, ("bad.yaml", "duplicate key 'a'")),
    Case("scenario-hybrid-same-twice",
         scenario({"schemes": {"h": {"type": "hybrid", "between": ["jobs_per_day"] * 2}}}),
         RUN, ("bad.yaml", "schemes.h.between", "itself")),
    # ---------------------------------------------------------------- scenario: sorting
    Case("scenario-sorting-unknown-reference",
         scenario({"attrition": {"enabled": True, "reference": "market"}}),
         RUN, ("bad.yaml", "attrition.reference", "outside_option")),
    Case("scenario-sorting-unknown-hiring",
         scenario({"attrition": {"enabled": True, "hiring": "best"}}),
         RUN, ("bad.yaml", "attrition.hiring", "selective")),
    Case("scenario-sorting-selective-without-lag",
         scenario({"attrition": {"enabled": True, "hiring": "selective", "hiring_lag_days": 0}}),
         RUN, ("bad.yaml", "attrition", "hiring_lag_days must be > 0")),
    Case("scenario-sorting-no-applicants",
         scenario({"attrition": {"max_applicants": 0}}),
         RUN, ("bad.yaml", "attrition.max_applicants", "1")),
    Case("scenario-sorting-premium-too-large",
         scenario({"attrition": {"outside_option": {"skill_premium": 3}}}),
         RUN, ("bad.yaml", "attrition.outside_option.skill_premium", "1")),
    Case("scenario-sorting-outside-pay-zero",
         scenario({"attrition": {"outside_option": {"pay_per_day": 0}}}),
         RUN, ("bad.yaml", "attrition.outside_option.pay_per_day", "0")),
    Case("scenario-sorting-unknown-key",
         scenario({"attrition": {"outside_option": {"wage": 200}}}),
         RUN, ("bad.yaml", "attrition.outside_option", "wage")),
    # ---------------------------------------------------------------- options
    Case("option-reps-one", ok_scenario(), ("run", "ok.yaml", "--reps", "1"), ("--reps",)),
    Case("option-reps-huge", ok_scenario(), ("run", "ok.yaml", "--reps", "10" * 10),
         ("--reps",)),
    Case("option-reps-text", ok_scenario(), ("run", "ok.yaml", "--reps", "many"), ("--reps",)),
    Case("option-reps-bool", ok_scenario(), ("run", "ok.yaml", "--reps", "true"), ("--reps",)),
    Case("option-seed-negative", ok_scenario(), ("run", "ok.yaml", "--seed", "-3"),
         ("--seed",)),
    Case("option-seed-huge", ok_scenario(), ("run", "ok.yaml", "--seed", str(2**64)),
         ("--seed",)),
    Case("option-workers-zero", ok_scenario(), ("run", "ok.yaml", "--workers", "0"),
         ("--workers",)),
    Case("option-workers-huge", ok_scenario(), ("run", "ok.yaml", "--workers", "100000"),
         ("--workers",)),
    Case("option-unknown-option", ok_scenario(), ("run", "ok.yaml", "--rep", "2"),
         ("--rep", "--help")),
    Case("option-unknown-command", ok_scenario(), ("runn", "ok.yaml"), ("runn",)),
    Case("option-out-empty", ok_scenario(), ("run", "ok.yaml", "--out", ""), ("--out", "empty")),
    Case("option-out-blank", ok_scenario(), ("sweep", "ok.yaml", "-p", "seed=1,2", "--out", " "),
         ("--out",)),
    Case("option-missing-scenario-file", ok_scenario(), ("run", "nothere.yaml"),
         ("nothere.yaml", "not found")),
    Case("option-sweep-no-param", ok_scenario(), ("sweep", "ok.yaml"), ("--param",)),
    Case("option-sweep-unknown-path", ok_scenario(),
         ("sweep", "ok.yaml", "-p", "customers.cout=1,2"), ("customers.cout", "count")),
    Case("option-sweep-inf-value", ok_scenario(),
         ("sweep", "ok.yaml", "-p", "customers.failures_per_year=1,inf"), ("finite",)),
    Case("option-sweep-nan-bound", ok_scenario(),
         ("sweep", "ok.yaml", "--design", "lhs", "-p", "quality.skill_effect=nan:1"),
         ("quality.skill_effect", "finite")),
    Case("option-sweep-bool-for-count", ok_scenario(),
         ("sweep", "ok.yaml", "-p", "workforce.technicians=true,2"),
         ("workforce.technicians", "'true'")),
    Case("option-sweep-decimal-for-count", ok_scenario(),
         ("sweep", "ok.yaml", "-p", "workforce.technicians=2.5,3"),
         ("workforce.technicians", "whole number")),
    Case("option-sweep-huge-grid-range", ok_scenario(),
         ("sweep", "ok.yaml", "-p", "workforce.skill_sd=0:1:1000000000"),
         ("workforce.skill_sd", "at most")),
    Case("option-sweep-huge-grid-product", ok_scenario(),
         ("sweep", "ok.yaml", *(a for k in ("skill_sd", "skill_mean", "travel_hours_cv",
                                             "travel_hours_mean")
                                 for a in ("-p", f"workforce.{k}=0.1:0.5:1000"))),
         ("--param", "points")),
    Case("option-sweep-huge-samples", ok_scenario(),
         ("sweep", "ok.yaml", "--design", "lhs", "--samples", "1000000000",
          "-p", "quality.skill_effect=0.1:0.5"), ("--samples", "points")),
    Case("option-sweep-samples-zero", ok_scenario(),
         ("sweep", "ok.yaml", "--design", "lhs", "--samples", "0",
          "-p", "quality.skill_effect=0.1:0.5"), ("--samples",)),
    Case("option-sweep-sobol-not-power", ok_scenario(),
         ("sweep", "ok.yaml", "--design", "sobol", "--samples", "6",
          "-p", "quality.skill_effect=0.1:0.5"), ("--samples", "power of 2")),
    Case("option-sweep-reps-per-task-zero", ok_scenario(),
         ("sweep", "ok.yaml", "-p", "seed=1,2", "--reps-per-task", "0"), ("--reps-per-task",)),
    Case("option-sweep-seed-path", ok_scenario(), ("sweep", "ok.yaml", "-p", "seed=1,2"),
         ("seed", "--seed")),
    Case("option-plot-format", results("run"), ("plot", "res", "--format", "gif"),
         ("--format", "gif")),
    Case("option-sensitivity-unknown-kpi", results("sweep"),
         ("sensitivity", "res", "--kpi", "happiness"), ("happiness",)),
    Case("option-sensitivity-overwrite-user-file",
         both(results("sweep"), write("notes.txt", "my notes\n")),
         ("sensitivity", "res", "--out", "notes.txt", "--quiet"), ("notes.txt", "never")),
    # ---------------------------------------------------------------- output folders
    Case("folder-out-below-a-file", both(ok_scenario(), write("afile", "x")),
         ("run", "ok.yaml", "--out", "afile/sub"), ("afile", "is a file")),
    Case("folder-out-is-a-file", both(ok_scenario(), write("afile", "x")),
         ("run", "ok.yaml", "--out", "afile"), ("--out", "afile")),
    Case("folder-out-unwritable", ok_scenario(), ("run", "ok.yaml", "--out", "/proc/1/techsim"),
         ("/proc/1", "not writable")),
    Case("folder-out-name-too-long", ok_scenario(), ("run", "ok.yaml", "--out", "a" * 300),
         ("--out", "longer than 255")),
    Case("folder-holds-users-runs-csv", both(ok_scenario(), write("mine/runs.csv", "a,b\n1,2\n")),
         ("run", "ok.yaml", "--out", "mine"), ("mine", "runs.csv", "did not write")),
    Case("folder-holds-users-parts", both(ok_scenario(), write("mine/parts/rep-00000.json", "{}")),
         ("run", "ok.yaml", "--out", "mine"), ("mine", "parts/rep-00000.json")),
    Case("folder-foreign-manifest",
         both(ok_scenario(), write("mine/manifest.json", '{"name": "not techsim"}')),
         ("sweep", "ok.yaml", "-p", "workforce.technicians=2,3", "--out", "mine"),
         ("mine", "manifest.json", "did not write")),
    Case("folder-parts-is-a-file", both(ok_scenario(), write("mine/parts", "x")),
         ("run", "ok.yaml", "--out", "mine"), ("mine", "parts")),
    Case("folder-other-scenario", results("other"), ("run", "ok.yaml", "--out", "res"),
         ("res", "'other'", "--force")),
    Case("folder-sweep-into-run", results("run"),
         ("sweep", "ok.yaml", "-p", "workforce.technicians=2,3", "--out", "res"),
         ("res", "run results", "--force")),
    Case("folder-run-into-sweep", results("sweep"), ("run", "ok.yaml", "--out", "res"),
         ("res", "sweep results", "--force")),
    Case("folder-resume-run-in-sweep", results("sweep"),
         ("run", "ok.yaml", "--out", "res", "--resume"), ("res", "cannot resume")),
    Case("folder-resume-changed-reps", results("run"),
         ("run", "ok.yaml", "--out", "res", "--resume", "--reps", "3"), ("res", "--reps")),
    Case("folder-resume-changed-scenario",
         both(results("run"), ok_scenario("changed.yaml", {"customers": {"count": 301}})),
         ("run", "changed.yaml", "--out", "res", "--resume", "--reps", "2"),
         ("res", "the scenario")),
    Case("folder-resume-pickle-part",
         results("run", edit=put("parts/rep-00000.pkl", pickle.dumps(_Pwn()))),
         ("run", "ok.yaml", "--out", "res", "--resume", "--reps", "2"),
         ("rep-00000.pkl", "never loaded")),
    Case("folder-resume-garbled-record", results("run", edit=put("parts/experiment.json", "{x")),
         ("run", "ok.yaml", "--out", "res", "--resume", "--reps", "2"),
         ("experiment.json", "unreadable")),
    Case("folder-resume-sweep-tasks-damaged",
         results("sweep", edit=manifest(tasks=[{"point": "zero"}])),
         ("sweep", "ok.yaml", "--design", "sobol", "--samples", "2", "--reps", "2",
          "-p", "quality.skill_effect=0.2:0.6", "-p", "workforce.skill_sd=0.05:0.2",
          "--out", "res", "--resume"), ("manifest.json", "tasks")),
    # ---------------------------------------------------------------- damaged results
    Case("damaged-runs-csv-cut", results("run", edit=cut("runs.csv")), ("plot", "res"),
         ("runs.csv", "damaged")),
    Case("damaged-summary-csv-cut", results("run", edit=cut("summary.csv", 0.9)),
         ("report", "res"), ("summary.csv", "damaged")),
    Case("damaged-technicians-digit", results("run", edit=flip("technicians.csv")),
         ("report", "res"), ("technicians.csv", "SHA-256")),
    Case("damaged-timeseries-emptied", results("run", edit=put("timeseries.csv", "")),
         ("plot", "res"), ("timeseries.csv", "damaged")),
    Case("damaged-summary-missing", results("run", edit=lambda d: (d / "summary.csv").unlink()),
         ("plot", "res"), ("res", "summary.csv")),
    Case("damaged-manifest-not-json", results("run", edit=put("manifest.json", '{"kind": "ru')),
         ("plot", "res"), ("manifest.json", "not valid JSON")),
    Case("damaged-manifest-deep-json",
         results("run", edit=put("manifest.json", "[" * 100_000 + "]" * 100_000)),
         ("report", "res"), ("manifest.json",)),
    Case("damaged-manifest-a-list", results("run", edit=put("manifest.json", "[1, 2]")),
         ("report", "res"), ("manifest.json", "JSON object")),
    Case("damaged-manifest-schemes-number", results("run", edit=manifest(schemes=5)),
         ("plot", "res"), ("manifest.json", "schemes")),
    Case("damaged-manifest-scenario-list", results("run", edit=manifest(scenario=[1])),
         ("report", "res"), ("manifest.json", "scenario")),
    Case("damaged-manifest-scenario-schemes",
         results("run", edit=manifest(scenario={"__merge__": True, "schemes": ["a"]})),
         ("report", "res"), ("manifest.json", "scenario.schemes")),
    Case("damaged-manifest-replications-text", results("run", edit=manifest(replications="x")),
         ("report", "res"), ("manifest.json", "replications")),
    Case("damaged-manifest-budget-factors",
         results("run", edit=manifest(budget_neutral={"factors": {"a": "big"}})),
         ("report", "res"), ("manifest.json", "budget_neutral")),
    Case("damaged-manifest-checksums-list", results("run", edit=manifest(checksums=[1])),
         ("plot", "res"), ("manifest.json", "checksums")),
    Case("damaged-manifest-kind", results("run", edit=manifest(kind="experiment")),
         ("plot", "res"), ("manifest.json", "kind")),
    Case("damaged-sweep-summary-parquet-sensitivity",
         results("sweep", edit=garble("summary.parquet")), ("sensitivity", "res"),
         ("summary.parquet", "damaged")),
    Case("damaged-sweep-summary-parquet-plot", results("sweep", edit=garble("summary.parquet")),
         ("plot", "res"), ("summary.parquet", "damaged")),
    Case("damaged-sweep-runs-parquet-report", results("sweep", edit=garble("runs.parquet")),
         ("report", "res"), ("runs.parquet", "damaged")),
    Case("damaged-sweep-parameters-number", results("sweep", edit=manifest(parameters=3)),
         ("plot", "res"), ("manifest.json", "parameters")),
    Case("damaged-sweep-design-shape",
         results("sweep", edit=manifest(design={"method": "sobol", "points": 3})),
         ("sensitivity", "res"), ("manifest.json", "design")),
    Case("damaged-sweep-sensitivity-csv-cut", results("sweep", edit=cut("sensitivity.csv")),
         ("plot", "res"), ("sensitivity.csv", "cut off")),
    Case("damaged-sweep-incomplete", results("sweep", edit=manifest(status="running")),
         ("sensitivity", "res"), ("res", "not complete")),
    Case("damaged-run-for-sensitivity", results("run"), ("sensitivity", "res"),
         ("res", "not of a sweep")),
    Case("damaged-results-is-a-file", write("res", "x"), ("plot", "res"), ("res", "directory")),
    Case("damaged-empty-folder", write("res/.keep", ""), ("report", "res"),
         ("res", "manifest.json")),
    # ---------------------------------------------------------------- Dask
    Case("dask-refused", ok_scenario(),
         ("run", "ok.yaml", "--scheduler", "tcp://127.0.0.1:1", "--connect-timeout", "1"),
         ("cannot connect to the Dask scheduler at tcp://127.0.0.1:1",)),
    Case("dask-unknown-scheme", ok_scenario(),
         ("run", "ok.yaml", "--scheduler", "foo://x:1", "--connect-timeout", "1"),
         ("foo://x:1", "scheme")),
    Case("dask-sweep-refused", ok_scenario(),
         ("sweep", "ok.yaml", "-p", "workforce.technicians=2,3", "--scheduler",
          "tcp://127.0.0.1:1", "--connect-timeout", "1"), ("cannot connect",)),
    Case("dask-timeout-zero", ok_scenario(),
         ("run", "ok.yaml", "--scheduler", "tcp://127.0.0.1:1", "--connect-timeout", "0"),
         ("--connect-timeout",)),
    # ---------------------------------------------------------------- sizes (resource guard)
    Case("size-huge-customers", scenario({"customers": {"count": 2_000_000_000}}),
         RUN, ("too large for this machine", "customers.count", "--force")),
    Case("size-huge-horizon", scenario({"horizon_days": 1.0e12}), RUN,
         ("too large", "horizon_days")),
    Case("size-huge-headcount", scenario({"workforce": {"technicians": 100_000_000}}), RUN,
         ("too large", "workforce.technicians")),
    Case("size-huge-reps", ok_scenario(), ("run", "ok.yaml", "--reps", "1000000"),
         ("1000000 replications", "too large", "--reps")),
    Case("size-huge-scenario-reps", scenario({"replications": 10**15}),
         ("run", "bad.yaml", "--quiet"), ("too large", "--reps")),
    Case("size-sweep-swept-count", ok_scenario(),
         ("sweep", "ok.yaml", "-p", "customers.count=1000,2000000000"),
         ("sweep (2 points", "too large")),
    Case("size-sweep-many-points", ok_scenario(),
         ("sweep", "ok.yaml", "--design", "lhs", "--samples", "300000", "--reps", "100",
          "-p", "quality.skill_effect=0.1:0.5"), ("300000 points", "too large")),
    Case("damaged-plots-is-a-file", results("run", edit=put("plots", "x")), ("plot", "res"),
         ("plots", "cannot be written")),
]  # fmt: skip


def _snapshot(root: Path) -> dict[str, str]:
    """Every file and folder under `root` -> SHA-256 of its content ('dir' for folders)."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        out[rel] = "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="session", autouse=True)
def _good_base(tmp_path_factory):
    _BASE.append(tmp_path_factory.mktemp("good"))


@pytest.fixture(autouse=True)
def _memory(monkeypatch):
    """The resource guard sees an 8 GiB machine, whatever this one has."""
    monkeypatch.setattr("sim.experiment.guard.available_memory", lambda: 8.0 * 2**30)


@pytest.fixture
def cwd(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def check(result: Any, status: int, needles: tuple[str, ...]) -> str:
    """Exit status, one line on stderr starting 'Error: ' with every needle, no traceback."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code == status, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    msg = result.stderr.strip()
    assert "\n" not in msg, f"more than one line: {msg!r}"
    assert msg.startswith("Error: "), msg
    for s in needles:
        assert s in msg, f"{s!r} not in {msg!r}"
    return msg


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(cwd, case: Case):
    case.setup(cwd)
    before = _snapshot(cwd.parent)
    result = CliRunner().invoke(main, list(case.args))
    check(result, case.status, case.needles)
    assert result.stdout.strip() == ""
    assert _snapshot(cwd.parent) == before, "a file was written, changed or removed"


def test_the_table_covers_every_class():
    by_class: dict[str, int] = {}
    for c in CASES:
        by_class[c.id.split("-")[0]] = by_class.get(c.id.split("-")[0], 0) + 1
    assert len({c.id for c in CASES}) == len(CASES), "duplicate case ids"
    assert by_class["scenario"] >= 20
    assert by_class["option"] >= 10
    assert by_class["folder"] >= 10
    assert by_class["damaged"] >= 10
    assert by_class["size"] >= 5


def test_a_merge_key_may_be_overridden(cwd):
    """`<<: *defaults` followed by an own value of the same key is YAML's override, not a
    duplicate."""
    text = yaml_text().replace("  shift_hours: 8\n", "  <<: {shift_hours: 7}\n  shift_hours: 8\n")
    (cwd / "ok.yaml").write_text(text, encoding="utf-8")
    res = CliRunner().invoke(main, ["validate", "ok.yaml"])
    assert res.exit_code == 0, res.output


# --------------------------------------------------------------------------- names
def test_markup_in_names_is_shown_literally(cwd):
    name = "[bold red]x[/] :smile: $\\alpha$ [link=http://a]y"
    (cwd / "s.yaml").write_text(yaml_text({"name": name}), encoding="utf-8")
    res = CliRunner().invoke(main, ["run", "s.yaml", "--reps", "2", "--workers", "1"])
    assert res.exit_code == 0, res.output
    assert f"{name} (2 replications)" in res.stdout
    folder = "bold_red_x_smile_alpha_link_http_a_y"
    assert f"writes to results/{folder}/" in res.stderr  # the mapping, said once
    assert (cwd / "results" / folder / "runs.csv").exists()


def test_a_name_longer_than_the_file_name_limit(cwd):
    name = "a very long scenario name " * 20
    (cwd / "s.yaml").write_text(yaml_text({"name": name}), encoding="utf-8")
    res = CliRunner().invoke(main, ["run", "s.yaml", "--reps", "2", "--workers", "1", "-q"])
    assert res.exit_code == 0, res.output
    (folder,) = (cwd / "results").iterdir()
    assert len(folder.name) <= 100 and (folder / "manifest.json").exists()


# --------------------------------------------------------------------------- folders
def test_files_techsim_did_not_write_survive_a_fresh_run(cwd):
    shutil.copytree(good("run"), cwd / "res")
    (cwd / "res" / "notes.md").write_text("mine", encoding="utf-8")
    (cwd / "res" / "parts" / "notes.txt").write_text("mine too", encoding="utf-8")
    (cwd / "ok.yaml").write_text(yaml_text(), encoding="utf-8")
    res = CliRunner().invoke(main, ["run", "ok.yaml", "--reps", "2", "--out", "res", "-q"])
    assert res.exit_code == 0, res.output
    assert (cwd / "res" / "notes.md").read_text(encoding="utf-8") == "mine"
    assert (cwd / "res" / "parts" / "notes.txt").read_text(encoding="utf-8") == "mine too"


def test_force_replaces_another_scenarios_results(cwd):
    shutil.copytree(good("other"), cwd / "res")
    (cwd / "ok.yaml").write_text(yaml_text(), encoding="utf-8")
    args = ["run", "ok.yaml", "--reps", "2", "--out", "res", "-q", "--force"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    assert '"scenario_name": "tiny"' in (cwd / "res" / "manifest.json").read_text("utf-8")


# --------------------------------------------------------------------------- parts
TABLES = ("runs.csv", "summary.csv", "technicians.csv", "timeseries.csv", "behaviour.csv")


def _resume_run(cwd: Path) -> Any:
    (cwd / "ok.yaml").write_text(yaml_text(), encoding="utf-8")
    args = ["run", "ok.yaml", "--reps", "2", "--out", "res", "--resume", "--workers", "1", "-q"]
    return CliRunner().invoke(main, args)


def test_parts_are_json_with_a_checksum_and_the_manifest_lists_them(cwd):
    out = good("run")
    man = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    parts = sorted((out / "parts").glob("rep-*"))
    assert [p.name for p in parts] == ["rep-00000.json", "rep-00001.json"]
    head = json.loads(parts[0].read_bytes().partition(b"\n")[0])
    assert head["schema"] == "techsim.part/1" and len(head["sha256"]) == 64
    for name in (*TABLES, "parts/rep-00000.json", "parts/rep-00001.json"):
        rec = man["checksums"][name]
        assert rec["sha256"] == hashlib.sha256((out / name).read_bytes()).hexdigest()
        assert rec["rows"] > 0


def test_resume_from_parts_alone_gives_identical_tables(cwd):
    shutil.copytree(good("run"), cwd / "res")
    for name in (*TABLES, "manifest.json"):
        (cwd / "res" / name).unlink()
    res = _resume_run(cwd)
    assert res.exit_code == 0, res.output
    for name in TABLES:
        assert (cwd / "res" / name).read_bytes() == (good("run") / name).read_bytes(), name


def test_resume_runs_a_damaged_part_again_and_names_it(cwd):
    shutil.copytree(good("run"), cwd / "res")
    flip("parts/rep-00001.json")(cwd / "res")
    res = _resume_run(cwd)
    assert res.exit_code == 0, res.output
    assert "parts/rep-00001.json: damaged" in res.stderr and "again" in res.stderr
    for name in TABLES:
        assert (cwd / "res" / name).read_bytes() == (good("run") / name).read_bytes(), name


def test_sweep_resume_runs_a_garbled_part_again(cwd):
    shutil.copytree(good("sweep"), cwd / "res")
    part = sorted((cwd / "res" / "parts").glob("p*.parquet"))[0]
    garble(f"parts/{part.name}")(cwd / "res")
    (cwd / "ok.yaml").write_text(yaml_text(), encoding="utf-8")
    args = ["sweep", "ok.yaml", "--design", "sobol", "--samples", "2", "--reps", "2",
            "-p", "quality.skill_effect=0.2:0.6", "-p", "workforce.skill_sd=0.05:0.2",
            "--out", "res", "--resume", "--workers", "1", "-q"]  # fmt: skip
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    assert f"{part.name}: damaged" in res.stderr
    for name in ("runs.parquet", "summary.csv"):
        assert (cwd / "res" / name).read_bytes() == (good("sweep") / name).read_bytes(), name


def test_a_server_that_is_not_dask_is_one_line(cwd):
    """Something else answers at the address (it sends garbage): one line, at once."""
    import socket
    import threading
    import time

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = srv.accept()
                conn.sendall(b"\xff" * 64)
                conn.close()

    threading.Thread(target=serve, daemon=True).start()
    (cwd / "ok.yaml").write_text(yaml_text(), encoding="utf-8")
    address = f"tcp://127.0.0.1:{srv.getsockname()[1]}"
    t0 = time.perf_counter()
    res = CliRunner().invoke(main, ["run", "ok.yaml", "--scheduler", address,
                                    "--connect-timeout", "2"])  # fmt: skip
    srv.close()
    check(res, 2, ("cannot connect to the Dask scheduler", address))
    assert time.perf_counter() - t0 < 10
    assert not (cwd / "results").exists()


# --------------------------------------------------------------------------- SIGTERM
def test_sigterm_keeps_finished_replications_and_resumes(tmp_path):
    """SIGTERM is handled like Ctrl-C: finished replications kept, one message, exit 143,
    and --resume finishes the run."""
    import os
    import signal
    import subprocess
    import sys
    import time

    (tmp_path / "s.yaml").write_text(yaml_text({"replications": 40}), encoding="utf-8")
    cmd = [sys.executable, "-m", "sim.cli.main", "run", "s.yaml", "--out", "out", "--workers",
           "1", "--quiet"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    parts = tmp_path / "out" / "parts"
    deadline = time.monotonic() + 60
    while not (parts / "rep-00001.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.skip("the run finished before SIGTERM arrived")
    assert proc.returncode == 143, err
    assert err.startswith("Terminated: ") and "--resume" in err and "Traceback" not in err
    kept = len(list(parts.glob("rep-*.json")))
    assert 2 <= kept < 40
    done = subprocess.run([*cmd, "--resume"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    man = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert man["resumed_replications"] == kept


def test_force_runs_what_the_guard_refuses(cwd, monkeypatch):
    monkeypatch.setattr("sim.experiment.guard.available_memory", lambda: 1.0e6)
    (cwd / "ok.yaml").write_text(yaml_text(), encoding="utf-8")
    args = ["run", "ok.yaml", "--reps", "2", "--workers", "1", "-q"]
    check(CliRunner().invoke(main, args), 2, ("too large", "--force"))
    assert not (cwd / "results").exists()
    res = CliRunner().invoke(main, [*args, "--force"])
    assert res.exit_code == 0, res.output
