"""`techsim optimise` as a library call: the coefficients of a scheme family that maximise
an objective under a pay budget and a limit on losers (docs/model.md section 14).

The search (`search`) is Optuna's TPE sampler with constraints (T. Akiba et al., "Optuna: a
next-generation hyperparameter optimization framework", KDD 2019), seeded, asked and told
one trial at a time. A trial is a candidate formula: the family's template (the scenario's
first scheme of that type, else the type's defaults) with the searched coefficients
replaced (`sim.experiment.family`). It is evaluated on the same replications 0..n-1 of the
run's seed as every other trial and as the baseline (common random numbers), its
replications run together on the executor (`CandidateTask`, `sim.experiment.search.run_round`):

    objective      = the mean over replications of the objective (`sim.experiment.objective`)
    pay change     = mean candidate pay per tech-day / mean baseline pay per tech-day - 1
    loser share    = the share of (technician slot, replication) pairs whose pay per day
                     under the candidate is below (1 - loss threshold) x their pay under
                     the baseline, in the same replication

and is feasible when |pay change| <= max pay change and loser share <= max losers. Optuna's
constraints are these two margins (<= 0 feasible); the best trial is the best feasible one,
never an infeasible one (None when no trial is feasible).

Resume: each trial's evaluation is kept as a part; a resumed search asks the same seeded
sampler again, which suggests the same coefficients given the same history, and takes the
kept evaluation instead of simulating (a trial whose kept coefficients differ is run
again). The same seed gives the same trials whatever the number of workers.

Noise can crown a lucky trial, so the `top` feasible trials are re-evaluated by Kim and
Nelson's selection (`sim.experiment.select`, whose guarantee the manifest states) together
with the scenario's own schemes that meet the same limits (each measured as a trial is; the
baseline always does); the manifest's "schemes" says how each of them fared.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.config.scenario import Scenario
from sim.experiment.execution import DEFAULT_EXECUTION, Execution
from sim.experiment.family import (
    CANDIDATE,
    Bound,
    candidate,
    candidate_scenario,
    default_bounds,
    with_candidates,
)
from sim.experiment.objective import Objective, objective_for
from sim.experiment.search import SchemeTask, run_round, scheme_kpis
from sim.experiment.select import run_selection
from sim.store.files import (
    atomic_write_text,
    manifest,
    now_iso,
    write_csv,
    write_json,
)
from sim.store.parts import (
    Parts,
    ResumeError,
    encode_part,
    json_hash,
    scenario_hash,
    start_parts,
)

TRIAL_COLUMNS = ("trial", "objective", "pay_change", "loser_share", "feasible")
OPTIMISE_IDENTITY = {
    "scenario_hash": "the scenario",
    "seed": "--seed",
    "family": "--family",
    "bounds": "--bound",
    "objective": "--objective",
    "replications": "--reps",
    "limits": "--max-pay-change, --max-losers or --loss-threshold",
}


@dataclass(frozen=True)
class Limits:
    """The constraints: |pay change| <= max_pay_change; the share of technicians losing
    more than loss_threshold of their pay <= max_losers (all as fractions)."""

    max_pay_change: float
    max_losers: float
    loss_threshold: float


@dataclass(frozen=True)
class Evaluation:
    objective: float
    pay_change: float
    loser_share: float


@dataclass
class Trial:
    number: int
    params: dict[str, float]
    evaluation: Evaluation
    feasible: bool

    def row(self) -> dict[str, Any]:
        e = self.evaluation
        return {"trial": self.number, **self.params, "objective": e.objective,
                "pay_change": e.pay_change, "loser_share": e.loser_share,
                "feasible": self.feasible}  # fmt: skip


# --------------------------------------------------------------------------- evaluation
@dataclass(frozen=True)
class CandidateTask(SchemeTask):
    """One replication of one scheme of a scenario: its KPIs and each technician's pay."""

    @property
    def key(self) -> str:
        return f"{self.scheme}-r{self.replication:05d}"

    def run(self) -> tuple[dict[str, float], list[float]]:
        _f, kpis, techs = scheme_kpis(self.scenario, self.seed, self.replication, self.scheme)
        return kpis, [float(t["pay_per_day"]) for t in techs]


