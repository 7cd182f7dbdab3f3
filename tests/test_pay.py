"""One pay formula: `PayFormula.pay` is linear, and every production path computes pay with it.

The production paths (the KPIs, the weekly pay statement, the best response, gaming) must
agree with `PayFormula.pay` to the last bit, since they call it; a last test checks that no
module outside `sim/pay/formula.py` reads a pay coefficient itself.
"""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import tiny_scenario
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.behaviour import gaming
from sim.behaviour.best_response import expectation, job_counts, theta_grid, utility
from sim.config.base import HOURS_PER_DAY
from sim.metrics.kpis import (
    TECH_COLUMNS,
    present_days,
    replication_kpis,
    tech_counts,
    visit_columns,
)
from sim.metrics.weekly import weekly_pay
from sim.model.replication import simulate_scheme
from sim.pay.formula import (
    FIXED_TERMS,
    PAY_TERMS,
    VARIABLE_TERMS,
    PayFormula,
    fixed_pay_per_day,
    fixed_pay_per_hour,
    formula_for,
    has_variable_pay,
    scaled,
)
from sim.pay.ledger import HOURS_PER_WEEK, VISIT_TERMS, counts_in, term_events
from sim.world.draws import build_world, n_weeks

FAST = settings(max_examples=200, deadline=None, database=None, derandomize=True)

coef = st.floats(-200.0, 200.0)
formulas = st.builds(PayFormula, **{t: coef for t in PAY_TERMS})
counts_st = st.fixed_dictionaries({t: st.floats(0.0, 1e4) for t in PAY_TERMS})
subsets = st.sets(st.sampled_from(PAY_TERMS))


def _close(x: float, y: float, scale: float) -> bool:
    """Equal up to rounding in sums whose terms add up to `scale` in absolute value."""
    return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9 * max(1.0, scale))


def _size(f: PayFormula, counts: dict[str, float]) -> float:
    return sum(abs(getattr(f, t) * counts[t]) for t in PAY_TERMS)


# ------------------------------------------------------------------ the function


@FAST
@given(formulas, formulas, st.floats(-10.0, 10.0), counts_st)
def test_pay_is_linear_in_the_coefficients(a, b, k, counts):
    both = PayFormula(**{t: getattr(a, t) + getattr(b, t) for t in PAY_TERMS})
    size = _size(a, counts) + _size(b, counts)
    assert _close(both.pay(counts), a.pay(counts) + b.pay(counts), size)
    times = PayFormula(**{t: k * getattr(a, t) for t in PAY_TERMS})
    assert _close(times.pay(counts), k * a.pay(counts), abs(k) * size)


@FAST
@given(formulas, counts_st, counts_st, st.floats(0.0, 10.0))
def test_pay_is_linear_in_the_counts(f, c1, c2, k):
    both = {t: c1[t] + c2[t] for t in PAY_TERMS}
    size = _size(f, c1) + _size(f, c2)
    assert _close(f.pay(both), f.pay(c1) + f.pay(c2), size)
    assert _close(f.pay({t: k * c1[t] for t in PAY_TERMS}), k * f.pay(c1), k * size)


@FAST
@given(formulas, st.lists(counts_st, min_size=1, max_size=5), subsets.filter(bool))
def test_arrays_are_paid_element_by_element_to_the_bit(f, statements, terms):
    arrays = {t: np.array([c[t] for c in statements]) for t in PAY_TERMS}
    one_by_one = [f.pay(c, terms) for c in statements]
    assert np.array_equal(f.pay(arrays, terms), np.array(one_by_one, dtype=float))
    comps = f.components(arrays, terms)
    assert list(comps) == [t for t in PAY_TERMS if t in terms]
    for k, c in enumerate(statements):
        assert {t: float(v[k]) for t, v in comps.items()} == f.components(c, terms)


@FAST
@given(formulas, counts_st, subsets)
def test_pay_is_its_components_added_in_term_order(f, counts, terms):
    total = 0.0
    for part in f.components(counts, terms).values():
        total = total + part
    assert f.pay(counts, terms) == total
    # a subset of terms pays what the formula with the other coefficients at zero pays
    only = PayFormula(**{t: getattr(f, t) if t in terms else 0.0 for t in PAY_TERMS})
    assert f.pay(counts, terms) == only.pay(counts)
    rest = [t for t in PAY_TERMS if t not in terms]
    assert _close(f.pay(counts, terms) + f.pay(counts, rest), f.pay(counts), _size(f, counts))


@FAST
@given(formulas, counts_st, st.floats(0.01, 10.0))
def test_scaling_multiplies_the_variable_pay_only(f, counts, k):
    g = scaled(f, k)
    if has_variable_pay(f):
        assert g.pay(counts, FIXED_TERMS) == f.pay(counts, FIXED_TERMS)
        variable = k * f.pay(counts, VARIABLE_TERMS)
        assert _close(g.pay(counts, VARIABLE_TERMS), variable, k * _size(f, counts))
    else:
        assert _close(g.pay(counts), k * f.pay(counts), k * _size(f, counts))


