"""One background follower that carries every open clip to its end.

However many people watch the Clips tab, and however many clips render at once, each open task is
polled upstream at most once per interval, here (Runway asks for no more than one poll every five
seconds per task); the tab reads the store. When a task succeeds its video is fetched once, so the
clip's length is known and the studio can serve it.

On a database several replicas share (PostgreSQL), only the replica that holds the "clips" lock
follows; the others try to take it every interval, so when the leader dies another takes over.
A cancel Runway did not confirm is retried here until it is.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from studio.background import cancel_and_wait
from studio.clips.store import ClipStore
from studio.clips.videos import VideoCopies, output_expiry, video_seconds
from studio.clips.words import SUCCEEDED
from studio.errors import StudioError
from studio.runway import RunwayGateway, TaskSnapshot

log = logging.getLogger(__name__)

_PARALLEL_POLLS = 8


class ClipFollower:
    def __init__(self, gateway: RunwayGateway, store: ClipStore, videos: VideoCopies, clock: Any,
                 interval: float, cancel: Callable[[dict[str, Any]], Awaitable[bool]]) -> None:
        self.gateway, self.store, self.videos, self.clock = gateway, store, videos, clock
        self.interval = interval
        self._cancel = cancel  # the service's upstream cancel; True once Runway confirmed it
        self.upstream_polls = 0
        self.leading = False
        self._task: asyncio.Task | None = None
        self._limit = asyncio.Semaphore(_PARALLEL_POLLS)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="clip-follower")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    async def follow_once(self) -> int:
        """Poll every open clip once (when this replica leads); return how many were polled."""
        self.leading = self.store.db.try_lead("clips")
        if not self.leading:
            return 0
        rows = self.store.open_clips()
        await asyncio.gather(*(self._follow(row) for row in rows))
        return len(rows)

    async def _run(self) -> None:
        while True:
            try:
                await self.follow_once()
            except Exception:  # keep following whatever one round did
                log.exception("clip follow round failed")
            # Paced in real time even under a test's FakeClock, which must only move when told.
            await asyncio.sleep(self.interval)

    async def _follow(self, row: dict[str, Any]) -> None:
        async with self._limit:
            if row["cancel_pending"] and await self._cancel(row):
                return
            self.upstream_polls += 1
            try:
                task = await self.gateway.retrieve_task(row["task_id"])
            except StudioError as error:
                if error.code == "not_found":
                    self.store.fail(row["clip_id"], "vanished", "Runway no longer knows this render.",
                                    self.clock.now())
                return
            await self.record(row["clip_id"], task)

    async def record(self, clip_id: str, task: TaskSnapshot) -> bool:
        """Store one poll of `clip_id`'s task. A success fetches the video first, so the clip
        turns ready with its length known and its copy in place."""
        url = task.output[0] if task.output else None
        seconds = await self._keep_video(clip_id, url) if task.status == SUCCEEDED and url else None
        now = self.clock.now()
        return self.store.record(
            clip_id, task.status, now, progress=task.progress, estimated_credits=task.estimated_credits,
            cost_credits=task.cost_credits, failure=task.failure, failure_code=task.failure_code,
            output_url=url, output_expires_at=output_expiry(url, now) if url else None, duration=seconds,
        )

    async def _keep_video(self, clip_id: str, url: str) -> float | None:
        """Fetch the output once and measure it; None when that failed (the video route tries
        again when someone plays it)."""
        try:
            path = await self.videos.ensure(clip_id, url)
        except StudioError as error:
            log.info("Clip %s output not fetched (%s): %s", clip_id, error.code, error.message)
            return None
        return await asyncio.to_thread(lambda: video_seconds(path.read_bytes()))
