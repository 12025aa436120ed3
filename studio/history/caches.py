"""The shared, server-side caches behind the Sessions and Usage tabs (data, not tables).

However many people watch, Runway sees one conversations listing per TTL and the ledger is read
incrementally. Each cache measures time with an injected monotonic function (and, where it waits,
an injected sleep), so tests drive them with a virtual time source instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pandas as pd

from studio.background import cancel_and_wait
from studio.errors import StudioError
from studio.history.frames import empty_frame, ledger_frame
from studio.history.words import CONVERSATION_IN_PROGRESS, avatar_names
from studio.vocabulary import PRESET_AVATARS, TERMINAL

log = logging.getLogger(__name__)

Monotonic = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class ConversationsCache:
    """The newest avatar conversations and per-id details, shared by every viewer.

    While anyone has read the list in the last `idle_after` seconds, one background task fetches
    it every `ttl` seconds: the upstream rate is the same for one viewer or a hundred, and zero
    when nobody watches. A read that finds nothing fresh (first use, or after an idle spell)
    fetches inline; concurrent readers share that one fetch.
    """

    def __init__(
        self, gateway: Any, *, ttl: float = 10.0, idle_after: float = 60.0, limit: int = 100,
        detail_ttl: float = 600.0, detail_slots: int = 256,
        monotonic: Monotonic = time.monotonic, sleep: Sleep = asyncio.sleep,
        fetch_list: Callable[[], Awaitable[list[dict[str, Any]]]] | None = None,
    ) -> None:
        self.gateway, self.ttl, self.idle_after, self.limit = gateway, ttl, idle_after, limit
        # How the list is fetched: straight from the gateway, or once for all replicas.
        self.fetch_list = fetch_list or (lambda: gateway.list_conversations(limit))
        self.detail_ttl, self.detail_slots = detail_ttl, detail_slots
        self.monotonic, self.sleep = monotonic, sleep
        self.items: list[dict[str, Any]] = []
        self.names: dict[str, str] = dict(PRESET_AVATARS)
        self.version = 0
        self.fetched_at: float | None = None    # wall clock of the last good fetch (for people)
        self.error: str | None = None
        self.upstream_calls = 0
        self._attempted: float | None = None  # monotonic time of the last attempt (scheduling)
        self._last_read = -math.inf
        self._inflight: asyncio.Future | None = None
        self._details: OrderedDict[str, tuple[float, float, dict[str, Any]]] = OrderedDict()
        self._detail_locks = KeyedLocks()
        self._task: asyncio.Task | None = None

    # The list -----------------------------------------------------------------------------

    async def latest(self) -> list[dict[str, Any]]:
        """The cached list, fetched first if it is missing or stale."""
        self._last_read = self.monotonic()
        stale_after = self.ttl * (1.5 if self.running else 1.0)  # leave the beat to the task
        never = self.version == 0 and self.error is None
        if self._attempted is None or never or self.monotonic() - self._attempted >= stale_after:
            await self.refresh(min_age=self.ttl / 2)
        return self.items

    async def refresh(self, min_age: float = 0.0) -> None:
        """Fetch the list now, unless a fetch is under way (then wait for it) or one ended less
        than `min_age` seconds ago. A viewer that goes away does not cancel the shared fetch."""
        if self._inflight is None or self._inflight.done():
            if self._attempted is not None and self.monotonic() - self._attempted < min_age and (
                    self.version or self.error):
                return
            self._inflight = asyncio.ensure_future(self._fetch())
        await asyncio.shield(self._inflight)

    async def _fetch(self) -> None:
        self._attempted = self.monotonic()
        self.upstream_calls += 1
        try:
            items = await self.fetch_list()
        except StudioError as error:
            self.error = error.message
            return
        except Exception as error:  # never let the table die of a cache
            log.exception("listing conversations failed")
            self.error = f"Could not list conversations ({type(error).__name__})."
            return
        self.items, self.error, self.fetched_at = items, None, time.time()
        self.names.update(avatar_names(items))
        self.version += 1

    @property
    def wanted(self) -> bool:
        return self.monotonic() - self._last_read < self.idle_after

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if not self.running:
            self._task = asyncio.create_task(self._run(), name="conversations-cache")

    async def stop(self) -> None:
        await cancel_and_wait(self._task, self._inflight)
        self._task = self._inflight = None

    async def _run(self) -> None:
        while True:
            age = math.inf if self._attempted is None else self.monotonic() - self._attempted
            if self.wanted and age >= self.ttl * 0.98:
                await self.refresh()
                age = 0.0
            await self.sleep(max(0.05, self.ttl - age) if self.wanted else min(self.ttl, 1.0))

    # Details --------------------------------------------------------------------------------

    async def details(
        self, conversation_id: str, *, settled: bool = False,
    ) -> tuple[dict[str, Any] | None, float | None]:
        """One conversation's details and when they were fetched; (None, None) if Runway has none.

        Details of a conversation still in progress are kept `ttl` seconds, finished ones
        `detail_ttl` (their recording link stays valid for a day or more). `settled` says the
        session is known to have ended, so a copy taken while it was in progress is refetched.
        """
        async with self._detail_locks.hold(conversation_id):
            cached = self._details.get(conversation_id)
            if cached:
                monotonic_at, wall_at, value = cached
                in_progress = value.get("status") == CONVERSATION_IN_PROGRESS
                keep = self.ttl if in_progress else self.detail_ttl
                if self.monotonic() - monotonic_at < keep and not (settled and in_progress):
                    self._details.move_to_end(conversation_id)
                    return value, wall_at
            self.upstream_calls += 1
            try:
                value = await self.gateway.get_conversation(conversation_id)
            except StudioError as error:
                if error.code == "not_found":
                    return None, None
                raise
            self._details[conversation_id] = (self.monotonic(), time.time(), value)
            while len(self._details) > self.detail_slots:
                self._details.popitem(last=False)
            return value, self._details[conversation_id][1]


class KeyedLocks:
    """One asyncio lock per key, kept only while someone holds or waits for it (junk keys leave
    nothing)."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[asyncio.Lock, list[int]]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._entries.setdefault(key, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._entries[key]


