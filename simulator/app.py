"""The ASGI application: a FastAPI app whose outermost layer (the "gateway") counts
requests, fires injected faults and checks Runway's auth/version/content-type
headers before routing; the routes live in routes_v1.py and control.py."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import Receive, Scope, Send

from .clock import Clock
from .config import RUNWAY_VERSION, SimConfig
from .errors import ApiError
from .faults import Fault, FaultBook
from .state import Simulator

log = logging.getLogger("simulator")

API_KEY_RE = re.compile(r"^key_[0-9a-f]{128}$")
CONSUME_RE = re.compile(r"^/v1/realtime_sessions/[^/]+/consume$")
CONTROL_PREFIX = "/_simulator/"
_TEMPLATE_CACHE_LIMIT = 4096


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


class DroppedConnection(ConnectionAbortedError):
    """Raised when the server cannot reach its transport: the server then closes the
    connection or answers 500, which is the closest an ASGI app can get."""


async def drop_connection(send: Send) -> None:
    # uvicorn hands the app a bound ``RequestResponseCycle.send``; its transport lets us
    # close the socket without writing a single byte, which clients see as a
    # connection error (the SDK raises APIConnectionError).
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise DroppedConnection("fault injection: connection dropped")
    transport.abort()
    await asyncio.sleep(0)  # let connection_lost run so uvicorn does not try to answer


def route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def check_headers(scope: Scope, method: str, path: str, config: SimConfig) -> ApiError | None:
    """Runway's request-level checks for /v1: API key, version header, JSON content type."""
    if not CONSUME_RE.match(path):  # consume authenticates with the session key instead
        auth = header(scope, b"authorization")
        if not auth:
            return ApiError(401, "No API key provided. Send it as `Authorization: Bearer <key>`.")
        scheme, _, key = auth.partition(" ")
        key = key.strip()
        valid = scheme.lower() == "bearer" and (
            key == config.api_key if config.api_key else bool(API_KEY_RE.match(key))
        )
        if not valid:
            return ApiError(
                401,
                "Invalid API key. Check that it is a current key of your "
                "organization and that you are using api.dev.runwayml.com.",
            )
        if config.require_version_header:
            version = header(scope, b"x-runway-version")
            if version is None:
                return ApiError(
                    config.version_error_status,
                    f"The X-Runway-Version header is required. Use {RUNWAY_VERSION}.",
                )
            if version != RUNWAY_VERSION:
                return ApiError(
                    config.version_error_status,
                    f"API version {version!r} is not supported. Use {RUNWAY_VERSION}.",
                )
    if method in ("POST", "PATCH"):
        content_type = (header(scope, b"content-type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            return ApiError(400, "Incorrect content type")
    return None


class SimulatorApp(FastAPI):
    """FastAPI, with the gateway running before Starlette's middleware stack so that it
    still holds uvicorn's raw ``send`` (needed to drop connections)."""

    def __init__(self, simulator: Simulator, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.simulator = simulator
        self.faults = FaultBook()
        self._templates: dict[str, str] = {}

    def template_for(self, scope: Scope, method: str, path: str) -> str:
        """The route template (``/v1/avatars/{id}``) a request matches, cached by path."""
        key = f"{method} {path}"
        cached = self._templates.get(key)
        if cached is None:
            cached = f"{method} <unmatched>"
            for route in self.router.routes:
                match, _ = route.matches(scope)
                if match is not Match.NONE:
                    cached = f"{method} {getattr(route, 'path', path)}"
                    if match is Match.FULL:
                        break
            if len(self._templates) >= _TEMPLATE_CACHE_LIMIT:
                self._templates.clear()
            self._templates[key] = cached
        return cached

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        method: str = scope["method"]
        path = route_path(scope)
        if not path.startswith(CONTROL_PREFIX):
            # The control plane is not counted, so reading state never skews the counts.
            self.simulator.count_request(self.template_for(scope, method, path))
            fault = self.faults.take(method, path)
            if fault is not None and await self._fire(fault, send):
                return
            if path.startswith("/v1/"):
                error = check_headers(scope, method, path, self.simulator.config)
                if error is not None:
                    await send_json(send, error.status, error.body, error.headers)
                    return
        await super().__call__(scope, receive, send)

    async def _fire(self, fault: Fault, send: Send) -> bool:
        """Apply ``fault``; True if it answered (or dropped) the request itself."""
        if fault.latency > 0:
            await asyncio.sleep(fault.latency)
        if fault.drop:
            await drop_connection(send)
            return True
        if fault.status is not None:
            headers = {}
            if fault.retry_after is not None:
                headers["retry-after"] = _seconds(fault.retry_after)
            await send_json(send, fault.status, fault.error_body(), headers)
            return True
        return False  # latency only: process normally


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


async def _api_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return json_response(exc.body, exc.status, exc.headers)


async def _http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    messages = {404: "Not found", 405: "Method not allowed"}
    message = messages.get(exc.status_code, str(exc.detail))
    return json_response({"error": message}, exc.status_code, dict(exc.headers or {}))


async def _unexpected(_: Request, exc: Exception) -> Response:
    log.exception("simulator bug", exc_info=exc)
    return json_response({"error": "An internal error occurred in the simulator."}, 500)


def create_app(config: SimConfig | None = None, clock: Clock | None = None) -> SimulatorApp:
    """The simulator as a FastAPI app; ``app.state.simulator`` is the Simulator."""
    from .control import register_control_routes
    from .routes_v1 import register_v1_routes

    app = SimulatorApp(
        Simulator(config or SimConfig(), clock),
        title="Runway API simulator",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        redirect_slashes=False,
        # Per-request OpenTelemetry probing costs ~30 us; a simulator needs none.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.simulator = app.simulator
    app.state.faults = app.faults
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    register_v1_routes(app)
    register_control_routes(app)
    return app
