"""Clocks. The simulator only ever calls ``clock.now()`` (Unix epoch seconds).

Every time-based transition is evaluated lazily from ``now()`` at the start of a
request, so a :class:`FakeClock` advanced between requests gives fully
deterministic results without any test sleeping.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    def now(self) -> float: ...


class SystemClock:
    """Wall-clock time."""

    def now(self) -> float:
        return time.time()


class FakeClock:
    """A clock that only moves when told to (thread-safe: tests advance it while
    the server thread reads it)."""

    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        with self._lock:
            self._now += float(seconds)
            return self._now

    async def sleep(self, seconds: float) -> None:
        """Drop-in for ``asyncio.sleep`` in code under test: advances, then yields."""
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)

    def __repr__(self) -> str:
        return f"FakeClock(now={self.now()!r})"
