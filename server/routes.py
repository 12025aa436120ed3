"""JSON routes: the session route the browser SDK calls, the ledger, browser timings, health.

Every failure is JSON `{"error": "<plain words>", "code": "<stable_code>"}` with a fitting status.
No response ever carries the API key or a session key.
"""

from __future__ import annotations

import asyncio
import contextlib
import platform
import re
import time
from typing import Annotated, Any, Literal

import gradio
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr
from starlette.routing import Match

from server.auth import Access
from server.validation import read_json
from studio import __version__
from studio.calls.broker import REQUEST_ID, SessionRequest
from studio.catalog.media import image_type, placeholder_svg
from studio.catalog.presets import PRESET_SAMPLE_MISSING
from studio.core import Studio
from studio.errors import StudioError
from studio.runway import SDK_VERSION
from studio.vocabulary import (
    CALL_SECONDS_MAX,
    CALL_SECONDS_MIN,
    COMPLETED,
    PERSONALITY_MAX,
    PRESET_AVATARS,
    START_SCRIPT_MAX,
    TERMINAL,
    VOICE_PRESETS,
    WAITING,
    explain_failure,
    status_label,
)

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
_DISCONNECT_CHECK = 0.25
# The browser reports its last moments (and its transcript) just after a call ends; later
# reports on an ended session are refused.
EVENT_GRACE = 60.0


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class SessionBody(_Strict):
    avatarId: Annotated[StrictStr, Field(min_length=1, max_length=100)]
    personality: Annotated[StrictStr, Field(min_length=1, max_length=PERSONALITY_MAX)] | None = None
    startScript: Annotated[StrictStr, Field(min_length=1, max_length=START_SCRIPT_MAX)] | None = None
    maxDuration: Annotated[StrictInt, Field(ge=CALL_SECONDS_MIN, le=CALL_SECONDS_MAX)] | None = None
    requestId: Annotated[StrictStr, Field(min_length=8, max_length=64)] | None = None
    wait: StrictBool | None = None  # all call slots in use: wait in line instead of a refusal
    # Tools of the character this call goes without (their names, or "*" for all of them).
    toolsOff: Annotated[list[Annotated[StrictStr, Field(min_length=1, max_length=64)]],
                        Field(max_length=50)] | None = None


class TranscriptLine(_Strict):
    role: Literal["user", "assistant"]
    content: Annotated[StrictStr, Field(max_length=10_000)]


