"""The technicians' state the simulation reads at every visit.

`Crew` holds, per technician slot, the thoroughness worked now, skill, intrinsic weight,
the visit-outcome probabilities they imply (`sim.world.quality`), the job types the slot
may take, and the inputs of the gaming options (`sim.behaviour.gaming`). The technician
processes and the dispatcher read its lists; `sim.model.dynamics` changes them during the
run (learning, quits and hires) and calls `refresh` and `requalify`, which update the lists
in place so every reader sees the change.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sim.behaviour import gaming
from sim.config.scenario import Scenario
from sim.pay.formula import PayFormula
from sim.world import quality


def qualification(
    min_skills: list[float], skills: list[float]
) -> tuple[list[list[int]], list[list[bool]]]:
    """Job types each technician may take, and who may take each type; a job type nobody
    is qualified for goes to the most skilled technician."""
    n_tech, n_types = len(skills), len(min_skills)
    qualified = [[j for j, m in enumerate(min_skills) if skills[i] >= m] for i in range(n_tech)]
    best = max(range(n_tech), key=lambda i: skills[i])
    for j, m in enumerate(min_skills):
        if not any(skills[i] >= m for i in range(n_tech)):
            qualified[best].append(j)
    can_do = [[j in qualified[i] for i in range(n_tech)] for j in range(n_types)]
    return qualified, can_do


def qualification_of(
    scenario: Scenario, skills: list[float]
) -> tuple[list[list[int]], list[list[bool]]]:
    """`qualification` for the scenario's job types, plus the queue of planned visits
    (index: the number of job types) that everybody may take, when maintenance is on."""
    qualified, can_do = qualification([jt.min_skill for jt in scenario.jobs.types.values()], skills)
    if scenario.maintenance.enabled:
        planned = len(can_do)
        for q in qualified:
            q.append(planned)
        can_do.append([True] * len(skills))
    return qualified, can_do


def expected_hours(scenario: Scenario, theta: float, pace: float = 1.0) -> list[float]:
    """The hours a technician at thoroughness theta and pace `pace` expects a job of each
    queue to take: mean travel plus the mean on-site time (job types, then planned visits)."""
    travel = scenario.workforce.travel_hours_mean
    means = [jt.onsite_hours_mean for jt in scenario.jobs.types.values()]
    means.append(scenario.maintenance.onsite_hours_mean)
    f = theta / pace
    return [travel + f * m for m in means]


#: The cherry-picking "pay per hour" of the planned-visit queue: never picked over a repair.
NEVER_PICKED = -1e9


@dataclass
class Crew:
    """Per-technician state the simulation reads at every visit (lists indexed by slot)."""

    scenario: Scenario
    formula: PayFormula | None  # the scheme's pay formula (needed by the gaming options)
    th: list[float]  # thoroughness worked now
    pace: list[float]  # pace worked now: on-site time is th / pace times the drawn time
    tp: list[float]  # th / pace
    skill: list[float]
    lam: list[float]  # intrinsic weight
    fixp: list[list[float]]  # P(fix) per job type
    fixp1: list[list[float]]  # P(fix) per job type at standard care (to tell skill from time)
    detp: list[float]  # P(detect that a visit did not fix)
    rushp: list[float]  # P(the customer finds the visit rushed)
    qualified: list[list[int]]  # job types each technician may take
    can_do: list[list[bool]]  # [job type][technician]: may take it
    rates: list[list[float]]  # cherry-picking pay per hour per job type
    pclose: list[tuple[float, float]]  # P(premature closure) on first / repeat visits
    present_from: list[float]  # the slot is vacant before this time
    need: list[list[float]]  # expected hours (travel + on site) of a job of each queue
    multiplier: list[float]  # failure-rate multiplier a planned visit of theirs leaves
    # by (skill, pace)
    _tables: dict[tuple[float, float], gaming.PickTable] = field(default_factory=dict)

    @classmethod
    def start(
        cls,
        scenario: Scenario,
        formula: PayFormula | None,
        thoroughness: list[float],
        skill: list[float],
        lam: list[float],
        pace: list[float] | None = None,
    ) -> Crew:
        """The crew at the start of a run; the gaming inputs are zero until `refresh`."""
        q = scenario.quality
        types = list(scenario.jobs.types.values())
        n_tech, n_types = len(skill), len(types)
        qualified, can_do = qualification_of(scenario, skill)
        paces = [1.0] * n_tech if pace is None else list(pace)
        return cls(
            scenario,
            formula,
            list(thoroughness),
            paces,
            [th / pc for th, pc in zip(thoroughness, paces)],
            list(skill),
            list(lam),
            [
                [float(quality.fix_prob(q, skill[i], jt, thoroughness[i])) for jt in types]
                for i in range(n_tech)
            ],
            [[quality.standard_fix_prob(q, skill[i], jt) for jt in types] for i in range(n_tech)],
            [float(quality.detect_prob(q, th)) for th in thoroughness],
            [float(quality.perceived_rushed_prob(q, scenario.nps, th)) for th in thoroughness],
            qualified,
            can_do,
            [[0.0] * n_types + [NEVER_PICKED] for _ in range(n_tech)],
            [(0.0, 0.0)] * n_tech,
            [0.0] * n_tech,
            [expected_hours(scenario, th, pc) for th, pc in zip(thoroughness, paces)],
            [float(quality.failure_multiplier(scenario, th)) for th in thoroughness],
        )

    def of(self, i: int) -> tuple[float, list[float], float, float, float]:
        """Technician i's thoroughness, P(fix) per job type, P(detect), P(rushed) and
        on-site time per drawn hour (thoroughness / pace), as a visit reads them."""
        return self.th[i], self.fixp[i], self.detp[i], self.rushp[i], self.tp[i]

    def refresh(self, i: int) -> None:
        """Recompute technician i's probabilities after a change of thoroughness, pace or
        skill."""
        sc, s, t = self.scenario, self.skill[i], self.th[i]
        self.tp[i] = t / self.pace[i]
        q = sc.quality
        self.fixp[i] = [float(quality.fix_prob(q, s, jt, t)) for jt in sc.jobs.types.values()]
        self.fixp1[i] = [quality.standard_fix_prob(q, s, jt) for jt in sc.jobs.types.values()]
        self.detp[i] = float(quality.detect_prob(q, t))
        self.rushp[i] = float(quality.perceived_rushed_prob(q, sc.nps, t))
        self.need[i] = expected_hours(sc, t, self.pace[i])
        self.multiplier[i] = float(quality.failure_multiplier(sc, t))
        gm = sc.gaming
        if not (gm.cherry_picking or gm.premature_closure):
            return
        f = self.formula
        if f is None:
            raise ValueError("simulate: gaming needs the pay formula")
        if gm.cherry_picking:
            key = (s, self.pace[i])
            table = self._tables.get(key)
            if table is None:
                table = self._tables[key] = gaming.PickTable(sc, f, s, self.pace[i])
            self.rates[i] = [*table.pick_rates(t, self.lam[i]), NEVER_PICKED]
        if gm.premature_closure:
            self.pclose[i] = (
                gaming.closure_prob(sc, f, self.lam[i], True),
                gaming.closure_prob(sc, f, self.lam[i], False),
            )

    def requalify(self) -> None:
        """Recompute who may take which job type after a change of skill."""
        qualified, can_do = qualification_of(self.scenario, self.skill)
        self.qualified[:] = qualified
        self.can_do[:] = can_do
