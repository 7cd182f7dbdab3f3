"""The parts of one simulation that its processes share, built once by `simulate`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import simpy

from sim.config.scenario import Scenario
from sim.model.crew import Crew
from sim.model.dispatch import Dispatcher
from sim.model.output import Output
from sim.model.state import Accounts, Jobs
from sim.world.calendar import Calendar
from sim.world.draws import World


@dataclass
class Context:
    """One simulation's environment, world, shared state and output."""

    env: simpy.Environment
    scenario: Scenario
    world: World
    cal: Calendar
    crew: Crew
    jobs: Jobs
    accounts: Accounts
    dispatcher: Dispatcher
    out: Output
    extra: np.random.Generator  # draws beyond the pre-drawn visit slots (`World.extra_stream`)
    dynamic: bool  # the crew changes during the run (learning or attrition)
    horizon: float  # h
    warmup: float  # h
