"""One connected client: its signalling WebSocket and its two aiortc peer connections
(LiveKit's v0 "dual PC" protocol: the room offers on the *subscriber* connection, which
carries the character's tracks and the room's data channels; the client offers on the
*publisher* connection, which carries its microphone/camera and its data channels)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from aiortc import RTCDataChannel, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rtcrtpsender import RTCRtpSender
from livekit.protocol import models, rtc
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from . import ice, protocol
from .listen import listen
from .protocol import ParticipantState, TrackState, new_sid
from .sdp import accept_simulcast

if TYPE_CHECKING:
    from .room import Room

log = logging.getLogger("simulator.room")

MAX_SDP = 64 * 1024
MAX_PENDING_CANDIDATES = 64
MAX_EARLY_PACKETS = 64
CLOSE_NORMAL, CLOSE_INVALID, CLOSE_TOO_BIG = 1000, 1007, 1009
TRACK_TYPES = {models.TrackType.AUDIO: "audio", models.TrackType.VIDEO: "video"}


class ClientGone(Exception):
    """The client left (leave request, closed socket, silence past the ping timeout)."""


class Client:
    def __init__(
        self, room: Room, ws: WebSocket, participant: ParticipantState, auto_subscribe: bool
    ) -> None:
        self.room = room
        self.ws = ws
        self.participant = participant
        self.auto_subscribe = auto_subscribe
        self.settings = room.settings
        self.filter = ice.RemoteFilter(self.settings.remote_networks)
        self.sub_pc: RTCPeerConnection | None = None
        self.pub_pc: RTCPeerConnection | None = None
        self.channels: dict[str, RTCDataChannel] = {}
        self.feeds: dict[str, tuple[MediaStreamTrack, RTCRtpSender]] = {}
        self._pending: dict[int, list[Any]] = {
            rtc.SignalTarget.PUBLISHER: [],
            rtc.SignalTarget.SUBSCRIBER: [],
        }
        self._early: list[tuple[str, bytes]] = []
        self._offer_id = 0
        self._send_lock = asyncio.Lock()
        self._negotiate_lock = asyncio.Lock()
        self._renegotiate = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self.closed = False
        self.refusals = 0  # malformed requests ignored

    @property
    def identity(self) -> str:
        return self.participant.identity

    @property
    def sid(self) -> str:
        return self.participant.sid

    def spawn(self, coro: Any, name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---------------------------------------------------------------- signalling out

    async def send(self, response: rtc.SignalResponse) -> None:
        if self.closed and not response.HasField("leave"):
            return
        async with self._send_lock:
            if self.ws.application_state != WebSocketState.CONNECTED:
                return
            try:
                await self.ws.send_bytes(response.SerializeToString())
            except (RuntimeError, OSError, WebSocketDisconnect):
                pass

    # ---------------------------------------------------------------- signalling in

    async def serve(self) -> None:
        """Read signalling until the client goes away (raises nothing)."""
        try:
            while not self.closed:
                request = await self._receive()
                await self._handle(request)
        except ClientGone:
            pass

    async def _receive(self) -> rtc.SignalRequest:
        while True:
            try:
                message = await asyncio.wait_for(
                    self.ws.receive(), timeout=self.settings.ping_timeout
                )
            except asyncio.TimeoutError as exc:
                raise ClientGone("ping timeout") from exc
            except (RuntimeError, WebSocketDisconnect) as exc:
                raise ClientGone("socket closed") from exc
            if message["type"] == "websocket.disconnect":
                raise ClientGone("socket closed")
            frame = message.get("bytes")
            if frame is None:
                frame = message.get("text")
            if frame is None:
                continue
            if len(frame) > self.settings.max_message_bytes:
                await self._close_socket(CLOSE_TOO_BIG, "message too big")
                raise ClientGone("message too big")
            try:
                return protocol.parse_request(frame)
            except ValueError as exc:
                await self._close_socket(CLOSE_INVALID, "invalid signal message")
                raise ClientGone("invalid signal message") from exc

    async def _handle(self, request: rtc.SignalRequest) -> None:
        which = request.WhichOneof("message")
        pong = protocol.pong_for(request)
        if pong is not None:
            await self.send(pong)
        elif which == "leave":
            raise ClientGone("leave")
        elif which in HANDLERS:
            try:
                await HANDLERS[which](self, getattr(request, which))
            except ClientGone:
                raise
            except Exception as exc:  # noqa: BLE001 - a malformed SDP/candidate must not end the room
                self.refusals += 1
                log.info("ignored %s from %s: %s", which, self.identity, exc)

    # ---------------------------------------------------------------- subscriber PC (room offers)

    async def start(self) -> None:
        """Create the subscriber connection with the room's data channels and the
        character's tracks, and send the first offer."""
        pc = RTCPeerConnection(ice.rtc_configuration(self.settings.ice_servers))
        self.sub_pc = pc
        for label, options in (
            ("_reliable", {"ordered": True}),
            ("_lossy", {"ordered": False, "maxRetransmits": 0}),
        ):
            channel = pc.createDataChannel(label, **options)
            self.channels[label] = channel
            channel.on("open", lambda label=label: self._channel_open(label))
        pc.on("connectionstatechange", self._state_changed)
        if self.participant.can_subscribe and self.room.character.clock is not None:
            for track in self.room.character_tracks():
                self._subscribe(track)
        await self.negotiate()

    def _subscribe(self, track: TrackState) -> None:
        if track.sid in self.feeds or self.sub_pc is None:
            return
        kind = TRACK_TYPES[track.kind]
        feed = self.room.character_feed(kind, track.sid)
        transceiver = self.sub_pc.addTransceiver(feed, direction="sendonly")
        transceiver.sender._stream_id = f"{self.room.character.participant.sid}|{track.sid}"
        if kind == "video":
            codecs = RTCRtpSender.getCapabilities("video").codecs
            transceiver.setCodecPreferences(
                [c for c in codecs if c.mimeType in ("video/VP8", "video/rtx")]
            )
        self.feeds[track.sid] = (feed, transceiver.sender)

    async def negotiate(self) -> None:
        pc = self.sub_pc
        if pc is None or self.closed:
            return
        async with self._negotiate_lock:
            if pc.signalingState != "stable":
                self._renegotiate = True
                return
            self._renegotiate = False
            await pc.setLocalDescription(await pc.createOffer())
            self._offer_id += 1
            sdp = pc.localDescription.sdp
            await self.send(
                rtc.SignalResponse(offer=protocol.description("offer", sdp, self._offer_id))
            )
            await self._trickle_out(sdp, rtc.SignalTarget.SUBSCRIBER)

    async def _on_answer(self, sd: rtc.SessionDescription) -> None:
        pc = self.sub_pc
        if pc is None or sd.type != "answer" or pc.signalingState != "have-local-offer":
            raise ValueError("unexpected answer")
        if len(sd.sdp) > MAX_SDP:
            raise ValueError("answer too large")
        await pc.setRemoteDescription(
            RTCSessionDescription(self.filter.clean_sdp(sd.sdp), "answer")
        )
        await self._flush_candidates(rtc.SignalTarget.SUBSCRIBER)
        if self._renegotiate:
            self.spawn(self.negotiate(), "room-renegotiate")

    # ---------------------------------------------------------------- publisher PC (client offers)

    async def _on_offer(self, sd: rtc.SessionDescription) -> None:
        if sd.type != "offer" or len(sd.sdp) > MAX_SDP:
            raise ValueError("not an acceptable offer")
        if self.pub_pc is None:
            pc = RTCPeerConnection(ice.rtc_configuration(self.settings.ice_servers))
            pc.on("datachannel", self._client_channel)
            pc.on("track", self._client_track)
            pc.on("connectionstatechange", self._state_changed)
            self.pub_pc = pc
        pc = self.pub_pc
        await pc.setRemoteDescription(RTCSessionDescription(self.filter.clean_sdp(sd.sdp), "offer"))
        for transceiver in pc.getTransceivers():
            if transceiver.kind == "video":
                transceiver.direction = "inactive"  # the character does not watch: no decoding
        await pc.setLocalDescription(await pc.createAnswer())
        sdp = accept_simulcast(sd.sdp, pc.localDescription.sdp)
        await self.send(rtc.SignalResponse(answer=protocol.description("answer", sdp, sd.id)))
        await self._trickle_out(sdp, rtc.SignalTarget.PUBLISHER)
        await self._flush_candidates(rtc.SignalTarget.PUBLISHER)

    def _client_channel(self, channel: RTCDataChannel) -> None:
        channel.on("message", lambda message: self._data_in(channel.label, message))

    def _data_in(self, label: str, message: bytes | str) -> None:
        if isinstance(message, str):
            message = message.encode("utf-8", "replace")
        self.room.on_data(self, message)

    def _client_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "audio":
            self.spawn(
                listen(
                    track,
                    self.room.character.heard_speech,
                    lambda: self.room.character.busy,
                    self.settings.turns,
                ),
                "room-listen",
            )

    # ---------------------------------------------------------------- ICE

    async def _trickle_out(self, sdp: str, target: int) -> None:
        candidates = ice.sdp_candidates(sdp)
        for candidate in candidates:
            request = rtc.TrickleRequest(candidateInit=ice.candidate_init(candidate), target=target)
            await self.send(rtc.SignalResponse(trickle=request))

    async def _on_trickle(self, request: rtc.TrickleRequest) -> None:
        candidate = ice.parse_candidate_init(request.candidateInit)
        if candidate is None or not self.filter.allows(candidate.ip):
            log.debug("skipped remote candidate %s", candidate and candidate.ip)
            return
        target = (
            rtc.SignalTarget.SUBSCRIBER
            if request.target == rtc.SignalTarget.SUBSCRIBER
            else rtc.SignalTarget.PUBLISHER
        )
        pc = self.sub_pc if target == rtc.SignalTarget.SUBSCRIBER else self.pub_pc
        if pc is None or pc.remoteDescription is None:
            if len(self._pending[target]) < MAX_PENDING_CANDIDATES:
                self._pending[target].append(candidate)
            return
        await pc.addIceCandidate(candidate)

    async def _flush_candidates(self, target: int) -> None:
        pc = self.sub_pc if target == rtc.SignalTarget.SUBSCRIBER else self.pub_pc
        pending, self._pending[target] = self._pending[target], []
        for candidate in pending:
            if pc is not None:
                await pc.addIceCandidate(candidate)

    # ---------------------------------------------------------------- tracks and subscriptions

    async def _on_add_track(self, request: rtc.AddTrackRequest) -> None:
        if not self.participant.can_publish or request.type not in TRACK_TYPES:
            raise ValueError("publishing not allowed")
        if (
            len(self.participant.tracks) >= self.settings.max_tracks
            or not request.cid
            or len(request.cid) > 256
        ):
            raise ValueError("track refused")
        if any(t.cid == request.cid for t in self.participant.tracks.values()):
            raise ValueError("duplicate track cid")
        track = TrackState(
            sid=new_sid("TR_"), kind=request.type, source=request.source, name=request.name[:256],
            muted=request.muted, width=request.width, height=request.height, cid=request.cid,
            mime_type="audio/opus" if request.type == models.TrackType.AUDIO else "video/VP8",
        )  # fmt: skip
        self.participant.tracks[track.sid] = track
        self.participant.version += 1
        await self.send(
            rtc.SignalResponse(
                track_published=rtc.TrackPublishedResponse(cid=request.cid, track=track.info())
            )
        )
        await self.room.announce(self)

    async def _on_mute(self, request: rtc.MuteTrackRequest) -> None:
        track = self.participant.tracks.get(request.sid)
        if track is None:
            raise ValueError("unknown track")
        track.muted = request.muted
        self.participant.version += 1
        await self.room.announce(self)

    async def _on_subscription(self, request: rtc.UpdateSubscription) -> None:
        sids = list(request.track_sids) + [
            s for p in request.participant_tracks for s in p.track_sids
        ]
        for sid in sids[:16]:
            entry = self.feeds.get(sid)
            if entry is None:
                continue
            feed, sender = entry
            if request.subscribe:
                kind = feed.kind
                fresh = self.room.character_feed(kind, sid)
                sender.replaceTrack(fresh)
                self.room.drop_feed(feed)
                self.feeds[sid] = (fresh, sender)
            else:
                sender.replaceTrack(None)

    async def _on_metadata(self, request: rtc.UpdateParticipantMetadata) -> None:
        if len(request.metadata) > 4096 or len(request.name) > 256:
            raise ValueError("metadata too large")
        self.participant.metadata = request.metadata or self.participant.metadata
        self.participant.name = request.name or self.participant.name
        self.participant.version += 1
        await self.room.announce(self)

    async def _ignore(self, _: Any) -> None:
        return None

    # ---------------------------------------------------------------- data out

    def _channel_open(self, label: str) -> None:
        if label != "_reliable":
            return
        early, self._early = self._early, []
        for kind, payload in early:
            self.deliver(kind, payload)
        self.room.on_client_ready(self)

    def deliver(self, label: str, payload: bytes) -> None:
        channel = self.channels.get(label)
        if channel is None or self.closed:
            return
        if channel.readyState != "open":
            if channel.readyState == "connecting" and len(self._early) < MAX_EARLY_PACKETS:
                self._early.append((label, payload))
            return
        try:
            channel.send(payload)
        except Exception as exc:  # noqa: BLE001 - aiortc: InvalidStateError while closing
            log.debug("data channel send failed: %s", exc)

    # ---------------------------------------------------------------- closing

    def _state_changed(self) -> None:
        for pc in (self.sub_pc, self.pub_pc):
            if pc is not None and pc.connectionState == "failed" and not self.closed:
                self.spawn(
                    self._close_socket(CLOSE_NORMAL, "peer connection failed"), "room-pc-failed"
                )

    async def _close_socket(self, code: int, reason: str) -> None:
        if self.ws.application_state == WebSocketState.CONNECTED:
            try:
                await self.ws.close(code=code, reason=reason)
            except (RuntimeError, OSError, WebSocketDisconnect):
                pass  # the client is gone already

    async def close(self, leave_reason: int | None = None) -> None:
        """Tell the client to leave (if a reason is given), close everything. Idempotent."""
        if self.closed:
            return
        if leave_reason is not None:
            await self.send(protocol.leave(leave_reason))
        self.closed = True
        await self._close_socket(CLOSE_NORMAL, "room closed" if leave_reason is not None else "bye")
        for feed, _ in self.feeds.values():
            self.room.drop_feed(feed)
        self.feeds.clear()
        for pc in (self.sub_pc, self.pub_pc):
            if pc is not None:
                try:
                    await pc.close()
                except Exception:  # never let one transport keep the others open
                    log.exception("closing a peer connection failed")
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


HANDLERS = {
    "offer": Client._on_offer,
    "answer": Client._on_answer,
    "trickle": Client._on_trickle,
    "add_track": Client._on_add_track,
    "mute": Client._on_mute,
    "subscription": Client._on_subscription,
    "update_metadata": Client._on_metadata,
    "track_setting": Client._ignore,
    "update_layers": Client._ignore,
    "subscription_permission": Client._ignore,
    "sync_state": Client._ignore,
    "simulate": Client._ignore,
    "update_audio_track": Client._ignore,
    "update_video_track": Client._ignore,
}
