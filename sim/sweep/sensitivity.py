"""Global sensitivity of a sweep's KPIs to its parameters (SALib Sobol and Morris).

The model output of a design point is the mean of a KPI over the point's replications, for
one scheme (`measure="mean"`), or the mean paired difference of that scheme against the
baseline (`measure="diff"`: which assumptions drive the *advantage* of a scheme). Every
scheme is analysed unless some are named. Replications share random numbers across points
(common random numbers), so a parameter that cannot move a KPI leaves the KPI exactly
unchanged and gets indices of 0, not noise.

- sobol sweep (Saltelli/Sobol' sample, N*(D+2) points): first-order S1 and total ST
  indices with 95% bootstrap intervals (`SALib.analyze.sobol`, no second order).
- morris sweep (N trajectories, N*(D+1) points, 4 levels): mu* (mean absolute elementary
  effect, per unit of the parameter's range; log ranges in decades), its 95% interval,
  sigma, and mu (`SALib.analyze.morris`, on the sampler's unrounded values).
"""

from __future__ import annotations

import io
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.metrics.catalogue import SENSITIVITY_KPIS
from sim.metrics.kpis import KPI_COLUMNS
from sim.store.results import ResultsError, check_manifest, read_json, verified_bytes

SOBOL_COLUMNS = ("S1", "S1_conf", "ST", "ST_conf")
MORRIS_COLUMNS = ("mu_star", "mu_star_conf", "sigma", "mu")
ID_COLUMNS = ("scheme", "kpi", "parameter", "method")
TAIL_COLUMNS = ("measure", "n_points", "note")
RESAMPLES = 1000


class SensitivityError(ValueError):
    """Results that cannot be analysed (not a sobol/morris sweep, unknown KPI or scheme)."""


def columns(method: str) -> list[str]:
    """Columns of sensitivity.csv for a method. The plotting code reads these names."""
    mid = SOBOL_COLUMNS if method == "sobol" else MORRIS_COLUMNS
    return [*ID_COLUMNS, *mid, *TAIL_COLUMNS]


