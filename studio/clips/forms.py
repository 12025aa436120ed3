"""The checks of a clip request, all made before anything is sent to Runway.

A script must have words and fit Runway's 5,000 characters; an audio file must decode as audio
(PyAV opens it and decodes its first frames, so a renamed text file or a broken file is refused
here); the character must be READY; a voice override must be a known preset or a custom voice id;
a comparison takes two to four different voices. Each refusal is a `ClipRefused` with a stable
code and one plain sentence, and nothing reaches Runway.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

import av

from studio.catalog.forms import text_length
from studio.clips.words import (
    AUDIO_MAX_BYTES,
    AUDIO_MIN_SECONDS,
    COMPARE_MAX,
    COMPARE_MIN,
    OWN_VOICE,
    SCRIPT_MAX,
)
from studio.errors import StudioError
from studio.vocabulary import FAILED, PROCESSING, READY, VOICE_PRESETS

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
# Container formats PyAV reports, as the MIME type a data URI names.
_AUDIO_TYPES = {
    "mp3": "audio/mpeg", "wav": "audio/wav", "ogg": "audio/ogg", "flac": "audio/flac",
    "aac": "audio/aac", "mov,mp4,m4a,3gp,3g2,mj2": "audio/mp4", "matroska,webm": "audio/webm",
}


class ClipRefused(StudioError):
    """A clip request that fails a check; `field` names the form field it is about."""

    def __init__(self, code: str, message: str, field_name: str = "form") -> None:
        super().__init__(code, message, 400)
        self.field = field_name


@dataclass(frozen=True)
class AudioFile:
    """An uploaded audio file that decodes: its bytes, name, MIME type and measured length."""

    name: str
    mime: str
    seconds: float
    data: bytes = field(repr=False)


# -- Script --------------------------------------------------------------------------------------

def check_script(script: str | None) -> str:
    """The script to send (trimmed), or a refusal when it is empty or over Runway's limit."""
    text = (script or "").strip()
    if not text:
        raise ClipRefused("clip_script_empty", "The script is empty: write what the character should "
                          "say, or fill it from the start script or a document.", "script")
    size = text_length(text)
    if size > SCRIPT_MAX:
        raise ClipRefused("clip_script_too_long", f"The script is {size:,} characters; Runway takes at most "
                          f"{SCRIPT_MAX:,}. Shorten it by {size - SCRIPT_MAX:,}.", "script")
    return text


# -- Audio ---------------------------------------------------------------------------------------

def inspect_audio(data: bytes | None, filename: str | None) -> AudioFile:
    """The uploaded file as `AudioFile` when it really is audio; otherwise a refusal saying why."""
    name = PurePath(filename or "audio").name
    if data is None:
        raise ClipRefused("clip_audio_missing", "Upload an audio file for the character to speak.", "audio")
    if not data:
        raise ClipRefused("clip_audio_empty", f"“{name}” is empty (0 bytes).", "audio")
    if len(data) > AUDIO_MAX_BYTES:
        raise ClipRefused("clip_audio_too_large", f"“{name}” is {len(data) / 1e6:.1f} MB; the limit is "
                          f"{AUDIO_MAX_BYTES / 1e6:.0f} MB.", "audio")
    measured = _decode(data)
    if measured is None:
        raise ClipRefused("clip_audio_not_audio", f"“{name}” is not an audio file the studio can read "
                          "(it does not decode as audio). Upload an MP3, WAV, M4A, OGG or FLAC file.", "audio")
    format_name, seconds = measured
    if seconds < AUDIO_MIN_SECONDS:
        raise ClipRefused("clip_audio_too_short", f"“{name}” is only {seconds:.1f} s long; there is no speech "
                          "to animate.", "audio")
    return AudioFile(name, _AUDIO_TYPES.get(format_name, "audio/mpeg"), seconds, data)


def _decode(data: bytes) -> tuple[str, float] | None:
    """(container format, seconds) when the bytes hold an audio stream that decodes, else None."""
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                return None
            stream = container.streams.audio[0]
            samples, rate = 0, stream.rate or 0
            for frame in container.decode(stream):
                samples += frame.samples
                rate = frame.sample_rate or rate
            if not samples or not rate:
                return None
            return container.format.name, samples / rate
    except (av.FFmpegError, ValueError, OSError, UnicodeDecodeError):
        return None


# -- Character and voice -------------------------------------------------------------------------

def check_character(avatar: dict[str, Any]) -> None:
    """Refuse a character Runway cannot render yet (still processing) or at all (failed)."""
    status, name = avatar.get("status"), avatar.get("name") or "This character"
    if status == READY:
        return
    if status == PROCESSING:
        raise ClipRefused("clip_character_processing", f"{name} is still being processed by Runway; "
                          "clips can be rendered once it is READY.", "character")
    if status == FAILED:
        raise ClipRefused("clip_character_failed", f"{name} failed processing at Runway and cannot be "
                          "rendered. Fix it in the Characters tab.", "character")
    raise ClipRefused("clip_character_not_ready", f"{name} is not ready ({status}).", "character")


def voice_override(choice: str | None) -> dict[str, str] | None:
    """A voice choice as the SDK's text `voice`: None keeps the character's own voice."""
    kind, _, value = (choice or OWN_VOICE).partition(":")
    if kind == OWN_VOICE and not value:
        return None
    if kind == "preset" and value in VOICE_PRESETS:
        return {"type": "preset", "preset_id": value}
    if kind == "custom" and _UUID.match(value):
        return {"type": "custom", "id": value}
    raise ClipRefused("clip_voice_unknown", "That voice is not one of Runway's presets nor a custom "
                      "voice of this account.", "voice")


def check_compare_voices(choices: list[str] | None) -> list[str]:
    """Two to four different voices, in the order chosen."""
    picked = list(dict.fromkeys(c for c in (choices or []) if c))
    if not COMPARE_MIN <= len(picked) <= COMPARE_MAX:
        raise ClipRefused("clip_compare_count", f"Pick {COMPARE_MIN} to {COMPARE_MAX} different voices to "
                          f"compare ({len(picked)} picked).", "compare")
    for choice in picked:
        voice_override(choice)
    return picked


def text_speech(script: str, voice: dict[str, str] | None) -> dict[str, Any]:
    """The SDK's `speech` for a script, with the voice override when there is one."""
    speech: dict[str, Any] = {"type": "text", "text": script}
    if voice:
        speech["voice"] = voice
    return speech


def audio_speech(uri: str) -> dict[str, str]:
    """The SDK's `speech` for audio: a data URI or a `runway://` upload."""
    return {"type": "audio", "audio": uri}
