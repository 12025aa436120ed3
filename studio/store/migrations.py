"""Versioned SQL files, applied in order at start and recorded, on either back-end.

`migrations/NNNN_name.sql` runs once on both back-ends; where the two dialects differ, a version
has one file per back-end instead (`NNNN_name.sqlite.sql` and `NNNN_name.postgres.sql`). Each
runs in its own transaction and is recorded in `schema_migrations`. PostgreSQL replicas starting
at the same moment take turns on an advisory lock; SQLite's BEGIN IMMEDIATE does the same for
processes sharing one file. A SQLite ledger made before migrations were recorded is adopted.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.store.base import advisory_key

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
DIALECTS = ("sqlite", "postgres")
_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+?)(?:\.(sqlite|postgres))?\.sql$")
_RECORD_TABLE = ("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                 " name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available(dialect: str, directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migrations `dialect` runs, in order: each version's common file or its own."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown SQL dialect {dialect!r}")
    chosen: dict[int, tuple[str | None, Migration]] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _FILE.match(path.name)
        if not match:
            raise ValueError(f"migration file {path.name} is not named NNNN_name[.dialect].sql")
        version, name, only = int(match[1]), match[2], match[3]
        if only not in (None, dialect):
            continue
        if version in chosen:
            raise ValueError(f"two migration files give version {version} for {dialect}")
        chosen[version] = (only, Migration(version, name, path.read_text()))
    return [chosen[version][1] for version in sorted(chosen)]


def migrate(conn: Any, directory: Path = MIGRATIONS_DIR) -> list[int]:
    """Apply what an autocommit psycopg connection's database has not recorded yet."""
    key = advisory_key("migrations")
    conn.execute("SELECT pg_advisory_lock(%s)", (key,))
    try:
        conn.execute(_RECORD_TABLE)
        done = {row["version"] for row in conn.execute("SELECT version FROM schema_migrations")}
        applied = []
        for migration in available("postgres", directory):
            if migration.version in done:
                continue
            with conn.transaction():
                conn.execute(migration.sql)
                conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                             (migration.version, migration.name))
            applied.append(migration.version)
        return applied
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (key,))


def migrate_sqlite(db: sqlite3.Connection, directory: Path = MIGRATIONS_DIR) -> list[int]:
    """Apply what a SQLite connection (isolation_level=None) has not recorded yet."""
    with _immediate(db):
        db.execute(_RECORD_TABLE)
        if db.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0] == 0:
            _adopt_unrecorded_ledger(db)
    applied = []
    for migration in available("sqlite", directory):
        with _immediate(db):
            # Checked inside the write lock: another process may have applied it meanwhile.
            if db.execute("SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)).fetchone():
                continue
            for statement in _statements(migration.sql):
                db.execute(statement)
            db.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                       (migration.version, migration.name))
        applied.append(migration.version)
    return applied


class _immediate:
    """BEGIN IMMEDIATE … COMMIT, rolled back on any error."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *_: object) -> None:
        self.db.execute("ROLLBACK" if kind else "COMMIT")


def _adopt_unrecorded_ledger(db: sqlite3.Connection) -> None:
    """Record what a ledger file made before versioned migrations already has."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(sessions)")}
    if not columns:
        return
    db.execute("INSERT INTO schema_migrations (version, name) VALUES (1, 'ledger')")
    if "cancel_pending" in columns:
        db.execute("INSERT INTO schema_migrations (version, name) VALUES (2, 'cancel_pending')")


def _statements(sql: str) -> Iterator[str]:
    """The statements of a migration file, one at a time (execute() takes one)."""
    pending = ""
    for line in sql.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            if pending.strip().rstrip(";").strip() and not _only_comments(pending):
                yield pending
            pending = ""
    if pending.strip() and not _only_comments(pending):
        raise ValueError("a migration ends with an unfinished statement")


def _only_comments(text: str) -> bool:
    return all(not line.strip() or line.strip().startswith("--") for line in text.splitlines())
