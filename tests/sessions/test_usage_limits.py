"""The Usage tab's limits: each count next to its limit and when it goes down, counted as the
guards count (on a real ledger, a fake clock); and a spend estimate that matches what the
simulator bills, with the reason it can differ in plain words."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from components.usage_cards import guard_cards, spend_cards
from pages.context import PageContext
from pages.usage import load
from studio.calls.guards import Guards, LimitsNow
from studio.calls.ledger import Ledger
from studio.clock import FakeClock
from studio.errors import StudioError
from studio.history import usage_by_day
from tests.app.conftest import harness_for
from tests.support import studio_settings

NOON = datetime(2026, 12, 1, 18, 0, tzinfo=timezone.utc).timestamp()  # 18:00 UTC


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture()
def guards(tmp_path):
    settings = studio_settings(tmp_path, STUDIO_MAX_LIVE_SESSIONS="5",
                               STUDIO_SESSIONS_PER_CLIENT_PER_HOUR="3", STUDIO_DAILY_SESSION_CAP="8")
    clock = FakeClock(NOON)
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    guard = Guards(settings, ledger, clock)

    def call(client: str, minutes_ago: float) -> None:
        at = NOON - minutes_ago * 60
        ledger.open_request(f"req-{client}-{minutes_ago}", avatar_id="music-superstar",
                            client_id=client, mode="simulator", max_duration=300, overrides={},
                            at=at, admit=lambda counts: guard.check(client, counts))

    yield guard, call, clock
    ledger.close()


def test_each_count_shows_its_limit_and_when_it_goes_down(guards):
    guard, call, _ = guards
    for minutes_ago in (50, 30, 10):
        call("caller-a", minutes_ago)
    call("caller-b", 5)
    limits = guard.limits_for("caller-a")
    assert (limits.live, limits.max_live, limits.today, limits.daily_cap) == (4, 5, 4, 8)
    assert len(limits.caller_calls) == 3 and limits.per_caller == 3
    assert limits.caller_next_leaves == NOON + 10 * 60  # the 17:10 call leaves the hour at 18:10
    assert limits.caller_free_at == NOON + 10 * 60

    shown = text_of(guard_cards(limits))
    assert "Live now 4 / 5 (80%)" in shown
    assert "From your address 3 / 3 (100%)" in shown
    assert "stops counting at 18:10 UTC (in 10 min)" in shown
    assert "you can call again at 18:10 UTC (in 10 min)" in shown
    assert "Today 4 / 8 (50%)" in shown
    assert "Resets at midnight UTC, at 00:00 UTC (in 6 h 00 min)" in shown


def test_the_guard_refuses_exactly_when_the_card_says_it_is_full(guards):
    guard, call, clock = guards
    for minutes_ago in (50, 30, 10):
        call("caller-a", minutes_ago)
    with pytest.raises(StudioError) as refused:
        call("caller-a", 0)
    assert refused.value.code == "client_rate_limited"
    free_at = guard.limits_for("caller-a").caller_free_at
    clock.advance(free_at - clock.now() + 1)  # the card's moment: the oldest call has left
    call("caller-a", -11)  # (requested "now" on the advanced clock)
    later = guard.limits_for("caller-a")
    assert len(later.caller_calls) == 3 and "you can call again" in text_of(guard_cards(later))


def test_another_caller_and_no_limit_read_plainly():
    limits = LimitsNow(now=NOON, live=0, max_live=3, caller_calls=(), per_caller=0, today=0,
                       daily_cap=100, day_resets=NOON + 6 * 3600)
    shown = text_of(guard_cards(limits))
    assert "From your address 0 · no limit" in shown
    assert "No per-caller limit; none from your address in the last hour." in shown


def test_the_spend_estimate_counts_each_connected_call_as_runway_bills_it(tmp_path):
    """On the simulator: six calls (two nobody joined) cost what Runway's billing says, 2 credits
    as each connects and 2 per whole 6 s in the room; the estimate lands within the 6 s steps."""
    with harness_for(tmp_path, STUDIO_MAX_LIVE_SESSIONS="10") as h:
        start = h.sim_state()["creditBalance"]
        for seconds in (45, 20, 0, 0, 61, 13):
            session_id = h.start_call().json()["sessionId"]
            if seconds:
                h.sim_call(session_id, "join")
                h.advance(seconds)
                h.sim_call(session_id, "leave")
            else:  # nobody joins: the session fails, its credentials were issued all the same
                h.advance(25)
                h.client.portal.call(h.studio.refresher.refresh_once)
        spent = start - h.sim_state()["creditBalance"]
        _, spend_html, *_ = h.client.portal.call(lambda: load(PageContext(studio=h.studio)))

    assert spent == 56  # 6 × 2 at connect + 2 × (7 + 3 + 10 + 2) for the whole 6 s steps
    shown = text_of(spend_html)
    estimate = float(re.search(r"Estimated spend \$(\d+\.\d\d)", shown).group(1)) * 100  # credits
    assert abs(estimate - spent) <= 6, (estimate, spent)  # under a 6 s step's 2 credits a call

    assert "2 credits each time a call connects ( 6 calls from this studio: 12 credits" in shown
    assert "whole 6-second steps" in shown


def test_without_connected_calls_the_note_still_explains(tmp_path):
    settings = studio_settings(tmp_path)
    usage = {"total_seconds": 90, "total_sessions": 1, "avg_duration_seconds": 90}
    html = spend_cards(usage, usage_by_day({}), settings, connected_calls=0)
    assert "$0.30" in text_of(html) and "How the estimate is made" in text_of(html)
