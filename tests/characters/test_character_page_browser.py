"""A character's own page in Debian's chromium: make a character, open its page from its card,
attach a document, play its voice, make a test call and see that session listed, all on the page;
then the back link returns to the list. Screenshots of the list and the page, desktop and phone."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from app import build_app
from studio.catalog.forms import CharacterForm
from tests.characters.support import face_jpeg
from tests.support import call_on_server, launch_chromium, serve, studio_settings

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")]
SHOTS = Path(os.environ.get("STUDIO_SCREENSHOTS", "/tmp/studio-screenshots"))


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    root = tmp_path_factory.mktemp("character-page")
    app = build_app(studio_settings(root / "data", STUDIO_SIM_AVATAR_DELAY="1", STUDIO_SIM_READY_DELAY="0.3"))
    with serve(app) as url:
        yield url, httpx.Client(base_url=app.state.studio.upstream.base_url, timeout=10), root, app


@pytest.fixture
def browser():
    with sync_playwright() as p:
        chromium = launch_chromium(p)
        yield chromium
        chromium.close()


def make_character(page, root: Path, name: str) -> None:
    photo = root / f"{name}.jpg"
    photo.write_bytes(face_jpeg((900, 1200)))
    page.locator("#cs-image input[type=file]").set_input_files(str(photo))
    page.locator("#cs-image-report [data-ok='true']").wait_for()
    page.locator("#cs-name input").fill(name)
    page.locator("#cs-personality textarea").fill("A patient guide who answers from the product notes.")
    page.locator("#cs-submit").click()
    page.locator(f"#cs-cards .cs-card[data-name='{name}'] .cs-badge", has_text="READY").wait_for(timeout=20_000)


def test_a_character_page_holds_everything_about_it(browser, live):
    url, sim, root, _ = live
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(url)
    page.locator("#cs-cards [data-testid='no-characters'], #cs-cards .cs-grid").first.wait_for()  # loaded
    make_character(page, root, "Iris")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "characters-list-desktop.png"), full_page=True)

    # The card opens the page, in place of the list.
    page.locator("#cs-cards .cs-card[data-name='Iris'] .cs-thumb").click()
    character_page, listing = page.locator("#cs-character-page"), page.locator("#cs-list-view")
    expect(character_page.locator("[data-testid='character-heading']")).to_contain_text("Iris")
    expect(listing).to_be_hidden()
    expect(page.locator("#cp-personality")).to_contain_text("patient guide")
    expect(page.locator("#cp-voice [data-testid='voice-label']")).to_contain_text("Clara")
    expect(page.locator("#cp-knowledge [data-testid='no-documents']")).to_be_visible()

    # Knowledge: write a document and attach it; the budget counts it.
    page.locator("#cp-new-document").get_by_text("Write a new document").click()
    page.locator("#cp-new-name input").fill("Opening hours")
    page.locator("#cp-new-content textarea").fill("We are open from nine to five, Monday to Friday. " * 20)
    page.locator("#cp-add").click()
    attached = page.locator("#cp-knowledge [data-testid='attached-documents']")
    expect(attached).to_contain_text("Opening hours")
    expect(page.locator("#cp-knowledge [data-testid='knowledge-budget']")).to_contain_text("of 50,000 tokens")
    expect(page.locator("#cp-knowledge [data-testid='knowledge-budget']")).to_contain_text("1 of 50 documents")
    avatar = sim.get("/_simulator/state").json()["avatars"][0]
    assert len(avatar["documentIds"]) == 1

    # Play its voice (a preset: the simulator's sample): the <audio> gets a playable source.
    page.locator("#cp-play").click()
    page.locator("#cp-voice-audio audio").first.wait_for(state="attached")
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('#cp-voice-audio audio'))"
        ".some((a) => a.readyState >= 1 && a.duration > 1)", timeout=20_000)

    # A test call on the simulator, then its session is listed on the page.
    host = page.locator("#cp-call .studio-call-host")
    host.get_by_role("button", name="Start call").click()
    expect(host).to_have_attribute("data-call-state", "live", timeout=30_000)
    host.get_by_role("button", name="End call").click()
    expect(host).to_have_attribute("data-call-state", "ended", timeout=20_000)
    expect(page.locator("#cp-sessions-caption")).to_contain_text("1 session", timeout=20_000)
    expect(page.locator("#cp-sessions")).to_contain_text("Iris")
    expect(listing).to_be_hidden()  # all of it without leaving the page
    page.screenshot(path=str(SHOTS / "character-page-desktop.png"), full_page=True)

    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone.goto(url)
    phone.locator("#cs-cards .cs-card[data-name='Iris']").wait_for()
    phone.screenshot(path=str(SHOTS / "characters-list-phone.png"), full_page=True)
    phone.locator("#cs-cards .cs-card[data-name='Iris'] .cs-open").click()
    expect(phone.locator("#cp-sessions-caption")).to_contain_text("1 session", timeout=20_000)
    expect(phone.locator("#cp-call").get_by_role("button", name="Start call")).to_be_visible()
    phone.screenshot(path=str(SHOTS / "character-page-phone.png"), full_page=True)
    phone.close()

    # The back link returns to the list.
    page.locator("#cp-back").click()
    expect(listing).to_be_visible()
    expect(character_page).to_be_hidden()
    assert not [e for e in errors if "Failed to load resource" not in e], errors
    page.close()


def test_a_preset_voice_can_be_heard_in_the_form_before_choosing_it(browser, live):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(20_000)
    page.goto(live[0])
    page.locator("#cs-cards [data-testid='no-characters'], #cs-cards .cs-grid").first.wait_for()  # loaded
    page.locator("#cs-voice input").click()
    page.get_by_role("option", name="Marcus").click()
    page.wait_for_function(
        "() => { const a = document.querySelector('#cs-voice-sample audio');"
        " return a && a.src.includes('/api/voices/marcus/sample') && a.readyState >= 1 && a.duration > 1; }")
    page.close()


def test_the_page_follows_a_character_that_is_still_processing(browser, live):
    url, sim, _, app = live
    sim.post("/_simulator/config", json={"avatarDelay": 12}).raise_for_status()
    try:
        form = CharacterForm(name="Juno", personality="A calm guide.", voice="preset:clara",
                             image_data=face_jpeg(), image_filename="juno.jpg")
        call_on_server(app, app.state.studio.characters.create_character(form))
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(20_000)
        page.goto(url)
        page.locator("#cs-cards .cs-card[data-name='Juno'][data-status='PROCESSING'] .cs-open").click()
        heading = page.locator("#cp-heading [data-testid='character-heading']")
        expect(heading).to_have_attribute("data-status", "PROCESSING")
        expect(heading).to_have_attribute("data-status", "READY", timeout=20_000)  # without reopening it
        page.close()
    finally:
        sim.post("/_simulator/config", json={"avatarDelay": 1}).raise_for_status()
