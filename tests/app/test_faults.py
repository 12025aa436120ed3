"""Upstream faults injected through the simulator's control plane: right code, upstream cleaned up,
and a ledger that tells the truth."""

from __future__ import annotations

from tests.app.conftest import harness_for


def session_status(h, session_id):
    return next(s for s in h.sim_state()["sessions"] if s["id"] == session_id)["status"]


def test_503_on_create_is_reported_and_not_retried(harness):
    harness.fault(method="POST", path="/v1/realtime_sessions", status=503, count=1)
    answer = harness.start_call()
    assert answer.status_code == 502 and answer.json()["code"] == "upstream_down"
    assert harness.upstream_requests("POST /v1/realtime_sessions") == 1  # one attempt: no blind retry
    assert harness.sim_state()["sessions"] == []
    [row] = harness.ledger_rows()
    assert (row["status"], row["failure_code"], row["session_id"]) == ("FAILED", "upstream_down", None)


def test_429_on_create_is_rate_limited(harness):
    harness.fault(method="POST", path="/v1/realtime_sessions", status=429, retryAfter=1, count=1)
    answer = harness.start_call()
    assert answer.status_code == 429 and answer.json()["code"] == "rate_limited"
    assert "try again" in answer.json()["error"].lower()
    assert harness.start_call().status_code == 200  # the next call goes through


def test_daily_cap_upstream_says_so(tmp_path):
    with harness_for(tmp_path, STUDIO_SIM_DAILY_LIMIT="1", STUDIO_MAX_LIVE_SESSIONS="10") as h:
        assert h.start_call().status_code == 200
        capped = h.start_call()
        assert capped.status_code == 429 and capped.json()["code"] == "daily_cap"


def test_failed_while_provisioning(harness):
    harness.sim.post("/_simulator/provisioning-failures", json={
        "failureCode": "INTERNAL", "failure": "Worker crashed", "count": 1}).raise_for_status()
    answer = harness.start_call()
    assert answer.status_code == 502 and answer.json()["code"] == "session_failed"
    assert "Worker crashed" in answer.json()["error"]
    [row] = harness.ledger_rows()
    assert row["status"] == "FAILED" and row["failure_code"] == "INTERNAL"
    assert session_status(harness, row["session_id"]) == "FAILED"


def test_queued_past_the_deadline_is_cancelled_upstream(tmp_path):
    with harness_for(tmp_path, STUDIO_SIM_CONCURRENCY="1", STUDIO_SESSION_DEADLINE="10",
                     STUDIO_MAX_LIVE_SESSIONS="10") as h:
        first = h.start_call().json()["sessionId"]
        h.sim_call(first, "join")  # holds the only slot
        answer = h.start_call()
        assert answer.status_code == 504 and answer.json()["code"] == "provisioning_timeout"
        assert "free slot" in answer.json()["error"]
        row = next(r for r in h.ledger_rows() if r["session_id"] != first)
        assert row["status"] == "FAILED" and row["failure_code"] == "provisioning_timeout"
        assert session_status(h, row["session_id"]) == "CANCELLED"


def test_queued_session_waits_for_a_slot_then_connects(tmp_path):
    with harness_for(tmp_path, STUDIO_SIM_CONCURRENCY="1", STUDIO_MAX_LIVE_SESSIONS="10") as h:
        first = h.start_call().json()["sessionId"]
        h.client.post(f"/api/sessions/{first}/cancel")
        second = h.start_call()
        assert second.status_code == 200
        names = [e["name"] for e in h.client.get(f"/api/sessions/{second.json()['sessionId']}").json()["events"]]
        assert "ready" in names


def test_dropped_connection_during_consume(harness):
    harness.fault(method="POST", path="/v1/realtime_sessions/*/consume", drop=True, count=1)
    answer = harness.start_call()
    assert answer.status_code == 502 and answer.json()["code"] == "consume_failed"
    [row] = harness.ledger_rows()
    assert row["status"] == "FAILED" and row["failure_code"] == "consume_failed"
    assert session_status(harness, row["session_id"]) == "CANCELLED"


def test_bad_api_key_upstream_is_explained(harness):
    harness.fault(method="POST", path="/v1/realtime_sessions", status=401, count=1,
                  body={"error": "Invalid API key"})
    answer = harness.start_call()
    assert answer.status_code == 502 and answer.json()["code"] == "bad_api_key"
    assert "RUNWAYML_API_SECRET" in answer.json()["error"]


def test_no_credits(tmp_path):
    with harness_for(tmp_path) as h:
        h.sim.post("/_simulator/config", json={"creditBalance": 0}).raise_for_status()
        answer = h.start_call()
        assert answer.status_code == 403 and answer.json()["code"] == "no_credits"
