"""The round trip on a bundled scenario, as docs/calibration.md shows it for hvac.

    python scripts/calibration_roundtrip.py [SCENARIO] [SCHEME]

Simulates replication 0 of SCHEME (default: the baseline) on SCENARIO (default: hvac),
exports its visits and renewals as a work-order export, calibrates from the export alone
(the same scenario as template: what an export cannot show) and prints, as a Markdown
table, each parameter's true value, the recovered one and the tolerance it is held to in
tests/test_calibrate.py.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from sim.calibrate.build import calibrate
from sim.calibrate.export import workorders
from sim.calibrate.fit import fit
from sim.calibrate.infer import pace_step
from sim.calibrate.read import read_export
from sim.cli.common import resolve_scenario
from sim.model.replication import simulate_scheme, world_for


def main() -> None:
    sc, _ = resolve_scenario(sys.argv[1] if len(sys.argv) > 1 else "hvac")
    scheme = sys.argv[2] if len(sys.argv) > 2 else sc.baseline_scheme
    world = world_for(sc, sc.seed, 0)
    _f, out = simulate_scheme(sc, world, scheme)
    visits, renewals = workorders(sc, world, out)
    with tempfile.TemporaryDirectory() as tmp:
        v, r = Path(tmp) / "orders.csv", Path(tmp) / "renewals.csv"
        visits.to_csv(v, index=False, date_format="%Y-%m-%dT%H:%M:%S")
        renewals.to_csv(r, index=False, date_format="%Y-%m-%dT%H:%M:%S")
        t = time.perf_counter()
        ex = read_export(v, renewals_path=r)
        cal = calibrate(ex, sc, scheme)
        result = fit(cal, ex, reps=3)
        secs = time.perf_counter() - t
    got = cal.scenario
    busy = np.bincount([row[3] for row in out.visits], minlength=len(out.pace))
    rows = [
        ("failures per account-year", sc.customers.failures_per_year,
         got.customers.failures_per_year, "5%"),
        ("billable calls per day", sc.time_and_materials.jobs_per_day,
         got.time_and_materials.jobs_per_day, "5%"),
        ("contract accounts", sc.customers.count, got.customers.count, "5%"),
        *((f"tier {k}: share", t.share, got.customers.tiers[k].share, "2 pts")
          for k, t in sc.customers.tiers.items()),
        *((f"tier {k}: planned visits a year", t.planned_visits_per_year,
           got.customers.tiers[k].planned_visits_per_year, "5%")
          for k, t in sc.customers.tiers.items()),
        *((f"{k}: share", t.share, got.jobs.types[k].share, "2 pts")
          for k, t in sc.jobs.types.items()),
        *((f"{k}: part on the van", t.part_on_van, got.jobs.types[k].part_on_van, "3 pts")
          for k, t in sc.jobs.types.items()),
        *((f"{k}: fix probability", t.fix_prob, got.jobs.types[k].fix_prob, "3 pts")
          for k, t in sc.jobs.types.items()),
        ("travel hours (mean)", sc.workforce.travel_hours_mean, got.workforce.travel_hours_mean,
         "5%"),
        ("shift start, length (h)", f"{sc.workforce.shift_start_hour:g}, "
         f"{sc.workforce.shift_hours:g}", f"{got.workforce.shift_start_hour:g}, "
         f"{got.workforce.shift_hours:g}", "exact"),
        ("technicians", sc.workforce.technicians, got.workforce.technicians, "exact"),
        ("skill spread (sd): estimate", sc.workforce.skill_sd, cal.inferred.skill_sd_ci[0],
         "CI {1:.3g} to {2:.3g}".format(*cal.inferred.skill_sd_ci)),
        ("callback delay (days)", sc.jobs.callback_delay_mean_days,
         got.jobs.callback_delay_mean_days, "15%"),
        ("churn after a clean term", sc.customers.churn_base, got.customers.churn_base, "2 pts"),
        ("survey response rate", sc.nps.response_rate, got.nps.response_rate, "2 pts"),
        (f"mean pace under {scheme} (inferred)", float(np.average(out.pace, weights=busy)),
         cal.inferred.mean_pace, f"{pace_step(sc):g} (grid step)"),
        ("pace effort cost $/h (inferred)", sc.behaviour.pace.effort_cost_per_hour,
         got.behaviour.pace.effort_cost_per_hour, "25%"),
    ]  # fmt: skip
    print(f"{sc.name}, {scheme}: {len(visits):,} visits, {len(renewals):,} renewals; "
          f"calibrated and fitted in {secs:.1f} s\n")  # fmt: skip
    print("| parameter | true | recovered | tolerance |\n|---|---:|---:|---|")
    for name, true, rec, tol in rows:
        f = lambda x: x if isinstance(x, str) else f"{x:.4g}"  # noqa: E731
        print(f"| {name} | {f(true)} | {f(rec)} | {tol} |")
    print("\n| KPI | data | model (3 replications) | verdict |\n|---|---:|---:|---|")
    for k in result.kpis:
        print(
            f"| {k.kpi} | {k.data:.4g} | {k.sim:.4g} ({k.low:.4g} to {k.high:.4g}) | {k.verdict} |"
        )
    print("\n| distribution | Wasserstein / mean | verdict |\n|---|---:|---|")
    for d in result.dists:
        print(f"| {d.name} | {d.relative:.1%} | {d.verdict} |")


if __name__ == "__main__":
    main()
