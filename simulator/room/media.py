"""The character's media clock and the tracks that carry it to each subscriber.

One ``MediaClock`` per room produces 20 ms audio frames and video frames at the room's
frame rate on an absolute schedule, whether or not anyone is watching, and pushes each
frame to every subscriber's ``FeedTrack`` (an aiortc track). Speech is queued as
``Utterance``s; the clock plays them, reports loudness to the face, fires the transcript
deltas at the right sample, and resolves ``done`` when an utterance has been heard.
"""

from __future__ import annotations

import asyncio
import fractions
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from .face import LEVELS, PHASES, FaceFrames
from .voice import RATE

log = logging.getLogger("simulator.room")

FRAME_SAMPLES = RATE // 50  # 20 ms
AUDIO_TIME_BASE = fractions.Fraction(1, RATE)
VIDEO_TIME_BASE = fractions.Fraction(1, 90000)
AUDIO_QUEUE = 25  # frames a slow subscriber may lag before old ones are dropped
IDLE_PHASE_SECONDS = 0.9
SILENCE = np.zeros(FRAME_SAMPLES, dtype=np.int16)
FRAME_COPIES = 3  # video frames reused round-robin: one is never re-stamped while encoding


class FeedTrack(MediaStreamTrack):
    """An aiortc track fed by the MediaClock; its id is the LiveKit track sid."""

    def __init__(self, kind: str, track_sid: str) -> None:
        super().__init__()
        self.kind = kind
        self._sid = track_sid
        self._frames: deque[av.AudioFrame | av.VideoFrame] = deque(
            maxlen=AUDIO_QUEUE if kind == "audio" else 1
        )
        self._ready = asyncio.Event()

    @property
    def id(self) -> str:  # type: ignore[override]
        return self._sid

    def push(self, frame: av.AudioFrame | av.VideoFrame) -> None:
        self._frames.append(frame)
        self._ready.set()

    async def recv(self) -> av.AudioFrame | av.VideoFrame:
        while not self._frames:
            if self.readyState != "live":
                raise MediaStreamError
            self._ready.clear()
            await self._ready.wait()
        if self.readyState != "live":
            raise MediaStreamError
        return self._frames.popleft()

    def stop(self) -> None:
        super().stop()
        self._ready.set()


@dataclass
class Utterance:
    text: str
    samples: np.ndarray  # int16 mono at 48 kHz
    deltas: list[tuple[int, str]]  # (sample offset, text delta), in order
    on_delta: Callable[[str], None]
    levels: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    position: int = 0


