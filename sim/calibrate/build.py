"""From an export to a calibrated scenario (docs/calibration.md, "How it works").

`calibrate(export, template, current)`:

1. estimates what the export shows (`sim.calibrate.estimate`, `sim.calibrate.churn`);
2. writes them into a copy of the template (the job types become the export's; a field the
   export cannot show keeps the template's value);
3. infers the behaviour under the scheme in force (`sim.calibrate.infer`): the pace's effort
   cost, each type's fix probability, the skill spread; the normal on-site times are the
   mapping's `standard_hours`, else the template's (a type the template lacks gets the
   observed time divided by the inferred thoroughness / pace);
4. returns the scenario (validated) with every estimate, the inference and notes.

The rates the simulation shapes (failures under maintenance, billable calls of which some are
lost) are corrected by simulation in `sim.calibrate.fit`.
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass, field
from typing import Any

from sim.calibrate.chains import first_visits, hours, true_fix
from sim.calibrate.churn import classify, fit_churn
from sim.calibrate.estimate import Estimate, Estimator, estimate
from sim.calibrate.infer import Inferred, infer
from sim.calibrate.read import Export
from sim.config.load import scenario_from_dict, scenario_to_dict
from sim.config.scenario import Scenario
from sim.config.schemes import Scheme
from sim.pay.formula import formula_for

#: The name of the scheme in force when the mapping gives it.
CURRENT = "current"


class CalibrationError(ValueError):
    """An export from which no scenario can be calibrated (too little of it, or no scheme)."""


@dataclass
class Calibration:
    scenario: Scenario
    current: str  # the scheme in force, one of scenario.schemes
    estimates: list[Estimate]
    inferred: Inferred
    notes: list[str] = field(default_factory=list)
    standard_from: str = "template"  # where the normal on-site times came from


def set_at(d: dict[str, Any], path: str, value: Any) -> None:
    """Set the value at a dotted path of a scenario dict (creating sections on the way)."""
    keys = path.split(".")
    for k in keys[:-1]:
        d = d.setdefault(k, {})
    d[keys[-1]] = value


def _round(x: float, nd: int = 4) -> float:
    return float(round(x, nd))


def calibrate(
    export: Export,
    template: Scenario,
    current: str | None = None,
    scheme: Scheme | None = None,
    name: str | None = None,
) -> Calibration:
    """The calibrated scenario of `export` (module docstring). `current`: the template's
    scheme in force; `scheme`: the scheme in force itself (the mapping's)."""
    scheme = scheme if scheme is not None else export.mapping.current_scheme
    if scheme is None and current is None:
        raise CalibrationError(
            "which pay scheme is in force? name one of the template's schemes with --current, "
            "or give it as current_scheme in the mapping"
        )
    if current is not None and current not in template.schemes:
        raise CalibrationError(
            f"--current: {current!r} is not one of the template's schemes "
            f"({', '.join(template.schemes)})"
        )
    ests, est = estimate(export, template)
    first = first_visits(est.c)
    if len(first) < 50:
        raise CalibrationError(
            f"{export.source}: {len(first)} first visits with a closed callback window; at "
            "least 50 are needed"
        )
    if not (first["contract"] & ~first["planned"]).any():
        raise CalibrationError(
            f"{export.source}: no repair of a contract account (every contract_type is a "
            "no-contract value): techsim models a book of contracts; map the contract types "
            "(the mapping's no_contract) or calibrate from an export that holds them"
        )
    if (first["status"] == "part_needed").all():
        raise CalibrationError(
            f"{export.source}: every repair's first visit has status part_needed: no visit "
            "shows the on-site time or the fix rate of a job done"
        )
    notes = list(export.notes)
    d = scenario_to_dict(template)
    d["name"] = name or f"{template.name}-calibrated"
    today = _dt.date.today().isoformat()
    d["description"] = f"Calibrated from {export.source} on {today} (template {template.name})"
    d["source"] = "techsim calibrate: docs/calibration.md; fit report beside this file"
    by_path = {e.path: e for e in ests if e.path and not e.kept}
    _apply_book(d, by_path, export, notes)
    normal = _apply_jobs(d, by_path, export, template)
    std_from = "mapping" if export.mapping.standard_hours else "template"
    for path in (
        "workforce.travel_hours_mean",
        "workforce.travel_hours_cv",
        "workforce.shift_start_hour",
        "workforce.shift_hours",
        "jobs.part_lead_time_hours",
        "jobs.revisit_delay_hours",
        "jobs.callback_delay_mean_days",
        "nps.response_rate",
        "nps.promoter",
        "nps.detractor",
        "maintenance.onsite_hours_cv",
    ):
        if path in by_path and math.isfinite(by_path[path].value):
            set_at(d, path, _round(by_path[path].value))
    for path in ("workforce.days_per_week", "workforce.technicians"):
        if path in by_path:
            set_at(d, path, int(by_path[path].value))
    if d["workforce"]["shift_start_hour"] + d["workforce"]["shift_hours"] > 24:
        d["workforce"]["shift_hours"] = 24 - d["workforce"]["shift_start_hour"]
    if scheme is not None:
        d["schemes"] = {CURRENT: scheme.model_dump(mode="json"), **d["schemes"]}
        current = CURRENT
    assert current is not None
    d["baseline"] = current
    for key in ("pay_scale", "headcount", "regions"):
        d[key] = {}
    ests += _churn(d, est, export, template, notes)
    draft = scenario_from_dict(d, "<calibrated scenario>")
    observed, fix_target = _observed(est, draft, first)
    if not export.linked:
        fix_target = {}  # a visit's own fix is unseen without its chain: the template's
    try:
        ratio = _ratio(observed, draft, normal)
    except CalibrationError as exc:
        raise CalibrationError(f"{export.source}: {exc}") from None
    inf = infer(draft, formula_for(draft, current), ratio, fix_target, est.tech_fix_sd)
    _apply_inferred(d, inf, observed, export, normal)
    if inf.at_bound:
        notes.append(
            f"the visits' observed/normal time ratio ({ratio:.3f}) lies outside what any pace "
            f"cost gives; the nearest ({inf.ratio:.3f}) is used: check the normal times"
        )
    sc = scenario_from_dict(d, "<calibrated scenario>")
    return Calibration(sc, current, ests, inf, notes, std_from)


def _apply_book(d: dict[str, Any], by: dict[str, Estimate], ex: Export, notes: list[str]) -> None:
    if "customers.count" in by:
        d["customers"]["count"] = int(by["customers.count"].value)
        shares = {
            k.split(".")[2]: e.value
            for k, e in by.items()
            if k.endswith(".share") and k.startswith("customers.tiers.")
        }
        total = sum(shares.values())
        tiers = {}
        for t, share in shares.items():
            base = d["customers"]["tiers"].get(t)
            if base is None:
                base = dict(next(iter(d["customers"]["tiers"].values())))
                notes.append(
                    f"tier {t!r} is not in the template: its SLA and value are the "
                    "first template tier's"
                )
            tiers[t] = {**base, "share": _round(share / total, 6)}
            key = f"customers.tiers.{t}.planned_visits_per_year"
            if key in by:
                tiers[t]["planned_visits_per_year"] = _round(by[key].value, 3)
        _fix_shares(tiers)
        d["customers"]["tiers"] = tiers
    if "customers.failures_per_year" in by:
        d["customers"]["failures_per_year"] = _round(by["customers.failures_per_year"].value)
    tm = by.get("time_and_materials.jobs_per_day")
    d["time_and_materials"]["enabled"] = bool(tm and tm.n > 0)
    if tm and tm.n > 0:
        d["time_and_materials"]["jobs_per_day"] = _round(tm.value)
    planned = ex.visits["planned"].any()
    d["maintenance"]["enabled"] = bool(planned)


def _fix_shares(group: dict[str, dict[str, Any]]) -> None:
    """Make rounded shares add up to 1 exactly (the last takes the remainder)."""
    keys = list(group)
    rest = 1.0 - sum(group[k]["share"] for k in keys[:-1])
    group[keys[-1]]["share"] = round(rest, 6)


def _apply_jobs(d: dict[str, Any], by: dict[str, Estimate], ex: Export, tpl: Scenario) -> set[str]:
    """The export's job types into `d`; returns those with a normal on-site time (in the
    mapping's standard hours, else in the template)."""
    types: dict[str, dict[str, Any]] = {}
    shares = {
        k.split(".")[2]: e.value
        for k, e in by.items()
        if k.startswith("jobs.types.") and k.endswith(".share")
    }
    total = sum(shares.values())
    std = ex.mapping.standard_hours
    for jt, share in shares.items():
        base = tpl.jobs.types.get(jt)
        spec: dict[str, Any] = base.model_dump(mode="json") if base else {"min_skill": 0.0}
        spec["share"] = _round(share / total, 6)
        for f in ("part_on_van", "onsite_hours_cv"):
            e = by.get(f"jobs.types.{jt}.{f}")
            if e is not None and math.isfinite(e.value):
                spec[f] = _round(e.value)
        if jt in std:
            spec["onsite_hours_mean"] = std[jt]
        spec.setdefault("fix_prob", 0.9)
        spec.setdefault("onsite_hours_mean", 1.0)  # set once the pace is inferred
        types[jt] = spec
    _fix_shares(types)
    d["jobs"]["types"] = types
    return {jt for jt in types if jt in std or (not std and jt in tpl.jobs.types)}


def _churn(
    d: dict[str, Any], est: Estimator, ex: Export, tpl: Scenario, notes: list[str]
) -> list[Estimate]:
    if ex.renewals is None or ex.renewals.empty:
        notes.append("no renewals: churn keeps the template's values")
        return []
    known = ex.renewals["account_id"].isin(ex.visits["account_id"])
    if not known.any():
        notes.append(
            f"none of the {len(ex.renewals):,} renewals' accounts has a visit in the export: "
            "check that the two files use the same account ids (churn per problem cannot "
            "be estimated)"
        )
    fit = fit_churn(classify(est.c, ex.renewals, tpl.customers.term_days))
    out = []
    for key, (v, lo, hi) in fit.items():
        path = f"customers.{key}"
        if not math.isfinite(v):
            out.append(
                Estimate(
                    path,
                    key.replace("_", " "),
                    math.nan,
                    kept=True,
                    method="template",
                    note="no problem ended this way",
                )
            )
            continue
        out.append(
            Estimate(
                path,
                key.replace("_", " "),
                v,
                lo,
                hi,
                len(ex.renewals),
                "maximum likelihood, Wald interval",
            )
        )
        set_at(d, path, _round(v))
    return out


def _observed(
    est: Estimator, sc: Scenario, first: Any
) -> tuple[dict[str, float], dict[str, float]]:
    """Observed on-site mean per job type (first visits that did not wait for a part, and
    planned visits) and the share of first visits that fixed with the part there."""
    c = est.c
    worked = c[(c["visit_no"] == 1) & (c["status"] != "part_needed")]
    onsite = {
        str(jt): float(hours(g["completion"] - g["arrival"]).mean())
        for jt, g in worked.groupby("job_type", sort=True)
    }
    fv = first[first["status"] != "part_needed"]
    fix = {str(jt): float(true_fix(g).mean()) for jt, g in fv.groupby("job_type", sort=True)}
    return onsite, fix


def _ratio(observed: dict[str, float], sc: Scenario, normal: set[str]) -> float:
    """Observed / normal on-site time over the job types that have a normal time (the
    mapping's standard hours, else the template's), weighted by their shares."""
    num = den = 0.0
    for jt, t in sc.jobs.types.items():
        if jt in observed and jt in normal:
            num += t.share * observed[jt]
            den += t.share * t.onsite_hours_mean
    if den <= 0:
        raise CalibrationError(
            "no job type of the export has a normal on-site time: give the mapping's "
            f"standard_hours for some of {', '.join(sorted(observed)) or 'its job types'}"
        )
    return num / den


def _apply_inferred(
    d: dict[str, Any], inf: Inferred, observed: dict[str, float], ex: Export, normal: set[str]
) -> None:
    d["behaviour"].setdefault("pace", {})["effort_cost_per_hour"] = _round(inf.pace_cost, 3)
    for jt, fp in inf.fix_prob.items():
        d["jobs"]["types"][jt]["fix_prob"] = _round(fp)
    if inf.skill_sd is not None:
        d["workforce"]["skill_sd"] = _round(inf.skill_sd)
    for jt, spec in d["jobs"]["types"].items():
        if jt not in normal and jt in observed:
            spec["onsite_hours_mean"] = _round(observed[jt] / inf.ratio)
    planned = [jt for jt in observed if jt in ex.mapping.planned_job_types]
    if planned and d["maintenance"]["enabled"]:
        d["maintenance"]["onsite_hours_mean"] = _round(observed[planned[0]] / inf.ratio)


#: The first line of a scenario file techsim calibrate writes (it overwrites only those).
HEADER = "# techsim calibrate:"


def scenario_yaml(cal: Calibration, export_source: str, report_name: str) -> str:
    """The calibrated scenario as YAML, headed by where its values came from."""
    import yaml

    est = sorted({e.path for e in cal.estimates if e.path and not e.kept})
    kept = sorted({e.path for e in cal.estimates if e.kept})
    inferred = [
        "behaviour.pace.effort_cost_per_hour",
        *(["jobs.types.*.fix_prob"] if cal.inferred.fix_prob else []),
        "jobs.types.*.onsite_hours_mean (normal times: " + cal.standard_from + ")",
    ]
    if cal.inferred.skill_sd is not None:
        inferred.append("workforce.skill_sd")
    lines = [
        f"{HEADER} calibrated from {export_source} (fit report: {report_name})",
        "# estimated from the export: " + ", ".join(est),
        "# inferred through the model under the scheme in force "
        f"({cal.current}): " + ", ".join(inferred),
        "# kept from the template (not in the export): "
        + (", ".join(kept) or "-")
        + "; and every other field",
    ]
    wrapped = []
    for line in lines:
        while len(line) > 100:
            cut = line.rfind(", ", 0, 98)
            cut = cut if cut > 10 else 98
            wrapped.append(line[: cut + 1])
            line = "#   " + line[cut + 1 :].lstrip()
        wrapped.append(line)
    body = yaml.safe_dump(scenario_to_dict(cal.scenario), sort_keys=False, width=100)
    return "\n".join(wrapped) + "\n" + body
