"""One room = one realtime session: its clients, the simulated character, data routing
between them, and the lifecycle (first join -> hooks.on_join; END_CALL, last client
gone, maxDuration or close -> end, then hooks.on_end). Hidden participants (the backend
that answers the character's RPC tool calls) neither start nor keep a call going, and the
other participants never hear of them."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Protocol

from aiortc.mediastreams import MediaStreamTrack
from google.protobuf.message import DecodeError
from livekit.protocol import models, rtc

from . import data, protocol
from .character import Character
from .media import FeedTrack
from .protocol import ParticipantState, TrackState, new_sid
from .spec import (
    CLOSED,
    END_CALL,
    LEFT,
    MAX_DURATION,
    RoomEnding,
    RoomHooks,
    RoomSettings,
    RoomSpec,
    call_hook,
)


class Client(Protocol):
    """What the room needs of a connected client (client.Client; no import: no cycle)."""

    participant: ParticipantState
    closed: bool

    @property
    def sid(self) -> str: ...

    @property
    def identity(self) -> str: ...

    async def send(self, response: rtc.SignalResponse) -> None: ...

    async def start(self) -> None: ...

    async def close(self, leave_reason: int | None = None) -> None: ...

    def deliver(self, label: str, payload: bytes) -> None: ...


log = logging.getLogger("simulator.room")
EPSILON = 1e-6


class Room:
    def __init__(
        self, spec: RoomSpec, settings: RoomSettings, hooks: RoomHooks, on_gone: Any
    ) -> None:
        self.spec = spec
        self.settings = settings
        self.hooks = hooks
        self._on_gone = on_gone
        self.sid = new_sid("RM_")
        self.created_at = time.time()
        self.clients: dict[str, Client] = {}
        self.character: Character | None = None
        self.joined_at: float | None = None  # monotonic time of the first join
        self.ended = False
        self.ending: RoomEnding | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.admitting = 0  # clients past the token check, not yet joined
        self._tasks: set[asyncio.Task[Any]] = set()
        self._sequence = 0

    @property
    def name(self) -> str:
        return self.spec.name

    def info(self) -> models.Room:
        return models.Room(
            sid=self.sid,
            name=self.name,
            empty_timeout=int(self.settings.departure_timeout),
            departure_timeout=int(self.settings.departure_timeout),
            max_participants=self.settings.max_clients + 1,
            creation_time=int(self.created_at),
            creation_time_ms=int(self.created_at * 1000),
            num_participants=len(self.clients) + 1,
            num_publishers=1 + sum(1 for c in self.clients.values() if c.participant.tracks),
        )

    def spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    @property
    def users(self) -> list[Client]:
        """The clients that make a call: every one but hidden participants."""
        return [c for c in self.clients.values() if not c.participant.hidden]

    def present(self, identity: str) -> bool:
        return any(c.identity == identity for c in self.clients.values())

    # ---------------------------------------------------------------- joining

    def wake(self) -> Character:
        """Make the character a participant (a hidden backend may join before any user)."""
        if self.character is None:
            self.loop = asyncio.get_running_loop()
            self.character = Character(
                self.spec.character, self.settings, self._from_character, self._speaking,
                present=self.present, on_tool_call=self._tool_called,
            )  # fmt: skip
            if self.joined_at is None:
                self.spawn(self._await_join(), "room-join-deadline")
        return self.character

    async def _await_join(self) -> None:
        """A room only hidden participants joined ends at its join deadline (the session
        failed for want of a user): nobody would ever send them away otherwise."""
        while self.joined_at is None and not self.ended:
            deadline = self.spec.join_deadline  # consume may move it: read it again each time
            if deadline is None:
                return
            if time.time() >= deadline:
                await self.end(CLOSED, notify=False)
                return
            await asyncio.sleep(min(1.0, deadline - time.time()))

    async def first_join(self) -> None:
        """Run hooks.on_join (may raise RoomRefused) and wake the character."""
        self.joined_at = time.monotonic()
        self.wake().start()
        await call_hook(self.hooks.on_join(self.spec.session_id))
        await self.character.prepare()
        self.spawn(self._expire(), "room-max-duration")

    async def add(self, client: Client) -> None:
        """Send the JoinResponse, tell the others, start the subscriber negotiation."""
        assert self.character is not None
        others = [self.character.participant.info()] + [
            c.participant.info() for c in self.clients.values() if not c.participant.hidden
        ]
        self.clients[client.sid] = client
        await client.send(
            protocol.join_response(self.settings, self.info(), client.participant, others)
        )
        await self.announce(client)
        await client.start()

    async def announce(self, client: Client) -> None:
        if client.participant.hidden:
            return
        update = protocol.update([client.participant.info()])
        for other in list(self.clients.values()):
            if other is not client:
                await other.send(update)

    def character_tracks(self) -> list[TrackState]:
        assert self.character is not None
        return [self.character.audio, self.character.video]

    def character_feed(self, kind: str, track_sid: str) -> FeedTrack:
        assert self.character is not None and self.character.clock is not None
        return self.character.clock.feed(kind, track_sid)

    def drop_feed(self, track: MediaStreamTrack) -> None:
        if self.character is not None and self.character.clock is not None:
            self.character.clock.drop_feed(track)
        else:
            track.stop()

    def on_client_ready(self, client: Client) -> None:
        if self.character is not None and not self.ended and not client.participant.hidden:
            self.character.greet()

    # ---------------------------------------------------------------- leaving and ending

    async def remove(self, client: Client) -> None:
        try:
            await client.close()
        finally:
            gone = self.clients.pop(client.sid, None) is not None
        if not gone:
            return
        if self.character is not None:
            self.character.actions.rpc.recipient_left(client.identity)
        if not client.participant.hidden:
            info = client.participant.info(models.ParticipantInfo.State.DISCONNECTED)
            for other in list(self.clients.values()):
                await other.send(protocol.update([info]))
        if self.joined_at is not None and not self.users and not self.ended and not self.admitting:
            if self.settings.departure_timeout > 0:
                self.spawn(self._depart(), "room-departure")
            else:
                await self.end(LEFT)

    async def _depart(self) -> None:
        await asyncio.sleep(self.settings.departure_timeout)
        if not self.users and not self.admitting:
            await self.end(LEFT)

    async def _expire(self) -> None:
        await asyncio.sleep(self.spec.max_duration)
        await self.end(MAX_DURATION)

    def duration(self) -> int:
        if self.joined_at is None:
            return 0
        elapsed = time.monotonic() - self.joined_at
        return int(min(self.spec.max_duration, elapsed) + EPSILON)

    async def end(self, reason: str, *, notify: bool = True) -> None:
        """End the room once: leave to every client, stop the character, then on_end."""
        if self.ended:
            return
        self.ended = True
        leave = (
            models.DisconnectReason.ROOM_CLOSED
            if reason != CLOSED
            else models.DisconnectReason.ROOM_DELETED
        )
        for client in list(self.clients.values()):
            await client.close(leave)
        self.clients.clear()
        current = asyncio.current_task()
        pending = [t for t in self._tasks if t is not current]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        transcript = list(self.character.transcript) if self.character else []
        if self.character is not None:
            await self.character.stop()
        self.ending = RoomEnding(reason, self.duration(), transcript)
        self._on_gone(self)
        if notify and self.joined_at is not None:
            try:
                await call_hook(self.hooks.on_end(self.spec.session_id, self.ending))
            except Exception:
                log.exception("RoomHooks.on_end failed for %s", self.spec.session_id)

    # ---------------------------------------------------------------- data

    def on_data(self, client: Client, raw: bytes) -> None:
        if (
            len(raw) > self.settings.max_data_bytes
            or self.ended
            or not client.participant.can_publish_data
        ):
            return
        try:
            packet = models.DataPacket.FromString(raw)
        except (DecodeError, RecursionError):
            return
        packet.participant_identity = client.identity
        packet.participant_sid = client.sid
        which = packet.WhichOneof("value")
        if which == "user":
            packet.user.participant_identity = client.identity
            packet.user.participant_sid = client.sid
            self._to_character(client, packet)
        elif which == "rpc_request" and self._for_character(packet):
            for answer in data.rpc_refusal(packet.rpc_request):
                answer.destination_identities.append(client.identity)
                self._from_character(answer)
        elif which in ("rpc_ack", "rpc_response") and self._for_character(packet):
            self.character.actions.rpc.on_packet(packet)  # an answer to the character's call
            return
        self._forward(packet, exclude=client)

    def _for_character(self, packet: models.DataPacket) -> bool:
        if self.character is None:
            return False
        return self.character.participant.identity in packet.destination_identities

    def _to_character(self, client: Client, packet: models.DataPacket) -> None:
        if self.character is None:
            return
        if packet.destination_identities and not self._for_character(packet):
            return
        incoming = data.read_user_packet(packet.user)
        if incoming.kind == "end_call":
            self.spawn(self.end(END_CALL), "room-end-call")
        elif incoming.kind == "user_text":
            self.character.heard_text(incoming.text)

    def _forward(self, packet: models.DataPacket, exclude: Client | None) -> None:
        wanted = set(packet.destination_identities)
        label = "_lossy" if packet.kind == models.DataPacket.Kind.LOSSY else "_reliable"
        payload = packet.SerializeToString()
        for other in list(self.clients.values()):
            if other is not exclude and (not wanted or other.identity in wanted):
                other.deliver(label, payload)

    def _from_character(self, packet: models.DataPacket) -> None:
        assert self.character is not None
        me = self.character.participant
        self._sequence += 1
        packet.participant_identity = me.identity
        packet.participant_sid = me.sid
        packet.sequence = self._sequence
        if packet.WhichOneof("value") == "user":
            packet.user.participant_identity = me.identity
            packet.user.participant_sid = me.sid
        self._forward(packet, exclude=None)

    # ---------------------------------------------------------------- tools

    async def call_tool(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        """Make the character use a tool now (the control plane); the call's record.

        Raises LookupError when nobody is in the call, KeyError for an undeclared tool.
        """
        if self.character is None or self.joined_at is None or self.ended:
            raise LookupError("the call has not started")
        return await self.character.request_tool(name, args, "control")

    def _tool_called(self, record: dict[str, Any]) -> None:
        report = getattr(self.hooks, "on_tool_call", None)
        if report is not None:
            result = report(self.spec.session_id, record)
            if asyncio.iscoroutine(result):
                self.spawn(result, "room-tool-report")

    def _speaking(self, active: bool) -> None:
        if self.character is None or self.ended:
            return
        speaker = models.SpeakerInfo(
            sid=self.character.participant.sid, level=0.6 if active else 0.0, active=active
        )
        message = rtc.SignalResponse(speakers_changed=rtc.SpeakersChanged(speakers=[speaker]))
        for client in list(self.clients.values()):
            self.spawn(client.send(message), "room-speakers")
