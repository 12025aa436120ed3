"""The Call tab in Debian's chromium: the real bundle against a loopback LiveKit stub, errors in
plain words, new calls, and no secret in the page. Whole offline calls: test_call_offline.py."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse
from playwright.sync_api import expect

import simulator
from app import build_app
from tests.support import serve, studio_settings

pytestmark = pytest.mark.browser
CANARY = "key_" + "feedc0de" * 16


def livekit_stub(handshakes: list[dict]) -> FastAPI:
    """Answers the LiveKit signal handshake with 401, recording what the browser sent."""
    stub = FastAPI()

    @stub.get("/lk/rtc/v1")
    async def signal(request: Request) -> PlainTextResponse:
        handshakes.append(dict(request.query_params))
        return PlainTextResponse("invalid token (stub)", status_code=401)

    @stub.get("/lk/rtc/v1/validate")  # livekit-client may stop here once the token is refused
    async def validate(request: Request) -> PlainTextResponse:
        handshakes.append(dict(request.query_params))
        return PlainTextResponse("invalid token (stub)", status_code=401)

    return stub


def open_call_tab(browser, url):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests: list = []
    page.on("request", lambda request: requests.append(request))
    page.goto(url)
    page.get_by_role("tab", name="Call").click()
    expect(page.get_by_role("button", name="Start call")).to_be_visible(timeout=15_000)
    return page, requests


def is_session_post(request) -> bool:
    return request.url.endswith("/api/avatar/session") and request.method == "POST"


def session_posts(requests):
    return [r for r in requests if is_session_post(r)]


def textual(content_type: str) -> bool:
    return content_type.startswith("text/") or "json" in content_type or "javascript" in content_type


def readable_bodies(responses, finished) -> tuple[list[tuple[str, str]], list[str]]:
    """(url, body) of every text, JSON or JavaScript response the page received, whatever its
    status; and the URLs of event streams still open, whose body cannot be read before they
    close (Gradio's heartbeat never does)."""
    bodies, open_streams = [], []
    for response in responses:
        content_type = response.headers.get("content-type", "")
        if not textual(content_type) or 300 <= response.status < 400:  # a redirect has no body
            continue
        if content_type.startswith("text/event-stream") and response.request not in finished:
            open_streams.append(response.url)
            continue
        bodies.append((response.url, response.text()))
    return bodies, open_streams


def test_real_bundle_hands_the_token_to_livekit_and_starts_over(browser, tmp_path):
    handshakes: list[dict] = []
    with serve(livekit_stub(handshakes)) as stub_url:
        settings = studio_settings(tmp_path / "data",
                                   STUDIO_SIM_LIVEKIT_URL=stub_url.replace("http", "ws") + "/lk",
                                   STUDIO_SIM_READY_DELAY="0.2")
        with serve(build_app(settings)) as url:
            page, requests = open_call_tab(browser, url)
            assert not any("avatar-call.js" in r.url for r in requests), "bundle loaded before the call"
            with page.expect_response("**/api/avatar/session") as answer:
                page.get_by_role("button", name="Start call").click()
            token = answer.value.json()["token"]
            assert json.loads(session_posts(requests)[0].post_data)["avatarId"] == "music-superstar"
            expect(page.get_by_role("button", name="Start a new call")).to_be_visible(timeout=20_000)
            assert any(h.get("access_token") == token for h in handshakes)
            assert any("avatar-call.js" in r.url for r in requests)
            expect(page.locator(".studio-call-host")).to_contain_text("video server")

            with page.expect_request(is_session_post):
                page.get_by_role("button", name="Start a new call").click()
            assert len(session_posts(requests)) == 2
            page.close()


def test_upstream_failure_is_shown_in_plain_words(browser, tmp_path):
    app = build_app(studio_settings(tmp_path / "data", STUDIO_SIM_READY_DELAY="0.2"))
    with serve(app) as url:
        faults = f"{app.state.studio.upstream.base_url}/_simulator/faults"
        httpx.post(faults, json={"method": "POST", "path": "/v1/realtime_sessions", "status": 503,
                                 "count": 1}).raise_for_status()
        page, requests = open_call_tab(browser, url)
        page.get_by_role("button", name="Start call").click()
        host = page.locator(".studio-call-host")
        expect(host).to_contain_text("Runway is having trouble right now", timeout=15_000)
        page.get_by_role("button", name="Start a new call").click()
        expect(host).to_have_attribute("data-call-state", "live", timeout=15_000)
        assert len(session_posts(requests)) == 2
        page.close()


def test_the_api_key_appears_nowhere_in_the_page(browser, tmp_path):
    handle = simulator.serve_in_thread(simulator.SimConfig(ready_delay=0.1))
    try:
        settings = studio_settings(tmp_path / "data", RUNWAYML_API_SECRET=CANARY, RUNWAYML_BASE_URL=handle.base_url)
        with serve(build_app(settings)) as url:
            page = browser.new_page()
            responses, finished = [], set()
            page.on("response", lambda response: responses.append(response))
            page.on("requestfinished", lambda request: finished.add(request))
            page.goto(url)
            page.get_by_role("tab", name="Call").click()
            with page.expect_response("**/api/avatar/session") as answer:
                page.get_by_role("button", name="Start call").click()
            assert answer.value.finished() is None  # its body fully arrived
            token = answer.value.json()["token"]
            # The call connects to the simulator's room, then ends: the bundle and its reports arrive.
            host = page.locator(".studio-call-host")
            expect(host).to_have_attribute("data-call-state", re.compile(r"^(live|ended|error)$"),
                                           timeout=20_000)
            if host.get_attribute("data-call-state") == "live":
                page.get_by_role("button", name="End call").click()
            expect(host).to_have_attribute("data-call-state", re.compile(r"^(ended|error)$"),
                                           timeout=20_000)
            html = page.content()
            storage = page.evaluate("() => JSON.stringify({...localStorage}) + JSON.stringify({...sessionStorage})")
            bodies, open_streams = readable_bodies(responses, finished)
            page.close()
        assert "feedc0de" not in html and "feedc0de" not in storage
        assert not [url for url, body in bodies if "feedc0de" in body]
        # The scan reads JSON: the session response is among the bodies and its token is found,
        # so a key in that response would have been found the same way.
        assert any(url.endswith("/api/avatar/session") and token in body for url, body in bodies)
        assert any("/avatar-call.js" in url for url, _ in bodies)  # JavaScript too
        assert all("/gradio_api/" in url for url in open_streams), open_streams  # only Gradio's own
    finally:
        handle.stop()
