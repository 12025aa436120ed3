"""The shared back-end: PostgreSQL through psycopg 3, for several studio replicas.

One connection per process for the stores (a lock keeps its transactions apart, as SQLite's
does), serialised transactions under a transaction-level advisory lock (every replica's
admissions take turns), and one more connection per process that holds the session-level
advisory locks of the roles it leads: if the process dies, PostgreSQL drops the connection and
the lock with it, and another replica takes the role on its next try.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row

from studio.store.base import Database, Rows, advisory_key
from studio.store.migrations import migrate

log = logging.getLogger(__name__)

_CONNECT_TIMEOUT = 10


class _Session:
    """A psycopg connection that takes the stores' `?` placeholders."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor:
        return self.conn.execute(sql.replace("?", "%s"), params)


class PostgresDatabase(Database):
    shared = True
    row_lock = " FOR UPDATE"
    integrity_errors = (psycopg.errors.IntegrityError,)

    def __init__(self, url: str) -> None:
        self.url = url
        self._lock = threading.Lock()
        self._conn = self._connect()
        self.applied = migrate(self._conn)
        self._leader_lock = threading.Lock()
        self._leader_conn: psycopg.Connection | None = None
        self._leading: set[str] = set()

    def _connect(self) -> psycopg.Connection:
        return psycopg.connect(self.url, autocommit=True, row_factory=dict_row,
                               connect_timeout=_CONNECT_TIMEOUT,
                               application_name=f"character-studio pid {os.getpid()}")

    def _session(self) -> _Session:
        """The stores' connection, made again if the last one broke (a database restart)."""
        if self._conn.closed or self._conn.broken:
            self._conn = self._connect()
        return _Session(self._conn)

    @contextlib.contextmanager
    def transaction(self, *, serialised: bool = False) -> Iterator[_Session]:
        with self._lock:
            session = self._session()
            with session.conn.transaction():
                if serialised:
                    # Held to COMMIT: the next replica's counts see this one's row.
                    session.execute("SELECT pg_advisory_xact_lock(?)", (advisory_key("admission"),))
                yield session

    def query(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        with self._lock:
            return self._session().execute(sql, params).fetchall()

    def try_lead(self, role: str) -> bool:
        """Hold (or try to take) the role's advisory lock on the leader connection."""
        with self._leader_lock:
            try:
                return self._try_lead(role)
            except psycopg.OperationalError:
                log.warning("lost the database connection that holds %s; trying again", role)
                self._drop_leader_conn()
                return False

    def _try_lead(self, role: str) -> bool:
        conn = self._leader_conn
        if conn is None or conn.closed or conn.broken:
            self._drop_leader_conn()
            conn = self._leader_conn = self._connect()
        if role in self._leading:
            conn.execute("SELECT 1")  # the lock lives as long as this connection does
            return True
        row = conn.execute("SELECT pg_try_advisory_lock(%s) AS got", (advisory_key(f"lead:{role}"),)).fetchone()
        if row and row["got"]:
            self._leading.add(role)
            log.info("this replica now leads %s", role)
            return True
        return False

    def _drop_leader_conn(self) -> None:
        self._leading.clear()
        if self._leader_conn is not None:
            with contextlib.suppress(Exception):
                self._leader_conn.close()
        self._leader_conn = None

    def close(self) -> None:
        with self._leader_lock:
            self._drop_leader_conn()
        with self._lock:
            self._conn.close()
