"""`techsim report`: the numbers in the report are the numbers in the result files.

The HTML is parsed back (tables by class, summary bullets) and every number compared with
summary.csv / technicians.csv to the precision it is printed with. User-supplied names with
markup in them come out as text, never as tags.
"""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from plot_report_data import EVIL, make_run, make_sweep, strip_fair_contest, tiny_dict
from scipy import stats

from sim.cli.main import main
from sim.metrics.catalogue import KPIS, REPORT_KPIS
from sim.report import build as report
from sim.report import pdf as report_pdf
from sim.report.build import write_report
from sim.report.text import MINUS, kpi_label, num

NUMBER = re.compile(r"[+\u2212-]?\$?\d[\d,]*(?:\.\d+)?")
KIND = {k.name: k.kind for k in REPORT_KPIS}


def parse_number(s: str) -> tuple[float, int]:
    """(value, decimals shown) of a printed number such as "−$1,234.50" or "+9.7"."""
    t = s.replace(MINUS, "-").replace("$", "").replace(",", "")
    dec = len(t.split(".")[1]) if "." in t else 0
    return float(t), dec


def numbers(s: str) -> list[tuple[float, int]]:
    return [parse_number(m) for m in NUMBER.findall(s.replace("\u2060", ""))]


def close(printed: tuple[float, int], true: float, scale: float = 1.0) -> bool:
    value, dec = printed
    return abs(value - true * scale) <= 0.5 * 10.0**-dec + 1e-9


