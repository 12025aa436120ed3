"""A time source for asyncio code that moves only when a test says so.

`monotonic()` reads it; `await sleep(s)` waits until the test has advanced it by `s`;
`await advance(s)` moves it forward, waking each sleeper at its own moment, in order, and letting
the woken code run (to its next wait) before time moves on. No real time passes.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools


class VirtualTime:
    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self._sleepers: list[tuple[float, int, asyncio.Future]] = []
        self._order = itertools.count()

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        woken = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(0.0, seconds), next(self._order), woken))
        await woken

    async def advance(self, seconds: float) -> None:
        target = self.now + seconds
        await self.settle()
        while self._sleepers and self._sleepers[0][0] <= target:
            at, _, woken = heapq.heappop(self._sleepers)
            self.now = max(self.now, at)
            if not woken.done():  # (a cancelled sleeper's future is done already)
                woken.set_result(None)
            await self.settle()
        self.now = target
        await self.settle()

    async def run_until_done(self, work: asyncio.Future, step: float, limit: float) -> None:
        """Advance `step` by `step` until `work` is done (at most `limit` virtual seconds)."""
        started = self.now
        while not work.done():
            assert self.now - started <= limit, "the work did not finish in virtual time"
            await self.advance(step)
        await work

    @staticmethod
    async def settle(rounds: int = 50) -> None:
        """Let every ready task run until it waits again (nothing here does real I/O)."""
        for _ in range(rounds):
            await asyncio.sleep(0)
