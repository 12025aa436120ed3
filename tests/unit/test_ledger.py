import pytest

from studio.calls.ledger import DuplicateRequest, Ledger


def new_row(ledger, rid="req-00000001", at=100.0, client="c1", avatar="music-superstar"):
    ledger.open_request(rid, avatar_id=avatar, client_id=client, mode="simulator", max_duration=300,
                        overrides={"maxDuration": 300}, at=at)


def test_a_session_lifecycle_keeps_first_seen_timestamps(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite3")
    new_row(ledger)
    ledger.attach_session("req-00000001", "sess-1", 100.2)
    ledger.record_status("req-00000001", "NOT_READY", 100.3, queued=True)
    ledger.record_status("req-00000001", "NOT_READY", 100.5)
    ledger.record_status("req-00000001", "READY", 101.2)
    ledger.record_status("req-00000001", "READY", 101.9)  # same status again: no change
    ledger.record_consumed("req-00000001", 101.3)
    ledger.record_client_event("req-00000001", "connected", 102.0)
    ledger.record_client_event("req-00000001", "first_frame", 103.0)
    ledger.record_client_event("req-00000001", "first_frame", 109.0)  # a late duplicate
    ledger.record_status("req-00000001", "RUNNING", 102.5)
    ledger.record_status("req-00000001", "COMPLETED", 160.0, duration=57)
    row = ledger.get("sess-1")
    assert row["status"] == "COMPLETED" and row["duration"] == 57
    assert (row["created_at"], row["ready_at"], row["first_frame_at"], row["ended_at"]) == (100.2, 101.2, 103.0, 160.0)
    names = [e["name"] for e in ledger.events("req-00000001")]
    assert names[:4] == ["requested", "created", "queued", "not_ready"]
    assert "completed" in names


def test_terminal_rows_never_move_again(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite3")
    new_row(ledger)
    ledger.attach_session("req-00000001", "sess-1", 1.0)
    ledger.record_status("req-00000001", "FAILED", 2.0, failure="No participants", failure_code="X")
    assert not ledger.record_status("req-00000001", "COMPLETED", 3.0, duration=5)
    assert ledger.get("req-00000001")["status"] == "FAILED"


def test_counts_back_the_guards(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite3")
    for i in range(3):
        new_row(ledger, rid=f"req-0000000{i}", at=1000.0 + i, client="a" if i else "b")
    ledger.fail_request("req-00000000", "upstream_down", "Runway is down", 1005.0)
    assert ledger.count_open() == 2
    assert ledger.count_since(1001.0) == 2
    assert ledger.count_since(0, client_id="a") == 2


def test_interrupted_requests_are_closed_on_start(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite3")
    new_row(ledger)
    assert ledger.close_interrupted(200.0) == 1
    row = ledger.get("req-00000001")
    assert row["status"] == "FAILED" and row["failure_code"] == "interrupted"


def test_failed_write_leaves_nothing_half_written(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite3")
    new_row(ledger)
    with pytest.raises(DuplicateRequest):
        new_row(ledger)  # same request id: the INSERT fails inside the transaction
    assert len(ledger.list()) == 1
    assert [e["name"] for e in ledger.events("req-00000001")] == ["requested"]


def test_filters_and_newest_first(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite3")
    new_row(ledger, rid="req-aaaaaaaa", at=1.0, avatar="cat-character")
    new_row(ledger, rid="req-bbbbbbbb", at=2.0)
    assert [r["request_id"] for r in ledger.list()] == ["req-bbbbbbbb", "req-aaaaaaaa"]
    assert [r["request_id"] for r in ledger.list(avatar="cat-character")] == ["req-aaaaaaaa"]
    assert ledger.list(status=["COMPLETED"]) == []


def test_a_row_cancelled_while_its_session_was_being_made_stays_cancelled(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite3")
    new_row(ledger)
    ledger.fail_request("req-00000001", "cancelled", "Cancelled from the studio.", 101.0)
    assert ledger.attach_session("req-00000001", "sess-1", 102.0) is False
    row = ledger.get("sess-1")
    assert row["status"] == "CANCELLED" and row["session_id"] == "sess-1"


def test_a_refused_admission_inserts_nothing(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite3")
    seen = []

    def refuse(counts):
        seen.append((counts.open(), counts.since(0)))
        raise RuntimeError("no room")

    new_row(ledger, rid="req-aaaaaaaa")
    with pytest.raises(RuntimeError):
        ledger.open_request("req-bbbbbbbb", avatar_id="music-superstar", client_id="c1", mode="simulator",
                            max_duration=300, overrides={}, at=101.0, admit=refuse)
    assert seen == [(1, 1)]
    assert [r["request_id"] for r in ledger.list()] == ["req-aaaaaaaa"]
    assert ledger.events("req-bbbbbbbb") == []


def test_an_unknown_status_still_holds_its_slot_and_is_followed(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite3")
    new_row(ledger)
    ledger.attach_session("req-00000001", "sess-1", 100.2)
    ledger.record_status("req-00000001", "PAUSED", 101.0)  # a status this studio has never seen
    assert ledger.count_open() == 1
    assert [r["session_id"] for r in ledger.open_sessions()] == ["sess-1"]


def test_rows_that_never_got_a_session_id_are_closed_on_start(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite3")
    new_row(ledger, rid="req-aaaaaaaa")
    new_row(ledger, rid="req-bbbbbbbb")
    ledger.record_status("req-bbbbbbbb", "NOT_READY", 101.0)  # moved on, but no session id
    new_row(ledger, rid="req-cccccccc")
    ledger.attach_session("req-cccccccc", "sess-c", 101.0)
    assert ledger.close_interrupted(200.0) == 2
    assert ledger.count_open() == 1
    assert ledger.get("sess-c")["status"] == "NOT_READY"


def test_a_pending_cancel_keeps_the_row_open_and_stops_the_session_being_attached(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite3")
    new_row(ledger)
    ledger.request_cancel("req-00000001", "cancelled", "Cancelled from the studio.", 101.0)
    row = ledger.get("req-00000001")
    assert row["cancel_pending"] and row["status"] == "REQUESTED" and ledger.count_open() == 1
    assert ledger.attach_session("req-00000001", "sess-1", 102.0) is False


def test_a_cancel_seen_upstream_first_keeps_the_studios_reason(tmp_path):
    # The refresher can record Runway's CANCELLED (which names nobody) before the cancel returns.
    ledger = Ledger(tmp_path / "l.sqlite3")
    new_row(ledger)
    ledger.attach_session("req-00000001", "sess-1", 100.2)
    ledger.note_cancel("req-00000001", "cancelled", "Cancelled from the studio.", 101.0)
    assert ledger.record_status("req-00000001", "CANCELLED", 101.1)
    row = ledger.get("req-00000001")
    assert (row["status"], row["failure_code"], row["failure"]) == ("CANCELLED", "cancelled", "Cancelled from the studio.")


def test_a_session_that_ends_another_way_is_not_called_cancelled(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite3")
    new_row(ledger)
    ledger.attach_session("req-00000001", "sess-1", 100.2)
    ledger.note_cancel("req-00000001", "cancelled", "Cancelled from the studio.", 101.0)
    ledger.record_status("req-00000001", "COMPLETED", 101.1, duration=1)
    assert ledger.get("req-00000001")["failure_code"] is None
    ledger.note_cancel("req-00000001", "cancelled", "Cancelled from the studio.", 101.2)  # too late
    assert ledger.get("req-00000001")["failure_code"] is None


def test_an_ended_sessions_transcript_is_not_replaced_by_a_late_report(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite3")
    new_row(ledger)
    ledger.attach_session("req-00000001", "sess-1", 100.2)
    ledger.record_status("req-00000001", "COMPLETED", 160.0, duration=57)
    ledger.store_transcript("req-00000001", [{"role": "assistant", "content": "Hello!"}], 161.0)
    ledger.record_client_event("req-00000001", "ended", 162.0,
                               transcript=[{"role": "assistant", "content": "forged"}])
    assert ledger.get("sess-1")["transcript"] == [{"role": "assistant", "content": "Hello!"}]


def _ledger_file_made_before_versioned_migrations(path, *, with_cancel_pending: bool) -> None:
    """A ledger file as earlier releases made it: their own schema, no `schema_migrations`."""
    import sqlite3

    from studio.store.migrations import MIGRATIONS_DIR
    schema = (MIGRATIONS_DIR / "0001_ledger.sqlite.sql").read_text()
    with sqlite3.connect(path) as db:
        db.executescript(schema)
        if with_cancel_pending:
            db.execute("ALTER TABLE sessions ADD COLUMN cancel_pending INTEGER NOT NULL DEFAULT 0")
        db.execute("INSERT INTO sessions (request_id, avatar_id, status, mode, client_id, requested_at,"
                   " updated_at) VALUES ('req-old', 'influencer', 'COMPLETED', 'simulator', 'c', 1, 1)")


def test_a_database_from_before_cancel_pending_gains_the_column(tmp_path):
    path = tmp_path / "old.sqlite3"
    _ledger_file_made_before_versioned_migrations(path, with_cancel_pending=False)
    reopened = Ledger(path)
    assert reopened.get("req-old")["cancel_pending"] is False
    assert 2 in reopened.db.applied and 1 not in reopened.db.applied


def test_a_database_from_the_last_release_keeps_its_rows_and_gains_new_tables(tmp_path):
    path = tmp_path / "old.sqlite3"
    _ledger_file_made_before_versioned_migrations(path, with_cancel_pending=True)
    reopened = Ledger(path)
    assert reopened.get("req-old")["status"] == "COMPLETED"
    assert not {1, 2} & set(reopened.db.applied)
    assert reopened.db.query("SELECT COUNT(*) AS n FROM shared_values")[0]["n"] == 0