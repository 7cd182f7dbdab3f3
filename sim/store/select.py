"""A selection's results (`techsim select`, `sim.experiment.select`) as the report reads
them: RESULTS/select/manifest.json (kind "select") and select.csv."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sim.store.files import ExperimentResults, read_experiment

#: Where `techsim select` writes, under a run's results folder (results/<name>/select/).
DEFAULT_SUBDIR = "select"
TABLE = "select.csv"


#: Where `techsim optimise` writes, and its re-evaluation (a selection) within it.
OPTIMISE_SUBDIR = "optimise"


def find_selection(results: Path, given: Path | None = None) -> Path | None:
    """The folder of a selection for a run's results: `given`, else RESULTS/select/, else
    the re-evaluation of an optimisation, RESULTS/optimise/select/, when it holds one."""
    if given is not None:
        return given
    for d in (results / DEFAULT_SUBDIR, results / OPTIMISE_SUBDIR / DEFAULT_SUBDIR):
        if (d / TABLE).is_file():
            return d
    return None


def optimisation_of(selection: Path) -> dict[str, Any] | None:
    """The manifest's "optimise" of the optimisation whose re-evaluation `selection` is
    (None when it is a selection of its own)."""
    path = selection.parent / "manifest.json"
    if selection.name != DEFAULT_SUBDIR or not path.is_file():
        return None
    try:
        man = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(man, dict) or man.get("kind") != "optimise":
        return None
    info = man.get("optimise")
    return info if isinstance(info, dict) else None


def load_selection(folder: Path) -> ExperimentResults:
    """manifest.json and select.csv of `folder` (`info`: the manifest's "selection");
    ExperimentError naming the file."""
    return read_experiment(
        folder, "select", "selection", {"winner", "guarantee", "objective"}, TABLE
    )
