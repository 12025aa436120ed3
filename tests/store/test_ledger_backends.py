"""The ledger suite (tests/unit/test_ledger.py) on both back-ends, plus what only PostgreSQL has:
migrations recorded and shared, replicas starting at once, and admission across connections."""

from __future__ import annotations

import inspect
import threading

import pytest

from studio.calls import ledger as ledger_module
from studio.calls.ledger import Ledger
from studio.store.migrations import available
from studio.store.postgres import PostgresDatabase
from tests.store.at_once import open_at_once
from tests.support import wait_for
from tests.unit import test_ledger as suite

SQLITE_ONLY = {"test_a_database_from_before_cancel_pending_gains_the_column",
               "test_a_database_from_the_last_release_keeps_its_rows_and_gains_new_tables"}
ALL_VERSIONS = [m.version for m in available("postgres")]
CASES = sorted(name for name, fn in inspect.getmembers(suite, inspect.isfunction)
               if name.startswith("test_") and name not in SQLITE_ONLY)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request, tmp_path, monkeypatch):
    """A `Ledger` factory the suite calls with its SQLite path; on PostgreSQL, one database per test.

    The suite's rows are seconds old: on a shared ledger they count as in flight at another
    replica unless the grace is lifted (it has its own test below)."""
    if request.param == "sqlite":
        return Ledger
    monkeypatch.setattr(ledger_module, "SHARED_CREATE_GRACE", 0.0)
    url = request.getfixturevalue("pg_url")
    return lambda _path: Ledger(url)


@pytest.mark.parametrize("case", CASES)
def test_ledger_suite(case, backend, tmp_path, monkeypatch):
    monkeypatch.setattr(suite, "Ledger", backend)
    getattr(suite, case)(tmp_path)


def test_migrations_are_recorded_and_applied_once(pg_url):
    first = Ledger(pg_url)
    assert first.db.applied == ALL_VERSIONS
    second = Ledger(pg_url)
    assert second.db.applied == []
    versions = [r["version"] for r in first.db.query("SELECT version FROM schema_migrations ORDER BY version")]
    assert versions == ALL_VERSIONS
    first.close(), second.close()


def test_replicas_starting_at_once_migrate_once(pg_url):
    results = open_at_once(lambda: PostgresDatabase(pg_url), 6)
    assert sorted(len(db.applied) for db in results) == [0] * 5 + [len(ALL_VERSIONS)]
    for db in results:
        db.close()


def test_admission_holds_across_connections(pg_url):
    """Six "replicas" (each its own connection) admit 30 requests at once against a cap of 4."""
    ledgers = [Ledger(pg_url) for _ in range(6)]
    admitted, barrier = [], threading.Barrier(30)

    def admit(counts):
        if counts.open() >= 4:
            raise RuntimeError("full")

    def request(i):
        barrier.wait()
        try:
            ledgers[i % 6].open_request(f"req-{i:08d}", avatar_id="a", client_id="c", mode="simulator",
                                        max_duration=60, overrides={}, at=float(i), admit=admit)
            admitted.append(i)
        except RuntimeError:
            pass

    threads = [threading.Thread(target=request, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(admitted) == 4 and ledgers[0].count_open() == 4
    for ledger in ledgers:
        ledger.close()


def test_only_one_replica_leads_and_another_takes_over(pg_url):
    a, b = PostgresDatabase(pg_url), PostgresDatabase(pg_url)
    assert a.try_lead("refresher") and a.try_lead("refresher")
    assert not b.try_lead("refresher")
    a.close()  # the leader goes away: its connection, and the lock with it
    # PostgreSQL frees the lock when the old backend has exited, a moment after the close; the
    # refresher asks again every round, as this does.
    wait_for(lambda: b.try_lead("refresher"), timeout=10, what="the second replica to lead")
    b.close()


def test_a_replica_starting_leaves_other_replicas_requests_in_flight_alone(pg_url):
    ledger = Ledger(pg_url)
    suite.new_row(ledger, rid="req-old00001", at=1000.0)
    suite.new_row(ledger, rid="req-new00001", at=1990.0)  # another replica is creating it now
    assert ledger.close_interrupted(2000.0) == 1
    assert ledger.get("req-old00001")["status"] == "FAILED"
    assert ledger.get("req-new00001")["status"] == "REQUESTED"
    ledger.close()
