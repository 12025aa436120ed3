"""The words and limits of clips (avatar videos), each defined once.

Task statuses are Runway's (`GET /v1/tasks/{id}`); REQUESTED is the studio's own: the clip is on
record but Runway has not answered the create yet. Limits come from the Runway API reference
(§4.12: a script is 1–5000 characters; an audio data URI at most 5 MB, per the SDK's docstring).
"""

from __future__ import annotations

REQUESTED = "REQUESTED"
PENDING, THROTTLED, RUNNING = "PENDING", "THROTTLED", "RUNNING"
SUCCEEDED, FAILED, CANCELLED = "SUCCEEDED", "FAILED", "CANCELLED"

TERMINAL = frozenset({SUCCEEDED, FAILED, CANCELLED})

_LABELS = {
    REQUESTED: "sending", PENDING: "waiting to start", THROTTLED: "queued (account busy)",
    RUNNING: "rendering", SUCCEEDED: "ready", FAILED: "failed", CANCELLED: "cancelled",
}


def is_terminal(status: str | None) -> bool:
    return status in TERMINAL


def clip_status_label(status: str | None) -> str:
    return _LABELS.get(status or "", str(status or "unknown").lower())


# -- Limits ----------------------------------------------------------------------------------------

SCRIPT_MAX = 5_000             # characters (JavaScript string length), Runway's limit
AUDIO_DATA_URI_MAX = 5_000_000  # bytes Runway takes inline as a data URI; larger files are uploaded
AUDIO_MAX_BYTES = 20_000_000    # the studio's upload limit (Gradio's max_file_size)
AUDIO_MIN_SECONDS = 0.5         # shorter than this is no speech to animate
COMPARE_MIN, COMPARE_MAX = 2, 4  # voices in one comparison
OUTPUT_MAX_BYTES = 200_000_000   # the largest output video the studio fetches
# Runway: output URLs "expire within 24-48 hours". When a URL names no expiry of its own, the
# studio assumes the earliest.
OUTPUT_LIFETIME = 24 * 3600.0

OWN_VOICE = "own"  # the voice choice that keeps the character's configured voice
OWN_VOICE_LABEL = "Own voice"  # short: it shares a phone's width with the character

# -- Failures in plain words ---------------------------------------------------------------------

# Runway's task failure codes (docs.dev.runwayml.com/errors/task-failures), by prefix, and the
# studio's own codes for clips that never reached Runway or lost track of it.
FAILURE_WORDS: dict[str, str] = {
    "SAFETY.INPUT": "Runway's safety check refused the script or audio",
    "SAFETY.OUTPUT": "Runway's safety check refused the rendered video",
    "ASSET.INVALID": "Runway could not use the audio or the character's image",
    "INTERNAL.BAD_OUTPUT": "Runway's render produced an unusable video",
    "INTERNAL": "Runway had an internal error while rendering",
    "vanished": "Runway no longer knows this render",
    "interrupted": "The studio restarted before Runway answered",
    "cancelled": "Cancelled from the studio",
    "cancelled_upstream": "Cancelled outside the studio",
}
CANCELLED_BY_STUDIO = "Cancelled from the studio."


def explain_clip_failure(code: str | None, failure: str | None) -> str:
    """A failure in plain words: the studio's words for a known code, with Runway's own text."""
    words = None
    for prefix, text in FAILURE_WORDS.items():
        if code and (code == prefix or code.startswith(prefix + ".")):
            words = text
            break
    detail = (failure or "").strip()
    if words and detail and detail.rstrip(".").lower() not in words.lower():
        return f"{words}: {detail}"
    return words or detail or "Runway did not say why"
