"""`History`: the Sessions and Usage tabs' data, one per studio, shared by every viewer.

It bundles the caches (`caches.py`) and turns what they hold into what a tab draws with the pure
functions of `frames.py`, `filters.py`, `figures.py` and `details.py`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pandas as pd

from studio.background import cancel_and_wait
from studio.errors import StudioError
from studio.history.caches import ConversationsCache, LedgerMirror, Monotonic, SharedValue, Sleep
from studio.history.details import SessionDetails, session_details
from studio.history.figures import Figures, session_figures
from studio.history.filters import Filters, of_client, select_sessions
from studio.history.frames import (
    DEFAULT_LIMIT,
    conversations_frame,
    display_frame,
    empty_frame,
    merge_sessions,
    seconds_used,
)
from studio.history.words import avatar_label, utc_day_start
from studio.store.values import FetchOnce, SharedValues
from studio.vocabulary import PRESET_AVATARS, is_terminal

log = logging.getLogger(__name__)

ORGANIZATION_TTL, USAGE_TTL = 30.0, 60.0  # seconds the Usage tab's upstream values are shared
USAGE_DAYS = 30
MARKS_KEPT = 1000  # viewers whose changes_mark is remembered (a public demo has many)
Fetch = Callable[[], Awaitable[Any]]


@dataclass(frozen=True)
class SessionsView:
    """What the Sessions tab draws from one refresh."""

    table: pd.DataFrame
    figures: Figures
    matching: int
    total: int
    conversations_error: str | None
    conversations_fetched_at: float | None


def _once_for_all_replicas(ledger: Any) -> Callable[[str, Fetch, float], Fetch]:
    """On a database several replicas share, an upstream value is fetched by one of them per
    interval and read by the others; on a replica's own database, fetched as is."""
    if not getattr(ledger, "shared", False):
        return lambda _name, fetch, _ttl: fetch
    values = SharedValues(ledger.db)
    return lambda name, fetch, ttl: FetchOnce(values, name, fetch, ttl)


