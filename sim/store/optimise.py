"""An optimisation's results (`techsim optimise`, `sim.experiment.optimise`) as the report
reads them: RESULTS/optimise/manifest.json (kind "optimise") and trials.csv."""

from __future__ import annotations

from pathlib import Path

from sim.store.files import ExperimentResults, read_experiment
from sim.store.select import OPTIMISE_SUBDIR

TRIALS = "trials.csv"


def find_optimisation(results: Path, given: Path | None = None) -> Path | None:
    """The folder of an optimisation for a run's results: `given`, else RESULTS/optimise/
    when it holds a manifest."""
    if given is not None:
        return given
    folder = results / OPTIMISE_SUBDIR
    return folder if (folder / "manifest.json").is_file() else None


def load_optimisation(folder: Path) -> ExperimentResults:
    """manifest.json and trials.csv of `folder` (`info`: the manifest's "optimise": family,
    limits, top trials, schemes, winner, selection); ExperimentError naming the file."""
    return read_experiment(
        folder, "optimise", "optimise", {"family", "limits", "objective"}, TRIALS
    )
