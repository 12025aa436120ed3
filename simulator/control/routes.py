"""The test control plane under /_simulator/ (never under /v1/): drive sessions the way
a browser would, inject faults and failures, move a FakeClock, inspect and reset
state. JSON in and out, no auth, not counted in the request counts."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..engine.clip_tasks import DEFAULT_FAILURE, DEFAULT_FAILURE_CODE
from ..errors import ApiError
from ..http import Endpoint, json_body, json_response, optional_body, path_id, sim
from ..validation import Any_, Arr, Bool, Enum, F, Nullable, Num, Obj, Str
from .faults import FaultBook
from .presets import PRESET_ROUTES

CONTROL_PREFIX = "/_simulator/"
FAILURE_CODE = Str(min=1, max=200)
FAILURE_TEXT = Str(min=1, max=2000)
FAILURE_COUNT = Num(min=1, max=10_000, integer=True)

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
        "failureCode": F(FAILURE_CODE, default="INTERNAL"),
        "failure": F(FAILURE_TEXT, default="The session failed (simulated)."),
    }
)
PROVISIONING_FAILURES = Obj(
    {
        "failureCode": F(FAILURE_CODE, True),
        "failure": F(FAILURE_TEXT, default="Provisioning failed (simulated)."),
        "count": F(FAILURE_COUNT, default=1),
    }
)
PROCESSING_FAILURES = Obj(
    {
        "failureReason": F(FAILURE_TEXT, True),
        "count": F(FAILURE_COUNT, default=1),
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
TASK_FAIL = Obj(
    {
        "failureCode": F(FAILURE_CODE, default=DEFAULT_FAILURE_CODE),
        "failure": F(FAILURE_TEXT, default=DEFAULT_FAILURE),
    }
)
TASK_FAILURES = Obj(
    {
        "failureCode": F(FAILURE_CODE, default=DEFAULT_FAILURE_CODE),
        "failure": F(FAILURE_TEXT, default=DEFAULT_FAILURE),
        "count": F(FAILURE_COUNT, default=1),
    }
)
ADVANCE = Obj({"seconds": F(Num(min=0), True)})
TOKEN = Obj(
    {
        "identity": F(Str(min=1, max=200)),
        "ttl": F(Num(min=-86_400, max=86_400), default=3600.0),  # negative: already expired
    }
)


TOOL_CALL = Obj(
    {
        "name": F(Str(min=1, max=64), True),
        "args": F(Any_(), default=dict),  # free-form: Runway's model may send anything
        "wait": F(Bool(), default=False),  # answer with the finished call's record
    }
)


def faults(request: Request) -> FaultBook:
    return request.app.faults


async def join(request: Request) -> Response:
    return json_response(sim(request).join(path_id(request)))


async def leave(request: Request) -> Response:
    body = await optional_body(request, LEAVE)
    return json_response(sim(request).leave(path_id(request), body.get("transcript")))


async def room_token(request: Request) -> Response:
    body = await optional_body(request, TOKEN)
    return json_response(
        sim(request).room_token(path_id(request), body.get("identity"), float(body["ttl"]))
    )


async def tool_call(request: Request) -> Response:
    """Make the character call one of its session tools now, with these arguments."""
    body = await optional_body(request, TOOL_CALL)
    if not isinstance(body["args"], dict):
        raise ApiError(400, "args must be a JSON object")
    session_id = path_id(request)
    pending = sim(request).call_tool(session_id, body["name"], body["args"])
    if not body["wait"]:
        return json_response({"sessionId": session_id, "tool": body["name"], "status": "started"})
    try:
        record = await asyncio.wrap_future(pending)
    except KeyError:
        raise ApiError(400, f"No tool named {body['name']!r}") from None
    except Exception as exc:  # noqa: BLE001 - the room ended, or the character was busy
        raise ApiError(409, f"The tool call did not finish: {exc or type(exc).__name__}") from None
    return json_response({"sessionId": session_id, "status": "done", "call": record})


async def fail(request: Request) -> Response:
    body = await optional_body(request, FAIL)
    return json_response(
        sim(request).fail_session(path_id(request), body["failureCode"], body["failure"])
    )


async def provisioning_failures(request: Request) -> Response:
    body = await optional_body(request, PROVISIONING_FAILURES)
    pending = sim(request).add_provisioning_failures(
        body["failureCode"], body["failure"], body["count"]
    )
    return json_response({"pending": pending})


async def avatar_failures(request: Request) -> Response:
    body = await optional_body(request, PROCESSING_FAILURES)
    return json_response(
        {"pending": sim(request).add_avatar_failures(body["failureReason"], body["count"])}
    )


async def voice_failures(request: Request) -> Response:
    body = await optional_body(request, PROCESSING_FAILURES)
    return json_response(
        {"pending": sim(request).add_voice_failures(body["failureReason"], body["count"])}
    )


async def fail_task(request: Request) -> Response:
    """Fail an avatar video task now, with Runway-style failure fields."""
    body = await optional_body(request, TASK_FAIL)
    return json_response(
        sim(request).fail_task(path_id(request), body["failureCode"], body["failure"])
    )


async def task_failures(request: Request) -> Response:
    """The next ``count`` avatar video tasks fail when they finish running."""
    body = await optional_body(request, TASK_FAILURES)
    pending = sim(request).add_task_failures(body["failureCode"], body["failure"], body["count"])
    return json_response({"pending": pending})


async def add_fault(request: Request) -> Response:
    body = await optional_body(request, FAULT)
    if body["status"] is None and not body["drop"] and not body["latency"]:
        raise ApiError(400, "A fault needs a status, drop: true, or a latency")
    fault = faults(request).add(
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
    book = faults(request)
    return json_response({"faults": book.to_wire(), "fired": dict(book.fired)})


async def clear_faults(request: Request) -> Response:
    faults(request).clear()
    return json_response({"faults": []})


async def advance_clock(request: Request) -> Response:
    body = await optional_body(request, ADVANCE)
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
    faults(request).clear()
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


def control_route(path: str, endpoint: Endpoint, method: str) -> Route:
    return Route(CONTROL_PREFIX + path, endpoint, methods=[method])


CONTROL_ROUTES = [
    control_route("sessions/{id}/join", join, "POST"),
    control_route("sessions/{id}/leave", leave, "POST"),
    control_route("sessions/{id}/fail", fail, "POST"),
    control_route("sessions/{id}/token", room_token, "POST"),
    control_route("sessions/{id}/tool_call", tool_call, "POST"),
    control_route("provisioning-failures", provisioning_failures, "POST"),
    control_route("avatar-failures", avatar_failures, "POST"),
    control_route("voice-failures", voice_failures, "POST"),
    control_route("tasks/{id}/fail", fail_task, "POST"),
    control_route("task-failures", task_failures, "POST"),
    control_route("faults", add_fault, "POST"),
    control_route("faults", list_faults, "GET"),
    control_route("faults", clear_faults, "DELETE"),
    control_route("clock/advance", advance_clock, "POST"),
    control_route("reset", reset, "POST"),
    control_route("state", state, "GET"),
    control_route("config", get_config, "GET"),
    control_route("config", set_config, "POST"),
    *PRESET_ROUTES,  # voice samples and portraits of the presets
]
