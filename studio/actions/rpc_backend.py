"""Answer a Runway character's `backend_rpc` tool calls from Python.

A standalone module: it imports only LiveKit's official Python SDK (`livekit`), httpx and the
standard library, so another app can copy it or import it on its own.

    credentials = await fetch_backend_credentials(session_id, api_key)   # connect_backend
    backend = RpcBackend({"look_up_order": template_reply({"status": "Order {order_id} has shipped"})},
                         on_call=print)
    await backend.join(credentials["url"], credentials["token"])
    ...                                                                   # the call goes on
    await backend.leave()

How a call is answered follows Runway's own Node helper (`@runwayml/avatars-node-rpc`): the
backend joins the session's room with the token `connect_backend` mints (a hidden participant),
registers one LiveKit RPC method per tool, refuses callers whose identity does not start with
`worker:`, reads the payload's `args` (or the whole payload when there is none), and answers with
the handler's result as JSON. A handler that fails answers RpcError 1500 with its message, before
the caller's deadline, so the character hears why rather than waiting out its timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from livekit import rtc

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[Any]]
# Given a URL about to be fetched, the address to connect to (checked), or None for the URL's own;
# raising refuses the URL. The studio passes its SSRF check here.
AddressCheck = Callable[[str], Awaitable[str | None]]

RUNWAY_API = "https://api.dev.runwayml.com"
RUNWAY_VERSION = "2024-11-06"
WORKER_PREFIX = "worker:"
APPLICATION_ERROR = 1500
REPLY_BYTES_MAX = 15_360   # LiveKit RPC v1 refuses a larger response (1504)
ERROR_CHARS_MAX = 256      # LiveKit cuts an RpcError's message to 256 bytes
DEADLINE_MARGIN = 0.25     # answer this long before the caller gives up
PLACEHOLDER = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)\}")


class ToolError(Exception):
    """A failure the character should hear: sent back as RpcError 1500 with this message."""


@dataclass(frozen=True)
class ToolCall:
    """One answered (or failed) tool call, as reported to `on_call`."""

    request_id: str
    tool: str
    caller: str
    arguments: dict[str, Any]
    answer: Any
    error: str | None
    latency_ms: float
    at: float  # wall-clock seconds when the call arrived


# -- Answers ------------------------------------------------------------------------------------------

def fixed_reply(value: Any) -> Handler:
    """Always the same JSON value."""
    async def answer(_: dict[str, Any]) -> Any:
        return value
    return answer


def fill_template(template: Any, args: Mapping[str, Any]) -> Any:
    """`template` with `{name}` replaced by the argument `name` in every string inside it.

    A string that is exactly one placeholder takes the argument's own JSON value (a number stays
    a number); inside longer text it is written as text. A missing argument becomes empty text.
    """
    if isinstance(template, dict):
        return {key: fill_template(value, args) for key, value in template.items()}
    if isinstance(template, list):
        return [fill_template(value, args) for value in template]
    if not isinstance(template, str):
        return template
    whole = PLACEHOLDER.fullmatch(template)
    if whole:
        return args.get(whole[1], "")
    return PLACEHOLDER.sub(lambda m: _as_text(args.get(m[1], "")), template)


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def template_reply(template: Any) -> Handler:
    """A JSON value with `{argument}` placeholders filled from each call's arguments."""
    async def answer(args: dict[str, Any]) -> Any:
        return fill_template(template, args)
    return answer


