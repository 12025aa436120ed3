"""The Sessions/Usage domain: merging, labels, timings, filters, search, figures, details, caches."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timezone

import pytest

from studio.clock import FakeClock
from studio.config import Settings
from studio.errors import StudioError
from studio.history import (
    TABLE_COLUMNS,
    ConversationsCache,
    Filters,
    History,
    LedgerMirror,
    SharedValue,
    account_limits,
    clock_duration,
    explain_failure,
    failure_text,
    merge_sessions,
    parse_when,
    session_details,
    session_figures,
    sessions_frame,
    status_label,
    usage_by_day,
)
from studio.ledger import Ledger

NOW = 1_790_000_000.0  # 2026-09-21 14:13:20 UTC
CUSTOM = "1234abcd-0000-4000-8000-000000000000"


def row(rid, *, status, avatar="music-superstar", at, ready=None, frame=None, running=None, ended=None,
        duration=None, queued=False, code=None, failure=None, session=True):
    return {
        "request_id": rid, "session_id": f"s-{rid}" if session else None, "avatar_id": avatar,
        "status": status, "queued": queued, "failure_code": code, "failure": failure,
        "duration": duration, "requested_at": at, "created_at": at + 0.2 if session else None,
        "ready_at": None if ready is None else at + ready,
        "first_frame_at": None if frame is None else at + frame,
        "running_at": None if running is None else at + running,
        "ended_at": None if ended is None else at + ended,
        "overrides": {"maxDuration": 300}, "transcript": None, "mode": "simulator",
    }


def conversation(cid, *, status="ended", at=NOW - 30, avatar=None, duration=None):
    return {"id": cid, "name": "Conversation", "status": status, "has_tools": False,
            "avatar": avatar or {"type": "runway-preset", "preset_id": "cat-character", "name": "Mochi"},
            "created_at": datetime.fromtimestamp(at, timezone.utc), "duration": duration}


ROWS = [
    row("r1", status="COMPLETED", at=NOW - 600, ready=1.25, frame=3.47, running=3.0, ended=80, duration=75),
    row("r2", status="FAILED", avatar="cat-character", at=NOW - 300, ready=2.0, ended=23,
        code="TALKING_AVATAR.NO_PARTICIPANT", failure="No participants joined the session"),
    row("r3", status="NOT_READY", at=NOW - 2, queued=True),
    row("r4", status="RUNNING", at=NOW - 100, ready=1.0, frame=2.0, running=5.0),
    row("r5", status="NOT_READY", avatar=CUSTOM, at=NOW - 1),
    row("r6", status="FAILED", at=NOW - 90_000, code="provisioning_timeout", failure="late", ended=90,
        session=False),
    row("r7", status="CANCELLED", at=NOW - 200, ready=1.5, ended=10, code="weird_new_code",
        failure="Something odd"),
]
CONVERSATIONS = [
    conversation("s-r1", at=NOW - 600, duration=75,
                 avatar={"type": "runway-preset", "preset_id": "music-superstar", "name": "Mina"}),
    conversation("x-elsewhere", status="in_progress", at=NOW - 50, duration=12,
                 avatar={"type": "custom", "id": CUSTOM, "name": "Robo"}),
    conversation("x-failed", status="failed", at=NOW - 4000),
]


def frame(filters=None, **parsed):
    if parsed:
        filters = Filters.parse(now=NOW, **parsed)
    return sessions_frame(ROWS, CONVERSATIONS, filters, NOW)


# Words --------------------------------------------------------------------------------------


def test_status_labels_split_not_ready_into_queued_and_provisioning():
    assert status_label("NOT_READY", queued=True) == "queued"
    assert status_label("NOT_READY") == "provisioning"
    assert [status_label(s) for s in ("READY", "RUNNING", "COMPLETED", "IN_PROGRESS")] == [
        "ready", "running", "completed", "in progress"]


def test_failures_in_plain_words_and_unknown_codes_as_they_are():
    assert explain_failure("TALKING_AVATAR.NO_PARTICIPANT") == "Nobody joined within 20 s"
    assert failure_text("studio_busy") == "studio_busy: All of the studio's call slots were in use"
    assert failure_text("rate_limited").startswith("rate_limited: ")
    assert failure_text("weird_new_code", "Something odd") == "weird_new_code: Something odd"
    assert failure_text("weird_new_code") == "weird_new_code"
    assert failure_text(None, "ignored") == ""


def test_durations_read_as_minutes_and_seconds():
    assert [clock_duration(s) for s in (0, 5, 59.9, 60, 75, 300, None, float("nan"))] == [
        "0:00", "0:05", "0:59", "1:00", "1:15", "5:00", "", ""]


def test_date_bounds_are_utc_and_a_whole_day_is_included():
    assert parse_when("2026-09-21", NOW) == datetime(2026, 9, 21, tzinfo=timezone.utc).timestamp()
    assert parse_when("2026-09-21", NOW, end=True) == datetime(2026, 9, 22, tzinfo=timezone.utc).timestamp()
    assert parse_when("2026-09-21 14:00:00", NOW) == datetime(2026, 9, 21, 14, tzinfo=timezone.utc).timestamp()
    assert parse_when("now - 2h", NOW) == NOW - 7200
    assert parse_when("now", NOW) == NOW
    assert parse_when("", NOW) is None and parse_when(None, NOW) is None
    with pytest.raises(ValueError, match="not a date"):
        parse_when("yesterday-ish", NOW)


# The table ---------------------------------------------------------------------------------


def test_the_table_merges_the_ledger_with_conversations_started_elsewhere():
    table = frame()
    assert tuple(table.columns) == TABLE_COLUMNS
    # Newest first; s-r1 appears once (the ledger's row), two conversations come from elsewhere.
    assert table["id"].tolist() == ["s-r5", "s-r3", "x-elsewhere", "s-r4", "s-r7", "s-r2", "s-r1",
                                    "x-failed", "r6"]
    origin = dict(zip(table["id"], table["origin"]))
    assert origin["s-r1"] == "this studio" and origin["x-elsewhere"] == "elsewhere"
    # A custom avatar takes its name from the conversations, presets their display names.
    avatars = dict(zip(table["id"], table["avatar"]))
    assert avatars["s-r5"] == "Robo" and avatars["s-r2"] == "Mochi" and avatars["s-r1"] == "Mina"


def test_the_table_shows_labels_timings_durations_and_failures():
    table = frame().set_index("id")
    assert table.loc["s-r3", "status"] == "queued" and table.loc["s-r5", "status"] == "provisioning"
    assert table.loc["x-elsewhere", "status"] == "in progress"
    assert table.loc["s-r1", "to READY (s)"] == 1.2 or table.loc["s-r1", "to READY (s)"] == 1.3
    assert table.loc["s-r1", "to 1st frame (s)"] == 3.5
    assert table.loc["s-r3", "to READY (s)"] is None
    assert table.loc["s-r1", "duration"] == "1:15"
    assert table.loc["s-r4", "duration"] == "1:35"          # running: time since RUNNING was seen
    assert table.loc["x-elsewhere", "duration"] == "0:12"
    assert table.loc["s-r2", "duration"] == ""               # never ran
    assert table.loc["s-r2", "failure"] == "TALKING_AVATAR.NO_PARTICIPANT: Nobody joined within 20 s"
    assert table.loc["s-r7", "failure"] == "weird_new_code: Something odd"
    assert table.loc["r6", "failure"].startswith("provisioning_timeout: Runway did not")
    assert table.loc["s-r1", "created (UTC)"] == "2026-09-21 14:03:20"


def test_filters_by_status_including_queued_provisioning_and_groups():
    assert frame(statuses=["FAILED"])["id"].tolist() == ["s-r2", "x-failed", "r6"]
    assert frame(statuses=["failed"])["id"].tolist() == ["s-r2", "x-failed", "r6"]
    assert frame(statuses=["queued"])["id"].tolist() == ["s-r3"]
    assert frame(statuses=["provisioning"])["id"].tolist() == ["s-r5"]
    assert frame(statuses=["NOT_READY"])["id"].tolist() == ["s-r5", "s-r3"]
    assert frame(statuses=["open"])["id"].tolist() == ["s-r5", "s-r3", "x-elsewhere", "s-r4"]
    assert set(frame(statuses=["ended"])["id"]) == {"s-r7", "s-r2", "s-r1", "x-failed", "r6"}
    assert frame(statuses=["RUNNING", "CANCELLED"])["id"].tolist() == ["s-r4", "s-r7"]


def test_filters_by_avatar_id_or_name_and_by_date_range():
    assert frame(avatar="cat-character")["id"].tolist() == ["s-r2", "x-failed"]
    assert frame(avatar="Robo")["id"].tolist() == ["s-r5", "x-elsewhere"]
    assert frame(avatar="All avatars")["id"].size == 9
    assert frame(since="now - 5m")["id"].tolist() == ["s-r5", "s-r3", "x-elsewhere", "s-r4", "s-r7", "s-r2"]
    assert frame(until="2026-09-20")["id"].tolist() == ["r6"]             # that whole day, nothing after
    assert frame(since="2026-09-21 14:00", until="2026-09-21 14:05")["id"].tolist() == ["s-r1"]


def test_search_looks_in_avatars_statuses_failures_and_ids():
    assert frame(search="NOBODY joined")["id"].tolist() == ["s-r2"]
    assert frame(search="mochi")["id"].tolist() == ["s-r2", "x-failed"]
    assert frame(search="x-else")["id"].tolist() == ["x-elsewhere"]
    assert frame(search="queued")["id"].tolist() == ["s-r3"]
    assert frame(search="elsewhere")["id"].tolist() == ["x-elsewhere", "x-failed"]
    assert frame(search="no such thing").empty


def test_a_limit_keeps_the_newest_rows_and_an_empty_ledger_gives_an_empty_table():
    assert sessions_frame(ROWS, [], None, NOW, limit=2)["id"].tolist() == ["s-r5", "s-r3"]
    empty = sessions_frame([], [], None, NOW)
    assert empty.empty and tuple(empty.columns) == TABLE_COLUMNS


def test_figures_from_known_sessions():
    merged = merge_sessions(ROWS, CONVERSATIONS)
    figures = session_figures(merged, NOW, credits_per_minute=20.0, usd_per_credit=0.01)
    assert figures.sessions == 9
    assert figures.today == 8                       # all but r6 (yesterday, UTC)
    assert figures.ended == 5 and figures.completed == 1 and figures.success_rate == pytest.approx(0.2)
    # To READY: r1 1.25, r2 2.0, r4 1.0, r7 1.5 → p50 1.375; first frame: 3.47 and 2.0.
    assert figures.ready_p50 == pytest.approx(1.375)
    assert figures.ready_p95 == pytest.approx(1.925)
    assert figures.frame_p50 == pytest.approx(2.735)
    # Minutes: r1 75 s + r4 running 95 s + elsewhere 12 s = 182 s.
    assert figures.minutes == pytest.approx(182 / 60)
    assert figures.credits == pytest.approx(182 / 60 * 20)
    assert figures.usd == pytest.approx(182 / 60 * 20 * 0.01)
    assert figures.open == 4


def test_figures_of_nothing_have_no_rates():
    figures = session_figures(merge_sessions([], []), NOW, credits_per_minute=20, usd_per_credit=0.01)
    assert figures.sessions == 0 and figures.success_rate is None and figures.ready_p50 is None
    assert figures.minutes == 0


# Details ------------------------------------------------------------------------------------


def test_details_of_a_studio_session_prefer_the_ledgers_transcript():
    ledger_row = ROWS[0] | {"transcript": [{"role": "user", "content": "hi", "timestamp": None}]}
    events = [{"name": "requested", "at": NOW - 600, "detail": None},
              {"name": "ready", "at": NOW - 598.75, "detail": None}]
    convo = {**CONVERSATIONS[0], "recording_url": "https://rec.example/1.mp4", "tools": [
        {"type": "client_event", "name": "wave", "description": "Wave"}], "transcript": [
        {"role": "assistant", "content": "hello", "tool_calls": [{"id": "t1", "name": "wave",
                                                                  "arguments": {"hand": "left"}}],
         "tool_results": [{"id": "t1", "name": "wave", "result": "ok"}]}]}
    details = session_details(ledger_row, events, convo, NOW, fetched_at=NOW)
    assert details.key == "s-r1" and details.origin == "this studio" and not details.can_cancel
    assert [e["name"] for e in details.timeline] == ["requested", "ready"]
    assert details.timeline[1]["offset"] == pytest.approx(1.25)
    assert details.transcript == [{"role": "user", "content": "hi", "timestamp": None}]
    assert details.tool_calls[0]["name"] == "wave" and details.tool_calls[0]["result"] == "ok"
    assert details.recording_url == "https://rec.example/1.mp4" and details.recording_fetched_at == NOW
    assert details.overrides == {"maxDuration": 300} and details.duration == "1:15"


def test_details_fall_back_to_the_conversation_and_only_open_studio_sessions_can_be_cancelled():
    running = session_details(ROWS[3], [], None, NOW)
    assert running.can_cancel and running.label == "running" and running.transcript == []
    convo = {**CONVERSATIONS[1], "transcript": [{"role": "user", "content": "yo"}],
             "started_at": datetime.fromtimestamp(NOW - 45, timezone.utc)}
    elsewhere = session_details(None, [], convo, NOW)
    assert elsewhere.origin == "elsewhere" and not elsewhere.can_cancel
    assert elsewhere.transcript_source == "Runway's conversations API"
    assert [e["name"] for e in elsewhere.timeline] == ["created", "started"]
    failed = session_details(ROWS[1], [], None, NOW)
    assert failed.failure.startswith("TALKING_AVATAR.NO_PARTICIPANT") and not failed.can_cancel


# Usage --------------------------------------------------------------------------------------


def test_usage_by_day_and_account_limits():
    days = usage_by_day({"by_day": [{"date": date(2026, 9, 20), "seconds": 90, "sessions": 2},
                                    {"date": date(2026, 9, 21), "seconds": 0, "sessions": 0}]})
    assert days["sessions"].tolist() == [2, 0] and days["minutes"].tolist() == [1.5, 0.0]
    limits = account_limits({
        "credit_balance": 950,
        "tier": {"max_monthly_credit_spend": 10000,
                 "models": {"gwm1_avatars": {"max_concurrent_generations": 1, "max_daily_generations": 50}}},
        "usage": {"models": {"gwm1_avatars": {"daily_generations": 7}}},
    })
    assert (limits.credit_balance, limits.max_concurrent, limits.max_daily, limits.used_today) == (950, 1, 50, 7)
    assert account_limits({}).credit_balance is None


# Caches -------------------------------------------------------------------------------------


class FakeGateway:
    def __init__(self, items=None, fail=False):
        self.items = items if items is not None else list(CONVERSATIONS)
        self.fail = fail
        self.calls = {"list": 0, "get": 0, "organization": 0}

    async def list_conversations(self, limit):
        self.calls["list"] += 1
        await asyncio.sleep(0.01)
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
        gateway = FakeGateway()
        cache = ConversationsCache(gateway, ttl=0.1)
        cache.start()
        async def viewer():
            for _ in range(14):
                await cache.latest()
                await asyncio.sleep(0.05)
        await asyncio.gather(*(viewer() for _ in range(readers)))
        await cache.stop()
        return gateway.calls["list"]
    one, many = asyncio.run(run(1)), asyncio.run(run(20))
    assert 5 <= one <= 10 and many <= one + 1


def test_the_cache_idles_without_viewers_and_keeps_old_items_on_errors():
    async def scenario():
        gateway = FakeGateway()
        cache = ConversationsCache(gateway, ttl=0.05, idle_after=0.1)
        cache.start()
        await asyncio.sleep(0.3)
        assert gateway.calls["list"] == 0            # nobody has looked: nothing fetched
        await cache.latest()
        gateway.fail = True
        await asyncio.sleep(0.1)
        assert len(await cache.latest()) == 3 and "trouble" in cache.error
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


def test_a_shared_value_is_fetched_once_per_ttl():
    async def scenario():
        gateway = FakeGateway()
        value = SharedValue(gateway.organization, ttl=60)
        await asyncio.gather(*(value.get() for _ in range(10)))
        assert gateway.calls["organization"] == 1
        await value.get(max_age=0)
        assert gateway.calls["organization"] == 2
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
