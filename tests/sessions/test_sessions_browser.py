"""In chromium: one session's row goes NOT_READY → READY → RUNNING → COMPLETED without a reload,
its details show the transcript, and the CSV export holds what the table shows."""

from __future__ import annotations

import csv
import io
import threading
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import sync_playwright

from app import build_app
from studio.history import NUMBER_COLUMNS, TABLE_COLUMNS, clock_duration, iso_utc
from tests.support import launch_chromium, serve, sim_session, studio_settings

pytestmark = pytest.mark.browser

TRANSCRIPT = [{"role": "user", "content": "Is the pool open?"},
              {"role": "assistant", "content": "Until nine tonight, lanes one to four."}]
STATUS_CELL = "#sessions-table [data-testid='cell-0-2']"
ID_CELL = "#sessions-table [data-testid='cell-0-8']"


def seconds_after(row: dict, moment: str) -> float | None:
    at = row[moment]
    return None if at is None else round(at - row["requested_at"], 1)


def expected_row(studio, session_id: str) -> dict:
    """Every column the table shows of one finished session, worked out from its ledger row."""
    row = studio.ledger.get(session_id)
    used = row["duration"] if row["duration"] is not None else row["ended_at"] - row["running_at"]
    return {"created (UTC)": iso_utc(row["requested_at"]), "avatar": "Mina", "status": "completed",
            "to READY (s)": seconds_after(row, "ready_at"),
            "to 1st frame (s)": seconds_after(row, "first_frame_at"),
            "duration": clock_duration(used), "failure": "", "origin": "this studio",
            "id": session_id}


def csv_numbers(row: dict) -> dict:
    """A CSV row with its number columns read as numbers (None when empty)."""
    return row | {c: float(row[c]) if row[c] else None for c in NUMBER_COLUMNS}


def test_a_row_goes_live_through_its_lifecycle_then_details_and_csv(tmp_path):
    # A slow-ish provisioning (2.5 s) so the NOT_READY phase spans several 0.5 s refreshes.
    settings = studio_settings(tmp_path, STUDIO_SIM_READY_DELAY="2.5", STUDIO_REFRESH_INTERVAL="0.5", STUDIO_HISTORY_TTL="2.5")
    app = build_app(settings)
    with serve(app) as url, sync_playwright() as playwright, \
            httpx.Client(base_url=url, timeout=60) as http:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
            page.goto(url)
            page.get_by_role("tab", name="Sessions").click()
            page.locator("#sessions-caption").get_by_text("sessions in all").wait_for(timeout=15_000)
            page.evaluate("window.__sameDocument = true")  # gone if anything reloads the page

            started: dict = {}
            caller = threading.Thread(target=lambda: started.update(
                http.post("/api/avatar/session", json={"avatarId": "music-superstar"}).json()))
            caller.start()

            seen: list[str] = []

            def watch_until(status: str, timeout: float = 15.0) -> None:
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:
                    cell = page.locator(STATUS_CELL)
                    text = cell.inner_text(timeout=1_000).strip() if cell.count() else ""
                    if text and (not seen or seen[-1] != text):
                        seen.append(text)
                    if text == status:
                        return
                    page.wait_for_timeout(100)
                raise AssertionError(f"the row never showed {status!r}; it showed {seen}")

            watch_until("ready")
            caller.join(timeout=30)
            session_id = started["sessionId"]
            assert page.locator(ID_CELL).inner_text() == session_id[:8]

            sim_session(app.state.studio, session_id, "join")
            # What the call page reports once the character's video shows (every CSV column then
            # has a value to check).
            assert http.post(f"/api/sessions/{session_id}/events",
                             json={"event": "first_frame"}).status_code == 204
            watch_until("running")
            sim_session(app.state.studio, session_id, "leave", TRANSCRIPT)
            watch_until("completed")

            print("statuses seen:", seen)
            not_ready = [s for s in seen if s in ("queued", "provisioning")]
            assert not_ready, f"NOT_READY was never shown: {seen}"
            order = [seen.index(not_ready[0])] + [seen.index(s) for s in ("ready", "running", "completed")]
            assert order == sorted(order), seen
            assert page.evaluate("window.__sameDocument === true"), "the page reloaded"

            # Details: the transcript (and the lifecycle) of the selected row.
            page.locator("#sessions-table [data-testid='cell-0-1']").click()
            page.locator("#details-transcript").get_by_text("lanes one to four").wait_for(timeout=10_000)
            assert "completed" in page.locator("#details-heading").inner_text()
            assert "consumed" in page.locator("#details-timeline").inner_text()

            # CSV of what the table shows.
            page.locator("#sessions-export").click()
            link = page.locator("#sessions-csv a[download]").first
            link.wait_for(timeout=10_000)
            with page.expect_download() as download:
                link.click()
            text = Path(download.value.path()).read_text(encoding="utf-8")
            reader = csv.DictReader(io.StringIO(text))
            rows = list(reader)
            assert reader.fieldnames == list(TABLE_COLUMNS)
            assert [csv_numbers(r) for r in rows] == [expected_row(app.state.studio, session_id)]
            assert float(rows[0]["to READY (s)"]) >= 2.0
            assert all(rows[0][column] for column in TABLE_COLUMNS if column != "failure")
        finally:
            browser.close()


def test_an_idle_tab_asks_for_nothing_and_a_new_call_still_appears(tmp_path):
    """While nothing changes, the open tab makes no refresh requests (the change stream stays
    open); a call started elsewhere shows up by itself; another tab closes the stream."""
    app = build_app(studio_settings(tmp_path, STUDIO_REFRESH_INTERVAL="0.3"))
    with serve(app) as url, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            asked: list[str] = []
            page.on("request", lambda r: asked.append(r.url) if "/gradio_api/" in r.url
                    and "heartbeat" not in r.url else None)
            page.goto(url)
            page.get_by_role("tab", name="Sessions").click()
            page.locator("#sessions-caption").get_by_text("0 sessions in all", exact=False).wait_for(timeout=15_000)
            page.locator("#sessions-follower [data-following='yes']").wait_for(state="attached")
            page.wait_for_timeout(1_000)  # the first change event's tick
            asked.clear()
            page.wait_for_timeout(2_000)  # more than 6 intervals with nothing changing
            assert asked == []

            httpx.post(f"{url}/api/avatar/session", json={"avatarId": "music-superstar"}, timeout=30)
            page.locator(STATUS_CELL).wait_for(timeout=10_000)
            assert page.locator("#sessions-caption").get_by_text("1 session in all").count() == 1

            page.get_by_role("tab", name="Usage").click()
            page.locator("#sessions-follower [data-following='no']").wait_for(state="attached", timeout=5_000)
        finally:
            browser.close()
