"""Organization endpoint, credits and daily usage."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import runwayml

from tests.simulator.simtest_helpers import PRESET_AVATAR, Sim, consume


def balance(client) -> int:
    return client.organization.retrieve().credit_balance


def test_organization_shape(sim: Sim, client) -> None:
    raw = client.organization.with_raw_response.retrieve().http_response.json()
    assert raw == {
        "creditBalance": 10_000,
        "tier": {
            "maxMonthlyCreditSpend": 10_000,
            "models": {
                "gwm1_avatars": {"maxConcurrentGenerations": 3, "maxDailyGenerations": 1000}
            },
        },
        "usage": {"models": {"gwm1_avatars": {"dailyGenerations": 0}}},
    }
    sim.configure(concurrency=1, dailyLimit=50)
    tier = client.organization.retrieve().tier.models["gwm1_avatars"]
    assert (tier.max_concurrent_generations, tier.max_daily_generations) == (1, 50)


def test_billing_consume_and_running(sim: Sim, client) -> None:
    session_id, key = sim.ready_session(client)
    assert balance(client) == 10_000  # READY but never consumed costs nothing
    consume(client, session_id, key)
    assert balance(client) == 9_998
    sim.join(session_id)
    sim.advance(5.9)
    assert balance(client) == 9_998  # no full 6 s yet
    sim.advance(0.1)
    assert balance(client) == 9_996
    sim.advance(14)  # 20 s running -> 3 full intervals
    assert balance(client) == 9_992
    sim.advance(3)
    sim.leave(session_id)  # 23 s -> still 3 intervals, final
    assert balance(client) == 9_992
    assert client.realtime_sessions.retrieve(session_id).duration == 23
    state = sim.state()
    assert state["creditBalance"] == 9_992 and state["sessions"][0]["creditsCharged"] == 8


def test_consumed_but_never_joined_costs_two(sim: Sim, client) -> None:
    session_id, key = sim.ready_session(client)
    consume(client, session_id, key)
    sim.advance(30)
    assert client.realtime_sessions.retrieve(session_id).status == "FAILED"
    assert balance(client) == 9_998


def test_insufficient_credits(sim: Sim, client) -> None:
    sim.configure(creditBalance=1)
    with pytest.raises(runwayml.BadRequestError) as err:
        client.realtime_sessions.create(model="gwm1_avatars", avatar=PRESET_AVATAR)
    assert err.value.body == {"error": "You do not have enough credits to run this task."}
    assert sim.state()["sessions"] == []


def test_usage_reports_daily_credits(sim: Sim, client) -> None:
    session_id, key = sim.ready_session(client)
    consume(client, session_id, key)
    sim.join(session_id)
    sim.advance(12)
    sim.leave(session_id)
    today = datetime.fromtimestamp(sim.clock.now(), tz=timezone.utc).date()
    usage = client.organization.retrieve_usage(
        start_date=today - timedelta(days=2), before_date=today + timedelta(days=1)
    )
    assert usage.models == ["gwm1_avatars"]
    assert [r.date for r in usage.results] == [
        today - timedelta(days=2),
        today - timedelta(days=1),
        today,
    ]
    assert usage.results[-1].used_credits[0].amount == 6 and usage.results[0].used_credits == []
    default = client.organization.retrieve_usage()
    assert len(default.results) == 30
    with pytest.raises(runwayml.BadRequestError):
        client.organization.retrieve_usage(
            start_date=date(2026, 1, 1), before_date=date(2026, 6, 1)
        )
