"""The shared caches behind the Sessions and Usage tabs (`studio.history.caches`, `History`), on a
virtual time source: every wait below is virtual, none is real."""

from __future__ import annotations

import asyncio

import pytest

from studio.calls.ledger import Ledger
from studio.clock import FakeClock
from studio.config import Settings
from studio.errors import StudioError
from studio.history import ConversationsCache, Filters, History, LedgerMirror, SharedValue
from tests.sessions.history_data import CONVERSATIONS, CUSTOM, NOW
from tests.sessions.virtual_time import VirtualTime


class FakeGateway:
    """Runway's conversations, organization and usage; a listing takes `list_seconds` of `time`."""

    def __init__(self, items=None, fail=False, time: VirtualTime | None = None, list_seconds=0.01):
        self.items = items if items is not None else list(CONVERSATIONS)
        self.fail = fail
        self.time, self.list_seconds = time, list_seconds
        self.calls = {"list": 0, "get": 0, "organization": 0}

    async def list_conversations(self, limit):
        self.calls["list"] += 1
        if self.time:
            await self.time.sleep(self.list_seconds)
        else:
            await asyncio.sleep(0)  # concurrent readers arrive while the fetch is under way
        if self.fail:
            raise StudioError("upstream_down", "Runway is having trouble right now.", 502)
        return list(self.items)

    async def get_conversation(self, cid):
        self.calls["get"] += 1
        if cid == "missing":
            raise StudioError("not_found", "nope", 404)
        return {"id": cid, "status": "in_progress" if cid == "live" else "ended", "transcript": []}

    async def organization(self):
        self.calls["organization"] += 1
        return {"credit_balance": 5}

    async def avatar_usage(self, start, end):
        return {"by_day": [], "start": start, "end": end}


def cache_on(time: VirtualTime, gateway: FakeGateway, **options) -> ConversationsCache:
    return ConversationsCache(gateway, monotonic=time.monotonic, sleep=time.sleep, **options)


def test_many_concurrent_viewers_share_one_conversations_fetch():
    async def scenario():
        gateway = FakeGateway()
        cache = ConversationsCache(gateway, ttl=10)
        results = await asyncio.gather(*(cache.latest() for _ in range(50)))
        assert gateway.calls["list"] == 1 and all(len(r) == 3 for r in results)
        await cache.latest()
        assert gateway.calls["list"] == 1
        assert cache.names[CUSTOM] == "Robo"
    asyncio.run(scenario())


def test_the_background_refresh_rate_does_not_depend_on_how_many_read():
    async def run(readers):
        time = VirtualTime()
        gateway = FakeGateway(time=time)
        cache = cache_on(time, gateway, ttl=0.1)
        cache.start()

        async def viewer():
            for _ in range(14):
                await cache.latest()
                await time.sleep(0.05)

        await time.run_until_done(asyncio.gather(*(viewer() for _ in range(readers))),
                                  step=0.01, limit=5)
        await cache.stop()
        return gateway.calls["list"]
    one, many = asyncio.run(run(1)), asyncio.run(run(20))
    # 0.7 s of reading at one listing per 0.1 s, whoever reads.
    assert 6 <= one <= 8 and many == one


def test_the_cache_idles_without_viewers_and_keeps_old_items_on_errors():
    async def scenario():
        time = VirtualTime()
        gateway = FakeGateway(time=time)
        cache = cache_on(time, gateway, ttl=0.05, idle_after=0.1)
        cache.start()
        await time.advance(30)
        assert gateway.calls["list"] == 0            # nobody has looked: nothing fetched
        reading = asyncio.ensure_future(cache.latest())
        await time.run_until_done(reading, step=0.01, limit=1)
        assert gateway.calls["list"] == 1
        gateway.fail = True
        await time.advance(0.1)                      # the background task refreshes, and fails
        assert gateway.calls["list"] == 2 and "trouble" in cache.error
        assert len(await cache.latest()) == 3        # the last good list is kept
        await time.advance(0.2)                      # interest lapses 0.1 s after that read
        idle = gateway.calls["list"]
        await time.advance(30)                       # nobody looks any more: it idles again
        assert gateway.calls["list"] == idle
        await cache.stop()
    asyncio.run(scenario())


def test_conversation_details_are_cached_and_refetched_once_the_session_ended():
    async def scenario():
        gateway = FakeGateway()
        cache = ConversationsCache(gateway, ttl=10)
        await cache.details("done")
        await cache.details("done")
        assert gateway.calls["get"] == 1
        await cache.details("live")
        await cache.details("live")
        assert gateway.calls["get"] == 2
        await cache.details("live", settled=True)     # the ledger says it ended: fetch again
        assert gateway.calls["get"] == 3
        assert await cache.details("missing") == (None, None)
    asyncio.run(scenario())


def test_details_in_progress_are_kept_a_ttl_and_finished_ones_longer():
    async def scenario():
        time = VirtualTime()
        gateway = FakeGateway()
        cache = cache_on(time, gateway, ttl=10, detail_ttl=600)
        await cache.details("live")
        await cache.details("done")
        await time.advance(9.9)
        await cache.details("live")
        assert gateway.calls["get"] == 2
        await time.advance(0.1)
        await cache.details("live")
        await cache.details("done")
        assert gateway.calls["get"] == 3              # the live one again, the finished one kept
        await time.advance(590)
        await cache.details("done")
        assert gateway.calls["get"] == 4
    asyncio.run(scenario())