def measure(
    obj: Objective,
    limits: Limits,
    cand: list[tuple[dict[str, float], list[float]]],
    base: list[tuple[dict[str, float], list[float]]],
) -> Evaluation:
    """A candidate's evaluation from its replications and the baseline's (same order)."""
    value = float(np.mean([obj.value(k) for k, _ in cand]))
    c_pay = np.mean([k["tech_pay_per_day"] for k, _ in cand])
    b_pay = np.mean([k["tech_pay_per_day"] for k, _ in base])
    lost = total = 0
    for (_k, cp), (_b, bp) in zip(cand, base):
        for c, b in zip(cp, bp):
            if math.isnan(c) or math.isnan(b) or b <= 0:
                continue
            total += 1
            lost += c < (1.0 - limits.loss_threshold) * b
    share = lost / total if total else math.nan
    return Evaluation(value, float(c_pay / b_pay - 1.0), float(share))


def feasible(e: Evaluation, limits: Limits) -> bool:
    return (
        math.isfinite(e.objective)
        and abs(e.pay_change) <= limits.max_pay_change
        and e.loser_share <= limits.max_losers
    )


# --------------------------------------------------------------------------- the search
def search(
    bounds: list[Bound],
    evaluate: Callable[[int, dict[str, float]], Evaluation],
    trials: int,
    limits: Limits,
    seed: int,
) -> list[Trial]:
    """`trials` trials of Optuna's seeded TPE sampler with the two constraints; `evaluate`
    (trial number, coefficients) gives each one's evaluation. Every trial, in order."""
    import optuna

    logger = optuna.logging.get_logger("optuna")
    level = logger.level
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=min(10, trials))
            study = optuna.create_study(direction="maximize", sampler=sampler)
            out = []
            for n in range(trials):
                t = study.ask()
                params = {b.name: t.suggest_float(b.name, b.low, b.high) for b in bounds}
                e = evaluate(n, params)
                t.set_constraint("pay_change", abs(e.pay_change) - limits.max_pay_change)
                share = e.loser_share if math.isfinite(e.loser_share) else 1.0
                t.set_constraint("losers", share - limits.max_losers)
                value = e.objective if math.isfinite(e.objective) else -1e300
                study.tell(t, value)
                out.append(Trial(n, params, e, feasible(e, limits)))
            return out
    finally:
        logger.setLevel(level)


def best(trials: list[Trial], top: int = 1) -> list[Trial]:
    """The `top` feasible trials by objective (best first; ties to the earlier trial)."""
    ok = [t for t in trials if t.feasible]
    return sorted(ok, key=lambda t: (-t.evaluation.objective, t.number))[:top]


# --------------------------------------------------------------------------- the command
@dataclass
class OptimiseOutput:
    trials: list[Trial]
    winner: str | None
    scheme: dict[str, Any] | None
    manifest: dict[str, Any]
    out_dir: Path