def forward_to(
    url: str, *, timeout: float, check: AddressCheck | None = None, tool: str = "",
    headers: Mapping[str, str] | None = None,
) -> Handler:
    """POST `{"tool", "arguments"}` to `url` and answer with its JSON reply.

    No redirects, no proxy from the environment, at most `timeout` seconds and 15 KiB of reply.
    `check` vets the URL first and names the address to connect to (so a name is resolved once).
    """
    async def answer(args: dict[str, Any]) -> Any:
        target = httpx.URL(url)
        host = target.host
        try:
            return await asyncio.wait_for(_post(target, args), timeout)
        except asyncio.TimeoutError:
            raise ToolError(f"{host} did not answer within {timeout:g} s.") from None

    async def _post(target: httpx.URL, args: dict[str, Any]) -> Any:
        address = await check(url) if check else None
        send_to = target.copy_with(host=address) if address else target
        extra = {"Host": target.netloc.decode("ascii")} | dict(headers or {})
        extensions = {"sni_hostname": target.host} if address and target.scheme == "https" else {}
        body = {"tool": tool, "arguments": args}
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            try:
                async with client.stream("POST", send_to, json=body, headers=extra,
                                         extensions=extensions) as reply:
                    raw = await _read(reply, target.host)
            except httpx.HTTPError as error:
                raise ToolError(f"Could not reach {target.host}: {type(error).__name__}.") from error
        try:
            return json.loads(raw)
        except ValueError:
            raise ToolError(f"{target.host} answered with something that is not JSON.") from None

    return answer


async def _read(reply: httpx.Response, host: str) -> bytes:
    if reply.status_code // 100 != 2:
        raise ToolError(f"{host} answered HTTP {reply.status_code}.")
    body = bytearray()
    async for chunk in reply.aiter_bytes():
        body += chunk
        if len(body) > REPLY_BYTES_MAX:
            raise ToolError(f"{host} answered with more than {REPLY_BYTES_MAX:,} bytes.")
    return bytes(body)


# -- The backend participant ------------------------------------------------------------------------

class RpcBackend:
    """A hidden participant in one session's room that answers its `backend_rpc` tool calls.

    `handlers`: tool name → async function of the arguments returning a JSON-serialisable answer
    (raise `ToolError` to answer with an error the character can say). `on_call` (sync or async)
    hears every call, answered or not; `on_disconnect` hears the room going away;
    `on_client_event(tool, args)` hears the character's client events, if the room sends them to
    the backend too (the simulator does; whether Runway does is not documented).
    """

    def __init__(
        self, handlers: Mapping[str, Handler], *, on_call: Callable[[ToolCall], Any] | None = None,
        on_disconnect: Callable[[], Any] | None = None,
        on_client_event: Callable[[str, dict[str, Any]], Any] | None = None,
    ) -> None:
        self.handlers = dict(handlers)
        self.on_call, self.on_disconnect = on_call, on_disconnect
        self.on_client_event = on_client_event
        self.room: rtc.Room | None = None  # made in `join`, on the loop that runs it
        self.calls = 0
        self._joined = False
        self._reports: set[asyncio.Task] = set()

    @property
    def joined(self) -> bool:
        return self._joined

    async def join(self, url: str, token: str) -> None:
        """Join the room and register one RPC method per tool (calls before that get 1400)."""
        self.room = rtc.Room()
        self.room.on("disconnected", self._disconnected)
        self.room.on("data_received", self._data)
        await self.room.connect(url, token)
        self._joined = True
        for name in self.handlers:
            self.room.local_participant.register_rpc_method(name, self._invoke)

    async def leave(self) -> None:
        """Unregister every method, then disconnect; waits for pending reports."""
        if self._joined and self.room is not None:
            self._joined = False
            for name in self.handlers:
                with contextlib.suppress(Exception):  # the room may be gone already
                    self.room.local_participant.unregister_rpc_method(name)
            await self.room.disconnect()
        if self._reports:
            await asyncio.gather(*self._reports, return_exceptions=True)

    def _disconnected(self, *_: Any) -> None:
        self._joined = False
        if self.on_disconnect is not None:
            self._later(self.on_disconnect())

    def _data(self, packet: rtc.DataPacket) -> None:
        sender = packet.participant.identity if packet.participant else ""
        event = client_event(packet.data) if sender.startswith(WORKER_PREFIX) else None
        if event is None or self.on_client_event is None:
            return
        try:
            self._later(self.on_client_event(*event))
        except Exception:  # a report must never break the room
            log.exception("reporting client event %s failed", event[0])

    async def _invoke(self, data: rtc.RpcInvocationData) -> str:
        arrived, started = time.time(), time.perf_counter()
        arguments: dict[str, Any] = {}
        answer: Any = None
        error: str | None = None
        try:
            if not data.caller_identity.startswith(WORKER_PREFIX):
                raise ToolError(f"Unauthorized caller: {data.caller_identity}")
            arguments = _arguments(data.payload)
            budget = max(0.05, data.response_timeout - DEADLINE_MARGIN)
            try:
                answer = await asyncio.wait_for(self.handlers[data.method](arguments), budget)
            except asyncio.TimeoutError:
                raise ToolError(f"No answer within {budget:.2g} s.") from None
            payload = json.dumps(answer)
            if len(payload.encode()) > REPLY_BYTES_MAX:
                raise ToolError(f"The answer is larger than {REPLY_BYTES_MAX:,} bytes.")
            return payload
        except ToolError as failure:
            answer, error = None, str(failure)[:ERROR_CHARS_MAX]
            raise rtc.RpcError(APPLICATION_ERROR, error) from None
        except asyncio.CancelledError:  # LiveKit's deadline passed, or the room is closing
            error = "Cancelled: the caller's deadline passed or the room closed."
            raise
        except Exception as failure:  # a handler's own bug still gets an answer, and a record
            log.exception("tool %s failed", data.method)
            answer, error = None, f"The tool failed: {type(failure).__name__}."
            raise rtc.RpcError(APPLICATION_ERROR, error) from None
        finally:
            self.calls += 1
            latency = (time.perf_counter() - started) * 1000
            self._report(ToolCall(data.request_id, data.method, data.caller_identity, arguments,
                                  answer, error, round(latency, 1), arrived))

    def _report(self, call: ToolCall) -> None:
        if self.on_call is None:
            return
        try:
            result = self.on_call(call)
        except Exception:  # a report must never break the answer
            log.exception("reporting tool call %s failed", call.tool)
            return
        self._later(result)

    def _later(self, result: Any) -> None:
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            self._reports.add(task)
            task.add_done_callback(self._reports.discard)


