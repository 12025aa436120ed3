"""The interface every back-end gives the stores: short transactions, reads, one leader per role."""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

Rows = list[Mapping[str, Any]]


class Result(Protocol):
    def fetchone(self) -> Mapping[str, Any] | None: ...
    def fetchall(self) -> Sequence[Mapping[str, Any]]: ...
    def __iter__(self) -> Iterator[Mapping[str, Any]]: ...


class Transaction(Protocol):
    """What a store writes through: `?` placeholders, rows readable by column name."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Result: ...


def advisory_key(name: str) -> int:
    """A stable 32-bit key for a named lock (PostgreSQL advisory locks take a bigint)."""
    return zlib.crc32(f"character-studio:{name}".encode())


class Database:
    """Base of the back-ends.

    - `transaction(serialised=...)`: one transaction; `serialised=True` also waits for every
      other serialised transaction, in this process and in every other replica (admission).
    - `query(sql, params)`: a read outside any explicit transaction.
    - `try_lead(role)`: True while this process is the one replica doing `role` (the refresher);
      a database only this process uses always says True.
    - `shared`: other processes may write the same rows (PostgreSQL).
    - `row_lock`: the clause that locks rows read before an update (" FOR UPDATE" or "").
    """

    shared = False
    row_lock = ""
    integrity_errors: tuple[type[BaseException], ...] = ()

    def transaction(self, *, serialised: bool = False) -> AbstractContextManager[Transaction]:
        raise NotImplementedError

    def query(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        raise NotImplementedError

    def try_lead(self, role: str) -> bool:
        return True

    def close(self) -> None:
        raise NotImplementedError
