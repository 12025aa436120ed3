"""The media half of a session: consume opens the session's loopback LiveKit room
(simulator/room) with a simulated character made from the session's avatar and mints the
room's one-time token; a cancel or a failure closes the room. The room reports its real
events back through the RoomHooks that SessionOps implements (on_join, on_end)."""

from __future__ import annotations

import time
from typing import Any, Protocol

from ..catalog import PRESET_AVATAR_VOICES
from ..errors import ApiError, not_found
from ..room.spec import CharacterSpec, RoomSpec
from .core import SimulatorCore
from .records import Avatar, Session

TOKEN_TTL = 3600.0  # seconds, as Runway's consumed LiveKit tokens
DEFAULT_VOICE = "clara"


class RoomPort(Protocol):
    """What the engine needs of ``simulator.room.RoomServer``."""

    def mint_token(self, room: str, identity: str, ttl: float = ...) -> str: ...

    def open_room(self, spec: RoomSpec) -> None: ...

    def close_room(self, name: str) -> None: ...


def room_name(session_id: str) -> str:
    return f"room-{session_id}"


def user_identity(session_id: str) -> str:
    return f"user:{session_id}"


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

    def _open_room(self, s: Session, now: float) -> str:
        """Open a consumed session's room (under the lock); the user's token for it."""
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
        return self.rooms.mint_token(name, user_identity(s.id), ttl=TOKEN_TTL)

    def _close_room(self, s: Session) -> None:
        if self.rooms is not None:
            self.rooms.close_room(room_name(s.id))

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
            )
        return CharacterSpec(
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
