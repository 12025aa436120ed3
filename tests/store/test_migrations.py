"""The versioned migration files: one list per back-end, applied once, recorded, never half-done."""

from __future__ import annotations

import sqlite3

import pytest

from studio.store import open_database
from studio.store.migrations import MIGRATIONS_DIR, available, migrate_sqlite
from tests.store.at_once import open_at_once


def test_each_back_end_runs_every_version_once_in_order():
    for dialect in ("sqlite", "postgres"):
        versions = [m.version for m in available(dialect)]
        assert versions == sorted(set(versions))
        assert versions[:3] == [1, 2, 3]
    # Version 1 differs per dialect (identity column); version 2 is shared.
    assert available("sqlite")[0].sql != available("postgres")[0].sql
    assert available("sqlite")[1].sql == available("postgres")[1].sql


def test_a_misnamed_or_doubled_file_is_refused(tmp_path):
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE a (x TEXT);")
    (tmp_path / "0001_first.sqlite.sql").write_text("CREATE TABLE a (x TEXT);")
    with pytest.raises(ValueError, match="two migration files"):
        available("sqlite", tmp_path)
    assert [m.name for m in available("postgres", tmp_path)] == ["first"]
    (tmp_path / "1_bad.sql").write_text("")
    with pytest.raises(ValueError, match="NNNN_name"):
        available("postgres", tmp_path)


def test_a_failing_migration_leaves_nothing_behind_and_is_retried(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "0001_good.sql").write_text("-- a comment\nCREATE TABLE good (x TEXT);\n")
    (folder / "0002_bad.sql").write_text("CREATE TABLE half (x TEXT);\nCREATE TABLE good (x TEXT);\n")
    db = sqlite3.connect(tmp_path / "s.sqlite3", isolation_level=None)
    with pytest.raises(sqlite3.OperationalError):
        migrate_sqlite(db, folder)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "half" not in tables and "good" in tables
    (folder / "0002_bad.sql").write_text("CREATE TABLE half (x TEXT);\n")
    assert migrate_sqlite(db, folder) == [2]
    assert migrate_sqlite(db, folder) == []


def test_processes_opening_one_sqlite_file_at_once_migrate_it_once(tmp_path):
    path = tmp_path / "studio.sqlite3"
    results = open_at_once(lambda: open_database(path), 5)
    everything = [m.version for m in available("sqlite")]
    assert sorted(v for db in results for v in db.applied) == everything
    for db in results:
        db.close()


def test_the_shipped_files_are_named_for_a_dialect_or_for_both():
    for path in MIGRATIONS_DIR.glob("*.sql"):
        assert path.name.count(".") in (1, 2), path.name
