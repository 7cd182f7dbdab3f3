"""Swept parameters: a scenario field named by its dotted path and the values to try.

`parse_param` reads `PATH=VALUES` (a list `a,b,c`, a linear range `lo:hi:n`, a log range
`lo:hi:n:log`, or the bounds `lo:hi` / `lo:hi:log` of a sampled design), checks the path
against the resolved scenario and the values against the field's type, and raises a
`SweepInputError` naming the path. Integer fields take whole numbers.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

#: The designs that draw points inside ranges (the others take lists of values).
SAMPLED = ("lhs", "sobol", "morris")
#: Fields that are not part of the model: the sweep sets them itself, or they are labels.
NOT_SWEEPABLE = {
    "name": "the scenario's name is a label",
    "description": "a label",
    "source": "a label",
    "seed": "use --seed",
    "replications": "use --reps",
    "baseline": "the baseline must stay fixed for paired differences",
}


#: The most values of one parameter's grid range lo:hi:n.
MAX_GRID = 10_000


class SweepInputError(ValueError):
    """Bad sweep input (a parameter path, its values, or a design point): one line."""


@dataclass(frozen=True)
class Parameter:
    """A swept scenario field: `values` (grid) or `lo`, `hi` (sampled designs)."""

    path: str
    kind: str  # "int", "float", "bool" or "str": the field's type
    values: tuple[Any, ...] = ()  # grid
    lo: float | None = None  # sampled designs
    hi: float | None = None
    log: bool = False

    def bounds(self) -> tuple[float, float]:
        """(lo, hi) of a sampled design's parameter in sampling space (log10 if a log range)."""
        if self.lo is None or self.hi is None:
            raise SweepInputError(f"--param {self.path}: a list of values has no bounds")
        return (math.log10(self.lo), math.log10(self.hi)) if self.log else (self.lo, self.hi)

    def spec(self) -> dict[str, Any]:
        """The JSON form recorded in the manifest."""
        if self.values:
            return {"path": self.path, "type": self.kind, "values": list(self.values)}
        return {
            "path": self.path,
            "type": self.kind,
            "range": [self.lo, self.hi],
            "scale": "log" if self.log else "linear",
        }


# --------------------------------------------------------------------------- paths
def _lookup(data: dict[str, Any], path: str) -> Any:
    """The value at a dotted path of the resolved scenario dict; SweepInputError if none."""
    if not path or any(not part for part in path.split(".")):
        raise SweepInputError(f"--param {path!r}: not a dotted scenario path")
    parts = path.split(".")
    if parts[0] in NOT_SWEEPABLE and len(parts) == 1:
        raise SweepInputError(f"--param {path}: cannot be swept ({NOT_SWEEPABLE[parts[0]]})")
    cur: Any = data
    for k, part in enumerate(parts):
        if not isinstance(cur, dict) or part not in cur:
            where = ".".join(parts[:k]) or "the scenario"
            keys = list(cur) if isinstance(cur, dict) else []
            close = difflib.get_close_matches(part, keys, n=1)
            hint = f"; did you mean {'.'.join([*parts[:k], close[0]])!r}?" if close else ""
            if not isinstance(cur, dict):
                raise SweepInputError(f"--param {path}: no such field ({where} is a value){hint}")
            raise SweepInputError(f"--param {path}: no such field in {where}{hint}")
        cur = cur[part]
    if isinstance(cur, dict):
        some = ", ".join(f"{path}.{k}" for k in list(cur)[:3])
        raise SweepInputError(f"--param {path}: is a section, not a value (e.g. {some})")
    if isinstance(cur, (list, tuple)):
        raise SweepInputError(f"--param {path}: is a list; only single values can be swept")
    if parts[-1] == "type" and parts[0] == "schemes":
        raise SweepInputError(
            f"--param {path}: a scheme's type cannot be swept; "
            "add a scheme of each type to the scenario instead"
        )
    return cur


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return "str"


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    cur = data
    for part in parts[:-1]:
        cur = cur[part]
    cur[parts[-1]] = value


# --------------------------------------------------------------------------- values
def _number(path: str, token: str) -> float:
    try:
        v = float(token)
    except ValueError:
        raise SweepInputError(f"--param {path}: {token!r} is not a number") from None
    if not math.isfinite(v):
        raise SweepInputError(f"--param {path}: {token!r} is not a finite number")
    return v


