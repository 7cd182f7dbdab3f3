"""One replication of every scheme: formulas, behaviour, simulation (common random numbers).

Every scheme of a replication simulates the same pre-drawn `World`. Three things here
couple the schemes' runs of a replication, and nothing else does:

- `pay_scale`: a scheme's variable pay is multiplied by the scenario's factor for it
  (set by the budget-neutral search, `sim.experiment.budget`, or by hand);
- behaviour: each technician's thoroughness and pace follow from the (scaled) formula
  (`sim.behaviour.best_response`), with their own intrinsic weight (`World.intrinsic`);
- attrition with reference "baseline": technicians judge a scheme's pay against what the
  baseline scheme paid their slot in the same replication, so the baseline is simulated
  first and its measured expectation handed to the others; so does sorting's outside
  option when its level is the baseline's pay (`sim.behaviour.sorting`).

A scheme may also run with its own headcount (`Scenario.headcount`, set by the sizing
search, `sim.experiment.sizing`): the world draws `Scenario.world_technicians` technician
slots and a scheme with n technicians takes the first n (`scheme_scenario`, `crew_world`);
customers, failures and visit draws do not depend on the headcount (their streams are
keyed by name, `sim.world.rng`), so common random numbers hold across headcounts too.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator

from sim.behaviour.best_response import choose_behaviour
from sim.behaviour.sorting import needs_anchor
from sim.config.base import DAYS_PER_YEAR
from sim.config.scenario import Scenario
from sim.model.output import Output
from sim.model.simulation import simulate
from sim.pay.formula import PayFormula, formula_for, scaled
from sim.world.draws import World, build_world


def scheme_formula(scenario: Scenario, name: str) -> PayFormula:
    """The pay formula a scheme runs with: its own, scaled by `pay_scale[name]` if set
    (`sim.pay.formula.scaled`)."""
    f = formula_for(scenario, name)
    factor = scenario.pay_scale.get(name)
    return f if factor is None or factor == 1.0 else scaled(f, factor)


def needs_baseline_first(scenario: Scenario) -> bool:
    """Whether the other schemes need the baseline's measured pay: attrition's "baseline"
    reference, or the outside option's level (`sim.behaviour.sorting.needs_anchor`)."""
    a = scenario.attrition
    return a.enabled and (a.reference == "baseline" or needs_anchor(a))


def scheme_scenario(scenario: Scenario, name: str) -> Scenario:
    """The scenario as scheme `name` runs it: `workforce.technicians` set to the scheme's
    headcount (`Scenario.headcount`), so the model and the KPIs count its technicians."""
    n = scenario.headcount.get(name, scenario.workforce.technicians)
    if n == scenario.workforce.technicians:
        return scenario
    return _with_technicians(scenario, n)


def _with_technicians(scenario: Scenario, n: int) -> Scenario:
    return scenario.model_copy(
        update={"workforce": scenario.workforce.model_copy(update={"technicians": n})}
    )


def crew_world(world: World, n: int) -> World:
    """`world` with its first `n` technician slots: every per-technician draw cut to n."""
    if len(world.skill) == n:
        return world
    if len(world.skill) < n:
        raise ValueError(
            f"the world has {len(world.skill)} technician slots, {n} needed; build it with "
            "sim.model.replication.world_for"
        )
    cut = {
        k: getattr(world, k)[:n]
        for k in ("skill", "intrinsic", "learn_sign", "quit_u", "hire_skill", "hire_intrinsic")
        if getattr(world, k) is not None
    }
    return dataclasses.replace(world, **cut)


def fit_reference(reference_pay: list[float] | None, n: int) -> list[float] | None:
    """The baseline's expected pay per slot for a scheme with `n` slots: a slot the baseline
    did not have expects the baseline's mean, as a new hire does (`sim.model.dynamics`)."""
    if reference_pay is None or len(reference_pay) == n:
        return reference_pay
    mean = sum(reference_pay) / len(reference_pay)
    return list(reference_pay[:n]) + [mean] * (n - len(reference_pay))


