from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.store.cluster import Cluster


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """One real PostgreSQL for the session; without it the tests skip, or fail when CI is set."""
    try:
        cluster = Cluster().start()
    except Exception as error:  # noqa: BLE001 - reported as the tests' outcome
        message = f"PostgreSQL could not be started: {error}"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    yield cluster
    cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: Cluster) -> str:
    """A fresh, empty database of its own for one test."""
    return pg_cluster.create_database()
