"""Breaks found by trying the studio as an attacker would: guards under a burst, forged client
addresses, malformed upstream answers, public-demo visibility, sign-in guessing, hostile bodies."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from tests.app.conftest import Harness, harness_for, json_app
from tests.support import serve, studio_settings

TERMINAL = {"COMPLETED", "FAILED", "CANCELLED"}


def ready_custom_avatar(h: Harness) -> str:
    gateway = h.studio.gateway
    avatar = h.client.portal.call(lambda: gateway.create_avatar(
        name="Ada", personality="A patient maths tutor.", reference_image="https://example.com/ada.png",
        voice={"type": "runway-live-preset", "preset_id": "clara"}))
    h.advance(10)  # the simulator finishes processing it
    return avatar["id"]


def burst(h: Harness, count: int, body: dict[str, Any] | None = None, **headers: str) -> list[httpx.Response]:
    """`count` session requests at once on the app's own event loop (as a crowd would send them)."""
    async def send_all() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=h.client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://studio", timeout=60) as client:
            return await asyncio.gather(*(
                client.post("/api/avatar/session", json=body or {"avatarId": "music-superstar"}, headers=headers)
                for _ in range(count)))
    return h.client.portal.call(send_all)


def codes(answers: list[httpx.Response]) -> dict[Any, int]:
    tally: dict[Any, int] = {}
    for answer in answers:
        key = 200 if answer.status_code == 200 else (answer.status_code, answer.json()["code"])
        tally[key] = tally.get(key, 0) + 1
    return tally


def upstream_sessions(h: Harness) -> list[dict[str, Any]]:
    return h.sim_state()["sessions"]


# Guards hold under a burst, for a custom character too ------------------------------------------

@pytest.mark.parametrize(("env", "allowed", "code"), [
    ({"STUDIO_MAX_LIVE_SESSIONS": "3"}, 3, "studio_busy"),
    ({"STUDIO_SESSIONS_PER_CLIENT_PER_HOUR": "4"}, 4, "client_rate_limited"),
    ({"STUDIO_DAILY_SESSION_CAP": "5"}, 5, "studio_daily_cap"),
])
def test_a_burst_for_a_custom_character_gets_exactly_the_cap(tmp_path, env, allowed, code):
    limits = {"STUDIO_MAX_LIVE_SESSIONS": "100", "STUDIO_SESSIONS_PER_CLIENT_PER_HOUR": "100",
              "STUDIO_DAILY_SESSION_CAP": "100", "STUDIO_SIM_CONCURRENCY": "50"}
    with harness_for(tmp_path, **(limits | env)) as h:
        avatar = ready_custom_avatar(h)
        answers = burst(h, 40, {"avatarId": avatar})
        assert codes(answers) == {200: allowed, (429, code): 40 - allowed}
        assert len(upstream_sessions(h)) == allowed
        assert h.upstream_requests("POST /v1/realtime_sessions") == allowed


def test_refused_calls_send_nothing_upstream(tmp_path):
    with harness_for(tmp_path, STUDIO_MAX_LIVE_SESSIONS="1") as h:
        assert h.start_call().status_code == 200
        before = h.upstream_requests()
        refused = h.start_call()
        assert refused.status_code == 429 and refused.json()["code"] == "studio_busy"
        assert h.upstream_requests() == before


def test_the_per_client_window_is_exactly_one_hour(tmp_path):
    with harness_for(tmp_path, STUDIO_SESSIONS_PER_CLIENT_PER_HOUR="1", STUDIO_MAX_LIVE_SESSIONS="10") as h:
        first = h.start_call().json()["sessionId"]
        h.client.post(f"/api/sessions/{first}/cancel")
        h.advance(30 * 60)
        assert h.start_call().json()["code"] == "client_rate_limited"
        started = h.studio.ledger.get(first)["requested_at"]
        h.advance(started + 3600 - h.clock.now() - 1)  # one second short of the hour
        assert h.start_call().json()["code"] == "client_rate_limited"
        h.advance(2)  # one second past the hour
        assert h.start_call().status_code == 200


