"""Time sources. Production code waits on a real clock; tests drive a FakeClock instead of sleeping."""

from __future__ import annotations

import asyncio
import time


class SystemClock:
    """Wall-clock time (Unix seconds) and real asynchronous sleeps."""

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class FakeClock:
    """A clock that only moves when told to; `sleep` advances it at once.

    The simulator only needs `now()`, so one FakeClock can drive both the studio and the
    simulator in a test and keep them in step.
    """

    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds

    async def sleep(self, seconds: float) -> None:
        self.advance(seconds)
        await asyncio.sleep(0)
