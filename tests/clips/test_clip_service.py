"""Clips end to end on the embedded simulator, through the real SDK, on a FakeClock: render,
follow, fetch and serve the video, cancel, failures, comparisons, refusals that send nothing,
and one poll per open task per round."""

from __future__ import annotations

import asyncio
import io
import time

import av
import pytest

from studio.clips.forms import ClipRefused, inspect_audio
from studio.errors import StudioError
from tests.characters.support import wav
from tests.clips.support import CREATE, clip_harness

SCRIPT = "Hello! I'm Ava. Let me show you around the studio in a few short words."


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    with clip_harness(tmp_path_factory.mktemp("clips")) as harness:
        yield harness


@pytest.fixture
def h(shared):
    shared.sim.post("/_simulator/reset").raise_for_status()
    shared.configure(clip_render_base=2.0, clip_render_per_second=0.5)
    return shared


def mp4_facts(data: bytes) -> tuple[float, int, int]:
    with av.open(io.BytesIO(data)) as container:
        return container.duration / av.time_base, len(container.streams.video), len(container.streams.audio)


def render(h, avatar_id: str = "music-superstar", **kwargs) -> dict:
    kwargs.setdefault("script", SCRIPT)
    return h.run(h.clips.render, avatar_id, client_id="tester", **kwargs)


