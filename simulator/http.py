"""HTTP plumbing shared by the /v1 handlers (api/), the control plane (control/) and the
gateway (app.py): reading requests, writing JSON responses, rendering errors."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope, Send

from .engine import Simulator
from .errors import ApiError
from .validation import MISSING, Query, Schema, check_path_uuid, validate

log = logging.getLogger("simulator")
Endpoint = Callable[[Request], Awaitable[Response]]

# ---------------------------------------------------------------------------- responses


def dumps(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps(data), status_code=status, headers=headers, media_type="application/json")


def empty_response(status: int = 204) -> Response:
    return Response(status_code=status)


async def send_json(
    send: Send, status: int, data: Any, headers: dict[str, str] | None = None
) -> None:
    """Answer directly at the ASGI level (used by the gateway, before any routing)."""
    body = dumps(data)
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


# ---------------------------------------------------------------------------- ASGI scopes


def route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


# ---------------------------------------------------------------------------- requests


def sim(request: Request) -> Simulator:
    return request.app.simulator


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def path_id(request: Request) -> str:
    return check_path_uuid(request.path_params["id"])


async def json_body(request: Request) -> Any:
    """The parsed JSON body; an empty body is Zod's ``undefined``."""
    raw = await request.body()
    if not raw.strip():
        return MISSING
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"Request body is not valid JSON: {exc}") from None


async def valid_body(request: Request, schema: Schema) -> dict[str, Any]:
    return validate(schema, await json_body(request))


async def optional_body(request: Request, schema: Schema) -> dict[str, Any]:
    """A body that may be left out: an empty body means "all defaults"."""
    body = await json_body(request)
    return validate(schema, {} if body is MISSING else body)


def query(request: Request, schema: Query) -> dict[str, Any]:
    return schema.validate(dict(request.query_params))


# ---------------------------------------------------------------------------- errors


async def api_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return json_response(exc.body, exc.status, exc.headers)


async def http_error(_: Request, exc: Exception) -> Response:
    """Starlette's 404/405 in Runway's ``{"error": ...}`` shape."""
    assert isinstance(exc, StarletteHTTPException)
    messages = {404: "Not found", 405: "Method not allowed"}
    message = messages.get(exc.status_code, str(exc.detail))
    return json_response({"error": message}, exc.status_code, dict(exc.headers or {}))


async def unexpected_error(_: Request, exc: Exception) -> Response:
    log.exception("simulator bug", exc_info=exc)
    return json_response({"error": "An internal error occurred in the simulator."}, 500)


ERROR_HANDLERS = {
    ApiError: api_error,
    StarletteHTTPException: http_error,
    Exception: unexpected_error,
}
