"""Reading JSON bodies safely: size, content type, shape, with errors in plain words."""

from __future__ import annotations

import json
from typing import TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from studio.errors import StudioError

MAX_BODY_BYTES = 64 * 1024  # the largest legitimate body (a personality of 10,000 chars) is ~40 KB
MAX_NESTING = 16  # our bodies nest three deep; deeper JSON only serves to exhaust the parser

Model = TypeVar("Model", bound=BaseModel)


async def read_json(request: Request, model: type[Model], *, allow_empty: bool = False) -> Model:
    """Parse the request body into `model`, or raise a 4xx `StudioError` saying what is wrong."""
    raw = await _read_limited(request)
    if not raw.strip() and allow_empty:
        return model()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise StudioError("unsupported_media_type", "Send the body as JSON (Content-Type: application/json).", 415)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise StudioError("invalid_json", "The body is not valid UTF-8 JSON.", 400) from None
    if nesting_depth(text) > MAX_NESTING:
        raise StudioError("invalid_json", f"The body nests deeper than {MAX_NESTING} levels.", 400)
    try:
        data = json.loads(text)
    except ValueError:
        raise StudioError("invalid_json", "The body is not valid JSON.", 400) from None
    if not isinstance(data, dict):
        raise StudioError("invalid_request", "The body must be a JSON object.", 400)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise StudioError("invalid_request", describe(error), 400) from None


def nesting_depth(text: str) -> int:
    """How deep arrays and objects nest in JSON text (brackets inside strings do not count)."""
    if text.count("[") + text.count("{") <= MAX_NESTING:  # the usual body: nothing to scan
        return 0
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


async def _read_limited(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise StudioError("body_too_large", f"The body is larger than {MAX_BODY_BYTES // 1024} KB.", 413)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise StudioError("body_too_large", f"The body is larger than {MAX_BODY_BYTES // 1024} KB.", 413)
        chunks.append(chunk)
    return b"".join(chunks)


def describe(error: ValidationError) -> str:
    """The first problem of a pydantic error, in words a person can act on."""
    issue = error.errors()[0]
    field = ".".join(str(part) for part in issue["loc"]) or "body"
    kind, ctx = issue["type"], issue.get("ctx", {})
    if kind == "missing":
        return f"'{field}' is required."
    if kind == "extra_forbidden":
        return f"'{field}' is not a field this route accepts."
    if kind in ("string_too_short", "too_short"):
        return f"'{field}' must not be empty."
    if kind == "string_too_long":
        return f"'{field}' must be at most {ctx.get('max_length')} characters."
    if kind in ("too_long",):
        return f"'{field}' has too many items (at most {ctx.get('max_length')})."
    if kind in ("greater_than_equal", "less_than_equal"):
        return f"'{field}' must be between its limits: {issue['msg'].lower()}."
    if kind.endswith(("_type", "_parsing")):
        return f"'{field}' has the wrong type: {issue['msg'].lower()}."
    return f"'{field}': {issue['msg']}."
