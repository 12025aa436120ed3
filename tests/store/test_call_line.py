"""The studio's own line for call slots, and refused attempts on record, on SQLite and PostgreSQL:
a caller turned away leaves a REFUSED row saying why that holds no slot and counts toward no
limit; a caller who chose to wait gets a place derived from the shared table (the order requests
joined the line), keeps it while it looks, and is let through only when the free slots reach it."""

from __future__ import annotations

import pytest

from studio.calls.guards import Guards
from studio.calls.ledger import LINE_STALE, PLACES_PER_CALLER, DuplicateRequest, Ledger, LeftLine
from studio.clock import FakeClock
from studio.config import load_settings
from studio.errors import StudioError


class Desk:
    """A ledger and its guards, driven by a FakeClock."""

    def __init__(self, target: str, clock: FakeClock | None = None, **env: str) -> None:
        self.clock = clock or FakeClock()
        self.ledger = Ledger(target)
        self.guards = Guards(load_settings(env, dotenv_path=None), self.ledger, self.clock)

    def ask(self, rid: str, client: str = "caller-a", *, wait: bool = False) -> int | None:
        self.clock.advance(0.01)  # each request a little later than the last: a clear order
        return self.ledger.open_request(
            rid, avatar_id="music-superstar", client_id=client, mode="simulator", max_duration=60,
            overrides={}, at=self.clock.now(), wait=wait,
            admit=lambda counts: self.guards.check(client, counts))

    def look(self, rid: str, client: str = "caller-a") -> int | None:
        return self.ledger.wait_turn(rid, self.clock.now(), lambda counts: self.guards.check(client, counts))

    def end(self, rid: str) -> None:
        self.ledger.record_status(rid, "COMPLETED", self.clock.now(), duration=5)

    def status(self, rid: str) -> str:
        return self.ledger.get(rid)["status"]


@pytest.fixture
def desk(database_target):
    made = []

    def make(clock: FakeClock | None = None, **env: str) -> Desk:
        made.append(Desk(database_target, clock, **env))
        return made[-1]

    yield make
    for one in made:
        one.ledger.close()


def refused_rows(desk: Desk) -> list[dict]:
    return desk.ledger.list(status="REFUSED", limit=None)


def test_a_refusal_is_on_record_with_why_and_holds_nothing(desk):
    d = desk(STUDIO_MAX_LIVE_SESSIONS="1")
    d.ask("call-one-0001")
    with pytest.raises(StudioError) as refused:
        d.ask("call-two-0002", "caller-b")
    assert refused.value.code == "studio_busy" and refused.value.status == 429
    [row] = refused_rows(d)
    assert (row["client_id"], row["failure_code"]) == ("caller-b", "studio_busy")
    assert "All 1 call slots" in row["failure"] and row["ended_at"] is not None
    assert row["session_id"] is None and d.ledger.open_sessions() == []  # never polled upstream
    assert d.ledger.count_open() == 1  # only the call that was let through holds a slot
    assert d.ledger.count_since(0) == 1
    assert [e["name"] for e in d.ledger.events(row["request_id"])] == ["refused"]


def test_a_caller_refused_again_and_again_adds_one_row_a_minute(desk):
    d = desk(STUDIO_MAX_LIVE_SESSIONS="1")
    d.ask("call-one-0001")
    for n in range(5):
        with pytest.raises(StudioError):
            d.ask(f"again-{n:08d}", "caller-b")
    assert len(refused_rows(d)) == 1
    d.clock.advance(61)
    with pytest.raises(StudioError):
        d.ask("later-00000001", "caller-b")
    assert len(refused_rows(d)) == 2


def test_refused_attempts_count_toward_no_limit(desk):
    d = desk(STUDIO_MAX_LIVE_SESSIONS="1", STUDIO_SESSIONS_PER_CLIENT_PER_HOUR="2", STUDIO_DAILY_SESSION_CAP="3")
    d.ask("first-000001", "caller-a")
    for n in range(3):
        d.clock.advance(61)
        with pytest.raises(StudioError, match="call slots"):
            d.ask(f"busy-{n:08d}", "caller-a")
    d.end("first-000001")
    d.ask("second-00001", "caller-a")  # the hour's second call: the refusals took no share
    assert d.ledger.count_since(0) == 2 and len(refused_rows(d)) == 3


def test_a_per_caller_refusal_is_recorded_with_its_own_words(desk):
    d = desk(STUDIO_SESSIONS_PER_CLIENT_PER_HOUR="1")
    d.ask("first-000001")
    with pytest.raises(StudioError, match="in the last hour"):
        d.ask("second-00001")
    [row] = refused_rows(d)
    assert row["failure_code"] == "client_rate_limited"


def test_a_duplicate_request_is_recorded_under_its_own_row(desk):
    d = desk()
    d.ask("same-id-0001")
    with pytest.raises(DuplicateRequest):
        d.ask("same-id-0001")
    error = StudioError("duplicate_request", "That requestId was used already; make a new one.", 409)
    d.ledger.record_refusal(avatar_id="music-superstar", client_id="caller-a", mode="simulator",
                            max_duration=60, error=error, at=d.clock.now())
    [row] = refused_rows(d)
    assert row["failure_code"] == "duplicate_request" and row["request_id"] != "same-id-0001"
    assert d.status("same-id-0001") == "REQUESTED"


