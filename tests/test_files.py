"""Result files: written atomically, with the permissions the user's umask gives a new file.

A colleague on a shared folder, or a web server serving the report, must be able to read
what techsim writes under the usual umask 022; a private umask 077 keeps it private.
Every file techsim writes goes through `sim.store.files` (a static check below), so the
unit tests of `atomic_write_bytes` cover them all; one run with its report and figures
checks the result as a user sees it.
"""

from __future__ import annotations

import ast
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO, tiny_dict, write_yaml

from sim.cli.main import main
from sim.store.files import atomic_write_bytes, atomic_write_text, write_json

SIM = REPO / "sim"


@contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002], ids=oct)
def test_new_file_gets_the_umask_mode(tmp_path, mask):
    with umask(mask):
        atomic_write_bytes(tmp_path / "a.bin", b"x")
        atomic_write_text(tmp_path / "sub" / "b.txt", "y")
        write_json(tmp_path / "c.json", {"k": 1})
    for name in ("a.bin", "sub/b.txt", "c.json"):
        assert mode(tmp_path / name) == 0o666 & ~mask, name
    assert mode(tmp_path / "sub") == 0o777 & ~mask
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.bin", "b.txt", "c.json", "sub"]


def test_replacing_a_private_file_gives_the_umask_mode(tmp_path):
    target = tmp_path / "runs.csv"
    target.write_text("old")
    target.chmod(0o600)  # as earlier versions left every result file
    with umask(0o022):
        atomic_write_text(target, "new")
    assert target.read_text() == "new" and mode(target) == 0o644


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "summary.csv"
    target.write_text("old")

    def fail(*_args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.csv"]


def test_a_run_its_report_and_figures_are_readable_by_others(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_yaml(tmp_path / "tiny.yaml", tiny_dict())
    runner = CliRunner()
    with umask(0o022):
        res = runner.invoke(
            main,
            ["run", "tiny.yaml", "--reps", "2", "--out", "out", "--quiet", "--workers", "1",
             "--report"],
        )  # fmt: skip
        assert res.exit_code == 0, res.output
        res = runner.invoke(main, ["plot", "out", "--format", "svg"])
        assert res.exit_code == 0, res.output
    out = tmp_path / "out"
    files = [p for p in out.rglob("*") if p.is_file()]
    suffixes = {p.suffix for p in files}
    assert {".csv", ".json", ".html", ".svg"} <= suffixes, suffixes
    for p in files:
        assert mode(p) == 0o644, (p.relative_to(out), oct(mode(p)))
    for d in [out, *(p for p in out.rglob("*") if p.is_dir())]:
        assert mode(d) == 0o755, d


# --------------------------------------------------------------------------- one writer

#: Calls that write a file when given a path; into an in-memory buffer (named `buf` by
#: convention: `to_parquet(buf)`, `savefig(buf)`) they are fine.
WRITERS = {"write_text", "write_bytes", "to_csv", "to_parquet", "to_json", "savefig"}
#: Calls that open a file (for reading too: the readers are listed in ALLOWED).
OPENERS = {"open", "fdopen", "mkstemp", "NamedTemporaryFile"}
#: Writes that are not result files: (module, call).
ALLOWED = {
    ("sim/report/pdf.py", "write_text"),  # the HTML Chromium prints, in a temporary folder
    ("sim/report/pdf.py", "savefig"),  # a page into PdfPages, which writes into a buffer
    ("sim/cli/scenarios.py", "open"),  # techsim init: a new scenario file, never replaced
    ("sim/config/load.py", "open"),  # reads a scenario file (at most MAX_FILE_BYTES)
    ("sim/store/outdir.py", "open"),  # reads the first bytes of a table before replacing it
    ("sim/calibrate/read.py", "open"),  # reads a work-order export's header row
}


def _file_writes(path: Path) -> Iterator[tuple[str, int]]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
        first = node.args[0] if node.args else None
        into_buffer = isinstance(first, ast.Name) and first.id == "buf"
        if (name in WRITERS and first is not None and not into_buffer) or name in OPENERS:
            yield name, node.lineno


def test_every_file_is_written_through_sim_store_files():
    found = []
    for path in sorted(SIM.rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        if rel == "sim/store/files.py":
            continue
        found += [
            f"{rel}:{line} {name}"
            for name, line in _file_writes(path)
            if (rel, name) not in ALLOWED
        ]
    assert not found, "write result files with sim.store.files (atomic, umask mode): " + str(found)
