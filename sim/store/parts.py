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
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from sim.config.load import scenario_to_dict
from sim.config.scenario import Scenario
from sim.store.files import atomic_write_bytes
from sim.store.outdir import clear_out_dir


class ResumeError(ValueError):
    """A resume that would mix results of different experiments."""


class PartError(ValueError):
    """A part file that is damaged or not one of techsim's: its message names the file."""


#: The format of a run's part file (JSON lines): a header, then the body.
PART_SCHEMA = "techsim.part/1"
#: A part larger than this is not one techsim wrote (a replication's rows are ~1 MB at most).
MAX_PART_BYTES = 512 << 20


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _plain(obj: Any) -> Any:
    """numpy scalars as Python numbers (json.dumps calls this for what it cannot write)."""
    item = getattr(obj, "item", None)
    if callable(item):
        return item()
    raise TypeError(f"{type(obj).__name__} is not JSON data")


def encode_part(key: str, body: Mapping[str, Any]) -> bytes:
    """A part file: a JSON header line (schema, key, row count, SHA-256 of the body line),
    then the body as one JSON line. Never pickle: reading a part runs no code."""
    line = json.dumps(body, separators=(",", ":"), default=_plain).encode("utf-8")
    rows = sum(len(t.get("rows", ())) for t in body.values() if isinstance(t, dict))
    head = {"schema": PART_SCHEMA, "key": key, "rows": rows, "sha256": sha256_hex(line)}
    return json.dumps(head).encode("utf-8") + b"\n" + line + b"\n"


def decode_part(path: Path, key: str) -> dict[str, Any]:
    """The body of the part file at `path`; PartError naming the file when it is damaged,
    of another format (a 0.2.0 pickle) or of another task."""
    try:
        size = path.stat().st_size
        if size > MAX_PART_BYTES:
            raise PartError(f"{path}: damaged (larger than any part techsim writes)")
        data = path.read_bytes()
    except OSError as exc:
        raise PartError(f"{path}: cannot be read ({exc.strerror})") from None
    head_line, _, rest = data.partition(b"\n")
    try:
        head = json.loads(head_line)
    except ValueError:
        raise PartError(f"{path}: damaged or not a techsim part (no JSON header)") from None
    if not isinstance(head, dict) or head.get("schema") != PART_SCHEMA:
        raise PartError(f"{path}: not a {PART_SCHEMA} part file")
    if head.get("key") != key:
        raise PartError(f"{path}: holds part {head.get('key')!r}, not {key!r}")
    line = rest[:-1] if rest.endswith(b"\n") else rest
    if sha256_hex(line) != head.get("sha256"):
        raise PartError(f"{path}: damaged (its SHA-256 differs from its header's)")
    try:
        body = json.loads(line)
    except ValueError:  # pragma: no cover - the checksum matched
        raise PartError(f"{path}: damaged (body is not JSON)") from None
    if not isinstance(body, dict):
        raise PartError(f"{path}: damaged (body is not a JSON object)")
    return body


def file_record(path: Path, rows: int) -> dict[str, Any]:
    """What a manifest records of a written file: its row count and SHA-256."""
    return {"rows": int(rows), "sha256": sha256_hex(path.read_bytes())}


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

    def body(self, key: str, damaged: Callable[[PartError], None]) -> dict[str, Any] | None:
        """The body of the JSON part `key` (`encode_part`) for a resume: None when there is
        none, or when it is damaged (then `damaged` is told why, e.g. to note that the task
        runs again)."""
        if not self.has(key):
            return None
        try:
            return decode_part(self.path(key), key)
        except PartError as exc:
            damaged(exc)
            return None

    def missing(self, keys: Iterable[str]) -> list[str]:
        """The keys without a part file, in the order given."""
        return [k for k in keys if not self.has(k)]

    def count(self) -> int:
        """How many parts are written (e.g. to say what an interruption kept)."""
        if not self.dir.exists():
            return 0
        return sum(p.name != "experiment.json" for p in self.dir.glob(f"*{self.suffix}"))

    def prepare(self) -> None:
        """Create the directory; remove temporary files of writes cut short by a kill."""
        self.dir.mkdir(parents=True, exist_ok=True)
        for stale in self.dir.glob(".*.tmp"):
            stale.unlink(missing_ok=True)


def start_parts(
    out: Path,
    suffix: str,
    kind: str,
    scenario_name: str,
    ident: Mapping[str, Any],
    labels: Mapping[str, str],
    resume: bool,
) -> Parts:
    """The part files of experiment `ident` (a `kind`: "run", "select", ...) in `out`, ready
    to be written. On resume the identity recorded in `parts/experiment.json` must equal
    `ident` (else ResumeError naming, by `labels`, what changed); otherwise techsim's files
    in `out` are removed first. Then the identity is recorded, with the kind and scenario."""
    parts = Parts(out, suffix)
    stamp = parts.dir / "experiment.json"
    if resume and stamp.exists():
        check_identity(out, kind, read_identity(stamp), ident, labels)
    if not resume:
        clear_out_dir(out)
    parts.prepare()
    record = {**ident, "kind": kind, "scenario_name": scenario_name}
    atomic_write_bytes(stamp, json.dumps(record).encode())
    return parts