def test_a_script_clip_renders_and_its_video_is_served(h):
    avatar = h.custom_character()
    row = render(h, avatar["id"], voice="preset:leo")
    assert row["status"] == "PENDING" and row["task_id"] and row["avatar_name"] == "Ava"
    assert row["voice_name"] == "Leo" and row["estimated_credits"] >= 1
    task = next(t for t in h.state()["tasks"] if t["id"] == row["task_id"])
    assert task["status"] in {"PENDING", "THROTTLED"}
    assert (task["text"], task["voice"], task["avatar"]) == (SCRIPT, "leo", {"type": "custom", "avatarId": avatar["id"]})

    running = h.follow_until(row["clip_id"], "RUNNING")
    assert 0 <= running["progress"] < 1 and running["started_at"] is not None
    done = h.follow_until(row["clip_id"], "SUCCEEDED")
    assert done["cost_credits"] >= 1 and done["ended_at"] >= done["started_at"]
    assert done["output_expires_at"] == pytest.approx(h.clock.now() + 86400, abs=60)

    answer = h.client.get(f"/api/clips/{row['clip_id']}/video")
    assert answer.status_code == 200 and answer.headers["content-type"] == "video/mp4"
    seconds, videos, audios = mp4_facts(answer.content)
    assert (videos, audios) == (1, 1)
    assert done["duration"] == pytest.approx(seconds, abs=0.05)
    assert 3 < seconds < 15  # the script's speech, not a placeholder
    part = h.client.get(f"/api/clips/{row['clip_id']}/video", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and part.content == answer.content[:100]
    download = h.client.get(f"/api/clips/{row['clip_id']}/video?download=1")
    assert download.headers["content-disposition"].startswith("attachment;")
    assert ".mp4" in download.headers["content-disposition"]

    h.clock.advance(86400 + 5)
    expired = h.client.get(f"/api/clips/{row['clip_id']}/video")
    assert expired.status_code == 410 and expired.json()["code"] == "clip_expired"
    assert "expired" in expired.json()["error"]


def test_the_video_route_refuses_unknown_and_unfinished_clips(h):
    assert h.client.get("/api/clips/nope/video").json()["code"] == "clip_not_found"
    assert h.client.delete("/api/clips/nope/video").status_code == 405
    row = render(h)
    pending = h.client.get(f"/api/clips/{row['clip_id']}/video")
    assert pending.status_code == 409 and pending.json()["code"] == "clip_not_ready"


def test_audio_clips_send_the_file_and_last_as_long_as_it(h):
    audio = inspect_audio(wav(3.0, rate=16000), "greeting.wav")
    row = render(h, script=None, audio=audio)
    assert row["audio_name"] == "greeting.wav" and row["script"] is None
    assert row["estimated_credits"] == 2  # 3.0 s at 0.5 credits a second, rounded up
    done = h.follow_until(row["clip_id"], "SUCCEEDED")
    assert done["duration"] == pytest.approx(3.0, abs=0.2)


def test_a_failed_render_keeps_runways_reason_in_plain_words(h):
    h.sim.post("/_simulator/task-failures", json={"failureCode": "SAFETY.INPUT.TEXT",
                                                   "failure": "The script was flagged."}).raise_for_status()
    row = render(h)
    failed = h.follow_until(row["clip_id"], "FAILED")
    assert failed["failure_code"] == "SAFETY.INPUT.TEXT" and failed["failure"] == "The script was flagged."
    assert h.client.get(f"/api/clips/{row['clip_id']}/video").status_code == 409


def test_cancel_stops_the_task_upstream(h):
    row = render(h)
    h.follow_until(row["clip_id"], "RUNNING")
    cancelled = h.run(h.clips.cancel, row["clip_id"])
    assert cancelled["status"] == "CANCELLED" and cancelled["cancel_pending"] == 0
    assert next(t for t in h.state()["tasks"] if t["id"] == row["task_id"])["status"] == "CANCELLED"
    assert h.requests("DELETE /v1/tasks") == 1
    assert h.follow() == 0  # nothing open is left to poll
    # Cancelling again changes nothing and sends nothing.
    assert h.run(h.clips.cancel, row["clip_id"])["status"] == "CANCELLED"
    assert h.requests("DELETE /v1/tasks") == 1


def test_cancels_at_the_same_moment_send_one_delete_and_keep_the_task(h):
    # Two clicks and the follower's retry at once: a second DELETE would find the task already
    # cancelled, and Runway would delete it.
    row = render(h)
    h.follow_until(row["clip_id"], "RUNNING")

    async def at_once():
        await asyncio.gather(h.clips.cancel(row["clip_id"]), h.clips.cancel(row["clip_id"]),
                             h.clips.follower.follow_once())

    h.run(at_once)
    assert h.requests("DELETE /v1/tasks") == 1
    assert next(t for t in h.state()["tasks"] if t["id"] == row["task_id"])["status"] == "CANCELLED"
    done = h.clips.clip(row["clip_id"])
    assert (done["status"], done["failure_code"]) == ("CANCELLED", "cancelled")


def test_a_finished_clip_is_never_deleted_by_a_late_cancel(h):
    row = render(h)
    h.clock.advance(60)
    while not any(t["id"] == row["task_id"] and t["status"] == "SUCCEEDED" for t in h.state()["tasks"]):
        h.clock.advance(1)
    h.run(h.clips.cancel, row["clip_id"])
    assert h.clips.clip(row["clip_id"])["status"] == "SUCCEEDED"
    assert h.requests("DELETE /v1/tasks") == 0


def test_compare_voices_makes_one_clip_per_voice_in_a_group(h):
    voices = ["preset:clara", "preset:leo", "preset:mia"]
    group_id, rows = h.run(h.clips.compare, "cat-character", SCRIPT, voices, client_id="tester")
    assert [r["voice_name"] for r in rows] == ["Clara", "Leo", "Mia"]
    assert {r["group_id"] for r in rows} == {group_id}
    assert h.requests(CREATE) == 3
    sent = {t["id"]: t["voice"] for t in h.state()["tasks"]}
    assert [sent[r["task_id"]] for r in rows] == ["clara", "leo", "mia"]
    for row in rows:
        h.follow_until(row["clip_id"], "SUCCEEDED")
    assert all(r["duration"] for r in h.clips.group(group_id))


@pytest.mark.parametrize("kwargs, code", [
    ({"script": ""}, "clip_script_empty"),
    ({"script": "x" * 5001}, "clip_script_too_long"),
    ({"voice": "preset:nobody"}, "clip_voice_unknown"),
])
def test_bad_requests_are_refused_before_any_create(h, kwargs, code):
    clips_before = len(h.clips.list_clips())
    with pytest.raises(ClipRefused) as refused:
        render(h, **kwargs)
    assert refused.value.code == code
    assert h.requests(CREATE) == 0 and len(h.clips.list_clips()) == clips_before


def test_a_character_still_processing_is_refused_before_any_create(h):
    avatar = h.custom_character(name="Slow", ready=False)
    with pytest.raises(ClipRefused) as refused:
        render(h, avatar["id"])
    assert refused.value.code == "clip_character_processing"
    assert h.requests(CREATE) == 0
    with pytest.raises(StudioError) as unknown:
        render(h, "0f8e5a4c-1d2b-4c3d-8e9f-0a1b2c3d4e5f")
    assert unknown.value.code == "clip_character_unknown" and h.requests(CREATE) == 0


def test_one_poll_per_open_task_per_round_and_none_when_not_leading(h, monkeypatch):
    rows = [render(h) for _ in range(3)]
    before = h.requests("GET /v1/tasks")
    for _ in range(4):
        assert h.follow() == 3
    assert h.requests("GET /v1/tasks") - before == 12
    monkeypatch.setattr(h.clips.store.db, "try_lead", lambda role: False)
    assert h.follow() == 0 and h.requests("GET /v1/tasks") - before == 12
    monkeypatch.undo()
    for row in rows:
        h.run(h.clips.cancel, row["clip_id"])


def test_script_sources_offer_the_start_script_and_document_paragraphs(h):
    document = h.run(h.studio.documents.create_document, "FAQ",
                     "# Welcome\n\nWe make characters you can call.\n\n- Ask about prices and plans today\n\nok")
    avatar = h.custom_character(name="Docs", document_ids=[document["id"]])
    sources = h.run(h.clips.script_sources, avatar["id"])
    assert sources[0] == ("Start script", "Hi, I'm Ava! Ask me anything.")
    assert [text for _, text in sources[1:]] == ["We make characters you can call.",
                                                 "Ask about prices and plans today"]
    assert sources[1][0].startswith("FAQ ¶1: ")


def test_the_follower_runs_in_the_background_and_stops_cleanly(h):
    follower = h.clips.follower
    h.run(follower.stop)
    assert follower._task is None
    row = render(h)

    async def start_and_wait():
        follower.start()
        while follower.upstream_polls == polls_before:
            await asyncio.sleep(0.01)
        await follower.stop()

    polls_before = follower.upstream_polls
    h.run(start_and_wait)
    assert follower._task is None and follower.upstream_polls > polls_before
    h.run(h.clips.cancel, row["clip_id"])


def test_a_cancel_runway_does_not_confirm_is_retried_by_the_follower(h):
    row = render(h)
    h.follow_until(row["clip_id"], "RUNNING")
    # DELETE fails three times (the SDK retries it twice), so this cancel is not confirmed.
    h.sim.post("/_simulator/faults", json={"method": "DELETE", "path": "/v1/tasks/*", "status": 503,
                                           "count": 3}).raise_for_status()
    pending = h.run(h.clips.cancel, row["clip_id"])
    assert pending["status"] == "RUNNING" and pending["cancel_pending"] == 1
    h.follow()
    done = h.clips.clip(row["clip_id"])
    assert done["status"] == "CANCELLED" and done["cancel_pending"] == 0
    assert next(t for t in h.state()["tasks"] if t["id"] == row["task_id"])["status"] == "CANCELLED"


def test_the_tab_sends_nothing_when_nothing_changed(h):
    from pages.clips import panels
    from pages.context import PageContext

    ctx = PageContext(studio=h.studio)
    row = render(h)
    first, shown, live = panels(ctx, row["clip_id"], None, {})
    assert live and all(isinstance(value, str) for value in first)
    h.clock.advance(0.5)  # time passes (the browser counts it), nothing else changes
    again, shown_again, _ = panels(ctx, row["clip_id"], None, shown)
    assert all(value is not None and not isinstance(value, str) for value in again)  # gr.skip()
    h.follow_until(row["clip_id"], "RUNNING")
    changed, _, _ = panels(ctx, row["clip_id"], None, shown_again)
    assert isinstance(changed[0], str) and "rendering" in changed[0]
    h.run(h.clips.cancel, row["clip_id"])


def test_a_create_runway_refuses_stays_on_record_as_failed_and_is_not_retried(h):
    h.sim.post("/_simulator/faults", json={"method": "POST", "path": "/v1/avatar_videos", "status": 429,
                                           "count": 1}).raise_for_status()
    with pytest.raises(StudioError) as refused:
        render(h)
    assert refused.value.code == "rate_limited"
    assert h.requests(CREATE) == 1  # a create is never retried blindly: it would render twice
    row = h.clips.list_clips()[0]
    assert (row["status"], row["failure_code"], row["task_id"], row["cost_credits"]) == \
        ("FAILED", "rate_limited", None, 0)


def test_on_shared_postgresql_one_replica_follows_and_another_takes_over(tmp_path, pg_url):
    from studio.clips.follower import ClipFollower
    from studio.clips.store import ClipStore
    from studio.store import open_database

    with clip_harness(tmp_path, STUDIO_DATABASE_URL=pg_url) as h:
        h.configure(clip_render_base=600.0)
        row = h.run(h.clips.render, "music-superstar", client_id="t", script=SCRIPT)
        other_db = open_database(pg_url)  # a second replica's connection to the same database
        try:
            other = ClipFollower(h.studio.gateway, ClipStore(other_db), h.clips.videos, h.clock, 3600,
                                 h.clips._cancel_upstream)
            assert h.follow() == 1 and h.run(other.follow_once) == 0  # the first replica leads
            assert other.upstream_polls == 0 and not other.leading
            h.clips.store.db.close()  # the leader goes away: its connection, and its lock, with it
            # PostgreSQL frees the lock once the old backend has seen the disconnect (a moment);
            # the follower simply tries again on its next round.
            deadline = time.monotonic() + 5
            while (polled := h.run(other.follow_once)) == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert polled == 1 and other.leading
            h.clock.advance(5)
            assert h.run(other.follow_once) == 1
            assert ClipStore(other_db).get(row["clip_id"])["status"] == "RUNNING"  # recorded by the new leader
        finally:
            other_db.close()