# The ledger columns whose change makes a row read differently.
_FINGERPRINT = ("request_id", "status", "queued", "updated_at", "ready_at", "first_frame_at",
                "running_at", "ended_at", "duration", "failure_code")


class LedgerMirror:
    """The ledger as one typed frame, kept current by reading only what can still change.

    A full read decodes every row (slow for thousands), so it happens once and then rarely,
    off the event loop. Rows requested before `cutoff` had all ended by that read and cannot
    change any more (terminal rows never move; late browser reports land within minutes), so each
    refresh re-reads only the rows requested since the cutoff, at most every `min_interval` s,
    shared by all viewers.
    """

    def __init__(
        self, ledger: Any, clock: Any, *, settle: float = 900.0, resync_every: float = 900.0,
        min_interval: float = 0.25, monotonic: Monotonic = time.monotonic,
    ) -> None:
        self.ledger, self.clock, self.monotonic = ledger, clock, monotonic
        self.settle, self.resync_every, self.min_interval = settle, resync_every, min_interval
        self.version = 0
        self._lock = threading.Lock()
        self._frozen: pd.DataFrame | None = None
        self._cutoff = -math.inf
        self._synced = -math.inf            # monotonic time of the last full read
        self._checked = -math.inf           # monotonic time of the last incremental read
        self._live_key: tuple[Any, ...] | None = None
        self._frame: pd.DataFrame = empty_frame()

    @property
    def loaded(self) -> bool:
        return self._frozen is not None

    @property
    def resync_due(self) -> bool:
        return self.monotonic() - self._synced >= self.resync_every

    def full_read(self) -> None:
        """Read every row (blocking; call it in a thread from async code)."""
        now = self.clock.now()
        started = self.monotonic()
        everything = ledger_frame(self.ledger.list(limit=None))
        open_rows = everything[~everything["status"].isin(TERMINAL)]
        cutoff = now - self.settle
        if len(open_rows):
            cutoff = min(cutoff, float(open_rows["created"].min()))
        frozen = everything[everything["created"] < cutoff]
        with self._lock:
            self._frozen, self._cutoff, self._synced = frozen, cutoff, started
            self._checked, self._live_key = -math.inf, None
        self.frame()

    def frame(self) -> pd.DataFrame:
        """The whole ledger as a frame (newest first), current to within `min_interval` s."""
        if self._frozen is None:
            self.full_read()
        if self.monotonic() - self._checked < self.min_interval:
            return self._frame
        with self._lock:
            if self.monotonic() - self._checked < self.min_interval:
                return self._frame
            rows = self.ledger.list(since=self._cutoff, limit=None)
            key = (id(self._frozen), *(tuple(r[c] for c in _FINGERPRINT) for r in rows))
            if key != self._live_key:
                live = ledger_frame(rows)
                parts = [p for p in (live, self._frozen) if len(p)]
                self._frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else (
                    parts[0].reset_index(drop=True) if parts else empty_frame())
                self._live_key = key
                self.version += 1
            self._checked = self.monotonic()
            return self._frame


class SharedValue:
    """One upstream value (organization, usage) shared by every viewer for `ttl` seconds."""

    def __init__(
        self, fetch: Callable[[], Awaitable[Any]], ttl: float, *,
        monotonic: Monotonic = time.monotonic,
    ) -> None:
        self.fetch, self.ttl, self.monotonic = fetch, ttl, monotonic
        self.value: Any = None
        self.error: str | None = None
        self.fetched_at: float | None = None
        self.upstream_calls = 0
        self._attempted: float | None = None
        self._lock: asyncio.Lock | None = None

    async def get(self, *, max_age: float | None = None) -> Any:
        """The value, fetched again if older than `max_age` (default: the TTL). Raises StudioError
        only when there has never been a value."""
        limit = self.ttl if max_age is None else max_age
        lock = self._lock = self._lock or asyncio.Lock()
        async with lock:
            if self._attempted is None or self.monotonic() - self._attempted >= limit:
                self._attempted = self.monotonic()
                self.upstream_calls += 1
                try:
                    self.value, self.error, self.fetched_at = await self.fetch(), None, time.time()
                except StudioError as error:
                    self.error = error.message
            if self.value is None and self.error:
                raise StudioError("upstream_error", self.error, 502)
            return self.value