def _whole(path: str, v: float, token: str) -> int:
    if abs(v - round(v)) > 1e-9 * max(1.0, abs(v)):
        raise SweepInputError(
            f"--param {path}: {token!r} is not a whole number (the field is an integer)"
        )
    return round(v)


def _list_value(path: str, kind: str, token: str) -> Any:
    token = token.strip()
    if not token:
        raise SweepInputError(f"--param {path}: empty value in the list")
    if kind == "int":
        return _whole(path, _number(path, token), token)
    if kind == "float":
        return _number(path, token)
    if kind == "bool":
        low = token.lower()
        if low in ("true", "yes", "1"):
            return True
        if low in ("false", "no", "0"):
            return False
        raise SweepInputError(f"--param {path}: {token!r} is not true or false")
    return token


def parse_param(text: str, base: dict[str, Any], design: str) -> Parameter:
    """`PATH=VALUES` -> Parameter, checked against the resolved scenario dict `base`."""
    if "=" not in text:
        raise SweepInputError(
            f"--param {text!r}: expected PATH=VALUES, e.g. schemes.hybrid.weight=0,0.25,0.5"
        )
    path, _, values = text.partition("=")
    path, values = path.strip(), values.strip()
    kind = _kind(_lookup(base, path))
    if not values:
        raise SweepInputError(f"--param {path}: no values given")
    if ":" not in values:
        if design in SAMPLED:
            raise SweepInputError(
                f"--param {path}: the {design} design draws points inside a "
                "range; give lo:hi or lo:hi:log, not a list"
            )
        vals = tuple(_list_value(path, kind, t) for t in values.split(","))
        if len(set(vals)) != len(vals):
            raise SweepInputError(f"--param {path}: repeated values in {values!r}")
        return Parameter(path, kind, values=vals)
    # a range
    if kind not in ("int", "float"):
        raise SweepInputError(
            f"--param {path}: a range needs a numeric field (this one is {kind}); give a list a,b,c"
        )
    parts = [p.strip() for p in values.split(":")]
    log = bool(parts) and parts[-1].lower() == "log"
    if log:
        parts = parts[:-1]
    if design in SAMPLED:
        if len(parts) != 2:
            raise SweepInputError(
                f"--param {path}: the {design} design takes lo:hi or "
                f"lo:hi:log (got {values!r}; --samples sets how many points)"
            )
        lo, hi = (_number(path, p) for p in parts)
        if not lo < hi:
            raise SweepInputError(f"--param {path}: the range needs lo < hi (got {values!r})")
        if log and lo <= 0:
            raise SweepInputError(f"--param {path}: a log range needs lo > 0 (got {values!r})")
        return Parameter(path, kind, lo=lo, hi=hi, log=log)
    if len(parts) != 3:
        raise SweepInputError(
            f"--param {path}: a grid range is lo:hi:n or lo:hi:n:log (got {values!r})"
        )
    lo, hi = _number(path, parts[0]), _number(path, parts[1])
    try:
        n = int(parts[2])
    except ValueError:
        raise SweepInputError(
            f"--param {path}: n in lo:hi:n must be a whole number (got {parts[2]!r})"
        ) from None
    if n < 2:
        raise SweepInputError(f"--param {path}: n in lo:hi:n must be at least 2 (got {n})")
    if n > MAX_GRID:
        raise SweepInputError(
            f"--param {path}: n in lo:hi:n must be at most {MAX_GRID:,} (got {n:,})"
        )
    if lo == hi:
        raise SweepInputError(f"--param {path}: the range is empty (lo = hi = {lo:g})")
    if log:
        if lo <= 0 or hi <= 0:
            raise SweepInputError(f"--param {path}: a log range needs lo, hi > 0 (got {values!r})")
        grid = np.logspace(math.log10(lo), math.log10(hi), n)
    else:
        grid = np.linspace(lo, hi, n)
    if kind == "int":
        vals = tuple(round(v) for v in grid)
        if len(set(vals)) != len(vals):
            raise SweepInputError(
                f"--param {path}: {values!r} gives repeated whole numbers "
                f"{list(vals)}; use fewer points"
            )
    else:
        vals = tuple(float(v) for v in grid)
    return Parameter(path, kind, values=vals)
