"""The call card in Debian's chromium, on the embedded simulator, following the studio's word on
the call: a card's Call shortcut calls the character clicked even on a fresh page; a session
cancelled from another window, failed upstream or at its time limit ends the card with why, in
plain words and with nothing in the console; a call needs no "Waiting for a free slot" when a
slot is free; and the fourth caller with three slots may wait in line, sees its place, and gets
its call when one ends (the refused attempt is on record in the ledger and in Sessions)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from app import build_app
from components.sessions_table import ELEM_ID as SESSIONS_TABLE
from studio.catalog.forms import CharacterForm
from studio.vocabulary import TERMINAL
from tests.characters.support import face_jpeg
from tests.support import ready_character, serve, studio_settings, wait_for_row

pytestmark = pytest.mark.browser

SLOTS = 3
# The refresher carries an upstream end to the ledger within one interval; the card looks every 0.75 s.
REFRESH = "1.0"
FOLLOWS_WITHIN_MS = 3_000


@pytest.fixture(scope="module")
def studio_app(tmp_path_factory) -> Iterator[tuple[Any, str, str]]:
    settings = studio_settings(
        tmp_path_factory.mktemp("follow"), STUDIO_SIM_READY_DELAY="0.3", STUDIO_REFRESH_INTERVAL=REFRESH,
        STUDIO_SIM_AVATAR_DELAY="0.2", STUDIO_MAX_LIVE_SESSIONS=str(SLOTS),
    )  # fmt: skip
    app = build_app(settings)
    with serve(app) as url:
        yield app, url, make_character(app)


def make_character(app: Any) -> str:
    form = CharacterForm(name="Juniper", personality="You are a calm botanist. Be brief.", voice="preset:max",
                         start_script="Hello, I'm Juniper.", image_data=face_jpeg(), image_filename="juniper.jpg")
    return ready_character(app, form)


class Watched:
    """A page whose console errors and card states are recorded."""

    def __init__(self, browser: Any, url: str, viewport: dict[str, int] | None = None) -> None:
        self.page: Page = browser.new_page(viewport=viewport or {"width": 1280, "height": 1000})
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        # Every status line the card shows, as it changes (a flash of 0.5 s is seen too).
        self.page.add_init_script("""
            window.__statusLines = [];
            new MutationObserver(() => {
              const line = document.querySelector('.sc-status');
              const text = line ? line.textContent : '';
              if (text && window.__statusLines[window.__statusLines.length - 1] !== text) window.__statusLines.push(text);
            }).observe(document, {subtree: true, childList: true, characterData: true});
        """)
        self.page.goto(url)
        self.host = self.page.locator(".studio-call-host")

    def open_call_tab(self) -> None:
        self.page.get_by_role("tab", name="Call").click()
        expect(self.page.get_by_role("button", name="Start call")).to_be_visible(timeout=15_000)

    def start(self) -> str:
        with self.page.expect_response("**/api/avatar/session") as answer:
            self.page.get_by_role("button", name="Start call").click()
        expect(self.host).to_have_attribute("data-call-state", "live", timeout=20_000)
        return answer.value.json()["sessionId"]

    def status_lines(self) -> list[str]:
        return self.page.evaluate("window.__statusLines")

    def close(self) -> None:
        self.page.close()


def upstream(app: Any) -> httpx.Client:
    return httpx.Client(base_url=app.state.studio.upstream.base_url, timeout=10)


def test_a_card_shortcut_on_a_fresh_page_calls_the_character_clicked(browser, studio_app):
    app, url, character = studio_app
    w = Watched(browser, url)
    w.page.locator(f"#cs-cards button[data-action='call'][data-id='{character}']").click()
    w.page.locator("[role=tab][aria-selected=true]", has_text="Call").wait_for()
    expect(w.page.locator(".sc-name")).to_have_text("Juniper", timeout=10_000)
    expect(w.page.locator(".sc-status")).to_have_text("Ready to call Juniper.")
    expect(w.page.locator("#call-avatar input")).to_have_value("Juniper (custom)")
    with w.page.expect_request(lambda r: r.url.endswith("/api/avatar/session")) as sent:
        session_id = w.start()
    assert sent.value.post_data_json["avatarId"] == character
    assert app.state.studio.ledger.get(session_id)["avatar_id"] == character
    with upstream(app) as sim:
        [session] = [s for s in sim.get("/_simulator/state").json()["sessions"] if s["id"] == session_id]
    assert session["avatar"] == {"type": "custom", "avatarId": character}
    w.page.get_by_role("button", name="End call").click()
    expect(w.host).to_have_attribute("data-call-state", "ended", timeout=10_000)
    wait_for_row(app.state.studio, session_id, "COMPLETED")
    # A call with a slot free never says it waits for one, not even for a moment.
    assert not [line for line in w.status_lines() if "free slot" in line], w.status_lines()
    assert w.errors == []
    w.close()


def test_a_cancel_from_another_window_ends_the_card(browser, studio_app):
    app, url, _ = studio_app
    caller = Watched(browser, url)
    caller.open_call_tab()
    session_id = caller.start()
    other = Watched(browser, url)  # the studio's operator, in another window
    answer = other.page.evaluate(
        "id => fetch(`/api/sessions/${id}/cancel`, {method: 'POST'}).then(r => r.status)", session_id)
    assert answer == 200
    expect(caller.host).to_have_attribute("data-call-state", "ended", timeout=FOLLOWS_WITHIN_MS)
    expect(caller.page.locator(".sc-status")).to_have_text("Call ended (cancelled from the studio).")
    expect(caller.page.get_by_role("button", name="Start a new call")).to_be_visible()
    assert app.state.studio.ledger.get(session_id)["status"] == "CANCELLED"
    assert caller.errors == [] and other.errors == []
    caller.close(), other.close()


def test_the_card_follows_the_ledger_even_while_its_room_stays_open(browser, studio_app):
    """Another replica (or Runway, before its room closes) may end the session first: the card
    follows the studio's record, not only its own room."""
    app, url, _ = studio_app
    studio = app.state.studio
    caller = Watched(browser, url)
    caller.open_call_tab()
    session_id = caller.start()
    row = studio.ledger.get(session_id)
    with upstream(app) as sim:
        [session] = [s for s in sim.get("/_simulator/state").json()["sessions"] if s["id"] == session_id]
    assert session["status"] == "RUNNING"
    # Only the record says it ended: nothing is sent upstream, the room stays open.
    studio.ledger.record_status(row["request_id"], "CANCELLED", time.time(),
                                failure="Cancelled from the studio.", failure_code="cancelled")
    expect(caller.host).to_have_attribute("data-call-state", "ended", timeout=FOLLOWS_WITHIN_MS)
    expect(caller.page.locator(".sc-status")).to_have_text("Call ended (cancelled from the studio).")
    with upstream(app) as sim:  # leaving the card left the room: nothing is left running
        deadline = time.monotonic() + 10
        while next(s for s in sim.get("/_simulator/state").json()["sessions"]
                   if s["id"] == session_id)["status"] == "RUNNING":
            assert time.monotonic() < deadline, "the room kept running after the card ended"
            time.sleep(0.1)
    assert caller.errors == []
    caller.close()


