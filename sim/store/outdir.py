"""Output folders: which may be written, and which files in them are techsim's.

Checked before anything is written (`check_out_dir`): an output folder must be a usable,
writable folder path, and techsim never deletes or overwrites a file it did not write:

- a folder without a techsim record (`manifest.json`, or `parts/experiment.json` of an
  interrupted run) is used only when none of techsim's file names is taken in it;
- a folder holding results of another scenario, or of the other kind of experiment (a run
  into a sweep's folder), is refused unless `force`;
- a fresh start (`clear_out_dir`) removes only techsim's own file names: the result tables,
  the manifest and the part files; anything else in the folder, `parts/` included, stays.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

#: Every file name techsim writes at the top of a run's or a sweep's folder.
OUTPUT_FILES = (
    "runs.csv",
    "summary.csv",
    "technicians.csv",
    "timeseries.csv",
    "behaviour.csv",
    "runs.parquet",
    "summary.parquet",
    "sensitivity.csv",
    "select.csv",
    "trials.csv",
    "optimised.yaml",
    "tradeoff.png",
    "manifest.json",
)
#: Part files: a run's replications (`rep-00003.json`, `.pkl` before 0.3.0), a sweep's
#: chunks (`p00001-r0000-0009.parquet`), the run's record and cut-short temporary files.
PART_FILE = re.compile(r"(rep-\d+\.(json|pkl)|p\d+-r\d+-\d+\.parquet|experiment\.json|\..+\.tmp)\Z")
#: The longest file name most file systems take (bytes of one path component).
NAME_MAX = 255


class OutDirError(ValueError):
    """An output folder that cannot or may not be written: one line naming it."""


def _record(out: Path) -> dict[str, Any] | None:
    """What techsim recorded in `out` (kind, scenario name), or None when it holds no
    readable record of techsim's."""
    for path, kind in ((out / "manifest.json", None), (out / "parts" / "experiment.json", "run")):
        if not path.is_file():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict):
            return None
        if kind is None and not ("techsim_version" in data or data.get("kind") == "sweep"):
            return None  # someone else's manifest.json
        return {"kind": data.get("kind", kind), "scenario_name": data.get("scenario_name")}
    return None


def _taken(out: Path) -> list[str]:
    """techsim's file names that exist in `out` (and in `out/parts`)."""
    names = [n for n in OUTPUT_FILES if (out / n).exists()]
    parts = out / "parts"
    if parts.is_dir():
        names += [f"parts/{p.name}" for p in sorted(parts.iterdir()) if PART_FILE.match(p.name)]
    elif parts.exists():
        names.append("parts")
    return names


def check_path(out: Path, what: str = "--out") -> None:
    """Refuse an empty, unusable or unwritable folder path (nothing is created)."""
    text = str(out)
    if not text.strip():
        raise OutDirError(f"{what}: empty; give a folder")
    for part in out.parts:
        if len(part.encode("utf-8", "surrogateescape")) > NAME_MAX:
            raise OutDirError(
                f"{what} {text[:60]}...: a folder name is longer than {NAME_MAX} bytes"
            )
    if out.exists() and not out.is_dir():
        raise OutDirError(f"{what} {out}: is a file, not a folder")
    p = out
    while not p.exists():
        if p.is_symlink():
            raise OutDirError(f"{what} {out}: {p} is a broken symbolic link")
        p = p.parent
    if not p.is_dir():
        raise OutDirError(f"{what} {out}: {p} is a file, not a folder")
    if not os.access(p, os.W_OK | os.X_OK):
        raise OutDirError(f"{what} {out}: {p} is not writable")
    parts = out / "parts"
    if parts.exists() and not (parts.is_dir() and os.access(parts, os.W_OK | os.X_OK)):
        raise OutDirError(f"{what} {out}: {parts} is not a writable folder")


def check_out_dir(out: Path, kind: str, name: str, resume: bool, force: bool) -> None:
    """May a `kind` ("run" or "sweep") of scenario `name` write into `out`? OutDirError if not.

    Nothing is written or deleted here."""
    check_path(out)
    if not out.exists():
        return
    taken = _taken(out)
    if not taken:
        return
    rec = _record(out)
    if rec is None:
        raise OutDirError(
            f"--out {out}: holds {taken[0]}, which techsim did not write (no techsim "
            "manifest there); techsim never overwrites such a file: use another --out"
        )
    if resume:
        if rec["kind"] != kind:
            raise OutDirError(
                f"--out {out}: holds results of a {rec['kind']}, not of a {kind}; "
                "cannot resume it: use another --out"
            )
        return  # the resume check (sim.store.parts.check_identity) says what may continue
    other = rec["kind"] != kind or rec["scenario_name"] != name
    if other and not force:
        held = f"{rec['kind'] or 'techsim'} results of scenario {rec['scenario_name']!r}"
        raise OutDirError(
            f"--out {out}: holds {held}; use another --out, or --force to replace them"
        )


def clear_out_dir(out: Path) -> None:
    """A fresh start: remove techsim's own files from `out` (see the module docstring)."""
    for n in OUTPUT_FILES:
        (out / n).unlink(missing_ok=True)
    parts = out / "parts"
    if parts.is_dir():
        for p in parts.iterdir():
            if PART_FILE.match(p.name) and p.is_file():
                p.unlink(missing_ok=True)
        if not any(parts.iterdir()):
            parts.rmdir()


def check_out_file(path: Path, header: str, what: str = "--out") -> None:
    """May techsim write the table `path`? Refused when its folder is unusable, when it is a
    folder, or when it exists and does not start with `header` (then techsim did not write
    it: it is never overwritten)."""
    check_path(path.parent, what)
    if path.is_dir():
        raise OutDirError(f"{what} {path}: is a folder, not a file")
    if path.exists():
        try:
            with path.open("rb") as fh:
                first = fh.read(len(header.encode()))
        except OSError as exc:
            raise OutDirError(f"{what} {path}: cannot be read ({exc.strerror})") from None
        if first != header.encode():
            raise OutDirError(
                f"{what} {path}: exists and is not a table techsim wrote; techsim never "
                "overwrites such a file: give another --out"
            )
        if not os.access(path, os.W_OK):
            raise OutDirError(f"{what} {path}: is not writable")
