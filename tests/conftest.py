"""Shared helpers for the tests: small scenarios built as dicts, validated on demand.

Scenarios here are deliberately small (a few technicians, a few hundred customers, a few
months) so the tests stay fast; tests about the default scenario load `scenarios/hvac.yaml`.
Fixtures are session-scoped factories, so hypothesis tests can use them too.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from sim.behaviour.best_response import choose_behaviour
from sim.config.load import scenario_from_dict
from sim.config.scenario import Scenario
from sim.experiment.tasks import run_replication
from sim.model.output import Output
from sim.model.replication import world_for
from sim.model.simulation import simulate
from sim.pay.formula import PayFormula, formula_for
from sim.world.draws import World

REPO = Path(__file__).resolve().parent.parent
SCENARIO_DIR = REPO / "scenarios"
HOURS_PER_YEAR = 365.0 * 24.0


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """A copy of `base` with `over` merged in (nested dicts merged, other values replaced)."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


#: A small but complete field-service scenario: shifts, travel, parts, callbacks, churn,
#: EDF dispatch, best-response behaviour and all four scheme types.
TINY: dict[str, Any] = {
    "name": "tiny",
    "description": "Small test scenario",
    "seed": 11,
    "replications": 2,
    "horizon_days": 120,
    "warmup_days": 20,
    "callback_window_days": 30,
    "customers": {
        "count": 1000,
        "failures_per_year": 2.8,
        "term_days": 90,
        "churn_base": 0.05,
        "tiers": {
            "gold": {"share": 0.3, "sla_hours": 24, "annual_value": 1200},
            "bronze": {"share": 0.7, "sla_hours": 72, "annual_value": 400},
        },
    },
    "jobs": {
        "types": {
            "simple": {
                "share": 0.5,
                "onsite_hours_mean": 0.8,
                "fix_prob": 0.95,
                "part_on_van": 0.95,
            },
            "standard": {
                "share": 0.35,
                "onsite_hours_mean": 1.5,
                "fix_prob": 0.88,
                "part_on_van": 0.85,
            },
            "complex": {
                "share": 0.15,
                "onsite_hours_mean": 2.5,
                "min_skill": 0.55,
                "fix_prob": 0.78,
                "part_on_van": 0.7,
            },
        },
        "part_lead_time_hours": 48,
        "revisit_delay_hours": 24,
        "callback_delay_mean_days": 7,
    },
    "workforce": {
        "technicians": 4,
        "skill_mean": 0.7,
        "skill_sd": 0.12,
        "shift_hours": 8,
        "shift_start_hour": 8,
        "days_per_week": 5,
        "travel_hours_mean": 0.6,
        "dispatch": "edf",
        "cost_per_visit": 45,
    },
    "behaviour": {"model": "best_response", "grid_points": 51},
    "schemes": {
        "jobs_per_day": {"type": "jobs_per_day", "base_per_day": 100, "per_visit": 45},
        "outcome_weighted": {
            "type": "outcome_weighted",
            "base_per_day": 160,
            "per_first_time_fix": 40,
            "clawback_per_repeat_visit": 20,
            "clawback_per_callback": 30,
            "per_promoter": 10,
            "retained_value_share": 0.01,
        },
        "hybrid": {
            "type": "hybrid",
            "weight": 0.3,
            "between": ["jobs_per_day", "outcome_weighted"],
        },
        "hourly": {"type": "hourly", "per_hour": 30},
    },
    "baseline": "jobs_per_day",
}


def tiny_dict(over: dict[str, Any] | None = None) -> dict[str, Any]:
    """The tiny scenario as a dict, with nested overrides merged in."""
    return deep_merge(TINY, over or {})


def tiny_scenario(over: dict[str, Any] | None = None) -> Scenario:
    return scenario_from_dict(tiny_dict(over), "<tiny>")


def runs_by_scheme(sc: Scenario, rep: int = 0) -> pd.DataFrame:
    """runs.csv's rows of replication `rep` of every scheme of `sc`, indexed by scheme."""
    return pd.DataFrame(run_replication(sc, sc.seed, rep).runs).set_index("scheme")


def simulate_one(
    sc: Scenario, scheme: str = "jobs_per_day", rep: int = 0, world: World | None = None
) -> tuple[World, PayFormula, Output]:
    """One scheme of replication `rep` (or on `world`) simulated directly, with the behaviour
    a run chooses: the world, the scheme's formula and the model's output."""
    world = world_for(sc, sc.seed, rep) if world is None else world
    f = formula_for(sc, scheme)
    theta, pace = choose_behaviour(sc, f, world.skill, world.intrinsic)
    return world, f, simulate(sc, world, theta, f, pace=pace)


def bundled_dict(name: str) -> dict[str, Any]:
    return yaml.safe_load((SCENARIO_DIR / f"{name}.yaml").read_text(encoding="utf-8"))


def mmc_dict(
    lam: float, mu: float, c: int, horizon_days: float, warmup_days: float, seed: int = 1
) -> dict[str, Any]:
    """The bundled M/M/c case with arrival rate `lam`/h, service rate `mu`/h, `c` servers."""
    d = bundled_dict("mmc")
    count = d["customers"]["count"]
    return deep_merge(
        d,
        {
            "name": f"mmc_l{lam:g}_m{mu:g}_c{c}",
            "seed": seed,
            "horizon_days": horizon_days,
            "warmup_days": warmup_days,
            "customers": {"failures_per_year": lam * HOURS_PER_YEAR / count},
            "jobs": {"types": {"job": {"onsite_hours_mean": 1.0 / mu}}},
            "workforce": {"technicians": c},
        },
    )


def write_yaml(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def make_tiny():
    """Factory: `make_tiny({"workforce": {"technicians": 3}})` -> validated Scenario."""
    return tiny_scenario


@pytest.fixture(scope="session")
def make_tiny_dict():
    """Factory: the tiny scenario as a plain dict (for YAML files and bad-input tests)."""
    return tiny_dict


@pytest.fixture(scope="session")
def make_mmc():
    """Factory: `make_mmc(lam, mu, c, horizon_days, warmup_days)` -> validated Scenario."""
    return lambda *a, **k: scenario_from_dict(mmc_dict(*a, **k), "<mmc>")


@pytest.fixture(scope="session")
def load_bundled():
    """Factory: a bundled scenario by name, as a dict."""
    return bundled_dict