def test_a_shared_value_is_fetched_once_per_ttl():
    async def scenario():
        time = VirtualTime()
        gateway = FakeGateway()
        value = SharedValue(gateway.organization, ttl=60, monotonic=time.monotonic)
        await asyncio.gather(*(value.get() for _ in range(10)))
        assert gateway.calls["organization"] == 1
        await time.advance(59.9)
        await value.get()
        assert gateway.calls["organization"] == 1
        await time.advance(0.1)
        await value.get()
        assert gateway.calls["organization"] == 2
        await value.get(max_age=0)
        assert gateway.calls["organization"] == 3
    asyncio.run(scenario())


def _open(ledger, rid, at, avatar="music-superstar"):
    ledger.open_request(rid, avatar_id=avatar, client_id="c", mode="simulator", max_duration=300,
                        overrides={"maxDuration": 300}, at=at)


def test_the_ledger_mirror_follows_new_and_changing_rows(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite3")
    clock = FakeClock(NOW)
    _open(ledger, "old-done-1", NOW - 5000)
    ledger.attach_session("old-done-1", "s-old", NOW - 4999)
    ledger.record_status("old-done-1", "COMPLETED", NOW - 4900, duration=90)
    _open(ledger, "old-open-1", NOW - 4000)                     # still open: must stay followed
    ledger.attach_session("old-open-1", "s-open", NOW - 3999)
    mirror = LedgerMirror(ledger, clock, settle=600, min_interval=0)
    first = mirror.frame()
    assert set(first["request_id"]) == {"old-done-1", "old-open-1"}
    _open(ledger, "new-1", NOW)
    ledger.record_status("old-open-1", "RUNNING", NOW + 1)
    ledger.record_status("old-open-1", "COMPLETED", NOW + 2, duration=3)  # same fake second
    now = mirror.frame().set_index("request_id")
    assert set(now.index) == {"old-done-1", "old-open-1", "new-1"}
    assert now.loc["old-open-1", "status"] == "COMPLETED" and now.loc["new-1", "status"] == "REQUESTED"
    version = mirror.version
    mirror.frame()
    assert mirror.version == version               # nothing changed: the same frame
    ledger.close()


def test_the_ledger_mirror_rereads_at_most_once_per_interval(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite3")
    time = VirtualTime()
    mirror = LedgerMirror(ledger, FakeClock(NOW), min_interval=0.25, monotonic=time.monotonic)
    assert mirror.frame().empty
    _open(ledger, "new-1", NOW)
    time.now += 0.2
    assert mirror.frame().empty                    # read 0.2 s ago: every viewer shares it
    time.now += 0.05
    assert list(mirror.frame()["request_id"]) == ["new-1"]
    assert not mirror.resync_due
    time.now += mirror.resync_every
    assert mirror.resync_due
    ledger.close()


def test_history_serves_a_view_without_calling_upstream_per_viewer(tmp_path):
    async def scenario():
        ledger = Ledger(tmp_path / "l.sqlite3")
        _open(ledger, "req-00000001", NOW - 10)
        ledger.attach_session("req-00000001", "s-r1", NOW - 9.8)
        ledger.record_status("req-00000001", "READY", NOW - 8.5)
        gateway = FakeGateway()
        history = History(Settings(), ledger, gateway, FakeClock(NOW), ttl=10)
        views = await asyncio.gather(*(history.sessions_view(Filters()) for _ in range(20)))
        assert gateway.calls["list"] == 1
        table = views[0].table.set_index("id")
        assert table.loc["s-r1", "status"] == "ready" and table.loc["s-r1", "to READY (s)"] == 1.5
        assert "x-elsewhere" in table.index and views[0].total == 3  # s-r1 is in both
        failed = await history.sessions_view(Filters.parse(["FAILED"], now=NOW))
        assert failed.table["id"].tolist() == ["x-failed"] and failed.matching == 1
        details = await history.details("s-r1")
        assert details.can_cancel and [e["name"] for e in details.timeline][:2] == ["requested", "created"]
        assert (await history.details("x-elsewhere")).origin == "elsewhere"
        with pytest.raises(StudioError):
            await history.details("missing")
        ledger.close()
    asyncio.run(scenario())


def test_sessions_of_a_known_character_read_by_name_before_any_listing(tmp_path):
    async def scenario():
        ledger = Ledger(tmp_path / "l.sqlite3")
        avatar = "0f0e0d0c-0b0a-4908-8706-050403020100"
        _open(ledger, "req-00000001", NOW - 10, avatar=avatar)
        history = History(Settings(), ledger, FakeGateway(items=[]), FakeClock(NOW), ttl=10)
        before = (await history.sessions_view(Filters())).table["avatar"].tolist()
        history.remember_names({avatar: "Iris"})
        after = (await history.sessions_view(Filters())).table["avatar"].tolist()
        ledger.close()
        return before, after

    before, after = asyncio.run(scenario())
    assert "Iris" not in before[0] and "Iris" in after[0]