def test_callers_in_line_are_let_through_in_the_order_they_came(desk):
    d = desk(STUDIO_MAX_LIVE_SESSIONS="2")
    d.ask("live-one-0001"), d.ask("live-two-0002")
    places = [d.ask(f"wait-{who}-0000", who, wait=True) for who in ("ann", "bob", "cat")]
    assert places == [1, 2, 3]
    assert d.ledger.count_open() == 2 and d.ledger.open_sessions() == []
    assert [d.ledger.place_in_line(f"wait-{who}-0000", d.clock.now()) for who in ("ann", "bob", "cat")] == [1, 2, 3]
    # Nobody gets in while both slots are held; every look keeps the caller's place.
    assert d.look("wait-bob-0000", "bob") == 2
    d.end("live-one-0001")
    # One slot frees: it is Ann's, not Bob's (who looked first), nor a newcomer's.
    assert d.look("wait-bob-0000", "bob") == 2
    with pytest.raises(StudioError, match="call slots"):
        d.ask("newcomer-0001", "dan")
    assert d.look("wait-ann-0000", "ann") is None
    assert d.status("wait-ann-0000") == "REQUESTED" and d.ledger.count_open() == 2
    assert d.look("wait-bob-0000", "bob") == 1 and d.look("wait-cat-0000", "cat") == 2
    names = [e["name"] for e in d.ledger.events("wait-ann-0000")]
    assert names == ["waiting", "admitted"]


def test_a_caller_who_stops_looking_loses_the_place(desk):
    d = desk(STUDIO_MAX_LIVE_SESSIONS="1")
    d.ask("live-one-0001")
    d.ask("wait-ann-0000", "ann", wait=True)
    d.ask("wait-bob-0000", "bob", wait=True)
    for _ in range(int(LINE_STALE) + 2):  # Bob keeps looking; Ann has gone quiet
        d.clock.advance(1)
        assert d.look("wait-bob-0000", "bob") in (1, 2)
    assert d.look("wait-bob-0000", "bob") == 1
    d.end("live-one-0001")
    assert d.look("wait-bob-0000", "bob") is None
    d.ledger.close_interrupted(d.clock.now(), older_than=LINE_STALE)
    row = d.ledger.get("wait-ann-0000")
    assert (row["status"], row["failure_code"]) == ("REFUSED", "line_abandoned")


def test_leaving_the_line_frees_the_place_and_counts_for_nothing(desk):
    d = desk(STUDIO_MAX_LIVE_SESSIONS="1")
    d.ask("live-one-0001")
    d.ask("wait-ann-0000", "ann", wait=True)
    d.ask("wait-bob-0000", "bob", wait=True)
    assert d.ledger.leave_line("wait-ann-0000", "left_line", "The caller left.", d.clock.now())
    assert d.look("wait-bob-0000", "bob") == 1
    assert d.ledger.count_since(0) == 1  # neither the one who left nor the one waiting
    with pytest.raises(LeftLine):
        d.look("wait-ann-0000", "ann")
    assert not d.ledger.leave_line("wait-ann-0000", "left_line", "again", d.clock.now())


def test_one_caller_holds_only_a_few_places_in_line(desk):
    d = desk(STUDIO_MAX_LIVE_SESSIONS="1")
    d.ask("live-one-0001")
    places = [d.ask(f"wait-ann-{n:04d}", "ann", wait=True) for n in range(PLACES_PER_CALLER)]
    assert places == list(range(1, PLACES_PER_CALLER + 1))
    with pytest.raises(StudioError) as refused:
        d.ask("wait-ann-more", "ann", wait=True)
    assert refused.value.code == "line_full"
    assert d.ask("wait-bob-0000", "bob", wait=True) == PLACES_PER_CALLER + 1  # others still may
    assert [r["failure_code"] for r in refused_rows(d)] == ["line_full"]


def test_two_replicas_share_one_line(desk):
    """Each replica its own connection to the one database: places and admissions follow the
    order callers joined, whichever replica each one came through."""
    first = desk(STUDIO_MAX_LIVE_SESSIONS="1")
    second = desk(first.clock, STUDIO_MAX_LIVE_SESSIONS="1")
    first.ask("live-one-0001")
    assert second.ask("wait-ann-0000", "ann", wait=True) == 1
    assert first.ask("wait-bob-0000", "bob", wait=True) == 2
    assert second.ask("wait-cat-0000", "cat", wait=True) == 3
    second.end("live-one-0001")
    assert first.look("wait-bob-0000", "bob") == 2  # Ann, at the other replica, comes first
    assert second.look("wait-ann-0000", "ann") is None
    assert [first.ledger.place_in_line(f"wait-{who}-0000", first.clock.now()) for who in ("bob", "cat")] == [1, 2]
