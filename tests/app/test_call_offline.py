"""Whole offline calls in Debian's chromium: the studio served as `python app.py` serves it, on the
embedded simulator, with the committed bundle and nothing faked. The real SDK joins the
simulator's LiveKit room, the simulated character is seen, heard and answers (to the fake
microphone and to typed words), and the session's lifecycle comes from what really happened:
End → COMPLETED with the call's length, maxDuration → the room ends the call, a reused or an
expired token → an error in plain words and nothing left RUNNING."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from app import build_app
from studio.catalog.forms import CharacterForm
from tests.characters.support import face_jpeg
from tests.support import (
    call_on_server,
    ready_character,
    serve,
    studio_settings,
    video_snapshot_js,
    wait_for_row,
)

pytestmark = pytest.mark.browser

KNOWLEDGE = (
    "Harbor Bikes rents city bikes and e-bikes by the hour. "
    "Helmets are included free with every rental. "
    "The shop on Pier 9 closes at eight in the evening."
)
QUESTION = "Are helmets included with a rental?"
ANSWER = "Helmets are included free with every rental."
START_SCRIPT = "Ahoy! I'm Skipper from Harbor Bikes."
NO_PARTICIPANT_WINDOW = 5  # seconds; short, so the expired-token call fails quickly

# Every RTCPeerConnection the page makes, so the test can read WebRTC stats like a user's devtools.
PEER_CONNECTIONS = """
window.__pcs = [];
const NativePC = window.RTCPeerConnection;
window.RTCPeerConnection = class extends NativePC {
  constructor(...args) { super(...args); window.__pcs.push(this); }
};
window.audioBytes = async () => {
  let total = 0;
  for (const pc of window.__pcs) {
    (await pc.getStats()).forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'audio') total += r.bytesReceived || 0;
    });
  }
  return total;
};
""" + video_snapshot_js(".sc-video [data-avatar-video] video")


@pytest.fixture(scope="module")
def studio_app(tmp_path_factory) -> Iterator[tuple[Any, str, str]]:
    """The studio on its embedded simulator, with a custom character that knows KNOWLEDGE."""
    settings = studio_settings(
        tmp_path_factory.mktemp("offline"), STUDIO_SIM_READY_DELAY="0.3", STUDIO_REFRESH_INTERVAL="0.2",
        STUDIO_SIM_AVATAR_DELAY="0.2", STUDIO_SIM_NO_PARTICIPANT_TIMEOUT=str(NO_PARTICIPANT_WINDOW),
        STUDIO_MAX_LIVE_SESSIONS="10", STUDIO_SESSIONS_PER_CLIENT_PER_HOUR="100",
    )  # fmt: skip
    app = build_app(settings)
    with serve(app) as url:
        yield app, url, make_character(app)


def make_character(app: Any) -> str:
    """Skipper, with a knowledge document attached, made through the studio's own services."""
    studio = app.state.studio
    document = call_on_server(app, studio.documents.create_document("Harbor Bikes", KNOWLEDGE))
    form = CharacterForm(name="Skipper", personality="You are a cheerful bike-rental guide. Be brief.",
                         voice="preset:max", start_script=START_SCRIPT, image_data=face_jpeg(),
                         image_filename="skipper.jpg")
    character_id = ready_character(app, form)
    call_on_server(app, studio.documents.attach_document(document["id"], character_id))
    return character_id


def open_call_tab(browser: Any, url: str, character: str | None = None) -> Page:
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.add_init_script(PEER_CONNECTIONS)
    page.goto(url)
    page.get_by_role("tab", name="Call").click()
    expect(page.get_by_role("button", name="Start call")).to_be_visible(timeout=15_000)
    if character:
        page.locator("#call-avatar input").click()
        page.get_by_role("option", name=f"{character} (custom)").click()
        expect(page.locator(".sc-name")).to_have_text(character, timeout=10_000)
    return page


