"""`techsim calibrate` and `techsim export`: a company's work-order export into a scenario,
and a simulated run out as a work-order export (docs/calibration.md).

Thin commands over `sim.calibrate` (read, estimate, infer, fit) and `sim.report.calibration`
(the fit report). Everything is computed before anything is written; a bad export is one
line naming the file, row and column, exit status 2.
"""

from __future__ import annotations

from pathlib import Path

import click

from sim.cli.common import note, range_option, refuse_regions, resolve_scenario
from sim.cli.errors import BadInput

EPILOG_CALIBRATE = """\b
Examples:
  techsim calibrate orders.csv --renewals contracts.csv --current jobs_per_day --out mine.yaml
  techsim calibrate sf.csv --format salesforce --mapping my-sf.yaml --out mine.yaml
  techsim calibrate log.ocel.json --format ocel --template medical --current jobs_per_day \\
      --out mine.yaml
"""
EPILOG_EXPORT = """\b
Examples:
  techsim export results/hvac                       # RESULTS/export/workorders.csv (+ renewals)
  techsim export results/hvac --format ocel --out hvac.ocel.json
  techsim export results/hvac --scheme hourly --replication 2
"""


@click.command(epilog=EPILOG_CALIBRATE)
@click.argument("export_path", metavar="EXPORT")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "salesforce", "ocel"]),
    default="csv",
    show_default=True,
    help="The export's format.",
)
@click.option(
    "--mapping",
    "mapping_path",
    default=None,
    metavar="MAP.yaml",
    help="Where the layout's columns are in the export (docs/calibration.md).",
)
@click.option(
    "--renewals",
    "renewals_path",
    default=None,
    metavar="FILE",
    help="Contract renewals (account_id, renewal_date, renewed) for churn.",
)
@click.option(
    "--template",
    default=None,
    metavar="SCENARIO",
    help="What the export cannot say comes from this scenario [default: hvac].",
)
@click.option(
    "--current",
    default=None,
    metavar="SCHEME",
    help="The template's scheme in force in the export (or current_scheme in the mapping).",
)
@click.option(
    "--out",
    "out",
    required=True,
    metavar="SCENARIO.yaml",
    help="The calibrated scenario; the fit report is written beside it.",
)
@click.option("--name", default=None, help="The calibrated scenario's name.")
@range_option(
    "--reps",
    low=2,
    high=50,
    default=3,
    help="Replications of the calibrated model for the fit report.",
)
def calibrate(
    export_path: str,
    fmt: str,
    mapping_path: str | None,
    renewals_path: str | None,
    template: str | None,
    current: str | None,
    out: str,
    name: str | None,
    reps: int,
) -> None:
    """Calibrate a scenario from a work-order EXPORT, and report the fit."""
    from sim.calibrate.build import HEADER, CalibrationError
    from sim.calibrate.build import calibrate as run_calibration
    from sim.calibrate.fit import fit
    from sim.calibrate.layout import ExportError
    from sim.calibrate.read import read_export
    from sim.config.load import ScenarioError
    from sim.report.calibration import calibration_files
    from sim.store.files import atomic_write_bytes, atomic_write_text
    from sim.store.outdir import OutDirError, check_out_file

    out_path = Path(out)
    if out_path.suffix not in (".yaml", ".yml"):
        raise BadInput(f"--out {out}: a scenario file ends in .yaml")
    report_path = out_path.with_name(out_path.stem + "-fit.html")
    try:
        check_out_file(out_path, HEADER)
        check_out_file(report_path, "<!DOCTYPE html>")
    except OutDirError as exc:
        raise BadInput(str(exc)) from None
    tpl, _ = resolve_scenario(template)
    if current is not None and current not in tpl.schemes:
        raise BadInput(
            f"--current: {current!r} is not one of the template's schemes "
            f"({', '.join(tpl.schemes)})"
        )
    try:
        export = read_export(export_path, fmt, mapping_path, renewals_path)
        cal = run_calibration(export, tpl, current, name=name)
        note(
            f"read {len(export.visits):,} visits from {export_path}; inferred pace "
            f"{cal.inferred.mean_pace:.3f}; simulating {reps} replications"
        )
        result = fit(cal, export, reps)
    except (ExportError, ScenarioError, CalibrationError) as exc:
        msg = str(exc)
        if isinstance(exc, ScenarioError) and exc.source.startswith("<calibrated scenario"):
            if name is not None and (exc.field == "name" or exc.message.startswith("name:")):
                msg = f"--name: {exc.message.removeprefix('name:').strip()}"
            else:  # what the export gave, the model refuses
                msg = f"{export_path}: gives no valid scenario: {msg}"
        raise BadInput(msg) from None
    text, html = calibration_files(cal, result, export, out_path.name, report_path.name)
    try:
        atomic_write_text(out_path, text)
        atomic_write_bytes(report_path, html.encode("utf-8"))
    except OSError as exc:
        out_path.unlink(missing_ok=True)  # not one without the other
        raise BadInput(f"--out {out}: cannot be written ({exc.strerror or exc})") from None
    matches = sum(1 for k in result.kpis if k.verdict == "matches")
    measured = sum(1 for k in result.kpis if k.verdict != "not measured")
    click.echo(f"wrote {out_path} and {report_path}: {matches} of {measured} KPIs match")


