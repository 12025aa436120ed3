"""Where the studio keeps what it remembers: one `Database` interface, two back-ends.

`STUDIO_DATABASE_URL` unset → an embedded SQLite file in `STUDIO_DATA_DIR` (one replica, zero
set-up); `postgresql://…` → PostgreSQL through psycopg 3, shared by every replica, with the schema
migrated at start by the versioned SQL files in `migrations/`. Stores (the ledger today; tool sets
and clips next) write SQL once with `?` placeholders and run it on either.
"""

from __future__ import annotations

from pathlib import Path

from studio.store.base import Database, Rows, Transaction
from studio.store.sqlite import SqliteDatabase

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(target: object) -> bool:
    return isinstance(target, str) and target.startswith(POSTGRES_SCHEMES)


def open_database(target: Database | Path | str) -> Database:
    """A `Database` for a SQLite path (or ":memory:") or a PostgreSQL URL."""
    if isinstance(target, Database):
        return target
    if is_postgres_url(target):
        from studio.store.postgres import PostgresDatabase  # psycopg is only needed for PostgreSQL

        return PostgresDatabase(str(target))
    return SqliteDatabase(target)


__all__ = ["POSTGRES_SCHEMES", "Database", "Rows", "Transaction", "is_postgres_url", "open_database"]
