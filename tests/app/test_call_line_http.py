"""The studio's line for call slots, refusals on record and the call card's status route, over
HTTP against the embedded simulator (FakeClock, TestClient): what a caller, the operator and the
Sessions tab get from the JSON routes."""

from __future__ import annotations

from studio.config import load_settings
from tests.app.conftest import harness_for


def test_a_call_with_a_free_slot_is_never_marked_waiting(tmp_path):
    with harness_for(tmp_path) as h:
        session_id = h.start_call().json()["sessionId"]
        row = h.studio.ledger.get(session_id)
        names = [e["name"] for e in h.studio.ledger.events(row["request_id"])]
        assert "queued" not in names, names
        progress = h.client.get(f"/api/calls/{row['request_id']}").json()
        assert (progress["status"], progress["queued"], progress["ended"]) == ("ready", False, False)


def test_a_refused_attempt_is_on_record_and_listed_with_why(tmp_path):
    with harness_for(tmp_path, STUDIO_MAX_LIVE_SESSIONS="1") as h:
        assert h.start_call().status_code == 200
        busy = h.start_call(requestId="refused-000001")
        assert (busy.status_code, busy.json()["code"]) == (429, "studio_busy")
        listed = h.client.get("/api/sessions", params={"status": "REFUSED"}).json()["sessions"]
        assert [(r["request_id"], r["failure_code"]) for r in listed] == [("refused-000001", "studio_busy")]
        progress = h.client.get("/api/calls/refused-000001").json()
        assert progress["ended"] and progress["status"] == "refused"
        assert progress["reason"] == "All of the studio's call slots were in use"


def test_a_reused_request_id_is_refused_and_recorded(tmp_path):
    with harness_for(tmp_path) as h:
        assert h.start_call(requestId="same-request-1").status_code == 200
        again = h.start_call(requestId="same-request-1")
        assert (again.status_code, again.json()["code"]) == (409, "duplicate_request")
        [row] = h.studio.ledger.list(status="REFUSED", limit=None)
        assert row["failure_code"] == "duplicate_request" and row["request_id"] != "same-request-1"


def test_waiting_past_the_deadline_is_refused_and_counts_for_nothing(tmp_path):
    with harness_for(tmp_path, STUDIO_MAX_LIVE_SESSIONS="1", STUDIO_SLOT_WAIT_DEADLINE="5",
                     STUDIO_DAILY_SESSION_CAP="2") as h:
        assert h.start_call().status_code == 200
        started = h.clock.now()
        late = h.start_call(requestId="waiter-0000001", wait=True)
        assert (late.status_code, late.json()["code"]) == (429, "slot_wait_timeout")
        assert 5 <= h.clock.now() - started < 6  # it waited the deadline, no more
        row = h.studio.ledger.get("waiter-0000001")
        assert (row["status"], row["failure_code"]) == ("REFUSED", "slot_wait_timeout")
        assert h.upstream_requests("POST /v1/realtime_sessions") == 1
        assert h.studio.ledger.count_since(0) == 1  # the day's second call is still to come


def test_a_place_in_line_shows_on_the_status_route_and_the_studio_can_cancel_it(tmp_path):
    with harness_for(tmp_path, STUDIO_MAX_LIVE_SESSIONS="1") as h:
        assert h.start_call().status_code == 200
        ledger, guards = h.studio.ledger, h.studio.broker.guards
        for rid in ("first-in-line1", "second-in-line"):
            ledger.open_request(rid, avatar_id="influencer", client_id="elsewhere", mode="simulator",
                                max_duration=60, overrides={}, at=h.clock.now(), wait=True,
                                admit=lambda counts: guards.check("elsewhere", counts))
            h.advance(0.1)
        progress = h.client.get("/api/calls/second-in-line").json()
        assert (progress["status"], progress["place"], progress["ended"]) == ("waiting for a slot", 2, False)
        cancelled = h.client.post("/api/sessions/first-in-line1/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "REFUSED"
        assert h.client.get("/api/calls/second-in-line").json()["place"] == 1
        ended = h.client.get("/api/calls/first-in-line1").json()
        assert ended["ended"] and ended["reason"] == "Cancelled from the studio while waiting for a free slot"


def test_the_simulator_sets_no_per_caller_limit_by_default(tmp_path):
    with harness_for(tmp_path, STUDIO_MAX_LIVE_SESSIONS="50") as h:
        assert [h.start_call().status_code for _ in range(12)] == [200] * 12


def test_the_per_caller_limit_stays_on_live_and_in_public_demos():
    def per_caller(**env: str) -> int:
        return load_settings(env, dotenv_path=None).sessions_per_client_per_hour

    assert per_caller() == 0
    assert per_caller(RUNWAYML_API_SECRET="key_" + "a" * 64) == 10
    assert per_caller(STUDIO_PUBLIC_DEMO="true") == 10
    assert per_caller(SYSTEM="spaces") == 10
    assert per_caller(SYSTEM="spaces", STUDIO_AUTH="qa:pw") == 0
    assert per_caller(STUDIO_SESSIONS_PER_CLIENT_PER_HOUR="4") == 4
