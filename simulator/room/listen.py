"""Energy-based turn detection on a user's microphone track (no speech recognition
offline): a turn is voiced audio lasting at least ``min_speech`` seconds, ended by
``hangover`` seconds of quiet. Audio heard while the character speaks is ignored."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

log = logging.getLogger("simulator.room")
POLL = 0.2  # seconds without a frame before quiet is checked


@dataclass(frozen=True)
class TurnSettings:
    threshold_dbfs: float = -42.0  # a 20 ms frame at least this loud is voiced
    min_speech: float = 0.25  # voiced seconds a turn needs (shorter bursts are noise)
    hangover: float = 0.7  # seconds of quiet that end a turn
    max_turn: float = 6.0  # a turn ends here even without quiet (Chromium's fake
    # microphone beeps every 0.5 s and is never quiet for 0.7 s)


def dbfs(samples: np.ndarray) -> float:
    if samples.size == 0:
        return -120.0
    values = samples.astype(np.float32)
    if samples.dtype.kind == "i":
        values /= 32768.0
    rms = float(np.sqrt(np.mean(values * values)))
    return 20 * np.log10(max(rms, 1e-6))


class TurnDetector:
    """Feed it (seconds, dBFS) per frame; it returns a turn's length when one ends."""

    def __init__(self, settings: TurnSettings | None = None) -> None:
        self.settings = settings or TurnSettings()
        self._start: float | None = None
        self._last_voiced = 0.0
        self._voiced = 0.0

    def reset(self) -> None:
        self._start = None
        self._voiced = 0.0

    def feed(self, now: float, level: float, frame_seconds: float) -> float | None:
        s = self.settings
        if level >= s.threshold_dbfs:
            if self._start is None:
                self._start = now
            self._last_voiced = now + frame_seconds
            self._voiced += frame_seconds
        if self._start is None:
            return None
        quiet = now - self._last_voiced
        length = self._last_voiced - self._start
        if quiet >= s.hangover or length >= s.max_turn:
            voiced = self._voiced
            self.reset()
            if voiced >= s.min_speech:
                return round(length, 1)
        return None


async def listen(
    track: MediaStreamTrack,
    on_turn: Callable[[float], None],
    is_busy: Callable[[], bool],
    settings: TurnSettings | None = None,
) -> None:
    """Read ``track`` until it ends, calling ``on_turn(seconds)`` after each spoken turn."""
    detector = TurnDetector(settings)
    loop = asyncio.get_running_loop()
    while True:
        try:
            frame = await asyncio.wait_for(track.recv(), timeout=POLL)
        except asyncio.TimeoutError:  # silence may arrive as no packets at all (DTX)
            frame = None
        except MediaStreamError:
            return
        now = loop.time()
        if is_busy():
            detector.reset()
            continue
        if frame is None:
            length = detector.feed(now, -120.0, 0.0)
        else:
            seconds = frame.samples / float(frame.sample_rate or 48000)
            length = detector.feed(now, dbfs(frame.to_ndarray()), seconds)
        if length is not None:
            on_turn(length)
