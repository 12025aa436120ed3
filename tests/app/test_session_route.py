"""POST /api/avatar/session end to end on the embedded simulator, through the official SDK."""

from __future__ import annotations

import json

import pytest

from tests.app.conftest import harness_for


def test_preset_call_gets_camelcase_credentials_and_a_ledger_row(harness):
    answer = harness.start_call("music-superstar")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"sessionId", "serverUrl", "token", "roomName", "expiresAt"}
    assert "sessionKey" not in answer.text and "stk_" not in answer.text
    row = harness.studio.ledger.get(body["sessionId"])
    assert row["status"] == "READY" and row["consumed_at"] is not None
    assert row["ready_at"] >= row["created_at"] >= row["requested_at"]
    session = next(s for s in harness.sim_state()["sessions"] if s["id"] == body["sessionId"])
    assert session["consumed"] is True


def test_polls_stay_few_for_a_one_second_provisioning(harness):
    before = harness.upstream_requests("GET /v1/realtime_sessions/{id}")
    assert harness.start_call().status_code == 200
    polls = harness.upstream_requests("GET /v1/realtime_sessions/{id}") - before
    assert 2 <= polls <= 12


def test_overrides_reach_runway_and_are_recorded(harness):
    answer = harness.start_call("cat-character", personality="A grumpy cat.", startScript="Meow.", maxDuration=60)
    assert answer.status_code == 200
    session = next(s for s in harness.sim_state()["sessions"] if s["id"] == answer.json()["sessionId"])
    assert (session["personality"], session["startScript"], session["maxDuration"]) == ("A grumpy cat.", "Meow.", 60)
    row = harness.studio.ledger.get(answer.json()["sessionId"])
    assert row["overrides"] == {"personality": "A grumpy cat.", "startScript": "Meow.", "maxDuration": 60}


def test_progress_route_follows_a_request(harness):
    answer = harness.start_call(requestId="call-1234567890")
    assert answer.status_code == 200
    progress = harness.client.get("/api/calls/call-1234567890").json()
    assert progress["status"] == "ready" and progress["sessionId"] == answer.json()["sessionId"]
    again = harness.start_call(requestId="call-1234567890")
    assert again.status_code == 409 and again.json()["code"] == "duplicate_request"


def test_custom_avatar_must_exist_and_be_ready(harness):
    gateway = harness.studio.gateway
    portal = harness.client.portal  # run gateway coroutines on the app's event loop
    avatar = portal.call(lambda: gateway.create_avatar(
        name="Ada", personality="A patient maths tutor.", reference_image="https://example.com/ada.png",
        voice={"type": "runway-live-preset", "preset_id": "clara"}))
    processing = harness.start_call(avatar["id"])
    assert processing.status_code == 409 and processing.json()["code"] == "avatar_not_ready"
    harness.advance(10)
    assert harness.start_call(avatar["id"]).status_code == 200
    missing = harness.start_call("0b6c4f43-9d39-4d7e-8f4e-1f2a3b4c5d6e")
    assert missing.status_code == 404 and missing.json()["code"] == "avatar_not_found"


def test_browser_events_fill_the_timings(harness):
    session_id = harness.start_call().json()["sessionId"]
    now = harness.clock.now()
    for event, at in (("connected", now + 1), ("first_frame", now + 3)):
        answer = harness.client.post(f"/api/sessions/{session_id}/events", json={"event": event, "at": at})
        assert answer.status_code == 204
    row = harness.studio.ledger.get(session_id)
    assert row["first_frame_at"] - row["connected_at"] == pytest.approx(2)
    names = [e["name"] for e in harness.client.get(f"/api/sessions/{session_id}").json()["events"]]
    assert "browser_connected" in names and "browser_first_frame" in names


def test_a_call_without_a_browser_runs_to_completed_with_transcript(harness):
    session_id = harness.start_call().json()["sessionId"]
    harness.sim_call(session_id, "join")
    assert harness.studio.ledger.get(session_id)["status"] == "RUNNING"
    harness.advance(42)
    lines = [{"role": "assistant", "content": "Hello there."}, {"role": "user", "content": "Hi!"}]
    harness.sim_call(session_id, "leave", lines)
    row = harness.studio.ledger.get(session_id)
    assert row["status"] == "COMPLETED" and row["duration"] == 42
    assert [(t["role"], t["content"]) for t in row["transcript"]] == [("assistant", "Hello there."), ("user", "Hi!")]


