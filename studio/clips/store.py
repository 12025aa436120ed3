"""The clips the studio has rendered: one row per clip in the studio's database (table `clips`,
migration 0006), on SQLite or the PostgreSQL every replica shares. All writes go through here.

A row is written before Runway is asked (status REQUESTED), so a create that fails or a studio
that stops mid-way still leaves a record; the task id is attached when Runway answers, and the
follower records every status it sees. Terminal rows never move again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from studio.clips.words import (
    CANCELLED,
    CANCELLED_BY_STUDIO,
    FAILED,
    PENDING,
    REQUESTED,
    RUNNING,
    SUCCEEDED,
    TERMINAL,
)
from studio.store import Database

COLUMNS = (
    "clip_id", "task_id", "group_id", "group_position", "avatar_id", "avatar_name", "script", "audio_name", "voice",
    "voice_name", "status", "progress", "estimated_credits", "cost_credits", "duration", "output_url",
    "output_expires_at", "failure", "failure_code", "cancel_pending", "client_id", "created_at",
    "started_at", "ended_at", "updated_at",
)
_TERMINAL_SQL = f"status IN ({', '.join(repr(s) for s in sorted(TERMINAL))})"


@dataclass(frozen=True)
class NewClip:
    """What is known of a clip before Runway is asked."""

    clip_id: str
    avatar_id: str
    avatar_name: str
    voice: str | None
    voice_name: str
    estimated_credits: float
    client_id: str
    script: str | None = None
    audio_name: str | None = None
    group_id: str | None = None
    group_position: int | None = None


@dataclass(frozen=True)
class ClipTotals:
    """Clips started in a period and the credits they cost (final cost, else the estimate)."""

    clips: int
    succeeded: int
    credits: float
    seconds: float


class ClipStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # Writes ------------------------------------------------------------------------------

    def add(self, clip: NewClip, at: float) -> None:
        with self.db.transaction() as tx:
            tx.execute(
                "INSERT INTO clips (clip_id, group_id, group_position, avatar_id, avatar_name, script, audio_name,"
                " voice, voice_name, status, estimated_credits, client_id, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (clip.clip_id, clip.group_id, clip.group_position, clip.avatar_id, clip.avatar_name, clip.script,
                 clip.audio_name, clip.voice, clip.voice_name, REQUESTED, clip.estimated_credits,
                 clip.client_id, at, at),
            )

    def attach_task(self, clip_id: str, task_id: str, at: float) -> bool:
        """Record Runway's task id; False when the clip was cancelled while Runway was asked."""
        with self.db.transaction() as tx:
            tx.execute(
                "UPDATE clips SET task_id = ?, updated_at = ?,"
                " status = CASE WHEN status = ? THEN ? ELSE status END WHERE clip_id = ?",
                (task_id, at, REQUESTED, PENDING, clip_id),
            )
            row = tx.execute("SELECT status, cancel_pending FROM clips WHERE clip_id = ?",
                             (clip_id,)).fetchone()
        return row is not None and row["status"] not in TERMINAL and not row["cancel_pending"]

    def record(self, clip_id: str, status: str, at: float, *, progress: float | None = None,
               estimated_credits: float | None = None, cost_credits: float | None = None,
               failure: str | None = None, failure_code: str | None = None,
               output_url: str | None = None, output_expires_at: float | None = None,
               duration: float | None = None) -> bool:
        """Store what a poll saw; True when the status or progress changed."""
        with self.db.transaction() as tx:
            row = tx.execute(f"SELECT status, progress, cancel_pending FROM clips WHERE clip_id = ?{self.db.row_lock}",
                             (clip_id,)).fetchone()
            if row is None or row["status"] in TERMINAL:
                return False
            if row["status"] == status and row["progress"] == progress and status not in TERMINAL:
                return False
            sets: dict[str, Any] = {"status": status, "progress": progress, "updated_at": at}
            if estimated_credits is not None:
                sets["estimated_credits"] = estimated_credits
            if status == RUNNING:
                sets["started_at"] = row_first(tx, clip_id, "started_at", at)
            if status == CANCELLED and not failure_code:
                # Runway does not say who cancelled; a poll that sees the studio's own cancel
                # first must still say so.
                failure_code, failure = ("cancelled", CANCELLED_BY_STUDIO) if row["cancel_pending"] else (
                    "cancelled_upstream", failure)
            if status in TERMINAL:
                sets.update(ended_at=at, cost_credits=cost_credits, failure=failure,
                            failure_code=failure_code, output_url=output_url,
                            output_expires_at=output_expires_at, duration=duration, cancel_pending=0)
            _update(tx, clip_id, sets)
            return True

    def fail(self, clip_id: str, code: str, failure: str, at: float) -> None:
        """End a clip the studio could not hand to Runway (or that Runway lost)."""
        self.record(clip_id, CANCELLED if code == "cancelled" else FAILED, at,
                    failure=failure, failure_code=code, cost_credits=0)

    def mark_cancel_pending(self, clip_id: str, pending: bool, at: float) -> None:
        with self.db.transaction() as tx:
            tx.execute("UPDATE clips SET cancel_pending = ?, updated_at = ? WHERE clip_id = ?",
                       (int(pending), at, clip_id))

    def claim_cancel(self, clip_id: str, now: float, *, hold: float) -> bool:
        """Take the right to send `clip_id`'s cancel upstream for `hold` seconds; False while
        someone else (the follower, another click, another replica) holds it."""
        with self.db.transaction() as tx:
            cursor = tx.execute(
                "UPDATE clips SET cancel_claimed_until = ? WHERE clip_id = ? AND cancel_pending = 1"
                " AND (cancel_claimed_until IS NULL OR cancel_claimed_until < ?)",
                (now + hold, clip_id, now))
            return cursor.rowcount == 1

    def release_cancel(self, clip_id: str) -> None:
        with self.db.transaction() as tx:
            tx.execute("UPDATE clips SET cancel_claimed_until = NULL WHERE clip_id = ?", (clip_id,))

    def close_interrupted(self, at: float, *, older_than: float) -> int:
        """End clips that never got a task id (the studio stopped while asking Runway)."""
        with self.db.transaction() as tx:
            found = tx.execute("SELECT clip_id FROM clips WHERE task_id IS NULL AND status = ? AND created_at < ?",
                               (REQUESTED, older_than)).fetchall()
        for row in found:
            self.fail(row["clip_id"], "interrupted", "The studio stopped before Runway answered.", at)
        return len(found)

    # Reads -------------------------------------------------------------------------------

    def get(self, clip_id: str) -> dict[str, Any] | None:
        rows = self.db.query(f"SELECT {', '.join(COLUMNS)} FROM clips WHERE clip_id = ?", (clip_id,))
        return dict(rows[0]) if rows else None

    def list(self, limit: int = 200, group_id: str | None = None,
             avatar_id: str | None = None) -> list[dict[str, Any]]:
        """Newest first (one character's when `avatar_id` is given); one comparison group when
        `group_id` is given (in the order it was made)."""
        select = f"SELECT {', '.join(COLUMNS)} FROM clips"
        if group_id:
            rows = self.db.query(f"{select} WHERE group_id = ? ORDER BY group_position, created_at", (group_id,))
        elif avatar_id:
            rows = self.db.query(f"{select} WHERE avatar_id = ? ORDER BY created_at DESC, clip_id LIMIT ?",
                                 (avatar_id, limit))
        else:
            rows = self.db.query(f"{select} ORDER BY created_at DESC, clip_id LIMIT ?", (limit,))
        return [dict(row) for row in rows]

    def open_clips(self) -> list[dict[str, Any]]:
        """Clips Runway is (or may be) still rendering, the ones with a pending cancel included."""
        rows = self.db.query(f"SELECT {', '.join(COLUMNS)} FROM clips WHERE task_id IS NOT NULL"
                             f" AND NOT {_TERMINAL_SQL} ORDER BY created_at")
        return [dict(row) for row in rows]

    def open_count(self) -> int:
        rows = self.db.query(f"SELECT COUNT(*) AS n FROM clips WHERE NOT {_TERMINAL_SQL}")
        return int(rows[0]["n"])

    def totals(self, since: float) -> ClipTotals:
        """Clips created since `since`: how many, how many succeeded, credits and seconds."""
        rows = self.db.query(
            "SELECT status, cost_credits, estimated_credits, duration FROM clips WHERE created_at >= ?", (since,))
        return totals_of(rows)


def totals_of(rows: Iterable[Any]) -> ClipTotals:
    """Final cost where Runway reported one; an open clip counts at its estimate; a clip that
    ended without a cost (refused before Runway) counts nothing."""
    clips = succeeded = 0
    credits = seconds = 0.0
    for row in rows:
        clips += 1
        succeeded += row["status"] == SUCCEEDED
        if row["cost_credits"] is not None:
            credits += float(row["cost_credits"])
        elif row["status"] not in TERMINAL:
            credits += float(row["estimated_credits"] or 0)
        seconds += float(row["duration"] or 0)
    return ClipTotals(clips, succeeded, credits, seconds)


def row_first(tx: Any, clip_id: str, column: str, at: float) -> float:
    """The column's first value: what it holds, or `at` when it is still empty."""
    row = tx.execute(f"SELECT {column} FROM clips WHERE clip_id = ?", (clip_id,)).fetchone()
    return row[column] if row and row[column] is not None else at


def _update(tx: Any, clip_id: str, sets: dict[str, Any]) -> None:
    assignments = ", ".join(f"{column} = ?" for column in sets)
    tx.execute(f"UPDATE clips SET {assignments} WHERE clip_id = ?", (*sets.values(), clip_id))
