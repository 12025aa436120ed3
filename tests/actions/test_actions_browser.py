"""Actions in a whole offline call, in Debian's chromium: the studio served as `python app.py`
serves it, on its embedded simulator, with the committed bundle. A character with one client_event
tool and one backend_rpc tool; typed turns make the simulated character use both. The client event
becomes a readable card with a link that does not navigate by itself; the RPC is answered by the
studio from its configured reply, shown in the Call tab's activity with its latency, and said by
the character; then the ledger and Sessions details list both calls with their durations."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from app import build_app
from studio.actions.store import ToolEntry
from studio.actions.templates import template
from studio.catalog.forms import CharacterForm
from tests.characters.support import face_jpeg
from tests.support import ready_character, serve, studio_settings, wait_for_row

pytestmark = pytest.mark.browser

AVATAR = "music-superstar"
REPLY = {"message": "Order 5150 is on the delivery truck"}
LINK = "https://example.com/pricing"
SHOTS = os.environ.get("STUDIO_SCREENSHOTS")  # a folder: the test also saves what it saw


@pytest.fixture(scope="module")
def studio_app(tmp_path_factory) -> Iterator[tuple[Any, str]]:
    settings = studio_settings(
        tmp_path_factory.mktemp("actions-browser"), STUDIO_SIM_READY_DELAY="0.3", STUDIO_REFRESH_INTERVAL="0.2",
        STUDIO_MAX_LIVE_SESSIONS="10", STUDIO_SESSIONS_PER_CLIENT_PER_HOUR="100", STUDIO_HISTORY_TTL="0.5")
    app = build_app(settings)
    with serve(app) as url:
        order, _ = template("look_up_order")
        app.state.studio.actions.store.save_tools(AVATAR, [
            ToolEntry(template("open_link")[0]),
            ToolEntry(order, answer={"kind": "fixed", "reply": REPLY}),
        ], at=time.time())
        yield app, url


def say(page: Any, text: str) -> None:
    page.get_by_label("Say it as text").fill(text)
    page.get_by_role("button", name="Send").click()


def shot(page: Any, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


def test_tools_fire_in_an_offline_call_and_show_in_the_call_tab_then_in_sessions(browser, studio_app):
    app, url = studio_app
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(url)
    page.get_by_role("tab", name="Call").click()
    host = page.locator(".studio-call-host")
    with page.expect_response("**/api/avatar/session") as answer:
        page.get_by_role("button", name="Start call").click()
    session_id = answer.value.json()["sessionId"]
    expect(host).to_have_attribute("data-call-state", "live", timeout=20_000)
    page.get_by_role("button", name="Mute").click()  # only typed turns

    # A client event: a readable card, its link opens a new tab only when clicked.
    before = page.url
    say(page, f"Please open the pricing link {LINK}")
    card = page.locator(".sc-tool-card[data-tool='open_link']")
    expect(card).to_be_visible(timeout=20_000)
    expect(card.locator(".sc-tool-name")).to_have_text("open_link")
    expect(card.locator(".sc-tool-time")).to_have_text(_clock_pattern())
    link = card.locator("a")
    expect(link).to_have_attribute("href", LINK)
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(link).to_have_attribute("target", "_blank")
    assert page.url == before

    # A backend RPC: answered by the studio, shown in the activity, said by the character.
    say(page, "Where is my order 5150?")
    row = page.locator("#tool-activity tr[data-tool='look_up_order']")
    expect(row).to_contain_text('"order_id": "5150"', timeout=20_000)
    expect(row).to_contain_text(REPLY["message"])
    expect(row.locator("td.latency")).to_have_text(_latency_pattern())
    expect(page.locator(".sc-role-assistant", has_text=REPLY["message"])).to_have_count(1, timeout=20_000)
    shot(page, "actions-call.png")
    if SHOTS:
        page.set_viewport_size({"width": 390, "height": 844})
        shot(page, "actions-call-phone.png")
        page.set_viewport_size({"width": 1280, "height": 1000})

    # QA: make the character call a tool with chosen arguments (the simulator's control plane).
    page.locator("#tool-qa-tool input").click()
    page.get_by_role("option", name="look_up_order").click()
    page.locator("#tool-qa-args .cm-content").click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text('{"order_id": "777"}')
    page.locator("#tool-qa-run").click()
    expect(page.locator("#tool-qa-outcome")).to_contain_text("Called look_up_order: the answer was",
                                                             timeout=20_000)
    expect(page.locator("#tool-activity")).to_contain_text('"order_id": "777"', timeout=10_000)

    page.get_by_role("button", name="End call").click()
    expect(host).to_have_attribute("data-call-state", "ended", timeout=10_000)
    wait_for_row(app.state.studio, session_id, "COMPLETED")
    recorded = app.state.studio.actions.store.calls(session_id)
    # The ledger: the RPC with its answer and latency, and the client event the room also sent
    # the studio's backend.
    assert [(c["tool"], c["kind"], c["arguments"], c["answer"]) for c in recorded] == [
        ("open_link", "client_event", {"url": LINK}, None),
        ("look_up_order", "backend_rpc", {"order_id": "5150"}, REPLY),
        ("look_up_order", "backend_rpc", {"order_id": "777"}, REPLY)]
    assert recorded[1]["latency_ms"] is not None

    # Sessions details: both calls, with what came back and how long each took.
    page.get_by_role("tab", name="Sessions").click()
    page.locator("#sessions-table [data-testid='cell-0-1']").click()
    tools = page.locator("#details-tools")
    expect(tools).to_contain_text("look_up_order", timeout=20_000)
    expect(tools).to_contain_text("open_link")
    expect(tools).to_contain_text("duration_ms")
    expect(tools).to_contain_text(REPLY["message"])
    shot(page, "actions-sessions.png")
    page.close()


def _clock_pattern() -> re.Pattern[str]:
    return re.compile(r"^\d{2}:\d{2}:\d{2}$")


def _latency_pattern() -> re.Pattern[str]:
    return re.compile(r"^[\d,]+(\.\d)? ms$")


def make_character(app: Any, voice: str) -> str:
    """A READY custom character, made through the studio's own services."""
    form = CharacterForm(name="Pat", personality="A helpful shop assistant.", voice=voice,
                         start_script="Hi, I'm Pat.", image_data=face_jpeg(), image_filename="pat.jpg")
    return ready_character(app, form)


