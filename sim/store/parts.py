"""Part files and resume: what an interrupted run or sweep keeps, and what may continue it.

Each finished task is written at once to its own file in `<out>/parts/` (atomically, see
`sim.store.files`), so an interruption keeps the finished work and a resumed experiment
runs only the tasks without a part. A resume must not mix results of two experiments: an
experiment is identified by its *identity*, a small JSON mapping (the scenario's hash, the
seed, the replications, a sweep's design hash), and `check_identity` refuses a resume whose
identity differs, naming what changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sim.config.load import scenario_to_dict
from sim.config.scenario import Scenario
from sim.store.files import atomic_write_bytes


class ResumeError(ValueError):
    """A resume that would mix results of different experiments."""


def json_hash(obj: object) -> str:
    """16 hex digits of the SHA-256 of `obj` as JSON with sorted keys."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


def scenario_hash(scenario: Scenario) -> str:
    """The hash of the resolved scenario (defaults filled in): equal scenarios, equal hash."""
    return json_hash(scenario_to_dict(scenario))


def read_identity(path: Path) -> dict[str, Any]:
    """The JSON mapping at `path` that identifies an experiment; ResumeError if unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ResumeError(f"{path}: unreadable; use another --out or drop --resume") from None
    if not isinstance(data, dict):
        raise ResumeError(f"{path}: not an experiment's record; use another --out")
    return data


def check_identity(
    where: Path,
    kind: str,
    old: Mapping[str, object],
    new: Mapping[str, object],
    labels: Mapping[str, str],
) -> None:
    """Raise ResumeError naming what changed (by `labels`) when `old` differs from `new`.

    `kind` names the experiment in the message ("run", "sweep")."""
    changed = [label for key, label in labels.items() if old.get(key) != new.get(key)]
    if changed:
        raise ResumeError(
            f"{where}: cannot resume: {' and '.join(changed)} changed since the {kind} was "
            "started; use another --out, or drop --resume to start over"
        )


class Parts:
    """The part files of one output directory: `<out>/parts/<key><suffix>`."""

    def __init__(self, out: Path, suffix: str) -> None:
        self.dir = out / "parts"
        self.suffix = suffix

    def path(self, key: str) -> Path:
        return self.dir / f"{key}{self.suffix}"

    def has(self, key: str) -> bool:
        return self.path(key).exists()

    def read(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def write(self, key: str, data: bytes) -> None:
        """Write one task's part atomically: it is then complete or absent."""
        atomic_write_bytes(self.path(key), data)

    def missing(self, keys: Iterable[str]) -> list[str]:
        """The keys without a part file, in the order given."""
        return [k for k in keys if not self.has(k)]

    def count(self) -> int:
        """How many parts are written (e.g. to say what an interruption kept)."""
        return len(list(self.dir.glob(f"*{self.suffix}"))) if self.dir.exists() else 0

    def prepare(self) -> None:
        """Create the directory; remove temporary files of writes cut short by a kill."""
        self.dir.mkdir(parents=True, exist_ok=True)
        for stale in self.dir.glob(".*.tmp"):
            stale.unlink(missing_ok=True)
