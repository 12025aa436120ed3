"""Every message belongs to the state it describes (Debian's chromium): a renamed character's form
title, an emptied form after Create, errors cleared by a new upload, a new voice's "still
processing", "Added X" after X is deleted, and a 30 MB image's own message; the crop can be moved."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from app import build_app
from tests.characters.support import face_jpeg
from tests.support import launch_chromium, serve, studio_settings

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    root = tmp_path_factory.mktemp("stale-messages")
    app = build_app(studio_settings(root / "data", STUDIO_SIM_AVATAR_DELAY="1"))
    with serve(app) as url:
        yield url, httpx.Client(base_url=app.state.studio.upstream.base_url, timeout=10), root


@pytest.fixture
def page(live):
    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(20_000)
        page.goto(live[0])
        page.locator("#cs-cards [data-testid='no-characters'], #cs-cards .cs-grid").first.wait_for()  # loaded
        yield page
        browser.close()


def avatars(sim: httpx.Client) -> list[dict]:
    return sim.get("/_simulator/state").json()["avatars"]


def pick_photo(page, root, name: str, size=(1400, 1000)) -> None:
    photo = root / f"{name}.jpg"
    photo.write_bytes(face_jpeg(size))
    page.locator("#cs-image input[type=file]").set_input_files(str(photo))
    page.locator("#cs-image-report [data-ok='true']").wait_for()


def test_create_empties_the_form_and_a_rename_shows_in_the_title(page, live):
    _, sim, root = live
    before = len(avatars(sim))
    pick_photo(page, root, "nova")
    page.locator("#cs-name input").fill("Nova")
    page.locator("#cs-personality textarea").fill("A cheerful tour guide.")
    page.locator("#cs-submit").click()
    page.locator("#cs-cards .cs-card[data-name='Nova'] .cs-badge", has_text="READY").wait_for()
    expect(page.locator("#cs-name input")).to_have_value("")
    expect(page.locator("#cs-personality textarea")).to_have_value("")
    # A second click makes no duplicate: the empty form is refused, nothing is sent.
    page.locator("#cs-submit").click()
    page.locator("#cs-progress").get_by_text("Nothing was sent").wait_for()
    assert len(avatars(sim)) == before + 1

    page.locator("#cs-cards .cs-card[data-name='Nova'] button[data-action='edit']").click()
    expect(page.locator("#cs-form-title")).to_contain_text("Editing “Nova”")
    current = page.locator("#cs-current-image img")  # the image as it is now, shown while editing
    expect(current).to_be_visible()
    page.wait_for_function("() => document.querySelector('#cs-current-image img').naturalWidth > 0")
    page.locator("#cs-name input").fill("Nova Prime")
    page.locator("#cs-submit").click()
    page.locator("#cs-progress").get_by_text("Saved").wait_for()
    expect(page.locator("#cs-form-title")).to_contain_text("Editing “Nova Prime”")


def test_a_new_upload_clears_the_last_attempts_errors(page, live):
    root = live[2]
    page.locator("#cs-submit").click()
    page.locator("#cs-err-name").get_by_text("Name is required").wait_for()
    page.locator("#cs-progress").get_by_text("Nothing was sent").wait_for()
    pick_photo(page, root, "again")
    expect(page.locator("#cs-err-name")).to_be_hidden()
    expect(page.locator("#cs-err-image")).to_be_hidden()
    expect(page.locator("#cs-progress")).not_to_contain_text("Nothing was sent")


def test_the_crop_can_be_moved(page, live):
    _, _, root = live
    pick_photo(page, root, "tall", size=(800, 1400))
    preview = page.locator("#cs-crop-preview img")
    first = preview.get_attribute("src")
    expect(page.locator("#cs-focus")).to_contain_text("top")
    page.locator("#cs-focus input[type=range]").fill("0")
    page.locator("#cs-focus input[type=range]").dispatch_event("pointerup")
    page.locator("#cs-focus input[type=range]").dispatch_event("change")
    expect(preview).not_to_have_attribute("src", first or "")


def test_a_30_mb_image_says_its_size_and_the_limit(page, live):
    _, _, root = live
    huge = root / "huge.png"
    huge.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 30_000_000)
    page.locator("#cs-image input[type=file]").set_input_files(str(huge))
    error = page.locator("#cs-err-image")
    expect(error).to_contain_text("30.0 MB")
    expect(error).to_contain_text("the limit is 16 MB")
    expect(page.locator(".toast-body")).to_have_count(0)


def test_a_new_voice_stops_saying_still_processing_once_ready(page, live):
    page.locator("#cs-voices").get_by_text("Custom voices").click()
    page.locator("#cv-design-name input").fill("Warm narrator")
    page.locator("#cv-prompt textarea").fill("A warm, calm narrator with a low, unhurried voice.")
    page.locator("#cv-design").click()
    status = page.locator("#cv-status")
    expect(status).to_contain_text("still processing")
    page.locator("#cv-list .cv-badge", has_text="READY").wait_for()
    expect(status).not_to_contain_text("still processing")
    expect(status).to_contain_text("READY")


def test_added_goes_away_once_that_document_is_deleted(page, live):
    page.get_by_role("tab", name="Knowledge").click()
    page.locator("#kn-new-name input").fill("Price list")
    page.locator("#kn-new-content textarea").fill("Tea is two euros. Coffee is three.")
    page.locator("#kn-add-button").click()
    page.locator("#kn-add-status").get_by_text("Added “Price list”").wait_for()
    page.wait_for_function("document.querySelector('#kn-edit-name input').value === 'Price list'")
    page.locator("#kn-delete").click()
    page.locator("#kn-delete", has_text="Really delete").wait_for()
    page.locator("#kn-delete").click()
    page.locator("#kn-doc-status").get_by_text("Deleted").wait_for()
    expect(page.locator("#kn-add-status")).not_to_contain_text("Added")
