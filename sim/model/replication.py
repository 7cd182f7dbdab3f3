"""One replication of every scheme: formulas, behaviour, simulation (common random numbers).

Every scheme of a replication simulates the same pre-drawn `World`. Three things here
couple the schemes' runs of a replication, and nothing else does:

- `pay_scale`: a scheme's variable pay is multiplied by the scenario's factor for it
  (set by the budget-neutral search, `sim.experiment.budget`, or by hand);
- behaviour: each technician's thoroughness follows from the (scaled) formula
  (`sim.behaviour.best_response`), with their own intrinsic weight (`World.intrinsic`);
- attrition with reference "baseline": technicians judge a scheme's pay against what the
  baseline scheme paid their slot in the same replication, so the baseline is simulated
  first and its measured expectation handed to the others.
"""

from __future__ import annotations

from sim.behaviour.best_response import choose_thoroughness
from sim.config.scenario import Scenario
from sim.model.output import Output
from sim.model.simulation import simulate
from sim.pay.formula import PayFormula, formula_for, scaled
from sim.world.draws import World


def scheme_formula(scenario: Scenario, name: str) -> PayFormula:
    """The pay formula a scheme runs with: its own, scaled by `pay_scale[name]` if set
    (`sim.pay.formula.scaled`)."""
    f = formula_for(scenario, name)
    factor = scenario.pay_scale.get(name)
    return f if factor is None or factor == 1.0 else scaled(f, factor)


def needs_baseline_first(scenario: Scenario) -> bool:
    a = scenario.attrition
    return a.enabled and a.reference == "baseline"


def simulate_scheme(
    scenario: Scenario,
    world: World,
    name: str,
    reference_pay: list[float] | None = None,
    formula: PayFormula | None = None,
) -> tuple[PayFormula, Output]:
    """Simulate one scheme on `world`: its formula (or `formula`), behaviour, the run."""
    f = scheme_formula(scenario, name) if formula is None else formula
    theta = choose_thoroughness(scenario, f, world.skill, world.intrinsic)
    return f, simulate(scenario, world, theta, f, reference_pay)


def simulate_schemes(scenario: Scenario, world: World) -> list[tuple[str, PayFormula, Output]]:
    """Every scheme of the scenario on one world, in the scenario's scheme order."""
    names = list(scenario.schemes)
    done: dict[str, tuple[PayFormula, Output]] = {}
    ref = None
    if needs_baseline_first(scenario):
        base = scenario.baseline_scheme
        done[base] = simulate_scheme(scenario, world, base)
        ref = done[base][1].reference_pay
    for name in names:
        if name not in done:
            done[name] = simulate_scheme(scenario, world, name, ref)
    return [(name, *done[name]) for name in names]
