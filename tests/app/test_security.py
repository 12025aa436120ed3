"""The API key and session keys never leave the server; sign-in closes the JSON routes too."""

from __future__ import annotations

import base64
import logging
import re

import httpx
import pytest
from fastapi.testclient import TestClient

import simulator
from app import build_app
from tests.support import studio_settings

CANARY = "key_" + "c0ffee42" * 16
CANARY_PART = "c0ffee42c0ffee42"


@pytest.fixture
def live_mode(tmp_path):
    """The studio in live mode with a canary key, talking to a standalone simulator."""
    handle = simulator.serve_in_thread(simulator.SimConfig(ready_delay=0.05))
    settings = studio_settings(tmp_path / "data", RUNWAYML_API_SECRET=CANARY, RUNWAYML_BASE_URL=handle.base_url,
                               STUDIO_MAX_LIVE_SESSIONS="20")
    try:
        with TestClient(build_app(settings)) as client:
            yield client, handle
    finally:
        handle.stop()


def static_references(html: str) -> set[str]:
    return {m for m in re.findall(r'(?:src|href)="([^"]+)"', html) if m.startswith("/") and not m.startswith("//")}


def test_no_response_carries_the_key_or_a_session_key(live_mode, caplog):
    client, handle = live_mode
    caplog.set_level(logging.DEBUG)
    responses = []
    ok = client.post("/api/avatar/session", json={"avatarId": "music-superstar"})
    assert ok.status_code == 200
    session_id = ok.json()["sessionId"]
    session_keys = {s["sessionKey"] for s in httpx.get(f"{handle.base_url}/_simulator/state").json()["sessions"]
                    if s.get("sessionKey")}
    assert session_keys, "the simulator should have issued a session key"
    responses += [ok, client.get("/healthz"), client.get("/api/sessions"), client.get(f"/api/sessions/{session_id}"),
                  client.post("/api/avatar/session", json={"avatarId": "nobody"}),
                  client.post("/api/avatar/session", content=b"{", headers={"content-type": "application/json"}),
                  client.post(f"/api/sessions/{session_id}/cancel"), client.get("/api/nothing"),
                  client.get("/api/avatars/music-superstar/image")]
    # an upstream rejection of the key must not echo it either
    httpx.post(f"{handle.base_url}/_simulator/faults",
               json={"method": "POST", "path": "/v1/realtime_sessions", "status": 401, "count": 1,
                     "body": {"error": f"Invalid key {CANARY}"}}).raise_for_status()
    rejected = client.post("/api/avatar/session", json={"avatarId": "music-superstar"})
    assert rejected.json()["code"] == "bad_api_key"
    responses.append(rejected)
    page = client.get("/")
    config = client.get("/config")
    responses += [page, config]
    for path in sorted(static_references(page.text)):
        responses.append(client.get(path))
    for name in ("avatar-call.js", "avatar-call.css", "call-controller.js", "call-controller.css"):
        responses.append(client.get(f"/studio-static/{name}"))

    assert len(responses) > 15
    for answer in responses:
        body = answer.text
        headers = str(answer.headers)
        assert CANARY_PART not in body and CANARY_PART not in headers, answer.url
        assert "stk_" not in body, answer.url
        assert not any(key in body for key in session_keys), answer.url
    assert CANARY_PART not in caplog.text
    assert not any(key in caplog.text for key in session_keys)


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_sign_in_protects_ui_and_json_routes(tmp_path):
    settings = studio_settings(tmp_path / "data", STUDIO_AUTH="qa:correct-horse")
    with TestClient(build_app(settings)) as client:
        refused = client.post("/api/avatar/session", json={"avatarId": "music-superstar"})
        assert refused.status_code == 401 and refused.json()["code"] == "unauthorized"
        for path in ("/api/sessions", "/api/calls/abcdefgh12", "/api/avatars/music-superstar/image"):
            assert client.get(path).status_code == 401
        assert client.get("/config").status_code == 401
        assert client.get("/api/sessions", headers=basic("qa", "wrong")).status_code == 401
        assert client.get("/api/sessions", headers=basic("qa", "correct-horse")).status_code == 200
        assert client.get("/healthz").status_code == 200  # monitoring stays open; it holds no secrets

        login = client.post("/login", data={"username": "qa", "password": "correct-horse"})
        assert login.status_code == 200
        assert client.get("/api/sessions").status_code == 200  # the Gradio login cookie works here too
        assert client.post("/api/avatar/session", json={"avatarId": "music-superstar"}).status_code == 200
        assert client.get("/config").status_code == 200
