"""The embedded back-end: one SQLite file (WAL), one connection, one lock, BEGIN IMMEDIATE writes."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from studio.store.base import Database, Rows

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    request_id     TEXT PRIMARY KEY,
    session_id     TEXT UNIQUE,
    avatar_id      TEXT NOT NULL,
    status         TEXT NOT NULL,
    queued         INTEGER NOT NULL DEFAULT 0,
    failure        TEXT,
    failure_code   TEXT,
    duration       INTEGER,
    max_duration   INTEGER,
    overrides      TEXT NOT NULL DEFAULT '{}',
    mode           TEXT NOT NULL,
    client_id      TEXT NOT NULL,
    requested_at   REAL NOT NULL,
    created_at     REAL,
    ready_at       REAL,
    consumed_at    REAL,
    connected_at   REAL,
    first_frame_at REAL,
    running_at     REAL,
    ended_at       REAL,
    transcript     TEXT,
    cancel_pending INTEGER NOT NULL DEFAULT 0,
    updated_at     REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_status ON sessions(status);
CREATE INDEX IF NOT EXISTS sessions_requested ON sessions(requested_at);
CREATE INDEX IF NOT EXISTS sessions_client ON sessions(client_id, requested_at);
CREATE TABLE IF NOT EXISTS events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL REFERENCES sessions(request_id),
    name       TEXT NOT NULL,
    at         REAL NOT NULL,
    detail     TEXT
);
CREATE INDEX IF NOT EXISTS events_request ON events(request_id, at);
"""

# Columns added after the first release, with their definitions, for databases made before them.
_ADDED_COLUMNS = {"cancel_pending": "INTEGER NOT NULL DEFAULT 0"}


class SqliteDatabase(Database):
    integrity_errors = (sqlite3.IntegrityError,)

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        present = {row["name"] for row in self._db.execute("PRAGMA table_info(sessions)")}
        for column, definition in _ADDED_COLUMNS.items():
            if column not in present:
                self._db.execute(f"ALTER TABLE sessions ADD COLUMN {column} {definition}")

    @contextlib.contextmanager
    def transaction(self, *, serialised: bool = False) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE takes the file's write lock: every write is serialised already."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def query(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            self._db.close()
