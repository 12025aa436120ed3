"""On a phone (390×844) the Characters and Knowledge tabs' main actions are in the first screen:
"New character" (which brings the form up) and "Add document"."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from app import build_app
from tests.support import launch_chromium, serve, studio_settings

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")]
PHONE = {"width": 390, "height": 844}
SHOTS = Path(os.environ.get("STUDIO_SCREENSHOTS", "/tmp/studio-screenshots"))


@pytest.fixture(scope="module")
def phone(tmp_path_factory):
    app = build_app(studio_settings(tmp_path_factory.mktemp("phone") / "data"))
    with serve(app) as url, sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
        page.set_default_timeout(20_000)
        page.goto(url)
        page.locator("#cs-cards [data-testid='no-characters'], #cs-cards .cs-grid").first.wait_for()  # loaded
        yield page
        browser.close()


def in_first_screen(page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"] \
        and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]


def test_creating_a_character_starts_in_the_first_screen(phone):
    phone.evaluate("window.scrollTo(0, 0)")
    assert in_first_screen(phone, "#cs-new")
    phone.locator("#cs-new").tap()
    phone.wait_for_function("() => { const r = document.querySelector('#cs-name input').getBoundingClientRect();"
                            " return r.top >= 0 && r.bottom <= window.innerHeight; }")
    expect(phone.locator("#cs-name input")).to_be_focused()


def test_adding_a_document_is_in_the_first_screen(phone):
    phone.get_by_role("tab", name="Knowledge").tap()
    phone.locator("#kn-add-button").wait_for()
    phone.evaluate("window.scrollTo(0, 0)")
    assert in_first_screen(phone, "#kn-add-button")
    SHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(SHOTS / "knowledge-phone.png"), full_page=True)
