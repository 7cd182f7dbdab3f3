"""The parameters an export shows, each with its 95% confidence interval.

`estimate(export, template)` returns `Estimate`s, one per scenario field it can read off
the data (docs/calibration.md, "What is estimated", gives each estimator):

- the book and its tiers (from the renewals, or the mapping's `accounts`), failures per
  account-year, planned visits per account-year per tier, billable calls per day;
- the job-type mix and, per type, the part on the van (1 - the share of first visits that
  needed a part) and the observed on-site time (mean and CV; `sim.calibrate.infer` turns it
  into the model's normal time once the pace is known);
- travel (mean, CV), the shift (start, length, days per week), the technicians working a
  week and the spread of their first-time fix (the skill proxy);
- the delays: part lead time, revisit after a failed fix, callback (mean, exponential);
- the survey: response rate, promoters and detractors after a clean visit;
- churn at renewal after a term without problems and per problem by how it ended
  (`sim.calibrate.churn`).

A field the export cannot show keeps the template's value, and the estimate says so.
Intervals: Wilson for a share, t for a mean, delta method for a CV, Poisson for a rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.calibrate.chains import chains, first_visits, hours, true_fix
from sim.calibrate.intervals import (
    Z,
    cv_ci,
    mean_ci,
    rate_ci,
    spread_ci,
    truncated_exp_mean,
    wilson,
)
from sim.calibrate.read import Export
from sim.config.assumptions import value_at
from sim.config.scenario import Scenario


@dataclass
class Estimate:
    """One estimated scenario field (or, with `path` "", a fact of the data the scenario
    does not hold): value, 95% CI where it is a statistic, sample size and method."""

    path: str
    label: str
    value: float
    low: float = math.nan
    high: float = math.nan
    n: int = 0
    method: str = ""
    kept: bool = False  # the template's value kept: the export cannot show it
    note: str = ""


class Estimator:
    """The estimates of one export against a template scenario (what the export lacks)."""

    def __init__(self, export: Export, template: Scenario) -> None:
        self.ex, self.tpl = export, template
        self.v = export.visits
        self.c = chains(self.v, template.callback_window_days)
        self.t0 = self.v["created"].min()
        self.t1 = self.v["completion"].max()
        self.days = max(hours(pd.Series([self.t1 - self.t0]))[0] / 24.0, 1.0)
        self.years = self.days / 365.0
        self.out: list[Estimate] = []

    def add(
        self,
        path: str,
        label: str,
        ci: tuple[float, float, float],
        n: int,
        method: str,
        note: str = "",
    ) -> None:
        self.out.append(Estimate(path, label, ci[0], ci[1], ci[2], n, method, note=note))

    def keep(self, path: str, label: str, value: float, why: str) -> None:
        self.out.append(Estimate(path, label, value, kept=True, method="template", note=why))

    def run(self) -> list[Estimate]:
        self.book()
        self.jobs()
        self.workforce()
        self.delays()
        self.survey()
        return self.out

    # ----------------------------------------------------------------- the book
    def accounts(self) -> dict[str, float]:
        """Accounts per tier: the mapping's, else renewals in the period scaled to a term."""
        m = self.ex.mapping.accounts
        if m:
            return {k: float(v) for k, v in m.items()}
        ren = self.ex.renewals
        if ren is None or ren.empty:
            return {}
        tiers = ren.get("contract_type")
        if tiers is None or (tiers == "").all():
            tier_of = self.v.drop_duplicates("account_id").set_index("account_id")["contract_type"]
            tiers = ren["account_id"].map(tier_of).fillna("")
        scale = self.tpl.customers.term_days / self.days
        return {str(t): float(n) * scale for t, n in tiers.value_counts().items() if t != ""}

    def book(self) -> None:
        acc = self.accounts()
        tpl = self.tpl.customers
        if not acc:
            self.keep(
                "customers.count",
                "contract accounts",
                tpl.count,
                "no renewals and no accounts in the mapping",
            )
            acc = {k: tpl.count * t.share for k, t in tpl.tiers.items()}
        else:
            total = sum(acc.values())
            how = "mapping" if self.ex.mapping.accounts else "renewals x term / period"
            self.add(
                "customers.count",
                "contract accounts",
                (round(total), math.nan, math.nan),
                int(total),
                how,
            )
            for t, n in acc.items():
                k = n if self.ex.mapping.accounts else n * self.days / tpl.term_days
                scale = 1.0 if self.ex.mapping.accounts else tpl.term_days / self.days
                p, lo, hi = wilson(k, total / scale)
                self.add(
                    f"customers.tiers.{t}.share",
                    f"share of tier {t}",
                    (p, lo, hi),
                    int(k),
                    "Wilson",
                )
        self.acc = acc
        c = self.c
        firsts = c[(c["visit_no"] == 1) & ~c["planned"] & c["contract"]]
        total = sum(acc.values())
        self.add(
            "customers.failures_per_year",
            "failures per account-year (observed)",
            rate_ci(len(firsts), total * self.years),
            len(firsts),
            "Poisson (exact); corrected by simulation for maintenance and the book",
        )
        for t, n in acc.items():
            k = int((firsts["contract_type"] == t).sum())
            self.add(
                "",
                f"failures per account-year, tier {t}",
                rate_ci(k, n * self.years),
                k,
                "Poisson (exact)",
            )
        planned = c[c["planned"]]
        for t, n in acc.items():
            k = int((planned["contract_type"] == t).sum())
            self.add(
                f"customers.tiers.{t}.planned_visits_per_year",
                f"planned visits, tier {t}",
                rate_ci(k, n * self.years),
                k,
                "Poisson (exact)",
            )
        tm = c[(c["visit_no"] == 1) & ~c["planned"] & ~c["contract"]]
        self.add(
            "time_and_materials.jobs_per_day",
            "billable calls per day (served)",
            rate_ci(len(tm), self.days),
            len(tm),
            "Poisson (exact); corrected by simulation for calls lost",
        )

    # ----------------------------------------------------------------- jobs
    def jobs(self) -> None:
        first = first_visits(self.c)
        n = len(first)
        for jt, k in first["job_type"].astype(str).value_counts().sort_index().items():
            self.add(
                f"jobs.types.{jt}.share", f"share of {jt} jobs", wilson(k, n), int(k), "Wilson"
            )
        for jt, grp in _by_type(first) if self.ex.linked else []:
            part = grp["status"] == "part_needed"
            p, lo, hi = wilson(float((~part).sum()), len(grp))
            self.add(
                f"jobs.types.{jt}.part_on_van",
                f"part on the van, {jt}",
                (p, lo, hi),
                len(grp),
                "Wilson on first visits",
            )
            worked = grp[~part]
            fix = true_fix(worked)
            self.add(
                "",
                f"first visits fixed with the part there, {jt}",
                wilson(float(fix.sum()), len(worked)),
                len(worked),
                "Wilson",
            )
        worked = self.c[(self.c["visit_no"] == 1) & (self.c["status"] != "part_needed")]
        for jt, grp in _by_type(worked):
            d = hours(grp["completion"] - grp["arrival"])
            key = "maintenance" if grp["planned"].all() else f"jobs.types.{jt}"
            self.add(
                "" if key != "maintenance" else "maintenance.onsite_hours_mean",
                f"on-site hours (observed), {jt}",
                mean_ci(d),
                len(d),
                "t",
            )
            self.add(
                f"{key}.onsite_hours_cv", f"on-site CV, {jt}", cv_ci(d), len(d), "delta method"
            )

    # ----------------------------------------------------------------- workforce
    def workforce(self) -> None:
        v = self.v
        if v["dispatched"].notna().any():
            tr = hours(v["arrival"] - v["dispatched"])
            tr = tr[np.isfinite(tr)]
            self.add("workforce.travel_hours_mean", "travel hours", mean_ci(tr), tr.size, "t")
            self.add("workforce.travel_hours_cv", "travel CV", cv_ci(tr), tr.size, "delta method")
        else:
            self.keep(
                "workforce.travel_hours_mean",
                "travel hours",
                self.tpl.workforce.travel_hours_mean,
                "no dispatched (travel start) column",
            )
        start = v["dispatched"].fillna(v["arrival"])
        day = start.dt.floor("D")
        per_day = pd.DataFrame(
            {"tech": v["technician_id"], "day": day, "s": start, "e": v["completion"]}
        ).groupby(["tech", "day"])
        first = per_day["s"].min()
        last = per_day["e"].max()
        t_start = hours(first - first.index.get_level_values("day").to_series(index=first.index))
        t_end = hours(last - last.index.get_level_values("day").to_series(index=last.index))
        s0 = float(np.round(np.median(t_start) * 2) / 2)
        s1 = float(np.round(np.percentile(t_end, 90) * 2) / 2)
        self.add(
            "workforce.shift_start_hour",
            "shift start (h)",
            (s0, math.nan, math.nan),
            len(t_start),
            "median first dispatch of a technician-day, to 0.5 h",
        )
        self.add(
            "workforce.shift_hours",
            "shift length (h)",
            (s1 - s0, math.nan, math.nan),
            len(t_end),
            "90th percentile of a technician-day's last completion - start, to 0.5 h",
        )
        dow = day.dt.day_of_week.value_counts(normalize=True)
        days = int((dow >= 0.2 / 7).sum())
        self.add(
            "workforce.days_per_week",
            "working days a week",
            (days, math.nan, math.nan),
            len(day),
            "weekdays with at least a fifth of an even share of visits",
        )
        week = v["arrival"].dt.to_period("W")
        crew = v.groupby(week)["technician_id"].nunique()
        full = crew.iloc[1:-1] if len(crew) > 2 else crew
        self.add(
            "workforce.technicians",
            "technicians working a week",
            (float(np.round(np.median(full))), float(full.min()), float(full.max())),
            int(v["technician_id"].nunique()),
            "median over full weeks (range)",
        )
        first_v = first_visits(self.c)
        worked = first_v[first_v["status"] != "part_needed"]
        fix = true_fix(worked).astype(float)
        g = fix.groupby(worked["technician_id"]).agg(["mean", "size"])
        g = g[g["size"] >= 20]
        self.tech_fix_sd = (math.nan, math.nan, math.nan)
        if len(g) >= 3 and self.ex.linked:
            self.tech_fix_sd = spread_ci(g["mean"].to_numpy(), g["size"].to_numpy())
            self.add(
                "",
                "spread of technicians' first-time fix (sd, noise removed)",
                self.tech_fix_sd,
                len(g),
                "between-technician variance less binomial noise; bootstrap over technicians",
            )

    # ----------------------------------------------------------------- delays
    def delays(self) -> None:
        c = self.c
        if not self.ex.linked:
            for path, label in (
                ("jobs.part_lead_time_hours", "part lead time (h)"),
                ("jobs.revisit_delay_hours", "revisit after a failed fix (h)"),
                ("jobs.callback_delay_mean_days", "callback delay (days)"),
            ):
                self.keep(
                    path,
                    label,
                    value_at(self.tpl.model_dump(mode="json"), path),
                    "no root_work_order_id",
                )
            return
        for path, label, prev in (
            ("jobs.part_lead_time_hours", "part lead time (h)", "part_needed"),
            ("jobs.revisit_delay_hours", "revisit after a failed fix (h)", "not_fixed"),
        ):
            gap = c.loc[c["prev_status"] == prev, "gap_h"].to_numpy(dtype=float)
            if gap.size:
                self.add(path, label, mean_ci(gap), gap.size, "t")
        cb = c.loc[c["prev_status"] == "fixed", "gap_h"].to_numpy(dtype=float) / 24.0
        window = self.tpl.callback_window_days
        cb = cb[cb <= window]
        if cb.size >= 5:
            m = truncated_exp_mean(cb, window)
            se = m / math.sqrt(cb.size)
            self.add(
                "jobs.callback_delay_mean_days",
                "callback delay (days)",
                (m, m - Z * se, m + Z * se),
                cb.size,
                f"exponential truncated at the {window:g}-day window (MLE)",
            )

    # ----------------------------------------------------------------- survey
    def survey(self) -> None:
        if "survey_score" not in self.v or self.v["survey_score"].isna().all():
            self.keep(
                "nps.response_rate",
                "survey response rate",
                self.tpl.nps.response_rate,
                "no survey_score column",
            )
            return
        rep = self.c[~self.c["planned"]]
        ans = rep["survey_score"].notna()
        self.add(
            "nps.response_rate",
            "survey response rate",
            wilson(ans.sum(), len(rep)),
            len(rep),
            "Wilson",
        )
        clean = rep[ans & (rep["visit_no"] == 1) & (rep["status"] == "fixed")]
        if "sla_violated" in clean:
            clean = clean[clean["sla_violated"].fillna(0) == 0]
        s = clean["survey_score"]
        n = len(s)
        self.add(
            "nps.promoter",
            "promoters after a clean visit",
            wilson((s >= 9).sum(), n),
            n,
            "Wilson (first visit, closed fixed, on time)",
        )
        self.add(
            "nps.detractor",
            "detractors after a clean visit",
            wilson((s <= 6).sum(), n),
            n,
            "Wilson (first visit, closed fixed, on time)",
        )


def _by_type(df: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    return [(str(jt), g) for jt, g in df.groupby("job_type", sort=True)]


def estimate(export: Export, template: Scenario) -> tuple[list[Estimate], Estimator]:
    est = Estimator(export, template)
    return est.run(), est
