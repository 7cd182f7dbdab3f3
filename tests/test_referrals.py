"""Referrals from promoters (docs/model.md, "A steady book"): candidates drawn once per
replication, accepted by the scheme's promoters (thinning), counted in the KPIs.

Off (`customers.referrals_per_promoter_year: 0`, the default) nothing is drawn and results
are those of before: `tests/test_schema.py`'s golden summary guards that.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sim.metrics.kpis import replication_kpis, visit_columns
from sim.model.referrals import Promoters
from sim.model.replication import steady_rate, world_for
from sim.world.draws import build_world
from sim.world.records import DETRACTOR, PASSIVE, PROMOTER
from tests.conftest import runs_by_scheme, simulate_one, tiny_scenario

H = 24.0
ON = {"customers": {"referrals_per_promoter_year": 0.5}}


def test_off_draws_no_candidates():
    world = build_world(tiny_scenario(), 11, 0)
    assert world.referral_t == [] and world.referral_max == []
    assert world.initial_accounts == len(world.tier) == 1000


def test_candidates_come_at_the_highest_rate_with_their_own_failures():
    """lambda_max(t) = rho (N0 + K(t)) / year, a birth process: E[K(T)] = N0 (e^(rho T) - 1)."""
    sc = tiny_scenario(ON)
    rate = 0.5 / (365 * H)
    n = []
    for rep in range(3):
        world = build_world(sc, sc.seed, rep)
        k = len(world.referral_t)
        n.append(k)
        assert world.referral_max == pytest.approx([rate * (1000 + i) for i in range(k)])
        assert world.referral_t == sorted(world.referral_t)
    mean = 1000 * (math.exp(0.5 * sc.horizon_days / 365) - 1.0)
    assert abs(np.mean(n) - mean) < 4 * math.sqrt(mean / 3)
    world = build_world(sc, sc.seed, 0)
    first = world.initial_accounts  # no other new accounts: candidates come next
    assert len(world.tier) == first + n[0]
    cand = np.array(world.failure_customer[: world.tm_first])
    t = np.array(world.failure_t[: world.tm_first])
    mine = cand >= first
    assert mine.sum() > 0  # candidates fail, as any account does ...
    joins = np.array(world.referral_t)[cand[mine] - first]
    assert (t[mine] > joins).all()  # ... after they would join


def test_every_scheme_sees_the_same_candidates_and_only_accepts_some():
    sc = tiny_scenario(ON)
    world = world_for(sc, sc.seed, 0)
    got = {}
    for scheme in ("jobs_per_day", "outcome_weighted"):
        _w, _f, out = simulate_one(sc, scheme, world=world)
        got[scheme] = set(out.referred_t)
        assert got[scheme] <= set(world.referral_t)
        assert 0 < len(got[scheme]) < len(world.referral_t)
    assert got["jobs_per_day"] != got["outcome_weighted"]  # the scheme decides which join


def test_referred_accounts_are_customers_only_from_their_join_time():
    sc = tiny_scenario(ON)
    world = world_for(sc, sc.seed, 0)
    _w, f, out = simulate_one(sc, world=world)
    first = world.initial_accounts
    join = np.array(out.join_t)  # inf: a candidate that never joined
    assert len(join) == len(world.tier) - first
    v = visit_columns(out)
    referred = v["customer"] >= first
    assert referred.sum() > 0
    assert (v["t_ready"][referred] >= join[v["customer"][referred].astype(int) - first]).all()
    k, _techs = replication_kpis(sc, out, f)
    W, Hz = sc.warmup_days * H, sc.horizon_days * H
    assert k["referred_accounts"] == sum(1 for t in out.referred_t if W <= t < Hz)
    assert k["new_accounts"] == k["referred_accounts"]  # new accounts include the referred


def test_more_promoters_bring_more_referred_accounts():
    """The same candidates (the world does not depend on NPS) with more promoters at
    renewal: more join, under every scheme; and a scheme with a higher relational NPS gets
    more than the piece rate."""
    few = runs_by_scheme(tiny_scenario({**ON, "nps": {"relational_promoter": 0.2}}))
    many = runs_by_scheme(tiny_scenario({**ON, "nps": {"relational_promoter": 0.9}}))
    assert (many["referred_accounts"] > few["referred_accounts"] * 1.5).all()
    for rep in (0, 1):
        r = runs_by_scheme(tiny_scenario(ON), rep)
        assert r.loc["outcome_weighted", "relational_nps"] > r.loc["jobs_per_day", "relational_nps"]
        assert (
            r.loc["outcome_weighted", "referred_accounts"]
            > r.loc["jobs_per_day", "referred_accounts"]
        )


def test_a_higher_referral_rate_brings_more_and_none_when_off():
    counts = [
        runs_by_scheme(tiny_scenario({"customers": {"referrals_per_promoter_year": rho}}))[
            "referred_accounts"
        ]
        for rho in (0.0, 0.2, 1.0)
    ]
    assert (counts[0] == 0).all()
    assert (counts[1] > 0).all() and (counts[2] > 3 * counts[1]).all()


def test_referrals_follow_the_promoters_they_count():
    """Half the answers a promoter's, whatever happened, and no churn: E[P(t)] is half the
    book, so the referred accounts are about Poisson with mean rho / 2 x the book's
    account-years (from the weekly snapshots); the candidates are about twice as many."""
    sc = tiny_scenario(
        {
            "customers": {
                "referrals_per_promoter_year": 1.0,
                "churn_base": 0.0,
                "churn_per_problem": {
                    "late": 0.0,
                    "after_return": 0.0,
                    "callback": 0.0,
                    "unresolved": 0.0,
                },
            },
            "nps": {"relational_promoter": 0.5, "relational_bad_shift": 0.0},
        }
    )
    world = world_for(sc, sc.seed, 0)
    _w, _f, out = simulate_one(sc, world=world)
    weeks = np.array([w[2] for w in out.weeks], dtype=float)  # accounts at each Monday
    mid = (weeks[:-1] + weeks[1:]) / 2.0
    days = np.full(len(mid), 7.0)
    days[-1] = sc.horizon_days - 7.0 * (len(mid) - 1)
    mean = 0.5 * float((mid * days).sum()) / 365.0
    n = len(out.referred_t)
    assert abs(n - mean) < 4 * math.sqrt(mean), (n, mean)
    assert 1.5 * n < len(world.referral_t) < 2.5 * n


def test_promoters_count_last_answers_and_the_share_for_the_rest():
    rows: list = []
    p = Promoters(rows, prior=0.55)
    assert p.count(100) == pytest.approx(55.0)  # nobody has answered: the prior
    rows += [
        (1, 1.0, 1, 0, PROMOTER, 1.0),
        (2, 2.0, 1, 0, DETRACTOR, 1.0),
        (3, 3.0, 0, 2, PROMOTER, 1.0),  # a promoter who left
        (4, 4.0, 1, 0, PASSIVE, 1.0),
    ]
    # 99 customers: 1, 2 and 4 answered (one promoter), 96 at the share 2/4
    assert p.count(99) == pytest.approx(1 + 0.5 * 96)
    rows.append((1, 9.0, 1, 1, DETRACTOR, 1.0))  # account 1 answers again
    assert p.count(99) == pytest.approx(0 + (2 / 5) * 96)


def test_the_same_seed_gives_the_same_numbers():
    sc = tiny_scenario(ON)
    a, b = runs_by_scheme(sc), runs_by_scheme(sc)
    pd.testing.assert_frame_equal(a, b)


def test_a_steady_book_nets_out_the_referrals_of_the_pilot():
    base = {"customers": {"new_accounts_per_year": "steady"}}
    off = steady_rate(tiny_scenario(base).model_dump_json(), 11)
    on = steady_rate(
        tiny_scenario(
            {"customers": {"new_accounts_per_year": "steady", "referrals_per_promoter_year": 0.5}}
        ).model_dump_json(),
        11,
    )
    assert 0.0 <= on < off
