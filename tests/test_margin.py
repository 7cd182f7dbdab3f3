"""The margin decomposition: the parts add up to the margin difference, per replication and in
the means, on made-up runs (hypothesis) and on a real replication; the decomposition says
when they do not (an unlisted cost, a missing column)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from plot_report_data import tiny_dict

from sim.config.load import scenario_from_dict
from sim.experiment.tasks import run_replication
from sim.metrics.catalogue import KPIS, MARGIN, MARGIN_PARTS
from sim.metrics.stats import (
    ADDS_UP_RTOL,
    decompose,
    decomposition_gap,
    paired_differences,
    summarise,
    summarise_decomposition,
)

PARTS = [(k.name, sign) for k, sign in MARGIN_PARTS]
NAMES = [p for p, _ in PARTS]
FAST = settings(max_examples=80, deadline=None, database=None, derandomize=True)

money = st.floats(0.0, 5e7, allow_nan=False, allow_infinity=False)


@st.composite
def runs_frames(draw) -> pd.DataFrame:
    """Runs of 2-4 schemes x 2-6 replications, margin computed as kpis.py computes it."""
    n_s, n_r = draw(st.integers(2, 4)), draw(st.integers(2, 6))
    rows = []
    for s in range(n_s):
        for r in range(n_r):
            c, t, lab, v = (draw(money) for _ in range(4))
            revenue = c + t
            rows.append(
                {
                    "scenario": "made-up",
                    "scheme": f"s{s}",
                    "replication": r,
                    "contract_revenue": c,
                    "tm_revenue": t,
                    "labour_cost": lab,
                    "visit_costs": v,
                    "margin": revenue - lab - v,
                }
            )
    runs = pd.DataFrame(rows)
    # schemes in any order, rows shuffled: pairs are matched on the replication
    return runs.sample(frac=1.0, random_state=draw(st.integers(0, 1000)))


def test_the_parts_are_the_margin_definition():
    """margin = contract revenue + T&M revenue - labour cost - visit costs (sim.metrics.kpis)."""
    assert PARTS == [
        ("contract_revenue", 1),
        ("tm_revenue", 1),
        ("labour_cost", -1),
        ("visit_costs", -1),
    ]
    assert MARGIN is KPIS["margin"] and all(KPIS[k.name] is k for k, _ in MARGIN_PARTS)


@FAST
@given(runs_frames())
def test_parts_add_up_per_replication_and_in_the_means(runs):
    assert decomposition_gap(runs, "margin", PARTS) is None
    d = decompose(runs, "margin", PARTS, "s0")
    assert set(d["scheme"]) == set(runs["scheme"]) - {"s0"}
    scale = runs[[*NAMES, "margin"]].abs().to_numpy().max() + 1.0
    # per replication: sum of sign x (part - baseline part) is the margin difference
    np.testing.assert_allclose(d[NAMES].sum(axis=1), d["margin"], rtol=0, atol=1e-9 * scale)
    # ... and the margin difference is margin - the baseline's margin, replication by replication
    base = runs[runs["scheme"] == "s0"].set_index("replication")["margin"]
    for _, row in d.iterrows():
        mine = runs[(runs["scheme"] == row["scheme"]) & (runs["replication"] == row["replication"])]
        assert row["margin"] == pytest.approx(
            float(mine["margin"].iloc[0]) - base[row["replication"]], abs=1e-9 * scale
        )
    # in the means (the CIs do not add up, and are not asked to)
    table = summarise_decomposition(d, "margin", PARTS)
    for scheme, g in table.groupby("scheme"):
        g = g.set_index("kpi")
        assert list(g.index) == [*NAMES, "margin"]
        assert g.loc[NAMES, "diff_mean"].sum() == pytest.approx(
            g.loc["margin", "diff_mean"], abs=1e-9 * scale
        )
        # the total is the paired difference of summary.csv
        s = summarise(runs, ["margin"], "s0").set_index("scheme").loc[scheme]
        for c in ("diff_mean", "diff_ci_low", "diff_ci_high"):
            assert g.loc["margin", c] == pytest.approx(s[c], abs=1e-9 * scale, nan_ok=True)


@FAST
@given(runs_frames(), st.floats(1e-6, 1.0))
def test_a_cost_outside_the_parts_is_found(runs, share):
    """A margin with a cost the parts do not hold (here a share of the row's money, from a
    millionth up) is refused, not decomposed wrongly."""
    runs = runs.copy()
    size = float(runs[[*NAMES, "margin"]].iloc[0].abs().sum()) + 1.0
    runs.iloc[0, runs.columns.get_loc("margin")] -= share * size
    assert (
        decomposition_gap(runs, "margin", PARTS) == "margin is not the sum of its parts in 1 row(s)"
    )


def test_missing_columns_are_named():
    runs = pd.DataFrame({"scheme": ["a"], "replication": [0], "margin": [1.0]})
    assert decomposition_gap(runs, "margin", PARTS) == (
        "no column(s) contract_revenue, tm_revenue, labour_cost, visit_costs"
    )


def test_paired_differences_match_on_group_and_replication():
    runs = pd.DataFrame(
        {
            "point": [0, 0, 1, 1, 0, 0, 1, 1],
            "scheme": ["b", "b", "b", "b", "a", "a", "a", "a"],
            "replication": [0, 1, 0, 1, 1, 0, 1, 0],
            "x": [10.0, 20.0, 30.0, 40.0, 2.0, 1.0, 4.0, 3.0],
        }
    )
    d = paired_differences(runs, ["x"], "a", ["point"])
    assert list(d.columns) == ["point", "scheme", "replication", "x"]
    assert d["x"].tolist() == [9.0, 18.0, 27.0, 36.0]


def test_a_real_replication_adds_up():
    """The KPIs of a real replication (T&M, planned visits, new accounts, overtime on):
    the margin is the sum of its parts in memory, to float rounding."""
    sc = scenario_from_dict(tiny_dict())
    assert sc.time_and_materials.enabled and sc.maintenance.enabled
    runs = pd.DataFrame(run_replication(sc, sc.seed, 0).runs)
    assert (runs["tm_revenue"] > 0).all() and (runs["labour_cost"] > 0).all()
    assert decomposition_gap(runs, "margin", PARTS) is None
    d = decompose(runs, "margin", PARTS, sc.baseline_scheme)
    assert len(d) == len(sc.schemes) - 1
    scale = runs[NAMES].abs().to_numpy().max()
    assert np.abs(d[NAMES].sum(axis=1) - d["margin"]).max() <= ADDS_UP_RTOL * scale
