"""The cost shown before a render: a script's length by heuristic, audio's by measurement."""

from __future__ import annotations

import pytest

from studio.clips.estimate import describe_estimate, estimated_credits, speech_seconds
from studio.clips.videos import output_expiry


def test_speech_length_follows_words_and_sentences():
    assert speech_seconds("") == 0 and speech_seconds("  ...  ") == 0
    assert speech_seconds("Hi.") == 1.0  # never under a second
    ten_words = "one two three four five six seven eight nine ten"
    assert speech_seconds(ten_words) == pytest.approx(4.0)
    assert speech_seconds("one two three four five. six seven eight nine ten.") == pytest.approx(4.3)
    assert speech_seconds(" ".join(["word"] * 150)) == pytest.approx(60.0)


def test_credits_are_whole_rounded_up_and_at_least_one():
    assert estimated_credits(0, 0.5) == 0
    assert estimated_credits(0.4, 0.5) == 1
    assert estimated_credits(10.0, 0.5) == 5
    assert estimated_credits(10.1, 0.5) == 6
    assert estimated_credits(10.0, 0) == 0


def test_the_estimate_reads_in_plain_words():
    assert describe_estimate(12.0, 6, 0.01, measured=False) == "About 12 s of speech · ≈ 6 credits ($0.06)"
    assert describe_estimate(3.25, 2, 0.01, measured=True) == "3.2 s of audio · ≈ 2 credits ($0.02)"
    assert "Write a script" in describe_estimate(0, 0, 0.01, measured=False)


def test_output_expiry_comes_from_the_url_or_runways_shortest_lifetime():
    assert output_expiry("https://x.test/clip.mp4?Expires=1790003600&Signature=ab", 1_790_000_000) == 1790003600
    signed = "https://x.test/c.mp4?X-Amz-Date=20260101T000000Z&X-Amz-Expires=3600&X-Amz-Signature=f"
    assert output_expiry(signed, 0) == 1767225600 + 3600
    assert output_expiry("https://x.test/c.mp4", 1000.0) == 1000.0 + 24 * 3600
