"""The character's hands: it fires a ``client_event`` tool as a data packet to the room,
or calls a ``backend_rpc`` tool on the hidden backend participant over LiveKit RPC, and
records each call the way Runway's conversation history does.

Wire formats (UTF-8 JSON, RELIABLE, empty topic, from the worker identity):
* client event: ``{"type": "client_event", "tool": <name>, "args": {...}}``, then the echo
  ``{"type": "client_event", "tool": <name>, "args": {"status": "event_sent"}}``;
* backend RPC: ``RpcRequest{method: <name>, payload: '{"args": {...}}' (or the bare args),
  response_timeout_ms: timeoutSeconds * 1000, version: 1}`` to the backend's identity.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from livekit.protocol import models

from . import data, tools
from .rpc import RECIPIENT_NOT_FOUND, RpcCaller, RpcFailure
from .spec import ToolSettings

CLIENT_EVENT, BACKEND_RPC = "client_event", "backend_rpc"
DEFAULT_TIMEOUT = 4.0  # seconds, Runway's default timeoutSeconds
EVENT_SENT = {"status": "event_sent"}
PRESET_VOICE_NEEDED = "client events need an avatar with a preset voice"


@dataclass
class ToolUse:
    """One finished tool call: the record for the simulator and what to say about it."""

    record: dict[str, Any]
    speech: str | None

    def transcript_entry(self) -> dict[str, Any]:
        """The assistant turn that only called a tool (content null), as Runway keeps it."""
        record = self.record
        entry: dict[str, Any] = {
            "role": "assistant",
            "content": None,
            "toolCalls": [
                {"id": record["id"], "name": record["tool"], "arguments": record["args"]}
            ],
        }
        if record["type"] == BACKEND_RPC:
            entry["toolResults"] = [
                {
                    "id": record["id"],
                    "name": record["tool"],
                    "result": record["result"],
                    "error": record["error"],
                    "durationMs": record["durationMs"],
                }
            ]
        return entry


def _json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def client_event_payload(tool: str, args: dict[str, Any]) -> bytes:
    return _json({"type": "client_event", "tool": tool, "args": args})


def parse_result(payload: str) -> Any:
    """A backend's answer: JSON when it is JSON, else the text as it came."""
    try:
        return json.loads(payload)
    except ValueError:
        return payload


class ToolUser:
    def __init__(
        self,
        tools_declared: tuple[dict[str, Any], ...],
        settings: ToolSettings,
        send: Callable[[models.DataPacket], None],
        present: Callable[[str], bool],
    ) -> None:
        self.tools = {str(t["name"]): t for t in tools_declared}
        self.settings = settings
        self._send = send
        self._present = present
        self.rpc = RpcCaller(send)

    def match(self, text: str) -> tuple[str, dict[str, Any]] | None:
        """The tool a typed turn asks for, with its arguments; None when none fits."""
        if not self.settings.match_turns or not self.tools:
            return None
        tool = tools.match_tool(text, list(self.tools.values()))
        if tool is None:
            return None
        return str(tool["name"]), tools.fill_arguments(tool, text)

    async def use(self, name: str, args: dict[str, Any], source: str) -> ToolUse:
        tool = self.tools[name]
        record: dict[str, Any] = {
            "id": "call_" + uuid.uuid4().hex[:16],
            "tool": name,
            "type": tool["type"],
            "args": args,
            "source": source,
            "startedAt": time.time(),
            "durationMs": 0,
            "result": None,
            "error": None,
            "errorCode": None,
        }
        started = time.monotonic()
        if tool["type"] == CLIENT_EVENT:
            speech = self._fire_event(name, args, record)
        else:
            speech = await self._call_backend(tool, args, record)
        record["durationMs"] = int((time.monotonic() - started) * 1000)
        return ToolUse(record, speech)

    def _fire_event(self, name: str, args: dict[str, Any], record: dict[str, Any]) -> str | None:
        if not self.settings.client_events:
            record["error"] = PRESET_VOICE_NEEDED
            return tools.refused_event_speech(name, args) if self.settings.speak_failures else None
        self._send(data.user_packet(client_event_payload(name, args)))
        if self.settings.event_echo:
            self._send(data.user_packet(client_event_payload(name, EVENT_SENT)))
        record["result"] = dict(EVENT_SENT)
        return tools.event_speech(name, args)

    async def _call_backend(
        self, tool: dict[str, Any], args: dict[str, Any], record: dict[str, Any]
    ) -> str | None:
        name = str(tool["name"])
        backend = self.settings.backend_identity
        payload = json.dumps({"args": args} if self.settings.wrap_payload else args)
        try:
            if not backend or (
                not self._present(backend) and not self.settings.missing_backend_waits
            ):
                raise RpcFailure(RECIPIENT_NOT_FOUND)
            answer = await self.rpc.call(
                backend,
                name,
                payload,
                response_timeout=float(tool.get("timeoutSeconds", DEFAULT_TIMEOUT)),
                ack_timeout=self.settings.ack_timeout,
            )
        except RpcFailure as failure:
            record["error"], record["errorCode"] = failure.message, failure.code
            if not self.settings.speak_failures:
                return None
            return tools.failure_speech(name, args, failure.code, failure.message)
        record["result"] = parse_result(answer)
        return tools.result_speech(name, args, record["result"])
