"""The studio's words, each defined once: session statuses and how they read, failure codes in
plain words, Runway's presets and model, and the limits Runway documents.

Everything that shows, checks or stores one of these imports it from here, so a label or a limit
changes in one place.
"""

from __future__ import annotations

# -- Model and presets ---------------------------------------------------------------------------

MODEL = "gwm1_avatars"

PRESET_AVATARS: dict[str, str] = {
    # id -> display name; Runway names four of them, the rest read as their ids.
    "game-character": "Game Character",
    "music-superstar": "Mina",
    "game-character-man": "Game Character (Man)",
    "cat-character": "Mochi",
    "influencer": "Influencer",
    "tennis-coach": "Tennis Coach",
    "human-resource": "Human Resources",
    "fashion-designer": "Sofia",
    "cooking-teacher": "Marco",
}

VOICE_PRESETS: tuple[str, ...] = (
    "victoria", "vincent", "clara", "drew", "skye", "max", "morgan", "felix", "mia", "marcus",
    "summer", "ruby", "aurora", "jasper", "leo", "adrian", "nina", "emma", "blake", "david",
    "maya", "nathan", "sam", "georgia", "petra", "adam", "zach", "violet", "roman", "luna",
)

# -- Session statuses ----------------------------------------------------------------------------

REQUESTED = "REQUESTED"  # the studio's own: asked of Runway, no answer yet
WAITING = "WAITING"  # the studio's own: in line for one of the studio's call slots, not sent yet
REFUSED = "REFUSED"  # the studio's own: turned away by a limit, never sent to Runway
NOT_READY, READY, RUNNING = "NOT_READY", "READY", "RUNNING"
COMPLETED, FAILED, CANCELLED = "COMPLETED", "FAILED", "CANCELLED"
IN_PROGRESS = "IN_PROGRESS"  # conversations started elsewhere: the list API says no more than that

TERMINAL = frozenset({COMPLETED, FAILED, CANCELLED, REFUSED})
# The open statuses the studio knows. Any status that is not terminal is open, known or not.
OPEN = (REQUESTED, NOT_READY, READY, RUNNING)
OPEN_STATUSES = frozenset(OPEN) | {IN_PROGRESS}
STATUSES = (*OPEN, IN_PROGRESS, COMPLETED, FAILED, CANCELLED, WAITING, REFUSED)
# Rows that never reached Runway and hold no call slot: a caller in line, and one turned away.
# They count toward no limit and are never polled upstream.
NOT_ADMITTED = frozenset({WAITING, REFUSED})

_LABELS = {
    REQUESTED: "requested", READY: "ready", RUNNING: "running", IN_PROGRESS: "in progress",
    COMPLETED: "completed", FAILED: "failed", CANCELLED: "cancelled",
    WAITING: "waiting for a slot", REFUSED: "refused",
}


def is_terminal(status: str | None) -> bool:
    return status in TERMINAL


def status_label(status: str, queued: bool = False) -> str:
    """How a status reads (tables, the call card): NOT_READY is "queued" (waiting for a slot) or
    "provisioning"; the others are their names in lower case."""
    if status == NOT_READY:
        return "queued" if queued else "provisioning"
    return _LABELS.get(status, str(status).lower())


STATUS_WORDS = {label: status for status, label in _LABELS.items()} | {"not ready": NOT_READY}

# -- Avatar and voice statuses -------------------------------------------------------------------

PROCESSING = "PROCESSING"  # then READY or FAILED, as for sessions
ASSET_STATUSES = (PROCESSING, READY, FAILED)

# -- Failures in plain words ---------------------------------------------------------------------

NO_PARTICIPANT = "TALKING_AVATAR.NO_PARTICIPANT"

# Failure codes the ledger holds (Runway's own and the studio's), in plain words.
FAILURE_WORDS: dict[str, str] = {
    NO_PARTICIPANT: "Nobody joined the call in time, so Runway closed the session",
    "provisioning_timeout": "Runway did not get the session ready in time",
    "client_gone": "The caller left before the session was ready",
    "cancelled": "Cancelled from the studio",
    "interrupted": "The studio restarted before Runway answered",
    "vanished": "Runway no longer knows this session",
    "session_failed": "Runway could not start the session",
    "session_cancelled": "Cancelled before it was ready",
    "session_ended": "Ended before the call could start",
    "consume_failed": "Could not collect the call credentials",
    "upstream_invalid": "Runway answered in a way the studio did not expect",
    "upstream_down": "Runway was having trouble",
    "upstream_timeout": "Runway did not answer in time",
    "upstream_unreachable": "Could not reach Runway",
    "upstream_error": "Runway answered with an unexpected error",
    "rate_limited": "Runway was rate limiting requests",
    "daily_cap": "The Runway account reached its daily session limit",
    "no_credits": "The Runway account ran out of credits",
    "bad_api_key": "Runway rejected the API key",
    "permission_denied": "Runway refused access",
    "invalid_request": "Runway refused the request",
    "studio_busy": "All of the studio's call slots were in use",
    "studio_daily_cap": "The studio reached its daily call limit",
    "client_rate_limited": "This caller started too many calls in the last hour",
    "avatar_not_found": "There is no character with that id",
    "avatar_not_ready": "The character was still being processed",
    "avatar_failed": "The character cannot take calls",
    "duplicate_request": "The same call request was sent twice",
    "slot_wait_timeout": "No call slot became free before the wait ran out",
    "left_line": "The caller left while waiting for a free slot",
    "line_cancelled": "Cancelled from the studio while waiting for a free slot",
    "line_abandoned": "The place in line was given up (the studio restarted)",
    "line_full": "This caller was already waiting for as many slots as allowed",
}
# Codes that end a row as CANCELLED rather than FAILED.
CANCEL_CODES = frozenset({"client_gone", "cancelled", "session_cancelled"})


def explain_failure(code: str | None, failure: str | None = None) -> str:
    """A failure code in plain words; unknown codes keep Runway's own text, or show as they are."""
    if not code:
        return failure or ""
    return FAILURE_WORDS.get(code) or failure or ""


# -- Limits (Runway API reference §4) ------------------------------------------------------------

CALL_SECONDS_MIN, CALL_SECONDS_MAX = 10, 300  # a session's maxDuration
NAME_MAX = 50
PERSONALITY_MAX = 10_000
START_SCRIPT_MAX = 2_000
DOCUMENTS_MAX = 50
IMAGE_URL_MIN = 13
IMAGE_URL_MAX = 2_048
DOC_NAME_MAX = 255
DOC_CONTENT_MAX = 200_000
VOICE_NAME_MAX = 100
VOICE_DESCRIPTION_MAX = 1_024
VOICE_PROMPT_MIN = 20
VOICE_PROMPT_MAX = 1_000
AUDIO_MAX_BYTES = 10_000_000
AUDIO_MIN_SECONDS = 10
AUDIO_MAX_SECONDS = 300
KNOWLEDGE_TOKENS_PER_CHARACTER = 50_000  # Runway's guidance; ~4 characters per token
