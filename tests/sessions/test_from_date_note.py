"""A From (or To) date the Sessions tab cannot read is said so next to the field, and the note
goes once the date reads; dates without a time, "today" and "now - 7d" read."""

from __future__ import annotations

import pytest
from playwright.sync_api import sync_playwright

from app import build_app
from pages.sessions import date_note
from tests.support import launch_chromium, serve, studio_settings

NOW = 1_790_000_000.0


@pytest.mark.parametrize("text", ["", None, "2026-01-02", "2026-01-02 10:30", "2026-01-02 10:30:05",
                                  "today", "now - 7d", "now"])
def test_a_readable_date_has_no_note(text):
    assert date_note(text, NOW) == ""


@pytest.mark.parametrize("text", ["2026-13-45", "last tuesday", "2026-01-02 25:00"])
def test_an_unreadable_date_says_why(text):
    note = date_note(text, NOW)
    assert "is not a date" in note and "Not applied" in note and text in note


@pytest.mark.browser
def test_the_note_shows_next_to_the_field_and_goes_when_the_date_is_fixed(tmp_path):
    app = build_app(studio_settings(tmp_path))
    with serve(app) as url, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(url)
            page.get_by_role("tab", name="Sessions").click()
            caption = page.locator("#sessions-caption")
            caption.get_by_text("sessions in all").wait_for(timeout=15_000)
            since = page.locator("#sessions-since textarea, #sessions-since input").first
            note = page.locator("#sessions-since-note")

            since.fill("2026-13-45")
            note.get_by_text("is not a date").wait_for(timeout=10_000)
            field, message = since.bounding_box(), note.bounding_box()
            assert 0 <= message["y"] - (field["y"] + field["height"]) < 40, "the note is not under the field"
            assert abs(message["x"] - field["x"]) < 40

            since.fill("2026-01-02")  # a day, without a time: reads
            page.wait_for_function(
                "() => !document.querySelector('#sessions-since-note').innerText.trim()",
                timeout=10_000)
            caption.get_by_text("matching the filters").wait_for(timeout=10_000)
        finally:
            browser.close()