def simulator_session(app: Any, session_id: str) -> dict[str, Any]:
    state = httpx.get(f"{app.state.studio.upstream.base_url}/_simulator/state", timeout=10).json()
    return next(s for s in state["sessions"] if s["id"] == session_id)


def transcript(page: Page) -> list[tuple[str, str]]:
    lines = page.eval_on_selector_all(
        ".sc-transcript .sc-line",
        "els => els.map(li => [li.querySelector('.sc-who').textContent, li.querySelector('.sc-text').textContent])",
    )
    return [(who, text) for who, text in lines]


def start_and_connect(page: Page) -> tuple[str, float]:
    """Press Start; the session id and the page's clock at the click (ms)."""
    host = page.locator(".studio-call-host")
    clicked = page.evaluate("performance.now()")
    with page.expect_response("**/api/avatar/session") as answer:
        page.get_by_role("button", name="Start call").or_(
            page.get_by_role("button", name="Start a new call")).click()
    session_id = answer.value.json()["sessionId"]
    expect(host).to_have_attribute("data-call-state", "live", timeout=20_000)
    return session_id, clicked


def test_an_offline_call_is_seen_heard_answered_and_ended(browser, studio_app) -> None:
    app, url, _ = studio_app
    page = open_call_tab(browser, url, "Skipper")
    host = page.locator(".studio-call-host")
    expect(page.locator(".sc-badge")).to_have_text("Simulated offline")
    session_id, _ = start_and_connect(page)

    first = page.wait_for_function("snapshot()", timeout=15_000).json_value()
    assert (first["width"], first["height"]) == (1088, 704)
    before = page.evaluate("audioBytes()")
    page.wait_for_timeout(1200)
    assert page.evaluate("snapshot()")["digest"] != first["digest"]  # it moves
    assert page.evaluate("audioBytes()") > before > 0  # and its voice keeps arriving

    expect(page.locator(".sc-transcript")).to_contain_text(START_SCRIPT, timeout=15_000)
    assert transcript(page)[0] == ("Skipper", START_SCRIPT)
    # Chromium's fake microphone beeps: the room hears a spoken turn and answers it.
    page.wait_for_function(
        "[...document.querySelectorAll('.sc-role-user .sc-text')].some(e => e.textContent.startsWith('[Speech heard'))",
        timeout=25_000)
    expect(page.locator(".sc-role-assistant")).to_have_count(2, timeout=15_000)

    page.get_by_role("button", name="Mute").click()  # only the typed words from here on
    expect(page.locator(".sc-say-note")).to_contain_text("Replies are simulated offline")
    page.get_by_label("Say it as text").fill(QUESTION)
    page.get_by_role("button", name="Send").click()
    # A spoken turn heard before the mute may be answered first: replies come one at a time.
    expect(page.locator(".sc-role-user", has_text=QUESTION)).to_have_count(1, timeout=30_000)
    expect(page.locator(".sc-role-assistant", has_text=ANSWER)).to_have_count(1, timeout=20_000)

    row = app.state.studio.ledger.get(session_id)
    assert row["status"] == "RUNNING"
    clicked = time.time()
    page.get_by_role("button", name="End call").click()
    expect(host).to_have_attribute("data-call-state", "ended", timeout=10_000)
    seen_ended = time.time()

    row = wait_for_row(app.state.studio, session_id, "COMPLETED")
    upstream = simulator_session(app, session_id)
    assert upstream["status"] == "COMPLETED"
    # Whole seconds from the join to the leave, which lands between the click and the card saying so.
    connected = row["connected_at"]
    assert clicked - connected - 1.0 <= upstream["duration"] <= seen_ended - connected + 1.0
    assert row["duration"] == upstream["duration"]
    assert row["first_frame_at"] >= row["connected_at"] > row["created_at"]
    said = [(line["role"], line["content"]) for line in upstream["transcript"]]
    assert said[0] == ("assistant", START_SCRIPT) and ("user", QUESTION) in said
    assert "bike-rental guide" not in json.dumps(said)  # instructions are never spoken

    page.get_by_role("button", name="Start a new call").click()  # and again
    expect(host).to_have_attribute("data-call-state", "live", timeout=20_000)
    page.get_by_role("button", name="End call").click()
    expect(host).to_have_attribute("data-call-state", "ended", timeout=10_000)
    page.close()


