"""techsim installed as users install it: built with `python -m build` (an sdist, and the
wheel built from that sdist), installed into a fresh virtual environment, run from an empty
folder: the bundled scenarios are there, a run works, its files are readable by others.

Offline and quick (~10 s on 2 cores): the build runs without isolation, with the
setuptools and build of the test extras; the wheel is installed with --no-deps, and its
dependencies come from the environment running the tests through a .pth file, which adds
that environment's site-packages after the fresh one's without running its .pth files, so
the editable install of the checkout stays out of sight. The test checks that `sim` is
imported from the fresh environment.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest
from conftest import REPO, SCENARIO_DIR

from sim import __version__

#: Not part of the source tree a build sees (caches, environments, outputs).
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "results", "build", "dist", "*.egg-info", "__pycache__", ".*_cache",
    ".hypothesis",
)  # fmt: skip
BUNDLED = sorted(p.name for p in SCENARIO_DIR.glob("*.yaml"))


def sh(*args: str | Path, **kw) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=300, check=False, **kw
    )
    assert res.returncode == 0, f"{args}\n{res.stdout}\n{res.stderr}"
    return res


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """sdist and wheel of a copy of the checkout (a build writes build/ and *.egg-info/
    into its source folder, and tests never write into the repository)."""
    root = tmp_path_factory.mktemp("build")
    src = root / "src"
    shutil.copytree(REPO, src, symlinks=True, ignore=NOT_SOURCE)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    res = sh(sys.executable, "-m", "build", "--no-isolation", "--outdir", root / "dist", src,
             env=env)  # fmt: skip
    log = res.stdout + res.stderr
    warnings = [ln for ln in log.splitlines() if "warn" in ln.lower() or "deprecat" in ln.lower()]
    assert not warnings, "python -m build warned:\n" + "\n".join(warnings)
    return root / "dist"


def test_sdist_and_wheel_carry_the_scenarios_as_files(dist):
    (sdist,) = dist.glob("techsim-*.tar.gz")
    (wheel,) = dist.glob("techsim-*.whl")
    with tarfile.open(sdist) as tar:
        members = {m.name.split("/", 1)[1]: m for m in tar.getmembers() if "/" in m.name}
    for name in BUNDLED:
        assert members[f"sim/scenarios/{name}"].isfile(), name  # a file, not the symlink
    with zipfile.ZipFile(wheel) as zf:
        for name in BUNDLED:
            text = zf.read(f"sim/scenarios/{name}").decode()
            assert text == (SCENARIO_DIR / name).read_text(encoding="utf-8"), name
        meta = zf.read(f"techsim-{__version__}.dist-info/METADATA").decode()
    assert "License-Expression: MIT" in meta


def test_installed_wheel_runs_from_an_empty_folder(dist, tmp_path):
    (wheel,) = dist.glob("techsim-*.whl")
    venv = tmp_path / "venv"
    sh(sys.executable, "-m", "venv", "--without-pip", venv)
    py = venv / "bin" / "python"
    sh(sys.executable, "-m", "pip", "--python", py, "install", "--quiet", "--no-deps",
       "--no-index", "--no-compile", wheel)  # fmt: skip
    site = sh(py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(site.strip()) / "techsim_test_deps.pth").write_text("\n".join(sorted(deps)) + "\n")

    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    techsim = venv / "bin" / "techsim"

    def run(*args: str) -> str:
        return sh(techsim, *args, cwd=work, env=env).stdout

    where = sh(py, "-c", "import sim; print(sim.__file__)", cwd=work, env=env).stdout
    assert Path(where.strip()).is_relative_to(venv), where  # the wheel's sim, not the checkout's

    listed = run("scenarios").splitlines()
    assert sorted(f"{ln.split()[0]}.yaml" for ln in listed) == BUNDLED
    assert run("scenarios", "--show", "mmc") == (SCENARIO_DIR / "mmc.yaml").read_text("utf-8")
    run("init", "medical")
    assert (work / "medical.yaml").read_bytes() == (SCENARIO_DIR / "medical.yaml").read_bytes()

    old = os.umask(0o022)
    try:
        out = run("run", "hvac", "--reps", "2", "--workers", "2")
    finally:
        os.umask(old)
    assert "Results written to results/hvac/" in out and "first-time fix" in out
    results = work / "results" / "hvac"
    assert (results / "manifest.json").is_file()
    runs = (results / "runs.csv").read_text().splitlines()
    assert len(runs) == 1 + 2 * 4  # 2 replications of hvac's 4 schemes
    assert stat.S_IMODE((results / "runs.csv").stat().st_mode) == 0o644
    assert sorted(p.name for p in work.iterdir()) == ["medical.yaml", "results"]
