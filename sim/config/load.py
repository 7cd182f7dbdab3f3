"""Loading a scenario: YAML to a validated `Scenario`, every error one `ScenarioError`
naming the file and the dotted field path, so the CLI can print one clear line."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated, Any, TypeVar, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from sim.config.scenario import Scenario

M = TypeVar("M", bound=BaseModel)


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
    msg = _MESSAGES.get(kind) or err.get("msg", "invalid value")
    msg = msg.removeprefix("Value error, ")
    value = err.get("input")
    if kind in ("int_type", "float_type") and isinstance(value, bool):
        msg += " (true/false is not a number)"
    elif kind == "int_type" and isinstance(value, float):
        msg += " (a count takes a whole number, written without a decimal point)"
    if "input" in err and kind not in {"missing"} and not isinstance(err["input"], dict):
        got = repr(err["input"])
        msg = f"{msg} (got {got if len(got) <= 60 else got[:57] + '...'})"
    return field, msg


#: pydantic's messages about a value's type, with what strict mode refuses spelled out.
_MESSAGES = {
    "finite_number": "Input should be a finite number, not .inf or .nan",
    "tuple_type": "Input should be a valid list",
}


def scenario_from_dict(data: Any, source: str = "<scenario>") -> Scenario:
    """Validate a mapping into a Scenario; raise ScenarioError naming source and field."""
    return model_from_dict(Scenario, data, source, "the scenario")


def model_from_dict(model: type[M], data: Any, source: str, what: str) -> M:
    """Validate a mapping into `model` (a scenario, a calibration mapping); ScenarioError
    naming `source` and the dotted field."""
    if not isinstance(data, dict):
        raise ScenarioError(source, "", f"{what} must be a YAML mapping of keys to values")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        # a misspelt key also makes the real one "missing": report the typo, it explains both
        err = next((e for e in errors if e.get("type") == "extra_forbidden"), errors[0])
        field, msg = _format_error(err, model)
        n = exc.error_count()
        if n > 1:
            msg += f" (and {n - 1} more error{'s' if n > 2 else ''})"
        raise ScenarioError(source, field, msg) from None


# --------------------------------------------------------------------------- strict YAML
#: Limits of a scenario file: far above any real scenario, far below what breaks the parser.
MAX_FILE_BYTES = 1 << 20  # 1 MiB
MAX_DEPTH = 32  # nesting of mappings and lists
MAX_VALUES = 100_000  # keys and values, counting every use of a YAML alias
MAX_INT = 2**63 - 1  # integers (numpy's int64); seeds and counts fit easily
MAX_INT_DIGITS = 25  # longer literals are refused before Python converts them


class _Refused(yaml.YAMLError):
    """Valid YAML that a scenario may not be: a duplicate key, too deep, a huge number."""

    def __init__(self, mark: Any, message: str) -> None:
        self.mark, self.message = mark, message
        super().__init__(message)


class StrictLoader(yaml.SafeLoader):
    """`yaml.SafeLoader` that refuses duplicate keys at any depth (naming both lines),
    nesting deeper than MAX_DEPTH and integers beyond MAX_INT."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(
                    self.peek_event().start_mark, f"nested more than {MAX_DEPTH} levels deep"
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue  # `<<: *defaults` merges are overridden on purpose
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:  # unhashable: the base class says so
                    continue
                if first is not None:
                    raise _Refused(
                        key_node.start_mark,
                        f"duplicate key {key!r} (first at line {first}); each key may appear once",
                    )
                seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep)

    def construct_yaml_int(self, node: Any) -> int:
        digits = sum(ch.isalnum() for ch in str(node.value))
        value = None if digits > MAX_INT_DIGITS else super().construct_yaml_int(node)
        if value is None or abs(value) > MAX_INT:
            shown = (
                str(node.value) if digits <= 30 else f"{str(node.value)[:12]}... ({digits} digits)"
            )
            raise _Refused(
                node.start_mark, f"the integer {shown} is too large (at most {MAX_INT:,})"
            )
        return value


StrictLoader.add_constructor("tag:yaml.org,2002:int", StrictLoader.construct_yaml_int)


def _count_values(data: Any, limit: int = MAX_VALUES) -> None:
    """Raise _Refused when `data` holds more than `limit` keys and values (aliases expanded)."""
    left = limit
    stack = [data]
    while stack:
        obj = stack.pop()
        left -= 1
        if left < 0:
            raise _Refused(None, f"more than {limit:,} values (expanding YAML aliases)")
        if isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, list):
            stack.extend(obj)


def parse_yaml(text: str, source: str = "<scenario>") -> Any:
    """YAML text -> Python data with the strict loader; ScenarioError names line and column."""
    try:
        data = yaml.load(text, Loader=StrictLoader)  # a SafeLoader subclass
        _count_values(data)
        return data
    except _Refused as exc:
        mark = exc.mark
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise ScenarioError(source, "", f"{where}{exc.message}") from None
    except RecursionError:  # pragma: no cover - MAX_DEPTH stops it first
        raise ScenarioError(source, "", f"nested more than {MAX_DEPTH} levels deep") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        if context and str(problem).startswith("but "):
            problem = f"{context} {problem}"  # "expected ... but found ..."
        problem = " ".join(str(problem).split())
        raise ScenarioError(source, "", f"YAML syntax error at {where}{problem}") from None


def load_yaml(path: str | Path) -> Any:
    p = Path(path)
    if not p.exists():
        raise ScenarioError(str(p), "", "file not found")
    if p.is_dir():
        raise ScenarioError(str(p), "", "is a directory, not a scenario file")
    try:
        with p.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(str(p), "", f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(
            str(p), "", f"larger than {MAX_FILE_BYTES >> 20} MiB; not a scenario file"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            str(p), "", f"not UTF-8 text (byte {exc.start}); is it a scenario file?"
        ) from None
    return parse_yaml(text, str(p))


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario YAML file."""
    return scenario_from_dict(load_yaml(path), str(path))


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """The fully resolved scenario (defaults filled in), JSON-friendly."""
    return scenario.model_dump(mode="json")
