"""`techsim plot`: every figure for run results and for sweep results, in every format.

The run is a tiny scenario run for real; sweeps are small grids run for real and written in
the sweep output schema (tests/plot_report_data.py). Figures that need data a run does not
have (behaviour.csv, attrition columns) appear exactly when the data do.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from PIL import Image
from plot_report_data import (
    add_behaviour,
    add_static_behaviour,
    forget_checksums,
    make_run,
    make_sweep,
    strip_behaviour,
    strip_fair_contest,
    sweep_dict,
    tiny_dict,
)

from sim.cli import report as cli_report
from sim.cli.main import main
from sim.plots.output import FORMATS, figures, render
from sim.plots.run import fig_kpi_comparison
from sim.plots.sweep import curve
from sim.report.build import FORMATS as REPORT_FORMATS
from sim.report.build import PDF_ENGINES
from sim.store.pay_changes import pay_changes
from sim.store.results import OKABE_ITO, load_results, scheme_colours

#: The figures of results made before the fair-contest KPIs (issue 9)
OLD_RUN_FIGURES = {
    "kpi_comparison",
    "paired_differences",
    "tradeoff",
    "customers_over_time",
    "tech_pay_change",
}
FAIR_CONTEST_FIGURES = {"margin_decomposition", "business_outcomes", "repeat_causes"}
RUN_FIGURES = OLD_RUN_FIGURES | FAIR_CONTEST_FIGURES
BEHAVIOUR_FIGURES = {"thoroughness_over_time", "quits_per_scheme"}
WEIGHT = "schemes.hybrid.weight"
CHURN = "customers.churn_per_problem.unresolved"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    return make_run(tmp_path_factory.mktemp("plots") / "run", reps=3)


def _variant(run_dir: Path, tmp_path_factory, name: str, *edits) -> Path:
    d = tmp_path_factory.mktemp("plots") / name
    shutil.copytree(run_dir, d)
    shutil.rmtree(d / "plots", ignore_errors=True)
    forget_checksums(d)  # the edits below change result files on purpose
    for edit in edits:
        edit(d)
    return d


@pytest.fixture(scope="module")
def legacy_dir(run_dir, tmp_path_factory) -> Path:
    return _variant(run_dir, tmp_path_factory, "legacy", strip_behaviour)


@pytest.fixture(scope="module")
def static_dir(run_dir, tmp_path_factory) -> Path:
    return _variant(run_dir, tmp_path_factory, "static", strip_behaviour, add_static_behaviour)


@pytest.fixture(scope="module")
def behaviour_dir(run_dir, tmp_path_factory) -> Path:
    return _variant(run_dir, tmp_path_factory, "learning", strip_behaviour, add_behaviour)


@pytest.fixture(scope="module")
def pre_fair_contest_dir(run_dir, tmp_path_factory) -> Path:
    return _variant(run_dir, tmp_path_factory, "old", strip_behaviour, strip_fair_contest)


@pytest.fixture(scope="module")
def sweep1_dir(tmp_path_factory) -> Path:
    return make_sweep(
        tmp_path_factory.mktemp("plots") / "sweep1",
        {WEIGHT: [0.0, 0.5, 1.0]},
        reps=2,
        sensitivity="morris",
    )


@pytest.fixture(scope="module")
def sweep2_dir(tmp_path_factory) -> Path:
    return make_sweep(
        tmp_path_factory.mktemp("plots") / "sweep2",
        {WEIGHT: [0.0, 1.0], CHURN: [0.1, 0.4]},
        reps=2,
        sensitivity="sobol",
    )


def _plot(path: Path, *args: str) -> set[str]:
    res = CliRunner().invoke(main, ["plot", str(path), *args])
    assert res.exit_code == 0, res.output
    return {p.stem for p in (path / "plots").iterdir()}


def _not_blank(png: Path) -> None:
    im = np.asarray(Image.open(png).convert("RGB"))
    assert im.shape[:2] == (840, 1500)  # 10 x 5.6 in at 150 dpi: slide size
    nonwhite = (im < 245).any(axis=2).mean()
    packed = (im[..., 0].astype(np.int32) << 16) | (im[..., 1].astype(np.int32) << 8) | im[..., 2]
    colours = len(np.unique(packed))
    assert nonwhite > 0.02, f"{png.name}: almost blank ({nonwhite:.3f} non-white)"
    assert colours > 50, f"{png.name}: only {colours} colours"


def test_run_figures(run_dir):
    got = _plot(run_dir)
    assert RUN_FIGURES <= got <= RUN_FIGURES | BEHAVIOUR_FIGURES
    for name in got:
        _not_blank(run_dir / "plots" / f"{name}.png")


def _names(path: Path) -> set[str]:
    return {spec.name for spec in figures(load_results(path))}


def test_behaviour_figures_skipped_without_the_data(legacy_dir, static_dir):
    """No behaviour.csv / attrition columns, or nothing that moves: no such figures."""
    assert _names(legacy_dir) == RUN_FIGURES
    assert _names(static_dir) == RUN_FIGURES


def test_fair_contest_figures_skipped_without_the_data(pre_fair_contest_dir):
    """Results made before runs.csv had the margin's parts and the business outcomes."""
    assert _names(pre_fair_contest_dir) == OLD_RUN_FIGURES


