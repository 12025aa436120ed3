"""One shared background refresh that carries every open session to its final state.

However many browsers watch the Sessions tab, each open session is polled upstream at most once
per interval, here; the tabs read the ledger. Sessions the broker is still provisioning are left
to the broker. A completed session's transcript is fetched once from the conversations API.

On a ledger several replicas share (PostgreSQL), only the replica that holds the "refresher"
lock refreshes; the others try to take it every interval, so when the leader dies another takes
over within one interval (PostgreSQL drops a dead process's connection and its lock). The leader
leaves alone rows another replica's broker is still provisioning (not consumed, younger than the
deadline), and closes rows a dead replica left without a session id.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from studio.background import cancel_and_wait
from studio.calls.broker import SessionBroker
from studio.calls.ledger import SHARED_CREATE_GRACE, Ledger
from studio.clock import SystemClock
from studio.errors import StudioError
from studio.runway import RunwayGateway

log = logging.getLogger(__name__)

_PARALLEL_POLLS = 8


def transcript_entries(conversation: dict[str, Any]) -> list[dict[str, Any]]:
    """The conversation's transcript as plain `{role, content, timestamp, tool_calls}` entries."""
    entries = []
    for item in conversation.get("transcript") or []:
        stamp = item.get("timestamp")
        entries.append({
            "role": item.get("role"),
            "content": item.get("content"),
            "timestamp": stamp.isoformat() if hasattr(stamp, "isoformat") else stamp,
            "tool_calls": item.get("tool_calls") or [],
        })
    return entries


class Refresher:
    def __init__(
        self, gateway: RunwayGateway, ledger: Ledger, broker: SessionBroker, clock: SystemClock,
        interval: float,
    ) -> None:
        self.gateway, self.ledger, self.broker, self.clock = gateway, ledger, broker, clock
        self.interval = interval
        self.upstream_polls = 0
        self.leading = False  # this replica refreshes (always, on a ledger of its own)
        self._task: asyncio.Task | None = None
        self._limit = asyncio.Semaphore(_PARALLEL_POLLS)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="session-refresher")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    async def refresh_once(self) -> int:
        """Poll every open session not owned by a broker once; return how many were polled."""
        self.leading = self.ledger.db.try_lead("refresher")
        if not self.leading:
            return 0
        now = self.clock.now()
        if self.ledger.shared:
            self.ledger.close_interrupted(now)
        rows = [r for r in self.ledger.open_sessions() if self._ours(r, now)]
        await asyncio.gather(*(self._refresh(row) for row in rows))
        return len(rows)

    def _ours(self, row: dict[str, Any], now: float) -> bool:
        """Not a row a broker is provisioning: ours, or (shared ledger) any replica's, still alive."""
        if row["request_id"] in self.broker.in_flight:
            return False
        if not self.ledger.shared or row["consumed_at"] is not None or row["cancel_pending"]:
            return True
        return row["requested_at"] < now - self.broker.deadline - SHARED_CREATE_GRACE

    async def _run(self) -> None:
        while True:
            try:
                await self.refresh_once()
            except Exception:  # keep refreshing whatever one round did
                log.exception("session refresh round failed")
            # Paced in real time even under a test's FakeClock, which must only move when told.
            await asyncio.sleep(self.interval)

    async def _refresh(self, row: dict[str, Any]) -> None:
        async with self._limit:
            if row["cancel_pending"] and await self.broker.retry_cancel(row):
                return
            self.upstream_polls += 1
            try:
                snapshot = await self.gateway.retrieve_session(row["session_id"])
            except StudioError as error:
                if error.code == "not_found":
                    self.ledger.fail_request(row["request_id"], "vanished",
                                             "Runway no longer knows this session.", self.clock.now())
                return
            changed = self.ledger.record_status(
                row["request_id"], snapshot.status, self.clock.now(), queued=snapshot.queued,
                duration=snapshot.duration, failure=snapshot.failure, failure_code=snapshot.failure_code,
            )
            if changed and snapshot.status == "COMPLETED":
                await self._store_transcript(row)

    async def _store_transcript(self, row: dict[str, Any]) -> None:
        try:
            conversation = await self.gateway.get_conversation(row["session_id"])
        except StudioError:
            return  # the browser's own copy (if any) stays
        entries = transcript_entries(conversation)
        if entries:
            self.ledger.store_transcript(row["request_id"], entries, self.clock.now())
