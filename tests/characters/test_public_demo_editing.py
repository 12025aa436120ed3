"""A public demo (STUDIO_PUBLIC_DEMO=true) lets visitors call characters but change nothing: the
write events refuse through the API and the simulator sees no write; the page says so and offers
no create / edit controls. With STUDIO_PUBLIC_DEMO=false the same edit goes through."""

from __future__ import annotations

import base64
import time

import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from app import build_app
from tests.characters.support import face_jpeg
from tests.support import launch_chromium, serve, studio_settings

SIM_HEADERS = {"Authorization": f"Bearer key_{'ab' * 64}", "X-Runway-Version": "2024-11-06"}
REFUSAL = "This is a public demo"
CHARACTER = "Ava the guide"


def writes(sim: httpx.Client) -> dict[str, int]:
    counts = sim.get("/_simulator/state").json()["requests"]
    return {key: n for key, n in counts.items() if not key.startswith(("GET", "HEAD"))}


def seed(sim: httpx.Client) -> tuple[str, str]:
    """A READY character and a document, made on the simulator as the owner would have."""
    document = sim.post("/v1/documents", headers=SIM_HEADERS, json={"name": "Menu", "content": "Risotto."})
    avatar = sim.post("/v1/avatars", headers=SIM_HEADERS, json={
        "name": CHARACTER, "personality": "A friendly guide.",
        "referenceImage": "data:image/jpeg;base64," + base64.b64encode(face_jpeg()).decode(),
        "voice": {"type": "runway-live-preset", "presetId": "clara"}})
    assert document.status_code == 200 and avatar.status_code == 200, (document.text, avatar.text)
    avatar_id = avatar.json()["id"]
    deadline = time.monotonic() + 15
    while sim.get(f"/v1/avatars/{avatar_id}", headers=SIM_HEADERS).json()["status"] != "READY":
        assert time.monotonic() < deadline, "the character never became READY"
        time.sleep(0.1)
    return avatar_id, document.json()["id"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    settings = studio_settings(tmp_path_factory.mktemp("demo-editing"), STUDIO_PUBLIC_DEMO="true",
                               STUDIO_SIM_AVATAR_DELAY="0.2")
    app = build_app(settings)
    with serve(app) as url, httpx.Client(base_url=app.state.studio.upstream.base_url, timeout=10) as sim:
        avatar_id, document_id = seed(sim)
        yield url, sim, avatar_id, document_id


def refused(call) -> str:
    with pytest.raises(AppError) as error:
        call()
    return str(error.value)


def test_edits_through_the_api_are_refused_and_change_nothing(demo):
    url, sim, avatar_id, document_id = demo
    before, state = writes(sim), sim.get("/_simulator/state").json()
    client = Client(url, verbose=False)
    try:
        client.predict(None, api_name="/list_documents")  # offers the document in this session's picker
        attempts = {
            "add a document": lambda: client.predict("Prices", "All free.", api_name="/add_document"),
            "delete a document": lambda: client.predict(document_id, "Menu", api_name="/delete_document"),
            "create a character": lambda: client.predict(
                "https URL", "https://example.com/face.jpg", True, "Mallory", "preset:clara",
                "Say that everything is free.", "", [], "optimize", api_name="/save_character"),
            "design a voice": lambda: client.predict(
                "Gravel", "A deep, gravelly voice that speaks slowly.", "eleven_ttv_v3", "", "preset:clara",
                api_name="/design_voice"),
        }
        for attempt, call in attempts.items():
            assert REFUSAL in refused(call), attempt
    finally:
        client.close()
    after = sim.get("/_simulator/state").json()
    assert writes(sim) == before
    assert [d["id"] for d in after["documents"]] == [d["id"] for d in state["documents"]] == [document_id]
    assert [a["id"] for a in after["avatars"]] == [avatar_id] and after["voices"] == state["voices"]


def test_the_owner_edits_when_the_public_demo_is_off(tmp_path):
    app = build_app(studio_settings(tmp_path, STUDIO_PUBLIC_DEMO="false"))
    with serve(app) as url, httpx.Client(base_url=app.state.studio.upstream.base_url, timeout=10) as sim:
        client = Client(url, verbose=False)
        try:
            client.predict("Prices", "Everything is half price on Mondays.", api_name="/add_document")
        finally:
            client.close()
        assert [d["name"] for d in sim.get("/_simulator/state").json()["documents"]] == ["Prices"]


@pytest.mark.browser
@pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")
def test_the_page_says_it_is_a_public_demo_and_offers_no_editing(demo):
    from playwright.sync_api import sync_playwright

    url = demo[0]
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(15_000)
            page.goto(url)
            notice = page.locator("#public-demo-notice")
            notice.get_by_text("Public demo").wait_for()
            assert "STUDIO_PUBLIC_DEMO=false" in notice.inner_text()
            card = page.locator(f"#cs-cards .cs-card[data-name='{CHARACTER}']")
            card.locator("button[data-action='call']").wait_for()
            assert card.locator("button[data-action='edit'], button[data-action='ask_delete']").count() == 0
            assert not page.get_by_role("button", name="Create character").is_visible()
            assert not page.locator("#cs-form-panel").is_visible()
            page.screenshot(path="/tmp/public-demo-1280x900.png", full_page=True)

            page.get_by_role("tab", name="Knowledge").click()
            page.locator("#kn-table [data-testid^='cell-']", has_text="Menu").first.wait_for()
            assert not page.get_by_role("button", name="Add document").is_visible()
            assert not page.locator("#kn-save").is_visible() and not page.locator("#kn-delete").is_visible()

            page.set_viewport_size({"width": 390, "height": 844})
            page.get_by_role("tab", name="Characters").click()
            card.wait_for()
            page.screenshot(path="/tmp/public-demo-390x844.png", full_page=True)
            page.screenshot(path="/tmp/public-demo-390x844-top.png")
        finally:
            browser.close()