def test_margin_decomposition_is_drawn_from_the_runs(run_dir):
    """One waterfall panel per scheme against the baseline; its last bar is the margin
    difference of summary.csv, the other bars end where the sum of the parts so far ends."""
    res = load_results(run_dir)
    spec = next(s for s in figures(res) if s.name == "margin_decomposition")
    axes = [ax for ax in spec.figure.axes if ax.get_visible()]
    others = [s for s in res.schemes if s != res.baseline]
    assert [ax.get_title() for ax in axes] == [res.label(s) for s in others]
    runs = res.runs
    base = runs[runs.scheme == res.baseline].set_index("replication")
    parts = ["contract_revenue", "tm_revenue", "labour_cost", "visit_costs"]
    for ax, s in zip(axes, others):
        cur = runs[runs.scheme == s].set_index("replication")
        d = cur[parts] - base[parts].reindex(cur.index)
        steps = [d[p].mean() * (1 if i < 2 else -1) for i, p in enumerate(parts)]
        bars = sorted(ax.patches, key=lambda b: -b.get_y())  # top to bottom
        assert len(bars) == 5
        ends = np.cumsum(steps) * 1e-3
        for bar, end in zip(bars[:4], ends):
            assert bar.get_x() + bar.get_width() == pytest.approx(end, rel=1e-6, abs=1e-6)
        margin = res.summary.set_index(["scheme", "kpi"]).loc[(s, "margin"), "diff_mean"]
        assert bars[4].get_x() == 0 and bars[4].get_width() == pytest.approx(margin * 1e-3)
        assert ends[-1] == pytest.approx(margin * 1e-3, rel=1e-9)
    spec.figure.clear()


def test_behaviour_and_attrition_figures_when_the_data_exist(behaviour_dir):
    got = _plot(behaviour_dir)
    assert got == RUN_FIGURES | BEHAVIOUR_FIGURES
    for name in BEHAVIOUR_FIGURES:
        _not_blank(behaviour_dir / "plots" / f"{name}.png")


def test_one_parameter_sweep_figures(sweep1_dir):
    got = _plot(sweep1_dir)
    assert got == {"tradeoff", f"sweep_{WEIGHT}", "sensitivity_morris", "sensitivity_morris_2"}
    for name in got:
        _not_blank(sweep1_dir / "plots" / f"{name}.png")


def test_two_parameter_sweep_figures(sweep2_dir):
    got = _plot(sweep2_dir)
    assert got == {
        "tradeoff",
        f"sweep_{WEIGHT}",
        f"sweep_{CHURN}",
        "heatmap_first_time_fix_rate",
        "heatmap_retention_rate",
        "heatmap_jobs_per_tech_day",
        "heatmap_margin",
        "sensitivity_sobol",
        "sensitivity_sobol_2",
    }
    for name in got:
        _not_blank(sweep2_dir / "plots" / f"{name}.png")


