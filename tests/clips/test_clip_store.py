"""The clips table on both back-ends (SQLite, then PostgreSQL): rows from request to end, groups,
cancels, restarts and the usage totals."""

from __future__ import annotations

import pytest

from studio.clips.store import ClipStore, NewClip
from studio.clips.words import explain_clip_failure
from studio.store import open_database

T0 = 1_790_000_000.0


@pytest.fixture
def store(database_target):
    db = open_database(database_target)
    yield ClipStore(db)
    db.close()


def new(clip_id: str, **extra) -> NewClip:
    fields = {"clip_id": clip_id, "avatar_id": "music-superstar", "avatar_name": "Mina", "voice": "preset:clara",
              "voice_name": "Clara", "estimated_credits": 3, "client_id": "c1", "script": "Hello there."}
    return NewClip(**(fields | extra))


def test_a_clip_goes_from_request_to_its_video(store):
    store.add(new("a"), T0)
    assert store.get("a")["status"] == "REQUESTED" and store.open_clips() == []  # no task yet
    assert store.attach_task("a", "task-a", T0 + 1)
    assert [r["clip_id"] for r in store.open_clips()] == ["a"]
    assert store.record("a", "PENDING", T0 + 2, estimated_credits=4.0) is False  # nothing new
    assert store.record("a", "RUNNING", T0 + 3, progress=0.2)
    assert store.record("a", "RUNNING", T0 + 4, progress=0.2) is False
    assert store.record("a", "RUNNING", T0 + 5, progress=0.6)
    assert store.record("a", "SUCCEEDED", T0 + 9, cost_credits=4, output_url="http://sim/x.mp4",
                        output_expires_at=T0 + 99, duration=5.25)
    row = store.get("a")
    assert (row["status"], row["cost_credits"], row["duration"], row["output_url"]) == \
        ("SUCCEEDED", 4, 5.25, "http://sim/x.mp4")
    assert (row["started_at"], row["ended_at"], row["output_expires_at"]) == (T0 + 3, T0 + 9, T0 + 99)
    assert row["voice_name"] == "Clara" and row["script"] == "Hello there."
    # A terminal clip never moves again.
    assert store.record("a", "FAILED", T0 + 20, failure="late") is False
    assert store.get("a")["status"] == "SUCCEEDED" and store.open_clips() == []


def test_a_failure_keeps_runways_words_and_code(store):
    store.add(new("f"), T0)
    store.attach_task("f", "task-f", T0)
    store.record("f", "FAILED", T0 + 5, cost_credits=0, failure="Bad audio.", failure_code="ASSET.INVALID")
    row = store.get("f")
    assert (row["status"], row["failure"], row["failure_code"], row["cost_credits"]) == \
        ("FAILED", "Bad audio.", "ASSET.INVALID", 0)


def test_a_cancel_during_the_create_is_seen_when_the_task_arrives(store):
    store.add(new("c"), T0)
    store.mark_cancel_pending("c", True, T0 + 1)
    assert store.attach_task("c", "task-c", T0 + 2) is False
    assert store.open_clips()[0]["cancel_pending"] == 1
    store.record("c", "CANCELLED", T0 + 3, failure_code="cancelled")
    assert store.get("c")["cancel_pending"] == 0


def test_one_canceller_at_a_time_until_it_lets_go_or_its_hold_runs_out(store):
    store.add(new("k"), T0)
    store.attach_task("k", "task-k", T0)
    assert not store.claim_cancel("k", T0 + 1, hold=60)  # nobody asked for a cancel
    store.mark_cancel_pending("k", True, T0 + 1)
    assert store.claim_cancel("k", T0 + 1, hold=60)
    assert not store.claim_cancel("k", T0 + 2, hold=60)  # another click, the follower, a replica
    store.release_cancel("k")
    assert store.claim_cancel("k", T0 + 3, hold=60)
    assert store.claim_cancel("k", T0 + 64, hold=60)  # whoever held it died; the hold ran out


def test_a_poll_that_sees_the_studios_cancel_first_still_says_who_cancelled(store):
    # The follower's poll can record Runway's CANCELLED (which names nobody) before the cancel
    # that asked for it returns.
    for clip_id, ours in (("mine", True), ("theirs", False)):
        store.add(new(clip_id), T0)
        store.attach_task(clip_id, f"task-{clip_id}", T0)
        if ours:
            store.mark_cancel_pending(clip_id, True, T0 + 1)
        store.record(clip_id, "CANCELLED", T0 + 2)
    assert explain_clip_failure(store.get("mine")["failure_code"], store.get("mine")["failure"]) == \
        "Cancelled from the studio"
    assert explain_clip_failure(store.get("theirs")["failure_code"], None) == "Cancelled outside the studio"


def test_groups_keep_their_order_and_the_list_is_newest_first(store):
    for n, voice in enumerate(("preset:clara", "preset:leo", "preset:mia")):
        store.add(new(f"g{n}", group_id="G", group_position=n, voice=voice, voice_name=voice[7:]), T0 + n)
    store.add(new("solo"), T0 + 10)
    assert [r["voice_name"] for r in store.list(group_id="G")] == ["clara", "leo", "mia"]
    assert [r["clip_id"] for r in store.list(limit=2)] == ["solo", "g2"]


def test_a_characters_page_lists_only_its_own_clips(store):
    store.add(new("mina-1"), T0)
    store.add(new("mochi", avatar_id="cat-character", avatar_name="Mochi"), T0 + 1)
    store.add(new("mina-2"), T0 + 2)
    assert [r["clip_id"] for r in store.list(avatar_id="music-superstar")] == ["mina-2", "mina-1"]
    assert [r["clip_id"] for r in store.list(avatar_id="cat-character")] == ["mochi"]


def test_clips_left_without_a_task_by_a_stop_are_closed(store):
    store.add(new("old"), T0)
    store.add(new("young"), T0 + 100)
    assert store.close_interrupted(T0 + 101, older_than=T0 + 50) == 1
    assert store.get("old")["status"] == "FAILED" and store.get("old")["failure_code"] == "interrupted"
    assert store.get("young")["status"] == "REQUESTED"


def test_totals_count_final_costs_and_open_estimates(store):
    store.add(new("done", estimated_credits=3), T0)
    store.attach_task("done", "t1", T0)
    store.record("done", "SUCCEEDED", T0 + 5, cost_credits=4, output_url="u", duration=7.5)
    store.add(new("open", estimated_credits=2), T0 + 1)
    store.attach_task("open", "t2", T0 + 1)
    store.add(new("refused", estimated_credits=9), T0 + 2)
    store.fail("refused", "rate_limited", "Runway is rate limiting requests.", T0 + 2)
    store.add(new("old", estimated_credits=50), T0 - 86400 * 40)
    totals = store.totals(since=T0 - 86400 * 30)
    assert (totals.clips, totals.succeeded, totals.credits, totals.seconds) == (3, 1, 6.0, 7.5)
    assert store.open_count() == 2  # "open" and the 40-day-old one still REQUESTED
