"""A sweep's part files and its resume check.

Nothing lost: each finished task is written at once to `parts/<task id>.parquet` (atomic
rename, `sim.store.parts.Parts`), so an interrupted sweep keeps its finished work, and a
resume (`--resume`) runs only the tasks without a part file, after checking that the
folder holds the same sweep (scenario, design, replications, seed; `SWEEP_IDENTITY`). A
part is checked as it is read (`read_part`): a damaged one is run again. Parts are keyed by
task id, so a task never adds rows twice.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd

from sim.config.scenario import Scenario
from sim.experiment.tasks import RUN_ID_COLUMNS
from sim.metrics.kpis import KPI_COLUMNS
from sim.store.parts import (
    PartError,
    Parts,
    ResumeError,
    check_identity,
    json_hash,
    read_identity,
    scenario_hash,
)
from sim.sweep.chunks import Chunk
from sim.sweep.design import Design

PART_COLUMNS = ("point", *RUN_ID_COLUMNS, *KPI_COLUMNS)
#: What identifies a sweep on --resume, and how a change is named in the refusal.
SWEEP_IDENTITY = {
    "scenario_hash": "the scenario",
    "design_hash": "the design (parameters, values, --design or --samples)",
    "replications": "--reps",
    "seed": "--seed",
}


def sweep_parts(out: Path) -> Parts:
    """A sweep's part files: `parts/<chunk id>.parquet`."""
    return Parts(out, ".parquet")


def parquet_bytes(df: pd.DataFrame, **options: Any) -> bytes:
    """`df` as a Parquet file's bytes (no index)."""
    buf = io.BytesIO()
    df.to_parquet(buf, index=False, **options)
    return buf.getvalue()


def read_part(path: Path, chunk: Chunk, n_schemes: int) -> pd.DataFrame:
    """A chunk's part file, checked: Parquet with verified page checksums, the part columns,
    the chunk's point and replications, one row per scheme and replication. PartError
    naming the file otherwise."""
    try:
        df = pd.read_parquet(path, page_checksum_verification=True)
    except Exception as exc:  # pyarrow raises several kinds for a damaged file
        raise PartError(f"{path}: damaged ({type(exc).__name__})") from None
    if list(df.columns) != list(PART_COLUMNS):
        raise PartError(f"{path}: not a part of this sweep (its columns differ)")
    if len(df) != chunk.n_reps * n_schemes:
        raise PartError(f"{path}: holds {len(df)} rows, expected {chunk.n_reps * n_schemes}")
    reps = df["replication"]
    if (df["point"] != chunk.point).any() or reps.min() < chunk.first or reps.max() > chunk.last:
        raise PartError(f"{path}: holds rows of another chunk than {chunk.id}")
    return df


def identity(scenario: Scenario, design: Design, reps: int, seed: int) -> dict[str, Any]:
    """What makes two sweeps the same sweep (checked on --resume)."""
    return {
        "scenario_hash": scenario_hash(scenario),
        "design_hash": json_hash(design.spec()),
        "replications": reps,
        "seed": seed,
    }


def check_resume(out: Path, ident: dict[str, Any]) -> dict[str, Any] | None:
    """The old manifest when `out` holds parts of the same sweep; ResumeError otherwise."""
    mpath = out / "manifest.json"
    if not mpath.exists():
        return None
    old = read_identity(mpath)
    if old.get("kind") != "sweep":
        raise ResumeError(
            f"{out}: holds results of 'techsim {old.get('kind', '?')}', not of a "
            "sweep; use another --out or drop --resume"
        )
    check_identity(out, "sweep", old, ident, SWEEP_IDENTITY)
    return old


def old_tasks(out: Path, old: dict[str, Any]) -> list[Chunk]:
    """The task list of the manifest being resumed; ResumeError when it is damaged."""
    try:
        return [Chunk(int(t["point"]), int(t["first"]), int(t["last"])) for t in old["tasks"]]
    except (KeyError, TypeError, ValueError):
        raise ResumeError(
            f"{out / 'manifest.json'}: tasks: damaged; drop --resume to start over"
        ) from None