def loudness_levels(samples: np.ndarray) -> np.ndarray:
    """The face's loudness level (0..LEVELS-1) for each 20 ms frame of ``samples``."""
    count = -(-samples.size // FRAME_SAMPLES)
    padded = np.zeros(count * FRAME_SAMPLES, dtype=np.float32)
    padded[: samples.size] = samples
    rms = np.sqrt(np.mean(padded.reshape(count, FRAME_SAMPLES) ** 2, axis=1))
    return np.where(rms > 300, np.minimum(LEVELS - 1, rms // 1400), 0).astype(np.int8)


def split_deltas(text: str, samples: int, words_per_delta: int = 4) -> list[tuple[int, str]]:
    """Cut ``text`` into word groups timed proportionally over ``samples``."""
    words = text.split(" ")
    groups = [
        " ".join(words[i : i + words_per_delta]) for i in range(0, len(words), words_per_delta)
    ]
    out, offset = [], 0
    for index, group in enumerate(groups):
        delta = group if index == len(groups) - 1 else group + " "
        out.append((int(samples * offset / max(1, len(text))), delta))
        offset += len(delta)
    return out


class MediaClock:
    """Plays the character: audio and video frames on a wall-clock schedule."""

    def __init__(
        self, face: FaceFrames | None, fps: int, on_speaking: Callable[[bool], None]
    ) -> None:
        self.face = face  # None until drawn: no video frames are sent before
        self.fps = max(1, fps)
        self.feeds: list[FeedTrack] = []
        self.queue: deque[Utterance] = deque()
        self.level = 0
        self.speaking = False
        self._on_speaking = on_speaking
        self._tasks: list[asyncio.Task[None]] = []
        self._started = 0.0
        self._frames: dict[tuple[int, int, int], av.VideoFrame] = {}
        self.frames_sent = 0

    def start(self) -> None:
        if not self._tasks:
            self._started = time.monotonic()
            self._tasks = [
                asyncio.create_task(self._audio_loop(), name="room-audio"),
                asyncio.create_task(self._video_loop(), name="room-video"),
            ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass
        self._tasks = []
        for feed in self.feeds:
            feed.stop()
        self.feeds.clear()
        for utterance in self.queue:
            if not utterance.done.done():
                utterance.done.cancel()
        self.queue.clear()

    def feed(self, kind: str, track_sid: str) -> FeedTrack:
        track = FeedTrack(kind, track_sid)
        self.feeds.append(track)
        return track

    def drop_feed(self, track: MediaStreamTrack) -> None:
        if track in self.feeds:
            self.feeds.remove(track)  # type: ignore[arg-type]
        track.stop()

    def play(self, utterance: Utterance) -> asyncio.Future[None]:
        self.queue.append(utterance)
        return utterance.done

    def _next_samples(self) -> tuple[np.ndarray | None, int]:
        """The next 20 ms of speech (None: silence) and its loudness level."""
        if not self.queue:
            return None, 0
        current = self.queue[0]
        while current.deltas and current.deltas[0][0] <= current.position + FRAME_SAMPLES:
            current.on_delta(current.deltas.pop(0)[1])
        chunk = np.zeros(FRAME_SAMPLES, dtype=np.int16)
        take = current.samples[current.position : current.position + FRAME_SAMPLES]
        chunk[: take.size] = take
        index = current.position // FRAME_SAMPLES
        level = int(current.levels[index]) if index < current.levels.size else 0
        current.position += FRAME_SAMPLES
        if current.position >= current.samples.size:
            for _, delta in current.deltas:
                current.on_delta(delta)
            current.deltas.clear()
            self.queue.popleft()
            if not current.done.done():
                current.done.set_result(None)
        return chunk, level

    def _set_level(self, target: int) -> None:
        self.level = target if target > self.level else max(target, self.level - 1)
        speaking = bool(self.queue)
        if speaking != self.speaking:
            self.speaking = speaking
            self._on_speaking(speaking)

    async def _audio_loop(self) -> None:
        pts = 0
        while True:
            await asyncio.sleep(max(0.0, self._started + pts / RATE - time.monotonic()))
            chunk, level = self._next_samples()
            self._set_level(level)
            frame = av.AudioFrame.from_ndarray(
                (SILENCE if chunk is None else chunk).reshape(1, -1), format="s16", layout="mono"
            )
            frame.sample_rate = RATE
            frame.pts = pts
            frame.time_base = AUDIO_TIME_BASE
            pts += FRAME_SAMPLES
            for feed in [f for f in self.feeds if f.kind == "audio"]:
                feed.push(frame)

    def _video_frame(self, phase: int, level: int, index: int) -> av.VideoFrame:
        key = (phase, level, index % FRAME_COPIES)
        frame = self._frames.get(key)
        if frame is None:
            assert self.face is not None
            frame = av.VideoFrame.from_ndarray(self.face.frame(phase, level), format="yuv420p")
            self._frames[key] = frame
        return frame

    async def _video_loop(self) -> None:
        index = 0
        while True:
            late = time.monotonic() - (self._started + index / self.fps)
            if late > 2 / self.fps:  # starved of CPU: skip frames rather than burst them
                index += int(late * self.fps)
            await asyncio.sleep(max(0.0, self._started + index / self.fps - time.monotonic()))
            feeds = [f for f in self.feeds if f.kind == "video"]
            if feeds and self.face is not None:
                phase = int(index / self.fps / IDLE_PHASE_SECONDS) % PHASES
                frame = self._video_frame(phase, self.level, index)
                frame.pts = int(index * 90000 / self.fps)
                frame.time_base = VIDEO_TIME_BASE
                for feed in feeds:
                    feed.push(frame)
                self.frames_sent += 1
            index += 1