class EventBody(_Strict):
    event: Literal["connected", "first_frame", "ended", "error"]
    at: StrictFloat | StrictInt | None = None
    detail: Annotated[StrictStr, Field(max_length=2_000)] | None = None
    transcript: Annotated[list[TranscriptLine], Field(max_length=500)] | None = None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StudioError)
    async def studio_error(_: Request, error: StudioError) -> JSONResponse:
        return JSONResponse(error.as_json(), status_code=error.status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {"msg": "invalid request"}
        return JSONResponse({"error": f"Invalid request: {first['msg']}", "code": "invalid_request"}, 400)


def caller_id(studio: Studio, request: Request) -> str:
    """The anonymised id of whoever sent `request` (see `Studio.caller_id` for proxies)."""
    peer = request.client.host if request.client else None
    return studio.caller_id(peer, request.headers.get("x-forwarded-for"))


def build_router(studio: Studio, access: Access) -> APIRouter:
    """Every /api route, behind sign-in when it is on; unknown /api paths answer in JSON last."""
    router = APIRouter(dependencies=[Depends(access.require)])
    for add_routes in (_call_routes, _ledger_routes, _media_routes, _fallback_route):
        add_routes(router, studio)
    return router


def _call_routes(router: APIRouter, studio: Studio) -> None:
    """Starting a call, following its progress, and cancelling it."""

    @router.post("/api/avatar/session")
    async def create_session(request: Request) -> dict[str, str]:
        body = await read_json(request, SessionBody)
        session_request = _session_request(studio, body)
        client = caller_id(studio, request)
        credentials = await _unless_caller_leaves(request, studio.broker.start(session_request, client))
        return credentials.as_json()

    @router.get("/api/calls/{request_id}")
    async def call_progress(request_id: str, request: Request) -> dict[str, Any]:
        row = _row_or_404(studio, request_id, request) if REQUEST_ID.match(request_id) else None
        if row is None or row["request_id"] != request_id:
            raise StudioError("not_found", "No call with that request id.", 404)
        return _progress(row, studio)

    @router.post("/api/sessions/{session_id}/cancel")
    async def cancel_session(session_id: str, request: Request) -> dict:
        row = _row_or_404(studio, session_id, request)
        return await studio.broker.cancel(row["request_id"])


def _ledger_routes(router: APIRouter, studio: Studio) -> None:
    """The ledger as JSON, and the moments the browser reports."""

    @router.get("/api/sessions")
    async def list_sessions(request: Request, status: str | None = None, avatar: str | None = None,
                            limit: int = 100) -> dict:
        if not 1 <= limit <= 1000:
            raise StudioError("invalid_request", "'limit' must be between 1 and 1000.", 400)
        statuses = [s.strip().upper() for s in status.split(",")] if status else None
        rows = studio.ledger.list(status=statuses, avatar=avatar, limit=limit,
                                  client_id=visitor_scope(studio, request))
        return {"sessions": rows}

    @router.get("/api/sessions/{session_id}")
    async def get_session(session_id: str, request: Request) -> dict:
        row = _row_or_404(studio, session_id, request)
        return row | {"events": studio.ledger.events(row["request_id"])}

    @router.post("/api/sessions/{session_id}/events", status_code=204)
    async def report_event(session_id: str, request: Request) -> Response:
        row = _row_or_404(studio, session_id, request)
        body = await read_json(request, EventBody)
        now = studio.clock.now()
        if row["ended_at"] is not None and now - row["ended_at"] > EVENT_GRACE:
            raise StudioError("session_ended", "This session has ended; it takes no more reports.", 409)
        # The browser's clock may drift; keep its time only when it is plausible.
        at = float(body.at) if body.at is not None and abs(body.at - now) < 300 else now
        transcript = [line.model_dump() for line in body.transcript] if body.transcript else None
        studio.ledger.record_client_event(row["request_id"], body.event, at, body.detail, transcript)
        return Response(status_code=204)


def _media_routes(router: APIRouter, studio: Studio) -> None:
    @router.get("/api/avatars/{avatar_id}/image")
    async def avatar_image(avatar_id: str) -> Response:
        """The character's picture, served by the studio (presets get a generated card)."""
        if avatar_id in PRESET_AVATARS:
            portrait = await studio.presets.portrait(avatar_id)
            if portrait and image_type(portrait):  # the simulator draws presets; Runway has no image
                return Response(portrait, media_type=image_type(portrait),
                                headers={"Cache-Control": "max-age=86400"})
            return Response(placeholder_svg(PRESET_AVATARS[avatar_id]), media_type="image/svg+xml",
                            headers={"Cache-Control": "max-age=86400"})
        if not UUID.match(avatar_id):
            raise StudioError("unknown_avatar", "Unknown character.", 404)
        avatar = await studio.gateway.get_avatar(avatar_id)
        url = avatar.get("processed_image_uri") or avatar.get("reference_image_uri")
        if not url:
            raise StudioError("image_unavailable", "This character has no image yet.", 404)
        data = await studio.media.get(url, f"avatar:{avatar_id}:{url}")
        kind = image_type(data) if data else None
        if kind is None:
            raise StudioError("image_unavailable", "The character's image is not available.", 502)
        return Response(data, media_type=kind, headers={"Cache-Control": "max-age=300"})


    @router.get("/api/voices/{voice_id}/sample")
    async def voice_sample(voice_id: str) -> Response:
        """What a voice sounds like: a preset's sample (the simulator's; Runway has none) or a
        custom voice's preview, served by the studio."""
        if voice_id in VOICE_PRESETS:
            data = await studio.presets.voice_sample(voice_id)
            if not data:
                raise StudioError("sample_unavailable", PRESET_SAMPLE_MISSING, 404)
        elif UUID.match(voice_id):
            data = await studio.voices.voice_preview_audio(voice_id)
            if not data:
                raise StudioError("sample_unavailable", "This voice has no preview yet.", 404)
        else:
            raise StudioError("unknown_voice", "Unknown voice.", 404)
        kind = "audio/wav" if data[:4] == b"RIFF" else "audio/mpeg"
        return Response(data, media_type=kind, headers={"Cache-Control": "max-age=3600"})


def _fallback_route(router: APIRouter, studio: Studio) -> None:
    @router.api_route("/api/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                      include_in_schema=False)
    async def unknown_api_route(request: Request, rest: str) -> None:
        """Answer unknown /api paths here, in JSON, instead of letting the Gradio mount at "/" do it."""
        for route in router.routes:
            if route.matches(request.scope)[0] == Match.PARTIAL:
                raise StudioError("method_not_allowed", f"{request.method} is not allowed on this route.", 405)
        raise StudioError("not_found", "No such route.", 404)


def build_health_router(studio: Studio) -> APIRouter:
    router = APIRouter()
    cache: dict[str, Any] = {}

    @router.get("/healthz")
    async def healthz() -> dict[str, Any]:
        if cache.get("until", 0) < time.monotonic():
            cache.update(upstream=await _probe_upstream(studio), until=time.monotonic() + 10)
        return {
            "status": "ok",
            "mode": studio.mode,
            "versions": {"studio": __version__, "gradio": gradio.__version__,
                         "runwayml": SDK_VERSION, "python": platform.python_version()},
            "upstream": cache["upstream"],
        }

    return router


async def _probe_upstream(studio: Studio) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        await studio.gateway.organization()
    except StudioError as error:
        return {"ok": False, "error": error.message, "code": error.code}
    return {"ok": True, "latencyMs": round((time.perf_counter() - started) * 1000, 1)}


def _session_request(studio: Studio, body: SessionBody) -> SessionRequest:
    avatar_id = body.avatarId.strip()
    if avatar_id not in PRESET_AVATARS and not UUID.match(avatar_id):
        raise StudioError(
            "unknown_avatar",
            "Unknown character: use a preset id (such as 'music-superstar') or a custom avatar's UUID.",
            404,
        )
    if body.requestId is not None and not REQUEST_ID.match(body.requestId):
        raise StudioError("invalid_request", "'requestId' may use letters, digits, '-' and '_' only.", 400)
    extra: dict[str, Any] = {"request_id": body.requestId} if body.requestId else {}
    if body.wait:
        extra["wait"] = True
    return SessionRequest(
        avatar_id=avatar_id,
        max_duration=body.maxDuration or studio.settings.default_max_duration,
        personality=body.personality,
        start_script=body.startScript,
        tools_off=tuple(body.toolsOff or ()),
        **extra,
    )


async def _unless_caller_leaves(request: Request, work: Any) -> Any:
    """Run `work`, cancelling it (and so the session upstream) if the caller disconnects."""
    task = asyncio.ensure_future(work)
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=_DISCONNECT_CHECK)
            if not task.done() and await request.is_disconnected():
                task.cancel()
        return task.result()
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, StudioError):
                await task


