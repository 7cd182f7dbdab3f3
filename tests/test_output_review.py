"""The output side after the review: reproducible SVG, one-line errors, a light `--help`."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner
from plot_report_data import make_run

from sim.cli.main import main
from sim.plots.output import render
from sim.plots.run import fig_kpi_comparison
from sim.store.results import load_results


def test_svg_is_byte_identical_for_the_same_results(tmp_path):
    res = load_results(make_run(tmp_path / "run", reps=2))
    a = render(fig_kpi_comparison(res), "svg")
    b = render(fig_kpi_comparison(res), "svg")
    assert a == b


def test_sensitivity_of_a_broken_manifest_is_one_line(tmp_path):
    (tmp_path / "manifest.json").write_text("{oops", encoding="utf-8")
    r = CliRunner().invoke(main, ["sensitivity", str(tmp_path)])
    assert r.exit_code == 2
    assert r.output.strip().splitlines() == [r.output.strip()]
    assert "manifest.json: not valid JSON" in r.output
    (tmp_path / "manifest.json").write_text('{"kind": "sweep"}', encoding="utf-8")
    r = CliRunner().invoke(main, ["sensitivity", str(tmp_path)])
    assert r.exit_code == 2 and "manifest.json: design.method: missing" in r.output
    assert not (tmp_path / "sensitivity.csv").exists()


def test_the_command_line_imports_no_pandas_or_matplotlib():
    code = (
        "import sys, sim.cli.main; "
        "print(sorted(m for m in ('pandas', 'matplotlib', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
