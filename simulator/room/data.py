"""Data packets: what the character sends (Runway's transcript JSON), what it reads from
the browser (END_CALL, typed user turns) and its answer to LiveKit RPC requests.

Formats (UTF-8 JSON in ``DataPacket.user.payload``, RELIABLE):
* transcript, sent by the character, empty topic:
  ``{"type": "transcription", "role": "assistant"|"user", "turn": <int>, "text": "<text>"}``;
  assistant text arrives as deltas to append, user turns whole. Turns count per role.
* end of call, from the browser SDK, any topic: ``{"type": "END_CALL"}``.
* typed user turn, to the character, topic ``simulator.user_text``:
  ``{"type": "user_text", "text": "<words>"}`` (a bare UTF-8 string is accepted too).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from livekit.protocol import models

USER_TEXT_TOPIC = "simulator.user_text"
MAX_USER_TEXT = 2000
RPC_UNSUPPORTED_METHOD = 1400
RPC_UNSUPPORTED_VERSION = 1404


@dataclass(frozen=True)
class Incoming:
    """What a user packet means to the character."""

    kind: str  # "end_call" | "user_text" | "other"
    text: str = ""


def _json(payload: bytes) -> Any:
    try:
        return json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


def read_user_packet(packet: models.UserPacket) -> Incoming:
    data = _json(packet.payload)
    if isinstance(data, dict) and data.get("type") == "END_CALL":
        return Incoming("end_call")
    if packet.topic != USER_TEXT_TOPIC:
        return Incoming("other")
    if isinstance(data, dict) and data.get("type") == "user_text":
        text = data.get("text")
    elif isinstance(data, dict):
        return Incoming("other")
    else:
        try:
            text = packet.payload.decode("utf-8")
        except UnicodeDecodeError:
            return Incoming("other")
    if not isinstance(text, str) or not text.strip():
        return Incoming("other")
    return Incoming("user_text", " ".join(text.split())[:MAX_USER_TEXT])


def transcript(role: str, turn: int, text: str) -> bytes:
    return json.dumps(
        {"type": "transcription", "role": role, "turn": turn, "text": text},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")


def user_packet(payload: bytes, topic: str = "") -> models.DataPacket:
    packet = models.DataPacket(
        kind=models.DataPacket.Kind.RELIABLE, user=models.UserPacket(payload=payload)
    )
    if topic:
        packet.user.topic = topic
    return packet


def rpc_refusal(request: models.RpcRequest) -> list[models.DataPacket]:
    """The character registers no RPC methods: ack, then UNSUPPORTED_METHOD (1400)."""
    ack = models.DataPacket(
        kind=models.DataPacket.Kind.RELIABLE, rpc_ack=models.RpcAck(request_id=request.id)
    )
    code, message = (
        (RPC_UNSUPPORTED_VERSION, "Unsupported RPC version")
        if request.version not in (0, 1)
        else (RPC_UNSUPPORTED_METHOD, "Method not supported at destination")
    )
    response = models.DataPacket(
        kind=models.DataPacket.Kind.RELIABLE,
        rpc_response=models.RpcResponse(
            request_id=request.id, error=models.RpcError(code=code, message=message)
        ),
    )
    return [ack, response]