def run_optimise(
    scenario: Scenario,
    out_dir: str | Path,
    family: str,
    objective: str,
    limits: Limits,
    trials: int = 40,
    replications: int = 5,
    bounds: dict[str, tuple[float, float]] | None = None,
    top: int = 3,
    delta: float | None = None,
    pcs: float = 0.95,
    execution: Execution = DEFAULT_EXECUTION,
    on_trial: Callable[[Trial], None] | None = None,
) -> OptimiseOutput:
    """Search the family's coefficients, re-evaluate the best with the schemes of the
    scenario (selection, indifference zone `delta`; default 0.5% of the baseline's
    objective), write the files into `out_dir` (see the module's docstring). The tasks run
    where `execution` says (`sim.experiment.execution`), the re-evaluation's too."""
    obj = objective_for(scenario, objective)
    bs = default_bounds(scenario, family, bounds or {})
    seed = execution.seed_for(scenario)
    out = Path(out_dir)
    execution.check(scenario, replications * (trials + 1), out, "optimise")
    ident = {
        "scenario_hash": scenario_hash(scenario),
        "seed": seed,
        "family": family,
        "bounds": [asdict(b) for b in bs],
        "objective": obj.name,
        "replications": replications,
        "limits": asdict(limits),
    }
    parts = start_parts(
        out, ".json", "optimise", scenario.name, ident, OPTIMISE_IDENTITY, execution.resume
    )
    base_name = scenario.baseline_scheme
    started, t0 = now_iso(), time.perf_counter()
    with execution.started() as live:

        def run_reps(sc: Scenario, name: str) -> list[tuple[dict[str, float], list[float]]]:
            def task(scheme: str, rep: int) -> CandidateTask:
                return CandidateTask(sc, seed, rep, scheme)

            return run_round([name], replications, task, CandidateTask.run, live)[name]

        base = run_reps(scenario, base_name)
        base_obj = float(np.mean([obj.value(k) for k, _ in base]))

        def evaluate(n: int, params: dict[str, float]) -> Evaluation:
            key = f"trial-{n:05d}"
            kept = _kept(parts, key, params, execution.note)
            if kept is not None:
                return kept
            e = measure(
                obj, limits, run_reps(candidate_scenario(scenario, family, params), CANDIDATE), base
            )
            parts.write(key, encode_part(key, {"params": params, "evaluation": asdict(e)}))
            return e

        def evaluate_and_report(n: int, params: dict[str, float]) -> Evaluation:
            e = evaluate(n, params)
            if on_trial:
                on_trial(Trial(n, params, e, feasible(e, limits)))
            return e

        done = search(bs, evaluate_and_report, trials, limits, seed)
        chosen = best(done, top)
        # the scenario's own schemes, measured as the trials are: which meet the limits
        own: dict[str, dict[str, Any]] = {}
        for name in scenario.schemes:
            e = measure(obj, limits, run_reps(scenario, name), base)
            own[name] = {**asdict(e), "feasible": feasible(e, limits)}
        selection: dict[str, Any] | None = None
        winner = None
        if chosen:
            # the contenders: the best trials and the scenario's schemes within the limits
            named = {f"{CANDIDATE}_{k}": t.params for k, t in enumerate(chosen, 1)}
            within = [n for n in scenario.schemes if own[n]["feasible"]]
            both = with_candidates(scenario, family, named, "the candidates", within)
            d = delta if delta is not None else max(abs(base_obj) * 0.005, 1e-9)
            n0, cap = max(5, replications), max(60, 4 * replications)
            args = (both, out / "select", objective, d, None, pcs, n0, cap)
            ex = Execution(seed, resume=execution.resume, backend=live, force=True)
            try:
                sel = run_selection(*args, execution=ex)
            except ResumeError:  # the contenders changed: select afresh
                sel = run_selection(*args, execution=replace(ex, resume=False))
            selection = sel.manifest["selection"]
            winner = str(selection["winner"])
        workers_used = live.workers
    wall = time.perf_counter() - t0
    table = pd.DataFrame([t.row() for t in done])
    cols = ["trial", *(b.name for b in bs), *TRIAL_COLUMNS[1:]]
    write_csv(out / "trials.csv", table.reindex(columns=cols))
    scheme = None
    if winner is not None and winner.startswith(CANDIDATE):
        k = int(winner.rsplit("_", 1)[1]) - 1
        scheme = candidate(scenario, family, chosen[k].params)
        text = yaml.safe_dump({CANDIDATE: scheme}, sort_keys=False)
        atomic_write_text(out / "optimised.yaml", "# paste under schemes: in a scenario\n" + text)
    man = manifest(
        scenario,
        seed,
        replications,
        started,
        wall,
        workers_used,
        {
            "kind": "optimise",
            "files": ["trials.csv", "optimised.yaml", "tradeoff.png", "select/"],
            "experiment_hash": json_hash(ident),
            "optimise": {
                **ident,
                "objective_label": obj.label,
                "trials": trials,
                "feasible_trials": sum(t.feasible for t in done),
                "baseline": base_name,
                "baseline_objective": base_obj,
                "top": [t.row() for t in chosen],
                "schemes": own,
                "winner": winner,
                "winner_scheme": scheme,
                "selection": selection,
            },
        },
    )
    write_json(out / "manifest.json", man)
    return OptimiseOutput(done, winner, scheme, man, out)


def _kept(
    parts: Parts, key: str, params: dict[str, float], note: Callable[[str], None]
) -> Evaluation | None:
    """A kept trial's evaluation when it holds these coefficients, else None (run it)."""
    body = parts.body(key, lambda exc: note(f"{exc}; running the trial again"))
    if body is None or body.get("params") != params or not isinstance(body.get("evaluation"), dict):
        return None
    try:
        return Evaluation(**{k: float(v) for k, v in body["evaluation"].items()})
    except (TypeError, ValueError):
        return None
