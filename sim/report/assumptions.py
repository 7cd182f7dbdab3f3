"""The report's assumptions (the resolved scenario as tables) and provenance."""

from __future__ import annotations

from typing import Any

from sim import __version__
from sim.report.document import Block, Cell, Paragraph, Table, cells
from sim.report.text import design_method
from sim.store.results import Results


def _fmt_value(v: object) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:,.6g}"
    if isinstance(v, (list, tuple)):
        return ", ".join(_fmt_value(x) for x in v)
    if isinstance(v, dict):
        return "; ".join(f"{k} = {_fmt_value(x)}" for k, x in v.items())
    return str(v)


SECTION_TITLES = {
    "customers": "Customers (demand, contracts, churn)",
    "jobs": "Jobs",
    "workforce": "Workforce",
    "quality": "Quality of work",
    "nps": "Customer surveys (NPS)",
    "behaviour": "Technician behaviour",
}


def assumption_tables(sc: dict[str, Any]) -> list[Block]:
    """The resolved scenario: scalars as (path, value) rows, named groups as tables."""
    if not sc:
        return [Paragraph("The manifest does not hold the resolved scenario.")]
    out: list[Block] = []
    top = [(k, v) for k, v in sc.items() if not isinstance(v, dict)]
    out.append(
        Table(
            cells("Setting", "Value"),
            [[Cell(k, "key"), Cell(_fmt_value(v), "long")] for k, v in top],
            "Scenario",
            "",
            "assumptions",
        )
    )
    for sec, body in sc.items():
        if not isinstance(body, dict):
            continue
        if sec == "schemes":
            rows = []
            for name, spec in body.items():
                spec = spec if isinstance(spec, dict) else {"value": spec}
                params = {k: v for k, v in spec.items() if k not in ("type", "label")}
                rows.append(
                    [
                        Cell(str(name), "key"),
                        Cell(str(spec.get("type", ""))),
                        Cell(_fmt_value(spec.get("label"))),
                        Cell(_fmt_value(params), "long"),
                    ]
                )
            out.append(
                Table(
                    cells("Scheme", "Type", "Label", "Pay formula parameters"),
                    rows,
                    "Pay schemes (the levers)",
                    "",
                    "assumptions",
                )
            )
            continue
        scalars = [(k, v) for k, v in body.items() if not isinstance(v, dict)]
        if scalars:
            out.append(
                Table(
                    cells("Setting", "Value"),
                    [[Cell(f"{sec}.{k}", "key"), Cell(_fmt_value(v), "long")] for k, v in scalars],
                    SECTION_TITLES.get(sec, sec),
                    "",
                    "assumptions",
                )
            )
        for sub, group in body.items():
            if not isinstance(group, dict):
                continue
            if all(isinstance(g, dict) for g in group.values()) and group:
                cols = list(dict.fromkeys(k for g in group.values() for k in g))
                rows = [
                    [Cell(str(n), "key")] + [Cell(_fmt_value(g.get(c)), "num") for c in cols]
                    for n, g in group.items()
                ]
                out.append(
                    Table(
                        [Cell("Name")] + [Cell(c, "num") for c in cols],
                        rows,
                        f"{sec}.{sub}",
                        "",
                        "assumptions",
                    )
                )
            else:
                out.append(
                    Table(
                        cells("Setting", "Value"),
                        [
                            [Cell(f"{sec}.{sub}.{k}", "key"), Cell(_fmt_value(v), "long")]
                            for k, v in group.items()
                        ],
                        f"{sec}.{sub}",
                        "",
                        "assumptions",
                    )
                )
    return out


def provenance_table(res: Results, generated: str) -> Table:
    m = res.manifest
    executor = m.get("executor")
    ex: dict[str, Any] = executor if isinstance(executor, dict) else {}
    rows = [
        ("Scenario", res.name),
        ("Kind of results", res.kind),
        ("Results directory", str(res.path)),
        ("Root seed", m.get("seed")),
        ("Replications", m.get("replications")),
        ("Schemes", ", ".join(res.schemes) + f" (baseline {res.baseline})"),
        ("techsim version", m.get("techsim_version")),
        ("Git commit", m.get("git_commit") or "(not a git checkout)"),
        ("Library versions", m.get("versions")),
        ("Started", m.get("started")),
        ("Finished", m.get("finished")),
        ("Wall time (s)", m.get("wall_time_s")),
        ("Workers", m.get("workers", ex.get("workers"))),
        ("Experiment hash", m.get("experiment_hash") or m.get("scenario_hash")),
        ("Budget neutral", m.get("budget_neutral")),
        ("Report generated", f"{generated} by techsim {__version__}"),
    ]
    if res.kind == "sweep":
        rows.insert(5, ("Design", design_method(res)))
    return Table(
        cells("Item", "Value"),
        [[Cell(k), Cell(_fmt_value(v), "long")] for k, v in rows if v is not None],
        "",
        "",
        "provenance",
    )
