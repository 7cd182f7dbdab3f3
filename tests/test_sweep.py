"""`techsim sweep`: parameter parsing, designs, bad input, tables, workers, resume checks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from sim.cli.main import main
from sim.experiment.guard import estimate_replication_seconds
from sim.experiment.tasks import RUN_ID_COLUMNS
from sim.metrics.kpis import KPI_COLUMNS
from sim.metrics.stats import SUMMARY_COLUMNS, summarise
from sim.sweep.chunks import TARGET_TASK_SECONDS, Chunk, make_chunks
from sim.sweep.design import make_design, point_scenarios
from sim.sweep.params import SweepInputError, parse_param
from sim.sweep.runner import SweepFailed, run_sweep

#: Overrides of the shared tiny scenario (tests/conftest.py): ~0.02 s per replication.
SMALL = {"customers": {"count": 200}, "horizon_days": 45, "warmup_days": 10}

GRID = [
    "schemes.hybrid.weight=0,0.5,1",
    "customers.churn_per_problem.unresolved=0.2,0.4",
]


def write_yaml(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def small(make_tiny_dict):
    return make_tiny_dict(SMALL)


@pytest.fixture(scope="module")
def small_sc(make_tiny):
    return make_tiny(SMALL)


@pytest.fixture(scope="module")
def resolved(small_sc):
    """The resolved scenario dict (defaults filled in): what paths are looked up in."""
    return small_sc.model_dump(mode="json")


@pytest.fixture(scope="module")
def reference(small_sc, tmp_path_factory):
    """The grid sweep on one worker, in this process: what every other run must equal."""
    d = make_design(small_sc, GRID, "grid")
    return run_sweep(
        small_sc, d, tmp_path_factory.mktemp("ref"), replications=4, workers=1, chunk=2
    )


# --------------------------------------------------------------------------- parsing
def test_parse_values_lists_and_ranges(resolved):
    small = resolved
    assert parse_param("schemes.hybrid.weight=0,0.25,1", small, "grid").values == (0.0, 0.25, 1.0)
    p = parse_param("schemes.hybrid.weight=0:1:5", small, "grid")
    assert p.values == (0.0, 0.25, 0.5, 0.75, 1.0) and p.kind == "float"
    p = parse_param("customers.count=100:10000:3:log", small, "grid")
    assert p.values == (100, 1000, 10000) and all(isinstance(v, int) for v in p.values)
    p = parse_param("workforce.technicians=2:8:4", small, "grid")
    assert p.values == (2, 4, 6, 8)
    p = parse_param("workforce.dispatch=edf,fifo", small, "grid")
    assert p.values == ("edf", "fifo")
    p = parse_param("quality.skill_effect=0.1:0.6", small, "lhs")
    assert (p.lo, p.hi, p.log) == (0.1, 0.6, False)
    assert parse_param("customers.count=100:1000:log", small, "sobol").log


@pytest.mark.parametrize(
    "text, design, message",
    [
        (
            "workforce.technicans=2,3",
            "grid",
            "no such field in workforce; did you mean 'workforce.technicians'?",
        ),
        ("customers=1,2", "grid", "customers: is a section"),
        ("schemes.nosuch.weight=1", "grid", "schemes.nosuch.weight: no such field in schemes"),
        ("workforce.technicians.x=1", "grid", "workforce.technicians.x: no such field"),
        ("workforce.technicians=a,b", "grid", "workforce.technicians: 'a' is not a number"),
        ("workforce.technicians=2.5,3", "grid", "'2.5' is not a whole number"),
        ("schemes.hybrid.weight", "grid", "expected PATH=VALUES"),
        ("schemes.hybrid.weight=", "grid", "schemes.hybrid.weight: no values given"),
        ("schemes.hybrid.weight=0:1", "grid", "a grid range is lo:hi:n"),
        ("schemes.hybrid.weight=0:1:1", "grid", "at least 2"),
        ("schemes.hybrid.weight=0:1:x", "grid", "must be a whole number"),
        ("schemes.hybrid.weight=0,0", "grid", "repeated values"),
        ("nps.promoter=0:1:3:log", "grid", "a log range needs lo, hi > 0"),
        ("workforce.technicians=2:4:5", "grid", "repeated whole numbers"),
        ("workforce.dispatch=a:b:3", "grid", "a range needs a numeric field"),
        ("schemes.hybrid.between=a,b", "grid", "is a list"),
        ("seed=1,2", "grid", "seed: cannot be swept (use --seed)"),
        ("schemes.hybrid.type=hourly", "grid", "a scheme's type cannot be swept"),
        ("schemes.hybrid.weight=0,1", "lhs", "give lo:hi or lo:hi:log, not a list"),
        ("schemes.hybrid.weight=0:1:4", "sobol", "takes lo:hi or lo:hi:log"),
        ("schemes.hybrid.weight=1:0", "lhs", "lo < hi"),
    ],
)
def test_bad_param(resolved, text, design, message):
    with pytest.raises(SweepInputError) as exc:
        parse_param(text, resolved, design)
    assert message in str(exc.value)


@pytest.mark.parametrize(
    "params, message",
    [
        (
            ["customers.churn_base=0.1,1.5"],
            (
                "point 1 (customers.churn_base=1.5): customers.churn_base: "
                "Input should be less than or equal to 1"
            ),
        ),
        (
            ["jobs.types.complex.share=0.1,0.3"],
            "point 0 (jobs.types.complex.share=0.1): jobs: types: shares must add up to 1",
        ),
        (
            ["customers.churn_per_problem.unresolved=0.3,1.2"],
            (
                "point 1 (customers.churn_per_problem.unresolved=1.2): "
                "customers.churn_per_problem.unresolved: Input should be less than or equal to 1"
            ),
        ),
        (["workforce.dispatch=edf,lifo"], "workforce.dispatch: Input should be 'edf' or 'fifo'"),
        (["warmup_days=10,100"], "warmup_days (100) must be shorter than horizon_days"),
        (
            ["budget_neutral=false,true"],
            "point 1 (budget_neutral=True): budget_neutral: sweeps do not run the budget-neutral",
        ),
    ],
)
def test_every_point_is_validated_before_running(small_sc, params, message):
    d = make_design(small_sc, params, "grid")
    with pytest.raises(SweepInputError) as exc:
        point_scenarios(small_sc, d)
    assert message in str(exc.value)


def test_rebalance_shares_keeps_group_summing_to_one(small_sc):
    d = make_design(small_sc, ["jobs.types.complex.share=0.05,0.45"], "grid", rebalance_shares=True)
    pts = point_scenarios(small_sc, d)
    for p, share in zip(pts, (0.05, 0.45)):
        types = p.jobs.types
        assert types["complex"].share == share
        assert sum(t.share for t in types.values()) == pytest.approx(1.0)
        # the others keep their ratio
        assert types["simple"].share / types["standard"].share == pytest.approx(0.5 / 0.35)


def test_bad_input_cli_exit_2_names_path_and_writes_nothing(small, tmp_path):
    scen = write_yaml(tmp_path / "s.yaml", small)
    out = tmp_path / "out"
    cases = [
        (["-p", "workforce.technicans=2,3"], "workforce.technicans"),
        (["-p", "workforce.technicians=two"], "workforce.technicians"),
        (["-p", "customers.churn_base=0.5,2"], "customers.churn_base"),
        (["-p", "jobs.types.complex.share=0.1,0.3"], "jobs.types.complex.share"),
        (["-p", "schemes.hybrid.weight=0,1", "--design", "lhs"], "schemes.hybrid.weight"),
        (["-p", "schemes.hybrid.weight=0:1", "--design", "sobol", "--samples", "6"], "power of 2"),
        (["-p", "schemes.hybrid.weight=0,1", "--samples", "4"], "--samples"),
    ]
    for args, named in cases:
        r = CliRunner().invoke(main, ["sweep", str(scen), *args, "--out", str(out), "-q"])
        assert r.exit_code == 2, (args, r.output)
        assert named in r.output and "Traceback" not in r.output
        assert len(r.output.strip().splitlines()) == 1, r.output
        assert not out.exists()


# --------------------------------------------------------------------------- designs
def test_grid_crosses_values(small_sc):
    d = make_design(small_sc, GRID, "grid")
    assert [p.values for p in d.points][:3] == [
        {"schemes.hybrid.weight": 0.0, "customers.churn_per_problem.unresolved": 0.2},
        {"schemes.hybrid.weight": 0.0, "customers.churn_per_problem.unresolved": 0.4},
        {"schemes.hybrid.weight": 0.5, "customers.churn_per_problem.unresolved": 0.2},
    ]
    assert len(d.points) == 6


def test_sampled_designs_are_seeded_and_inside_ranges(small_sc):
    params = [
        "quality.skill_effect=0.1:0.6",
        "workforce.technicians=2:5",
        "customers.count=100:400:log",
    ]
    a = make_design(small_sc, params, "lhs", 8, seed=3)
    b = make_design(small_sc, params, "lhs", 8, seed=3)
    c = make_design(small_sc, params, "lhs", 8, seed=4)
    assert a.spec() == b.spec() and a.spec() != c.spec()
    assert len(a.points) == 8
    for p in a.points:
        v = p.values
        assert 0.1 <= v["quality.skill_effect"] <= 0.6
        assert isinstance(v["workforce.technicians"], int) and 2 <= v["workforce.technicians"] <= 5
        assert 100 <= v["customers.count"] <= 400
        assert 2 <= p.x[2] <= np.log10(400) + 1e-12  # sampled in log10 space
    assert len(make_design(small_sc, params, "sobol", 8).points) == 8 * (3 + 2)
    assert len(make_design(small_sc, params, "morris", 5).points) == 5 * (3 + 1)


def test_task_chunks_cover_every_replication_once(small_sc, make_tiny):
    tasks = make_chunks([small_sc, small_sc], reps=7, chunk=3)
    assert [t.id for t in tasks[:4]] == [
        "p00000-r0000-0002",
        "p00000-r0003-0005",
        "p00000-r0006-0006",
        "p00001-r0000-0002",
    ]
    assert sum(t.n_reps for t in tasks) == 14
    # auto size: about TARGET_TASK_SECONDS of estimated work, never more than all reps
    auto = make_chunks([small_sc], reps=50)
    est = estimate_replication_seconds(small_sc)
    k = min(50, int(np.ceil(TARGET_TASK_SECONDS / est)))
    assert len(auto) == int(np.ceil(50 / k))
    assert max(t.n_reps for t in auto) - min(t.n_reps for t in auto) <= 1
    assert [t.first for t in auto] == [0] + [t.last + 1 for t in auto[:-1]]
    assert auto[-1].last == 49
    big = make_tiny({**SMALL, "customers": {"count": 1_000_000}})
    assert make_chunks([big], reps=5) == [Chunk(0, r, r) for r in range(5)]


def test_auto_chunks_have_near_equal_sizes(small_sc, monkeypatch):
    import sim.sweep.chunks as chunks

    monkeypatch.setattr(chunks, "reps_per_task", lambda scenario, reps: 3)
    assert [t.n_reps for t in make_chunks([small_sc], reps=10)] == [3, 3, 2, 2]
    assert [t.n_reps for t in make_chunks([small_sc], reps=4)] == [2, 2]
    assert [t.n_reps for t in make_chunks([small_sc], reps=10, chunk=3)] == [3, 3, 3, 1]


# --------------------------------------------------------------------------- running
def test_grid_sweep_tables(reference, small_sc):
    runs, summary = reference.runs, reference.summary
    paths = ["schemes.hybrid.weight", "customers.churn_per_problem.unresolved"]
    assert list(runs.columns) == ["point", *paths, *RUN_ID_COLUMNS, *KPI_COLUMNS]
    assert list(summary.columns) == ["point", *paths, *SUMMARY_COLUMNS]
    n_s = len(small_sc.schemes)
    assert len(runs) == 6 * n_s * 4
    assert not runs.duplicated(["point", "scheme", "replication"]).any()
    # the swept values are in the rows of their point
    w = runs.groupby("point")["schemes.hybrid.weight"].unique()
    assert [list(v) for v in w] == [[0.0], [0.0], [0.5], [0.5], [1.0], [1.0]]
    # summary: the same numbers as sim.metrics.stats.summarise grouped by point
    ref = summarise(
        runs.drop(columns=paths), list(KPI_COLUMNS), small_sc.baseline_scheme, group=["point"]
    )
    pd.testing.assert_frame_equal(summary.drop(columns=paths), ref)
    base = summary[summary["scheme"] == small_sc.baseline_scheme]
    assert (base["diff_mean"].dropna() == 0).all()
    # common random numbers: the baseline does not depend on the hybrid's weight
    jpd = runs[runs["scheme"] == "jobs_per_day"].set_index(["point", "replication"])
    for a, b in ((0, 2), (1, 5)):
        pd.testing.assert_frame_equal(jpd.loc[a][list(KPI_COLUMNS)], jpd.loc[b][list(KPI_COLUMNS)])
    hyb = runs[runs["scheme"] == "hybrid"].set_index(["point", "replication"])
    assert not hyb.loc[0]["first_time_fix_rate"].equals(hyb.loc[4]["first_time_fix_rate"])
    # hybrid with weight 0 is jobs_per_day, with weight 1 outcome_weighted, run for run
    ow = runs[runs["scheme"] == "outcome_weighted"].set_index(["point", "replication"])
    pd.testing.assert_series_equal(hyb.loc[0]["margin"], jpd.loc[0]["margin"])
    pd.testing.assert_series_equal(hyb.loc[4]["margin"], ow.loc[4]["margin"])


def test_files_and_manifest(reference):
    out = reference.out_dir
    for f in ("runs.parquet", "summary.parquet", "summary.csv", "manifest.json"):
        assert (out / f).exists()
    pd.testing.assert_frame_equal(pd.read_parquet(out / "runs.parquet"), reference.runs)
    m = json.loads((out / "manifest.json").read_text())
    assert m["kind"] == "sweep" and m["status"] == "complete"
    assert m["parameters"] == [
        {"path": "schemes.hybrid.weight", "type": "float", "values": [0.0, 0.5, 1.0]},
        {"path": "customers.churn_per_problem.unresolved", "type": "float", "values": [0.2, 0.4]},
    ]
    assert m["design"]["method"] == "grid" and len(m["design"]["points"]) == 6
    assert m["replications"] == 4 and m["seed"] == reference.manifest["scenario"]["seed"]
    assert len(m["scenario_hash"]) == 16 and m["scenario"]["name"] == "tiny"
    assert {"SALib", "dask", "numpy", "pandas", "simpy"} <= set(m["versions"])
    assert [t["id"] for t in m["tasks"]] == sorted(p.stem for p in (out / "parts").iterdir())
    assert len(m["tasks"]) == 12


def test_two_workers_same_numbers(reference, small_sc, tmp_path):
    d = make_design(small_sc, GRID, "grid")
    two = run_sweep(small_sc, d, tmp_path, replications=4, workers=2, chunk=1)
    pd.testing.assert_frame_equal(two.runs, reference.runs)
    pd.testing.assert_frame_equal(two.summary, reference.summary)
    assert two.manifest["executor"]["workers"] == 2 and len(two.manifest["tasks"]) == 24


def test_lhs_sweep_via_cli(small, tmp_path):
    scen = write_yaml(tmp_path / "s.yaml", small)
    out = tmp_path / "lhs"
    r = CliRunner().invoke(
        main,
        [
            "sweep",
            str(scen),
            "--design",
            "lhs",
            "--samples",
            "5",
            "--reps",
            "2",
            "--workers",
            "1",
            "-p",
            "workforce.technicians=2:6",
            "-p",
            "schemes.outcome_weighted.per_first_time_fix=0:80",
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "Best and worst points" in r.output and "first-time fix" in r.output
    runs = pd.read_parquet(out / "runs.parquet")
    assert runs["point"].nunique() == 5 and len(runs) == 5 * 4 * 2
    techs = runs.groupby("point")["workforce.technicians"].first()
    assert techs.dtype.kind == "i" and techs.between(2, 6).all()
    s = pd.read_csv(out / "summary.csv")
    assert set(s["kpi"]) == set(KPI_COLUMNS)
    m = json.loads((out / "manifest.json").read_text())
    assert m["parameters"][0] == {
        "path": "workforce.technicians",
        "type": "int",
        "range": [2.0, 6.0],
        "scale": "linear",
    }


def test_resume_refuses_another_sweep(small, reference, tmp_path):
    scen = write_yaml(tmp_path / "s.yaml", small)
    out = tmp_path / "o"
    args = [
        "sweep",
        str(scen),
        "-p",
        "schemes.hybrid.weight=0,1",
        "--reps",
        "2",
        "--workers",
        "1",
        "--out",
        str(out),
        "-q",
    ]
    assert CliRunner().invoke(main, args).exit_code == 0
    r = CliRunner().invoke(main, [*args[:3], "schemes.hybrid.weight=0,0.5", *args[4:], "--resume"])
    assert r.exit_code == 2 and "cannot resume: the design" in r.output
    other = write_yaml(tmp_path / "t.yaml", dict(small, horizon_days=50))
    r = CliRunner().invoke(main, [args[0], str(other), *args[2:], "--resume"])
    assert r.exit_code == 2 and "cannot resume: the scenario changed" in r.output
    r = CliRunner().invoke(main, [*args, "--resume", "--seed", "99"])
    assert r.exit_code == 2 and "--seed changed" in r.output
    # a finished sweep resumes to the same files without running anything
    before = pd.read_parquet(out / "runs.parquet")
    r = CliRunner().invoke(main, [*args, "--resume"])
    assert r.exit_code == 0
    m = json.loads((out / "manifest.json").read_text())
    assert m["resumed_tasks"] == len(m["tasks"])
    pd.testing.assert_frame_equal(pd.read_parquet(out / "runs.parquet"), before)


def test_failed_task_keeps_parts_and_resume_finishes(small_sc, reference, tmp_path, monkeypatch):
    """A task that raises: the others are kept, the sweep says so, --resume completes it."""
    import sim.sweep.chunks as chunks

    real = chunks.run_chunk

    def flaky(data, seed, point, first, last):
        if point == 3:
            raise RuntimeError("boom")
        return real(data, seed, point, first, last)

    monkeypatch.setattr(chunks, "run_chunk", flaky)
    d = make_design(small_sc, GRID, "grid")
    with pytest.raises(SweepFailed, match=r"2 of 12 tasks failed .*boom.*--resume"):
        run_sweep(small_sc, d, tmp_path, replications=4, workers=1, chunk=2)
    assert len(list((tmp_path / "parts").glob("*.parquet"))) == 10
    assert json.loads((tmp_path / "manifest.json").read_text())["status"] == "incomplete"
    monkeypatch.setattr(chunks, "run_chunk", real)
    res = run_sweep(small_sc, d, tmp_path, replications=4, workers=1, resume=True)
    assert res.manifest["resumed_tasks"] == 10
    pd.testing.assert_frame_equal(res.runs, reference.runs)