def client_event(data: bytes) -> tuple[str, dict[str, Any]] | None:
    """`(tool, args)` of a client-event packet, as the browser SDK reads it; None for anything
    else, and for the `event_sent` echo of a call."""
    try:
        message = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(message, dict) or message.get("type") != "client_event":
        return None
    tool, args = message.get("tool"), message.get("args")
    if not isinstance(tool, str) or not isinstance(args, dict) or args.get("status") == "event_sent":
        return None
    return tool, args


def _arguments(payload: str) -> dict[str, Any]:
    """The call's arguments: the payload's `args` when present, else the whole payload."""
    try:
        parsed = json.loads(payload) if payload else {}
    except ValueError:
        raise ToolError("Invalid JSON payload") from None
    if isinstance(parsed, dict) and parsed.get("args") is not None:
        parsed = parsed["args"]
    if not isinstance(parsed, dict):
        raise ToolError("The arguments are not a JSON object.")
    return parsed


# -- Credentials (for apps without the Runway SDK) ----------------------------------------------------

async def fetch_backend_credentials(
    session_id: str, api_key: str, *, base_url: str = RUNWAY_API, client: httpx.AsyncClient | None = None,
) -> dict[str, str]:
    """`POST /v1/realtime_sessions/{id}/connect_backend`: `{url, token, roomName}` for `join`."""
    own = client is None
    client = client or httpx.AsyncClient(timeout=20.0)
    try:
        reply = await client.post(
            f"{base_url.rstrip('/')}/v1/realtime_sessions/{session_id}/connect_backend", json={},
            headers={"Authorization": f"Bearer {api_key}", "X-Runway-Version": RUNWAY_VERSION})
        reply.raise_for_status()
        answer = reply.json()
    finally:
        if own:
            await client.aclose()
    if not all(isinstance(answer.get(k), str) and answer[k] for k in ("url", "token", "roomName")):
        raise ValueError("connect_backend answered without url, token and roomName")
    return answer
