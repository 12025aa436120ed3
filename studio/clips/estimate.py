"""What a clip will cost before it is rendered: its length in seconds, then credits at a rate.

Runway publishes no price for avatar videos (`gwm1_avatars` through `POST /v1/avatar_videos`), so
the rate is a setting (`STUDIO_CLIP_CREDITS_PER_SECOND`), and the task's own `estimatedCost`
replaces this estimate as soon as Runway reports one.

A script's length is a heuristic: people (and text-to-speech voices) speak about 150 words a
minute, 2.5 words a second, and pause briefly at the end of each sentence. An uploaded audio file's
length is measured (PyAV), so its estimate is as good as the rate.
"""

from __future__ import annotations

import math
import re

WORDS_PER_SECOND = 2.5
SENTENCE_PAUSE = 0.3  # seconds at each ., ! or ? that ends a sentence
MIN_SECONDS = 1.0

_WORD = re.compile(r"[\w'’-]+")
_SENTENCE_END = re.compile(r"[.!?…]+(?=\s|$)")


def speech_seconds(script: str) -> float:
    """About how long `script` takes to say, in seconds (0 for a script with no words)."""
    words = len(_WORD.findall(script or ""))
    if not words:
        return 0.0
    pauses = len(_SENTENCE_END.findall(script.strip()))
    return max(MIN_SECONDS, words / WORDS_PER_SECOND + SENTENCE_PAUSE * max(0, pauses - 1))


def estimated_credits(seconds: float, credits_per_second: float) -> int:
    """Credits for a clip of `seconds`: whole credits, rounded up, at least one (as Runway charges)."""
    if seconds <= 0 or credits_per_second <= 0:
        return 0
    return max(1, math.ceil(round(seconds * credits_per_second, 6)))


def describe_estimate(seconds: float, credits: int, usd_per_credit: float, *, measured: bool) -> str:
    """One line for the form: "About 12 s of speech · ≈ 4 credits ($0.04)"."""
    if seconds <= 0:
        return "Write a script or upload audio to see the estimated cost."
    length = f"{seconds:.1f} s of audio" if measured else f"about {seconds:.0f} s of speech"
    return f"{length[0].upper()}{length[1:]} · ≈ {credits:,} credits (${credits * usd_per_credit:,.2f})"