def test_an_upstream_failure_reaches_the_card_in_plain_words(browser, studio_app):
    app, url, _ = studio_app
    caller = Watched(browser, url)
    caller.open_call_tab()
    session_id = caller.start()
    with upstream(app) as sim:
        sim.post(f"/_simulator/sessions/{session_id}/fail",
                 json={"failureCode": "INTERNAL.MEDIA", "failure": "The media server stopped"}).raise_for_status()
    expect(caller.host).to_have_attribute("data-call-state", "error", timeout=FOLLOWS_WITHIN_MS)
    expect(caller.page.locator(".sc-notice")).to_have_text("The call stopped: The media server stopped.")
    assert wait_for_row(app.state.studio, session_id, "FAILED")["failure_code"] == "INTERNAL.MEDIA"
    assert caller.errors == []
    caller.close()


def test_the_time_limit_ends_the_card_without_a_console_error(browser, studio_app):
    app, url, _ = studio_app
    caller = Watched(browser, url)
    caller.open_call_tab()
    caller.page.get_by_text("Overrides for this call").click()
    caller.page.get_by_label("number input for Max duration (seconds)").fill("10")
    caller.page.keyboard.press("Enter")
    caller.page.get_by_text("Use this character in your app").click()
    expect(caller.page.locator("body")).to_contain_text("max_duration=10", timeout=15_000)
    session_id = caller.start()
    expect(caller.host).to_have_attribute("data-call-state", "ended", timeout=20_000)
    expect(caller.page.locator(".sc-status")).to_have_text("Call ended (the time limit was reached).",
                                                          timeout=FOLLOWS_WITHIN_MS)
    assert wait_for_row(app.state.studio, session_id, "COMPLETED")["duration"] == 10
    caller.page.wait_for_timeout(1_000)  # the card's last report after the end is in, too
    assert caller.errors == []
    caller.close()


