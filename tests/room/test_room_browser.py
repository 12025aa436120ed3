"""The committed browser bundle (components/static/avatar-call.js: @runwayml/avatars-react
0.16.0 on livekit-client 2.23.0) in Debian's chromium, against the loopback room: it connects
(v1 refused, v0 fallback), shows the character's moving video, fills the transcript from
the data channel, hears Chromium's fake microphone as a spoken turn, and ends the call."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse
from starlette.routing import Route

from simulator.room import END_CALL, RoomSettings
from simulator.room.listen import TurnSettings
from tests.room.support import START_SCRIPT, Harness
from tests.support import launch_chromium, video_snapshot_js

pytestmark = [pytest.mark.browser, pytest.mark.slow]

STATIC = Path(__file__).resolve().parents[2] / "components" / "static"
PAGE = """<!doctype html><html><head><link rel="stylesheet" href="/static/avatar-call.css">
<script src="/static/avatar-call.js"></script></head><body><div id="call" style="width:640px"></div>
<script>
window.seen = {states: [], transcript: [], firstFrame: false, ended: false, errors: []};
window.startCall = (credentials) => {
  window.call = StudioAvatarCall.mount(document.getElementById('call'), {
    credentials, avatarId: 'music-superstar', audio: true, video: true,
    onState: (s) => seen.states.push(s), onFirstFrame: () => { seen.firstFrame = true; },
    onTranscript: (t) => { seen.transcript = t; }, onEnd: () => { seen.ended = true; },
    onError: (e) => seen.errors.push(String(e && e.message)),
  });
};
""" + video_snapshot_js("[data-avatar-video] video") + """</script></body></html>"""


def _static(request: Request) -> FileResponse:
    name = request.path_params["name"]
    if name not in ("avatar-call.js", "avatar-call.css"):
        raise FileNotFoundError(name)
    return FileResponse(STATIC / name)


@pytest.fixture(scope="module")
def browser_harness() -> Harness:
    routes = (Route("/", lambda _: HTMLResponse(PAGE)), Route("/static/{name}", _static))
    harness = Harness(RoomSettings(turns=TurnSettings(max_turn=2.0)), routes)
    yield harness
    harness.stop()


def test_the_committed_bundle_has_a_full_call(browser_harness: Harness) -> None:
    from playwright.sync_api import sync_playwright

    harness = browser_harness
    room, session = harness.open()
    credentials = {
        "sessionId": session,
        "serverUrl": harness.url,
        "token": harness.token(room),
        "roomName": room,
    }
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page()
            page.goto(f"{harness.http}/")
            page.evaluate("(c) => startCall(c)", credentials)
            page.wait_for_function(
                "seen.firstFrame && seen.states.some(s => s.session === 'active' && s.avatar === 'ready')",
                timeout=15000,
            )
            first = page.wait_for_function("snapshot()", timeout=10000).json_value()
            assert (first["width"], first["height"]) == (1088, 704)
            page.wait_for_timeout(1200)  # frames change over a second (idle breathing, voice glow)
            assert page.evaluate("snapshot()")["digest"] != first["digest"]
            page.wait_for_function(
                "(text) => seen.transcript.some(e => e.role === 'assistant' && e.content === text)",
                arg=START_SCRIPT,
                timeout=15000,
            )
            page.wait_for_function(  # Chromium's fake microphone is heard as a spoken turn...
                "seen.transcript.some(e => e.role === 'user' && e.content.startsWith('[Speech heard'))",
                timeout=15000,
            )
            page.wait_for_function(  # ...and answered
                "seen.transcript.filter(e => e.role === 'assistant').length >= 2", timeout=15000
            )
            page.evaluate("call.end()")
            page.wait_for_function("seen.ended", timeout=10000)
            assert page.evaluate("seen.errors") == []
            states = page.evaluate("seen.states")
            assert any(s["micEnabled"] and s["cameraEnabled"] for s in states)  # both published
        finally:
            browser.close()
    ending = harness.hooks.wait_end(session)
    assert ending.reason == END_CALL and ending.duration >= 3