def test_the_tool_editor_on_a_characters_page_refuses_in_plain_words_then_saves(browser, studio_app):
    app, url = studio_app
    avatar_id = make_character(app, "preset:max")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url)
    page.get_by_role("tab", name="Characters").click()
    page.locator(f"#cs-cards .cs-card[data-id='{avatar_id}'] .cs-open").click()
    page.locator("#cp-tools").get_by_text("Tools").first.click()
    summary = page.locator("#tools-summary")
    expect(summary).to_contain_text("No tools yet", timeout=15_000)

    page.locator("#tools-template input").click()
    page.get_by_role("option", name="Look up an order (backend RPC)").click()
    page.locator("#tools-use-template").click()
    expect(page.locator("#tools-name input")).to_have_value("look_up_order", timeout=10_000)
    page.locator("#tools-name input").fill("look up order")  # a space: refused before anything is sent
    page.locator("#tools-save").click()
    status = page.locator("#tools-status")
    expect(status).to_contain_text("Not saved", timeout=10_000)
    expect(status).to_contain_text("the name 'look up order' may use only letters, digits and '_'")
    assert app.state.studio.actions.store.tools(avatar_id) == []

    page.locator("#tools-name input").fill("look_up_order")
    page.locator("#tools-save").click()
    expect(status).to_contain_text("Saved", timeout=10_000)
    expect(summary).to_contain_text("look_up_order: backend rpc")
    saved = app.state.studio.actions.store.tools(avatar_id)
    assert [(e.name, e.answer["kind"]) for e in saved] == [("look_up_order", "fixed")]
    shot(page, "actions-editor.png")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "actions-editor-phone.png")
    page.close()


def test_a_call_can_go_without_some_of_the_characters_tools(browser, studio_app):
    app, url = studio_app
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(url)
    page.get_by_role("tab", name="Call").click()
    page.get_by_text("Overrides for this call").click()
    switches = page.locator("#call-tools-on")
    expect(switches.get_by_label("open_link")).to_be_checked(timeout=15_000)
    switches.get_by_label("open_link").uncheck()
    page.wait_for_timeout(500)  # the card's configuration follows the switch
    with page.expect_response("**/api/avatar/session") as answer:
        page.get_by_role("button", name="Start call").click()
    assert answer.value.ok, answer.value.text()
    session_id = answer.value.json()["sessionId"]
    state = httpx.get(f"{app.state.studio.upstream.base_url}/_simulator/state", timeout=10).json()
    sent = next(s for s in state["sessions"] if s["id"] == session_id)["tools"]
    assert [t["name"] for t in sent] == ["look_up_order"]
    page.get_by_role("button", name="End call").click()
    page.close()
