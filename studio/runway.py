"""The one place that holds the Runway client.

Every call to Runway (or to the embedded simulator, which speaks the same API) goes through the
official `runwayml` SDK's `AsyncRunwayML`. SDK exceptions become `StudioError`s with plain words
and stable codes here, so no other module needs to know the SDK's exception classes.

Retry policy, call by call (the SDK sends no idempotency key):
- reads (GET) and DELETE are idempotent: the SDK's default two retries with backoff apply;
- session create is NOT retried: a retried POST whose first attempt reached Runway makes a second
  session, and every create counts toward the daily cap. The person's own "try again" is the retry;
- consume is NOT retried: credentials are one-time, so a retry after a lost answer always fails;
- avatar, document and voice writes are not retried either, for the same duplicate risk.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import runwayml
from runwayml import AsyncRunwayML

from studio.errors import StudioError
from studio.vocabulary import MODEL, PRESET_AVATARS, is_terminal

SDK_VERSION = runwayml.__version__
_REQUEST_TIMEOUT = httpx.Timeout(20.0, connect=5.0)

# Anything that looks like an API key, a session key or a bearer credential.
_SECRET = re.compile(r"(key_[0-9a-fA-F]{8,}|stk_[\w.-]+|Bearer\s+[\w.~+/=-]+)")
_SDK_LOGGERS = ("runwayml", "runwayml._base_client", "runwayml._response")


class RedactSecrets(logging.Filter):
    """Blank keys out of log records: the SDK's debug log prints request headers verbatim."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _SECRET.search(message):
            record.msg, record.args = _SECRET.sub("[redacted]", message), None
        return True


def redact_sdk_logs() -> None:
    for name in _SDK_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())


@dataclass(frozen=True)
class Upstream:
    """Where the API is and the key for it: Runway, or the local simulator (`simulated`)."""

    api_key: str = field(repr=False)
    base_url: str
    simulated: bool = False
    # Where the simulator serves preset voice samples and portraits (Runway's API has neither);
    # None live.
    preset_media: str | None = None


@dataclass(frozen=True)
class SessionSnapshot:
    """One poll of a realtime session, normalised across the SDK's per-status classes."""

    id: str
    status: str
    queued: bool = False
    session_key: str | None = field(default=None, repr=False)
    expires_at: datetime | None = None
    duration: int | None = None
    failure: str | None = None
    failure_code: str | None = None

    @property
    def terminal(self) -> bool:
        return is_terminal(self.status)


@dataclass(frozen=True)
class Credentials:
    """What the browser needs to join the LiveKit room; never contains the session key."""

    session_id: str
    server_url: str
    token: str = field(repr=False)
    room_name: str
    expires_at: datetime | None = None

    def as_json(self) -> dict[str, str]:
        body = {
            "sessionId": self.session_id,
            "serverUrl": self.server_url,
            "token": self.token,
            "roomName": self.room_name,
        }
        if self.expires_at:
            body["expiresAt"] = self.expires_at.isoformat().replace("+00:00", "Z")
        return body


@dataclass(frozen=True)
class TaskSnapshot:
    """One poll of an asynchronous task (an avatar video), normalised across the SDK's per-status
    classes: credits are the estimate while it runs and the final cost once it ends."""

    id: str
    status: str
    created_at: datetime | None = None
    progress: float | None = None
    estimated_credits: float | None = None
    cost_credits: float | None = None
    output: tuple[str, ...] = ()
    failure: str | None = None
    failure_code: str | None = None

    @property
    def terminal(self) -> bool:
        return self.status in TASK_TERMINAL


TASK_TERMINAL = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})


def avatar_reference(avatar_id: str) -> dict[str, str]:
    """The `avatar` object of a session create: a preset by id, anything else a custom avatar."""
    if avatar_id in PRESET_AVATARS:
        return {"type": "runway-preset", "presetId": avatar_id}
    return {"type": "custom", "avatarId": avatar_id}