def simulate_scheme(
    scenario: Scenario,
    world: World,
    name: str,
    reference_pay: list[float] | None = None,
    formula: PayFormula | None = None,
) -> tuple[PayFormula, Output]:
    """Simulate one scheme on `world`: its formula (or `formula`), behaviour, the run, with
    its headcount (`scheme_scenario`: compute its KPIs with that scenario)."""
    f = scheme_formula(scenario, name) if formula is None else formula
    sc = scheme_scenario(scenario, name)
    n = sc.workforce.technicians
    world = crew_world(world, n)
    theta, pace = choose_behaviour(sc, f, world.skill, world.intrinsic)
    return f, simulate(sc, world, theta, f, fit_reference(reference_pay, n), pace=pace)


def simulate_schemes(scenario: Scenario, world: World) -> Iterator[tuple[str, PayFormula, Output]]:
    """Every scheme of the scenario on one world, in the scenario's scheme order, one at a
    time: a caller that keeps what it needs of each output and drops it holds one
    scheme's records at a time (two when the baseline must run first, until its turn)."""
    early = None
    ref = None
    base = scenario.baseline_scheme
    if needs_baseline_first(scenario):
        early = simulate_scheme(scenario, world, base)
        ref = early[1].reference_pay
    for name in scenario.schemes:
        if name == base and early is not None:
            got, early = early, None
        else:
            got = simulate_scheme(scenario, world, name, ref)
        yield name, *got
        del got  # before the next scheme runs


def world_for(scenario: Scenario, seed: int, replication: int) -> World:
    """`build_world` with `Scenario.world_technicians` technician slots, once
    `customers.new_accounts_per_year: steady` is resolved to a number (`steady_rate`)."""
    sc = resolve_steady(scenario, seed)
    if sc.world_technicians != sc.workforce.technicians:
        sc = _with_technicians(sc, sc.world_technicians)
    return build_world(sc, seed, replication)


def resolve_steady(scenario: Scenario, seed: int) -> Scenario:
    """The scenario with a "steady" acquisition rate replaced by `steady_rate` (measured at
    the nominal headcount, so that it does not change with a scheme's)."""
    if scenario.customers.new_accounts_per_year != "steady":
        return scenario
    nominal = scenario.model_copy(update={"headcount": {}}) if scenario.headcount else scenario
    rate = steady_rate(nominal.model_dump_json(), seed)
    customers = scenario.customers.model_copy(update={"new_accounts_per_year": rate})
    return scenario.model_copy(update={"customers": customers})


@functools.lru_cache(maxsize=64)
def steady_rate(scenario_json: str, seed: int) -> float:
    """New accounts per year that keep the baseline scheme's book steady: the accounts it
    loses per year over the run in a pilot replication without acquisition (replication
    -1 of `seed`, which no experiment uses; docs/model.md, "A steady book"), less the
    accounts its promoters bring (`steady_referred`) when referrals are on."""
    sc = Scenario.model_validate_json(scenario_json)
    pilot = sc.model_copy(
        update={"customers": sc.customers.model_copy(update={"new_accounts_per_year": 0.0})}
    )
    lost, referred = _pilot_losses(pilot, seed)  # its run freed on return
    if referred:
        lost = steady_referred(lost, referred)
    return lost / (pilot.horizon_days / DAYS_PER_YEAR)


def _pilot_losses(pilot: Scenario, seed: int) -> tuple[int, int]:
    """Accounts the pilot run (its baseline scheme) lost, and the accounts referred to it."""
    world = build_world(pilot, seed, PILOT_REPLICATION)
    _f, out = simulate_scheme(pilot, world, pilot.baseline_scheme)
    return sum(1 for r in out.renewals if not r[2]), len(out.referred_t)


def steady_referred(lost: int, referred: int) -> int:
    """With referrals, the pilot (referrals on, no other acquisition) gains `referred`
    accounts as it loses `lost`: the steady rate makes up the difference, none if the
    referrals alone keep the book."""
    return max(0, lost - referred)


#: The replication number of the pilot run of `steady_rate` (spawn keys must be >= 0).
PILOT_REPLICATION = 2**31 - 1
