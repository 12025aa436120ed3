"""Clips' media, rendered offline: the speech (eSpeak NG from a script, with the voice's
pitch and rate, or an uploaded audio file decoded) and an MP4 of the character's face
moving with the speech's loudness (H.264 video, AAC audio). The face and the voice are
the loopback room's own (room/face.py, room/voice.py), so a clip looks and sounds like a
call with the same character. Pure functions of their inputs: the engine runs them in a
worker thread, never on the event loop."""

from __future__ import annotations

import io
import ipaddress
import math
import os
import tempfile
from dataclasses import dataclass
from urllib.parse import urlsplit

import av
import httpx
import numpy as np

from .room.face import PHASES, FaceFrames, face_frames
from .room.media import loudness_levels
from .room.voice import RATE, Speaker

LEVELS_PER_SECOND = 50  # loudness_levels() gives one level per 20 ms
IDLE_PHASE_SECONDS = 0.9  # the face's slow "breathing", as in the room
AAC_BITRATE = 64_000
FETCH_TIMEOUT = 10.0


class SpeechError(ValueError):
    """The speech cannot make a clip (no words, not audio, too long, not fetchable)."""


@dataclass(frozen=True)
class Speech:
    samples: np.ndarray  # int16 mono at RATE (48 kHz)

    @property
    def seconds(self) -> float:
        return self.samples.size / RATE


@dataclass(frozen=True)
class Look:
    """How the clip looks: the character's processed image (None: a generated portrait
    drawn from ``name``), the frame size and rate."""

    image: bytes | None
    name: str
    width: int
    height: int
    fps: int


# ---------------------------------------------------------------------------- speech


def synthesise(text: str, voice: str) -> Speech:
    """``text`` said offline by the voice preset (or custom voice id) ``voice``."""
    if not text.strip():
        raise SpeechError("The script has no words to say")
    samples = Speaker(voice).synthesise(text)
    if samples.size == 0:
        raise SpeechError("The script has no words to say")
    return Speech(samples.astype(np.int16))


def decode_audio(data: bytes, max_seconds: float) -> Speech:
    """The first audio stream of ``data`` as 48 kHz mono int16 (any format FFmpeg reads)."""
    limit = int(max_seconds * RATE)
    chunks: list[np.ndarray] = []
    total = 0
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                raise SpeechError("The audio file has no audio stream")
            resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
            for frame in container.decode(container.streams.audio[0]):
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().reshape(-1)
                    chunks.append(chunk)
                    total += chunk.size
                if total > limit:
                    raise SpeechError(f"The audio is longer than {max_seconds:g} seconds")
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except (av.FFmpegError, ValueError, IndexError, EOFError) as error:
        if isinstance(error, SpeechError):
            raise
        raise SpeechError("The audio file could not be decoded") from None
    samples = np.concatenate(chunks).astype(np.int16) if chunks else np.zeros(0, np.int16)
    if samples.size == 0:
        raise SpeechError("The audio file holds no sound")
    if samples.size > limit:
        raise SpeechError(f"The audio is longer than {max_seconds:g} seconds")
    return Speech(samples)


def is_loopback_url(url: str) -> bool:
    """True for an https URL whose host is this machine (localhost or a loopback IP).
    The simulator fetches nothing else: it never sends traffic off the machine."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def fetch_loopback(url: str, max_bytes: int) -> bytes:
    """GET a loopback https URL (no redirects, a size cap). Loopback servers use
    self-signed certificates, and the bytes never leave the machine, so TLS is not
    verified here."""
    if not is_loopback_url(url):
        raise SpeechError("Only loopback URLs can be fetched by the simulator")
    try:
        with (
            httpx.Client(verify=False, follow_redirects=False, timeout=FETCH_TIMEOUT) as http,
            http.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                raise SpeechError(f"The audio URL answered {response.status_code}")
            body = bytearray()
            for chunk in response.iter_bytes():
                body.extend(chunk)
                if len(body) > max_bytes:
                    raise SpeechError(f"The audio file is larger than {max_bytes} bytes")
            return bytes(body)
    except httpx.HTTPError as error:
        raise SpeechError(f"The audio URL could not be fetched ({type(error).__name__})") from None


# ---------------------------------------------------------------------------- video


def render_mp4(speech: Speech, look: Look) -> bytes:
    """An MP4 (H.264 + AAC, fast start) exactly as long as ``speech``: the face's
    loudness level follows the speech 20 ms by 20 ms, as it does in a call."""
    frames = face_frames(look.image, look.name, look.width, look.height)
    levels = loudness_levels(speech.samples)
    with tempfile.TemporaryDirectory(prefix="clip-") as folder:
        # faststart moves the index to the front in a second pass over a real file.
        path = os.path.join(folder, "clip.mp4")
        _write_mp4(path, speech, frames, levels, look.fps)
        with open(path, "rb") as written:
            return written.read()


def _write_mp4(path: str, speech: Speech, frames: FaceFrames, levels: np.ndarray, fps: int) -> None:
    with av.open(path, mode="w", format="mp4", options={"movflags": "+faststart"}) as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height = frames.width, frames.height
        video.pix_fmt = "yuv420p"
        video.options = {"preset": "veryfast", "crf": "28", "tune": "stillimage"}
        audio = container.add_stream("aac", rate=RATE, layout="mono")
        audio.bit_rate = AAC_BITRATE
        frame_count = max(1, math.ceil(speech.seconds * fps))
        for index in range(frame_count):
            at = index / fps
            level_index = min(levels.size - 1, int(at * LEVELS_PER_SECOND))
            level = int(levels[level_index]) if levels.size else 0
            phase = int(at / IDLE_PHASE_SECONDS) % PHASES
            picture = av.VideoFrame.from_ndarray(frames.frame(phase, level), format="yuv420p")
            picture.pts = index
            container.mux(video.encode(picture))
        container.mux(video.encode(None))
        _encode_audio(container, audio, speech.samples)


def _encode_audio(container: av.container.OutputContainer, stream: av.AudioStream,
                  samples: np.ndarray) -> None:  # fmt: skip
    chunk = 1024 * 8
    for start in range(0, samples.size, chunk):
        piece = samples[start : start + chunk].reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(piece), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = start
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))