@click.command(epilog=EPILOG_EXPORT)
@click.argument("results", metavar="RESULTS")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["workorders", "ocel"]),
    default="workorders",
    show_default=True,
    help="CSV tables or an OCEL 2.0 log.",
)
@click.option("--scheme", default=None, help="Whose visits [default: the baseline].")
@range_option(
    "--replication", low=0, default=0, help="Which replication (re-simulated from the run's seed)."
)
@click.option(
    "--out",
    default=None,
    metavar="PATH",
    help="[default: RESULTS/export/workorders.csv or workorders.ocel.json]",
)
def export(results: str, fmt: str, scheme: str | None, replication: int, out: str | None) -> None:
    """A run's simulated visits as a work-order export (to test calibration on)."""
    import json

    from sim.calibrate.export import ocel, workorders
    from sim.config.load import ScenarioError, scenario_from_dict
    from sim.model.replication import simulate_scheme, world_for
    from sim.store.files import atomic_write_text
    from sim.store.outdir import OutDirError, check_out_file
    from sim.store.results import ResultsError, check_manifest, read_json

    folder = Path(results)
    mpath = folder / "manifest.json"
    try:
        if not mpath.exists():
            raise ResultsError(f"{folder}: not a techsim results directory (no manifest.json)")
        man = check_manifest(read_json(mpath), mpath)
        sc = scenario_from_dict(man.get("scenario"), f"{mpath}: scenario")
    except (ResultsError, ScenarioError) as exc:
        raise BadInput(str(exc)) from None
    refuse_regions(sc, mpath, "techsim export")
    name = scheme or sc.baseline_scheme
    if name not in sc.schemes:
        raise BadInput(
            f"--scheme: {name!r} is not one of the run's schemes ({', '.join(sc.schemes)})"
        )
    seed = int(man.get("seed", sc.seed))
    ext = ".csv" if fmt == "workorders" else ".ocel.json"
    path = Path(out) if out else folder / "export" / f"workorders{ext}"
    ren_path = path.with_name(path.name.removesuffix(".csv") + "-renewals.csv")
    header = "work_order_id," if fmt == "workorders" else '{"objectTypes"'
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        check_out_file(path, header)
        if fmt == "workorders":
            check_out_file(ren_path, "account_id,")
    except (OutDirError, OSError) as exc:
        raise BadInput(str(exc)) from None
    world = world_for(sc, seed, replication)
    _f, run = simulate_scheme(sc, world, name)
    visits, renewals = workorders(sc, world, run)
    if fmt == "workorders":
        atomic_write_text(path, visits.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S"))
        atomic_write_text(ren_path, renewals.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S"))
        click.echo(
            f"wrote {path} ({len(visits):,} visits) and {ren_path} ({len(renewals):,} renewals)"
        )
    else:
        atomic_write_text(path, json.dumps(ocel(visits, renewals), separators=(",", ":")))
        click.echo(f"wrote {path} ({len(visits):,} work orders)")
