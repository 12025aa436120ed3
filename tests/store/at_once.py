"""Open one database from several threads at the same moment, as replicas starting together do."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import TypeVar

T = TypeVar("T")


def open_at_once(open_one: Callable[[], T], count: int) -> list[T]:
    """`count` results of `open_one`, all started together; the first error is raised."""
    barrier = Barrier(count)

    def start() -> T:
        barrier.wait()
        return open_one()

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: start(), range(count)))