def test_max_duration_ends_the_call_in_the_room(browser, studio_app) -> None:
    app, url, _ = studio_app
    page = open_call_tab(browser, url)
    page.get_by_text("Overrides for this call").click()
    page.get_by_label("number input for Max duration (seconds)").fill("10")
    page.keyboard.press("Enter")
    # The same answer carries the call card's new configuration and the code snippets.
    page.get_by_text("Use this character in your app").click()
    expect(page.locator("body")).to_contain_text("max_duration=10", timeout=15_000)
    session_id, _ = start_and_connect(page)
    started = time.monotonic()
    expect(page.locator(".studio-call-host")).to_have_attribute("data-call-state", "ended", timeout=20_000)
    assert 8.5 < time.monotonic() - started < 12
    assert page.locator(".sc-notice").is_hidden()
    row = wait_for_row(app.state.studio, session_id, "COMPLETED")
    assert row["duration"] == simulator_session(app, session_id)["duration"] == 10
    page.close()


def refused_call(page: Page, credentials: dict[str, Any]) -> str:
    """Start a call whose session route answers `credentials`; the notice it ends with."""
    page.route("**/api/avatar/session", lambda route: route.fulfill(json=credentials))
    page.get_by_role("button", name="Start call").click()
    host = page.locator(".studio-call-host")
    expect(host).to_have_attribute("data-call-state", "error", timeout=20_000)
    return page.locator(".sc-notice").inner_text()


def test_a_reused_token_is_refused_in_plain_words(browser, studio_app) -> None:
    app, url, _ = studio_app
    page = open_call_tab(browser, url)
    with page.expect_response("**/api/avatar/session") as answer:
        session_id, _ = start_and_connect(page)
    used = answer.value.json()
    page.get_by_role("button", name="End call").click()
    wait_for_row(app.state.studio, session_id, "COMPLETED")
    page.close()

    page = open_call_tab(browser, url)
    notice = refused_call(page, used)
    assert notice == "These call credentials have expired or were already used. Start a new call."
    assert simulator_session(app, session_id)["status"] == "COMPLETED"
    page.close()


def test_an_expired_token_is_refused_and_the_session_fails_unjoined(browser, studio_app) -> None:
    app, url, _ = studio_app
    base = app.state.studio.upstream.base_url
    page = open_call_tab(browser, url)
    minted: dict[str, Any] = {}

    def expire(route: Any) -> None:
        answer = route.fetch().json()
        expired = httpx.post(f"{base}/_simulator/sessions/{answer['sessionId']}/token",
                             json={"ttl": -60}, timeout=10).json()
        minted.update(answer, token=expired["token"])
        route.fulfill(json=minted)

    page.route("**/api/avatar/session", expire)
    page.get_by_role("button", name="Start call").click()
    expect(page.locator(".studio-call-host")).to_have_attribute("data-call-state", "error", timeout=20_000)
    assert page.locator(".sc-notice").inner_text() == (
        "These call credentials have expired or were already used. Start a new call.")
    session_id = minted["sessionId"]
    assert simulator_session(app, session_id)["status"] == "READY"  # nobody got in
    row = wait_for_row(app.state.studio, session_id, "FAILED", timeout=NO_PARTICIPANT_WINDOW + 10)
    assert row["failure_code"] == simulator_session(app, session_id)["failureCode"] == (
        "TALKING_AVATAR.NO_PARTICIPANT")
    page.close()