class Page(HTMLParser):
    """Tables (by class) as rows of (text, sub-line) cells; list items; every tag seen."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[tuple[str, str]]]] = {}
        self.items: list[str] = []
        self.leads: list[tuple[str, list[str]]] = []
        self.tags: list[tuple[str, dict]] = []
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._sub = False
        self._li: list[str] | None = None
        self._p: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "table":
            self._table = a.get("class") or ""
            self.tables.setdefault(self._table, [])
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = ["", ""]
        elif tag == "span" and a.get("class") == "sub":
            self._sub = True
        elif tag == "li":
            self._li = []
        elif tag == "p":
            self._p = []

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag in ("td", "th") and self._cell is not None:
            self.tables[self._table][-1].append((self._cell[0].strip(), self._cell[1].strip()))
            self._cell = None
        elif tag == "span":
            self._sub = False
        elif tag == "li" and self._li is not None:
            text = "".join(self._li)
            self.items.append(text)
            if self.leads:
                self.leads[-1][1].append(text)
            self._li = None
        elif tag == "p" and self._p is not None:
            self.leads.append(("".join(self._p), []))
            self._p = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[1 if self._sub else 0] += data
        if self._li is not None:
            self._li.append(data)
        if self._p is not None:
            self._p.append(data)


def page(path: Path) -> Page:
    p = Page()
    p.feed(path.read_text(encoding="utf-8"))
    return p


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    d = make_run(tmp_path_factory.mktemp("report") / "run", reps=3)
    assert CliRunner().invoke(main, ["report", str(d)]).exit_code == 0
    return d


@pytest.fixture(scope="module")
def html(run_dir) -> Page:
    return page(run_dir / "report.html")


@pytest.fixture(scope="module")
def summary(run_dir) -> pd.DataFrame:
    return pd.read_csv(run_dir / "summary.csv").set_index(["scheme", "kpi"])


def _label_to_kpi(diff: bool = False) -> dict[str, tuple[str, str]]:
    return {kpi_label(k, diff): (k.name, k.kind) for k in REPORT_KPIS}


def test_kpi_table_is_summary_csv(html, summary):
    rows = html.tables["kpis"]
    schemes = [c[0].replace(" (baseline)", "") for c in rows[0][1:]]
    assert schemes == list(tiny_dict()["schemes"])
    labels = _label_to_kpi()
    checked = 0
    for row in rows[1:]:
        kpi, kind = labels[row[0][0]]
        scale = 100.0 if kind == "pct" else 1.0
        for scheme, (text, sub) in zip(schemes, row[1:]):
            ref = summary.loc[(scheme, kpi)]
            (mean,), (lo, hi) = numbers(text), numbers(sub)
            assert close(mean, ref["mean"], scale), (kpi, scheme, text, ref["mean"])
            assert close(lo, ref["ci_low"], scale), (kpi, scheme, sub)
            assert close(hi, ref["ci_high"], scale), (kpi, scheme, sub)
            checked += 1
    assert checked >= 14 * 4


def test_difference_table_is_summary_csv(html, summary):
    rows = html.tables["diffs"]
    schemes = [c[0] for c in rows[0][1:]]
    assert schemes == list(tiny_dict()["schemes"])[1:]
    labels = _label_to_kpi(diff=True)
    for row in rows[1:]:
        kpi, kind = labels[row[0][0]]
        scale = 100.0 if kind == "pct" else 1.0
        for scheme, (text, sub) in zip(schemes, row[1:]):
            ref = summary.loc[(scheme, kpi)]
            (d,), (lo, hi) = numbers(text), numbers(sub)
            assert close(d, ref["diff_mean"], scale)
            assert close(lo, ref["diff_ci_low"], scale)
            assert close(hi, ref["diff_ci_high"], scale)
            includes_zero = ref["diff_ci_low"] <= 0 <= ref["diff_ci_high"]
            assert text.endswith("n.s.") == includes_zero, (kpi, scheme, text)


def test_executive_summary_is_written_from_the_numbers(html, summary):
    """Every "raises/lowers/does not change X from a to b (d, 95% CI l to h)" is summary.csv."""
    base = tiny_dict()["baseline"]
    labels = {k.label: name for name, k in KPIS.items()}
    seen = 0
    for lead, items in html.leads:
        m = re.fullmatch(r"Moving from (\S+) to (\S+):", lead)
        if not m:
            continue
        assert m.group(1) == base
        scheme = m.group(2)
        for item in items:
            c = re.match(r"(Raises|Lowers|Does not change) (.+?)(?: from| significantly:) ", item)
            if not c:
                assert item.startswith(("For the technicians", "Where the margin difference"))
                continue
            kpi = labels[c.group(2)]
            kind = KIND[kpi]
            scale = 100.0 if kind == "pct" else 1.0
            b, a, d, lo, hi = numbers(item[c.end(2) :].replace("95% CI", "CI"))[:5]
            ref, ref_b = summary.loc[(scheme, kpi)], summary.loc[(base, kpi)]
            assert close(b, ref_b["mean"], scale) and close(a, ref["mean"], scale), item
            assert close(d, ref["diff_mean"], scale), item
            assert close(lo, ref["diff_ci_low"], scale), item
            assert close(hi, ref["diff_ci_high"], scale), item
            significant = ref["diff_ci_low"] > 0 or ref["diff_ci_high"] < 0
            assert (c.group(1) != "Does not change") == significant, item
            if significant:
                assert (c.group(1) == "Raises") == (ref["diff_mean"] > 0), item
            else:
                assert "the CI includes 0" in item
            seen += 1
    assert seen >= 3 * 8


def _decomposition(run_dir: Path) -> pd.DataFrame:
    """Per (scheme, replication): each part's paired difference, signed, and the margin's;
    computed here from runs.csv, independently of sim.metrics.stats."""
    runs = pd.read_csv(run_dir / "runs.csv")
    base = runs[runs.scheme == tiny_dict()["baseline"]].set_index("replication")
    out = []
    for scheme, g in runs[runs.scheme != tiny_dict()["baseline"]].groupby("scheme", sort=False):
        g = g.set_index("replication")
        d = g[[*PARTS, "margin"]] - base[[*PARTS, "margin"]].reindex(g.index)
        d[["labour_cost", "visit_costs"]] *= -1
        out.append(d.assign(scheme=scheme).reset_index())
    return pd.concat(out, ignore_index=True)


PARTS = ["contract_revenue", "tm_revenue", "labour_cost", "visit_costs"]
PART_ROWS = {
    "+ contract revenue, $": "contract_revenue",
    "+ T&M revenue, $": "tm_revenue",
    "\u2212 labour cost, $": "labour_cost",
    "\u2212 visit costs, $": "visit_costs",
    "= margin, $": "margin",
}


def test_margin_decomposition_adds_up_in_the_runs(run_dir):
    """The parts add up to the margin difference in every replication (to the precision of
    runs.csv, 10 significant digits), and so in the means."""
    d = _decomposition(run_dir)
    assert len(d) == 3 * (len(tiny_dict()["schemes"]) - 1)
    scale = d[PARTS].abs().sum(axis=1)
    assert ((d[PARTS].sum(axis=1) - d["margin"]).abs() <= 1e-8 * scale).all()
    m = d.groupby("scheme")[[*PARTS, "margin"]].mean()
    assert ((m[PARTS].sum(axis=1) - m["margin"]).abs() <= 1e-8 * m[PARTS].abs().sum(axis=1)).all()


def test_margin_table_is_the_decomposition_of_the_runs(html, run_dir, summary):
    rows = html.tables["margin"]
    schemes = [c[0] for c in rows[0][1:]]
    assert schemes == list(tiny_dict()["schemes"])[1:]
    assert [r[0][0] for r in rows[1:]] == list(PART_ROWS)
    d = _decomposition(run_dir)
    for row in rows[1:]:
        part = PART_ROWS[row[0][0]]
        for scheme, (text, sub) in zip(schemes, row[1:]):
            x = d.loc[d.scheme == scheme, part].to_numpy()
            n = len(x)
            h = stats.t.ppf(0.975, n - 1) * x.std(ddof=1) / np.sqrt(n)
            (mean,), (lo, hi) = numbers(text), numbers(sub)
            assert close(mean, x.mean()) and close(lo, x.mean() - h) and close(hi, x.mean() + h)
            assert text.endswith("n.s.") == (x.mean() - h <= 0 <= x.mean() + h)
            if part == "margin":  # the margin row is the difference table's margin row
                assert close(mean, summary.loc[(scheme, "margin"), "diff_mean"])
    # and the summary says it in words, with the same numbers
    items = [i for i in html.items if i.startswith("Where the margin difference comes from")]
    assert len(items) == len(schemes)
    for scheme, item in zip(schemes, items):
        m = d[d.scheme == scheme][[*PARTS, "margin"]].mean()
        got = numbers(item.replace("95% CI", "CI"))
        assert close(got[0], m["margin"])
        for part in PARTS:
            found = re.search(rf"{re.escape(KPIS[part].label)} ([+\u2212]\$[\d,]+)", item)
            assert found and close(parse_number(found.group(1)), m[part]), (part, item)
        largest = max(PARTS, key=lambda p: abs(m[p]))
        assert item.endswith(f"the largest part is {KPIS[largest].label}.")


def test_report_of_results_made_before_the_margin_parts(run_dir, tmp_path, monkeypatch):
    """No contract revenue, T&M revenue or labour cost in runs.csv: the report still builds,
    says why there is no decomposition, and leaves the new outcomes out of the summary."""
    d = tmp_path / "old"
    shutil.copytree(run_dir, d)
    strip_fair_contest(d)
    monkeypatch.setattr(report, "figures", lambda res: iter(()))
    p = page(write_report(d).path)
    assert "margin" not in p.tables and "kpis" in p.tables and "diffs" in p.tables
    note = next(lead for lead, _ in p.leads if lead.startswith("No margin decomposition"))
    assert "no column(s) contract_revenue, tm_revenue, labour_cost" in note
    assert not [i for i in p.items if i.startswith("Where the margin")]
    assert not [i for i in p.items if "T&M" in i or "availability" in i]


def test_winners_and_losers_are_the_technicians_table(html, run_dir):
    t = pd.read_csv(run_dir / "technicians.csv")
    base = t[t.scheme == "jobs_per_day"].set_index(["replication", "tech"])["pay_per_day"]
    rows = {r[0][0]: r for r in html.tables["techs"][1:]}
    assert set(rows) == set(list(tiny_dict()["schemes"])[1:])
    for scheme, row in rows.items():
        cur = t[t.scheme == scheme].set_index(["replication", "tech"])["pay_per_day"]
        change = cur - base.reindex(cur.index)
        tol = 0.01 * base.reindex(cur.index).abs()
        up, down = change > tol, change < -tol
        assert int(row[1][0]) == len(change)
        assert numbers(row[2][0])[0][0] == round(100 * up.mean())
        assert numbers(row[3][0])[0][0] == round(100 * down.mean())
        assert numbers(row[4][0])[0][0] == round(100 * (~up & ~down).mean())
        if up.any():
            assert close(numbers(row[2][1])[0], change[up].median())
        if down.any():
            assert close(numbers(row[3][1])[0], change[down].median())
        assert close(numbers(row[5][0])[0], change.mean())


def test_assumptions_and_provenance_come_from_the_manifest(html, run_dir):
    man = json.loads((run_dir / "manifest.json").read_text())
    prov = {r[0][0]: r[1][0] for r in html.tables["provenance"][1:]}
    assert prov["Root seed"] == str(man["seed"])
    assert prov["Replications"] == "3"
    assert prov["techsim version"] == man["techsim_version"]
    assert prov["Started"] == man["started"]
    settings = {
        r[0][0]: r[1][0] for t in ("assumptions",) for r in html.tables[t][1:] if len(r) == 2
    }
    assert settings["customers.count"] == f"{man['scenario']['customers']['count']}"
    assert settings["workforce.technicians"] == "5"
    assert settings["behaviour.effort_cost_per_hour"] == "35"


def test_self_contained(run_dir, html):
    raw = (run_dir / "report.html").read_text()
    assert "http://" not in raw and "https://" not in raw
    imgs = [a for t, a in html.tags if t == "img"]
    assert len(imgs) >= 5
    assert all(a["src"].startswith("data:image/png;base64,") for a in imgs)
    assert not [t for t, _ in html.tags if t in ("link", "script", "iframe", "object")]


@pytest.fixture(scope="module")
def evil_dir(tmp_path_factory) -> Path:
    def mutate(d):
        d["description"] = "<b>x</b> <img src=x onerror=alert(1)>"
        d["source"] = "</style><script>alert('source')</script>"
        d["customers"]["tiers"] = {
            "<script>tier</script>": d["customers"]["tiers"]["gold"] | {"share": 1.0}
        }
        sch = d["schemes"]
        sch['"><svg onload=alert(1)>'] = sch.pop("hourly")
        sch["outcome_weighted"]["label"] = "<b>bold label</b>"

    return make_run(tmp_path_factory.mktemp("report") / "evil", name=EVIL, reps=2, mutate=mutate)


def test_markup_in_names_cannot_inject(evil_dir):
    res = CliRunner().invoke(main, ["report", str(evil_dir)])
    assert res.exit_code == 0, res.output
    raw = (evil_dir / "report.html").read_text()
    low = raw.lower()
    assert "<script" not in low and "<svg" not in low and "<img src=x" not in low
    assert "<b>x</b>" not in low and "<b>bold label" not in low
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in raw  # the scenario name
    assert "&lt;b&gt;bold label&lt;/b&gt;" in raw  # a scheme label
    assert "&lt;script&gt;tier&lt;/script&gt;" in raw  # a tier name
    p = Page()
    p.feed(raw)
    allowed = {
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "main",
        "header",
        "h1",
        "h2",
        "h3",
        "p",
        "nav",
        "a",
        "section",
        "table",
        "caption",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "span",
        "ul",
        "li",
        "figure",
        "img",
        "figcaption",
        "b",
        "footer",
    }
    assert {t for t, _ in p.tags} <= allowed
    assert not [a for _, attrs in p.tags for a in attrs if a.startswith("on")]
    # the name is shown as text, exactly
    title = raw.split("<title>")[1].split("</title>")[0]
    assert EVIL in __import__("html").unescape(title)
    # and the bold tag only ever appears as our own figure-caption <b>
    assert {a.get("class") for t, a in p.tags if t == "b"} == {None}


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory) -> Path:
    return make_sweep(
        tmp_path_factory.mktemp("report") / "sweep",
        {"schemes.hybrid.weight": [0.0, 1.0]},
        reps=2,
        sensitivity="sobol",
    )


def test_sweep_report(sweep_dir):
    res = CliRunner().invoke(main, ["report", str(sweep_dir)])
    assert res.exit_code == 0, res.output
    p = page(sweep_dir / "report.html")
    s = pd.read_csv(sweep_dir / "summary.csv")
    rows = p.tables["kpis"]
    schemes = [c[0].replace(" (baseline)", "") for c in rows[0][1:]]
    labels = _label_to_kpi()
    for row in rows[1:]:
        kpi, kind = labels[row[0][0]]
        scale = 100.0 if kind == "pct" else 1.0
        for scheme, (text, _sub) in zip(schemes, row[1:]):
            means = s[(s.scheme == scheme) & (s.kpi == kpi)]["mean"]
            lo, hi = numbers(text)
            assert close(lo, means.min(), scale) and close(hi, means.max(), scale)
    params = [r[0][0] for r in p.tables["params"][1:]]
    assert params == ["schemes.hybrid.weight"]
    # the significance counts of the summary
    g = s[(s.scheme == "outcome_weighted") & (s.kpi == "first_time_fix_rate")]
    item = next(i for i in p.items if i.startswith("First-time fix: significantly higher"))
    up, n, down, _rest = [int(v) for v, _ in numbers(item)[:4]]
    assert (up, n, down) == (
        int((g.diff_ci_low > 0).sum()),
        len(g),
        int((g.diff_ci_high < 0).sum()),
    )
    assert any("depends most on schemes.hybrid.weight" in i for i in p.items)
    assert len([t for t, _ in p.tags if t == "img"]) >= 3


def test_pdf_engine_choice(run_dir, tmp_path, monkeypatch):
    """Chromium when on PATH, else (or when it fails) matplotlib, and the CLI says which.
    (The renderers themselves are exercised in test_report_render.py.)"""
    d = tmp_path / "r"
    shutil.copytree(run_dir, d)
    calls = []

    def chromium(html, out, browser):
        calls.append("chromium")
        if "broken" in browser:
            raise RuntimeError("crashed")
        out.write_bytes(b"%PDF chromium")

    def matplotlib(doc, out):
        calls.append("matplotlib")
        out.write_bytes(b"%PDF matplotlib")

    monkeypatch.setattr(report, "figures", lambda res: iter(()))  # not what is tested here
    monkeypatch.setattr(report_pdf, "pdf_with_chromium", chromium)
    monkeypatch.setattr(report_pdf, "pdf_with_matplotlib", matplotlib)
    monkeypatch.setattr(report_pdf, "find_chromium", lambda: "/usr/bin/chromium")
    res = CliRunner().invoke(main, ["report", str(d), "--format", "pdf"])
    assert res.exit_code == 0, res.output
    assert calls == ["chromium"] and "headless Chromium" in res.output
    assert (d / "report.pdf").read_bytes() == b"%PDF chromium"
    monkeypatch.setattr(report_pdf, "find_chromium", lambda: None)
    out = write_report(d, "pdf")
    assert out.engine == "matplotlib" and "No Chromium on PATH" in out.note
    assert (d / "report.pdf").read_bytes() == b"%PDF matplotlib"
    monkeypatch.setattr(report_pdf, "find_chromium", lambda: "/opt/broken/chromium")
    out = write_report(d, "pdf")
    assert out.engine == "matplotlib" and "Chromium failed (crashed)" in out.note
    assert calls == ["chromium", "matplotlib", "chromium", "matplotlib"]
    monkeypatch.setattr(report_pdf, "find_chromium", lambda: None)
    res = CliRunner().invoke(
        main, ["report", str(d), "--format", "pdf", "--pdf-engine", "chromium"]
    )
    assert res.exit_code == 1 and "no Chromium on PATH" in res.output


def test_run_report_in_one_step(tmp_path):
    scen = tmp_path / "tiny.yaml"
    scen.write_text(yaml.safe_dump(tiny_dict("one-step")))
    out = tmp_path / "out"
    res = CliRunner().invoke(
        main, ["run", str(scen), "--reps", "2", "--workers", "1", "--out", str(out), "--report"]
    )
    assert res.exit_code == 0, res.output
    assert (out / "report.html").exists()
    assert f"Report: {out / 'report.html'}" in res.output
    assert "Compensation proposal: one-step" in (out / "report.html").read_text()


def test_number_format():
    assert num(0.7123, "pct") == "71.2" and num(0.7123, "pct", unit=True) == "71.2%"
    assert num(0.097, "pct", True, True) == "+9.7 pts"
    assert num(-0.0004, "pct", True, True) == "0.0 pts"  # no "-0.0"
    assert num(-1234.5, "money", True, True) == f"{MINUS}$1,234.50"
    assert num(float("nan"), "num2") == "n/a"
    assert numbers(f"+9.7 pts, 95% CI {MINUS}0.14 to +10.2") == [
        (9.7, 1),
        (95, 0),
        (-0.14, 2),
        (10.2, 1),
    ]
    assert np.isclose(parse_number("$1,660,405")[0], 1660405)


def test_budget_neutral_factors_are_reported(run_dir, tmp_path, monkeypatch):
    d = tmp_path / "bn"
    shutil.copytree(run_dir, d)
    man = json.loads((d / "manifest.json").read_text())
    man["budget_neutral"] = {
        "factors": {"outcome_weighted": 0.8123, "hourly": 1.0456},
        "baseline_pay_per_tech_day": 151.97,
    }
    (d / "manifest.json").write_text(json.dumps(man))
    monkeypatch.setattr(report, "figures", lambda res: iter(()))
    p = page(write_report(d).path)
    text = next(lead for lead, _ in p.leads if lead.startswith("Budget-neutral"))
    assert "outcome_weighted x0.812" in text and "hourly x1.046" in text
    assert "$151.97 per technician-day" in text