@contextlib.contextmanager
def slots_held(app: Any, url: str, count: int) -> Iterator[list[str]]:
    """Calls other callers hold (started through the session route and joined in the room),
    all ended on the way out."""
    held: list[str] = []
    with upstream(app) as sim:
        try:
            for _ in range(count):
                answer = httpx.post(f"{url}/api/avatar/session", json={"avatarId": "influencer"}, timeout=30)
                answer.raise_for_status()
                held.append(answer.json()["sessionId"])
                sim.post(f"/_simulator/sessions/{held[-1]}/join").raise_for_status()
            yield held
        finally:
            for session_id in held:
                sim.post(f"/_simulator/sessions/{session_id}/leave")
            for session_id in held:
                wait_for_row(app.state.studio, session_id, "COMPLETED")


def test_the_fourth_caller_waits_in_line_and_gets_the_call(browser, studio_app):
    app, url, _ = studio_app
    studio = app.state.studio
    caller = Watched(browser, url)
    caller.open_call_tab()
    with slots_held(app, url, SLOTS) as held:
        caller.page.get_by_role("button", name="Start call").click()
        expect(caller.host).to_have_attribute("data-call-state", "error", timeout=15_000)
        expect(caller.page.locator(".sc-notice")).to_contain_text(f"All {SLOTS} call slots")
        # The refusal is on record, with why, and holds no slot.
        refused = studio.ledger.list(status="REFUSED", limit=None)
        assert [r["failure_code"] for r in refused] == ["studio_busy"]
        assert studio.ledger.count_open() == SLOTS

        caller.page.get_by_role("button", name="Wait for a free slot").click()
        expect(caller.host).to_have_attribute("data-call-state", "waiting", timeout=5_000)
        expect(caller.page.locator(".sc-status")).to_have_text("Waiting for a free slot · 1st in line")
        expect(caller.page.get_by_role("button", name="Cancel")).to_be_visible()
        assert studio.ledger.count_open() == SLOTS  # waiting holds no slot

        with upstream(app) as sim:
            sim.post(f"/_simulator/sessions/{held[0]}/leave").raise_for_status()
        expect(caller.host).to_have_attribute("data-call-state", "live", timeout=20_000)
        [mine] = [r for r in studio.ledger.list(limit=None) if r["session_id"] not in (None, *held)
                  and r["status"] not in TERMINAL]
        names = [e["name"] for e in studio.ledger.events(mine["request_id"])]
        assert names[:2] == ["waiting", "admitted"], names
        caller.page.get_by_role("button", name="End call").click()
        expect(caller.host).to_have_attribute("data-call-state", "ended", timeout=10_000)
    # The browser logs the refused request's status; nothing else.
    assert all("status of 429" in e for e in caller.errors), caller.errors

    # The refused attempt shows in Sessions, with why.
    caller.page.get_by_role("tab", name="Sessions").click()
    table = caller.page.locator("#" + SESSIONS_TABLE)
    expect(table).to_contain_text("refused", timeout=15_000)
    expect(table).to_contain_text("call slots")
    caller.close()


def test_leaving_the_page_gives_up_the_place_in_line(browser, studio_app):
    app, url, _ = studio_app
    studio = app.state.studio
    caller = Watched(browser, url)
    caller.open_call_tab()
    with slots_held(app, url, SLOTS):
        caller.page.evaluate("""() => { fetch('/api/avatar/session', {method: 'POST',
            headers: {'Content-Type': 'application/json'},
            body: JSON.stringify({avatarId: 'influencer', requestId: 'leaving-0000001', wait: true})}); }""")
        deadline = time.monotonic() + 10
        while (row := studio.ledger.get("leaving-0000001")) is None or row["status"] != "WAITING":
            assert time.monotonic() < deadline, row
            time.sleep(0.05)
        progress = httpx.get(f"{url}/api/calls/leaving-0000001", timeout=10).json()
        assert (progress["status"], progress["place"]) == ("waiting for a slot", 1)
        caller.close()
        deadline = time.monotonic() + 10
        while studio.ledger.get("leaving-0000001")["status"] == "WAITING":
            assert time.monotonic() < deadline, "the place was kept after the page closed"
            time.sleep(0.05)
        row = studio.ledger.get("leaving-0000001")
        assert (row["status"], row["failure_code"]) == ("REFUSED", "left_line")


def test_on_a_phone_the_call_starts_from_the_first_screen(browser, studio_app):
    _, url, _ = studio_app
    phone = {"width": 390, "height": 844}
    caller = Watched(browser, url, viewport=phone)
    caller.open_call_tab()
    start = caller.page.get_by_role("button", name="Start call").bounding_box()
    assert start is not None
    assert 0 <= start["x"] and start["x"] + start["width"] <= phone["width"], start
    assert 0 <= start["y"] and start["y"] + start["height"] <= phone["height"], start
    assert caller.errors == []
    caller.close()
