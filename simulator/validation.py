"""A small Zod-like validation engine producing Runway's issue objects.

Runway validates with Zod and answers ``{"error": "Validation of body failed",
"issues": [...], "docUrl": ...}``; objects are strict (unknown keys give an
``unrecognized_keys`` issue). Each schema's ``parse`` appends issues and returns the
cleaned value (defaults applied) or ``INVALID``. Runway's own request schemas are built
from these combinators in ``api/schemas.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from .errors import ApiError, validation_error

Issue = dict[str, Any]
Path = list[Any]


class _Sentinel:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


MISSING = _Sentinel("MISSING")  # the key was absent ("undefined" in Zod terms)
INVALID = _Sentinel("INVALID")  # parsing failed; issues were recorded

UUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)


# ---------------------------------------------------------------------------
# Issues, shaped like Zod 4's


def js_number(x: float) -> str:
    """A number as JavaScript prints it (no trailing ``.0``): Runway is a JS server."""
    return str(int(x)) if float(x).is_integer() else str(x)


def received(value: Any) -> str:
    if value is MISSING:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def type_issue(expected: str, value: Any, path: Path) -> Issue:
    got = received(value)
    return {
        "code": "invalid_type",
        "expected": expected,
        "path": list(path),
        "message": f"Invalid input: expected {expected}, received {got}",
    }


# origin -> (verb, unit) in "expected string to have >=1 characters"
_SIZE_WORDING = {
    "string": ("have", " characters"),
    "number": ("be", ""),
    "array": ("have", " items"),
}


def size_issue(code: str, origin: str, bound: float, path: Path) -> Issue:
    """A ``too_small`` or ``too_big`` issue (bounds are always inclusive here)."""
    small = code == "too_small"
    verb, unit = _SIZE_WORDING[origin]
    head, op = ("Too small", ">=") if small else ("Too big", "<=")
    return {
        "code": code,
        "minimum" if small else "maximum": bound,
        "inclusive": True,
        "origin": origin,
        "path": list(path),
        "message": f"{head}: expected {origin} to {verb} {op}{js_number(bound)}{unit}",
    }


def format_issue(fmt: str, path: Path, message: str, **extra: Any) -> Issue:
    """An ``invalid_format`` issue; ``extra`` keys (a regex's pattern) come before the path."""
    return {
        "code": "invalid_format",
        "format": fmt,
        **extra,
        "path": list(path),
        "message": message,
    }


def custom_issue(path: Path, message: str) -> Issue:
    return {"code": "custom", "path": list(path), "message": message}


def invalid_field(where: str, name: str, message: str) -> ApiError:
    """The 400 for a rule no schema can express (for example a date range), Zod-shaped."""
    return validation_error(where, [custom_issue([name], message)])


def _size_problem(size: float, low: float | None, high: float | None) -> tuple[str, float] | None:
    """The size issue code and the bound ``size`` breaks, or None."""
    if low is not None and size < low:
        return "too_small", low
    if high is not None and size > high:
        return "too_big", high
    return None


# ---------------------------------------------------------------------------
# Combinators


class Schema:
    def parse(self, value: Any, path: Path, issues: list[Issue]) -> Any:
        raise NotImplementedError


@dataclass
class Str(Schema):
    min: int | None = None
    max: int | None = None
    pattern: re.Pattern[str] | None = None
    check: Callable[[str], str | None] | None = None  # returns an error message or None

    def parse(self, value: Any, path: Path, issues: list[Issue]) -> Any:
        if not isinstance(value, str):
            issues.append(type_issue("string", value, path))
            return INVALID
        problem = _size_problem(len(value), self.min, self.max)
        if problem:
            issues.append(size_issue(problem[0], "string", problem[1], path))
            return INVALID
        if self.pattern is not None and not self.pattern.match(value):
            pattern = self.pattern.pattern
            message = f"Invalid string: must match pattern /{pattern}/"
            issues.append(format_issue("regex", path, message, pattern=pattern))
            return INVALID
        if self.check is not None:
            message = self.check(value)
            if message:
                issues.append(custom_issue(path, message))
                return INVALID
        return value


@dataclass
class Uuid(Schema):
    def parse(self, value: Any, path: Path, issues: list[Issue]) -> Any:
        if not isinstance(value, str):
            issues.append(type_issue("string", value, path))
            return INVALID
        if not UUID_RE.match(value):
            issues.append(format_issue("uuid", path, "Invalid UUID"))
            return INVALID
        return value.lower()


@dataclass
class Num(Schema):
    min: float | None = None
    max: float | None = None
    integer: bool = False

    def parse(self, value: Any, path: Path, issues: list[Issue]) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            issues.append(type_issue("int" if self.integer else "number", value, path))
            return INVALID
        if self.integer and not float(value).is_integer():
            issues.append(
                {
                    "code": "invalid_type",
                    "expected": "int",
                    "received": "number",
                    "path": list(path),
                    "message": "Invalid input: expected int, received number",
                }
            )
            return INVALID
        problem = _size_problem(value, self.min, self.max)
        if problem:
            issues.append(size_issue(problem[0], "number", problem[1], path))
            return INVALID
        return int(value) if self.integer else value


@dataclass
class Bool(Schema):
    def parse(self, value: Any, path: Path, issues: list[Issue]) -> Any:
        if not isinstance(value, bool):
            issues.append(type_issue("boolean", value, path))
            return INVALID
        return value


@dataclass
class Enum(Schema):
    values: tuple[str, ...]

    def parse(self, value: Any, path: Path, issues: list[Issue]) -> Any:
        if not isinstance(value, str) or value not in self.values:
            shown = "|".join(f'"{v}"' for v in self.values)
            single = len(self.values) == 1
            expected = shown if single else f"one of {shown}"
            issues.append(
                {
                    "code": "invalid_value",
                    "values": list(self.values),
                    "path": list(path),
                    "message": f"Invalid {'value' if single else 'option'}: expected {expected}",
                }
            )
            return INVALID
        return value


def Literal(value: str) -> Enum:
    return Enum((value,))


@dataclass
class Nullable(Schema):
    inner: Schema

    def parse(self, value: Any, path: Path, issues: list[Issue]) -> Any:
        return None if value is None else self.inner.parse(value, path, issues)


@dataclass
class Any_(Schema):
    def parse(self, value: Any, path: Path, issues: list[Issue]) -> Any:
        return value


@dataclass
class Arr(Schema):
    item: Schema
    max: int | None = None
    min: int | None = None

    def parse(self, value: Any, path: Path, issues: list[Issue]) -> Any:
        if not isinstance(value, list):
            issues.append(type_issue("array", value, path))
            return INVALID
        problem = _size_problem(len(value), self.min, self.max)
        if problem:
            issues.append(size_issue(problem[0], "array", problem[1], path))
            return INVALID
        before = len(issues)
        out = [self.item.parse(v, [*path, i], issues) for i, v in enumerate(value)]
        return INVALID if len(issues) > before else out


@dataclass
class F:
    """An object field: its schema, whether it is required, and its default."""

    schema: Schema
    required: bool = False
    default: Any = MISSING


@dataclass
class Obj(Schema):
    fields: dict[str, F]
    strict: bool = True
    at_least_one: bool = False

    def parse(self, value: Any, path: Path, issues: list[Issue]) -> Any:
        if not isinstance(value, dict):
            issues.append(type_issue("object", value, path))
            return INVALID
        before = len(issues)
        unknown = [k for k in value if k not in self.fields]
        if self.strict and unknown:
            label = "key" if len(unknown) == 1 else "keys"
            issues.append(
                {
                    "code": "unrecognized_keys",
                    "keys": unknown,
                    "path": list(path),
                    "message": f"Unrecognized {label}: {', '.join(unknown)}",
                }
            )
        out: dict[str, Any] = {}
        for name, spec in self.fields.items():
            if name not in value:
                if spec.required:
                    issues.append(type_issue(_expected(spec.schema), MISSING, [*path, name]))
                elif spec.default is not MISSING:
                    out[name] = spec.default() if callable(spec.default) else spec.default
                continue
            out[name] = spec.schema.parse(value[name], [*path, name], issues)
        if self.at_least_one and not any(k in self.fields for k in value):
            issues.append(custom_issue(path, "At least one field must be provided"))
        return INVALID if len(issues) > before else out


def _expected(schema: Schema) -> str:
    if isinstance(schema, Nullable):
        return _expected(schema.inner)
    if isinstance(schema, (Str, Uuid, Enum)):
        return "string"
    if isinstance(schema, Num):
        return "int" if schema.integer else "number"
    if isinstance(schema, Bool):
        return "boolean"
    if isinstance(schema, Arr):
        return "array"
    return "object"


@dataclass
class Union(Schema):
    """A discriminated union (Zod's z.discriminatedUnion)."""

    discriminator: str
    options: dict[str, Obj]

    def parse(self, value: Any, path: Path, issues: list[Issue]) -> Any:
        if not isinstance(value, dict):
            issues.append(type_issue("object", value, path))
            return INVALID
        option = (
            self.options.get(value.get(self.discriminator))
            if isinstance(value.get(self.discriminator), str)
            else None
        )
        if option is None:
            issues.append(
                {
                    "code": "invalid_union",
                    "errors": [],
                    "note": "No matching discriminator",
                    "discriminator": self.discriminator,
                    "path": [*path, self.discriminator],
                    "message": "Invalid input",
                }
            )
            return INVALID
        return option.parse(value, path, issues)


def validate(schema: Schema, value: Any, where: str = "body") -> Any:
    """Parse ``value`` or raise a 400 ApiError with the collected issues."""
    issues: list[Issue] = []
    out = schema.parse(value, [], issues)
    if issues or out is INVALID:
        raise validation_error(where, issues)
    return out


# ---------------------------------------------------------------------------
# Query strings and paths (values arrive as strings)


@dataclass
class QueryInt(Schema):
    min: int
    max: int

    def parse(self, value: Any, path: Path, issues: list[Issue]) -> Any:
        try:
            number = int(value, 10)
        except (TypeError, ValueError):
            issues.append(type_issue("int", value, path))
            return INVALID
        return Num(self.min, self.max, integer=True).parse(number, path, issues)


@dataclass
class QueryDateTime(Schema):
    date_only: bool = False

    def parse(self, value: Any, path: Path, issues: list[Issue]) -> Any:
        parsed = parse_datetime(value, date_only=self.date_only) if isinstance(value, str) else None
        if parsed is None:
            fmt = "date" if self.date_only else "datetime"
            issues.append(format_issue(fmt, path, f"Invalid ISO {fmt}"))
            return INVALID
        return parsed


def parse_datetime(text: str, *, date_only: bool = False) -> float | None:
    """ISO-8601 date or date-time -> epoch seconds (naive values are UTC)."""
    try:
        if date_only:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                return None
            d = date.fromisoformat(text)
            return datetime(d.year, d.month, d.day, tzinfo=timezone.utc).timestamp()
        dt = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


@dataclass
class Query:
    """Schema for a query string: unknown parameters are ignored, as most APIs do."""

    fields: dict[str, F] = field(default_factory=dict)

    def validate(self, params: dict[str, str]) -> dict[str, Any]:
        known = {k: v for k, v in params.items() if k in self.fields}
        return validate(Obj(self.fields, strict=False), known, where="query")


def check_path_uuid(value: str, name: str = "id") -> str:
    """Malformed ids in paths are a 400, as for any Zod-validated path parameter."""
    if not UUID_RE.match(value):
        raise validation_error("path", [format_issue("uuid", [name], "Invalid UUID")])
    return value.lower()
