"""Ledger rows and conversation list items the history tests share: seven studio sessions (one
from yesterday) and three conversations (one the studio's own, two started elsewhere)."""

from __future__ import annotations

from datetime import datetime, timezone

NOW = 1_790_000_000.0  # 2026-09-21 14:13:20 UTC
CUSTOM = "1234abcd-0000-4000-8000-000000000000"


def row(rid, *, status, avatar="music-superstar", at, ready=None, frame=None, running=None, ended=None,
        duration=None, queued=False, code=None, failure=None, session=True):
    return {
        "request_id": rid, "session_id": f"s-{rid}" if session else None, "avatar_id": avatar,
        "status": status, "queued": queued, "failure_code": code, "failure": failure,
        "duration": duration, "requested_at": at, "created_at": at + 0.2 if session else None,
        "ready_at": None if ready is None else at + ready,
        "first_frame_at": None if frame is None else at + frame,
        "running_at": None if running is None else at + running,
        "ended_at": None if ended is None else at + ended,
        "overrides": {"maxDuration": 300}, "transcript": None, "mode": "simulator",
    }


def conversation(cid, *, status="ended", at=NOW - 30, avatar=None, duration=None):
    return {"id": cid, "name": "Conversation", "status": status, "has_tools": False,
            "avatar": avatar or {"type": "runway-preset", "preset_id": "cat-character", "name": "Mochi"},
            "created_at": datetime.fromtimestamp(at, timezone.utc), "duration": duration}


ROWS = [
    row("r1", status="COMPLETED", at=NOW - 600, ready=1.25, frame=3.47, running=3.0, ended=80, duration=75),
    row("r2", status="FAILED", avatar="cat-character", at=NOW - 300, ready=2.0, ended=23,
        code="TALKING_AVATAR.NO_PARTICIPANT", failure="No participants joined the session"),
    row("r3", status="NOT_READY", at=NOW - 2, queued=True),
    row("r4", status="RUNNING", at=NOW - 100, ready=1.0, frame=2.0, running=5.0),
    row("r5", status="NOT_READY", avatar=CUSTOM, at=NOW - 1),
    row("r6", status="FAILED", at=NOW - 90_000, code="provisioning_timeout", failure="late", ended=90,
        session=False),
    row("r7", status="CANCELLED", at=NOW - 200, ready=1.5, ended=10, code="weird_new_code",
        failure="Something odd"),
]
CONVERSATIONS = [
    conversation("s-r1", at=NOW - 600, duration=75,
                 avatar={"type": "runway-preset", "preset_id": "music-superstar", "name": "Mina"}),
    conversation("x-elsewhere", status="in_progress", at=NOW - 50, duration=12,
                 avatar={"type": "custom", "id": CUSTOM, "name": "Robo"}),
    conversation("x-failed", status="failed", at=NOW - 4000),
]


