"""The embedded back-end: one SQLite file (WAL), one connection, one lock, BEGIN IMMEDIATE writes.

Its schema comes from the same versioned migration files as PostgreSQL's (`migrations.py`).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from studio.store.base import Database, Rows
from studio.store.migrations import migrate_sqlite


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
        self.applied = migrate_sqlite(self._db)

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