def test_the_daily_cap_resets_at_utc_midnight(tmp_path):
    with harness_for(tmp_path, STUDIO_DAILY_SESSION_CAP="1", STUDIO_MAX_LIVE_SESSIONS="10") as h:
        midnight = datetime.fromtimestamp(h.clock.now(), timezone.utc).replace(
            hour=0, minute=0, second=0, microsecond=0).timestamp() + 86400
        h.advance(midnight - 120 - h.clock.now())  # two minutes before midnight (UTC)
        first = h.start_call().json()["sessionId"]
        h.client.post(f"/api/sessions/{first}/cancel")
        assert h.start_call().json()["code"] == "studio_daily_cap"
        h.advance(midnight - h.clock.now())
        assert h.start_call().status_code == 200


# Client addresses cannot be forged ---------------------------------------------------------------

def test_forged_forwarded_for_entries_do_not_make_new_callers_when_trusted(tmp_path):
    with harness_for(tmp_path, STUDIO_TRUST_PROXY_HEADERS="true", STUDIO_SESSIONS_PER_CLIENT_PER_HOUR="3",
                     STUDIO_MAX_LIVE_SESSIONS="50") as h:
        answers = [h.start_call(headers={"X-Forwarded-For": f"203.0.113.{i}, 198.51.100.7"})
                   for i in range(8)]
        assert codes(answers) == {200: 3, (429, "client_rate_limited"): 5}
        other = h.start_call(headers={"X-Forwarded-For": "203.0.113.1, 198.51.100.8"})
        assert other.status_code == 200  # a different address behind the proxy is another caller


def test_forwarded_for_is_ignored_from_loopback_when_not_trusted(tmp_path):
    settings = studio_settings(tmp_path / "data", STUDIO_SESSIONS_PER_CLIENT_PER_HOUR="3",
                               STUDIO_MAX_LIVE_SESSIONS="50", STUDIO_SIM_READY_DELAY="0.05")
    with serve(json_app(settings, clock=None)) as base, httpx.Client(base_url=base, timeout=30) as client:
        answers = [client.post("/api/avatar/session", json={"avatarId": "music-superstar"},
                               headers={"X-Forwarded-For": f"203.0.113.{i}"}) for i in range(6)]
    assert codes(answers) == {200: 3, (429, "client_rate_limited"): 3}


# Malformed upstream answers leave no orphan and no lost slot --------------------------------------

def assert_nothing_left_open(h: Harness) -> None:
    assert h.studio.ledger.count_open() == 0
    assert all(s["status"] in TERMINAL for s in upstream_sessions(h))


def test_a_create_answered_with_an_empty_object(tmp_path):
    with harness_for(tmp_path, STUDIO_MAX_LIVE_SESSIONS="1") as h:
        h.fault(method="POST", path="/v1/realtime_sessions", status=200, body={})
        answer = h.start_call()
        assert answer.status_code == 502 and answer.json()["code"] == "upstream_invalid"
        assert_nothing_left_open(h)
        assert h.start_call().status_code == 200  # the slot was not lost


def test_a_retrieve_answered_with_an_empty_object_cancels_the_session(tmp_path):
    with harness_for(tmp_path, STUDIO_MAX_LIVE_SESSIONS="1") as h:
        h.fault(method="GET", path="/v1/realtime_sessions/*", status=200, body={}, count=1)
        answer = h.start_call()
        assert answer.status_code == 502 and answer.json()["code"] == "upstream_invalid"
        assert_nothing_left_open(h)
        assert [s["status"] for s in upstream_sessions(h)] == ["CANCELLED"]
        assert h.start_call().status_code == 200


