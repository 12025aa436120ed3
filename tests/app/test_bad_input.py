"""Malformed calls to the session route get a 4xx JSON error, never a 5xx, and write nothing."""

from __future__ import annotations

import json

import pytest

BIG = "x" * 10_001

CASES = [
    ("not json", b"{avatarId: music-superstar}", "application/json", 400, "invalid_json"),
    ("truncated json", b'{"avatarId": "music-superstar"', "application/json", 400, "invalid_json"),
    ("empty body", b"", "application/json", 400, "invalid_json"),
    ("json array", b'["music-superstar"]', "application/json", 400, "invalid_request"),
    ("json string", b'"music-superstar"', "application/json", 400, "invalid_request"),
    ("json null", b"null", "application/json", 400, "invalid_request"),
    ("form encoded", b"avatarId=music-superstar", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    ("text plain", b'{"avatarId": "music-superstar"}', "text/plain", 415, "unsupported_media_type"),
    ("no content type", b'{"avatarId": "music-superstar"}', None, 415, "unsupported_media_type"),
    ("binary garbage", bytes(range(256)), "application/json", 400, "invalid_json"),
    ("ten megabytes", b'{"avatarId": "' + b"a" * 10_000_000 + b'"}', "application/json", 413, "body_too_large"),
]

FIELDS = [
    ("missing avatarId", {}, 400, "invalid_request"),
    ("avatarId null", {"avatarId": None}, 400, "invalid_request"),
    ("avatarId number", {"avatarId": 7}, 400, "invalid_request"),
    ("avatarId list", {"avatarId": ["music-superstar"]}, 400, "invalid_request"),
    ("avatarId object", {"avatarId": {"id": "music-superstar"}}, 400, "invalid_request"),
    ("avatarId empty", {"avatarId": ""}, 400, "invalid_request"),
    ("avatarId oversize", {"avatarId": "a" * 101}, 400, "invalid_request"),
    ("unknown avatar", {"avatarId": "not-a-character"}, 404, "unknown_avatar"),
    ("almost uuid", {"avatarId": "0b6c4f43-9d39-4d7e-8f4e-1f2a3b4c5d6"}, 404, "unknown_avatar"),
    ("script injection", {"avatarId": "<script>alert(1)</script>"}, 404, "unknown_avatar"),
    ("unknown key", {"avatarId": "music-superstar", "apiKey": "x"}, 400, "invalid_request"),
    ("snake case key", {"avatar_id": "music-superstar"}, 400, "invalid_request"),
    ("maxDuration too small", {"avatarId": "music-superstar", "maxDuration": 9}, 400, "invalid_request"),
    ("maxDuration too large", {"avatarId": "music-superstar", "maxDuration": 301}, 400, "invalid_request"),
    ("maxDuration negative", {"avatarId": "music-superstar", "maxDuration": -5}, 400, "invalid_request"),
    ("maxDuration string", {"avatarId": "music-superstar", "maxDuration": "60"}, 400, "invalid_request"),
    ("maxDuration float", {"avatarId": "music-superstar", "maxDuration": 60.5}, 400, "invalid_request"),
    ("maxDuration bool", {"avatarId": "music-superstar", "maxDuration": True}, 400, "invalid_request"),
    ("personality empty", {"avatarId": "music-superstar", "personality": ""}, 400, "invalid_request"),
    ("personality oversize", {"avatarId": "music-superstar", "personality": BIG}, 400, "invalid_request"),
    ("personality number", {"avatarId": "music-superstar", "personality": 12}, 400, "invalid_request"),
    ("startScript oversize", {"avatarId": "music-superstar", "startScript": "y" * 2001}, 400, "invalid_request"),
    ("startScript list", {"avatarId": "music-superstar", "startScript": ["hi"]}, 400, "invalid_request"),
    ("requestId short", {"avatarId": "music-superstar", "requestId": "abc"}, 400, "invalid_request"),
    ("requestId odd chars", {"avatarId": "music-superstar", "requestId": "../../etc/passwd"}, 400, "invalid_request"),
    ("requestId number", {"avatarId": "music-superstar", "requestId": 123456789}, 400, "invalid_request"),
]


def assert_nothing_written(harness, before_requests):
    assert harness.ledger_rows() == []
    assert harness.upstream_requests("POST /v1/realtime_sessions") == before_requests


@pytest.mark.parametrize("name, body, content_type, status, code", CASES, ids=[c[0] for c in CASES])
def test_malformed_bodies(harness, name, body, content_type, status, code):
    headers = {"content-type": content_type} if content_type else {}
    answer = harness.client.post("/api/avatar/session", content=body, headers=headers)
    assert answer.status_code == status, answer.text
    assert answer.json()["code"] == code and answer.json()["error"]
    assert_nothing_written(harness, 0)


@pytest.mark.parametrize("name, body, status, code", FIELDS, ids=[c[0] for c in FIELDS])
def test_malformed_fields(harness, name, body, status, code):
    answer = harness.client.post("/api/avatar/session", content=json.dumps(body),
                                 headers={"content-type": "application/json"})
    assert answer.status_code == status, answer.text
    error = answer.json()
    assert error["code"] == code and isinstance(error["error"], str) and len(error["error"]) < 300
    assert_nothing_written(harness, 0)


@pytest.mark.parametrize("method, path, status, code", [
    ("GET", "/api/avatar/session", 405, "method_not_allowed"),
    ("PUT", "/api/avatar/session", 405, "method_not_allowed"),
    ("POST", "/api/no-such-route", 404, "not_found"),
    ("GET", "/api/calls/x", 404, "not_found"),
    ("GET", "/api/sessions/unknown-session", 404, "not_found"),
    ("POST", "/api/sessions/unknown-session/cancel", 404, "not_found"),
])
def test_wrong_routes_and_methods_answer_json(harness, method, path, status, code):
    answer = harness.client.request(method, path)
    assert (answer.status_code, answer.json()["code"]) == (status, code)
    assert answer.json()["error"]


@pytest.mark.parametrize("body", [
    {"event": "teleported"}, {"event": "connected", "at": "yesterday"}, {"event": "ended", "transcript": "hi"},
    {"event": "ended", "transcript": [{"role": "narrator", "content": "x"}]}, {"at": 1.0},
])
def test_malformed_browser_events(harness, body):
    session_id = harness.start_call().json()["sessionId"]
    answer = harness.client.post(f"/api/sessions/{session_id}/events", json=body)
    assert answer.status_code == 400 and answer.json()["code"] == "invalid_request"
    names = [e["name"] for e in harness.studio.ledger.events(harness.ledger_rows()[0]["request_id"])]
    assert not any(n.startswith("browser_") for n in names)
