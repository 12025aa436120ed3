"""The ledger: a record of every session the studio starts and how it went.

It lives in the studio's database (`studio.store`): an embedded SQLite file by default, or the
PostgreSQL every replica shares when `STUDIO_DATABASE_URL` names one; the SQL below runs on both.

One row per session request, keyed by the request id the studio makes before calling Runway, so a
request that fails before Runway answers is still on record; so is an attempt a limit turned away
(REFUSED, with why), and a caller waiting in line for a call slot (WAITING: the line is these rows,
in the order they came). Lifecycle moments get their own
timestamp columns (what the Sessions tab measures) and an append-only `events` table (the
timeline). All writes go through this class; nothing else opens the database.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from studio.errors import StudioError
from studio.store import Database, Transaction, open_database
from studio.vocabulary import CANCEL_CODES, REFUSED, TERMINAL, WAITING

# Marks a timestamp column that keeps its first value: COALESCE(column, now).
FIRST_SEEN = object()

# The moment each upstream status is first seen is kept in its own column.
_STATUS_TIMESTAMP = {"NOT_READY": "created_at", "READY": "ready_at", "RUNNING": "running_at"}
# Moments the browser reports through POST /api/sessions/{id}/events.
CLIENT_EVENTS = {"connected": "connected_at", "first_frame": "first_frame_at", "ended": None, "error": None}

_COLUMNS = (
    "request_id", "session_id", "avatar_id", "status", "queued", "failure", "failure_code",
    "duration", "max_duration", "overrides", "mode", "client_id", "requested_at", "created_at",
    "ready_at", "consumed_at", "connected_at", "first_frame_at", "running_at", "ended_at",
    "transcript", "cancel_pending", "updated_at",
)
# A create call that has not answered in this long is not coming back (a crashed replica).
SHARED_CREATE_GRACE = 120.0
_TERMINAL_SQL = f"status IN ({', '.join(repr(s) for s in sorted(TERMINAL))})"
# Rows that hold a call slot: open, and past the line (a WAITING row holds none).
_HOLDS_SLOT_SQL = f"NOT {_TERMINAL_SQL} AND status <> '{WAITING}'"
# Rows that count toward the per-caller and daily limits: all but those never let through.
_COUNTED_SQL = f"status NOT IN ('{WAITING}', '{REFUSED}')"
# A caller in line says it is still there on every look (`updated_at`); a row not refreshed for
# this long belongs to a caller, or a replica, that is gone: it keeps no place.
LINE_STALE = 10.0
# One refused row per caller and reason in this long: a caller retrying in a loop adds no rows.
REFUSAL_COALESCE = 60.0
# Places in line one caller may hold at once (each look is a short write on the shared database).
PLACES_PER_CALLER = 3


class Ledger:
    """Thread-safe access to the ledger's tables (short transactions on the studio's database)."""

    def __init__(self, target: Database | Path | str) -> None:
        """`target`: a SQLite path, a `postgresql://` URL, or an open `Database`."""
        self.db = open_database(target)

    @property
    def shared(self) -> bool:
        """Other replicas write this ledger too (PostgreSQL)."""
        return self.db.shared

    def close(self) -> None:
        self.db.close()

    # Writes ------------------------------------------------------------------------------

    def open_request(
        self,
        request_id: str,
        *,
        avatar_id: str,
        client_id: str,
        mode: str,
        max_duration: int,
        overrides: dict[str, Any],
        at: float,
        admit: Callable[[Counts], None] | None = None,
        wait: bool = False,
    ) -> int | None:
        """Insert a REQUESTED row; `admit` sees the counts in the same transaction and may refuse.

        Checking and inserting in one serialised transaction (SQLite's `BEGIN IMMEDIATE`, or
        PostgreSQL's transaction-level advisory lock, taken by every replica) is what makes the
        guards hold under a burst: no other request, in this process or any replica, can claim a
        slot between.
        A refusal (`StudioError` from `admit`) is recorded as a REFUSED row and raised; with
        `wait`, a refusal for want of a free slot (`SlotsBusy`) puts the request in line instead
        (a WAITING row) and returns its place (1 = next). None: admitted.
        A request id already on record raises `DuplicateRequest`.
        """
        row = (request_id, avatar_id, mode, client_id, max_duration, json.dumps(overrides), at)
        refusal: StudioError | None = None
        with self.db.transaction(serialised=True) as db:
            counts = Counts(db, request_id, fresh_since=at - LINE_STALE)
            status = "REQUESTED"
            try:
                if admit is not None:
                    admit(counts)
            except SlotsBusy as busy:
                refusal = busy if not wait else _line_full(db, client_id, at - LINE_STALE)
                status = WAITING
            except StudioError as error:
                refusal = error
            if refusal is not None:
                _record_refusal(db, row, refusal)
            else:
                try:
                    db.execute(
                        "INSERT INTO sessions (request_id, avatar_id, status, mode, client_id, max_duration,"
                        " overrides, requested_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (request_id, avatar_id, status, mode, client_id, max_duration, json.dumps(overrides),
                         at, at),
                    )
                except self.db.integrity_errors:
                    raise DuplicateRequest(request_id) from None
                _event(db, request_id, "waiting" if status == WAITING else "requested", at)
                if status == WAITING:
                    return counts.ahead() + 1
        if refusal is not None:
            raise refusal
        return None

    def record_refusal(self, *, avatar_id: str, client_id: str, mode: str, max_duration: int,
                       error: StudioError, at: float) -> None:
        """Record an attempt turned away before it could claim a slot (a duplicate request id)."""
        row = (uuid.uuid4().hex, avatar_id, mode, client_id, max_duration, "{}", at)
        with self.db.transaction() as db:
            _record_refusal(db, row, error)

    def wait_turn(self, request_id: str, at: float, admit: Callable[[Counts], None]) -> int | None:
        """One look from a caller in line: None once admitted (the row turns REQUESTED), or its
        place. Fair across replicas: places follow the order requests joined the line, and a
        request is admitted only when the free slots reach its place.
        Raises `LeftLine` when the row left the line meanwhile (cancelled from the studio), and
        the `StudioError` of any other refusal (the row turns REFUSED).
        """
        refusal: StudioError | None = None
        with self.db.transaction(serialised=True) as db:
            row = db.execute("SELECT status, failure, failure_code FROM sessions WHERE request_id = ?",
                             (request_id,)).fetchone()
            if row is None or row["status"] != WAITING:
                raise LeftLine(row["failure_code"] if row else None, row["failure"] if row else None)
            counts = Counts(db, request_id, fresh_since=at - LINE_STALE)
            try:
                admit(counts)
            except SlotsBusy:
                _update(db, request_id, {"updated_at": at}, at)
                return counts.ahead() + 1
            except StudioError as error:
                refusal = error
                _update(db, request_id, {"status": REFUSED, "ended_at": at, "updated_at": at,
                                         "failure": error.message, "failure_code": error.code}, at)
                _event(db, request_id, "refused", at, error.message)
            else:
                # The call is asked for now: the time in line (its events) is not time to READY.
                _update(db, request_id, {"status": "REQUESTED", "requested_at": at, "updated_at": at}, at)
                _event(db, request_id, "admitted", at)
        if refusal is not None:
            raise refusal
        return None

    def leave_line(self, request_id: str, code: str, message: str, at: float) -> bool:
        """End a WAITING row (the caller left, the wait ran out, or the studio cancelled it) as
        REFUSED: it never reached Runway and counts toward no limit. False if it was not waiting."""
        with self._write() as db:
            row = db.execute(f"SELECT status FROM sessions WHERE request_id = ?{self.db.row_lock}",
                             (request_id,)).fetchone()
            if row is None or row["status"] != WAITING:
                return False
            _update(db, request_id, {"status": REFUSED, "ended_at": at, "updated_at": at,
                                     "failure": message, "failure_code": code}, at)
            _event(db, request_id, "left_line", at, message)
            return True

    def attach_session(self, request_id: str, session_id: str, at: float) -> bool:
        """Record the Runway session; False when the call was cancelled while it was made."""
        with self._write() as db:
            db.execute(
                "UPDATE sessions SET session_id = ?, created_at = ?, updated_at = ?,"
                " status = CASE WHEN status = 'REQUESTED' THEN 'NOT_READY' ELSE status END"
                " WHERE request_id = ?",
                (session_id, at, at, request_id),
            )
            _event(db, request_id, "created", at)
            row = db.execute("SELECT status, cancel_pending FROM sessions WHERE request_id = ?",
                             (request_id,)).fetchone()
        return row is not None and row["status"] not in TERMINAL and not row["cancel_pending"]

    def record_status(
        self,
        request_id: str,
        status: str,
        at: float,
        *,
        queued: bool = False,
        duration: int | None = None,
        failure: str | None = None,
        failure_code: str | None = None,
    ) -> bool:
        """Store a status seen upstream; True when it changed. Terminal rows never move again."""
        with self._write() as db:
            row = db.execute(
                f"SELECT status, queued, failure, failure_code FROM sessions WHERE request_id = ?{self.db.row_lock}",
                (request_id,),
            ).fetchone()
            if row is None or row["status"] in TERMINAL:
                return False
            if row["status"] == status and bool(row["queued"]) == queued:
                return False
            sets = {"status": status, "queued": int(queued), "updated_at": at}
            column = _STATUS_TIMESTAMP.get(status)
            if column:
                sets[column] = FIRST_SEEN
            if status == "CANCELLED" and not failure_code and row["failure_code"]:
                # Runway's CANCELLED names nobody: keep why the studio asked for it (note_cancel).
                failure, failure_code = row["failure"], row["failure_code"]
            if status in TERMINAL:
                sets.update(ended_at=FIRST_SEEN, duration=duration, failure=failure,
                            failure_code=failure_code)
            _update(db, request_id, sets, at)
            name = "queued" if queued and status == "NOT_READY" else status.lower()
            _event(db, request_id, name, at, failure)
            return True

    def record_consumed(self, request_id: str, at: float) -> None:
        with self._write() as db:
            _update(db, request_id, {"consumed_at": at, "updated_at": at}, at)
            _event(db, request_id, "consumed", at)

    def record_client_event(
        self, request_id: str, name: str, at: float, detail: str | None = None,
        transcript: list[dict[str, Any]] | None = None,
    ) -> None:
        """A moment the browser reports; the first report of each moment wins."""
        with self._write() as db:
            sets: dict[str, Any] = {"updated_at": at}
            column = CLIENT_EVENTS.get(name)
            if column:
                sets[column] = FIRST_SEEN
            if transcript and not _has_final_transcript(db, request_id, self.db.row_lock):
                sets["transcript"] = json.dumps(transcript)
            _update(db, request_id, sets, at)
            _event(db, request_id, f"browser_{name}", at, detail)

    def store_transcript(self, request_id: str, transcript: list[dict[str, Any]], at: float) -> None:
        with self._write() as db:
            _update(db, request_id, {"transcript": json.dumps(transcript), "updated_at": at}, at)

    def note_cancel(self, request_id: str, code: str, message: str, at: float) -> None:
        """Say why the studio is cancelling before it asks Runway, so a poll that sees the
        CANCELLED first still records the studio's reason."""
        with self._write() as db:  # an ended row keeps how it ended
            db.execute(f"UPDATE sessions SET failure = ?, failure_code = ?, updated_at = ?"
                       f" WHERE request_id = ? AND NOT {_TERMINAL_SQL}", (message, code, at, request_id))

    def request_cancel(self, request_id: str, code: str, message: str, at: float) -> None:
        """Runway did not confirm a cancel: keep the row open, and say why it should end.

        The refresher retries the cancel (and follows the session) until the row is terminal.
        """
        with self._write() as db:
            _update(db, request_id, {"cancel_pending": 1, "failure": message, "failure_code": code,
                                     "updated_at": at}, at)
            _event(db, request_id, "cancel_pending", at, message)

    def fail_request(self, request_id: str, code: str, message: str, at: float) -> None:
        """End a row the studio gave up on (never reached Runway, timed out, caller left)."""
        status = "CANCELLED" if code in CANCEL_CODES else "FAILED"
        self.record_status(request_id, status, at, failure=message, failure_code=code)

    def close_interrupted(self, at: float, *, older_than: float | None = None) -> int:
        """Open rows with no session id never reached Runway (a crash, or an answer with no id).

        On a shared ledger another replica may be creating a row's session right now: only rows
        requested `older_than` seconds ago are closed (default: all on a ledger of our own,
        those older than any create can take on a shared one).
        """
        if older_than is None:
            older_than = SHARED_CREATE_GRACE if self.shared else 0.0
        with self._write() as db:
            ids = [r["request_id"] for r in db.execute(
                f"SELECT request_id FROM sessions WHERE session_id IS NULL AND {_HOLDS_SLOT_SQL}"
                " AND requested_at <= ?", (at - older_than,))]
            # In line: gone once its caller stopped looking (on a ledger of our own, all of them).
            stale = at - (LINE_STALE if self.shared else 0.0)
            waiting = [r["request_id"] for r in db.execute(
                "SELECT request_id FROM sessions WHERE status = ? AND updated_at <= ?", (WAITING, stale))]
        for request_id in ids:
            self.fail_request(request_id, "interrupted", "The studio restarted before Runway answered.", at)
        for request_id in waiting:
            self.leave_line(request_id, "line_abandoned", "The place in line was given up (the studio "
                            "restarted, or the caller stopped waiting).", at)
        return len(ids) + len(waiting)

    # Reads -------------------------------------------------------------------------------

    def get(self, any_id: str) -> dict[str, Any] | None:
        """A row by request id or by Runway session id."""
        rows = self.db.query("SELECT * FROM sessions WHERE request_id = ? OR session_id = ?", (any_id, any_id))
        return _row(rows[0]) if rows else None

    def events(self, request_id: str) -> list[dict[str, Any]]:
        rows = self.db.query("SELECT name, at, detail FROM events WHERE request_id = ? ORDER BY at, id",
                             (request_id,))
        return [dict(r) for r in rows]

    def list(
        self,
        *,
        status: str | Iterable[str] | None = None,
        avatar: str | None = None,
        since: float | None = None,
        until: float | None = None,
        client_id: str | None = None,
        limit: int | None = 200,
    ) -> list[dict[str, Any]]:
        """Newest first."""
        clauses, params = [], []
        if client_id is not None:
            clauses.append("client_id = ?")
            params.append(client_id)
        if status:
            statuses = [status] if isinstance(status, str) else list(status)
            clauses.append(f"status IN ({','.join('?' * len(statuses))})")
            params += statuses
        if avatar:
            clauses.append("avatar_id = ?")
            params.append(avatar)
        if since is not None:
            clauses.append("requested_at >= ?")
            params.append(since)
        if until is not None:
            clauses.append("requested_at < ?")
            params.append(until)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        tail = " LIMIT ?" if limit else ""
        if limit:
            params.append(limit)
        rows = self.db.query(f"SELECT * FROM sessions {where} ORDER BY requested_at DESC{tail}", params)
        return [_row(r) for r in rows]

    def open_sessions(self) -> list[dict[str, Any]]:
        """Rows that have a Runway session and have not reached a terminal status (known or not)."""
        rows = self.db.query(f"SELECT * FROM sessions WHERE session_id IS NOT NULL AND NOT {_TERMINAL_SQL}"
                             " ORDER BY requested_at DESC")
        return [_row(r) for r in rows]

    def count_open(self) -> int:
        return _one(self.db.query(Counts.OPEN))

    def place_in_line(self, request_id: str, at: float) -> int | None:
        """A WAITING request's place in line (1 = next), or None when it is not in line."""
        rows = self.db.query("SELECT requested_at FROM sessions WHERE request_id = ? AND status = ?",
                             (request_id, WAITING))
        if not rows:
            return None
        return _one(self.db.query(*Counts.ahead_query(request_id, rows[0]["requested_at"],
                                                      at - LINE_STALE))) + 1

    def count_since(self, since: float, client_id: str | None = None) -> int:
        return _one(self.db.query(*Counts.since_query(since, client_id)))

    # Plumbing ----------------------------------------------------------------------------

    def _write(self) -> Any:
        return self.db.transaction()


class DuplicateRequest(Exception):
    """A request id that is on record already."""


class SlotsBusy(StudioError):
    """The refusal a caller may wait out in line: every call slot is in use (or promised to
    callers ahead in line)."""

    def __init__(self, message: str) -> None:
        super().__init__("studio_busy", message, 429)


class LeftLine(Exception):
    """A request is no longer in line (cancelled from the studio, or given up)."""

    def __init__(self, code: str | None, message: str | None) -> None:
        super().__init__(message or "The request is no longer waiting.")
        self.code, self.message = code, message


class Counts:
    """The numbers the guards need, read on the transaction given (the one that inserts the row).

    `request_id`: the request being admitted (in line already, or new); `fresh_since`: callers in
    line who looked since then still hold their place.
    """

    OPEN = f"SELECT COUNT(*) AS n FROM sessions WHERE {_HOLDS_SLOT_SQL}"

    def __init__(self, db: Transaction, request_id: str | None = None, fresh_since: float | None = None) -> None:
        self._db, self._request_id, self._fresh_since = db, request_id, fresh_since

    @staticmethod
    def since_query(since: float, client_id: str | None = None) -> tuple[str, tuple[Any, ...]]:
        if client_id is None:
            return f"SELECT COUNT(*) AS n FROM sessions WHERE requested_at >= ? AND {_COUNTED_SQL}", (since,)
        return (f"SELECT COUNT(*) AS n FROM sessions WHERE client_id = ? AND requested_at >= ? AND {_COUNTED_SQL}",
                (client_id, since))

    @staticmethod
    def ahead_query(request_id: str | None, requested_at: float | None,
                    fresh_since: float) -> tuple[str, tuple[Any, ...]]:
        """Callers still in line ahead of a request (all of them, for a request not in line)."""
        sql = "SELECT COUNT(*) AS n FROM sessions WHERE status = ? AND updated_at >= ?"
        if requested_at is None:
            return sql, (WAITING, fresh_since)
        return (sql + " AND (requested_at < ? OR (requested_at = ? AND request_id < ?))",
                (WAITING, fresh_since, requested_at, requested_at, request_id))

    def open(self) -> int:
        """Sessions not ended, whatever their status says: an unknown status still holds a slot."""
        return _one([self._db.execute(self.OPEN).fetchone()])

    def since(self, since: float, client_id: str | None = None) -> int:
        return _one([self._db.execute(*self.since_query(since, client_id)).fetchone()])

    def ahead(self) -> int:
        """Callers in line before this request: free slots go to them first."""
        if self._fresh_since is None:
            return 0
        mine = self._db.execute("SELECT requested_at FROM sessions WHERE request_id = ? AND status = ?",
                                (self._request_id, WAITING)).fetchone() if self._request_id else None
        query = self.ahead_query(self._request_id, mine["requested_at"] if mine else None, self._fresh_since)
        return _one([self._db.execute(*query).fetchone()])


def _one(rows: list[Mapping[str, Any]]) -> int:
    return int(rows[0]["n"])


def _update(db: Transaction, request_id: str, sets: dict[str, Any], at: float) -> None:
    """UPDATE with values bound as parameters; FIRST_SEEN columns keep an earlier timestamp."""
    assignments: list[str] = []
    params: list[Any] = []
    for column, value in sets.items():
        if column not in _COLUMNS:
            raise ValueError(f"unknown ledger column {column}")
        if value is FIRST_SEEN:
            assignments.append(f"{column} = COALESCE({column}, ?)")
            params.append(at)
        else:
            assignments.append(f"{column} = ?")
            params.append(value)
    db.execute(f"UPDATE sessions SET {', '.join(assignments)} WHERE request_id = ?", (*params, request_id))


def _has_final_transcript(db: Transaction, request_id: str, row_lock: str = "") -> bool:
    """An ended session's stored transcript (Runway's, or the browser's last) is not replaced."""
    row = db.execute(f"SELECT 1 AS n FROM sessions WHERE request_id = ? AND transcript IS NOT NULL"
                     f" AND {_TERMINAL_SQL}{row_lock}", (request_id,)).fetchone()
    return row is not None


def _line_full(db: Transaction, client_id: str, fresh_since: float) -> StudioError | None:
    """The refusal for a caller who holds every place in line it may, else None."""
    held = _one([db.execute("SELECT COUNT(*) AS n FROM sessions WHERE client_id = ? AND status = ?"
                            " AND updated_at >= ?", (client_id, WAITING, fresh_since)).fetchone()])
    if held < PLACES_PER_CALLER:
        return None
    return StudioError("line_full", f"You are already waiting for {PLACES_PER_CALLER} call slots; "
                       "wait for those, or try again when a call ends.", 429)


def _record_refusal(db: Transaction, row: tuple[Any, ...], error: StudioError) -> None:
    """A REFUSED row saying why, unless this caller was refused for the same reason just before."""
    request_id, _, _, client_id, _, _, at = row
    recent = db.execute(
        "SELECT 1 AS n FROM sessions WHERE client_id = ? AND status = ? AND failure_code = ?"
        " AND requested_at >= ?", (client_id, REFUSED, error.code, at - REFUSAL_COALESCE)).fetchone()
    if recent is not None:
        return
    if db.execute("SELECT 1 AS n FROM sessions WHERE request_id = ?", (request_id,)).fetchone():
        request_id = uuid.uuid4().hex  # a duplicate request id: the refusal gets its own row
    db.execute(
        "INSERT INTO sessions (request_id, avatar_id, status, mode, client_id, max_duration, overrides,"
        " requested_at, ended_at, updated_at, failure, failure_code) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (request_id, row[1], REFUSED, row[2], client_id, row[4], row[5], at, at, at, error.message, error.code),
    )
    _event(db, request_id, "refused", at, error.message)


def _event(db: Transaction, request_id: str, name: str, at: float, detail: str | None = None) -> None:
    db.execute(
        "INSERT INTO events (request_id, name, at, detail) VALUES (?, ?, ?, ?)", (request_id, name, at, detail)
    )


def _row(row: Mapping[str, Any]) -> dict[str, Any]:
    data = dict(row)
    data["queued"] = bool(data["queued"])
    data["cancel_pending"] = bool(data["cancel_pending"])
    data["overrides"] = json.loads(data["overrides"] or "{}")
    data["transcript"] = json.loads(data["transcript"]) if data["transcript"] else None
    return data
