"""Fixtures for the browser tests of the Call tab's front end.

A loopback FastAPI stub (uvicorn in a thread) serves a tiny test page, components/static/, and
stand-ins for the Studio routes the call controller talks to, plus a LiveKit stub at /lk/rtc/v1
that records the WebSocket handshake query and refuses it (401), like a server rejecting a token.
Chromium is Debian's, launched by tests.support.launch_chromium; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles

from tests.support import CHROMIUM, free_port, launch_chromium

REPO = Path(__file__).resolve().parents[2]
STATIC = REPO / "components" / "static"

TEST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>call controller test</title>
<link rel="stylesheet" href="/static/call-controller.css">
<script src="/static/call-controller.js"></script>
<style>body{margin:0;padding:24px;background:%(bg)s;font-family:sans-serif} #root{max-width:960px}</style>
</head><body><div id="root"></div></body></html>
"""

# A stand-in for avatar-call.js with the same mount() contract; the test drives its callbacks.
FAKE_BUNDLE = """
window.StudioAvatarCall = {
  mount(element, options) {
    const log = (window.fakeBundleLog = window.fakeBundleLog || []);
    log.push({op: 'mount', credentials: options.credentials, audio: options.audio, video: options.video,
              avatarId: options.avatarId});
    element.textContent = 'fake avatar video';
    window.fakeBundleOptions = options;
    return {
      end() { log.push({op: 'end'}); setTimeout(() => { options.onEnd(); options.onEnd(); }, 10);
              return Promise.resolve(); },
      setMic(on) { log.push({op: 'setMic', on}); },
      setCamera(on) { log.push({op: 'setCamera', on}); },
      sendData(message, options) { log.push({op: 'sendData', message, options}); return Promise.resolve(); },
      unmount() { log.push({op: 'unmount'}); },
    };
  },
};
"""


