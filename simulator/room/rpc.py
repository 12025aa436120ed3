"""The caller's side of LiveKit RPC v1, as the avatar worker performs it on a backend
participant: an ``RpcRequest`` data packet addressed to the backend, then its
``RpcAck`` and ``RpcResponse`` (payload or error). Timers as livekit-client runs them,
both from the moment of sending: no ack within the ack budget is CONNECTION_TIMEOUT
(1501), no response within the response timeout is RESPONSE_TIMEOUT (1502)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from livekit.protocol import models

RPC_VERSION = 1
MAX_PAYLOAD_BYTES = 15_360  # v1 packets; larger requests are refused before sending
RECIPIENT_NOT_FOUND = 1401
REQUEST_PAYLOAD_TOO_LARGE = 1402
CONNECTION_TIMEOUT = 1501
RESPONSE_TIMEOUT = 1502
RECIPIENT_DISCONNECTED = 1503
MESSAGES = {
    RECIPIENT_NOT_FOUND: "Recipient not found",
    REQUEST_PAYLOAD_TOO_LARGE: "Request payload too large",
    CONNECTION_TIMEOUT: "Connection timeout",
    RESPONSE_TIMEOUT: "Response timeout",
    RECIPIENT_DISCONNECTED: "Recipient disconnected",
}


class RpcFailure(Exception):
    """An RPC that ended in an error: LiveKit's code and message."""

    def __init__(self, code: int, message: str = "") -> None:
        super().__init__(message or MESSAGES.get(code, "RPC failed"))
        self.code = code
        self.message = str(self)


@dataclass
class _Pending:
    destination: str
    ack: asyncio.Future[None]
    response: asyncio.Future[str]


def _settle(
    future: asyncio.Future, *, result: object = None, error: Exception | None = None
) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
        future.exception()  # retrieved here: an answer nobody waits for any more is no error
    else:
        future.set_result(result)


class RpcCaller:
    """Sends requests through ``send`` (the room stamps the worker's identity on them) and
    takes the answers the room hands to ``on_packet``."""

    def __init__(self, send: Callable[[models.DataPacket], None]) -> None:
        self._send = send
        self._pending: dict[str, _Pending] = {}

    async def call(
        self,
        destination: str,
        method: str,
        payload: str,
        *,
        response_timeout: float,
        ack_timeout: float,
    ) -> str:
        """The response payload; raises RpcFailure with LiveKit's code otherwise."""
        if len(payload.encode()) > MAX_PAYLOAD_BYTES:
            raise RpcFailure(REQUEST_PAYLOAD_TOO_LARGE)
        loop = asyncio.get_running_loop()
        request_id = str(uuid.uuid4())
        pending = _Pending(destination, loop.create_future(), loop.create_future())
        self._pending[request_id] = pending
        request = models.RpcRequest(
            id=request_id,
            method=method,
            payload=payload,
            response_timeout_ms=int(response_timeout * 1000),
            version=RPC_VERSION,
        )
        packet = models.DataPacket(
            kind=models.DataPacket.Kind.RELIABLE,
            destination_identities=[destination],
            rpc_request=request,
        )
        try:
            self._send(packet)
            return await asyncio.wait_for(self._answer(pending, ack_timeout), response_timeout)
        except asyncio.TimeoutError:
            raise RpcFailure(RESPONSE_TIMEOUT) from None
        finally:
            self._pending.pop(request_id, None)

    @staticmethod
    async def _answer(pending: _Pending, ack_timeout: float) -> str:
        try:
            await asyncio.wait_for(asyncio.shield(pending.ack), ack_timeout)
        except asyncio.TimeoutError:
            raise RpcFailure(CONNECTION_TIMEOUT) from None
        return await pending.response

    def on_packet(self, packet: models.DataPacket) -> bool:
        """Take an ack or a response meant for a pending call; True when it was one."""
        which = packet.WhichOneof("value")
        if which == "rpc_ack":
            pending = self._pending.get(packet.rpc_ack.request_id)
            if pending is not None:
                _settle(pending.ack)
            return True
        if which != "rpc_response":
            return False
        response = packet.rpc_response
        pending = self._pending.get(response.request_id)
        if pending is None:
            return True
        _settle(pending.ack)  # a response implies the request arrived
        if response.WhichOneof("value") == "error":
            error = RpcFailure(response.error.code, response.error.message)
            _settle(pending.response, error=error)
        else:
            _settle(pending.response, result=response.payload)
        return True

    def recipient_left(self, identity: str) -> None:
        """Calls to a participant that left end at once with RECIPIENT_DISCONNECTED."""
        for pending in list(self._pending.values()):
            if pending.destination == identity:
                _settle(pending.ack)
                _settle(pending.response, error=RpcFailure(RECIPIENT_DISCONNECTED))

    def cancel_all(self) -> None:
        for pending in list(self._pending.values()):
            for future in (pending.ack, pending.response):
                with contextlib.suppress(asyncio.InvalidStateError):
                    future.cancel()
