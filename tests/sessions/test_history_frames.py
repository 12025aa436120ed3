"""The Sessions/Usage domain's pure functions: merging, words, timings, filters, search, figures,
details and the account's usage (`studio.history` frames, filters, figures, details, words)."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from studio.history import (
    TABLE_COLUMNS,
    Filters,
    account_limits,
    clock_duration,
    failure_text,
    merge_sessions,
    parse_when,
    session_details,
    session_figures,
    sessions_frame,
    usage_by_day,
)
from studio.vocabulary import FAILURE_WORDS, NO_PARTICIPANT
from tests.sessions.history_data import CONVERSATIONS, NOW, ROWS


def frame(filters=None, **parsed):
    if parsed:
        filters = Filters.parse(now=NOW, **parsed)
    return sessions_frame(ROWS, CONVERSATIONS, filters, NOW)


# Words --------------------------------------------------------------------------------------


def test_a_failure_reads_as_its_code_and_words_and_unknown_codes_as_they_are():
    assert failure_text(NO_PARTICIPANT) == f"{NO_PARTICIPANT}: {FAILURE_WORDS[NO_PARTICIPANT]}"
    assert failure_text(NO_PARTICIPANT, "Runway's own text") == failure_text(NO_PARTICIPANT)
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
    assert table.loc["s-r2", "failure"] == f"{NO_PARTICIPANT}: {FAILURE_WORDS[NO_PARTICIPANT]}"
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


def test_details_show_the_tool_calls_the_studio_answered_when_runway_has_no_record_of_them():
    answered = [{"tool": "look_up_order", "arguments": {"order_id": "5150"}, "answer": {"status": "shipped"},
                 "error": None, "latency_ms": 12.5, "at": NOW - 30, "kind": "backend_rpc"}]
    details = session_details(ROWS[3], [], None, NOW, answered=answered)
    assert details.tool_calls == [{"name": "look_up_order", "arguments": {"order_id": "5150"},
                                   "result": {"status": "shipped"}, "error": None,
                                   "duration_ms": 12.5, "at": NOW - 30}]
    convo = {**CONVERSATIONS[0], "transcript": [{"role": "assistant", "content": None, "tool_calls": [
        {"id": "t1", "name": "wave", "arguments": {}}], "tool_results": [{"id": "t1", "result": "ok"}]}]}
    assert [c["name"] for c in session_details(ROWS[0], [], convo, NOW, answered=answered).tool_calls] == ["wave"]


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


