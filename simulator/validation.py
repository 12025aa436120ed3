"""A small Zod-like validator producing Runway's issue objects.

Runway validates with Zod and answers ``{"error": "Validation of body failed",
"issues": [...], "docUrl": ...}``; objects are strict (unknown keys give an
``unrecognized_keys`` issue). Each schema's ``parse`` appends issues and returns the
cleaned value (defaults applied) or ``INVALID``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from .errors import validation_error

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
TOOL_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


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
        if self.min is not None and len(value) < self.min:
            issues.append(
                {
                    "code": "too_small",
                    "minimum": self.min,
                    "inclusive": True,
                    "origin": "string",
                    "path": list(path),
                    "message": f"Too small: expected string to have >={self.min} characters",
                }
            )
            return INVALID
        if self.max is not None and len(value) > self.max:
            issues.append(
                {
                    "code": "too_big",
                    "maximum": self.max,
                    "inclusive": True,
                    "origin": "string",
                    "path": list(path),
                    "message": f"Too big: expected string to have <={self.max} characters",
                }
            )
            return INVALID
        if self.pattern is not None and not self.pattern.match(value):
            issues.append(
                {
                    "code": "invalid_format",
                    "format": "regex",
                    "pattern": self.pattern.pattern,
                    "path": list(path),
                    "message": f"Invalid string: must match pattern /{self.pattern.pattern}/",
                }
            )
            return INVALID
        if self.check is not None:
            problem = self.check(value)
            if problem:
                issues.append({"code": "custom", "path": list(path), "message": problem})
                return INVALID
        return value


@dataclass
class Uuid(Schema):
    def parse(self, value: Any, path: Path, issues: list[Issue]) -> Any:
        if not isinstance(value, str):
            issues.append(type_issue("string", value, path))
            return INVALID
        if not UUID_RE.match(value):
            issues.append(
                {
                    "code": "invalid_format",
                    "format": "uuid",
                    "path": list(path),
                    "message": "Invalid UUID",
                }
            )
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
        if self.min is not None and value < self.min:
            issues.append(
                {
                    "code": "too_small",
                    "minimum": self.min,
                    "inclusive": True,
                    "origin": "number",
                    "path": list(path),
                    "message": f"Too small: expected number to be >={_num(self.min)}",
                }
            )
            return INVALID
        if self.max is not None and value > self.max:
            issues.append(
                {
                    "code": "too_big",
                    "maximum": self.max,
                    "inclusive": True,
                    "origin": "number",
                    "path": list(path),
                    "message": f"Too big: expected number to be <={_num(self.max)}",
                }
            )
            return INVALID
        return int(value) if self.integer else value


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


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


def Literal(value: str) -> Enum:  # noqa: N802 - reads like Zod's z.literal
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
        if self.max is not None and len(value) > self.max:
            issues.append(
                {
                    "code": "too_big",
                    "maximum": self.max,
                    "inclusive": True,
                    "origin": "array",
                    "path": list(path),
                    "message": f"Too big: expected array to have <={self.max} items",
                }
            )
            return INVALID
        if self.min is not None and len(value) < self.min:
            issues.append(
                {
                    "code": "too_small",
                    "minimum": self.min,
                    "inclusive": True,
                    "origin": "array",
                    "path": list(path),
                    "message": f"Too small: expected array to have >={self.min} items",
                }
            )
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
            issues.append(
                {
                    "code": "custom",
                    "path": list(path),
                    "message": "At least one field must be provided",
                }
            )
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
# Reusable field schemas


def _media_uri_check(kind: str) -> Callable[[str], str | None]:
    """HTTPS URL (13-2048), runway:// URI (13-5000) or data URI of ``kind`` (<=5 MiB)."""

    def check(value: str) -> str | None:
        if value.startswith("https://"):
            return None if 13 <= len(value) <= 2048 else "HTTPS URLs must be 13-2048 characters"
        if value.startswith("runway://"):
            return None if 13 <= len(value) <= 5000 else "Runway URIs must be 13-5000 characters"
        if value.startswith(f"data:{kind}/"):
            if len(value) > 5_242_880:
                return "Data URIs must be at most 5MB"
            return None if ";base64," in value else "Data URIs must be base64-encoded"
        return f"Expected an HTTPS URL, a runway:// upload URI or a data:{kind}/ URI"

    return check


def _public_url_check(value: str) -> str | None:
    if not (value.startswith("https://") or value.startswith("wss://")):
        return "Expected a wss:// or https:// URL"
    return None


