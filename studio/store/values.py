"""Values every replica shares through the database (`shared_values`).

- `setdefault`: a value made once for the whole deployment (the client-id salt).
- `FetchOnce`: an upstream value (the conversations listing, usage, the organization) fetched
  once per interval for all replicas: the replica that claims the row's lease fetches and
  publishes; the others read what it published. A lease outlives a replica that died mid-fetch
  only by `lease` seconds. No lock is held while the upstream answers.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any

from studio.store.base import Database

Wall = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class SharedValues:
    def __init__(self, db: Database) -> None:
        self.db = db

    def setdefault(self, name: str, value: str) -> str:
        """The stored value of `name`, storing `value` first if there is none."""
        with self.db.transaction() as tx:
            tx.execute("INSERT INTO shared_values (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                       (name, value))
            return tx.execute("SELECT value FROM shared_values WHERE name = ?", (name,)).fetchone()["value"]

    def read(self, name: str) -> tuple[str, float] | None:
        """The published value of `name` and when it was fetched (wall clock), if any."""
        rows = self.db.query("SELECT value, fetched_at FROM shared_values WHERE name = ? AND fetched_at > 0",
                             (name,))
        return (rows[0]["value"], float(rows[0]["fetched_at"])) if rows else None

    def claim(self, name: str, now: float, *, fresh_for: float, lease: float) -> bool:
        """Take the right to fetch `name` now: nobody published it in the last `fresh_for`
        seconds and nobody else holds an unexpired lease on it."""
        with self.db.transaction() as tx:
            cursor = tx.execute(
                "INSERT INTO shared_values (name, value, claimed_at) VALUES (?, 'null', ?)"
                " ON CONFLICT (name) DO UPDATE SET claimed_at = excluded.claimed_at"
                " WHERE shared_values.claimed_at < ? AND shared_values.fetched_at < ?",
                (name, now, now - lease, now - fresh_for))
            return cursor.rowcount == 1

    def publish(self, name: str, value: str, now: float) -> None:
        with self.db.transaction() as tx:
            tx.execute("UPDATE shared_values SET value = ?, fetched_at = ?, claimed_at = 0 WHERE name = ?",
                       (value, now, name))

    def release(self, name: str) -> None:
        with self.db.transaction() as tx:
            tx.execute("UPDATE shared_values SET claimed_at = 0 WHERE name = ?", (name,))


class FetchOnce:
    """`fetch`, called at most once per `ttl` for every replica sharing `values`' database."""

    def __init__(self, values: SharedValues, name: str, fetch: Callable[[], Awaitable[Any]], ttl: float, *,
                 lease: float = 30.0, wait: float = 5.0, wall: Wall = time.time, sleep: Sleep = asyncio.sleep) -> None:
        self.values, self.name, self.fetch, self.ttl = values, name, fetch, ttl
        self.lease, self.wait, self.wall, self.sleep = max(lease, ttl), wait, wall, sleep
        self.upstream_calls = 0

    async def __call__(self) -> Any:
        fresh = self._fresh()
        if fresh is not None:
            return fresh
        if self.values.claim(self.name, self.wall(), fresh_for=self.ttl * 0.9, lease=self.lease):
            return await self._fetch_and_publish()
        # Another replica is fetching it: wait for what it publishes, then do without it.
        waited = 0.0
        while waited < self.wait:
            await self.sleep(0.1)
            waited += 0.1
            fresh = self._fresh()
            if fresh is not None:
                return fresh
        return await self._fetch_and_publish()

    def _fresh(self) -> Any | None:
        published = self.values.read(self.name)
        if published is None or self.wall() - published[1] >= self.ttl * 0.9:
            return None
        return decode(published[0])

    async def _fetch_and_publish(self) -> Any:
        self.upstream_calls += 1
        try:
            value = await self.fetch()
        except BaseException:
            self.values.release(self.name)
            raise
        self.values.publish(self.name, encode(value), self.wall())
        return value


def encode(value: Any) -> str:
    """JSON that keeps datetimes and dates as such (the SDK's models carry them)."""
    return json.dumps(value, default=_tagged, separators=(",", ":"))


def decode(text: str) -> Any:
    return json.loads(text, object_hook=_untagged)


def _tagged(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    raise TypeError(f"{type(value).__name__} cannot be shared between replicas")


def _untagged(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        if "$datetime" in obj:
            return datetime.fromisoformat(obj["$datetime"])
        if "$date" in obj:
            return date.fromisoformat(obj["$date"])
    return obj