class History:
    """The Sessions and Usage tabs' data, shared by every viewer (one per studio).

    `monotonic` and `sleep` time the caches and the background work (tests pass virtual ones);
    `clock` is the studio's clock, for what "now" means in the tables.
    """

    def __init__(
        self, settings: Any, ledger: Any, gateway: Any, clock: Any, *, ttl: float = 10.0,
        monotonic: Monotonic = time.monotonic, sleep: Sleep = asyncio.sleep,
        tool_calls: Callable[[str], list[dict[str, Any]]] = lambda _session_id: [],
    ) -> None:
        self.settings, self.ledger, self.gateway, self.clock = settings, ledger, gateway, clock
        self.tool_calls = tool_calls  # the tool calls the studio answered in a session
        self.sleep, self.monotonic = sleep, monotonic
        self.mirror = LedgerMirror(ledger, clock, monotonic=monotonic)
        once = _once_for_all_replicas(ledger)
        self.conversations = ConversationsCache(
            gateway, ttl=ttl, monotonic=monotonic, sleep=sleep,
            fetch_list=once("conversations", lambda: gateway.list_conversations(100), ttl))
        self.organization = SharedValue(once("organization", gateway.organization, ORGANIZATION_TTL),
                                        ORGANIZATION_TTL, monotonic=monotonic)
        self.usage = SharedValue(once("usage", self._usage_30_days, USAGE_TTL), USAGE_TTL, monotonic=monotonic)
        self._merged_key: tuple[int, int] | None = None
        self._merged: pd.DataFrame = merge_sessions(empty_frame(), empty_frame())
        self._conversations_key: int | None = None
        self._conversations_frame: pd.DataFrame = empty_frame()
        self._merge_lock = threading.Lock()
        self._load_lock: asyncio.Lock | None = None
        self._task: asyncio.Task | None = None
        self._marks: dict[str | None, tuple[float, str]] = {}  # viewer -> (when, changes_mark)
        # The sessions' part of each viewer's mark, for one version of the merged frame.
        self._row_digests: tuple[tuple[int, int] | None, dict[str | None, bytes]] = (None, {})

    # Lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the background work (call from the running event loop)."""
        self.conversations.start()
        if self._task is None:
            self._task = asyncio.create_task(self._resync(), name="ledger-mirror")

    async def _resync(self) -> None:
        try:
            await self.ready()  # read the ledger once now, not on the first viewer's tick
        except Exception:  # a viewer's tick will try again
            log.exception("the first read of the ledger failed")
        while True:
            await self.sleep(min(self.mirror.resync_every, 60.0))
            if self.mirror.loaded and self.mirror.resync_due:
                try:
                    await asyncio.to_thread(self.mirror.full_read)
                except Exception:
                    log.exception("re-reading the ledger failed")

    async def stop(self) -> None:
        await self.conversations.stop()
        await cancel_and_wait(self._task)
        self._task = None

    async def ready(self) -> None:
        """Load the ledger mirror once, off the event loop."""
        if self.mirror.loaded:
            return
        lock = self._load_lock = self._load_lock or asyncio.Lock()
        async with lock:
            if not self.mirror.loaded:
                await asyncio.to_thread(self.mirror.full_read)

    # Sessions -------------------------------------------------------------------------------

    def merged(self) -> pd.DataFrame:
        """The ledger merged with the cached conversations (recomputed only when either changed)."""
        return self._versioned_merge()[1]

    def _versioned_merge(self) -> tuple[tuple[int, int], pd.DataFrame]:
        """The merged frame and its version (the ledger's and the conversations' versions)."""
        ledger = self.mirror.frame()
        with self._merge_lock:
            if self._conversations_key != self.conversations.version:
                self._conversations_frame = conversations_frame(self.conversations.items)
                self._conversations_key = self.conversations.version
            key = (self.mirror.version, self.conversations.version)
            if key != self._merged_key:
                self._merged = merge_sessions(ledger, self._conversations_frame)
                self._merged_key = key
            return key, self._merged

    def view(
        self, filters: Filters, *, limit: int | None = DEFAULT_LIMIT, client: str | None = None,
    ) -> SessionsView:
        """The table, figures and counts for some filters, from the caches (no upstream call).

        With `client`, everything (counts and figures included) covers only that caller's sessions.
        """
        now = self.clock.now()
        merged, names = of_client(self.merged(), client), self.conversations.names
        selected = select_sessions(merged, filters, names)
        figures = session_figures(
            selected, now, credits_per_minute=self.settings.credits_per_minute,
            usd_per_credit=self.settings.usd_per_credit,
        )
        return SessionsView(
            table=display_frame(selected, now, limit, names), figures=figures,
            matching=len(selected), total=len(merged), conversations_error=self.conversations.error,
            conversations_fetched_at=self.conversations.fetched_at,
        )

    async def sessions_view(
        self, filters: Filters, *, limit: int | None = DEFAULT_LIMIT, client: str | None = None,
    ) -> SessionsView:
        await self.ready()
        await self.conversations.latest()
        return self.view(filters, limit=limit, client=client)

    async def changes_mark(self, client: str | None = None) -> str:
        """A fingerprint of everything the Sessions tab can show a viewer (every session and the
        figures): it changes whenever that tab would. Re-reads upstream like a refresh; viewers
        share one reading per half refresh interval."""
        now = self.monotonic()
        kept = self._marks.get(client)
        if kept and now - kept[0] < self.settings.refresh_interval / 2:
            return kept[1]
        await self.ready()
        await self.conversations.latest()
        mark = self._mark(client)
        if len(self._marks) >= MARKS_KEPT:
            self._marks.clear()
        self._marks[client] = (now, mark)
        return mark

    def _mark(self, client: str | None) -> str:
        """The table and figures are functions of the sessions, the names and the clock, which
        enters only as time in the room (live calls) and the start of today; the sessions are
        hashed once per version of the merged frame."""
        version, merged = self._versioned_merge()
        names, now = self.conversations.names, self.clock.now()
        scoped = of_client(merged, client)
        selected = select_sessions(scoped, Filters(), names)
        rows = self._row_digest(version, selected, client)
        seconds = seconds_used(selected, now).tobytes()
        facts = repr((len(scoped), utc_day_start(now), self.conversations.error, sorted(names.items())))
        return hashlib.blake2b(rows + seconds + facts.encode(), digest_size=12).hexdigest()

    def _row_digest(self, version: tuple[int, int], selected: pd.DataFrame, client: str | None) -> bytes:
        kept_version, digests = self._row_digests
        if kept_version != version:
            self._row_digests = (version, digests := {})
        if client not in digests:
            if len(digests) >= MARKS_KEPT:
                digests.clear()
            rows = pd.util.hash_pandas_object(selected, index=False).to_numpy()
            digests[client] = hashlib.blake2b(rows.tobytes(), digest_size=16).digest()
        return digests[client]

    async def details(self, any_id: str) -> SessionDetails:
        """One session's details: the ledger's timeline plus what the conversations API knows."""
        row = self.ledger.get(any_id)
        events = self.ledger.events(row["request_id"]) if row else []
        session_id = row["session_id"] if row else any_id
        conversation, fetched_at = None, None
        if session_id:
            try:
                conversation, fetched_at = await self.conversations.details(
                    session_id, settled=bool(row and is_terminal(row["status"])))
            except StudioError as error:
                if row is None:
                    raise
                log.info("conversation %s unavailable: %s", session_id, error.message)
        if row is None and conversation is None:
            raise StudioError("not_found", "Neither the studio nor Runway knows that session.", 404)
        answered = self.tool_calls(session_id) if session_id else []
        return session_details(row, events, conversation, self.clock.now(), fetched_at=fetched_at,
                               answered=answered)

    def remember_names(self, names: dict[str, str]) -> None:
        """Characters' names the studio already knows (its own characters), so their sessions read
        by name before the next conversations listing says so."""
        self.conversations.names.update({k: v for k, v in names.items() if k and v})

    def avatar_choices(self) -> list[tuple[str, str]]:
        """(label, avatar id) of every avatar in the ledger or the conversations, then presets."""
        merged = self._merged
        seen = merged["avatar_id"].dropna().unique().tolist() if len(merged) else []
        names = self.conversations.names
        ordered = list(dict.fromkeys([*seen, *PRESET_AVATARS]))
        return [(avatar_label(a, names.get(a)), a) for a in ordered]

    # Usage ------------------------------------------------------------------------------------

    async def _usage_30_days(self) -> dict[str, Any]:
        today = datetime.fromtimestamp(utc_day_start(self.clock.now()), timezone.utc)
        end_day = today + timedelta(days=1)
        return await self.gateway.avatar_usage(end_day - timedelta(days=USAGE_DAYS), end_day)
