"""The media half of a session: consume opens the session's loopback LiveKit room
(simulator/room) with a simulated character made from the session's avatar and mints the
room's one-time token; a cancel or a failure closes the room. The room reports its real
events back through the RoomHooks that SessionOps implements (on_join, on_end) and
on_tool_call here.

``connect_backend`` hands a backend credentials for the same room as a hidden participant
(identity ``backend:<session id>``, data only): the character calls its ``backend_rpc``
tools there. Each call returns fresh credentials; the room holds one backend at a time
(a second join with the same identity is refused while the first is in)."""

from __future__ import annotations

import concurrent.futures
import time
from typing import Any, Protocol

from ..catalog import PRESET_AVATAR_VOICES
from ..errors import ApiError, not_found
from ..room.spec import CharacterSpec, RoomSpec, ToolSettings
from .core import SimulatorCore
from .records import READY, RUNNING, Avatar, Session

TOKEN_TTL = 3600.0  # seconds, as Runway's consumed LiveKit tokens
DEFAULT_VOICE = "clara"


class RoomPort(Protocol):
    """What the engine needs of ``simulator.room.RoomServer``."""

    def mint_token(
        self, room: str, identity: str, ttl: float = ..., *, hidden: bool = ...,
        can_publish: bool = ..., can_subscribe: bool = ...,
    ) -> str: ...  # fmt: skip

    def open_room(self, spec: RoomSpec) -> None: ...

    def close_room(self, name: str) -> None: ...

    def has_room(self, name: str) -> bool: ...

    def call_tool(
        self, name: str, tool: str, args: dict[str, Any]
    ) -> concurrent.futures.Future[dict[str, Any]]: ...


def room_name(session_id: str) -> str:
    return f"room-{session_id}"


def user_identity(session_id: str) -> str:
    return f"user:{session_id}"


def backend_identity(session_id: str) -> str:
    return f"backend:{session_id}"


def voice_id(voice: dict[str, Any]) -> str:
    """A preset's id; a custom voice's id (the room hashes unknown ids to a stable voice)."""
    return str(voice.get("presetId") or voice.get("id") or DEFAULT_VOICE)