def test_a_failed_consume_whose_cancel_fails_is_cancelled_by_the_refresher(tmp_path):
    with harness_for(tmp_path, STUDIO_MAX_LIVE_SESSIONS="1") as h:
        h.fault(method="POST", path="/v1/realtime_sessions/*/consume", status=500)
        h.fault(method="DELETE", path="/v1/realtime_sessions/*", status=500, count=3)  # the SDK retries twice
        answer = h.start_call()
        assert answer.status_code == 502 and answer.json()["code"] == "consume_failed"
        [row] = h.ledger_rows()
        assert row["cancel_pending"] and row["status"] not in TERMINAL
        assert h.start_call().json()["code"] == "studio_busy"  # still alive upstream: it holds its slot
        h.client.portal.call(h.studio.refresher.refresh_once)
        row = h.studio.ledger.get(row["request_id"])
        assert (row["status"], row["failure_code"]) == ("FAILED", "consume_failed")
        assert_nothing_left_open(h)


def test_an_unknown_upstream_status_keeps_the_session_followed(tmp_path):
    with harness_for(tmp_path, STUDIO_MAX_LIVE_SESSIONS="1") as h:
        session_id = h.start_call().json()["sessionId"]
        h.fault(method="GET", path=f"/v1/realtime_sessions/{session_id}", status=200,
                body={"id": session_id, "status": "PAUSED", "createdAt": "2026-12-01T00:00:00Z"})
        h.client.portal.call(h.studio.refresher.refresh_once)
        assert h.studio.ledger.get(session_id)["status"] == "PAUSED"
        assert h.start_call().json()["code"] == "studio_busy"  # an unknown state still holds the slot
        h.sim.post(f"/_simulator/sessions/{session_id}/join").raise_for_status()
        h.sim.post(f"/_simulator/sessions/{session_id}/leave").raise_for_status()
        h.client.portal.call(h.studio.refresher.refresh_once)
        assert h.studio.ledger.get(session_id)["status"] == "COMPLETED"


