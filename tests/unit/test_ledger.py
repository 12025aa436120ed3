import sqlite3

from studio.ledger import Ledger


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
    try:
        new_row(ledger)  # same request id: the INSERT fails inside the transaction
    except sqlite3.IntegrityError:
        pass
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
