"""How a clip shows: a player only while its video can be served, an expiry that says so, reasons
in plain words, and text from outside shown as text."""

from __future__ import annotations

from components.clip_views import render_card, render_comparison, render_list

NOW = 1_790_000_000.0


def clip(**changes) -> dict:
    row = {"clip_id": "c1", "task_id": "t1", "group_id": None, "avatar_id": "music-superstar",
           "avatar_name": "Mina", "script": "Hello there.", "audio_name": None, "voice": "preset:clara",
           "voice_name": "Clara", "status": "SUCCEEDED", "progress": None, "estimated_credits": 3.0,
           "cost_credits": 3, "duration": 4.25, "output_url": "http://sim/x.mp4", "output_expires_at": NOW + 3600,
           "failure": None, "failure_code": None, "cancel_pending": 0, "client_id": "c", "created_at": NOW - 30,
           "started_at": NOW - 20, "ended_at": NOW - 10, "updated_at": NOW - 10}
    return row | changes


def test_a_ready_clip_plays_from_the_studios_route_and_downloads():
    card = render_card(clip(), NOW)
    assert "<video" in card and "src='/api/clips/c1/video'" in card and "http://sim" not in card
    assert "href='/api/clips/c1/video?download=1' download" in card
    assert "4.2 s" in card and "3 credits" in card and "data-live='0'>0:20<" in card


def test_an_expired_clip_says_so_instead_of_a_broken_player():
    card = render_card(clip(output_expires_at=NOW - 1), NOW)
    assert "<video" not in card and "This video expired on" in card
    listed = render_list([clip(output_expires_at=NOW - 1)], NOW)
    assert "<video" not in listed and "expired" in listed


def test_a_running_clip_shows_progress_and_a_live_elapsed_time():
    card = render_card(clip(status="RUNNING", progress=0.42, cost_credits=None, ended_at=None), NOW)
    assert "width:42%" in card and "data-live='1'" in card and "≈ 3 credits" in card and "<video" not in card


def test_failures_read_in_plain_words_and_outside_text_stays_text():
    card = render_card(clip(status="FAILED", failure_code="ASSET.INVALID",
                            failure="<img src=x onerror=alert(1)>"), NOW)
    assert "Runway could not use the audio or the character&#x27;s image" in card
    assert "<img" not in card and "&lt;img src=x onerror=alert(1)&gt;" in card
    cancelled = render_card(clip(status="CANCELLED", failure_code="cancelled"), NOW)
    assert "Cancelled from the studio." in cancelled
    sneaky = render_list([clip(avatar_name="<b>Eve</b>", script="<script>x</script>")], NOW)
    assert "<b>Eve" not in sneaky and "<script>" not in sneaky


def test_a_comparison_shows_one_card_per_voice_in_order():
    rows = [clip(clip_id=f"c{n}", voice_name=name) for n, name in enumerate(("Clara", "Leo", "Mia"))]
    html = render_comparison(rows, NOW)
    assert html.count("class='clip-card'") == 3
    assert html.index("Clara") < html.index("Leo") < html.index("Mia")
