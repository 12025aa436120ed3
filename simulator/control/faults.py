"""Injected faults: for a method and a path glob, answer the next N matching requests
with an error status, extra latency, or a dropped connection instead of processing
them (so a fault that fires never changes state). The gateway (app.py) takes and
fires them before routing; the control plane adds, lists and clears them."""

from __future__ import annotations

import asyncio
import fnmatch
import itertools
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

from starlette.types import Send

from ..http import send_json
from ..validation import js_number

DEFAULT_BODIES = {
    429: "Too many requests. Please slow down.",
    500: "An internal error occurred.",
    502: "Bad gateway.",
    503: "The service is temporarily unavailable. Please retry.",
    504: "The upstream service timed out.",
}


@dataclass
class Fault:
    id: str
    method: str  # "POST", or "*" for any
    path: str  # fnmatch glob over the request path
    status: int | None = None
    retry_after: float | None = None
    latency: float = 0.0  # real seconds, added with asyncio.sleep
    drop: bool = False
    count: int = 1  # remaining firings
    body: Any = None
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method)) and fnmatch.fnmatchcase(path, self.path)

    def error_body(self) -> Any:
        if self.body is not None:
            return self.body
        return {"error": DEFAULT_BODIES.get(self.status or 0, f"Injected fault ({self.status})")}

    def headers(self) -> dict[str, str]:
        return {} if self.retry_after is None else {"retry-after": js_number(self.retry_after)}

    def to_wire(self) -> dict[str, Any]:
        data = asdict(self)
        data["retryAfter"] = data.pop("retry_after")
        return data


@dataclass
class FaultBook:
    faults: list[Fault] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    fired: dict[str, int] = field(default_factory=dict)  # survives the fault's removal
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(
        self,
        *,
        method: str,
        path: str,
        status: int | None,
        retry_after: float | None,
        latency: float,
        drop: bool,
        count: int,
        body: Any,
    ) -> Fault:
        with self._lock:
            fault = Fault(
                id=f"fault_{next(self._ids)}",
                method=method.upper(),
                path=path,
                status=status,
                retry_after=retry_after,
                latency=latency,
                drop=drop,
                count=count,
                body=body,
            )
            self.faults.append(fault)
            return fault

    def take(self, method: str, path: str) -> Fault | None:
        """The first matching fault, with one firing used up."""
        if not self.faults:  # fast path: the common case has no faults at all
            return None
        with self._lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.count -= 1
                    fault.fired += 1
                    self.fired[fault.id] = fault.fired
                    if fault.count <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()
            self.fired.clear()

    def to_wire(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.to_wire() for f in self.faults]


class DroppedConnection(ConnectionAbortedError):
    """Raised when the server cannot reach its transport: the server then closes the
    connection or answers 500, which is the closest an ASGI app can get."""


async def drop_connection(send: Send) -> None:
    # uvicorn hands the app a bound ``RequestResponseCycle.send``; its transport lets us
    # close the socket without writing a single byte, which clients see as a
    # connection error (the SDK raises APIConnectionError).
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise DroppedConnection("fault injection: connection dropped")
    transport.abort()
    await asyncio.sleep(0)  # let connection_lost run so uvicorn does not try to answer


async def fire(fault: Fault, send: Send) -> bool:
    """Apply ``fault``; True if it answered (or dropped) the request itself."""
    if fault.latency > 0:
        await asyncio.sleep(fault.latency)
    if fault.drop:
        await drop_connection(send)
        return True
    if fault.status is not None:
        await send_json(send, fault.status, fault.error_body(), fault.headers())
        return True
    return False  # latency only: process normally