def test_vector_formats(legacy_dir):
    _plot(legacy_dir, "--format", "svg")
    files = sorted((legacy_dir / "plots").glob("*.svg"))
    assert {p.stem for p in files} == RUN_FIGURES
    for p in files:
        assert p.read_bytes().startswith(b"<?xml") and b"<svg" in p.read_bytes()[:2000]
    spec = fig_kpi_comparison(load_results(legacy_dir))
    assert render(spec, "pdf").startswith(b"%PDF")
    assert set(FORMATS) == {"png", "svg", "pdf"}


def test_sweep_curve_is_the_summary_for_a_one_parameter_sweep(sweep1_dir):
    """The band of a 1-parameter sweep is each point's mean and 95% CI from summary.csv."""
    res = load_results(sweep1_dir)
    s = pd.read_csv(sweep1_dir / "summary.csv")
    for scheme in ("hybrid", "jobs_per_day"):
        for kpi in ("first_time_fix_rate", "margin"):
            cv = curve(res, kpi, WEIGHT, scheme).set_index("x")
            ref = s[(s.scheme == scheme) & (s.kpi == kpi)].set_index(WEIGHT)
            assert list(cv.index) == list(ref.index)
            for a, b in (("mean", "mean"), ("low", "ci_low"), ("high", "ci_high")):
                np.testing.assert_allclose(cv[a], ref[b], rtol=1e-9)


def test_continuous_designs_are_binned(sweep1_dir, tmp_path):
    """An LHS-like sweep (every point its own value) gives a curve over a few bins."""
    d = tmp_path / "lhs"
    shutil.copytree(sweep1_dir, d)
    runs = pd.read_parquet(d / "runs.parquet")
    runs[WEIGHT] = runs[WEIGHT] + runs["replication"] * 0.01 + runs["point"] * 0.001
    # make 30 distinct values by replicating the rows over fake points
    parts = [
        runs.assign(point=runs["point"] + 10 * k, **{WEIGHT: runs[WEIGHT] + k * 0.003})
        for k in range(5)
    ]
    pd.concat(parts).to_parquet(d / "runs.parquet", index=False)
    res = load_results(d)
    cv = curve(res, "first_time_fix_rate", WEIGHT, "hybrid")
    assert res.runs[WEIGHT].nunique() > 12
    assert 2 <= len(cv) <= 8
    assert _names(d) >= {f"sweep_{WEIGHT}", "tradeoff"}


def test_each_scheme_keeps_its_colour(run_dir):
    res = load_results(run_dir)
    assert res.schemes == list(tiny_dict()["schemes"])  # the manifest's order
    assert scheme_colours(res.schemes) == {s: OKABE_ITO[i] for i, s in enumerate(res.schemes)}
    spec = fig_kpi_comparison(res)
    for ax in spec.figure.axes[:3]:
        dots = [ln.get_color().lower() for ln in ax.get_lines() if ln.get_marker() == "o"]
        assert dots == [c.lower() for c in OKABE_ITO[: len(res.schemes)]]


def test_pay_changes_pair_each_technician_with_themselves(run_dir):
    res = load_results(run_dir)
    ch = pay_changes(res)
    t = pd.read_csv(run_dir / "technicians.csv")
    base = t[t.scheme == res.baseline].set_index(["replication", "tech"])["pay_per_day"]
    for s in res.schemes[1:]:
        cur = t[t.scheme == s].set_index(["replication", "tech"])["pay_per_day"]
        want = (cur - base).sort_index()
        got = ch[ch.scheme == s].set_index(["replication", "tech"])["change"].sort_index()
        assert len(got) == 3 * tiny_dict()["workforce"]["technicians"]
        np.testing.assert_allclose(got.to_numpy(), want.to_numpy())


