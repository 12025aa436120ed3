"""Clips in a public demo: rendering costs the owner's credits, so visitors' render, compare and
cancel are refused on the server (through the API too) and nothing reaches Runway; the tab says
so. With the demo off the same API call renders."""

from __future__ import annotations

import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from app import build_app
from tests.support import launch_chromium, serve, studio_settings

REFUSAL = "rendering clips uses the owner's Runway credits"


def creates(sim: httpx.Client) -> int:
    return sum(n for key, n in sim.get("/_simulator/state").json()["requests"].items()
               if key.startswith("POST /v1/avatar_videos"))


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    app = build_app(studio_settings(tmp_path_factory.mktemp("clips-demo"), STUDIO_PUBLIC_DEMO="true"))
    with serve(app) as url, httpx.Client(base_url=app.state.studio.upstream.base_url, timeout=10) as sim:
        yield url, sim, app


def test_visitors_cannot_render_compare_or_cancel_through_the_api(demo):
    url, sim, app = demo
    client = Client(url, verbose=False)
    try:
        calls = {
            "render": lambda: client.predict("music-superstar", "Script", "Hello there!", None, "own",
                                             api_name="/render_clip"),
            "compare": lambda: client.predict("music-superstar", "Hello there!", ["preset:clara", "preset:leo"],
                                              api_name="/compare_voices"),
            "cancel": lambda: client.predict(None, None, api_name="/cancel_clip"),
        }
        for name, call in calls.items():
            with pytest.raises(AppError) as refused:
                call()
            assert REFUSAL in str(refused.value), name
    finally:
        client.close()
    assert creates(sim) == 0 and app.state.studio.clips.list_clips() == []


@pytest.mark.browser
@pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")
def test_the_tab_says_rendering_is_off_and_offers_no_render(demo):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(15_000)
            page.goto(demo[0])
            page.get_by_role("tab", name="Clips").click()
            page.locator("#clip-demo-note").get_by_text("rendering clips uses the owner's Runway credits").wait_for()
            assert page.locator("#clip-render").is_disabled() and page.locator("#clip-compare").is_disabled()
        finally:
            browser.close()


def test_the_owner_renders_when_the_public_demo_is_off(tmp_path):
    app = build_app(studio_settings(tmp_path, STUDIO_PUBLIC_DEMO="false"))
    with serve(app) as url, httpx.Client(base_url=app.state.studio.upstream.base_url, timeout=10) as sim:
        client = Client(url, verbose=False)
        try:
            client.predict("music-superstar", "Script", "Hello there!", None, "own", api_name="/render_clip")
        finally:
            client.close()
        assert creates(sim) == 1
        assert [r["script"] for r in app.state.studio.clips.list_clips()] == ["Hello there!"]
