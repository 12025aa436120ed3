"""LiveKit signalling messages (livekit-protocol) built and read for the room."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from livekit.protocol import models, rtc

from .spec import RoomSettings

PROTOCOL_VERSION = 16
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"


def new_sid(prefix: str) -> str:
    """LiveKit-style ids: RM_ (room), PA_ (participant), TR_ (track)."""
    return prefix + "".join(secrets.choice(ALPHABET) for _ in range(12))


@dataclass
class TrackState:
    sid: str
    kind: int  # models.TrackType
    source: int  # models.TrackSource
    name: str = ""
    muted: bool = False
    width: int = 0
    height: int = 0
    mime_type: str = ""
    cid: str = ""

    def info(self) -> models.TrackInfo:
        return models.TrackInfo(
            sid=self.sid,
            type=self.kind,
            name=self.name,
            muted=self.muted,
            width=self.width,
            height=self.height,
            source=self.source,
            mime_type=self.mime_type,
            stream="camera" if self.source == models.TrackSource.CAMERA else "",
        )


@dataclass
class ParticipantState:
    sid: str
    identity: str
    name: str = ""
    metadata: str = ""
    kind: int = models.ParticipantInfo.Kind.STANDARD
    joined_at: float = field(default_factory=time.time)
    tracks: dict[str, TrackState] = field(default_factory=dict)
    version: int = 1
    attributes: dict[str, str] = field(default_factory=dict)
    hidden: bool = False
    can_publish: bool = True
    can_subscribe: bool = True
    can_publish_data: bool = True
    client_protocol: int = 0

    def info(self, state: int = models.ParticipantInfo.State.ACTIVE) -> models.ParticipantInfo:
        return models.ParticipantInfo(
            sid=self.sid,
            identity=self.identity,
            name=self.name,
            metadata=self.metadata,
            state=state,
            kind=self.kind,
            joined_at=int(self.joined_at),
            joined_at_ms=int(self.joined_at * 1000),
            tracks=[t.info() for t in self.tracks.values()],
            version=self.version,
            is_publisher=bool(self.tracks),
            attributes=self.attributes,
            client_protocol=self.client_protocol,
            permission=models.ParticipantPermission(
                can_subscribe=self.can_subscribe,
                can_publish=self.can_publish,
                can_publish_data=self.can_publish_data,
                hidden=self.hidden,
                agent=self.kind == models.ParticipantInfo.Kind.AGENT,
            ),
        )


def ice_servers(settings: RoomSettings) -> list[rtc.ICEServer]:
    servers = []
    for entry in settings.ice_servers:
        urls = entry.get("urls", [])
        servers.append(
            rtc.ICEServer(
                urls=[urls] if isinstance(urls, str) else list(urls),
                username=str(entry.get("username", "")),
                credential=str(entry.get("credential", "")),
            )
        )
    return servers


def join_response(
    settings: RoomSettings,
    room: models.Room,
    me: ParticipantState,
    others: list[models.ParticipantInfo],
) -> rtc.SignalResponse:
    return rtc.SignalResponse(
        join=rtc.JoinResponse(
            room=room,
            participant=me.info(models.ParticipantInfo.State.JOINED),
            other_participants=others,
            server_version=settings.server_version,
            ice_servers=ice_servers(settings),
            subscriber_primary=True,
            ping_timeout=settings.ping_timeout,
            ping_interval=settings.ping_interval,
            server_info=models.ServerInfo(
                edition=models.ServerInfo.Edition.Standard,
                version=settings.server_version,
                protocol=PROTOCOL_VERSION,
                node_id="ND_simulator",
            ),
        )
    )


def parse_request(frame: bytes | str) -> rtc.SignalRequest:
    """A client's SignalRequest (binary protobuf, or protobuf JSON in a text frame).

    Raises ValueError when the frame is not one.
    """
    try:
        if isinstance(frame, str):
            return json_format.Parse(frame, rtc.SignalRequest(), ignore_unknown_fields=True)
        return rtc.SignalRequest.FromString(frame)
    except (DecodeError, json_format.ParseError, RecursionError, UnicodeDecodeError) as exc:
        raise ValueError(f"not a SignalRequest: {type(exc).__name__}") from exc


def leave(reason: int, *, can_reconnect: bool = False) -> rtc.SignalResponse:
    return rtc.SignalResponse(
        leave=rtc.LeaveRequest(
            can_reconnect=can_reconnect,
            reason=reason,
            action=rtc.LeaveRequest.Action.DISCONNECT,
        )
    )


def pong_for(request: rtc.SignalRequest) -> rtc.SignalResponse | None:
    which = request.WhichOneof("message")
    if which == "ping":
        return rtc.SignalResponse(pong=request.ping)
    if which == "ping_req":
        return rtc.SignalResponse(
            pong_resp=rtc.Pong(
                last_ping_timestamp=request.ping_req.timestamp,
                timestamp=int(time.time() * 1000),
            )
        )
    return None


def description(kind: str, sdp: str, offer_id: int) -> rtc.SessionDescription:
    return rtc.SessionDescription(type=kind, sdp=sdp, id=offer_id)


def update(participants: list[models.ParticipantInfo]) -> rtc.SignalResponse:
    return rtc.SignalResponse(update=rtc.ParticipantUpdate(participants=participants))
