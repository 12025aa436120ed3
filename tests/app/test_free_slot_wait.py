"""The Call tab's "waiting for a free slot" step against the real app, not a stub's timing: the
embedded simulator has one concurrency slot, another call holds it, and the browser's call waits
in the queue until that call leaves."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from app import build_app
from tests.support import launch_chromium, serve, studio_settings

pytestmark = pytest.mark.browser


def test_call_waits_for_a_free_slot_then_goes_live(tmp_path):
    app = build_app(studio_settings(tmp_path / "data", STUDIO_SIM_CONCURRENCY="1",
                                    STUDIO_MAX_LIVE_SESSIONS="5", STUDIO_SIM_READY_DELAY="0.2"))
    studio = app.state.studio
    with serve(app) as url, httpx.Client(base_url=studio.upstream.base_url, timeout=10) as sim, \
            sync_playwright() as playwright:
        # Another caller takes the only upstream slot and joins: it holds the slot until it leaves.
        holder = httpx.post(f"{url}/api/avatar/session", json={"avatarId": "influencer"},
                            timeout=30)
        holder.raise_for_status()
        held = holder.json()["sessionId"]
        sim.post(f"/_simulator/sessions/{held}/join").raise_for_status()

        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url)
        page.get_by_role("tab", name="Call").click()
        page.get_by_role("button", name="Start call").click()
        host = page.locator(".studio-call-host")
        expect(host).to_have_attribute("data-call-state", "queued", timeout=15_000)
        expect(host.locator(".sc-status")).to_contain_text("Waiting for a free slot")
        expect(page.get_by_role("button", name="Cancel")).to_be_visible()

        # The wait is real: upstream, the browser's session is queued behind the held one.
        sessions = sim.get("/_simulator/state").json()["sessions"]
        waiting = [s for s in sessions if s["id"] != held]
        assert [(s["status"], s["queued"]) for s in waiting] == [("NOT_READY", True)]

        sim.post(f"/_simulator/sessions/{held}/leave").raise_for_status()
        expect(host).to_have_attribute("data-call-state", "live", timeout=15_000)
        browser.close()

        # The studio's own record of the call: queued first, ready once the slot was free.
        [row] = [r for r in studio.ledger.list() if r["session_id"] == waiting[0]["id"]]
        names = [e["name"] for e in studio.ledger.events(row["request_id"])]
        assert "queued" in names and names.index("queued") < names.index("ready"), names
