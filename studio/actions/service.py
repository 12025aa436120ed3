"""The studio's side of actions: which tools each session gets (the broker asks, per request),
and, for sessions with `backend_rpc` tools, the studio itself as their backend: once a session is
READY it fetches `connect_backend` credentials, joins the room with LiveKit's Python SDK
(`rpc_backend.RpcBackend`), answers each call as configured and records it; it leaves when the
room closes or the session's time is up."""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

import httpx

from studio import netguard
from studio.actions.answers import handler_for
from studio.actions.rpc_backend import RpcBackend, ToolCall
from studio.actions.store import ActionStore, SessionTools
from studio.actions.tools import BACKEND_RPC, CLIENT_EVENT
from studio.background import cancel_and_wait
from studio.calls.broker import ALL_TOOLS, SessionRequest
from studio.errors import StudioError

log = logging.getLogger(__name__)

LEAVE_GRACE = 30.0  # seconds past a session's maxDuration before its backend leaves regardless
_REMEMBERED = 1000  # requests whose maxDuration is kept until their session is READY


async def checked_address(url: str, *, allow_private: bool) -> str | None:
    """The address a forward connects to: the name resolved once, and refused when any of its
    addresses is loopback, private or otherwise internal (unless private URLs are allowed)."""
    target = httpx.URL(url)
    port = target.port or (443 if target.scheme == "https" else 80)
    if allow_private:
        return (await netguard.resolve(target.host, port))[0]
    if target.scheme != "https":
        raise StudioError("url_not_allowed", "Only https endpoints are called.", 400)
    return (await netguard.resolve_public(target.host, port))[0]


class Actions:
    def __init__(self, store: ActionStore, gateway: Any, clock: Any, *, allow_private: bool) -> None:
        self.store, self.gateway, self.clock = store, gateway, clock
        self.allow_private = allow_private
        self.backends: dict[str, RpcBackend] = {}
        self.backend_problems: dict[str, str] = {}  # session id → why its backend is not there
        self._max_durations: dict[str, int] = {}
        self._tasks: set[asyncio.Task] = set()

    # The broker's hooks ---------------------------------------------------------------------------

    def tools_for(self, request: SessionRequest) -> list[dict[str, Any]]:
        """The tools a request's session is created with, remembered for its backend."""
        if ALL_TOOLS in request.tools_off:
            given = SessionTools("", request.avatar_id, [])
        else:
            given = self.store.session_tools_for(request.avatar_id, request.tools_off)
        self.store.record_session_tools(request.request_id, given, self.clock.now())
        self._max_durations[request.request_id] = request.max_duration
        while len(self._max_durations) > _REMEMBERED:  # requests that never got READY
            self._max_durations.pop(next(iter(self._max_durations)))
        return given.tools

    def on_ready(self, request_id: str, session_id: str) -> None:
        """The session is READY: note its id and, if it has backend_rpc tools, join as backend."""
        self.store.attach_session(request_id, session_id)
        given = self.store.session_tools(request_id)
        max_duration = self._max_durations.pop(request_id, 1800)
        if given and given.backend_tools:
            self._spawn(self._serve(session_id, given, max_duration), f"tool-backend-{session_id}")

    # The backend ----------------------------------------------------------------------------------

    async def _serve(self, session_id: str, given: SessionTools, max_duration: int) -> None:
        check = functools.partial(checked_address, allow_private=self.allow_private)
        handlers = {t["name"]: handler_for(given.answers[t["name"]], t["name"], check)
                    for t in given.backend_tools if t["name"] in given.answers}
        closed = asyncio.Event()
        backend = RpcBackend(handlers, on_call=functools.partial(self._record, session_id),
                             on_client_event=functools.partial(self._record_event, session_id),
                             on_disconnect=closed.set)
        try:
            credentials = await self.gateway.connect_backend(session_id)
            await backend.join(credentials["url"], credentials["token"])
        except asyncio.CancelledError:  # the studio is stopping while the backend joins
            await asyncio.shield(backend.leave())
            raise
        except Exception as error:  # noqa: BLE001 - the call goes on; its RPC tools will fail
            message = error.message if isinstance(error, StudioError) else type(error).__name__
            log.warning("the studio could not join session %s as its tool backend: %s", session_id, message)
            self.backend_problems[session_id] = f"The studio could not answer this call's tools: {message}"
            await backend.leave()
            return
        self.backends[session_id] = backend
        try:
            await asyncio.wait_for(closed.wait(), max_duration + LEAVE_GRACE)
        except asyncio.TimeoutError:
            pass
        finally:
            self.backends.pop(session_id, None)
            await asyncio.shield(backend.leave())

    def _record(self, session_id: str, call: ToolCall) -> None:
        self.store.record_call(session_id, call.tool, BACKEND_RPC, call.arguments, answer=call.answer,
                               error=call.error, latency_ms=call.latency_ms,
                               at=self.clock.now() - call.latency_ms / 1000)

    def _record_event(self, session_id: str, tool: str, arguments: dict[str, Any]) -> None:
        self.store.record_call(session_id, tool, CLIENT_EVENT, arguments, at=self.clock.now())

    # Quality checks offline -----------------------------------------------------------------------

    async def use_tool(self, session_id: str, tool: str, arguments: dict[str, Any], *, simulated: bool) -> dict:
        """Make the simulated character use a tool now (the simulator's control plane only)."""
        if not simulated:
            raise StudioError("offline_only", "Only the simulated character can be told to use a tool.", 409)
        return await self.gateway.simulator_use_tool(session_id, tool, arguments)

    # Lifecycle ------------------------------------------------------------------------------------

    def _spawn(self, work: Any, name: str) -> None:
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Leave every room (the studio is stopping)."""
        for task in list(self._tasks):
            await cancel_and_wait(task)