AVATAR_SVG = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 320 320">
<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
<stop offset="0" stop-color="#ffb547"/><stop offset="1" stop-color="#ff5a8a"/></linearGradient></defs>
<rect width="320" height="320" fill="url(#g)"/>
<circle cx="160" cy="140" r="70" fill="#ffe1c4"/>
<circle cx="135" cy="130" r="9" fill="#222"/><circle cx="185" cy="130" r="9" fill="#222"/>
<path d="M125 165 q35 30 70 0" stroke="#222" stroke-width="7" fill="none" stroke-linecap="round"/>
<path d="M60 320 q100 -140 200 0" fill="#3a4aa8"/>
</svg>"""


@dataclass
class StubState:
    """What the stub answers and what it saw. Reset before every test."""

    session_modes: list[str] = field(default_factory=list)  # consumed one per POST; default "ok"
    session_delay: float = 0.0  # seconds the POST is held while the status route says "queued"
    session_posts: list[dict[str, Any]] = field(default_factory=list)
    status_polls: list[str] = field(default_factory=list)
    call_status: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    lk_handshakes: list[dict[str, str]] = field(default_factory=list)
    lk_validate: list[dict[str, str]] = field(default_factory=list)
    counter: int = 0

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]


def _build_app(state: StubState, port: int):
    app = FastAPI()

    @app.get("/")
    def page(bg: str = "#f4f4f6") -> HTMLResponse:
        safe_bg = bg if all(ch.isalnum() or ch == "#" for ch in bg) else "#f4f4f6"
        return HTMLResponse(TEST_PAGE % {"bg": safe_bg})

    @app.get("/static-test/avatar.svg")
    def avatar_svg() -> Response:
        return Response(AVATAR_SVG, media_type="image/svg+xml")

    @app.get("/fake/avatar-call-fake.js")
    def fake_bundle() -> Response:
        return Response(FAKE_BUNDLE, media_type="text/javascript")

    @app.post("/api/avatar/session")
    async def session(request: Request) -> JSONResponse:
        body = await request.json()
        state.session_posts.append(body)
        request_id = str(body.get("requestId", ""))
        mode = state.session_modes.pop(0) if state.session_modes else "ok"
        if state.session_delay:
            state.call_status[request_id] = {"status": "queued", "queued": True}
            await asyncio.sleep(state.session_delay / 2)
            state.call_status[request_id] = {"status": "provisioning", "queued": False}
            await asyncio.sleep(state.session_delay / 2)
        if mode == "rate_limited":
            state.call_status[request_id] = {"status": "failed", "queued": False}
            return JSONResponse(
                {"error": "Too many calls right now. Try again in a minute.", "code": "rate_limited"},
                status_code=429,
            )
        state.counter += 1
        state.call_status[request_id] = {"status": "ready", "queued": False}
        return JSONResponse(
            {
                "sessionId": f"sess_{state.counter}",
                "serverUrl": f"ws://127.0.0.1:{port}/lk",
                "token": f"tok_{state.counter}_secret",
                "roomName": f"room_{state.counter}",
                "expiresAt": "2099-01-01T00:00:00Z",
            }
        )

    @app.get("/api/calls/{request_id}")
    def call_status(request_id: str) -> JSONResponse:
        state.status_polls.append(request_id)
        return JSONResponse(state.call_status.get(request_id, {"status": "requested", "queued": False}))

    @app.post("/api/sessions/{sid}/events")
    async def events(sid: str, request: Request) -> JSONResponse:
        state.events.append({"sessionId": sid, **(await request.json())})
        return JSONResponse({"ok": True})

    # uvicorn without a WebSocket library hands the upgrade request to this HTTP route; with one
    # installed, the websocket route below sees it. Either way: record the query, refuse.
    @app.get("/lk/rtc/v1")
    def lk_http(request: Request) -> PlainTextResponse:
        state.lk_handshakes.append(dict(request.query_params))
        return PlainTextResponse("invalid token (stub)", status_code=401)

    @app.websocket("/lk/rtc/v1")
    async def lk_ws(websocket: WebSocket) -> None:
        state.lk_handshakes.append(dict(websocket.query_params))
        await websocket.close(code=1008)

    @app.get("/lk/rtc/v1/validate")
    def lk_validate(request: Request) -> PlainTextResponse:
        state.lk_validate.append(dict(request.query_params))
        return PlainTextResponse("invalid token (stub)", status_code=401)

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    return app


@dataclass
class StubServer:
    url: str
    state: StubState


@pytest.fixture(scope="session")
def stub_server():
    import uvicorn

    port = free_port()
    state = StubState()
    config = uvicorn.Config(
        _build_app(state, port), host="127.0.0.1", port=port, log_level="error", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 10
    while not server.started:
        if time.time() > deadline:
            raise RuntimeError("stub server did not start")
        time.sleep(0.02)
    yield StubServer(url=f"http://127.0.0.1:{port}", state=state)
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture()
def stub(stub_server: StubServer) -> StubServer:
    stub_server.state.reset()
    return stub_server


# Per module, not per session: Playwright's sync API allows one running instance at a time, and
# the browser tests elsewhere (tests/app, ...) start their own when this one is gone.
@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing (install Debian's chromium package to run browser tests)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = launch_chromium(pw)
        yield b
        b.close()


class PageRecorder:
    """A page plus the URLs of every request it made."""

    def __init__(self, page):
        self.page = page
        self.requests: list[str] = []
        self.console: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))

    def fetched(self, needle: str) -> bool:
        return any(needle in u for u in self.requests)


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    yield PageRecorder(pg)
    context.close()


@pytest.fixture()
def wait_until(page):
    """Poll a Python-side condition (e.g. what the stub recorded): wait_until(fn, timeout, message=).

    Waits through Playwright, so the page's events (request log, console) keep being delivered."""

    def _wait_until(predicate, timeout: float = 10.0, interval: float = 0.05, message: str = "condition"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = predicate()
            if value:
                return value
            page.page.wait_for_timeout(interval * 1000)
        raise AssertionError(f"timed out waiting for {message}")

    return _wait_until
