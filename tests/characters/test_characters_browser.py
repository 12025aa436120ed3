"""The Characters and Knowledge tabs in Debian's chromium: make a character from an image file, see it
reach READY, attach a document, delete it again; and bad input that shows a message and sends nothing."""

from __future__ import annotations

import re

import httpx
import pytest

from app import build_app
from tests.characters.support import face_jpeg
from tests.support import launch_chromium, serve, studio_settings

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    root = tmp_path_factory.mktemp("characters-browser")
    app = build_app(studio_settings(root / "data", STUDIO_SIM_AVATAR_DELAY="1"))
    with serve(app) as url:
        sim = httpx.Client(base_url=app.state.studio.upstream.base_url, timeout=10)
        yield url, sim, root


@pytest.fixture
def page(live):
    from playwright.sync_api import sync_playwright

    url = live[0]
    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(15_000)
        page.goto(url)
        page.locator("#cs-cards .cs-empty, #cs-cards .cs-grid").first.wait_for()
        yield page
        browser.close()


def writes(sim: httpx.Client) -> dict[str, int]:
    counts = sim.get("/_simulator/state").json()["requests"]
    return {key: n for key, n in counts.items() if not key.startswith("GET")}


def choose(page, dropdown: str, option: str) -> None:
    page.locator(f"{dropdown} input").click()
    page.get_by_role("option", name=option).click()


def test_bad_input_shows_messages_and_creates_nothing(page, live):
    from playwright.sync_api import expect

    _, sim, root = live
    before = writes(sim)
    page.locator("#cs-submit").click()
    page.locator("#cs-err-name").get_by_text("Name is required").wait_for()
    page.locator("#cs-err-personality").get_by_text("Personality is required").wait_for()
    page.locator("#cs-err-image").get_by_text("Reference image is required").wait_for()
    page.locator("#cs-progress").get_by_text("Nothing was sent").wait_for()

    renamed = root / "holiday.jpg"
    renamed.write_text("this is a shopping list, not a photo\n" * 40)
    page.locator("#cs-image input[type=file]").set_input_files(str(renamed))
    page.locator("#cs-image-report [data-ok='false']").get_by_text("isn't an image").wait_for()
    page.get_by_label("Name").first.fill("N" * 51)
    page.locator("#cs-personality textarea").fill("A helpful guide.")
    page.locator("#cs-submit").click()
    page.locator("#cs-err-name").get_by_text("the limit is 50").wait_for()
    page.locator("#cs-err-image").get_by_text("isn't an image").wait_for()
    assert writes(sim) == before
    assert sim.get("/_simulator/state").json()["avatars"] == []

    # The presets' Call shortcut opens the Call tab on that character.
    page.locator("#cs-presets button[data-id='cat-character']").click()
    page.locator("[role=tab][aria-selected=true]", has_text="Call").wait_for()
    expect(page.locator("#call-avatar input")).to_have_value(re.compile("Mochi"), timeout=15_000)


def test_make_a_character_attach_a_document_and_delete_it(page, live):
    _, sim, root = live
    photo = root / "ava.jpg"
    photo.write_bytes(face_jpeg())

    # Create from an image file: pre-flight, crop preview, template, then Create.
    page.locator("#cs-image input[type=file]").set_input_files(str(photo))
    page.locator("#cs-image-report [data-ok='true']").wait_for()
    assert page.locator("#cs-crop-preview img").count() == 1
    page.get_by_label("Name").first.fill("Ava")
    choose(page, "#cs-template", "Friendly product guide")
    page.wait_for_function("document.querySelector('#cs-personality textarea').value.length > 50")
    page.locator("#cs-submit").click()
    card = page.locator("#cs-cards .cs-card[data-name='Ava']")
    card.wait_for()
    card.locator(".cs-badge", has_text="READY").wait_for(timeout=20_000)
    page.locator("#cs-progress [data-status='READY']").wait_for()
    avatar = sim.get("/_simulator/state").json()["avatars"][0]
    assert avatar["status"] == "READY" and avatar["name"] == "Ava"

    # Knowledge: paste a document, attach it to Ava.
    page.get_by_role("tab", name="Knowledge").click()
    page.locator("#kn-new-name input").fill("Product FAQ")
    page.locator("#kn-new-content textarea").fill("# FAQ\nQ: What is it?\nA: A studio for characters.")
    page.locator("#kn-add-button").click()
    page.locator("#kn-add-status").get_by_text("Added").wait_for()
    page.locator("#kn-table [data-testid^='cell-']", has_text="Product FAQ").first.wait_for()
    page.wait_for_function("document.querySelector('#kn-edit-name input').value === 'Product FAQ'")
    choose(page, "#kn-character", "Ava (ready)")
    page.locator("#kn-attach").click()
    page.locator("#kn-used-by .kn-chip", has_text="Ava").wait_for()
    document = sim.get("/_simulator/state").json()["documents"][0]
    assert sim.get("/_simulator/state").json()["avatars"][0]["documentIds"] == [document["id"]]

    # Back on Characters the card counts the document; delete it with confirmation.
    page.get_by_role("tab", name="Characters").click()
    card.locator(".cs-meta", has_text="1 document").wait_for()
    card.locator("button[data-action='ask_delete']").click()
    confirm = card.locator("button[data-action='confirm_delete']")
    confirm.wait_for()
    assert re.search("Really delete Ava", confirm.inner_text())
    assert sim.get("/_simulator/state").json()["avatars"]  # not deleted before the second click
    confirm.click()
    page.locator("#cs-cards [data-testid='no-characters']").wait_for()
    assert sim.get("/_simulator/state").json()["avatars"] == []