class RoomOps(SimulatorCore):
    rooms: RoomPort | None = None  # attached by the app that serves the rooms (create_app)

    def attach_rooms(self, rooms: RoomPort) -> None:
        self.rooms = rooms

    def room_token(self, session_id: str, identity: str | None, ttl: float) -> dict[str, str]:
        """A token for a session's room minted on request (control plane): a second
        participant, or an expired or not-yet-valid token to test refusals."""
        with self._txn():
            if session_id not in self.sessions:
                raise not_found("Realtime session", session_id)
            if self.rooms is None:
                raise ApiError(409, "This simulator serves no rooms")
            name = room_name(session_id)
            token = self.rooms.mint_token(name, identity or user_identity(session_id), ttl=ttl)
            return {"token": token, "roomName": name}

    def connect_backend(self, session_id: str, room_url: str | None = None) -> dict[str, str]:
        """Credentials for the session's hidden backend participant (API-key authenticated)."""
        with self._txn() as now:
            s = self.sessions.get(session_id)
            if s is None:
                raise not_found("Realtime session", session_id)
            if s.status not in (READY, RUNNING):
                raise ApiError(
                    self._config.connect_backend_not_live_status,
                    f"Realtime session is {s.status}; a backend can join only a READY or "
                    "RUNNING session",
                )
            name = room_name(s.id)
            s.backend_connects += 1
            self._dirty = True
            if self.rooms is None:
                token = self._token_without_room(s, now)  # type: ignore[attr-defined]
                return {"url": self._config.consume_url(None), "token": token, "roomName": name}
            if not self.rooms.has_room(name):
                self._room_spec_open(s, now)
            token = self.rooms.mint_token(
                name, backend_identity(s.id), ttl=TOKEN_TTL,
                hidden=True, can_publish=False, can_subscribe=False,
            )  # fmt: skip
            return {"url": self._config.consume_url(room_url), "token": token, "roomName": name}

    def call_tool(
        self, session_id: str, name: str, args: dict[str, Any]
    ) -> concurrent.futures.Future[dict[str, Any]]:
        """Make the session's character use one of its tools now (control plane)."""
        with self._txn():
            s = self._session_record(session_id)
            if name not in {t["name"] for t in s.tools}:
                raise ApiError(400, f"Realtime session {session_id} has no tool named {name!r}")
            if s.status != RUNNING or self.rooms is None:
                raise ApiError(409, f"Cannot call a tool: session is {s.status}, not in a call")
            try:
                return self.rooms.call_tool(room_name(s.id), name, args)
            except LookupError as exc:
                raise ApiError(409, f"Cannot call a tool: {exc}") from None

    def on_tool_call(self, session_id: str, record: dict[str, Any]) -> None:
        """RoomHooks: the character finished a tool call; keep it for the state endpoint."""
        with self._txn():
            s = self.sessions.get(session_id)
            if s is not None:
                s.tool_calls.append(dict(record))
                self._dirty = True

    def _session_record(self, session_id: str) -> Session:
        s = self.sessions.get(session_id)
        if s is None:
            raise not_found("Realtime session", session_id)
        return s

    def _open_room(self, s: Session, now: float) -> str:
        """Open a consumed session's room (under the lock); the user's token for it."""
        assert self.rooms is not None
        name = self._room_spec_open(s, now)
        return self.rooms.mint_token(name, user_identity(s.id), ttl=TOKEN_TTL)

    def _room_spec_open(self, s: Session, now: float) -> str:
        """Open (or keep, with a new deadline) the session's room; its name."""
        assert self.rooms is not None
        name = room_name(s.id)
        due = self._session_due(s)  # the engine's own no-participant deadline, on its clock
        spec = RoomSpec(
            name=name,
            session_id=s.id,
            character=self._character(s),
            max_duration=float(s.max_duration),
            join_deadline=None if due is None else time.time() + (due - now),
        )
        self.rooms.open_room(spec)
        return name

    def _close_room(self, s: Session) -> None:
        if self.rooms is not None:
            self.rooms.close_room(room_name(s.id))

    def _tool_settings(self, s: Session, preset_voice: bool) -> ToolSettings:
        cfg = self._config
        return ToolSettings(
            backend_identity=backend_identity(s.id),
            client_events=preset_voice or not cfg.client_events_need_preset_voice,
            wrap_payload=cfg.rpc_payload_wrapped,
            ack_timeout=cfg.rpc_ack_timeout,
            missing_backend_waits=cfg.rpc_missing_backend_waits,
            event_echo=cfg.client_event_echo,
            speak_failures=cfg.tool_failure_speech,
            match_turns=cfg.tool_keyword_matching,
        )

    def _character(self, s: Session) -> CharacterSpec:
        """Who talks in the room: the session's overrides first, then its avatar's own."""
        avatar = self.avatars.get(s.avatar.get("avatarId", ""))
        if avatar is None:  # a preset (or a custom avatar deleted since the session began)
            voice = PRESET_AVATAR_VOICES.get(s.avatar.get("presetId", ""), DEFAULT_VOICE)
            return CharacterSpec(
                name=s.avatar_name,
                voice=voice,
                personality=s.personality,
                start_script=s.start_script,
                tools=tuple(s.tools),
                tool_settings=self._tool_settings(s, preset_voice=True),
            )
        return CharacterSpec(
            tools=tuple(s.tools),
            tool_settings=self._tool_settings(
                s, preset_voice=avatar.voice.get("type") == "runway-live-preset"
            ),
            name=avatar.name,
            image=self._processed_image(avatar),
            voice=voice_id(avatar.voice),
            personality=s.personality or avatar.personality,
            start_script=s.start_script or avatar.start_script,
            documents=tuple(
                self.documents[d].content for d in avatar.document_ids if d in self.documents
            ),
        )

    def _processed_image(self, avatar: Avatar) -> bytes | None:
        """The processed reference image; None (a generated portrait) for https references."""
        blob = self.files.get(avatar.image.processed_file or "")
        return blob.data if blob else None
