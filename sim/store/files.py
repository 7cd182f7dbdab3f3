"""Result files: atomic writes of tables and the manifest.

Every file is written to a temporary file in the same directory, flushed, fsynced and
renamed over the target (`os.replace` is atomic on POSIX), so a reader never sees a
half-written file and an interrupted run leaves either the old file or the new one.

The temporary file is created with mode 0o666, which the operating system reduces by the
user's umask (and a directory's default ACL), so a result file gets the permissions a plain
`open(path, "w")` would give a new file: readable by a colleague on a shared folder or a web
server under the usual umask 022. (`tempfile.mkstemp` would leave every result file 0600.)
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import re
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim import __version__
from sim.config.load import scenario_to_dict
from sim.config.scenario import Scenario

if TYPE_CHECKING:  # pandas is imported where a table is written: `techsim --help` stays fast
    import pandas as pd

RESULT_FILES = (
    "runs.csv",
    "summary.csv",
    "technicians.csv",
    "timeseries.csv",
    "behaviour.csv",
    "manifest.json",
)


#: The longest name `safe_filename` returns (file systems take 255 bytes; room for suffixes).
MAX_NAME = 100


def safe_filename(name: str, default: str = "x") -> str:
    """`name` with every run of characters other than letters, digits, _ . - as one "_"
    (no leading or trailing dots): safe as a file or directory name; `default` if empty.
    A longer name than MAX_NAME is cut, with 8 hex digits of its SHA-256 appended so that
    two long names that differ only at the end stay apart."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or default
    if len(safe) > MAX_NAME:
        digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:8]
        safe = f"{safe[: MAX_NAME - 9].rstrip('._')}-{digest}"
    return safe


def _create_temp(path: Path) -> tuple[int, Path]:
    """A new, empty temporary file beside `path`, opened for writing: (fd, its path).

    Mode 0o666 before the umask, as for any new file; O_EXCL with a random name, as
    `tempfile.mkstemp` does, so two writers never share a temporary file.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    flags |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no unused temporary file name beside {path}")


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` atomically, with the permissions the umask gives a new file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temp(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def write_csv(path: str | Path, df: pd.DataFrame) -> None:
    atomic_write_text(path, df.to_csv(index=False, float_format="%.10g"))


def write_json(path: str | Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")


def git_commit() -> str | None:
    """The commit of the techsim checkout, where it is a git checkout."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def now_iso() -> str:
    """The current UTC time to the second, ISO 8601 (manifests, the report's footer)."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def manifest(
    scenario: Scenario,
    seed: int,
    replications: int,
    started: str,
    wall_time_s: float,
    workers: int,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    import numpy
    import pandas as pd
    import simpy

    return {
        "kind": "run",
        "scenario_name": scenario.name,
        "seed": seed,
        "replications": replications,
        "schemes": list(scenario.schemes),
        "baseline": scenario.baseline_scheme,
        "techsim_version": __version__,
        "git_commit": git_commit(),
        "versions": {
            "simpy": simpy.__version__,
            "numpy": numpy.__version__,
            "pandas": pd.__version__,
        },
        "workers": workers,
        "started": started,
        "finished": now_iso(),
        "wall_time_s": round(wall_time_s, 3),
        "files": list(RESULT_FILES),
        **(extra or {}),
        "scenario": scenario_to_dict(scenario),
    }


def read_manifest(results_dir: str | Path) -> dict[str, Any]:
    return json.loads((Path(results_dir) / "manifest.json").read_text(encoding="utf-8"))


class ExperimentError(ValueError):
    """An experiment's results (a selection, an optimisation) that cannot be read: the
    message names the file."""


@dataclass
class ExperimentResults:
    """An experiment's results as the report reads them: its folder, manifest and table."""

    folder: Path
    manifest: dict[str, Any]
    table: pd.DataFrame
    key: str  # the manifest's section of this kind of experiment

    @property
    def info(self) -> dict[str, Any]:
        """The manifest's section of this kind ("selection": winner, guarantee, objective;
        "optimise": family, limits, top trials, schemes, winner, selection)."""
        return self.manifest[self.key]


def read_experiment(
    folder: Path, kind: str, key: str, required: set[str], table: str
) -> ExperimentResults:
    """The manifest of an experiment of `kind` in `folder` (its `key` section holding
    `required`) and its `table`; ExperimentError naming the file when one cannot be read or
    is not what it should be. For the report's readers of selections and optimisations."""
    import io

    import pandas as pd

    man_path, table_path = folder / "manifest.json", folder / table
    try:
        man = json.loads(man_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ExperimentError(f"{man_path}: cannot be read ({type(exc).__name__})") from None
    if not isinstance(man, dict) or man.get("kind") != kind:
        raise ExperimentError(f"{man_path}: not the manifest of a {kind}")
    section = man.get(key)
    if not isinstance(section, dict) or not required <= set(section):
        raise ExperimentError(f"{man_path}: {key}: incomplete")
    try:
        df = pd.read_csv(io.BytesIO(table_path.read_bytes()))
    except Exception as exc:  # pandas raises several kinds for a damaged file
        raise ExperimentError(f"{table_path}: cannot be read ({type(exc).__name__})") from None
    return ExperimentResults(folder, man, df, key)
