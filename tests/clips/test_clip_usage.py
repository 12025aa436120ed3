"""Clips count in the Usage tab's spend: the studio's clips (final costs, open ones at their
estimate) are added to the calls' estimate, and get a card of their own."""

from __future__ import annotations

import re

from components.usage_cards import spend_cards
from pages.context import PageContext
from pages.usage import load
from studio.clips.store import ClipTotals
from studio.history import usage_by_day
from tests.clips.support import clip_harness
from tests.support import studio_settings

USAGE = {"total_seconds": 600, "total_sessions": 4, "avg_duration_seconds": 150, "by_day": []}


def test_the_spend_adds_clip_credits_to_the_calls(tmp_path):
    settings = studio_settings(tmp_path)  # 20 credits a call minute, $0.01 a credit
    without = spend_cards(USAGE, usage_by_day(USAGE), settings)
    assert "$2.00" in without and "Clips rendered" not in without
    with_clips = spend_cards(USAGE, usage_by_day(USAGE), settings, ClipTotals(3, 2, 45.0, 90.0))
    assert "$2.45" in with_clips  # 200 credits of calls + 45 of clips
    assert re.search(r"Clips rendered</h4><div class='big'>3</div>", with_clips)
    assert "2 ready · 45 credits ($0.45) · 1.5 min of video" in with_clips


def test_the_usage_tab_counts_the_clips_rendered_here(tmp_path):
    with clip_harness(tmp_path) as h:
        h.configure(clip_render_base=1.0, clip_render_per_second=0.1)
        row = h.run(h.clips.render, "music-superstar", client_id="t", script="Hello there, this is a clip.")
        done = h.follow_until(row["clip_id"], "SUCCEEDED")
        spend = h.run(load, PageContext(studio=h.studio))[1]
    assert done["cost_credits"] >= 1
    assert "Clips rendered</h4><div class='big'>1</div>" in spend
    assert f"clips {done['cost_credits']:,.0f} credits" in spend
