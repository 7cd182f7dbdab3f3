"""The benchmarks' scenario: the bundled hvac, one scheme (jobs_per_day), scaled to a number
of technicians with its accounts and billable calls in proportion (a helper, not a
benchmark)."""

from __future__ import annotations

from sim.cli.common import bundled_scenarios
from sim.config.load import load_scenario, scenario_from_dict, scenario_to_dict
from sim.config.scenario import Scenario


def hvac_scaled(technicians: int, years: float | None = None, name: str = "hvac") -> Scenario:
    """Bundled scenario `name` with the jobs_per_day scheme alone and no precision targets;
    hvac scaled to `technicians` (accounts and billable calls in proportion); with `years`,
    that many measured years after the warm-up."""
    d = scenario_to_dict(load_scenario(bundled_scenarios()[name]))
    d["schemes"] = {"jobs_per_day": d["schemes"]["jobs_per_day"]}
    d["baseline"], d["precision"] = "jobs_per_day", {}
    if name == "hvac":
        f = technicians / d["workforce"]["technicians"]
        d["workforce"]["technicians"] = technicians
        d["customers"]["count"] = round(d["customers"]["count"] * f)
        d["time_and_materials"]["jobs_per_day"] *= f
    if years is not None:
        d["horizon_days"] = d["warmup_days"] + 365.0 * years
    return scenario_from_dict(d)
