"""How single values of a session read: failures, durations, avatars, UTC times, origins.

Statuses, their labels and the failure words themselves come from `studio.vocabulary`; this
module only composes them for the Sessions table and details.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from studio.vocabulary import COMPLETED, FAILED, IN_PROGRESS, PRESET_AVATARS, explain_failure

# Where a session was started: by this studio (it has a ledger row) or elsewhere on the account.
STUDIO, ELSEWHERE = "this studio", "elsewhere"

# What Runway's conversations API says of a conversation, in the studio's statuses.
CONVERSATION_IN_PROGRESS = "in_progress"
CONVERSATION_STATUS = {CONVERSATION_IN_PROGRESS: IN_PROGRESS, "ended": COMPLETED, "failed": FAILED}


def failure_text(code: str | None, failure: str | None = None) -> str:
    """`code: plain words` for the table (the code alone when there are no words for it)."""
    if not code:
        return ""
    words = explain_failure(code, failure)
    return f"{code}: {words}" if words and words != code else code


def clock_duration(seconds: float | None) -> str:
    """Seconds as m:ss ("" when unknown)."""
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return ""
    whole = max(0, int(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


def avatar_label(avatar_id: str | None, name: str | None = None) -> str:
    if name:
        return name
    if not avatar_id:
        return "unknown"
    if avatar_id in PRESET_AVATARS:
        return PRESET_AVATARS[avatar_id]
    return avatar_id[:8] + "…" if len(avatar_id) > 12 else avatar_id


def conversation_avatar_id(avatar: dict[str, Any]) -> str | None:
    """The avatar id of a conversation's `avatar` (a preset's id or a custom avatar's UUID)."""
    return avatar.get("preset_id") or avatar.get("presetId") or avatar.get("id")


def avatar_names(conversations: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Avatar id → display name, from presets and whatever conversations name."""
    names = dict(PRESET_AVATARS)
    for item in conversations:
        avatar = item.get("avatar") or {}
        avatar_id = avatar.get("id") or avatar.get("preset_id") or avatar.get("presetId")
        if avatar_id and avatar.get("name") and avatar_id not in PRESET_AVATARS:
            names[avatar_id] = avatar["name"]
    return names


def utc_day_start(at: float) -> float:
    day = datetime.fromtimestamp(at, timezone.utc)
    return day.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def epoch(value: Any) -> float | None:
    """A datetime, ISO string or number as epoch seconds (naive datetimes are UTC)."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.timestamp()
    raise TypeError(f"not a time: {value!r}")


def iso_utc(at: float | None) -> str:
    if at is None:
        return ""
    return datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