@FAST
@given(formulas, st.floats(1.0, 24.0))
def test_fixed_pay_per_day_and_per_hour(f, shift_hours):
    day = fixed_pay_per_day(f, shift_hours)
    assert day == f.pay({"days": 1.0, "hours": shift_hours}, FIXED_TERMS)
    assert _close(fixed_pay_per_hour(f, shift_hours) * shift_hours, day, abs(f.days) + abs(f.hours))


def test_the_variable_terms_are_the_visit_terms_and_retained_value():
    assert (*VISIT_TERMS, "retained_value") == VARIABLE_TERMS
    assert tuple(sorted(FIXED_TERMS + VARIABLE_TERMS, key=PAY_TERMS.index)) == PAY_TERMS


# ------------------------------------------------------------------ production paths


@pytest.fixture(scope="module")
def run():
    """One simulated replication of the tiny scenario under outcome-weighted pay (which
    has a day rate, clawbacks, a promoter bonus and a retained-value share)."""
    sc = tiny_scenario({"workforce": {"technicians": 5}})
    f, out = simulate_scheme(sc, build_world(sc, sc.seed, 0), "outcome_weighted")
    return sc, f, out


def test_the_kpis_pay_each_technician_the_formula_of_their_counts(run):
    sc, f, out = run
    kpis, techs = replication_kpis(sc, out, f)
    counts = tech_counts(sc, out)
    pay, comps = f.pay(counts), f.components(counts)
    assert kpis["total_pay"] == float(pay.sum())
    for i, row in enumerate(techs):
        assert list(row) == list(TECH_COLUMNS)
        # the technicians table's counts, paid by the formula, give its pay
        from_table = {t: row[t] for t in VARIABLE_TERMS}
        from_table |= {"days": float(counts["days"][i]), "hours": float(counts["hours"][i])}
        assert row["pay"] == f.pay(from_table) == float(pay[i])
        for t in PAY_TERMS:
            assert row[f"pay_{t}"] == float(comps[t][i])


def test_the_weekly_statements_add_up_to_the_pay_of_the_runs_counts(run):
    sc, f, out = run
    pay = weekly_pay(sc, out, f)
    weeks = n_weeks(sc)
    assert pay.shape == (sc.workforce.technicians, weeks)
    H = sc.horizon_days * HOURS_PER_DAY
    events = term_events(visit_columns(out), sc.callback_window_days * HOURS_PER_DAY)
    days = present_days(sc, out, 0.0, H)
    counts = {
        "days": days,
        "hours": days * sc.workforce.shift_hours,
        **counts_in(events, sc.workforce.technicians, 0.0, weeks * HOURS_PER_WEEK),
    }
    expected = f.pay(counts, FIXED_TERMS + VISIT_TERMS)
    assert np.allclose(pay.sum(axis=1), expected, rtol=1e-12, atol=1e-9)


def test_the_best_response_pays_the_formula_of_the_expected_counts():
    sc = tiny_scenario({"behaviour": {"effort_cost_per_hour": 0.0}})
    f = formula_for(sc, "hybrid")
    grid = theta_grid(sc)
    ex = expectation(sc, 0.7, grid)
    # with no effort cost and no intrinsic weight, utility is the pay rate
    rate = f.pay(ex.counts, VARIABLE_TERMS) / ex.hours + fixed_pay_per_hour(f, 8.0)
    assert np.array_equal(utility(sc, f, 0.7, 0.0, grid), rate)


def test_gaming_ranks_job_types_by_the_formula_of_their_counts():
    sc = tiny_scenario()
    f = formula_for(sc, "outcome_weighted")
    grid = theta_grid(sc)
    rates = gaming.pay_per_hour(sc, f, 0.7, grid)
    for j, job in enumerate(sc.jobs.types.values()):
        hours, counts = job_counts(sc, 0.7, job, grid)
        assert np.array_equal(rates[j], f.pay(counts, VISIT_TERMS) / hours)


# ------------------------------------------------------------------ one home

SIM = Path(__file__).resolve().parent.parent / "sim"


def _reads_a_coefficient(node: ast.AST) -> bool:
    """`formula.<term>`, `self.formula.<term>`, `f.<term>` or `getattr(formula, ...)`."""

    def is_formula(x: ast.AST) -> bool:
        name = x.id if isinstance(x, ast.Name) else x.attr if isinstance(x, ast.Attribute) else ""
        return name in ("formula", "f")

    if isinstance(node, ast.Attribute) and node.attr in PAY_TERMS:
        return is_formula(node.value)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return node.func.id == "getattr" and bool(node.args) and is_formula(node.args[0])
    return False


def test_no_module_but_the_formula_reads_a_pay_coefficient():
    home = SIM / "pay" / "formula.py"
    found = [
        f"{path.relative_to(SIM)}:{node.lineno}"
        for path in sorted(SIM.rglob("*.py"))
        if path != home
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if _reads_a_coefficient(node)
    ]
    assert found == []