def test_no_pyplot(legacy_dir, sweep1_dir, tmp_path):
    """Figures and reports never touch pyplot's global state (figure registry, backend)."""
    a, b = tmp_path / "a", tmp_path / "b"
    shutil.copytree(legacy_dir, a)
    shutil.copytree(sweep1_dir, b)
    code = (  # every figure (rendered by build_document) and both report renderers
        "import sys; from pathlib import Path\n"
        "from sim.store.results import load_results\n"
        "from sim.report.build import build_document; from sim.report.html import render_html\n"
        "from sim.report.pdf import pdf_with_matplotlib\n"
        f"sweep = build_document(load_results({str(b)!r}), dpi=20); render_html(sweep)\n"
        f"run = build_document(load_results({str(a)!r}), dpi=20); render_html(run)\n"
        f"pdf_with_matplotlib(run, Path({str(a)!r}) / 'report.pdf')\n"
        "print('matplotlib.pyplot' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_cli_choices_match_the_library():
    assert cli_report.PLOT_FORMATS == FORMATS
    assert cli_report.REPORT_FORMATS == REPORT_FORMATS
    assert cli_report.PDF_ENGINES == PDF_ENGINES


@pytest.mark.parametrize(
    "case,message",
    [
        ("missing", "no such directory"),
        ("empty", "not a techsim results directory (no manifest.json)"),
        ("bad_json", "manifest.json: not valid JSON"),
        ("no_summary", "not a techsim results directory (no summary.csv)"),
        ("bad_summary", "summary.csv: missing column(s) mean"),
        ("bad_kind", "kind: unknown kind 'experiment'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(run_dir, tmp_path, case, message):
    d = tmp_path / "res"
    if case != "missing":
        d.mkdir()
    if case in ("bad_json", "no_summary", "bad_summary", "bad_kind"):
        shutil.copy(run_dir / "manifest.json", d)
    if case == "bad_json":
        (d / "manifest.json").write_text("{not json")
    if case == "bad_kind":
        man = json.loads((d / "manifest.json").read_text())
        (d / "manifest.json").write_text(json.dumps({**man, "kind": "experiment"}))
        shutil.copy(run_dir / "summary.csv", d)
    if case == "bad_summary":
        forget_checksums(d)  # a hand-made summary: the column check, not the checksum
        pd.read_csv(run_dir / "summary.csv").drop(columns=["mean"]).to_csv(
            d / "summary.csv", index=False
        )
    for cmd in (["plot", str(d)], ["report", str(d)], ["report", str(d), "--format", "pdf"]):
        res = CliRunner().invoke(main, cmd)
        assert res.exit_code == 2, res.output
        lines = res.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: ")
        assert message in lines[0]
        assert "Traceback" not in res.output
        if d.exists():
            assert not (d / "plots").exists()
            assert not list(d.glob("report.*"))


def test_real_sweep_output(tmp_path):
    """`techsim sweep` output, once that command exists, plots and reports too."""
    import yaml

    scen = tmp_path / "tiny.yaml"
    scen.write_text(yaml.safe_dump(sweep_dict()))
    out = tmp_path / "sweep"
    res = CliRunner().invoke(
        main,
        [
            "sweep",
            str(scen),
            "--param",
            f"{WEIGHT}=0,1",
            "--reps",
            "2",
            "--workers",
            "1",
            "--out",
            str(out),
        ],
    )
    if "not built yet" in res.output:
        pytest.skip("techsim sweep is not built yet")
    assert res.exit_code == 0, res.output
    got = _plot(out)
    assert {"tradeoff", f"sweep_{WEIGHT}"} <= got
    for name in got:
        _not_blank(out / "plots" / f"{name}.png")


def test_morris_bars_are_drawn_in_the_axis_units(sweep1_dir):
    """mu* and sigma are in the KPI's units: a share's bar is in points, as its axis says."""
    from sim.metrics.catalogue import KPIS
    from sim.plots.sensitivity import fig_sensitivity

    res = load_results(sweep1_dir)
    kpi = "first_time_fix_rate"
    sens = res.sensitivity
    assert sens is not None
    scheme = res.schemes[0] if "scheme" in sens.columns else None
    spec = fig_sensitivity(res, "morris", scheme, 0, [kpi])
    assert spec is not None
    ax = spec.figure.axes[0]
    assert ax.get_xlabel() == f"mu* ({KPIS[kpi].diff_label})"
    row = sens[(sens["method"] == "morris") & (sens["kpi"] == kpi)]
    if scheme is not None:
        row = row[row["scheme"] == scheme]
    row = row.iloc[0]
    widths = sorted(abs(p.get_width()) for p in ax.patches)
    assert KPIS[kpi].scale == 100.0
    assert any(np.isclose(w, 100.0 * row["mu_star"]) for w in widths)
    assert any(np.isclose(w, 100.0 * row["sigma"]) for w in widths)
