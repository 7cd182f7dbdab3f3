"""The files of a what-if analysis (`techsim whatif`): names, columns, reading them back.

A what-if folder holds

- `whatif.csv`: one row per screened assumption (`WHATIF_COLUMNS`), most influential first;
- `whatif_scan.csv`: the one-at-a-time scans, one row per assumption and value (`SCAN_COLUMNS`);
- `whatif.json`: what was compared and how (kind "whatif", scheme, against, KPI,
  trajectories, replications, seed, the resolved ranges, skipped assumptions, status);
- `whatif.png`: the tornado figure (`sim.plots.whatif`);
- `screening/` and `scan/`: the two sweeps it ran (`sim.sweep.runner` folders, resumable).

`sim.sweep.whatif` writes them (through `sim.store.files`); the report reads them with
`load_whatif`. The report finds them in a run's results folder (`RESULTS/whatif/`, where
`techsim whatif` writes by default, or `RESULTS/whatif.csv`) or where `--whatif` says.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.store.outdir import OutDirError, check_path

TABLE = "whatif.csv"
SCAN = "whatif_scan.csv"
META = "whatif.json"
FIGURE = "whatif.png"
SCREENING_DIR = "screening"
SCAN_DIR = "scan"
#: The sub-folder of a run's results folder that `techsim whatif` writes by default.
DEFAULT_SUBDIR = "whatif"

#: whatif.csv: per assumption. diff_* is the KPI's paired difference (scheme minus against)
#: at the low end, the scenario's value and the high end of the range, with its 95% CI;
#: flip_value is where the mean difference changes sign (linear interpolation between
#: flip_from and flip_to, the scan's bracketing values; the one nearest the scenario's value
#: when there are several, all in flip_values); flip_ci_excludes_zero says whether the 95%
#: CI at the end of the range beyond the flip excludes zero.
WHATIF_COLUMNS = (
    "rank",
    "path",
    "low",
    "high",
    "base",
    "relative",
    "why",
    "mu_star",
    "mu_star_conf",
    "sigma",
    "scanned",
    "diff_low",
    "diff_low_ci_low",
    "diff_low_ci_high",
    "diff_base",
    "diff_base_ci_low",
    "diff_base_ci_high",
    "diff_high",
    "diff_high_ci_low",
    "diff_high_ci_high",
    "swing",
    "flips",
    "flip_value",
    "flip_from",
    "flip_to",
    "flip_values",
    "flip_ci_excludes_zero",
    "scheme",
    "against",
    "kpi",
)
SCAN_COLUMNS = ("path", "value", "is_base", "n", "diff_mean", "diff_ci_low", "diff_ci_high")


class WhatIfError(ValueError):
    """A what-if folder that cannot be written or read: one line naming it."""


def check_whatif_dir(out: Path, name: str, resume: bool, force: bool) -> None:
    """May `techsim whatif` of scenario `name` write into `out`? WhatIfError if not.

    Its own files are replaced; a whatif.csv without a whatif.json beside it is somebody
    else's and never is; another scenario's analysis is replaced only with `force` (or
    continued with `resume`, whose checks are the sweeps')."""
    try:
        check_path(out)
    except OutDirError as exc:
        raise WhatIfError(str(exc)) from None
    meta = out / META
    if not meta.exists():
        taken = [n for n in (TABLE, SCAN, FIGURE) if (out / n).exists()]
        if taken:
            raise WhatIfError(
                f"--out {out}: holds {taken[0]}, which techsim whatif did not write (no "
                f"{META} there); use another --out"
            )
        return
    old = _read_meta(meta)
    if resume or force:
        return
    if old.get("scenario_name") != name:
        raise WhatIfError(
            f"--out {out}: holds the what-if analysis of scenario "
            f"{old.get('scenario_name')!r}; use another --out, or --force to replace it"
        )


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise WhatIfError(f"{path}: cannot be read ({type(exc).__name__})") from None
    if not isinstance(meta, dict) or meta.get("kind") != "whatif":
        raise WhatIfError(f"{path}: not the record of a techsim what-if analysis")
    return meta


@dataclass
class WhatIf:
    """A what-if analysis read back: its record, the table and the scans."""

    path: Path
    meta: dict[str, Any]
    table: pd.DataFrame
    scan: pd.DataFrame | None

    @property
    def complete(self) -> bool:
        return self.meta.get("status") == "complete"


def find_whatif(results: Path, given: Path | None = None) -> Path | None:
    """The folder of the what-if analysis for a run's results: `given` (a folder or its
    whatif.csv), else RESULTS/whatif/ or RESULTS itself when they hold a whatif.csv."""
    if given is not None:
        return given.parent if given.name == TABLE else given
    for d in (results / DEFAULT_SUBDIR, results):
        if (d / TABLE).is_file():
            return d
    return None


def load_whatif(folder: Path) -> WhatIf:
    """whatif.json, whatif.csv and whatif_scan.csv of `folder`; WhatIfError naming the file."""
    table_path = folder / TABLE
    if not table_path.is_file():
        raise WhatIfError(f"{folder}: no {TABLE} (run 'techsim whatif' first)")
    meta = _read_meta(folder / META) if (folder / META).exists() else {}
    try:
        table = pd.read_csv(io.BytesIO(table_path.read_bytes()))
    except Exception as exc:  # pandas raises several kinds for a damaged file
        raise WhatIfError(f"{table_path}: cannot be read ({type(exc).__name__})") from None
    missing = [c for c in WHATIF_COLUMNS if c not in table.columns]
    if missing:
        raise WhatIfError(f"{table_path}: missing column(s) {', '.join(missing)}")
    scan = None
    if (folder / SCAN).is_file():
        try:
            scan = pd.read_csv(io.BytesIO((folder / SCAN).read_bytes()))
        except Exception as exc:
            raise WhatIfError(f"{folder / SCAN}: cannot be read ({type(exc).__name__})") from None
    return WhatIf(folder, meta, table, scan)
