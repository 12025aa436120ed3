"""The Clips tab in Debian's chromium against the embedded simulator: render a clip of a custom
character from its start script, watch it, play it inline and download it; compare three voices;
cancel; a failed render says why; bad input is refused before anything is sent upstream."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import av
import httpx
import pytest

from app import build_app
from studio.catalog.forms import CharacterForm
from tests.characters.support import face_jpeg
from tests.support import call_on_server, launch_chromium, serve, studio_settings

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")]

QUICK = {"clip_queue_delay": 0.5, "clip_render_base": 1.5, "clip_render_per_second": 0.2, "avatar_delay": 0.5}
START_SCRIPT = "Hi, I'm Ava! I can show you around the studio and answer your questions."


class Live:
    def __init__(self, url: str, app, root) -> None:
        self.url, self.app, self.root = url, app, root
        self.studio = app.state.studio
        self.sim = httpx.Client(base_url=self.studio.upstream.base_url, timeout=10)

    def configure(self, **values) -> None:
        self.sim.post("/_simulator/config", json=values).raise_for_status()

    def upstream_writes(self) -> dict[str, int]:
        counts = self.sim.get("/_simulator/state").json()["requests"]
        return {k: n for k, n in counts.items() if k.startswith(("POST /v1/avatar_videos", "POST /v1/uploads"))}

    def character(self, name: str, **extra) -> dict:
        form = CharacterForm(name=name, personality="A friendly product guide.", voice="preset:clara",
                             start_script=START_SCRIPT, image_data=face_jpeg(), image_filename="ava.jpg", **extra)
        return call_on_server(self.app, self.studio.characters.create_character(form))

    def task(self, task_id: str) -> dict:
        return next(t for t in self.sim.get("/_simulator/state").json()["tasks"] if t["id"] == task_id)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    root = tmp_path_factory.mktemp("clips-browser")
    app = build_app(studio_settings(root / "data", STUDIO_CLIP_POLL_INTERVAL="0.3"))
    with serve(app) as url:
        harness = Live(url, app, root)
        harness.configure(**QUICK)
        ava = harness.character("Ava")
        deadline = time.monotonic() + 30
        while call_on_server(app, harness.studio.characters.get_character(ava["id"]))["status"] != "READY":
            assert time.monotonic() < deadline, "Ava never became READY"
            time.sleep(0.1)
        yield harness


@pytest.fixture
def page(live):
    from playwright.sync_api import sync_playwright

    live.configure(**QUICK)
    with sync_playwright() as p:
        browser = launch_chromium(p)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(live.url)
        page.get_by_role("tab", name="Clips").click()
        page.locator("#clip-character input").wait_for()
        yield page
        browser.close()


def choose(page, dropdown: str, option: str | re.Pattern) -> None:
    page.locator(f"{dropdown} input").click()
    page.get_by_role("option", name=option).first.click()


def wait_playing(page, selector: str) -> float:
    """Play the video muted until it has data to play on (readyState >= 3); its duration."""
    page.wait_for_function(f"""() => {{
        const v = document.querySelector({selector!r});
        if (!v) return false;
        v.muted = true;
        if (v.paused && v.readyState < 3) v.play().catch(() => {{}});
        return v.readyState >= 3 && Number.isFinite(v.duration);
    }}""")
    return page.evaluate(f"document.querySelector({selector!r}).duration")


def mp4_facts(data: bytes) -> tuple[float, int, int]:
    with av.open(io.BytesIO(data)) as container:
        return container.duration / av.time_base, len(container.streams.video), len(container.streams.audio)


def test_render_a_clip_of_a_custom_character_watch_play_and_download(page, live):
    page.locator("#clip-fill").get_by_text("Pick a character to use its start script").wait_for()
    choose(page, "#clip-character", re.compile(r"^Ava$"))
    choose(page, "#clip-fill", "Start script")
    page.wait_for_function(f"document.querySelector('#clip-script textarea').value === {START_SCRIPT!r}")
    page.locator("#clip-estimate").get_by_text(re.compile(r"About \d+ s of speech · ≈ \d+ credits")).wait_for()
    choose(page, "#clip-voice", re.compile(r"^Leo"))
    page.locator("#clip-render").click()

    card = page.locator("#clip-current .clip-card")
    card.wait_for()
    assert "Ava · Leo" in card.locator(".clip-title").inner_text()
    page.locator("#clip-cancel").wait_for()
    # The elapsed time counts while it renders.
    elapsed = card.locator("[data-testid=clip-elapsed]")
    first = elapsed.inner_text()
    page.wait_for_function("(first) => { const e = document.querySelector("
                           "'#clip-current [data-testid=clip-elapsed]'); return e && e.textContent !== first; }",
                           arg=first)
    page.locator("#clip-current .clip-card[data-status=SUCCEEDED]").wait_for()
    card.get_by_text("ready").first.wait_for()
    played = wait_playing(page, "#clip-current video")

    row = live.studio.clips.list_clips()[0]
    assert row["avatar_name"] == "Ava" and row["script"] == START_SCRIPT and row["voice_name"] == "Leo"
    with page.expect_download() as caught:
        card.locator("[data-testid=clip-download]").click()
    download = caught.value
    assert download.suggested_filename.endswith(".mp4") and "ava" in download.suggested_filename
    seconds, videos, audios = mp4_facts(Path(download.path()).read_bytes())
    assert (videos, audios) == (1, 1)
    assert abs(played - seconds) < 0.5 and abs(row["duration"] - seconds) < 0.5
    assert 3 < seconds < 20
    # The list keeps it, with its cost, length and expiry.
    listed = page.locator(f"#clip-list tr[data-clip='{row['clip_id']}']")
    listed.get_by_text("Leo").wait_for()
    assert f"{row['cost_credits']:g} credits" in listed.inner_text()
    assert f"{row['duration']:.1f} s" in listed.inner_text()
    assert not page.locator("#clip-cancel").is_visible()


def test_compare_three_voices_side_by_side(page, live):
    choose(page, "#clip-character", "Mochi (preset)")
    page.locator("#clip-script textarea").fill("Welcome to the studio. Which voice suits me best?")
    for voice in ("Clara", "Leo", "Mia"):
        choose(page, "#clip-compare-voices", re.compile(f"^{voice}"))
    page.locator("#clip-compare").click()
    cards = page.locator("#clip-comparison .clip-card")
    page.wait_for_function("document.querySelectorAll('#clip-comparison .clip-card').length === 3")
    assert [t.split("\n")[0] for t in cards.locator(".clip-title").all_inner_texts()] == ["Clara", "Leo", "Mia"]
    page.wait_for_function("document.querySelectorAll('#clip-comparison .clip-card[data-status=SUCCEEDED]')"
                           ".length === 3")
    durations = [wait_playing(page, f"#clip-comparison .clip-card:nth-child({n}) video") for n in (1, 2, 3)]
    assert all(d > 1 for d in durations)
    group = {r["group_id"] for r in live.studio.clips.list_clips()[:3]}
    assert len(group) == 1 and None not in group


def test_cancel_a_render(page, live):
    live.configure(clip_render_base=120.0)
    choose(page, "#clip-character", "Mina (preset)")
    page.locator("#clip-script textarea").fill("This one will be cancelled before it finishes.")
    page.locator("#clip-render").click()
    page.locator("#clip-current .clip-card[data-status=RUNNING]").wait_for()
    page.locator("#clip-cancel").click()
    page.locator("#clip-current .clip-card[data-status=CANCELLED]").wait_for()
    page.locator("#clip-current [data-testid=clip-failure]").get_by_text("Cancelled from the studio").wait_for()
    row = live.studio.clips.list_clips()[0]
    assert row["status"] == "CANCELLED" and live.task(row["task_id"])["status"] == "CANCELLED"


def test_a_failed_render_says_why_in_plain_words(page, live):
    live.sim.post("/_simulator/task-failures", json={
        "failureCode": "SAFETY.INPUT.TEXT", "failure": "The script mentions a real person."}).raise_for_status()
    choose(page, "#clip-character", "Mina (preset)")
    page.locator("#clip-script textarea").fill("Say something Runway's checks will refuse.")
    page.locator("#clip-render").click()
    page.locator("#clip-current .clip-card[data-status=FAILED]").wait_for()
    why = page.locator("#clip-current [data-testid=clip-failure]").inner_text()
    assert "Runway's safety check refused the script or audio" in why
    assert "The script mentions a real person." in why


def test_bad_input_is_refused_before_anything_is_sent(page, live):
    live.configure(avatar_delay=600.0)
    live.character("Slow")  # stays PROCESSING
    before = live.upstream_writes()
    message = page.locator("#clip-message")
    choose(page, "#clip-character", "Mina (preset)")
    page.locator("#clip-render").click()
    message.get_by_text("The script is empty").wait_for()
    message.get_by_text("Nothing was sent to Runway").wait_for()

    page.locator("#clip-script textarea").fill("x" * 5001)
    page.locator("#clip-render").click()
    message.get_by_text("5,001 characters").wait_for()

    fake = live.root / "song.mp3"
    fake.write_text("these are lyrics, not a recording\n" * 40)
    page.locator("#clip-source").get_by_text("Audio file").click()
    page.locator("#clip-audio input[type=file]").set_input_files(str(fake))
    page.locator("#clip-estimate [data-testid=clip-refused]").get_by_text("not an audio file").wait_for()
    page.locator("#clip-render").click()
    message.get_by_text("“song.mp3” is not an audio file").wait_for()

    page.get_by_role("tab", name="Usage").click()
    page.get_by_role("tab", name="Clips").click()
    page.locator("#clip-source").get_by_text("Script").click()
    page.locator("#clip-script textarea").fill("Hello!")
    choose(page, "#clip-character", "Slow (processing)")
    page.locator("#clip-render").click()
    message.get_by_text("Slow is still being processed").wait_for()
    assert live.upstream_writes() == before
