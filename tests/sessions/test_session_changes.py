"""An open Sessions tab refreshes when the server says it would change, not every interval: the
change stream's text on a fake clock, the mark it follows (what changes it, whose calls it
covers), and the route served for real (headers, no compression, sign-in, a new call pushed)."""

from __future__ import annotations

import asyncio
import itertools
import threading
from typing import Any

import httpx
import pytest

from app import build_app
from server.session_changes import KEEPALIVE, change_events
from studio.clock import FakeClock
from tests.app.conftest import harness_for
from tests.support import serve, studio_settings

INTERVAL = 2.0


def stream_text(marks: list[str], *, lines: int) -> list[str]:
    """The first `lines` messages of a stream whose mark reads `marks` in turn (then the last)."""
    clock, seen = FakeClock(), iter(marks)
    last = [marks[0]]

    async def mark() -> str:
        last[0] = next(seen, last[0])
        return last[0]

    async def first_lines() -> list[str]:
        stream = change_events(mark, clock.sleep, INTERVAL)
        return [await anext(stream) for _ in range(lines)]

    return asyncio.run(first_lines())


def test_the_stream_says_the_mark_at_once_then_only_when_it_changes():
    text = stream_text(["a", "a", "a", "b", "b"], lines=3)
    assert text == ["retry: 3000\n\n", "event: change\ndata: a\n\n", "event: change\ndata: b\n\n"]


def test_a_quiet_stream_sends_only_a_comment_every_keepalive():
    per_keepalive = int(KEEPALIVE / INTERVAL)
    text = stream_text(["a"], lines=4)  # retry, change a, then nothing new for ever
    assert text[2:] == [": still here\n\n"] * 2
    changed_in_time = stream_text(["a"] + ["a"] * (per_keepalive - 1) + ["b"], lines=3)
    assert changed_in_time[2] == "event: change\ndata: b\n\n"  # a change before the keepalive: no comment


@pytest.fixture()
def harness(tmp_path):
    with harness_for(tmp_path, STUDIO_MAX_LIVE_SESSIONS="10") as harness:
        harness.studio.history.mirror.min_interval = 0.0  # re-read the ledger at every mark
        # Each mark a whole interval after the last: no shared reading between them.
        harness.studio.history.monotonic = itertools.count(0, 1000).__next__
        yield harness


def mark_of(harness, client: str | None = None) -> str:
    return harness.client.portal.call(lambda: harness.studio.history.changes_mark(client))


def test_the_mark_holds_still_until_a_session_changes(harness):
    quiet = mark_of(harness)
    assert mark_of(harness) == quiet
    session_id = harness.start_call().json()["sessionId"]
    started = mark_of(harness)
    assert started != quiet and mark_of(harness) == started
    harness.sim_call(session_id, "join")  # READY → RUNNING
    assert mark_of(harness) != started


def test_a_live_calls_running_time_moves_the_mark_each_second_and_nothing_else_does(harness):
    session_id = harness.start_call().json()["sessionId"]
    ready = mark_of(harness)
    harness.clock.advance(5)  # nothing live: the table shows the same
    assert mark_of(harness) == ready
    harness.sim_call(session_id, "join")
    live = mark_of(harness)
    harness.clock.advance(1)  # the table's duration reads one second more
    assert mark_of(harness) != live


def test_viewers_share_one_reading_per_half_interval(harness):
    history = harness.studio.history
    now = [0.0]
    history.monotonic = lambda: now[0]
    first = harness.client.portal.call(history.changes_mark)
    harness.start_call()
    assert harness.client.portal.call(history.changes_mark) == first  # the shared reading
    now[0] += harness.studio.settings.refresh_interval / 2
    assert harness.client.portal.call(history.changes_mark) != first


def test_a_visitors_mark_covers_only_their_own_calls(harness):
    mine = harness.studio.caller_id("203.0.113.7", None)
    before = mark_of(harness, mine)
    harness.start_call()  # from another address (the test client's)
    assert mark_of(harness, mine) == before
    assert mark_of(harness) != mark_of(harness, mine)


# ---- the route, served ----------------------------------------------------------------------

def read_events(url: str, wanted: int, *, on_first: Any = None, **request: Any) -> tuple[httpx.Response, list[str]]:
    """The stream's first `wanted` change marks; `on_first` runs (in another thread) once the first
    has arrived."""
    marks: list[str] = []
    with httpx.stream("GET", f"{url}/api/sessions/changes", timeout=20, **request) as response:
        if response.status_code != 200:
            return response, marks
        for line in response.iter_lines():
            if line.startswith("data: "):
                marks.append(line.removeprefix("data: "))
                if len(marks) == 1 and on_first:
                    threading.Thread(target=on_first, daemon=True).start()
                if len(marks) == wanted:
                    break
    return response, marks


def test_a_new_call_is_pushed_to_an_open_stream_uncompressed(tmp_path):
    app = build_app(studio_settings(tmp_path, STUDIO_REFRESH_INTERVAL="0.2"))
    with serve(app) as url:
        def start_call() -> None:
            httpx.post(f"{url}/api/avatar/session", json={"avatarId": "music-superstar"}, timeout=30)

        response, marks = read_events(url, 2, on_first=start_call, headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-type"].startswith("text/event-stream")
    assert "content-encoding" not in response.headers  # gzip would hold events back
    assert response.headers["cache-control"] == "no-cache"
    assert len(marks) == 2 and marks[0] != marks[1]


def test_the_stream_is_behind_sign_in(tmp_path):
    app = build_app(studio_settings(tmp_path, STUDIO_AUTH="qa:s3cret-pass"))
    with serve(app) as url:
        refused, _ = read_events(url, 1)
        allowed, marks = read_events(url, 1, auth=("qa", "s3cret-pass"))
    assert refused.status_code == 401
    assert allowed.status_code == 200 and len(marks) == 1
