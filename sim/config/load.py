"""Loading a scenario: YAML to a validated `Scenario`, every error one `ScenarioError`
naming the file and the dotted field path, so the CLI can print one clear line."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from sim.config.scenario import Scenario


class ScenarioError(ValueError):
    """Bad scenario input: carries the file and field path for a one-line message."""

    def __init__(self, source: str, field: str, message: str) -> None:
        self.source, self.field, self.message = source, field, message
        where = f"{source}: {field}: " if field else f"{source}: "
        super().__init__(where + message)


# --------------------------------------------------------------------------- loading
def _loc(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for p in loc:
        # pydantic puts the discriminator tag into the location of union members
        if (
            isinstance(p, str)
            and p
            in {
                "hourly",
                "jobs_per_day",
                "outcome_weighted",
                "hybrid",
                "custom",
                "function-after[_check(), Scheme]",
            }
            and parts
            and parts[-2:-1] == ["schemes"]
        ):
            continue
        if isinstance(p, str) and p.startswith("function-"):
            continue
        parts.append(str(p))
    return ".".join(parts)


def _tagged_members(ann: Any) -> dict[str, type[BaseModel]]:
    """The models of a (possibly Annotated) union, by the tag of their `type` field."""
    args = get_args(get_args(ann)[0]) if get_origin(ann) is Annotated else get_args(ann)
    return {
        str(tag): m
        for m in args
        if isinstance(m, type) and issubclass(m, BaseModel) and "type" in m.model_fields
        for tag in get_args(m.model_fields["type"].annotation)
    }


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names allowed at `loc` (to suggest a correction for a typo)."""
    cur: Any = model
    for p in loc[:-1]:
        if isinstance(cur, type) and issubclass(cur, BaseModel):
            f = cur.model_fields.get(str(p))
            if f is None:
                return []
            ann = f.annotation
            args = getattr(ann, "__args__", ())
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                cur = ann
            elif args and isinstance(args[-1], type) and issubclass(args[-1], BaseModel):
                cur = args[-1]  # dict[str, Model]: next loc part is the key
                cur = ("dict", cur)
            elif args and _tagged_members(args[-1]):
                cur = ("dict", _tagged_members(args[-1]))  # dict[str, Scheme]: key, then tag
            else:
                return []
        elif isinstance(cur, tuple):
            cur = cur[1]
        elif isinstance(cur, dict):
            cur = cur.get(str(p))
        else:
            return []
    if isinstance(cur, type) and issubclass(cur, BaseModel):
        return list(cur.model_fields)
    return []


def _format_error(err: ErrorDetails, model: type[BaseModel]) -> tuple[str, str]:
    loc = tuple(err.get("loc", ()))
    field = _loc(loc)
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        allowed = _allowed_keys(model, loc)
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return field, f"unknown key {key!r}{hint}"
    msg = err.get("msg", "invalid value")
    msg = msg.removeprefix("Value error, ")
    if "input" in err and kind not in {"missing"} and not isinstance(err["input"], dict):
        msg = f"{msg} (got {err['input']!r})"
    return field, msg


def scenario_from_dict(data: Any, source: str = "<scenario>") -> Scenario:
    """Validate a mapping into a Scenario; raise ScenarioError naming source and field."""
    if not isinstance(data, dict):
        raise ScenarioError(source, "", "the scenario must be a YAML mapping of keys to values")
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        # a misspelt key also makes the real one "missing": report the typo, it explains both
        err = next((e for e in errors if e.get("type") == "extra_forbidden"), errors[0])
        field, msg = _format_error(err, Scenario)
        n = exc.error_count()
        if n > 1:
            msg += f" (and {n - 1} more error{'s' if n > 2 else ''})"
        raise ScenarioError(source, field, msg) from None


def load_yaml(path: str | Path) -> Any:
    p = Path(path)
    if not p.exists():
        raise ScenarioError(str(p), "", "file not found")
    if p.is_dir():
        raise ScenarioError(str(p), "", "is a directory, not a scenario file")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(str(p), "", f"cannot read: {exc}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(str(p), "", f"YAML syntax error at {where}{problem}") from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario YAML file."""
    return scenario_from_dict(load_yaml(path), str(path))


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """The fully resolved scenario (defaults filled in), JSON-friendly."""
    return scenario.model_dump(mode="json")