def test_cancel_route_cancels_upstream(harness):
    session_id = harness.start_call().json()["sessionId"]
    row = harness.client.post(f"/api/sessions/{session_id}/cancel").json()
    assert row["status"] == "CANCELLED"
    session = next(s for s in harness.sim_state()["sessions"] if s["id"] == session_id)
    assert session["status"] == "CANCELLED"


def test_refresher_carries_unjoined_sessions_to_their_end(harness):
    session_id = harness.start_call().json()["sessionId"]
    harness.advance(25)  # nobody joins within the simulator's 20 s window
    harness.client.portal.call(harness.studio.refresher.refresh_once)
    row = harness.studio.ledger.get(session_id)
    assert row["status"] == "FAILED" and row["failure_code"] == "TALKING_AVATAR.NO_PARTICIPANT"


def test_refresher_polls_each_open_session_once_per_round(harness):
    ids = [harness.start_call().json()["sessionId"] for _ in range(3)]
    before = harness.upstream_requests("GET /v1/realtime_sessions/{id}")
    polled = harness.client.portal.call(harness.studio.refresher.refresh_once)
    after = harness.upstream_requests("GET /v1/realtime_sessions/{id}")
    assert polled == len(ids) == after - before


def test_healthz_reports_mode_and_upstream(harness):
    health = harness.client.get("/healthz").json()
    assert health["mode"] == "simulator" and health["upstream"]["ok"] is True
    assert health["versions"]["gradio"] == "6.31.0" and health["versions"]["runwayml"] == "5.24.0"


def test_sessions_route_filters(harness):
    harness.start_call("music-superstar")
    harness.start_call("cat-character")
    cats = harness.client.get("/api/sessions", params={"avatar": "cat-character"}).json()["sessions"]
    assert [r["avatar_id"] for r in cats] == ["cat-character"]
    assert harness.client.get("/api/sessions", params={"status": "COMPLETED"}).json()["sessions"] == []
    assert json.loads(harness.client.get("/api/sessions", params={"limit": 0}).text)["code"] == "invalid_request"


def test_guard_refusals_cost_nothing_upstream(tmp_path):
    with harness_for(tmp_path, STUDIO_MAX_LIVE_SESSIONS="1") as h:
        assert h.start_call().status_code == 200
        before = h.upstream_requests()
        busy = h.start_call()
        assert busy.status_code == 429 and busy.json()["code"] == "studio_busy"
        assert "call slots" in busy.json()["error"]
        assert h.upstream_requests() == before
        # The refusal is on record (Sessions shows it with why) but holds nothing.
        assert [r["status"] for r in h.ledger_rows()].count("REFUSED") == 1


def test_per_client_hourly_limit(tmp_path):
    with harness_for(tmp_path, STUDIO_SESSIONS_PER_CLIENT_PER_HOUR="2", STUDIO_MAX_LIVE_SESSIONS="10") as h:
        assert [h.start_call().status_code for _ in range(3)] == [200, 200, 429]
        assert h.start_call().json()["code"] == "client_rate_limited"
        h.advance(3601)
        assert h.start_call().status_code == 200


def test_daily_cap(tmp_path):
    with harness_for(tmp_path, STUDIO_DAILY_SESSION_CAP="1", STUDIO_MAX_LIVE_SESSIONS="10") as h:
        assert h.start_call().status_code == 200
        capped = h.start_call()
        assert capped.status_code == 429 and capped.json()["code"] == "studio_daily_cap"


def test_allowed_avatars(tmp_path):
    with harness_for(tmp_path, STUDIO_ALLOWED_AVATARS="cat-character") as h:
        refused = h.start_call("music-superstar")
        assert refused.status_code == 403 and refused.json()["code"] == "avatar_not_allowed"
        assert h.upstream_requests("POST /v1/realtime_sessions") == 0
        assert h.start_call("cat-character").status_code == 200