ReferenceImage = Str(min=13, check=_media_uri_check("image"))
AudioUri = Str(min=13, check=_media_uri_check("audio"))
ToolName = Str(min=1, max=64, pattern=TOOL_NAME_RE)
Description1024 = Str(min=1, max=1024)


def _param(type_name: str, **extra: F) -> Obj:
    return Obj(
        {
            "type": F(Literal(type_name), True),
            "name": F(ToolName, True),
            "description": F(Description1024, True),
            "required": F(Bool(), default=True),
            **extra,
        }
    )


ToolParameter = Union(
    "type",
    {
        "string": _param("string", enum=F(Arr(Str(max=64), max=20))),
        "integer": _param("integer"),
        "number": _param("number"),
        "boolean": _param("boolean"),
        "array": _param(
            "array",
            items=F(Obj({"type": F(Enum(("string", "integer", "number", "boolean")), True)}), True),
        ),
        "object": _param("object", properties=F(Arr(Any_(), max=20), True)),
    },
)


def _tool(type_name: str, **extra: F) -> Obj:
    return Obj(
        {
            "type": F(Literal(type_name), True),
            "name": F(ToolName, True),
            "description": F(Description1024, True),
            "parameters": F(Arr(ToolParameter, max=20), default=list),
            **extra,
        }
    )


Tool = Union(
    "type",
    {
        "client_event": _tool("client_event"),
        "backend_rpc": _tool("backend_rpc", timeoutSeconds=F(Num(min=1, max=8), default=4)),
    },
)

livekit_fields = {
    "url": F(Str(min=1, max=2048, check=_public_url_check), True),
    "token": F(Str(min=1, max=2048), True),
    "roomName": F(Str(min=1, max=256), True),
    "agentIdentity": F(Str(min=1, max=256)),
}

Integration = Union(
    "type",
    {
        "elevenlabs": Obj(
            {
                "type": F(Literal("elevenlabs"), True),
                "signedUrl": F(Str(min=1, max=4096, check=_public_url_check), True),
            }
        ),
        "livekit": Obj({"type": F(Literal("livekit"), True), **livekit_fields}),
    },
)


def session_avatar(preset_ids: Iterable[str]) -> Union:
    return Union(
        "type",
        {
            "runway-preset": Obj(
                {
                    "type": F(Literal("runway-preset"), True),
                    "presetId": F(Enum(tuple(preset_ids)), True),
                }
            ),
            "custom": Obj({"type": F(Literal("custom"), True), "avatarId": F(Uuid(), True)}),
        },
    )


def avatar_voice(voice_ids: Iterable[str]) -> Union:
    return Union(
        "type",
        {
            "runway-live-preset": Obj(
                {
                    "type": F(Literal("runway-live-preset"), True),
                    "presetId": F(Enum(tuple(voice_ids)), True),
                }
            ),
            "custom": Obj({"type": F(Literal("custom"), True), "id": F(Uuid(), True)}),
        },
    )


# ---------------------------------------------------------------------------
# Query-string helpers (query values arrive as strings)


@dataclass
class QueryInt(Schema):
    min: int
    max: int

    def parse(self, value: Any, path: Path, issues: list[Issue]) -> Any:
        try:
            number = int(value, 10)
        except (TypeError, ValueError):
            issues.append(
                {
                    "code": "invalid_type",
                    "expected": "int",
                    "path": list(path),
                    "message": f"Invalid input: expected int, received {received(value)}",
                }
            )
            return INVALID
        return Num(self.min, self.max, integer=True).parse(number, path, issues)


@dataclass
class QueryDateTime(Schema):
    date_only: bool = False

    def parse(self, value: Any, path: Path, issues: list[Issue]) -> Any:
        parsed = parse_datetime(value, date_only=self.date_only) if isinstance(value, str) else None
        if parsed is None:
            fmt = "date" if self.date_only else "datetime"
            issues.append(
                {
                    "code": "invalid_format",
                    "format": fmt,
                    "path": list(path),
                    "message": f"Invalid ISO {fmt}",
                }
            )
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


Cursor = Str(min=1, max=1000)


def page_query(default_limit: int, **extra: F) -> Query:
    return Query(
        {"limit": F(QueryInt(1, 100), default=default_limit), "cursor": F(Cursor), **extra}
    )


def check_path_uuid(value: str, name: str = "id") -> str:
    """Malformed ids in paths are a 400, as for any Zod-validated path parameter."""
    if not UUID_RE.match(value):
        raise validation_error(
            "path",
            [
                {
                    "code": "invalid_format",
                    "format": "uuid",
                    "path": [name],
                    "message": "Invalid UUID",
                }
            ],
        )
    return value.lower()
