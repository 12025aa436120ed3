"""The pieces of avatar video tasks that need no lock: what a create asks for (ClipPlan),
preparing its speech in a worker thread, the task's wire shape per status, the output
URL's signature, and which uploads are kept as audio."""

from __future__ import annotations

import hashlib
import hmac
import math
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from ..clips_render import Look, Speech, SpeechError, decode_audio, fetch_loopback, synthesise
from ..config import SimConfig
from ..errors import ApiError, validation_error
from ..validation import custom_issue
from .records import CANCELLED, FAILED, PENDING, RUNNING, SUCCEEDED, THROTTLED, Task
from .times import iso

OUTPUTS_PATH = "/_outputs"  # where rendered clips are served, behind signed, expiring URLs
OUTPUT_NAME = "clip.mp4"
TEXT_MODEL = "gwm1_avatar_async_text_to_video"  # the usage models Runway reports clips under
AUDIO_MODEL = "gwm1_avatar_async_audio_to_video"
DEFAULT_FAILURE_CODE = "INTERNAL.BAD_OUTPUT"
DEFAULT_FAILURE = "The avatar video could not be generated (simulated)."
AUDIO_EXTENSIONS = frozenset(
    {"mp3", "wav", "m4a", "aac", "ogg", "oga", "opus", "flac", "webm", "mp4", "weba"}
)


@dataclass(frozen=True)
class ClipPlan:
    """A checked create request: who is shown, and where the speech comes from."""

    avatar: dict[str, Any]
    look: Look
    speech_type: str  # "text" | "audio"
    text: str | None = None
    voice: str | None = None  # preset id or custom voice id the text is said with
    audio: bytes | None = None  # audio already at hand (data URI, upload)
    audio_file: str | None = None  # the upload's stored file, reused rather than copied
    audio_url: str | None = None  # a loopback https URL to fetch

    @property
    def usage_model(self) -> str:
        return TEXT_MODEL if self.speech_type == "text" else AUDIO_MODEL


def prepare_speech(plan: ClipPlan, config: SimConfig) -> tuple[Speech, bytes | None]:
    """The clip's speech, and the audio bytes it came from (None for a script). Runs in a
    worker thread: eSpeak, a fetch or a decode may take a while. Raises a 400."""
    try:
        if plan.speech_type == "text":
            assert plan.text is not None and plan.voice is not None
            return synthesise(plan.text, plan.voice), None
        data = plan.audio
        if data is None:
            assert plan.audio_url is not None
            data = fetch_loopback(plan.audio_url, config.clip_max_audio_bytes)
        return decode_audio(data, config.clip_max_audio_seconds), data
    except SpeechError as error:
        raise speech_issue("text" if plan.speech_type == "text" else "audio", str(error)) from None


def speech_issue(field: str, message: str) -> ApiError:
    """A Zod-shaped 400 at ``speech.<field>`` for what only the speech itself can show."""
    return validation_error("body", [custom_issue(["speech", field], message)])


def clip_credits(seconds: float, config: SimConfig) -> int:
    """Whole credits for a clip of ``seconds``: rounded up, never below one."""
    return max(1, math.ceil(seconds * config.clip_credits_per_second - 1e-9))


def run_time(task: Task, config: SimConfig) -> float:
    return config.clip_render_base + config.clip_render_per_second * task.seconds


def looks_like_audio(filename: str, content_type: str | None) -> bool:
    """Whether an upload may be speech (its bytes are then kept for avatar videos)."""
    kind = (content_type or "").split(";")[0].strip().lower()
    extension = os.path.splitext(filename)[1].lstrip(".").lower()
    return kind.startswith(("audio/", "video/")) or extension in AUDIO_EXTENSIONS


# ---------------------------------------------------------------------------- output URLs


def signature(secret: bytes, task_id: str, expires: int) -> str:
    return hmac.new(secret, f"{task_id}:{expires}".encode(), hashlib.sha256).hexdigest()


def output_url(base: str, secret: bytes, task_id: str, expires: int) -> str:
    query = urlencode({"Expires": expires, "Signature": signature(secret, task_id, expires)})
    return f"{base}{OUTPUTS_PATH}/{task_id}/{OUTPUT_NAME}?{query}"


# ---------------------------------------------------------------------------- wire shape


def task_wire(t: Task, now: float, config: SimConfig, output: str | None) -> dict[str, Any]:
    """A task exactly as the SDK's TaskRetrieveResponse variant for its status."""
    out: dict[str, Any] = {"id": t.id, "createdAt": iso(t.created_at), "status": t.status}
    if t.status in (PENDING, THROTTLED, RUNNING):
        out["estimatedCost"] = {"credits": float(t.credits)}
    if t.status == RUNNING:
        elapsed = now - (t.started_at or now)
        total = run_time(t, config)
        out["progress"] = round(min(0.99, elapsed / total), 2) if total > 0 else 0.99
    if t.status in (SUCCEEDED, FAILED, CANCELLED):
        out["cost"] = {"credits": t.charged}
    if t.status == SUCCEEDED:
        out["output"] = [output]
    elif t.status == FAILED:
        out["failure"] = t.failure
        out["failureCode"] = t.failure_code
    return out
