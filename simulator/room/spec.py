"""What the simulator tells the room (RoomSpec, CharacterSpec, RoomSettings) and what the
room tells the simulator back (RoomHooks, RoomEnding)."""

from __future__ import annotations

import inspect
import logging
import secrets
from dataclasses import dataclass, field
from typing import Any, Protocol

from .listen import TurnSettings

log = logging.getLogger("simulator.room")

# Why a room ended (RoomEnding.reason)
END_CALL = "end_call"  # the browser SDK sent {"type": "END_CALL"}
LEFT = "left"  # the last client left (leave request or closed connection)
MAX_DURATION = "max_duration"  # the session's maxDuration ran out
CLOSED = "closed"  # RoomServer.close_room / shutdown: the simulator ended it itself


@dataclass(frozen=True)
class ToolSettings:
    """How the character uses its session tools; each guess about Runway is a switch."""

    backend_identity: str = ""  # the hidden participant backend_rpc calls go to
    client_events: bool = True  # False: client events are refused (custom voice)
    wrap_payload: bool = True  # RPC payload {"args": {...}}; False: the bare args object
    ack_timeout: float = 7.0  # no RpcAck within this -> 1501 CONNECTION_TIMEOUT
    missing_backend_waits: bool = True  # no backend: the request times out; False: 1401 at once
    event_echo: bool = True  # after a client event, the {"status": "event_sent"} echo
    speak_failures: bool = True  # say that a tool failed; False: silence, as reported of Runway
    match_turns: bool = True  # typed user turns trigger tools by their keywords


@dataclass(frozen=True)
class CharacterSpec:
    """The simulated character: who it is, how it looks and sounds, what it knows."""

    name: str = "Avatar"
    identity: str = "worker:avatar"  # Runway's worker identities start with "worker:"
    image: bytes | None = None  # reference image (any Pillow format); None: generated portrait
    voice: str = "clara"  # a voice preset id; mapped to eSpeak pitch/rate
    personality: str | None = None  # instructions: shape replies, never spoken
    start_script: str | None = None  # said first; a short greeting when absent
    documents: tuple[str, ...] = ()  # knowledge documents (plain text)
    metadata: str = ""  # ParticipantInfo.metadata (JSON text)
    tools: tuple[dict[str, Any], ...] = ()  # the session's tools, as validated at create
    tool_settings: ToolSettings = field(default_factory=ToolSettings)


@dataclass(frozen=True)
class RoomSpec:
    """One room per realtime session, opened by the simulator at consume time."""

    name: str
    session_id: str
    character: CharacterSpec = field(default_factory=CharacterSpec)
    max_duration: float = 300.0  # seconds from the first join
    join_deadline: float | None = None  # epoch seconds; an unjoined room is dropped after it


@dataclass(frozen=True)
class RoomEnding:
    """Handed to RoomHooks.on_end once per room that was joined."""

    reason: str  # END_CALL | LEFT | MAX_DURATION | CLOSED
    duration: int  # whole seconds from the first join, capped at max_duration
    transcript: list[dict[str, Any]]  # [{"role": "assistant"|"user", "content": str}]


class RoomRefused(Exception):
    """Raised by RoomHooks.on_join to refuse the first client (e.g. the session ended)."""


class RoomHooks(Protocol):
    """The simulator's side. Either method may be sync or async; both run on the room's
    event loop, so keep them short. on_join runs before the first client is accepted and
    may raise RoomRefused; on_end runs once, after the last media is stopped."""

    def on_join(self, session_id: str) -> Any: ...

    def on_end(self, session_id: str, ending: RoomEnding) -> Any: ...

    # Optional: ``on_tool_call(session_id, call)`` receives each finished tool call (the
    # record Character.use_tool builds); hooks without it are not told.


class NoHooks:
    def on_join(self, session_id: str) -> None:
        return None

    def on_end(self, session_id: str, ending: RoomEnding) -> None:
        return None


async def call_hook(result: Any) -> Any:
    if inspect.isawaitable(result):
        return await result
    return result


@dataclass(frozen=True)
class RoomSettings:
    """Room-wide settings. ``ice_servers`` is handed to clients in the JoinResponse
    (e.g. a TURN server for a deployment behind NAT); loopback needs none."""

    api_key: str = "APIsimulator"
    api_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    ice_servers: tuple[dict[str, Any], ...] = ()  # {"urls": [...], "username", "credential"}
    host_addresses: tuple[str, ...] | None = ("127.0.0.1",)  # local ICE; None: every interface
    remote_networks: tuple[str, ...] | None = ("127.0.0.0/8", "::1/128")  # None: any address
    ping_interval: int = 5
    ping_timeout: int = 15
    max_message_bytes: int = 256 * 1024  # one signalling frame
    max_data_bytes: int = 64 * 1024  # one data packet
    max_tracks: int = 8  # published tracks per participant
    max_clients: int = 4  # clients per room (the character not counted)
    departure_timeout: float = 0.0  # grace period after the last client leaves
    video_width: int = 1088
    video_height: int = 704
    fps: int = 15
    server_version: str = "1.9.0"
    one_time_tokens: bool = True
    turns: TurnSettings = field(default_factory=TurnSettings)  # spoken-turn detection

    @property
    def secrets(self) -> dict[str, str]:
        return {self.api_key: self.api_secret}
