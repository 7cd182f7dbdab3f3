"""How an experiment runs, apart from what it computes: one `Execution`.

`run_scenario`, `run_selection` and `run_optimise` take the same settings: the root seed,
where the tasks run (a given backend, else a Dask cluster by its scheduler's address, else
local worker processes), whether finished work in the output folder is resumed, whether the
resource guard and the output folder's owner may be overridden, and where notes go (a
damaged part run again). The command line builds one `Execution` from its shared options
(`sim.cli.experiment.ExperimentOptions.execution`) and hands it down; a library caller
builds its own (`Execution(seed=5, workers=2)`), or takes the default: the scenario's seed,
one worker, no resume, no force, notes dropped.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sim.config.scenario import Scenario
from sim.experiment.executor import Backend, backend_for, scheduler_address
from sim.experiment.guard import check_run
from sim.store.outdir import check_out_dir


@dataclass(frozen=True)
class Execution:
    """The settings every experiment takes besides its own (None: the scenario's or the
    library's default).

    `backend`: run on it (its owner closes it); else on a Dask cluster when `scheduler` (or
    DASK_SCHEDULER_ADDRESS) gives its address, waiting `connect_timeout` seconds for it;
    else on `workers` local processes. `resume`: keep the finished work in the output
    folder. `force`: run even when the resource guard's estimate exceeds this machine, and
    replace another scenario's results. `on_note`: what is told to the user on the way."""

    seed: int | None = None
    workers: int = 1
    resume: bool = False
    scheduler: str | None = None
    backend: Backend | None = None
    force: bool = False
    connect_timeout: float | None = None
    on_note: Callable[[str], None] | None = None

    def seed_for(self, scenario: Scenario) -> int:
        """The root seed: `seed`, else the scenario's."""
        return scenario.seed if self.seed is None else self.seed

    def note(self, text: str) -> None:
        """Tell the user `text` (through `on_note`; nothing without one)."""
        if self.on_note is not None:
            self.on_note(text)

    def check(self, scenario: Scenario, replications: int, out: Path, kind: str) -> None:
        """The checks before anything is written: the resource guard for `replications` of
        `scenario` (ResourceError) and the output folder `out` of a `kind` experiment
        (OutDirError), both passed with `force`."""
        local = self.backend is None and not scheduler_address(self.scheduler)
        check_run(scenario, replications, self.workers, local, self.force)
        check_out_dir(out, kind, scenario.name, self.resume, self.force)

    @contextlib.contextmanager
    def started(self) -> Iterator[Backend]:
        """The backend the tasks run on, reached now (BackendError) and closed at the end of
        the block unless it was given (`sim.experiment.executor.backend_for`)."""
        with backend_for(self.backend, self.workers, self.scheduler, self.connect_timeout) as live:
            yield live


#: The default of every experiment: the scenario's seed, one worker, no resume, no force.
DEFAULT_EXECUTION = Execution()
