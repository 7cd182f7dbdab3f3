"""An optimisation's results (`techsim optimise`, `sim.experiment.optimise`) as the report
reads them: RESULTS/optimise/manifest.json (kind "optimise") and trials.csv."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.store.files import read_experiment
from sim.store.select import OPTIMISE_SUBDIR

TRIALS = "trials.csv"


class OptimisationError(ValueError):
    """Optimisation results that cannot be read: the message names the file."""


@dataclass
class OptimisationResults:
    folder: Path
    manifest: dict[str, Any]
    trials: pd.DataFrame

    @property
    def info(self) -> dict[str, Any]:
        """The manifest's "optimise": family, limits, top trials, schemes, winner, selection."""
        return self.manifest["optimise"]


def find_optimisation(results: Path, given: Path | None = None) -> Path | None:
    """The folder of an optimisation for a run's results: `given`, else RESULTS/optimise/
    when it holds a manifest."""
    if given is not None:
        return given
    folder = results / OPTIMISE_SUBDIR
    return folder if (folder / "manifest.json").is_file() else None


def load_optimisation(folder: Path) -> OptimisationResults:
    """manifest.json and trials.csv of `folder`; OptimisationError naming the file."""
    man, trials = read_experiment(
        folder, "optimise", "optimise", {"family", "limits", "objective"}, TRIALS,
        OptimisationError,
    )  # fmt: skip
    return OptimisationResults(folder, man, trials)