class RunwayGateway:
    """Async access to the Runway API with errors translated to `StudioError`."""

    def __init__(self, api_key: str, base_url: str, *, timeout: httpx.Timeout = _REQUEST_TIMEOUT):
        self.base_url = base_url
        redact_sdk_logs()
        self._client = AsyncRunwayML(api_key=api_key, base_url=base_url, timeout=timeout)
        self._once = self._client.with_options(max_retries=0)

    async def close(self) -> None:
        await self._client.close()

    # Realtime sessions -------------------------------------------------------------------

    async def create_session(
        self,
        avatar_id: str,
        *,
        max_duration: int,
        personality: str | None = None,
        start_script: str | None = None,
        tools: list[dict[str, Any]] | None = None,
    ) -> str:
        extras: dict[str, Any] = {}
        if personality:
            extras["personality"] = personality
        if start_script:
            extras["start_script"] = start_script
        if tools:  # wire-shaped (camelCase) tool objects; the SDK passes them through as they are
            extras["tools"] = tools
        async with translate_errors():
            created = await self._once.realtime_sessions.create(
                model=MODEL, avatar=avatar_reference(avatar_id), max_duration=max_duration, **extras
            )
        return _required_text(created, "id")

    async def retrieve_session(self, session_id: str) -> SessionSnapshot:
        async with translate_errors():
            found = await self._client.realtime_sessions.retrieve(session_id)
        return SessionSnapshot(
            id=_required_text(found, "id"),
            status=_required_text(found, "status"),
            queued=bool(getattr(found, "queued", False)),
            session_key=getattr(found, "session_key", None),
            expires_at=getattr(found, "expires_at", None),
            duration=getattr(found, "duration", None),
            failure=getattr(found, "failure", None),
            failure_code=getattr(found, "failure_code", None),
        )

    async def cancel_session(self, session_id: str) -> None:
        """Cancel upstream; a session that already ended (404) counts as cancelled enough."""
        try:
            async with translate_errors():
                await self._client.realtime_sessions.delete(session_id)
        except StudioError as error:
            if error.code != "not_found":
                raise

    async def consume(self, session_id: str, session_key: str, expires_at: datetime | None) -> Credentials:
        """Exchange the one-time session key for LiveKit credentials (no SDK helper exists)."""
        async with translate_errors():
            answer = await self._once.post(
                f"/v1/realtime_sessions/{session_id}/consume",
                cast_to=object,
                body={},
                options={"headers": {"Authorization": f"Bearer {session_key}"}},
            )
        if not isinstance(answer, dict) or not all(answer.get(k) for k in ("url", "token", "roomName")):
            raise StudioError("consume_failed", "Runway returned incomplete call credentials.", 502)
        return Credentials(session_id, answer["url"], answer["token"], answer["roomName"], expires_at)

    async def connect_backend(self, session_id: str) -> dict[str, str]:
        """Room credentials `{url, token, roomName}` for a backend that answers the session's
        backend_rpc tools (no SDK method exists). Retried like a read: an answer lost on the way
        leaves nobody in the room, and a second call simply mints fresh credentials."""
        async with translate_errors():
            answer = await self._client.post(
                f"/v1/realtime_sessions/{session_id}/connect_backend", cast_to=object, body={})
        if not isinstance(answer, dict) or not all(isinstance(answer.get(k), str) and answer[k]
                                                   for k in ("url", "token", "roomName")):
            raise StudioError("connect_backend_failed", "Runway returned incomplete backend credentials.", 502)
        return {k: answer[k] for k in ("url", "token", "roomName")}

    async def simulator_use_tool(self, session_id: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Offline only (the simulator's control plane): make the character use a tool now."""
        async with translate_errors():
            answer = await self._once.post(
                f"/_simulator/sessions/{session_id}/tool_call", cast_to=object,
                body={"name": tool, "args": arguments, "wait": True})
        return answer if isinstance(answer, dict) else {}

    # Avatar videos and their tasks -----------------------------------------------------

    async def create_avatar_video(self, avatar_id: str, speech: dict[str, Any]) -> str:
        """Start rendering a clip; `speech` is the SDK's text or audio speech object. Not retried:
        a retried create whose first attempt reached Runway would render (and bill) twice."""
        async with translate_errors():
            created = await self._once.avatar_videos.create(
                model=MODEL, avatar=avatar_reference(avatar_id), speech=speech)  # type: ignore[arg-type]
        return _required_text(created, "id")

    async def retrieve_task(self, task_id: str) -> TaskSnapshot:
        async with translate_errors():
            found = await self._client.tasks.retrieve(task_id)
        estimated, cost = getattr(found, "estimated_cost", None), getattr(found, "cost", None)
        return TaskSnapshot(
            id=_required_text(found, "id"),
            status=_required_text(found, "status"),
            created_at=getattr(found, "created_at", None),
            progress=getattr(found, "progress", None),
            estimated_credits=getattr(estimated, "credits", None),
            cost_credits=getattr(cost, "credits", None),
            output=tuple(getattr(found, "output", None) or ()),
            failure=getattr(found, "failure", None),
            failure_code=getattr(found, "failure_code", None),
        )

    async def cancel_task(self, task_id: str) -> None:
        """Cancel a task that has not ended (Runway deletes one that has); 404 counts as done."""
        try:
            async with translate_errors():
                await self._client.tasks.delete(task_id)
        except StudioError as error:
            if error.code != "not_found":
                raise

    # Avatars, documents, voices, uploads -------------------------------------------------

    async def list_avatars(self) -> list[dict[str, Any]]:
        return await self._collect(self._client.avatars.list(limit=100))

    async def get_avatar(self, avatar_id: str) -> dict[str, Any]:
        async with translate_errors():
            return _plain(await self._client.avatars.retrieve(avatar_id))

    async def create_avatar(self, **fields: Any) -> dict[str, Any]:
        async with translate_errors():
            return _plain(await self._once.avatars.create(**fields))

    async def update_avatar(self, avatar_id: str, **fields: Any) -> dict[str, Any]:
        async with translate_errors():
            return _plain(await self._once.avatars.update(avatar_id, **fields))

    async def delete_avatar(self, avatar_id: str) -> None:
        async with translate_errors():
            await self._client.avatars.delete(avatar_id)

    async def upload(self, filename: str, data: bytes) -> str:
        """Upload bytes as an ephemeral asset and return its `runway://` URI."""
        async with translate_errors():
            uploaded = await self._once.uploads.create_ephemeral(file=(filename, data))
        return uploaded.uri

    async def list_documents(self) -> list[dict[str, Any]]:
        return await self._collect(self._client.documents.list(limit=100, sort="createdAt", order="desc"))

    async def get_document(self, document_id: str) -> dict[str, Any]:
        async with translate_errors():
            return _plain(await self._client.documents.retrieve(document_id))

    async def create_document(self, name: str, content: str) -> dict[str, Any]:
        async with translate_errors():
            return _plain(await self._once.documents.create(name=name, content=content))

    async def update_document(self, document_id: str, **fields: Any) -> None:
        async with translate_errors():
            await self._once.documents.update(document_id, **fields)

    async def delete_document(self, document_id: str) -> None:
        async with translate_errors():
            await self._client.documents.delete(document_id)

    async def list_voices(self) -> list[dict[str, Any]]:
        return await self._collect(self._client.voices.list(limit=100))

    async def get_voice(self, voice_id: str) -> dict[str, Any]:
        async with translate_errors():
            return _plain(await self._client.voices.retrieve(voice_id))

    async def create_voice(self, name: str, source: dict[str, Any], description: str | None = None) -> str:
        async with translate_errors():
            created = await self._once.voices.create(name=name, from_=source, description=description)
        return created.id

    async def delete_voice(self, voice_id: str) -> None:
        async with translate_errors():
            await self._client.voices.delete(voice_id)

    async def preview_voice(self, prompt: str, model: str = "eleven_multilingual_ttv_v2") -> dict[str, Any]:
        async with translate_errors():
            return _plain(await self._once.voices.preview(model=model, prompt=prompt))

    # History and account -----------------------------------------------------------------

    async def list_conversations(self, limit: int = 100) -> list[dict[str, Any]]:
        async with translate_errors():
            page = await self._client.avatar_conversations.list(limit=limit)
        return [_plain(item) for item in page.data]

    async def get_conversation(self, conversation_id: str) -> dict[str, Any]:
        async with translate_errors():
            return _plain(await self._client.avatar_conversations.retrieve(conversation_id))

    async def organization(self) -> dict[str, Any]:
        async with translate_errors():
            return _plain(await self._client.organization.retrieve())

    async def avatar_usage(self, start: datetime, end: datetime) -> dict[str, Any]:
        async with translate_errors():
            return _plain(await self._client.avatars.get_usage(start_date=start, end_date=end))

    async def _collect(self, pager: Any) -> list[dict[str, Any]]:
        async with translate_errors():
            return [_plain(item) async for item in pager]


def _required_text(answer: Any, name: str) -> str:
    """A field Runway always sends; its absence means an answer the studio cannot act on."""
    value = getattr(answer, name, None)
    if not isinstance(value, str) or not value:
        raise StudioError("upstream_invalid", f"Runway's answer had no '{name}'; the studio could not use it.", 502)
    return value


def _plain(model: Any) -> dict[str, Any]:
    """An SDK model as a plain dict with snake_case keys (what the rest of the studio reads)."""
    return model.model_dump() if hasattr(model, "model_dump") else dict(model)


@contextlib.asynccontextmanager
async def translate_errors() -> AsyncIterator[None]:
    try:
        yield
    except runwayml.RunwayMLError as error:
        raise map_error(error) from error


def upstream_message(error: runwayml.RunwayMLError) -> str:
    """The `error` text of Runway's JSON body, if there is one."""
    body = getattr(error, "body", None)
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return body["error"]
    return ""


def map_error(error: runwayml.RunwayMLError) -> StudioError:
    """Translate an SDK exception into plain words and a stable code."""
    detail = upstream_message(error)
    if isinstance(error, runwayml.APITimeoutError):
        return StudioError("upstream_timeout", "Runway did not answer in time. Try again in a moment.", 504)
    if isinstance(error, runwayml.APIConnectionError):
        return StudioError("upstream_unreachable", "Could not reach Runway. Check the network and try again.", 502)
    if isinstance(error, runwayml.AuthenticationError):
        return StudioError(
            "bad_api_key", "Runway rejected the API key. Check RUNWAYML_API_SECRET on the server.", 502
        )
    if isinstance(error, runwayml.PermissionDeniedError):
        return StudioError("permission_denied", f"Runway refused access. {detail}".strip(), 403)
    if isinstance(error, runwayml.NotFoundError):
        return StudioError("not_found", detail or "Runway has nothing with that id.", 404)
    if isinstance(error, runwayml.ConflictError):
        return StudioError("conflict", detail or "That change conflicts with the item's current state.", 409)
    if isinstance(error, runwayml.RateLimitError):
        if any(word in detail.lower() for word in ("daily", "quota", "per day")):
            return StudioError("daily_cap", "The Runway account has reached its daily session limit.", 429)
        return StudioError("rate_limited", "Runway is rate limiting requests. Wait a few seconds and try again.", 429)
    if isinstance(error, runwayml.InternalServerError):
        return StudioError("upstream_down", "Runway is having trouble right now. Try again in a minute.", 502)
    if isinstance(error, (runwayml.BadRequestError, runwayml.UnprocessableEntityError)):
        if "credit" in detail.lower():
            return StudioError("no_credits", "The Runway account has run out of credits.", 403)
        return StudioError("invalid_request", f"Runway refused the request: {detail or 'invalid input'}", 400)
    status = getattr(error, "status_code", None)
    return StudioError("upstream_error", f"Runway answered with an unexpected error ({status}).", 502)
