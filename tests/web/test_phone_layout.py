"""On a phone (390×844, Debian's chromium): every tab's button is on screen and opens its tab with
a tap, each tab's main action shows on the first screen without scrolling, and the Sessions table
fits the screen's width. Screenshots of every tab go to SCREENS for a person to look at.

A tab that `app.TABS` gains needs a row in MAIN_ACTIONS: the test for it fails until it has one.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app import TABS, build_app
from tests.support import serve, studio_settings

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
SCREENS = Path(tempfile.gettempdir()) / "studio-phone-layout"
SESSIONS_SEEDED = 3

# Tab label → the selector of its main action, which must show whole on the first screen.
MAIN_ACTIONS: dict[str, str] = {
    "Characters": "#cs-new",
    "Knowledge": "#kn-add-button",
    "Call": "#avatar-call .sc-start",
    "Clips": "#clip-render",
    "Sessions": "#sessions-table [data-testid='cell-0-0']",  # the newest session's row
    "Usage": "#usage-refresh",
}


@pytest.fixture(scope="module")
def studio_url(tmp_path_factory) -> Iterator[str]:
    """The whole studio on the embedded simulator, with a few sessions in its ledger."""
    app = build_app(studio_settings(tmp_path_factory.mktemp("phone"), STUDIO_MAX_LIVE_SESSIONS="10"))
    with serve(app) as url, httpx.Client(base_url=url, timeout=60) as http:
        for _ in range(SESSIONS_SEEDED):
            http.post("/api/avatar/session", json={"avatarId": "music-superstar"}).raise_for_status()
        yield url


@pytest.fixture()
def phone(browser, studio_url):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                  device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(studio_url)
    page.get_by_role("tab").first.wait_for()
    yield page
    context.close()


def page_top(page, selector: str) -> dict[str, float]:
    """Where an element is on the page (not the viewport), and how far the page is scrolled."""
    return page.locator(selector).first.evaluate(
        "e => { const r = e.getBoundingClientRect();"
        " return {top: r.top + window.scrollY, bottom: r.bottom + window.scrollY,"
        " left: r.left, right: r.right, scrolled: window.scrollY}; }")


def test_every_tab_button_shows_on_a_phone(phone):
    labels = [label for label, _, _ in TABS]
    tabs = phone.get_by_role("tab")
    assert tabs.all_inner_texts() == labels, "some tabs are hidden behind a menu"
    for label, tab_id, _ in TABS:
        box = page_top(phone, f"[role='tab'][data-tab-id='{tab_id}']")
        assert box["left"] >= 0 and box["right"] <= PHONE["width"], f"{label}'s button is off screen"
        assert box["bottom"] <= PHONE["height"], f"{label}'s button is below the first screen"


@pytest.mark.parametrize("label", [label for label, _, _ in TABS])
def test_a_tap_opens_the_tab_with_its_main_action_on_the_first_screen(phone, label):
    assert label in MAIN_ACTIONS, f"the {label} tab has no main action in MAIN_ACTIONS"
    phone.get_by_role("tab", name=label, exact=True).tap()
    assert phone.get_by_role("tab", name=label, exact=True).get_attribute("aria-selected") == "true"
    selector = MAIN_ACTIONS[label]
    phone.locator(selector).first.wait_for(state="visible")
    phone.wait_for_timeout(500)  # let late panels settle before measuring
    SCREENS.mkdir(exist_ok=True)
    phone.screenshot(path=str(SCREENS / f"{label.lower()}.png"))
    phone.screenshot(path=str(SCREENS / f"{label.lower()}-full.png"), full_page=True)
    box = page_top(phone, selector)
    print(f"{label}: {selector} at {box['top']:.0f}–{box['bottom']:.0f} px (screen {PHONE['height']})")
    assert box["scrolled"] == 0, "opening the tab scrolled the page"
    assert box["bottom"] <= PHONE["height"], (
        f"{label}: its main action ({selector}) starts {box['top']:.0f} px down, below the first "
        f"screen ({PHONE['height']} px)")
    assert box["left"] >= 0 and box["right"] <= PHONE["width"]


def test_the_sessions_table_fits_the_phone_without_sideways_scrolling(phone):
    phone.get_by_role("tab", name="Sessions", exact=True).tap()
    rows = phone.locator("#sessions-table [role='row'][data-index]")
    rows.first.wait_for()
    assert rows.count() == SESSIONS_SEEDED
    grid = phone.locator("#sessions-table .table-wrap").first
    widths = grid.evaluate("e => ({scroll: e.scrollWidth, client: e.clientWidth,"
                           " page: document.documentElement.scrollWidth})")
    assert widths["scroll"] <= widths["client"] + 1, f"the table scrolls sideways: {widths}"
    assert widths["page"] <= PHONE["width"], f"the page scrolls sideways: {widths}"
    # What stays readable: when, who, how it went; every shown cell inside the screen.
    headers = phone.locator("#sessions-table th[data-heading]:visible").all_inner_texts()
    assert [h.strip() for h in headers] == ["created (UTC)", "avatar", "status", "duration"]
    for cell in phone.locator("#sessions-table [role='gridcell'][data-row='0']:visible").all():
        box = cell.bounding_box()
        assert box is not None and 0 <= box["x"] and box["x"] + box["width"] <= PHONE["width"] + 1
    assert phone.locator("#sessions-table [data-testid='cell-0-2']").inner_text().strip()  # a status
