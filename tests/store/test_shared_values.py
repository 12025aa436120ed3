"""Values replicas share through the database, on both back-ends: the client-id salt, and
upstream values fetched once per interval for every replica."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timezone

import pytest

from studio.store import open_database
from studio.store.values import FetchOnce, SharedValues, decode, encode


class Wall:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def replicas(target: str, count: int = 3) -> list[SharedValues]:
    """`count` replicas' views of one database, each through its own connection."""
    return [SharedValues(open_database(target)) for _ in range(count)]


def test_a_value_made_once_is_the_one_every_replica_reads(database_target):
    views = replicas(database_target)
    kept = [view.setdefault("client-id-salt", proposal) for view, proposal in zip(views, "abc")]
    assert kept == ["a", "a", "a"]


def test_one_upstream_fetch_per_interval_for_all_replicas(database_target):
    wall, calls = Wall(), []

    async def fetch():
        calls.append(wall.now)
        return {"at": datetime(2026, 12, 1, tzinfo=timezone.utc), "n": len(calls)}

    fetchers = [FetchOnce(view, "usage", fetch, ttl=10, wall=wall) for view in replicas(database_target)]

    async def read_all():
        return [await each() for each in fetchers]

    first = asyncio.run(read_all())
    assert len(calls) == 1 and all(value == first[0] for value in first)
    assert first[1]["at"] == datetime(2026, 12, 1, tzinfo=timezone.utc)
    wall.now += 5
    asyncio.run(read_all())
    assert len(calls) == 1
    wall.now += 6
    again = asyncio.run(read_all())
    assert len(calls) == 2 and [v["n"] for v in again] == [2, 2, 2]


def test_a_replica_waits_for_the_one_fetching_and_takes_over_a_dead_lease(database_target):
    wall = Wall()
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        wall.now += seconds

    async def fetch():
        return "fresh"

    first, second = replicas(database_target, 2)
    assert first.claim("conversations", wall.now, fresh_for=9, lease=30)  # then "dies"
    waiting = FetchOnce(second, "conversations", fetch, ttl=10, wait=2, wall=wall, sleep=sleep)
    assert asyncio.run(waiting()) == "fresh"  # gave up waiting after 2 s and fetched itself
    assert 1.9 < sum(slept) < 2.2
    wall.now += 31
    assert second.claim("conversations", wall.now, fresh_for=9, lease=30)


def test_a_failed_fetch_releases_the_lease_at_once(database_target):
    wall = Wall()

    async def broken():
        raise RuntimeError("upstream down")

    view, other = replicas(database_target, 2)
    with pytest.raises(RuntimeError):
        asyncio.run(FetchOnce(view, "organization", broken, ttl=30, wall=wall)())
    assert other.claim("organization", wall.now, fresh_for=27, lease=30)


def test_the_codec_keeps_dates_and_refuses_what_it_cannot_share():
    value = {"day": date(2026, 12, 1), "items": [{"at": datetime(2026, 12, 1, 9, 30)}], "n": 1.5}
    assert decode(encode(value)) == value
    with pytest.raises(TypeError):
        encode({"x": object()})


def test_client_ids_match_across_replicas_and_survive_from_a_salt_file(database_target, tmp_path):
    from studio.core import _client_salt

    legacy_dir = tmp_path / "old-release"
    legacy_dir.mkdir()
    (legacy_dir / "client-id-salt").write_bytes(b"0123456789abcdef")
    first = _client_salt(open_database(database_target), legacy_dir)
    second = _client_salt(open_database(database_target), tmp_path / "another-replica")
    assert first == second == b"0123456789abcdef"