def sobol_indices(problem: dict[str, Any], y: np.ndarray, seed: int = 0) -> pd.DataFrame:
    """S1, ST and their 95% intervals for outputs `y` of a `SALib.sample.sobol` sample."""
    from SALib.analyze import sobol

    y = np.asarray(y, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        si = sobol.analyze(
            problem, y, calc_second_order=False, num_resamples=RESAMPLES, conf_level=0.95, seed=seed
        )
    return pd.DataFrame(
        {
            "parameter": problem["names"],
            **{c: np.asarray(si[c], dtype=float) for c in SOBOL_COLUMNS},
        }
    )


def morris_indices(
    problem: dict[str, Any], x: np.ndarray, y: np.ndarray, seed: int = 0, levels: int = 4
) -> pd.DataFrame:
    """mu*, its 95% interval, sigma and mu for outputs `y` at the Morris sample `x`."""
    from SALib.analyze import morris

    y = np.asarray(y, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        si = morris.analyze(
            problem,
            np.asarray(x, dtype=float),
            y,
            num_resamples=RESAMPLES,
            conf_level=0.95,
            num_levels=levels,
            seed=seed,
        )
    return pd.DataFrame(
        {
            "parameter": problem["names"],
            **{c: np.asarray(si[c], dtype=float) for c in MORRIS_COLUMNS},
        }
    )


def _check_design(design: dict[str, Any], method: str, mpath: Path) -> None:
    """The manifest's design has the shape `analyse` reads; SensitivityError otherwise."""
    problem, points = design.get("problem"), design.get("points")
    names = problem.get("names") if isinstance(problem, dict) else None
    bounds = problem.get("bounds") if isinstance(problem, dict) else None

    def numbers(v: Any, n: int) -> bool:
        return (
            isinstance(v, list)
            and len(v) == n
            and all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in v)
        )

    ok = (
        isinstance(names, list)
        and all(isinstance(n, str) for n in names)
        and isinstance(bounds, list)
        and len(bounds) == len(names)
        and all(numbers(b, 2) for b in bounds)
        and isinstance(points, list)
        and all(isinstance(p, dict) and numbers(p.get("x"), len(names)) for p in points)
    )
    if not ok:
        raise SensitivityError(
            f"{mpath}: design: not the shape a {method} sweep writes (a damaged or edited manifest)"
        )


def _read(results: Path) -> tuple[dict[str, Any], pd.DataFrame]:
    mpath = results / "manifest.json"
    if not mpath.exists():
        raise SensitivityError(
            f"{results}: no manifest.json; give the --out directory of a finished 'techsim sweep'"
        )
    try:
        man = check_manifest(read_json(mpath), mpath)
    except ResultsError as exc:
        raise SensitivityError(str(exc)) from None
    if man.get("kind") != "sweep":
        raise SensitivityError(
            f"{results}: holds results of 'techsim {man.get('kind', '?')}', not of a sweep"
        )
    design = man.get("design")
    method = design.get("method") if isinstance(design, dict) else None
    if method is None:
        raise SensitivityError(f"{mpath}: design.method: missing")
    if method not in ("sobol", "morris"):
        raise SensitivityError(
            f"{results}: a {method} sweep; sensitivity indices need a sweep "
            "run with --design sobol or --design morris"
        )
    _check_design(design if isinstance(design, dict) else {}, method, mpath)
    spath = results / "summary.parquet"
    if man.get("status") != "complete" or not spath.exists():
        raise SensitivityError(
            f"{results}: the sweep is not complete; finish it with 'techsim sweep ... --resume'"
        )
    try:
        data = verified_bytes(spath, man)
        return man, pd.read_parquet(io.BytesIO(data))
    except ResultsError as exc:
        raise SensitivityError(str(exc)) from None
    except Exception as exc:  # pyarrow raises several kinds for a damaged file
        raise SensitivityError(f"{spath}: cannot be read ({type(exc).__name__})") from None


def analyse(
    results: str | Path,
    kpis: list[str] | None = None,
    schemes: list[str] | None = None,
    measure: str = "mean",
) -> tuple[str, pd.DataFrame]:
    """(method, one row per scheme x KPI x parameter) for a finished sobol/morris sweep."""
    results = Path(results)
    man, summary = _read(results)
    method = man["design"]["method"]
    kpis = list(kpis or [k.name for k in SENSITIVITY_KPIS])
    for k in kpis:
        if k not in KPI_COLUMNS:
            raise SensitivityError(f"--kpi {k}: not a KPI (one of {', '.join(KPI_COLUMNS)})")
    all_schemes = man["schemes"]
    schemes = list(schemes or all_schemes)
    for s in schemes:
        if s not in all_schemes:
            raise SensitivityError(
                f"--scheme {s}: not a scheme of the sweep ({', '.join(all_schemes)})"
            )
    if measure not in ("mean", "diff"):
        raise SensitivityError(f"measure {measure!r}: 'mean' or 'diff'")
    problem = man["design"]["problem"]
    points = man["design"]["points"]
    x = np.array([p["x"] for p in points], dtype=float)
    seed = int(man["seed"])
    col = "mean" if measure == "mean" else "diff_mean"
    rows = []
    for scheme in schemes:
        if measure == "diff" and scheme == man["baseline"]:
            continue
        for kpi in kpis:
            sub = summary[(summary["scheme"] == scheme) & (summary["kpi"] == kpi)]
            y = sub.set_index("point")[col].reindex(range(len(points))).to_numpy(dtype=float)
            ids = {"scheme": scheme, "kpi": kpi, "method": method}
            if np.isnan(y).any():
                note = "undefined at some points"
            else:
                note = "no variation across points" if np.ptp(y) == 0 else ""
            tail = {"measure": measure, "n_points": len(points), "note": note}
            # Sobol indices are shares of the variance (none when it is 0); Morris effects
            # of a constant output are simply 0
            mid = list(SOBOL_COLUMNS if method == "sobol" else MORRIS_COLUMNS)
            try:
                if np.isnan(y).any() or (note and method == "sobol"):
                    values = np.full((len(problem["names"]), len(mid)), math.nan)
                elif method == "sobol":
                    values = sobol_indices(problem, y, seed)[mid].to_numpy()
                else:
                    levels = man["design"].get("morris_levels") or 4
                    values = morris_indices(problem, x, y, seed, levels)[mid].to_numpy()
            except (ValueError, RuntimeError, IndexError, TypeError) as exc:
                raise SensitivityError(
                    f"{results / 'manifest.json'}: design: does not match the sweep's "
                    f"results ({type(exc).__name__}: {exc})"
                ) from None
            for name, v in zip(problem["names"], values):
                rows.append({**ids, "parameter": name, **dict(zip(mid, v.tolist())), **tail})
    return method, pd.DataFrame(rows, columns=columns(method))
