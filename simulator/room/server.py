"""RoomServer: the rooms, their tokens and the HTTP/WebSocket routes of LiveKit's client
signalling (``/rtc`` and ``/rtc/validate``; ``/rtc/v1`` answers 404, which makes
livekit-client fall back to ``/rtc``, the v0 dual-peer-connection protocol)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from . import ice
from .client import Client
from .protocol import ParticipantState, new_sid
from .room import Room
from .spec import CLOSED, LEFT, NoHooks, RoomHooks, RoomRefused, RoomSettings, RoomSpec
from .tokens import Grants, TokenError, mint_token, verify_token

log = logging.getLogger("simulator.room")

ROOM_NOT_FOUND = "requested room does not exist"
V1_NOT_SUPPORTED = "v1 signalling is not served here; use /rtc"
TOKEN_USED = "invalid authorization token: this one-time token has already been used"


# livekit-client reads /validate with a plain cross-origin fetch (the page is served elsewhere)
# and only a readable answer lets it fall back from /rtc/v1 to /rtc: allow any origin, as
# LiveKit's server does.
CORS = {"Access-Control-Allow-Origin": "*"}


def _validation(message: str, status: int = 200) -> PlainTextResponse:
    return PlainTextResponse(message, status, headers=CORS)


@dataclass(frozen=True)
class Refusal(Exception):
    status: int
    message: str


async def _settle(task: asyncio.Task[Any]) -> None:
    """Wait for a clean-up task, shielded from this handler's own cancellation. The room may
    cancel the task itself (it is ending and closes every client anyway): that is no error."""
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        if not task.cancelled():
            raise  # this handler was cancelled: the task runs on


def _token_of(scope_headers: Any, query: Any) -> str:
    token = query.get("access_token") or ""
    if not token:
        auth = scope_headers.get("authorization") or ""
        if auth.lower().startswith("bearer "):
            token = auth[7:].strip()
    return token


class RoomServer:
    """Serve LiveKit-compatible rooms with a simulated character in each.

    Thread-safe where the simulator calls it from request handlers (open_room,
    close_room, mint_token); everything else runs on the ASGI server's event loop.
    """

    def __init__(
        self, hooks: RoomHooks | None = None, settings: RoomSettings | None = None
    ) -> None:
        self.hooks: RoomHooks = hooks or NoHooks()
        self.settings = settings or RoomSettings()
        ice.use_addresses(self.settings.host_addresses)
        self._rooms: dict[str, Room] = {}
        self._used: dict[str, float] = {}  # one-time token id -> its expiry
        self._lock = threading.Lock()
        self.refused = 0

    # ---------------------------------------------------------------- simulator API

    def mint_token(
        self,
        room: str,
        identity: str,
        ttl: float = 3600.0,
        *,
        name: str = "",
        metadata: str = "",
        hidden: bool = False,
        can_publish: bool = True,
        can_subscribe: bool = True,
    ) -> str:
        return mint_token(
            self.settings.api_key, self.settings.api_secret,
            room=room, identity=identity, ttl=ttl, name=name, metadata=metadata,
            hidden=hidden, can_publish=can_publish, can_subscribe=can_subscribe,
        )  # fmt: skip

    def open_room(self, spec: RoomSpec) -> None:
        """Make ``spec.name`` joinable (replaces an unjoined room of that name; a room that
        only hidden participants joined so far is kept, with the new spec's deadline)."""
        with self._lock:
            self._purge()
            current = self._rooms.get(spec.name)
            if current is not None and (current.joined_at is not None or current.admitting):
                raise ValueError(f"room {spec.name} is already live")
            if current is not None and current.clients and not current.ended:
                current.spec = spec
                return
            self._rooms[spec.name] = Room(spec, self.settings, self.hooks, self._forget)

    def has_room(self, name: str) -> bool:
        with self._lock:
            room = self._rooms.get(name)
            return room is not None and not room.ended

    def call_tool(
        self, name: str, tool: str, args: dict[str, Any]
    ) -> concurrent.futures.Future[dict[str, Any]]:
        """Make the character of room ``name`` use ``tool`` now (thread-safe); the future
        gets the call's record. Raises LookupError when the room has no call going."""
        room = self.room(name)
        if room is None or room.ended or room.loop is None or room.joined_at is None:
            raise LookupError("the call has not started")
        return asyncio.run_coroutine_threadsafe(room.call_tool(tool, args), room.loop)

    def close_room(self, name: str, reason: str = CLOSED) -> None:
        """End a room without calling on_end (the simulator ended the session itself)."""
        with self._lock:
            room = self._rooms.pop(name, None)
        if room is None:
            return
        if room.loop is None:
            room.ended = True
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is room.loop:
            room.spawn(room.end(reason, notify=False), "room-close")
        else:
            room.loop.call_soon_threadsafe(
                lambda: room.spawn(room.end(reason, notify=False), "room-close")
            )

    async def aclose(self) -> None:
        """End every room (no hooks): call on shutdown, from the server's loop."""
        with self._lock:
            rooms = list(self._rooms.values())
            self._rooms.clear()
        for room in rooms:
            await room.end(CLOSED, notify=False)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            rooms = list(self._rooms.values())
        return {
            "rooms": len(rooms),
            "live": sum(1 for r in rooms if r.joined_at is not None and not r.ended),
            "clients": sum(len(r.clients) for r in rooms),
            "refused": self.refused,
        }

    def room(self, name: str) -> Room | None:
        with self._lock:
            return self._rooms.get(name)

    # ---------------------------------------------------------------- admission

    def _forget(self, room: Room) -> None:
        with self._lock:
            if self._rooms.get(room.name) is room:
                del self._rooms[room.name]

    def _purge(self) -> None:
        now = time.time()
        self._used = {k: v for k, v in self._used.items() if v > now - 60}
        for name, room in list(self._rooms.items()):
            deadline = room.spec.join_deadline
            if room.joined_at is None and deadline is not None and now > deadline:
                del self._rooms[name]
                if room.loop is not None:  # hidden participants wait in it: send them away
                    room.loop.call_soon_threadsafe(
                        lambda room=room: room.spawn(room.end(CLOSED, notify=False), "room-purge")
                    )

    def _check(self, token: str, *, claim: bool) -> tuple[Room, Grants]:
        """Verify the token against the rooms; with ``claim``, spend a one-time token."""
        try:
            grants = verify_token(token, self.settings.secrets)
        except TokenError as exc:
            raise Refusal(exc.status, str(exc)) from exc
        with self._lock:
            self._purge()
            if self.settings.one_time_tokens and grants.token_id in self._used:
                raise Refusal(401, TOKEN_USED)
            room = self._rooms.get(grants.room)
            if room is None or room.ended:
                raise Refusal(404, ROOM_NOT_FOUND)
            if len(room.clients) + room.admitting >= self.settings.max_clients:
                raise Refusal(403, "room is full")
            if any(c.identity == grants.identity for c in room.clients.values()):
                raise Refusal(403, "a participant with this identity is already in the room")
            if claim:
                if self.settings.one_time_tokens and grants.token_id:
                    self._used[grants.token_id] = grants.expires_at
                room.admitting += 1
        return room, grants

    # ---------------------------------------------------------------- routes

    def routes(self) -> list[BaseRoute]:
        return [
            WebSocketRoute("/rtc", self._rtc),
            Route("/rtc/validate", self._validate, methods=["GET"]),
            WebSocketRoute("/rtc/v1", self._rtc_v1),
            Route("/rtc/v1/validate", self._validate_v1, methods=["GET"]),
        ]

    def app(self) -> Starlette:
        """A standalone ASGI app serving only the room (tests, or its own port)."""
        return Starlette(routes=self.routes())

    async def _validate(self, request: Request) -> Response:
        try:
            self._check(_token_of(request.headers, request.query_params), claim=False)
        except Refusal as refusal:
            return _validation(refusal.message, refusal.status)
        return _validation("success")

    async def _validate_v1(self, request: Request) -> Response:
        return _validation(V1_NOT_SUPPORTED, 404)

    async def _rtc_v1(self, ws: WebSocket) -> None:
        await self._deny(ws, Refusal(404, V1_NOT_SUPPORTED))

    async def _deny(self, ws: WebSocket, refusal: Refusal) -> None:
        self.refused += 1
        if "websocket.http.response" in ws.scope.get("extensions", {}):
            await ws.send_denial_response(PlainTextResponse(refusal.message, refusal.status))
        else:
            await ws.close(code=1008, reason=refusal.message[:120])

    async def _rtc(self, ws: WebSocket) -> None:
        try:
            room, grants = self._check(_token_of(ws.headers, ws.query_params), claim=True)
        except Refusal as refusal:
            await self._deny(ws, refusal)
            return
        client: Client | None = None
        try:
            if grants.hidden:
                room.wake()  # no call yet: a hidden participant starts nothing
            elif room.joined_at is None:
                try:
                    await room.first_join()
                except Exception as exc:  # RoomRefused, or a failing hook: the join fails
                    if not isinstance(exc, RoomRefused):
                        log.exception("RoomHooks.on_join failed for %s", room.spec.session_id)
                    refusal = (
                        Refusal(404, str(exc) or ROOM_NOT_FOUND)
                        if isinstance(exc, RoomRefused)
                        else Refusal(500, "could not start the session")
                    )
                    await room.end(CLOSED, notify=False)
                    await self._deny(ws, refusal)
                    return
            if room.ended:
                await self._deny(ws, Refusal(404, ROOM_NOT_FOUND))
                return
            await ws.accept()
            client = Client(
                room,
                ws,
                self._participant(grants, ws),
                ws.query_params.get("auto_subscribe", "1") not in ("0", "false"),
            )
            room.admitting -= 1
            await room.add(client)
            await client.serve()
        finally:
            if client is None:
                room.admitting -= 1
                if room.joined_at is not None and not (room.users or room.admitting or room.ended):
                    # joined, then vanished before it was accepted: nobody is left
                    await _settle(room.spawn(room.end(LEFT), "room-abandoned"))
            else:  # shielded: a cancelled handler must still release the client
                await _settle(room.spawn(room.remove(client), "room-remove"))

    @staticmethod
    def _participant(grants: Grants, ws: WebSocket) -> ParticipantState:
        try:
            client_protocol = int(ws.query_params.get("client_protocol", "0"))
        except ValueError:
            client_protocol = 0
        return ParticipantState(
            sid=new_sid("PA_"), identity=grants.identity, name=grants.name, metadata=grants.metadata,
            hidden=grants.hidden, can_publish=grants.can_publish, can_subscribe=grants.can_subscribe,
            can_publish_data=grants.can_publish_data, attributes=dict(grants.attributes),
            client_protocol=max(0, min(client_protocol, 16)),
        )  # fmt: skip