def test_a_call_cancelled_while_its_session_is_made_is_cancelled_upstream(tmp_path):
    with harness_for(tmp_path) as h:
        h.fault(method="POST", path="/v1/realtime_sessions", latency=0.5)

        async def start_then_cancel() -> tuple[httpx.Response, httpx.Response]:
            transport = httpx.ASGITransport(app=h.client.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://studio", timeout=30) as client:
                call = asyncio.ensure_future(client.post("/api/avatar/session", json={
                    "avatarId": "music-superstar", "requestId": "call-cancel-early"}))
                await asyncio.sleep(0.2)
                cancel = await client.post("/api/sessions/call-cancel-early/cancel")
                return await call, cancel

        answer, cancel = h.client.portal.call(start_then_cancel)
        assert cancel.status_code == 200
        assert answer.status_code == 409 and answer.json()["code"] == "session_cancelled"
        row = h.studio.ledger.get("call-cancel-early")
        assert row["status"] == "CANCELLED" and row["session_id"]
        assert [s["status"] for s in upstream_sessions(h)] == ["CANCELLED"]


# Public demo: visitors see their own calls only ---------------------------------------------------

def test_a_public_demo_shows_each_visitor_only_their_own_calls(tmp_path):
    with harness_for(tmp_path, STUDIO_PUBLIC_DEMO="true", STUDIO_TRUST_PROXY_HEADERS="true") as h:
        alice, bob = {"X-Forwarded-For": "198.51.100.1"}, {"X-Forwarded-For": "198.51.100.2"}
        mine = h.start_call(headers=alice, personality="Alice's secret prompt.").json()["sessionId"]
        listing = h.client.get("/api/sessions", headers=bob).json()["sessions"]
        assert listing == [] and "secret" not in h.client.get("/api/sessions", headers=bob).text
        for method, path in (("GET", f"/api/sessions/{mine}"), ("POST", f"/api/sessions/{mine}/cancel"),
                             ("GET", f"/api/calls/{h.studio.ledger.get(mine)['request_id']}")):
            answer = h.client.request(method, path, headers=bob)
            assert (answer.status_code, answer.json()["code"]) == (404, "not_found")
        forged = h.client.post(f"/api/sessions/{mine}/events", headers=bob,
                               json={"event": "ended", "transcript": [{"role": "user", "content": "forged"}]})
        assert forged.status_code == 404
        assert [r["session_id"] for r in h.client.get("/api/sessions", headers=alice).json()["sessions"]] == [mine]
        assert h.studio.ledger.get(mine)["status"] == "READY"


def test_spaces_without_sign_in_is_a_public_demo_unless_opened():
    assert studio_settings(".", SYSTEM="spaces").public_demo
    assert not studio_settings(".", SYSTEM="spaces", STUDIO_AUTH="owner:pw").public_demo
    assert not studio_settings(".", SYSTEM="spaces", STUDIO_PUBLIC_DEMO="false").public_demo
    assert not studio_settings(".").public_demo


def test_reports_on_a_session_that_ended_a_while_ago_are_refused(harness):
    session_id = harness.start_call().json()["sessionId"]
    harness.sim_call(session_id, "join")
    harness.sim_call(session_id, "leave", [{"role": "assistant", "content": "Hello there!"}])
    just_after = harness.client.post(f"/api/sessions/{session_id}/events", json={"event": "ended"})
    assert just_after.status_code == 204  # the browser's own last report arrives just after the end
    harness.advance(120)
    late = harness.client.post(f"/api/sessions/{session_id}/events", json={
        "event": "ended", "transcript": [{"role": "assistant", "content": "Replaced!"}]})
    assert (late.status_code, late.json()["code"]) == (409, "session_ended")
    assert harness.studio.ledger.get(session_id)["transcript"][0]["content"] == "Hello there!"


# Sign-in guessing is throttled --------------------------------------------------------------------

def test_password_guessing_is_throttled_per_address(tmp_path):
    with harness_for(tmp_path, ui=True, STUDIO_AUTH="owner:right-password") as h:
        for attempt in range(10):
            answer = h.client.get("/api/sessions", auth=("owner", f"guess-{attempt}"))
            assert answer.status_code == 401
        blocked = h.client.get("/api/sessions", auth=("owner", "right-password"))
        assert (blocked.status_code, blocked.json()["code"]) == (429, "too_many_sign_ins")
        login = h.client.post("/login", data={"username": "owner", "password": "right-password"})
        assert login.status_code == 429
        h.advance(301)
        assert h.client.get("/api/sessions", auth=("owner", "right-password")).status_code == 200


def test_failed_form_sign_ins_count_too(tmp_path):
    with harness_for(tmp_path, ui=True, STUDIO_AUTH="owner:right-password") as h:
        for attempt in range(10):
            assert h.client.post("/login", data={"username": "owner", "password": f"x{attempt}"}).status_code == 400
        assert h.client.post("/login", data={"username": "owner", "password": "right-password"}).status_code == 429


# Hostile bodies and ids ---------------------------------------------------------------------------

def test_a_deeply_nested_body_is_a_400(harness):
    bomb = '{"avatarId": "music-superstar", "personality": ' + "[" * 6000 + "]" * 6000 + "}"
    answer = harness.client.post("/api/avatar/session", content=bomb, headers={"content-type": "application/json"})
    assert (answer.status_code, answer.json()["code"]) == (400, "invalid_json")
    assert harness.ledger_rows() == []


def test_one_request_id_sent_eight_times_at_once_starts_one_call(harness):
    answers = burst(harness, 8, {"avatarId": "music-superstar", "requestId": "same-request-id"})
    assert codes(answers) == {200: 1, (409, "duplicate_request"): 7}
    assert len(upstream_sessions(harness)) == 1


def test_junk_conversation_ids_leave_no_locks_behind(harness):
    conversations = harness.studio.history.conversations

    async def look_up_junk() -> None:
        for i in range(2000):
            try:
                await conversations.details(f"junk-{i}")
            except Exception:  # noqa: BLE001 - whatever Runway says of junk, only the lock table matters
                pass

    harness.client.portal.call(look_up_junk)
    assert len(conversations._detail_locks) == 0
