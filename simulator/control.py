"""The test control plane under /_simulator/ (never under /v1/): drive sessions the way
a browser would, inject faults and failures, move a FakeClock, inspect and reset
state. JSON in and out, no auth."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .app import SimulatorApp, json_response
from .errors import ApiError
from .routes_v1 import json_body, path_id, sim
from .validation import MISSING, Any_, Arr, Bool, Enum, F, Nullable, Num, Obj, Str, validate

TRANSCRIPT_ENTRY = Obj(
    {
        "role": F(Enum(("user", "assistant")), True),
        "content": F(Nullable(Str(max=100_000)), True),
        "toolCalls": F(Arr(Any_())),
        "toolResults": F(Arr(Any_())),
    }
)
LEAVE = Obj({"transcript": F(Arr(TRANSCRIPT_ENTRY, max=10_000))})
FAIL = Obj(
    {
        "failureCode": F(Str(min=1, max=200), default="INTERNAL"),
        "failure": F(Str(min=1, max=2000), default="The session failed (simulated)."),
    }
)
PROVISIONING_FAILURES = Obj(
    {
        "failureCode": F(Str(min=1, max=200), True),
        "failure": F(Str(min=1, max=2000), default="Provisioning failed (simulated)."),
        "count": F(Num(min=1, max=10_000, integer=True), default=1),
    }
)
PROCESSING_FAILURES = Obj(
    {
        "failureReason": F(Str(min=1, max=2000), True),
        "count": F(Num(min=1, max=10_000, integer=True), default=1),
    }
)
FAULT = Obj(
    {
        "method": F(Str(min=1, max=10), default="*"),
        "path": F(Str(min=1, max=2000), True),
        "status": F(Nullable(Num(min=100, max=599, integer=True)), default=None),
        "retryAfter": F(Nullable(Num(min=0, max=3600)), default=None),
        "latency": F(Num(min=0, max=60), default=0.0),
        "drop": F(Bool(), default=False),
        "count": F(Num(min=1, max=1_000_000, integer=True), default=1),
        "body": F(Any_(), default=None),
    }
)
ADVANCE = Obj({"seconds": F(Num(min=0), True)})


async def control_body(request: Request, schema: Obj) -> dict[str, Any]:
    """Control-plane bodies are optional: an empty body means "all defaults"."""
    body = await json_body(request)
    return validate(schema, {} if body is MISSING else body)


async def join(request: Request) -> Response:
    return json_response(sim(request).join(path_id(request)))


async def leave(request: Request) -> Response:
    body = await control_body(request, LEAVE)
    return json_response(sim(request).leave(path_id(request), body.get("transcript")))


async def fail(request: Request) -> Response:
    body = await control_body(request, FAIL)
    return json_response(
        sim(request).fail_session(path_id(request), body["failureCode"], body["failure"])
    )


async def provisioning_failures(request: Request) -> Response:
    body = await control_body(request, PROVISIONING_FAILURES)
    pending = sim(request).add_provisioning_failures(
        body["failureCode"], body["failure"], body["count"]
    )
    return json_response({"pending": pending})


async def avatar_failures(request: Request) -> Response:
    body = await control_body(request, PROCESSING_FAILURES)
    return json_response(
        {"pending": sim(request).add_avatar_failures(body["failureReason"], body["count"])}
    )


async def voice_failures(request: Request) -> Response:
    body = await control_body(request, PROCESSING_FAILURES)
    return json_response(
        {"pending": sim(request).add_voice_failures(body["failureReason"], body["count"])}
    )


async def add_fault(request: Request) -> Response:
    body = await control_body(request, FAULT)
    if body["status"] is None and not body["drop"] and not body["latency"]:
        raise ApiError(400, "A fault needs a status, drop: true, or a latency")
    fault = request.app.faults.add(
        method=body["method"],
        path=body["path"],
        status=body["status"],
        retry_after=body["retryAfter"],
        latency=body["latency"],
        drop=body["drop"],
        count=body["count"],
        body=body["body"],
    )
    return json_response({"id": fault.id, "fault": fault.to_wire()})


async def list_faults(request: Request) -> Response:
    return json_response(
        {"faults": request.app.faults.to_wire(), "fired": dict(request.app.faults.fired)}
    )


async def clear_faults(request: Request) -> Response:
    request.app.faults.clear()
    return json_response({"faults": []})


async def advance_clock(request: Request) -> Response:
    body = await control_body(request, ADVANCE)
    clock = sim(request).clock
    advance = getattr(clock, "advance", None)  # FakeClock, or any duck-typed clock that can move
    if not callable(advance):
        raise ApiError(
            409, "The simulator runs on a real clock; start it with a FakeClock to advance time"
        )
    advance(body["seconds"])
    return json_response({"now": clock.now()})


async def reset(request: Request) -> Response:
    sim(request).reset()
    request.app.faults.clear()
    return json_response({"reset": True})


async def state(request: Request) -> Response:
    return json_response(sim(request).snapshot())


async def get_config(request: Request) -> Response:
    return json_response(sim(request).config.to_dict())


async def set_config(request: Request) -> Response:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise ApiError(400, "Expected a JSON object of SimConfig fields")
    try:
        config = sim(request).update_config(body)
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    return json_response(config.to_dict())


CONTROL_ROUTES = [
    Route("/_simulator/sessions/{id}/join", join, methods=["POST"]),
    Route("/_simulator/sessions/{id}/leave", leave, methods=["POST"]),
    Route("/_simulator/sessions/{id}/fail", fail, methods=["POST"]),
    Route("/_simulator/provisioning-failures", provisioning_failures, methods=["POST"]),
    Route("/_simulator/avatar-failures", avatar_failures, methods=["POST"]),
    Route("/_simulator/voice-failures", voice_failures, methods=["POST"]),
    Route("/_simulator/faults", add_fault, methods=["POST"]),
    Route("/_simulator/faults", list_faults, methods=["GET"]),
    Route("/_simulator/faults", clear_faults, methods=["DELETE"]),
    Route("/_simulator/clock/advance", advance_clock, methods=["POST"]),
    Route("/_simulator/reset", reset, methods=["POST"]),
    Route("/_simulator/state", state, methods=["GET"]),
    Route("/_simulator/config", get_config, methods=["GET"]),
    Route("/_simulator/config", set_config, methods=["POST"]),
]


def register_control_routes(app: SimulatorApp) -> None:
    app.router.routes.extend(CONTROL_ROUTES)