def visitor_scope(studio: Studio, request: Request) -> str | None:
    """In a public demo a visitor sees only their own calls: the caller id to filter by."""
    return caller_id(studio, request) if studio.settings.public_demo else None


def _row_or_404(studio: Studio, any_id: str, request: Request) -> dict[str, Any]:
    """The ledger row, if it exists and this visitor may see it (another's call is not found)."""
    row = studio.ledger.get(any_id) if len(any_id) <= 64 else None
    scope = visitor_scope(studio, request)
    if row is None or (scope is not None and row["client_id"] != scope):
        raise StudioError("not_found", "The studio has no session with that id.", 404)
    return row


def _progress(row: dict[str, Any], studio: Studio) -> dict[str, Any]:
    """Where a call stands, for its card: from the line to the session's end and why it ended."""
    status = row["status"]
    progress = {"status": status_label(status, row["queued"]), "queued": row["queued"],
                "sessionId": row["session_id"], "ended": status in TERMINAL}
    if status == WAITING:
        progress["place"] = studio.ledger.place_in_line(row["request_id"], studio.clock.now())
    if row["failure_code"]:
        progress |= {"error": row["failure"], "code": row["failure_code"],
                     "reason": explain_failure(row["failure_code"], row["failure"])}
    elif status == COMPLETED:
        at_limit = row["duration"] is not None and row["max_duration"] and row["duration"] >= row["max_duration"] - 1
        progress["reason"] = "the time limit was reached" if at_limit else "it was ended elsewhere"
    return progress
